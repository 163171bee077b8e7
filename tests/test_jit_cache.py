"""Numba's compiled-function cache when the package folder is read-only.

Numba caches ``@njit(cache=True)`` functions next to their source, else in its user-wide
folder; with neither writable it refuses to import them. :mod:`fracdash.core.jit_cache`
then names a writable folder. Unwritable folders are paths below a regular file here
(no user, root included, can make them), and in the end-to-end test a read-only copy of
the package run by a process that cannot write to it: root's writes ignore permission
bits, so as root that process runs in a user namespace (``unshare -U``), where they hold.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fracdash
from fracdash.core import jit_cache
from fracdash.core.jit_cache import cache_folder, private_temp_folder, writable

PACKAGE = Path(fracdash.__file__).resolve().parent


@pytest.fixture
def blocked(tmp_path) -> Path:
    """A folder nobody can create: its parent is a regular file."""
    plain = tmp_path / "plain-file"
    plain.write_text("")
    return plain / "folder"


def test_writable_tells_a_folder_from_one_that_cannot_be_made(tmp_path, blocked):
    assert writable(tmp_path / "new" / "deeper") and (tmp_path / "new" / "deeper").is_dir()
    assert not writable(blocked)


def test_numba_own_choice_stands_where_it_works(tmp_path, blocked):
    core = tmp_path / "core"
    env = {"FRACDASH_STORE": str(tmp_path / "store")}
    assert cache_folder(core, env, tmp_path, numba_folder=blocked) is None  # in-tree
    assert (core / "__pycache__").is_dir()
    assert cache_folder(blocked, env, tmp_path, numba_folder=tmp_path / "nb") is None  # user-wide
    chosen = {"NUMBA_CACHE_DIR": str(tmp_path / "chosen")}
    assert cache_folder(blocked, chosen, tmp_path, numba_folder=blocked) is None
    assert not (tmp_path / "store").exists()


def test_read_only_package_and_home_use_the_store_then_xdg(tmp_path, blocked):
    store, xdg = tmp_path / "store", tmp_path / "xdg"
    env = {"FRACDASH_STORE": str(store), "XDG_CACHE_HOME": str(xdg),
           "NUMBA_CACHE_DIR": str(blocked)}  # fmt: skip
    assert cache_folder(blocked, env, tmp_path, numba_folder=blocked) == store / "numba"
    assert writable(store / "numba")
    env["FRACDASH_STORE"] = str(blocked)
    assert cache_folder(blocked, env, tmp_path, numba_folder=blocked) == xdg / "fracdash" / "numba"
    old = {"FRACDASH_CACHE": str(tmp_path / "old")}  # the store's older variable
    assert cache_folder(blocked, old, tmp_path, numba_folder=blocked) == tmp_path / "old" / "numba"


def test_last_resort_is_a_private_temporary_folder(tmp_path, blocked):
    temp = tmp_path / "tmp"
    temp.mkdir()
    folder = cache_folder(blocked, {}, temp, numba_folder=blocked)
    assert folder.parent == temp and folder.name.startswith("fracdash-numba-")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert cache_folder(blocked, {}, temp, numba_folder=blocked) == folder  # reused


def test_a_temporary_folder_others_can_write_to_is_never_used(tmp_path, blocked):
    temp = tmp_path / "tmp"
    temp.mkdir()
    shared = private_temp_folder(temp)
    shared.chmod(0o777)  # as if another user had made it first
    assert private_temp_folder(temp) is None
    fresh = cache_folder(blocked, {}, temp, numba_folder=blocked)
    assert fresh != shared and fresh.parent == temp and writable(fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
    shared.rmdir()
    (temp / shared.name).symlink_to(tmp_path)  # a link planted under the name
    assert private_temp_folder(temp) is None


def test_no_writable_folder_at_all_says_what_to_set(blocked):
    with pytest.raises(RuntimeError) as err:
        cache_folder(blocked, {}, blocked, numba_folder=blocked)
    message = str(err.value)
    assert "\n" not in message and "read-only" in message
    assert message.endswith("set NUMBA_CACHE_DIR to a writable folder")


def test_an_already_imported_numba_takes_the_folder(tmp_path, monkeypatch):
    from numba.core import config

    monkeypatch.setattr(jit_cache, "cache_folder", lambda: tmp_path / "numba")
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    try:
        assert jit_cache.place_numba_cache() == tmp_path / "numba"
        assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "numba")
        assert config.CACHE_DIR == str(tmp_path / "numba")
    finally:
        monkeypatch.undo()
        config.reload_config()
    assert config.CACHE_DIR == os.environ.get("NUMBA_CACHE_DIR", "")


# ---------------------------------------------------------------- a read-only install

RUN = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    import numpy as np
    import fracdash
    from numba.core.registry import CPUDispatcher

    pycache = Path(fracdash.__file__).parent / "core" / "__pycache__"
    try:
        (pycache / "probe").write_text("")
        (pycache / "probe").unlink()
        package_writable = True
    except OSError:
        package_writable = False
    fracdash.vat_order(np.random.default_rng(0).random((40, 3)))
    jitted = [f.stats for name, m in list(sys.modules.items())
              if name.startswith("fracdash.core") for f in vars(m).values()
              if isinstance(f, CPUDispatcher)]
    print(json.dumps({
        "file": fracdash.__file__,
        "package_writable": package_writable,
        "cache_dir": os.environ.get("NUMBA_CACHE_DIR"),
        "paths": sorted({str(s.cache_path) for s in jitted}),
        "hits": sum(sum(s.cache_hits.values()) for s in jitted),
        "misses": sum(sum(s.cache_misses.values()) for s in jitted),
    }))
    """
)


def as_another_user() -> list[str]:
    """The command prefix under which permission bits hold (see the module docstring)."""
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("as root this test needs util-linux's unshare (apt-get install util-linux)")
    return [unshare, "-U"]


@pytest.mark.slow
def test_read_only_install_caches_in_the_store_and_the_next_start_loads_it(tmp_path):
    site, home, store = tmp_path / "site", tmp_path / "home", tmp_path / "store"
    shutil.copytree(PACKAGE, site / "fracdash", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(site)], check=True)
    home.mkdir()
    for path in [home, *site.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "PYTHONPATH": str(site), "FRACDASH_STORE": str(store)}  # fmt: skip
    try:
        runs = []
        for _ in range(2):  # two fresh processes: the first compiles, the second loads
            done = subprocess.run(
                [*as_another_user(), sys.executable, "-c", RUN], env=env, cwd=tmp_path,
                capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr[-3000:]
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        for path in [home, *site.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    first, second = runs
    assert first["file"] == str(site / "fracdash" / "__init__.py")
    assert not first["package_writable"], "the package copy must be read-only for the test"
    assert first["cache_dir"] == second["cache_dir"] == str(store / "numba")
    assert first["paths"] and all(p.startswith(str(store / "numba")) for p in first["paths"])
    assert first["misses"] > 0
    assert second["misses"] == 0 and second["hits"] > 0
    assert list(site.rglob("*.nbi")) == [] and list(home.iterdir()) == []
    assert list((store / "numba").rglob("*.nbi"))


def test_numbas_user_folder_is_worked_out_as_numba_does(monkeypatch, tmp_path):
    from numba.misc.appdirs import AppDirs

    from fracdash.core import jit_cache

    for xdg in (None, str(tmp_path / "xdg")):
        if xdg is None:
            monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
        else:
            monkeypatch.setenv("XDG_CACHE_HOME", xdg)
        want = Path(AppDirs(appname="numba", appauthor=False).user_cache_dir)
        assert jit_cache.numba_user_folder() == want
