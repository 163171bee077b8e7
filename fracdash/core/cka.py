"""Linear CKA between layers of two runs on the same samples (Kornblith et al. 2019).

For layers X (n, d_x) and Y (n, d_y) with centred Gram matrices ``K_c = H X Xᵀ H`` and
``L_c = H Y Yᵀ H`` (H = I − 11ᵀ/n)::

    CKA(X, Y) = <K_c, L_c>_F / (||K_c||_F ||L_c||_F)

Since ``<K_c, L_c>_F = ||X_cᵀ Y_c||_F²`` for the column-centred X_c and Y_c, every term
has two forms: the *feature form*, a d_x × d_y product (n·d_x·d_y multiplications), and
the *Gram form*, from the n × n centred Grams. The Gram form is computed in one pass
over row blocks: each block row of every Gram-form layer's Gram (its upper triangle
only: the Grams are symmetric, so n²·d/2 per layer, each layer once however many pairs
it is in), and every pair's term from those blocks at once, one product of the stacked
blocks (n²/2 per pair). Which layers take the Gram form is chosen by that cost model
(the feature form wins when n is large next to the widths a layer is paired with). A
layer given twice (a run with itself) is one layer: its Grams and terms are computed
once. Everything is float64: the layers' float32 values are cast, never the products;
nothing is approximated, both forms equal the definition up to float64 rounding.

Memory: besides the layers given, the stacked blocks take at most about
``_STACK_BYTES`` and the float64 panels a layer is centred into ``_BLOCK_BYTES``, both
allocated once and reused by every block row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["FORMS", "cka_matrix", "cka_pairs", "linear_cka"]

#: How the terms are computed: chosen by cost ("auto"), or all one way.
FORMS = ("auto", "features", "gram")
#: Bytes of float64 per cast panel (row blocks and column chunks of a layer).
_BLOCK_BYTES = 64 * 2**20
#: Bytes of the stacked Gram row blocks of all Gram-form layers.
_STACK_BYTES = 768 * 2**20
#: A layer whose centred float64 rows take at most this is centred once and kept (for
#: the feature form).
_KEEP_BYTES = 16 * 2**20


class _Layer:
    """A layer's rows as (n, d), its float64 column means, and its width."""

    def __init__(self, x, name: str):
        x = np.asarray(x)
        if x.ndim < 2 or x.shape[0] < 2 or x.size == 0:
            raise ValueError(f"{name} must be an (n, d) array with n >= 2, got shape {x.shape}")
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise ValueError(f"{name} must hold numbers, got dtype {x.dtype}")
        self.x = x.reshape(x.shape[0], -1)
        self.n, self.d = self.x.shape
        self.mean = np.zeros(self.d)
        for r0, r1 in _row_blocks(self.n, self.d):
            self.mean += self.x[r0:r1].sum(axis=0, dtype=np.float64)
        self.mean /= self.n
        if not np.isfinite(self.mean).all():
            raise ValueError(f"{name} holds NaN or inf; CKA needs finite values")
        self.kept = None
        if 8 * self.n * self.d <= _KEEP_BYTES:  # a narrow layer: centred once
            self.kept = self.rows(0, self.n)

    def rows(self, r0: int, r1: int, c0: int = 0, c1: int | None = None) -> np.ndarray:
        """Rows r0..r1 (columns c0..c1) centred, in float64."""
        c1 = self.d if c1 is None else c1
        if self.kept is not None:
            return self.kept[r0:r1, c0:c1]
        return np.subtract(self.x[r0:r1, c0:c1], self.mean[c0:c1], dtype=np.float64)


