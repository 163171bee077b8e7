"""Linear CKA between layers of two runs on the same samples (Kornblith et al. 2019).

For layers X (n, d_x) and Y (n, d_y) with centred Gram matrices ``K_c = H X Xᵀ H`` and
``L_c = H Y Yᵀ H`` (H = I − 11ᵀ/n)::

    CKA(X, Y) = <K_c, L_c>_F / (||K_c||_F ||L_c||_F)

Since ``<K_c, L_c>_F = ||X_cᵀ Y_c||_F²`` for the column-centred X_c and Y_c, every term
has two forms: the *feature form*, a d_x × d_y product (n·d_x·d_y operations), and the
*Gram form*, a sum over the n × n Grams (n²·(d_x + d_y), each Gram computed once in
row blocks and shared by every pair it is in). The feature form costs less whenever
either layer has fewer features than samples, and is then chosen; the Gram form only
when both are at least as wide as the samples. Everything is float64: the layers'
float32 values are cast, never the products.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["FORMS", "cka_matrix", "linear_cka"]

#: How the terms are computed: chosen per pair ("auto"), or all one way.
FORMS = ("auto", "features", "gram")
#: Bytes of float64 per block (row blocks of layers, of Grams, feature panels).
_BLOCK_BYTES = 64 * 2**20
#: A layer whose centred float64 rows take at most this is centred once and kept.
_KEEP_BYTES = 64 * 2**20


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
        if 8 * self.n * self.d <= _KEEP_BYTES:
            self.kept = self.rows(0, self.n)

    def rows(self, r0: int, r1: int, c0: int = 0, c1: int | None = None) -> np.ndarray:
        """Rows r0..r1 (columns c0..c1) centred, in float64."""
        c1 = self.d if c1 is None else c1
        if self.kept is not None:
            return self.kept[r0:r1, c0:c1]
        return self.x[r0:r1, c0:c1].astype(np.float64) - self.mean[c0:c1]


def _row_blocks(n: int, width: int):
    step = int(max(1, min(n, _BLOCK_BYTES // (8 * max(width, 1)))))
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


def _gram_rows(layer: _Layer, r0: int, r1: int) -> np.ndarray:
    """Rows r0..r1 of the centred Gram ``X_c X_cᵀ``, (r1 - r0, n) float64, the columns
    cast in chunks (a wide layer is never copied whole)."""
    out = np.zeros((r1 - r0, layer.n))
    chunk = int(max(1, min(layer.d, _BLOCK_BYTES // (8 * layer.n))))
    for c0 in range(0, layer.d, chunk):
        c1 = min(layer.d, c0 + chunk)
        out += layer.rows(r0, r1, c0, c1) @ layer.rows(0, layer.n, c0, c1).T
    return out


def _gram_terms(layers: list[_Layer], pairs: list[tuple[int, int]], selves: list[int]):
    """``<K_c, L_c>_F`` of each pair and ``||K_c||_F²`` of each self, from one pass over
    row blocks of the layers' centred Grams (each computed once)."""
    used = sorted({i for pair in pairs for i in pair} | set(selves))
    cross = dict.fromkeys(pairs, 0.0)
    own = dict.fromkeys(selves, 0.0)
    if not used:
        return cross, own
    n = layers[used[0]].n
    for r0, r1 in _row_blocks(n, n * len(used)):
        grams = {i: _gram_rows(layers[i], r0, r1) for i in used}
        for i, j in pairs:
            cross[i, j] += float(np.vdot(grams[i], grams[j]))
        for i in selves:
            own[i] += float(np.vdot(grams[i], grams[i]))
    return cross, own


def _check_form(form: str) -> None:
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}; choose one of {', '.join(FORMS)}")


def cka_matrix(layers_a: Sequence, layers_b: Sequence, *, form: str = "auto") -> np.ndarray:
    """Linear CKA of every layer of run A with every layer of run B.

    Parameters
    ----------
    layers_a : sequence of array_like, each shape (n, ...)
        Run A's layers, one row per sample (trailing axes are flattened).
    layers_b : sequence of array_like, each shape (n, ...)
        Run B's layers, the same samples in the same rows.
    form : {"auto", "features", "gram"}
        "auto" takes the feature form for a pair unless both layers have at least n
        features; the others force one form for every term (for checks).

    Returns
    -------
    ndarray of float64, shape (len(layers_a), len(layers_b))
        In [0, 1]; NaN where a layer is constant (its centred Gram is zero).
    """
    _check_form(form)
    layers = [_Layer(x, f"layers_a[{i}]") for i, x in enumerate(layers_a)]
    na = len(layers)
    layers += [_Layer(x, f"layers_b[{j}]") for j, x in enumerate(layers_b)]
    if na == 0 or na == len(layers):
        raise ValueError("cka_matrix needs at least one layer of each run")
    n = layers[0].n
    bad = [layer.n for layer in layers if layer.n != n]
    if bad:
        raise ValueError(f"all layers must hold the same {n} samples, got one with {bad[0]}")

    def gram(*ids):
        return form == "gram" or (form == "auto" and min(layers[i].d for i in ids) >= n)

    pairs = [(i, j) for i in range(na) for j in range(na, len(layers))]
    gram_pairs = [p for p in pairs if gram(*p)]
    gram_selves = [i for i in range(len(layers)) if gram(i)]
    cross, own = _gram_terms(layers, gram_pairs, gram_selves)
    for i in range(len(layers)):
        if i not in own:
            own[i] = _feature_term(layers[i], layers[i])
    out = np.empty((na, len(layers) - na))
    for i, j in pairs:
        term = cross[i, j] if (i, j) in cross else _feature_term(layers[i], layers[j])
        norm = np.sqrt(own[i]) * np.sqrt(own[j])
        out[i, j - na] = term / norm if norm > 0 else np.nan
    return out


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
