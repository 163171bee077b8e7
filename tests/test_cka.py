"""Linear CKA (fracdash.core.cka): its feature and Gram forms against each other and
against the direct formula on explicit centred Gram matrices."""

from __future__ import annotations

import re

import numpy as np
import pytest

from fracdash.core import cka
from fracdash.core.cka import cka_matrix, cka_pairs, linear_cka


def direct_cka(x, y) -> float:
    """<HKH, HLH>_F / (||HKH||_F ||HLH||_F) with H = I - 11ᵀ/n, as written."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    n = len(x)
    h = np.eye(n) - np.ones((n, n)) / n
    kc, lc = h @ x @ x.T @ h, h @ y @ y.T @ h
    return float((kc * lc).sum() / (np.linalg.norm(kc) * np.linalg.norm(lc)))


def layers(rng, n, widths, dtype=np.float32):
    base = rng.normal(size=(n, 3))
    return [
        (base @ rng.normal(size=(3, d)) + rng.normal(size=(n, d)) + rng.normal(size=d) * 5)
        .astype(dtype)
        for d in widths
    ]  # fmt: skip


@pytest.mark.parametrize("form", ["auto", "features", "gram"])
def test_every_form_equals_the_direct_formula(form):
    rng = np.random.default_rng(0)
    a = layers(rng, 40, [3, 40, 90])  # narrower, as wide as, wider than n
    b = layers(rng, 40, [1, 7, 55])
    got = cka_matrix(a, b, form=form)
    want = np.array([[direct_cka(x, y) for y in b] for x in a])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    assert 0 < got.min() and got.max() < 1


@pytest.mark.parametrize("keep", [True, False])
def test_the_forms_agree_with_each_other_in_blocks(monkeypatch, keep):
    rng = np.random.default_rng(1)
    a, b = layers(rng, 70, [5, 120]), layers(rng, 70, [80, 9])
    whole = cka_matrix(a, b, form="features")
    monkeypatch.setattr(cka, "_BLOCK_BYTES", 8 * 200)  # row blocks, panels, column chunks
    monkeypatch.setattr(cka, "_STACK_BYTES", 8 * 70 * 4 * 9)  # Gram block rows of 9 rows
    if not keep:  # centred again block by block, never kept whole
        monkeypatch.setattr(cka, "_KEEP_BYTES", 0)
    for form in ("features", "gram", "auto"):
        np.testing.assert_allclose(cka_matrix(a, b, form=form), whole, rtol=1e-12)


def test_a_run_with_itself_is_computed_once_and_symmetric(monkeypatch):
    rng = np.random.default_rng(5)
    a = layers(rng, 60, [4, 70, 130, 9])
    monkeypatch.setattr(cka, "_STACK_BYTES", 8 * 60 * 6 * 11)  # 11-row blocks: 6 of them
    widths = []
    real = cka._gram_block
    monkeypatch.setattr(
        cka, "_gram_block", lambda layer, *rest: (widths.append(layer.d), real(layer, *rest))
    )
    got = cka_matrix(a, a, form="gram")
    assert sorted(set(widths)) == [4, 9, 70, 130] and len(widths) == 4 * 6  # once per block
    want = np.array([[direct_cka(x, y) for y in a] for x in a])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(np.diag(got), 1.0, rtol=1e-13)
    others = [a[1], *layers(rng, 60, [65, 3])]  # B shares one of A's layers
    want = np.array([[direct_cka(x, y) for y in others] for x in a[:2]])
    for form in ("gram", "auto", "features"):
        np.testing.assert_allclose(cka_matrix(a[:2], others, form=form), want, rtol=1e-12)
    one = [[direct_cka(x, others[1])] for x in a]  # B's one layer is the one stacked
    np.testing.assert_allclose(cka_matrix(a, others[1:2], form="gram"), one, rtol=1e-12)


def test_the_pairs_only_equal_the_matrix_entries():
    rng = np.random.default_rng(6)
    a, b = layers(rng, 50, [3, 60, 8]), layers(rng, 50, [70, 2, 9])
    whole = cka_matrix(a, b)
    pairs = [(0, 1), (2, 2), (1, 0), (1, 0)]
    got = cka_pairs(a, b, pairs)
    np.testing.assert_allclose(got, [whole[i, j] for i, j in pairs], rtol=1e-12)
    np.testing.assert_allclose(cka_pairs(a, b, pairs, form="features"), got, rtol=1e-12)
    with pytest.raises(ValueError, match=re.escape("pairs must be (i, j) with i < 3 and j < 3")):
        cka_pairs(a, b, [(0, 3)])


def test_the_cost_model_takes_the_gram_form_for_wide_layers_and_features_for_narrow():
    rng = np.random.default_rng(7)
    n = 400
    wide = [cka._Layer(x, "a") for x in layers(rng, n, [300, 500, 20])]
    narrow = [cka._Layer(x, "a") for x in layers(rng, n, [3, 5, 8])]
    every = [(i, j) for i in range(3) for j in range(3)]
    assert cka._plan(wide + wide, [(i, 3 + j) for i, j in every], "auto") == list(range(6))
    assert cka._plan(narrow + narrow, [(i, 3 + j) for i, j in every], "auto") == []
    assert cka._plan(narrow, [(0, 1)], "gram") == [0, 1]
    assert cka._plan(wide, [(0, 1)], "features") == []


def test_cka_is_invariant_to_rotation_isotropic_scaling_and_translation():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 6))
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    moved = 3.5 * x @ q + rng.normal(size=6)
    assert linear_cka(x, moved) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(x, moved, form="gram") == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(x, x) == pytest.approx(1.0, abs=1e-14)


def test_layers_of_any_shape_are_flattened_and_the_matrix_is_each_pair():
    rng = np.random.default_rng(3)
    a = [rng.normal(size=(30, 2, 3, 2)).astype(np.float32), rng.normal(size=(30, 4))]
    b = [rng.normal(size=(30, 5)), rng.normal(size=(30, 2, 2))]
    got = cka_matrix(a, b)
    assert got.shape == (2, 2)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            assert got[i, j] == pytest.approx(direct_cka(x, y), rel=1e-12)
            assert got[i, j] == pytest.approx(linear_cka(x, y), rel=1e-14)


def test_a_constant_layer_gives_nan():
    x = np.ones((10, 3))
    y = np.random.default_rng(4).normal(size=(10, 2))
    assert np.isnan(linear_cka(x, y)) and np.isnan(linear_cka(y, x, form="gram"))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: linear_cka(np.ones((5, 2)), np.ones((4, 2))), "the same 5 samples"),
        (lambda: linear_cka(np.ones(5), np.ones((5, 2))), "layers_a[0] must be an (n, d)"),
        (lambda: linear_cka(np.ones((5, 2)), np.full((5, 2), np.nan)), "layers_b[0] holds NaN"),
        (lambda: linear_cka(np.ones((5, 2)), np.ones((5, 2)), form="dual"), "unknown form"),
        (lambda: cka_matrix([], [np.ones((5, 2))]), "at least one layer of each run"),
    ],
)
def test_bad_input_is_refused_in_one_line(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
