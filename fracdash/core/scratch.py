"""Scratch directories that never outlive their process for long.

Large temporary files (a layer's activations, an out-of-core distance matrix) live in
directories named ``fracdash-<kind>-<pid>-<start>-<random>`` under
``$FRACDASH_TMPDIR`` (default: the system's temporary directory), ``<start>`` being
the owner's start time in clock ticks since boot (``/proc/<pid>/stat``, field 22).
A directory is removed when its owner leaves it — on success, on an exception, on
Ctrl-C (``KeyboardInterrupt`` unwinds through ``with``) — and, after a ``kill -9``
or a power cut, by the next :class:`ScratchDir` created on the machine: any
directory whose owner pid is gone, or now belongs to a process started at another
time (a reused pid), is swept.

:func:`scratch_bytes` says how much of that disk a run needs, from the layers' shapes
alone, and :func:`free_bytes` how much there is: a run is refused before its forward
pass rather than failing on a full disk after it (:mod:`fracdash.pipeline`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import weakref
from pathlib import Path

ENV_VAR = "FRACDASH_TMPDIR"
#: fracdash-<kind>-[<host>-]<pid>-<start>-<random>: a host part on a folder that
#: several machines see (a cluster's shared folder), so each sweeps only its own.
_NAME = re.compile(r"^fracdash-[a-z]+-(?:(?P<host>[A-Za-z0-9._]+)-)?(?P<pid>\d+)-(?P<start>\d+)-")


def scratch_root() -> Path:
    """Where scratch directories go: ``$FRACDASH_TMPDIR`` or the system's temp dir."""
    return Path(os.environ.get(ENV_VAR) or tempfile.gettempdir())


def scratch_bytes(
    n: int, spilled: list[int], ordered: list[int], matrix_budget: int, direct_widest: int
) -> int:
    """Bytes of scratch disk a run of ``n`` samples needs at its peak.

    Parameters
    ----------
    n : int
        Samples.
    spilled : list of int
        Widths (features) of the layers the forward pass writes to files: 4·n·d bytes
        each, all on disk once the pass is over.
    ordered : list of int
        Widths of the layers this process orders. While one of them is ordered, its
        float32 distance matrix takes 4·n² bytes on disk when that exceeds
        ``matrix_budget`` and the layer is wider than ``direct_widest`` (a narrower one
        is ordered from exact distances computed when needed: no file). One such file
        exists at a time.

    Returns
    -------
    int
        The activations' bytes plus, if any layer needs it, one distance matrix's.
    """
    activations = sum(4 * n * int(d) for d in spilled)
    on_disk = 4 * n * n > matrix_budget and any(int(d) > direct_widest for d in ordered)
    return activations + (4 * n * n if on_disk else 0)


def free_bytes(root: Path | None = None) -> int:
    """Free bytes on the disk of ``root`` (default :func:`scratch_root`), measured at
    its nearest existing folder (the scratch root is created on first use)."""
    path = (scratch_root() if root is None else Path(root)).expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def start_time(pid: int) -> int | None:
    """A process's start time (clock ticks since boot), or None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after it.
    return int(stat[stat.rindex(")") + 2 :].split()[19])


def owner_alive(pid: int, start: int) -> bool:
    """Whether the process that created a scratch directory still runs."""
    if not Path("/proc/self/stat").exists():  # no procfs: the pid alone decides
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return start_time(pid) == start


def sweep_stale(root: Path | None = None, host: str | None = None) -> list[Path]:
    """Remove the scratch directories under ``root`` whose owner is gone, among those
    named for ``host`` (None: those without a host part); returns them."""
    root = scratch_root() if root is None else Path(root)
    swept = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return swept
    for entry in entries:
        match = _NAME.match(entry.name)
        if match and match["host"] == host and entry.is_dir(follow_symlinks=False):
            if not owner_alive(int(match["pid"]), int(match["start"])):
                shutil.rmtree(entry.path, ignore_errors=True)
                swept.append(Path(entry.path))
    return swept


class ScratchDir:
    """A fresh scratch directory owned by this process (stale ones swept first), under
    ``root`` (default :func:`scratch_root`), its name tagged with ``host`` where other
    machines see the same folder (letters, digits, dots and underscores).

    Use as a context manager, or call :meth:`cleanup`; it is also removed when the
    object is garbage-collected or the interpreter exits.
    """

    def __init__(self, kind: str, root: Path | None = None, host: str | None = None):
        if not re.fullmatch(r"[a-z]+", kind):
            raise ValueError(f"a scratch kind is lowercase letters, not {kind!r}")
        root = scratch_root() if root is None else Path(root)
        root.mkdir(parents=True, exist_ok=True)
        sweep_stale(root, host)
        pid = os.getpid()
        tag = f"{host}-" if host else ""
        prefix = f"fracdash-{kind}-{tag}{pid}-{start_time(pid) or 0}-"
        self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.path, ignore_errors=True)

    @property
    def name(self) -> str:
        return str(self.path)

    def cleanup(self) -> None:
        self._finalizer()

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc) -> None:
        self.cleanup()
