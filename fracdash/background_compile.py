"""numba's compiling of the ordering kernels, moved off a run's critical path.

On a fresh install a run's first ordering waits for numba to compile Prim's loop and
its exact re-checks: 12 CPU seconds on 2 cores, more than the ordering of a small test
set. :func:`start` runs :mod:`fracdash.core.warmup` in a process of its own as soon as a
run's arguments and files have passed their checks, while this process imports
TensorFlow, loads the model and computes the activations; :func:`wait`, just before
the first order, compiles the measures' kernels meanwhile and lets it finish; the
ordering then reads the compiled code from numba's cache. Where the cache already
holds the order's kernels the process is not started at all: a stamp file beside the
cache, named for everything numba's own cache depends on (the kernels' sources, the
CPU, numba's and Python's versions), says it was filled.

An install can compile them once instead (``python -m fracdash.background_compile``,
as ``make install`` does): every run then finds them cached.

Nothing changes but where the time is spent: if the process fails or is not started
(``FRACDASH_BACKGROUND_COMPILE=0``), the run compiles what it needs itself, as before.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

#: The folder of fracdash.core: the kernels' sources, and numba's in-tree cache.
CORE = Path(__file__).resolve().parent / "core"
#: How long :func:`wait` waits before the run compiles on its own (a loaded machine).
WAIT_S = 180.0

_started: dict = {}  # "process": the compiling process of this run, if any


def cache_folder() -> Path:
    """Where numba keeps the compiled kernels: ``$NUMBA_CACHE_DIR`` (set by
    :mod:`fracdash.core.jit_cache` where the package folder is read-only), else beside
    the sources, else numba's user-wide folder."""
    from fracdash.core.jit_cache import numba_user_folder, writable

    chosen = os.environ.get("NUMBA_CACHE_DIR")
    if chosen:
        return Path(chosen)
    return CORE / "__pycache__" if writable(CORE / "__pycache__") else numba_user_folder()


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            lines = [line for line in info if line.startswith(("model name", "flags"))]
        return "".join(sorted(set(lines)))
    except OSError:
        import platform

        return platform.processor() or platform.machine()


def stamp_path() -> Path:
    """The stamp that says the cache holds this install's kernels for this machine."""
    parts = [sys.version, _cpu(), metadata.version("numba")]
    for source in sorted(CORE.glob("*.py")):
        info = source.stat()
        parts.append(f"{source.name}:{info.st_size}:{info.st_mtime_ns}")
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]
    return cache_folder() / f"fracdash-kernels-{digest}.stamp"


def start() -> None:
    """Start compiling the kernels in another process, unless they are cached already,
    it was started in this process before, or ``FRACDASH_BACKGROUND_COMPILE=0``."""
    if "process" in _started or os.environ.get("FRACDASH_BACKGROUND_COMPILE") == "0":
        return
    _started["process"] = None
    try:
        stamp = stamp_path()
        if stamp.exists():
            return
        # This very fracdash: `-m` puts the working folder first on the path, before
        # $PYTHONPATH and an editable install's finder, so the process runs from there
        # (numba's cache is per source path: another copy's kernels would not be found).
        package_root = str(Path(__file__).resolve().parents[1])
        _started["process"] = subprocess.Popen(
            [sys.executable, "-m", "fracdash.core.warmup", str(stamp), str(os.getpid()),
             "order"],  # the measures' kernels: compiled here while waiting (wait)
            cwd=package_root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except (OSError, RuntimeError, metadata.PackageNotFoundError):
        _started["process"] = None  # the run compiles on its own


def wait() -> None:
    """Let a compiling process started by :func:`start` finish (at most :data:`WAIT_S`)
    before the first order: the run then reads what it compiled."""
    process = _started.get("process")
    if process is None:
        return
    if process.poll() is None:  # the measures' kernels meanwhile, here: two cores busy
        from fracdash.core.warmup import compile_kernels

        compile_kernels(parts=("measures",))
    try:
        process.wait(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        pass  # compiled here instead; the process finishes on its own
    _started["process"] = None


def compile_now() -> Path:
    """Compile the kernels in this process and stamp the cache (what an install step
    runs: ``python -m fracdash.background_compile``); returns the stamp."""
    from fracdash.core.warmup import compile_kernels

    compile_kernels()
    stamp = stamp_path()
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.touch()
    return stamp


if __name__ == "__main__":
    print(f"fracdash: kernels compiled and cached ({compile_now().parent})")

