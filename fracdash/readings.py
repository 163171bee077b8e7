"""Readings of quality over depth: where classes separate, where a network oversizes.

The paper reads its quality charts by eye: quality "rises" at some layer (the classes
become separable there) and, in an oversized network such as VGG16 on MNIST, falls
again in the last blocks. This module names those layers so the page can flag them
(docs/decisions.md, "Charts, palette and the key"). Plain Python over the
layer graph stored in an :class:`~fracdash.analysis.Analysis`: no numpy arrays, no
plotly, no Dash.
"""

from __future__ import annotations

import itertools

#: Paths drawn at most by the quality chart (:func:`branch_paths`' default limit).
MAX_PATHS = 8
#: A layer is *degraded* when its quality is at least this far below the best quality
#: of any layer before it on a path from the input (issue 14, part 3).
DEGRADATION = 0.02

# Qualities are shown with 3 decimals; a fall of exactly DEGRADATION must count even
# when the floats land a hair short of it.
_TOLERANCE = 1e-9


def _shown_inputs(analysis) -> dict[str, list[str]]:
    """Each layer's inputs among the shown layers, in the order the layer lists them,
    without repeats."""
    shown = {g.name for g in analysis.layers}
    return {g.name: [s for s in dict.fromkeys(g.inputs) if s in shown] for g in analysis.layers}


def layer_depths(analysis) -> dict[str, int]:
    """Longest-path depth of every layer from the input(s): sources 0, a layer one more
    than its deepest input. It is the layer's rank in the page's Sugiyama drawing, so
    the quality chart's x lines up with the graph's rows and parallel branches share it.

    Parameters
    ----------
    analysis : Analysis
        Its ``layers`` in topological order, each naming its ``inputs``.

    Returns
    -------
    dict of str to int
        In ``analysis.layers`` order.
    """
    inputs = _shown_inputs(analysis)
    depth: dict[str, int] = {}
    for g in analysis.layers:
        before = [depth[s] for s in inputs[g.name] if s in depth]
        if len(before) != len(inputs[g.name]):
            raise ValueError(f"layers are not in topological order: {g.name!r} before its inputs")
        depth[g.name] = 1 + max(before) if before else 0
    return depth


def quality_readings(
    qualities: dict[str, float], inputs: dict[str, list[str]], drop: float = DEGRADATION
) -> dict:
    """Onset and degraded layers of a quality-per-layer graph.

    ``onset`` is the layer whose quality rises most above its input's (above the best of
    its inputs at a join); None when no layer rises. A layer is ``degraded`` when its
    quality is at least ``drop`` below the running maximum along the paths into it,
    i.e. below the best quality among all the layers it depends on.

    Parameters
    ----------
    qualities : dict of str to float
        Quality of each layer, in topological order.
    inputs : dict of str to list of str
        The layers feeding each one (keys of ``qualities``).
    drop : float
        The fall below the running maximum that flags a layer, > 0.

    Returns
    -------
    dict
        ``{"onset": name or None, "degraded": [names, in topological order]}``.
    """
    if drop <= 0:
        raise ValueError(f"drop must be > 0, got {drop}")
    best_before: dict[str, float] = {}  # the running maximum, this layer excluded
    best_through: dict[str, float] = {}  # ... and included
    onset, rise_max, degraded = None, 0.0, []
    for name, q in qualities.items():
        sources = inputs.get(name, [])
        if sources:
            rise = q - max(qualities[s] for s in sources)
            if rise > rise_max:  # ties: the earlier layer
                onset, rise_max = name, rise
            best_before[name] = max(best_through[s] for s in sources)
            if q <= best_before[name] - drop + _TOLERANCE:
                degraded.append(name)
        best_through[name] = max(q, best_before.get(name, q))
    return {"onset": onset, "degraded": degraded}


def layer_readings(analysis, drop: float = DEGRADATION) -> dict:
    """:func:`quality_readings` of ``analysis``' layers (their stored qualities).

    Parameters
    ----------
    analysis : Analysis
        Layers in topological order, each with its ``quality`` and ``inputs``.
    drop : float
        See :func:`quality_readings`.

    Returns
    -------
    dict
        ``{"onset": name or None, "degraded": [names]}``.
    """
    qualities = {g.name: float(g.quality) for g in analysis.layers}
    return quality_readings(qualities, _shown_inputs(analysis), drop)


def branch_paths(analysis, limit: int = MAX_PATHS) -> list[list[str]]:
    """Source-to-sink paths of the layer DAG, longest first, at most ``limit``.

    Sources are the layers without inputs, the sink is the last layer. Among paths of
    equal length, the one whose layers come earlier in ``analysis.layers`` (compared
    position by position) goes first, so the result is deterministic. The top paths
    are found by dynamic programming over the topological order, never by listing
    every path (a residual network has exponentially many).

    Parameters
    ----------
    analysis : Analysis
        Its ``layers`` in topological order, ``edges`` between them.
    limit : int
        How many paths to keep, >= 1.

    Returns
    -------
    list of list of str
        Each path a list of layer names from a source to the sink; a chain gives one.
    """
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    if not analysis.layers:
        return []
    index = {g.name: i for i, g in enumerate(analysis.layers)}
    preds = _shown_inputs(analysis)

    def key(path: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
        return (-len(path), path)

    # best[name]: the top ``limit`` paths from any source to ``name``, as layer indices.
    best: dict[str, list[tuple[int, ...]]] = {}
    for g in analysis.layers:
        if not preds[g.name]:
            best[g.name] = [(index[g.name],)]
            continue
        candidates = {
            path + (index[g.name],) for src in preds[g.name] for path in best.get(src, [])
        }
        best[g.name] = sorted(candidates, key=key)[:limit]
    names = [g.name for g in analysis.layers]
    return [[names[i] for i in path] for path in best[names[-1]]]


def _path_label(path: list[str], reference: list[str]) -> str:
    """``path`` named after its own layers: its runs of layers absent from ``reference``,
    each ``"first → last"`` (or one name), joined by ``", "``; a path made only of
    ``reference``'s layers (a skip) after its first edge ``reference`` lacks."""
    on_reference = set(reference)
    runs: list[list[str]] = [[]]
    for name in path:
        if name in on_reference:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(name)
    runs = [run for run in runs if run]
    if runs:
        return ", ".join(run[0] if len(run) == 1 else f"{run[0]} → {run[-1]}" for run in runs)
    edges = set(itertools.pairwise(reference))
    for a, b in itertools.pairwise(path):
        if (a, b) not in edges:
            return f"{a} → {b} (skip)"
    return path[-1]


def path_names(paths: list[list[str]]) -> list[str]:
    """Distinct legend names of :func:`branch_paths`' paths: the first (longest) after
    what it has that the second lacks, every other after what it has that the first
    lacks (:func:`_path_label`); a lone path is ``"all layers"``."""
    if len(paths) <= 1:
        return ["all layers"] * len(paths)
    names: list[str] = []
    for i, path in enumerate(paths):
        label = _path_label(path, paths[1] if i == 0 else paths[0])
        name, n = label, 2
        while name in names:  # two paths with the same own layers
            name, n = f"{label} ({n})", n + 1
        names.append(name)
    return names