def _row_blocks(n: int, width: int, budget: int = _BLOCK_BYTES):
    step = int(max(1, min(n, budget // (8 * max(width, 1)))))
    for r0 in range(0, n, step):
        yield r0, min(n, r0 + step)


def _feature_term(a: _Layer, b: _Layer) -> float:
    """``||A_cᵀ B_c||_F²`` accumulated in row blocks, B's columns in panels (the d_a ×
    panel product stays within one block)."""
    panel = int(max(1, min(b.d, _BLOCK_BYTES // (8 * a.d))))
    total = 0.0
    for p0 in range(0, b.d, panel):
        p1 = min(b.d, p0 + panel)
        cross = np.zeros((a.d, p1 - p0))
        for r0, r1 in _row_blocks(a.n, a.d + p1 - p0):
            left = a.rows(r0, r1)
            # A layer with itself in one panel: Aᵀ A of one array, which BLAS does as syrk.
            right = left if (a is b and p1 - p0 == b.d) else b.rows(r0, r1, p0, p1)
            cross += left.T @ right
        total += float(np.vdot(cross, cross))
    return total


def _gram_block(layer: _Layer, r0: int, r1: int, out: tuple, work: tuple) -> None:
    """Rows r0..r1 of the centred Gram ``X_c X_cᵀ``: columns r0..r1 into ``out[0]``,
    columns r1..n into ``out[1]``. The layer's rows r0..n are centred into float64 in
    column chunks within the reused ``work[0]`` (no fresh memory per block), the chunks'
    products added through ``work[1]`` and ``work[2]``."""
    (diag, off), (panel, tmp_d, tmp_o) = out, work
    m, b = layer.n - r0, r1 - r0
    chunk = int(max(1, min(layer.d, panel.size // m)))
    for c0 in range(0, layer.d, chunk):
        c1 = min(layer.d, c0 + chunk)
        right = panel[: m * (c1 - c0)].reshape(m, c1 - c0)
        np.subtract(layer.x[r0:, c0:c1], layer.mean[c0:c1], out=right)
        left = right[:b]
        first = c0 == 0
        np.matmul(left, left.T, out=diag if first else tmp_d)
        np.matmul(left, right[b:].T, out=off if first else tmp_o)
        if not first:
            diag += tmp_d
            off += tmp_o


def _gram_terms(layers: list[_Layer], held: list[int], streamed: list[int]) -> dict:
    """``<K_c, L_c>_F`` of every two ``held`` layers, of every held with every
    ``streamed`` one and of each streamed with itself, from one pass over block rows of
    their centred Grams' upper triangles: each block computed once, the held layers'
    blocks stacked (their terms one product of the stack with itself), each streamed
    layer's block then computed into one buffer and multiplied with the stack. The
    diagonal blocks count once, the blocks right of them twice (their mirror images)."""
    ids = held + streamed
    out = {}
    if not ids:
        return out
    n, h = layers[ids[0]].n, len(held)
    rows = _STACK_BYTES // (8 * n * (h + 2))
    # Taller blocks cast each layer fewer times (n²·d / 2·step casts), shorter ones
    # compute less beyond the triangle (n·step·d / 2): about sqrt(200 n) balances them.
    step = int(max(1, min(n, rows, np.sqrt(200.0 * n))))
    stack = np.empty((h + 1) * step * n)  # all reused by every block row
    panel = np.empty(max(_BLOCK_BYTES // 8, n))
    tmp = np.empty(step * n)
    inner, cross, own = np.zeros((h, h)), np.zeros((h, len(streamed))), np.zeros(len(streamed))
    for r0 in range(0, n, step):
        r1 = min(n, r0 + step)
        b, rest = r1 - r0, n - r1
        diag = stack[: (h + 1) * b * b].reshape(h + 1, b, b)
        off = stack[(h + 1) * b * b : (h + 1) * b * (b + rest)].reshape(h + 1, b, rest)
        work = (panel, tmp[: b * b].reshape(b, b), tmp[b * b : b * (b + rest)].reshape(b, rest))
        for t, i in enumerate(held):
            _gram_block(layers[i], r0, r1, (diag[t], off[t]), work)
        flat_d, flat_o = diag[:h].reshape(h, -1), off[:h].reshape(h, -1)
        inner += flat_d @ flat_d.T
        inner += 2.0 * (flat_o @ flat_o.T)
        for t, i in enumerate(streamed):
            _gram_block(layers[i], r0, r1, (diag[h], off[h]), work)
            one_d, one_o = diag[h].reshape(-1), off[h].reshape(-1)
            cross[:, t] += flat_d @ one_d + 2.0 * (flat_o @ one_o)
            own[t] += np.dot(one_d, one_d) + 2.0 * np.dot(one_o, one_o)
    for s, i in enumerate(held):
        out.update({(i, j): inner[s, t] for t, j in enumerate(held)})
        out.update({(i, j): cross[s, t] for t, j in enumerate(streamed)})
    out.update({(i, i): own[t] for t, i in enumerate(streamed)})
    return out


def _plan(layers: list[_Layer], pairs: list[tuple[int, int]], form: str) -> list[int]:
    """The layers to take in the Gram form: all, none, or those that make the cost model
    (multiplications) least, by toggling one layer at a time while that pays."""
    used = sorted({i for pair in pairs for i in pair})
    if form != "auto":
        return used if form == "gram" else []
    n = layers[used[0]].n
    d = {i: float(layers[i].d) for i in used}

    def cost(grams: set[int]) -> float:
        total = n * n / 2 * (sum(d[i] for i in grams) + len(grams) ** 2)
        total += sum(n * d[i] * d[i] / 2 for i in used if i not in grams)
        total += sum(n * d[i] * d[j] for i, j in pairs
                     if i != j and not (i in grams and j in grams))  # fmt: skip
        return total

    best = set(used) if cost(set(used)) <= cost(set()) else set()
    while True:
        tries = [best ^ {i} for i in used]
        found = min(tries, key=cost)
        if cost(found) >= cost(best):
            return sorted(best)
        best = found


def _check_form(form: str) -> None:
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}; choose one of {', '.join(FORMS)}")


def _layers(layers_a: Sequence, layers_b: Sequence):
    """The distinct layers (one given in both runs counts once) and each run's indices."""
    layers, seen, index = [], {}, ([], [])
    for side, (given, run) in enumerate(((layers_a, "layers_a"), (layers_b, "layers_b"))):
        for j, x in enumerate(given):
            if id(x) not in seen:
                seen[id(x)] = len(layers)
                layers.append(_Layer(x, f"{run}[{j}]"))
            index[side].append(seen[id(x)])
    if not index[0] or not index[1]:
        raise ValueError("cka_matrix needs at least one layer of each run")
    n = layers[0].n
    bad = [layer.n for layer in layers if layer.n != n]
    if bad:
        raise ValueError(f"all layers must hold the same {n} samples, got one with {bad[0]}")
    return layers, index


def _terms(layers: list[_Layer], pairs: list[tuple[int, int]], form: str):
    """(cross, own): ``<K_c, L_c>_F`` of each pair (i of A, j of B) and ``||K_c||_F²`` of
    each layer in one; the Gram-form layers' in one pass (one run's held, the other's
    streamed), the others in the feature form."""
    side_a = {i for i, _ in pairs}
    pairs = sorted(set(pairs))
    grams = _plan(layers, pairs, form)
    side_b = {j for _, j in pairs}
    held = [i for i in grams if i in side_a]
    other = [j for j in grams if j in side_b]
    if len(other) < len(held) and not side_a & side_b:  # stack the fewer: taller blocks
        held = other
    inner = _gram_terms(layers, held, [i for i in grams if i not in held])
    own = {}
    for i in sorted({i for pair in pairs for i in pair}):
        own[i] = inner[i, i] if i in grams else _feature_term(layers[i], layers[i])
    cross = {}
    for i, j in pairs:
        cross[i, j] = (own[i] if i == j else inner[i, j] if (i, j) in inner
                       else inner[j, i] if (j, i) in inner
                       else _feature_term(layers[i], layers[j]))  # fmt: skip
    return cross, own


def _ratio(cross, own, i: int, j: int) -> float:
    norm = np.sqrt(own[i]) * np.sqrt(own[j])
    return cross[i, j] / norm if norm > 0 else np.nan


def cka_matrix(layers_a: Sequence, layers_b: Sequence, *, form: str = "auto") -> np.ndarray:
    """Linear CKA of every layer of run A with every layer of run B.

    Parameters
    ----------
    layers_a : sequence of array_like, each shape (n, ...)
        Run A's layers, one row per sample (trailing axes are flattened).
    layers_b : sequence of array_like, each shape (n, ...)
        Run B's layers, the same samples in the same rows. An object also in
        ``layers_a`` (a run with itself) is computed with once.
    form : {"auto", "features", "gram"}
        "auto" chooses per layer by cost; the others force one form for every term
        (for checks).

    Returns
    -------
    ndarray of float64, shape (len(layers_a), len(layers_b))
        In [0, 1]; NaN where a layer is constant (its centred Gram is zero).
    """
    _check_form(form)
    layers, (ia, ib) = _layers(layers_a, layers_b)
    cross, own = _terms(layers, [(i, j) for i in ia for j in ib], form)
    return np.array([[_ratio(cross, own, i, j) for j in ib] for i in ia]).reshape(len(ia), -1)


def cka_pairs(layers_a: Sequence, layers_b: Sequence, pairs, *, form: str = "auto"):
    """Linear CKA of the pairs ``(i, j)`` (layer i of A, layer j of B) only, in one pass.

    Parameters
    ----------
    layers_a, layers_b, form
        See :func:`cka_matrix`.
    pairs : sequence of (int, int)
        Indices into ``layers_a`` and ``layers_b``.

    Returns
    -------
    ndarray of float64, shape (len(pairs),)
    """
    _check_form(form)
    layers, (ia, ib) = _layers(layers_a, layers_b)
    try:
        wanted = [(ia[i], ib[j]) for i, j in pairs]
    except (IndexError, TypeError):
        raise ValueError(f"pairs must be (i, j) with i < {len(ia)} and j < {len(ib)}") from None
    cross, own = _terms(layers, wanted, form)
    return np.array([_ratio(cross, own, i, j) for i, j in wanted], dtype=np.float64)


def linear_cka(x, y, *, form: str = "auto") -> float:
    """Linear CKA of two layers on the same samples.

    Parameters
    ----------
    x : array_like, shape (n, d_x)
        One layer, one row per sample (trailing axes are flattened).
    y : array_like, shape (n, d_y)
        The other, the same samples in the same rows.
    form : {"auto", "features", "gram"}
        See :func:`cka_matrix`.

    Returns
    -------
    float in [0, 1]
        NaN when either layer is constant.
    """
    return float(cka_matrix([x], [y], form=form)[0, 0])
