"""numba's compiling moved off a run's critical path (fracdash.background_compile).

The kernels compiled by the background process must be the ones a run then calls: a
process started on the filled cache orders and measures a layer compiling nothing of
fracdash's. The stamp must follow what numba's cache depends on.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from fracdash import background_compile

#: A run's ordering and measures on a float32 layer (not the warm-up's shape), with
#: numba's compile events counted: which of fracdash's functions were compiled.
PROBE = textwrap.dedent("""
    import json, sys
    import numpy as np
    from numba.core import event
    compiled = []
    class Compiles(event.Listener):
        def on_start(self, ev): pass
        def on_end(self, ev):
            compiled.append(ev.data["dispatcher"].py_func.__module__)
    event.register("numba:compile", Compiles())
    from fracdash.core.measures import layer_measures
    from fracdash.core.vat import vat_order
    x = np.random.default_rng(1).standard_normal((300, 40)).astype(np.float32)
    order = vat_order(x)
    layer_measures(x, np.arange(300) % 4, order, k=5)
    print(json.dumps(sorted(m for m in compiled if m.startswith("fracdash"))))
""")


@pytest.fixture
def fresh_state(monkeypatch, tmp_path):
    """An empty numba cache and a process that has started nothing yet."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    monkeypatch.delenv("FRACDASH_BACKGROUND_COMPILE", raising=False)
    monkeypatch.setattr(background_compile, "_started", {})
    return tmp_path / "numba"


@pytest.mark.slow
def test_the_background_process_fills_the_cache_a_run_then_reads(fresh_state):
    # A run's own process (numba reads $NUMBA_CACHE_DIR once, at import: this one's
    # numba may already be imported): start, then wait, which compiles the measures'
    # kernels here while the process compiles the order's.
    run = ("from fracdash import background_compile as b; b.start(); "
           "p = b._started['process']; assert p is not None, 'nothing started'; b.wait(); "
           "print(p.returncode, b.stamp_path().exists())")  # fmt: skip
    started = subprocess.run([sys.executable, "-c", run], env=os.environ.copy(),
                             capture_output=True, text=True)  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert started.stdout.split()[-2:] == ["0", "True"]
    assert any(fresh_state.rglob("*.nbc")), "nothing was cached"
    probe = subprocess.run([sys.executable, "-c", PROBE], env=os.environ.copy(),
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert json.loads(probe.stdout.strip().splitlines()[-1]) == []
    # Without the process, the same probe on an empty cache compiles the kernels itself:
    # the check above can fail.
    shutil.rmtree(fresh_state)
    probe = subprocess.run([sys.executable, "-c", PROBE], env=os.environ.copy(),
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert "fracdash.core.prim" in json.loads(probe.stdout.strip().splitlines()[-1])


def test_a_stamped_cache_starts_nothing(fresh_state):
    stamp = background_compile.stamp_path()
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.touch()
    background_compile.start()
    assert background_compile._started["process"] is None
    background_compile.wait()  # nothing to wait for


def test_it_can_be_turned_off_and_starts_once(fresh_state, monkeypatch):
    monkeypatch.setenv("FRACDASH_BACKGROUND_COMPILE", "0")
    background_compile.start()
    assert "process" not in background_compile._started
    monkeypatch.delenv("FRACDASH_BACKGROUND_COMPILE")
    started = []
    monkeypatch.setattr(background_compile.subprocess, "Popen",
                        lambda *a, **k: started.append(a) or None)  # fmt: skip
    background_compile.start()
    background_compile.start()
    assert len(started) == 1, "one process per run's process"


def test_the_stamp_follows_the_sources_and_the_cache(fresh_state, monkeypatch, tmp_path):
    core = tmp_path / "core"
    shutil.copytree(background_compile.CORE, core, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(background_compile, "CORE", core)
    first = background_compile.stamp_path()
    assert first == background_compile.stamp_path()
    assert first.parent == fresh_state
    (core / "prim.py").write_text((core / "prim.py").read_text() + "\n# edited\n")
    assert background_compile.stamp_path() != first, "an edited kernel needs compiling again"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert background_compile.stamp_path().parent == tmp_path / "elsewhere"


def test_a_failed_start_leaves_the_run_to_compile(fresh_state, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no fork")

    monkeypatch.setattr(background_compile.subprocess, "Popen", refuse)
    background_compile.start()
    assert background_compile._started["process"] is None
    background_compile.wait()


def test_the_process_ends_with_the_run_that_started_it(fresh_state):
    import psutil

    code = ("from fracdash import background_compile as b; b.start(); "
            "print(b._started['process'].pid, flush=True)")  # fmt: skip
    run = subprocess.run([sys.executable, "-c", code], env=os.environ.copy(),
                         capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(run.stdout.split()[-1])
    for _ in range(50):  # the run has ended: its compiling process follows within a second
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the compiling process {pid} outlived its run")
    assert not background_compile.stamp_path().exists(), "stopped early, so not stamped"


def test_an_install_step_compiles_and_stamps(fresh_state, monkeypatch):
    compiled = []
    monkeypatch.setattr("fracdash.core.warmup.compile_kernels", lambda: compiled.append(1))
    stamp = background_compile.compile_now()
    assert compiled == [1] and stamp.exists() and stamp == background_compile.stamp_path()
    background_compile.start()
    assert background_compile._started["process"] is None, "a stamped cache starts nothing"


def test_the_process_compiles_this_copy_of_fracdash(fresh_state, monkeypatch, tmp_path):
    """Started from a copy of the package (another checkout, a snapshot), the process
    must import that copy: numba's cache is per source path."""
    copy = tmp_path / "copy"
    shutil.copytree(background_compile.CORE.parent, copy / "fracdash",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    (copy / "fracdash" / "core" / "warmup.py").write_text(
        "import sys, pathlib, time\n"
        "def compile_kernels(parts=()):\n    pass\n"
        "if __name__ == '__main__':\n"
        "    time.sleep(0.5)\n"  # still running when the run waits
        "    pathlib.Path(sys.argv[1]).write_text(__file__)\n"
    )
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "from fracdash import background_compile as b; b.start(); b.wait(); "
            "print(b.stamp_path())")  # fmt: skip
    run = subprocess.run([sys.executable, "-c", code, str(copy)], env=os.environ.copy(),
                         capture_output=True, text=True, cwd=background_compile.CORE.parent.parent)
    assert run.returncode == 0, run.stderr
    stamp = run.stdout.split()[-1]
    assert Path(stamp).read_text() == str(copy / "fracdash" / "core" / "warmup.py")
