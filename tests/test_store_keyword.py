"""``store=`` in every Python entry point (``analyze``, ``show``, ``create_app``); the
older keywords (``cache=``, ``cache_dir=``) still work, with a DeprecationWarning that
names ``store=`` and points at the caller's line; both at once is a TypeError."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import fracdash
from fracdash.runs import catalog
from fracdash.store import Store
from fracdash.web import create_app
from fracdash.web.app import context_of


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(4)
    return rng.random((20, 6, 6, 1), dtype=np.float32), np.arange(20) % 3


def test_every_entry_point_takes_store_first_among_its_store_keywords():
    for fn, old in ((fracdash.analyze, "cache"), (fracdash.show, "cache_dir"),
                    (create_app, "cache_dir")):  # fmt: skip
        params = inspect.signature(fn).parameters
        assert "store" in params and old in params
        assert fn.__doc__.count(f"{old} :") == 1 and "Deprecated" in fn.__doc__


def test_analyze_cache_is_store_with_a_warning(toy_branched, data, tmp_path):
    x, y = data
    with pytest.warns(DeprecationWarning, match=r"cache= is deprecated; pass store=") as seen:
        old = fracdash.analyze(toy_branched, x, y, cache=tmp_path / "s")
    assert seen[0].filename == __file__  # the warning points at the caller's line
    new = fracdash.analyze(toy_branched, x, y, store=Store(tmp_path / "s"))
    assert new.meta["key"] == old.meta["key"]
    assert Store(tmp_path / "s").get_bytes(old.meta["key"]) is not None
    with pytest.raises(TypeError, match=r"both store= and cache= given; pass store= only"):
        fracdash.analyze(toy_branched, x, y, store=tmp_path / "a", cache=tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_show_cache_dir_is_store_with_a_warning(toy_branched, data, tmp_path):
    x, y = data
    with pytest.raises(TypeError, match=r"both store= and cache_dir= given"):
        fracdash.show(toy_branched, x, y, store=tmp_path / "a", cache_dir=tmp_path / "b")
    with pytest.warns(DeprecationWarning, match="cache_dir= is deprecated; pass store="):
        with pytest.raises(ValueError, match="unknown mode"):  # refused after the alias
            fracdash.show(toy_branched, x, y, cache_dir=tmp_path / "b", mode="window")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_create_app_cache_dir_is_store_with_a_warning(tmp_path):
    with pytest.warns(DeprecationWarning, match="cache_dir= is deprecated; pass store=") as seen:
        app = create_app(cache_dir=tmp_path / "old", default_run="toy")
    assert seen[0].filename == __file__
    assert context_of(app).store.directory == tmp_path / "old"
    assert context_of(create_app(store=tmp_path / "new")).store.directory == tmp_path / "new"
    assert catalog(context_of(app).store) == {}
    with pytest.raises(TypeError, match="both store= and cache_dir= given"):
        create_app(tmp_path / "a", cache_dir=tmp_path / "b")
