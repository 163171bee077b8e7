"""Groups of classes: found from a confusion matrix (fracdash.core.confusion_groups),
given by the user (fracdash.inputs.class_groups), and carried into a run's meta."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from fracdash.core.confusion_groups import (
    GROUP_SIZE,
    MAX_GROUPS,
    agglomerate,
    confusion_groups,
    confusion_similarity,
)
from fracdash.errors import UserDataError
from fracdash.inputs.class_groups import (
    MAX_GIVEN_GROUPS,
    check_class_groups,
    load_class_groups,
    parse_class_groups,
    run_class_groups,
)

# --------------------------------------------------------------------------- found


def block_confusion(rng, k: int, n_blocks: int, noise: float = 0.0):
    """Counts of a classifier that confuses classes only within hidden blocks (plus,
    with ``noise``, a stray count between blocks now and then); the blocks, as sets."""
    perm = rng.permutation(k)
    sizes = rng.multinomial(k - 2 * n_blocks, np.ones(n_blocks) / n_blocks) + 2
    blocks = np.split(perm, np.cumsum(sizes)[:-1])
    counts = np.zeros((k, k), dtype=np.int64)
    for block in blocks:
        for i in block:
            counts[i, block] = rng.integers(1, 20, len(block))
            counts[i, i] = rng.integers(60, 120)
    counts += rng.random((k, k)) < noise
    return counts, {frozenset(int(i) for i in b) for b in blocks}


@pytest.mark.parametrize(
    "k,n_blocks,noise,seed",
    [(47, 5, 0.0, 0), (47, 3, 0.02, 1), (100, 10, 0.0, 2), (100, 10, 0.02, 3),
     (100, 7, 0.01, 4), (100, 12, 0.02, 5), (60, 4, 0.01, 6)],
)  # fmt: skip
def test_blocks_of_a_confusion_matrix_are_found_exactly(k, n_blocks, noise, seed):
    counts, blocks = block_confusion(np.random.default_rng(seed), k, n_blocks, noise)
    found = confusion_groups(counts)
    assert {frozenset(g) for g in found} == blocks
    assert sorted(i for g in found for i in g) == list(range(k))
    assert found == sorted(found) and all(g == sorted(g) for g in found)


def test_groups_follow_the_classes_when_they_are_renumbered():
    rng = np.random.default_rng(11)
    counts, _ = block_confusion(rng, 100, 9, noise=0.02)
    perm = rng.permutation(100)  # class i is now perm[i]
    moved = np.empty_like(counts)
    moved[np.ix_(perm, perm)] = counts
    want = {frozenset(int(perm[i]) for i in g) for g in confusion_groups(counts)}
    assert {frozenset(g) for g in confusion_groups(moved)} == want


def brute_average_linkage(similarity):
    """UPGMA by the book: every step, the mean similarity over every member pair of
    every two clusters, the highest merged (ties: the lowest first classes)."""
    clusters = [[i] for i in range(len(similarity))]
    heights = []
    while len(clusters) > 1:
        best = None
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                mean = np.mean([similarity[i, j] for i in clusters[a] for j in clusters[b]])
                if best is None or mean > best[0] + 1e-15:
                    best = (mean, a, b)
        mean, a, b = best
        heights.append(mean)
        clusters[a] = sorted(clusters[a] + clusters.pop(b))
    return np.array(heights)


def test_merges_are_average_linkage_by_the_book():
    rng = np.random.default_rng(2)
    counts = rng.integers(0, 30, (14, 14)) * (rng.random((14, 14)) < 0.6)
    similarity = confusion_similarity(counts)
    merges, heights = agglomerate(similarity)
    np.testing.assert_allclose(heights, brute_average_linkage(similarity), rtol=1e-12)
    assert (np.diff(heights) <= 1e-15).all() and len(merges) == 13


def test_similarity_is_the_symmetrised_confusion_rate():
    counts = np.array([[8, 2, 0], [1, 3, 0], [0, 0, 0]])
    s = confusion_similarity(counts)
    np.testing.assert_allclose(s, [[0, (0.2 + 0.25) / 2, 0], [(0.2 + 0.25) / 2, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize("k", [21, 47, 100, 300])
def test_a_classifier_that_confuses_nothing_gets_balanced_groups_in_class_order(k):
    found = confusion_groups(np.diag(np.full(k, 9)))
    assert len(found) == min(MAX_GROUPS, k)
    assert [i for g in found for i in g] == list(range(k))  # runs of consecutive classes
    sizes = [len(g) for g in found]
    assert max(sizes) <= 2 * min(sizes) + 1, sizes


@pytest.mark.parametrize("k", [21, 47, 100, 1000])
def test_the_number_of_groups_stays_in_its_bounds(k):
    counts = np.random.default_rng(k).integers(0, 5, (k, k))  # no structure at all
    found = confusion_groups(counts)
    assert min(MAX_GROUPS, max(2, math.ceil(k / GROUP_SIZE))) <= len(found) <= MAX_GROUPS
    assert sorted(i for g in found for i in g) == list(range(k))
    assert confusion_groups(counts) == found  # deterministic


# --------------------------------------------------------------------------- given

NAMES = [f"c{i}" for i in range(30)]


def test_a_file_of_lines_and_its_json_give_the_same_groups(tmp_path):
    text = "# superclasses\nlow: c0, c1 ,c2\n\nhigh: c29, c28\n"
    lines = tmp_path / "groups.txt"
    lines.write_text(text, encoding="utf-8")
    as_json = tmp_path / "groups.json"
    as_json.write_text(json.dumps({"low": ["c0", "c1", "c2"], "high": ["c29", "c28"]}))
    want = {"low": ["c0", "c1", "c2"], "high": ["c29", "c28"]}
    assert load_class_groups(lines) == load_class_groups(str(as_json)) == want
    assert load_class_groups({"low": ("c0", "c1", "c2"), "high": ["c29", "c28"]}) == want


def test_classes_are_matched_to_the_names_then_to_indices_and_the_rest_is_ungrouped():
    notes = []
    groups = check_class_groups({"a": ["c3", "1"], "b": ["c0", 2]}, NAMES, 30, notes)
    assert groups["names"] == ["a", "b", "ungrouped"] and groups["source"] == "given"
    assert groups["members"][:2] == [[1, 3], [0, 2]]
    assert groups["members"][2] == list(range(4, 30))
    assert len(notes) == 1 and "26 classes are in no group" in notes[0]
    notes = []
    whole = check_class_groups({"all": [str(i) for i in range(30)]}, None, 30, notes)
    assert whole["members"] == [list(range(30))] and notes == []


@pytest.mark.parametrize(
    "groups,said",
    [
        ({"a": ["c0"], "b": ["zebra"]}, "'zebra' in group 'b' of --class-groups is not a class"),
        ({"a": ["c0", "c1"], "b": ["c1"]}, "class 'c1' is in groups 'a' and 'b'"),
        ({"a": []}, "group 'a' of --class-groups lists no class"),
        ({f"g{i}": [f"c{i}"] for i in range(MAX_GIVEN_GROUPS + 1)}, "merge them into at most"),
    ],
)
def test_bad_groups_are_refused_in_one_line(groups, said):
    with pytest.raises(UserDataError, match=said) as err:
        check_class_groups(groups, NAMES, 30, [])
    assert "\n" not in str(err.value) and ";" in str(err.value)


@pytest.mark.parametrize(
    "text,said",
    [
        ("low: c0\nc1, c2\n", "line 2 of --class-groups names no group"),
        ("a: c0\na: c1\n", "group 'a' appears twice"),
        ('{"a": ["c0"],', "is not valid JSON"),
        ('{"a": "c0"}', "must map each group to a list of classes"),
    ],
)
def test_malformed_files_are_refused_in_one_line(text, said):
    with pytest.raises(UserDataError, match=said):
        parse_class_groups(text)


def test_an_unreadable_file_is_refused(tmp_path):
    with pytest.raises(UserDataError, match="cannot read --class-groups"):
        load_class_groups(tmp_path / "missing.txt")


def test_groups_are_kept_beyond_twenty_classes_only():
    notes = []
    assert run_class_groups({"a": ["c0"]}, NAMES[:10], 10, notes) is None
    assert "10 classes take 20 distinct colors" in notes[0] and "unused" in notes[0]
    notes = []
    assert run_class_groups(None, NAMES, 30, notes) is None  # found from the confusions
    assert "30 classes: colored in hue families" in notes[0] and "--class-groups" in notes[0]
    kept = run_class_groups({"a": NAMES[:15], "b": NAMES[15:]}, NAMES, 30, [])
    assert kept["members"] == [list(range(15)), list(range(15, 30))]


# --------------------------------------------------------------------------- from Python


def test_class_groups_from_python_color_the_run(tmp_path):
    from tiny_models import mlp

    import fracdash
    from fracdash.glyphs import class_palette, run_groups, run_palette

    x = np.random.default_rng(0).normal(size=(90, 6)).astype(np.float32)
    y = np.arange(90) % 30
    names = [f"c{i}" for i in range(30)]
    model = mlp(0, k=30)
    groups = {"even": names[0::2], "odd": names[1::2]}
    analysis = fracdash.analyze(model, x, y, names, class_groups=groups, keep_labels=True,
                                store=tmp_path)  # fmt: skip
    kept = analysis.meta["class_groups"]
    assert kept == {"names": ["even", "odd"], "members": [list(range(0, 30, 2)),
                    list(range(1, 30, 2))], "source": "given"}  # fmt: skip
    assert run_groups(analysis) == kept
    assert (
        run_palette(analysis)
        == analysis.meta["class_palette"]
        == class_palette(30, kept["members"])
    )
    found = fracdash.analyze(model, x, y, names, keep_labels=True, store=tmp_path)
    assert found.meta["class_groups"]["source"] == "confusion"  # not the stored run's
    with pytest.raises(UserDataError, match=r"'c99' in group 'odd' of class_groups= is not"):
        fracdash.analyze(model, x, y, names, class_groups={"odd": ["c99"]}, store=tmp_path)
