"""fracdash.runs, the one service for named runs: naming rules, no silent overwrite,
listing and deleting (what only the deleted run uses), and the store's path handling."""

from __future__ import annotations

import numpy as np
import pytest

from fracdash.errors import RunError
from fracdash.runs import (
    CATALOG_KEY,
    MAX_RUN_NAME,
    analyze_run,
    catalog,
    check_run_name,
    delete_run,
    load_run,
)
from fracdash.store import Store


def data(seed, n=24):
    rng = np.random.default_rng(seed)
    return rng.random((n, 5, 5, 1), dtype=np.float32), np.arange(n) % 4


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "store")
    yield s
    s.close()


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("easy", "built-in scenario"),
        ("simplification-300", "built-in scenario"),
        ("a/b", "control characters"),
        ("x" * (MAX_RUN_NAME + 1), "too long"),
    ],
)
def test_names_refused(store, name, needle):
    with pytest.raises(RunError, match=needle):
        check_run_name(store, name)


def test_one_run_name_limit_for_the_store_and_the_page(store):
    """The longest name a run may be stored under is the longest the page accepts back
    (100 characters), and one more is refused by both."""
    from fracdash.web.callbacks.guard import run_or_none

    longest = "r" * MAX_RUN_NAME
    assert MAX_RUN_NAME == 100
    assert check_run_name(store, longest) == longest and run_or_none(longest) == longest
    with pytest.raises(RunError, match="101 characters, at most 100"):
        check_run_name(store, longest + "r")
    assert run_or_none(longest + "r") is None


def test_user_names_accepted(store):
    for name in ("easy-mine", "my model", "mnist-cnn-2", "easy-v2"):
        assert check_run_name(store, name) == name


def test_no_silent_overwrite(store, toy_sequential):
    x, y = data(1)
    first = analyze_run(store, toy_sequential, x, y, name="mine", about={"model": "a.keras"})
    x2, y2 = data(2)
    with pytest.raises(RunError, match=r"'mine' exists already \(a.keras.*--replace"):
        analyze_run(store, toy_sequential, x2, y2, name="mine")
    assert catalog(store)["mine"]["key"] == first.meta["key"]  # untouched
    second = analyze_run(store, toy_sequential, x2, y2, name="mine", replace=True)
    assert second.meta["key"] != first.meta["key"]
    assert catalog(store)["mine"]["key"] == second.meta["key"]
    np.testing.assert_array_equal(load_run(store, "mine").labels, y2)


def test_catalog_describes_each_run(store, toy_sequential):
    x, y = data(3)
    a = analyze_run(
        store, toy_sequential, x, y, name="described", about={"model": "m.keras", "data": "d.npz"}
    )
    entry = catalog(store)["described"]
    assert (entry["model"], entry["data"], entry["n"]) == ("m.keras", "d.npz", 24)
    assert entry["accuracy"] == pytest.approx(a.accuracy)
    assert set(entry["uses"]) >= {a.meta["key"]} and len(entry["uses"]) >= 3
    assert entry["size"] == sum(len(store.get_bytes(k)) for k in entry["uses"])
    assert len(entry["created"]) == len("2026-01-01 00:00")


def test_delete_removes_only_what_no_other_run_uses(store, toy_sequential):
    x, y = data(4)
    analyze_run(store, toy_sequential, x, y, name="one")
    analyze_run(store, toy_sequential, x, y, name="same")  # same model and data: shares all
    other = analyze_run(store, toy_sequential, *data(5), name="other")
    before = set(store.keys())
    assert delete_run(store, "one") == 0  # everything it used is still used by "same"
    assert set(store.keys()) == before and set(catalog(store)) == {"same", "other"}
    same_uses = set(catalog(store)["same"]["uses"])
    freed = delete_run(store, "same")
    assert freed > 0
    left = set(store.keys())
    assert not (same_uses & left)
    assert set(other.meta["uses"]) | {other.meta["key"], CATALOG_KEY} == left
    assert load_run(store, "other") is not None
    with pytest.raises(RunError, match="no run named 'same'; stored runs: other"):
        delete_run(store, "same")


def test_store_expands_the_home_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    s = Store("~/.cache/fracdash-test")
    try:
        assert s.directory == tmp_path / "home" / ".cache" / "fracdash-test"
        assert s.directory.is_dir() and not (tmp_path / "~").exists()
    finally:
        s.close()


def test_store_location_from_the_environment(tmp_path, monkeypatch):
    from fracdash.store import default_store_dir

    monkeypatch.delenv("FRACDASH_STORE", raising=False)
    monkeypatch.setenv("FRACDASH_CACHE", str(tmp_path / "old"))  # the older name still works
    assert default_store_dir() == tmp_path / "old"
    monkeypatch.setenv("FRACDASH_STORE", "~/new")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_store_dir() == tmp_path / "new"
