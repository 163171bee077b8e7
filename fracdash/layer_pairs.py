"""Which layer of one run faces which layer of another, for a comparison of two runs.

By name where the two networks have the same layers; otherwise by relative depth (a
layer's longest path from an input over the deepest such path), each layer of run A
facing the layer of run B nearest in depth (of the same kind first, then the nearest in
topological order). A caller may give the pairs instead (``--pair A:B``).
"""

from __future__ import annotations

from fracdash.errors import CompareError

#: How the pairs were made: by name, by relative depth, or as given.
PAIRINGS = ("name", "depth", "given")


def relative_depths(layers) -> dict[str, float]:
    """Each layer's longest path from an input over the longest path of the network (0
    for an input; all 0 for a network of inputs only). ``layers``: the analysis' glyphs,
    in topological order (each names its inputs)."""
    depth: dict[str, int] = {}
    for g in layers:
        depth[g.name] = 1 + max((depth[s] for s in g.inputs if s in depth), default=-1)
    deepest = max(depth.values(), default=0)
    return {name: d / deepest if deepest else 0.0 for name, d in depth.items()}


def parse_pair(text: str, names_a, names_b) -> tuple[str, str]:
    """``"A:B"`` -> ``("A", "B")``: run A's layer A faces run B's layer B. A name may hold
    a colon itself (a shared layer's ``"dense:1"``): the text is cut at the colon that
    leaves a layer of each run on its two sides.

    Raises
    ------
    CompareError
        No colon leaves a layer of run A and one of run B (the message lists them).
    """
    for cut in (i for i, c in enumerate(text) if c == ":"):
        if text[:cut] in names_a and text[cut + 1 :] in names_b:
            return text[:cut], text[cut + 1 :]
    if ":" not in text:
        raise CompareError(f"--pair {text!r} is not LAYER_A:LAYER_B; give two layer names "
                           "joined by a colon")  # fmt: skip
    left, right = text.split(":", 1)
    which, layer, names = ("A", left, names_a) if left not in names_a else ("B", right, names_b)
    raise CompareError(f"run {which} has no layer {layer!r} (--pair {text!r}); its layers: "
                       f"{', '.join(names)}")  # fmt: skip


def _given(pair, names_a, names_b) -> tuple[str, str]:
    if isinstance(pair, str):
        return parse_pair(pair, names_a, names_b)
    layer_a, layer_b = pair
    for which, layer, names in (("A", layer_a, names_a), ("B", layer_b, names_b)):
        if layer not in names:
            raise CompareError(f"run {which} has no layer {layer!r}; its layers: "
                               f"{', '.join(names)}")  # fmt: skip
    return str(layer_a), str(layer_b)


def pair_layers(a, b, pairs=None) -> tuple[list[tuple[str, str]], str]:
    """The matched layers of analyses ``a`` and ``b``, and how they were matched.

    Parameters
    ----------
    a, b : Analysis
        The two runs.
    pairs : sequence of (str, str) or "A:B" strings, optional
        The pairs to use instead, each a layer of ``a`` and one of ``b``.

    Returns
    -------
    list of (str, str), str
        The pairs in run A's layer order, and one of :data:`PAIRINGS`.

    Raises
    ------
    CompareError
        A given pair names a layer that is not in its run (the message lists its layers).
    """
    names_a, names_b = a.layer_names, b.layer_names
    if pairs:
        return [_given(p, names_a, names_b) for p in pairs], "given"
    if set(names_a) == set(names_b):
        return [(name, name) for name in names_a], "name"
    depth_a, depth_b = relative_depths(a.layers), relative_depths(b.layers)
    kind_b = {g.name: g.kind for g in b.layers}
    place_a = {name: i / max(1, len(names_a) - 1) for i, name in enumerate(names_a)}
    place_b = {name: i / max(1, len(names_b) - 1) for i, name in enumerate(names_b)}
    out = []
    for g in a.layers:
        best = min(
            names_b,
            key=lambda n: (round(abs(depth_b[n] - depth_a[g.name]), 9), kind_b[n] != g.kind,
                           abs(place_b[n] - place_a[g.name])),
        )  # fmt: skip
        out.append((g.name, best))
    return out, "depth"
