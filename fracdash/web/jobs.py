"""The job registry: one computation per run, owned by a server, seen by every page.

A page asking for a scenario run that is not stored calls :meth:`JobRegistry.start`;
however many pages (and server processes: ``gunicorn -w 2``) ask, one job computes
the run. Each job is a child process of the server that started it
(:mod:`fracdash.web.job_process`), in the server's process group; its record lives in
the store's ``jobs/`` folder, where every server process reads it:

* ``<slug>.lock``: taken (``flock``) by the server before it starts the job and handed
  to the child, which holds it until it exits. A job is running exactly while its lock
  is held: the kernel frees it when the child ends, however it ends (``kill -9`` too).
  Which of several servers starts a job is decided by that lock, never by a record.
* ``<slug>.json``: the job's record: owner pid, start time, stage and counts, its
  overall progress and ETA, and how it ended (``"finished"``, ``"failed"`` with the
  message, ``"stopped"`` when its server ended).

Jobs end with their server: :meth:`JobRegistry.stop` terminates and reaps them (the
serving entry points call :func:`stop_all` on SIGTERM and SIGINT, and at exit); a job
whose server was killed outright sees its parent gone and exits
(:func:`fracdash.web.job_process.watch_parent`). A record left behind (lock free, no
end written) is swept when a server next opens the store, and a page still waiting
for that run starts it again.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

from fracdash.store import Store, stage_key

#: What a job process runs: ``module:function(store, spec, job)``.
DEFAULT_TARGET = "fracdash.web.job_process:compute_scenario"
#: Seconds a terminated job has to exit before it is killed.
STOP_GRACE = 5.0

#: Every live registry of this process, for :func:`stop_all` (signals are process-wide).
_REGISTRIES: weakref.WeakSet = weakref.WeakSet()


def job_slug(run: str) -> str:
    """The file name stem of ``run``'s record and lock (run names are not paths)."""
    return hashlib.sha256(run.encode()).hexdigest()[:24]


def partial_key(run: str) -> str:
    """Where a job keeps the analysis of ``run`` so far, for the pages to show."""
    return stage_key("page-partial", {"run": run})


def jobs_folder(store_dir) -> Path:
    folder = Path(store_dir) / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def read_record(folder: Path, run: str) -> dict | None:
    """The record of ``run``'s job in ``folder``, or None."""
    try:
        return json.loads((folder / f"{job_slug(run)}.json").read_text())
    except (FileNotFoundError, ValueError):
        return None


def write_record(folder: Path, run: str, record: dict) -> None:
    """Replace ``run``'s record whole (readers never see half a record)."""
    path = folder / f"{job_slug(run)}.json"
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(record, sort_keys=True))
    os.replace(tmp, path)


def try_lock(path: Path) -> int | None:
    """An open descriptor holding ``path``'s exclusive flock, or None if it is held."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def registry_lock(store: Store):
    """Starts and liveness checks, one at a time across threads and server processes
    (a check holds a job's lock for an instant: never while a start tries it)."""
    return store.lock("job-registry")


def _alive(folder: Path, run: str) -> bool:
    """Whether ``run``'s job holds its lock (call under :func:`registry_lock`)."""
    fd = try_lock(folder / f"{job_slug(run)}.lock")
    if fd is None:
        return True
    os.close(fd)
    return False


def is_running(store: Store, run: str) -> bool:
    """Whether a job computing ``run`` is running now, in any server process."""
    with registry_lock(store):
        return _alive(jobs_folder(store.directory), run)


def running_jobs(store: Store) -> dict[str, dict]:
    """Run name -> record of every job running now on ``store``, in any process."""
    found = {}
    folder = jobs_folder(store.directory)
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            continue
        if record.get("ended") is None and is_running(store, record["run"]):
            found[record["run"]] = {**record, "running": True}
    return found


class JobRegistry:
    """The jobs of one store, as one server process sees and starts them.

    Parameters
    ----------
    store : Store
        The store runs are computed into (its folder holds ``jobs/``).
    samples : int or None
        Test samples per scenario run (as the app names its runs).
    compute : dict, optional
        Extra arguments of :func:`fracdash.runs.precompute_scenario` (``epochs``,
        ``train_samples``) for every job.
    target : str
        ``module:function`` the job process runs; :data:`DEFAULT_TARGET` computes the
        scenario. Set by server code only (tests use a quick stand-in), never by a page.
    """

    def __init__(self, store: Store, samples: int | None = None, compute: dict | None = None,
                 target: str = DEFAULT_TARGET):  # fmt: skip
        self.store = store
        self.samples = samples
        self.compute = dict(compute or {})
        self.target = target
        self.folder = jobs_folder(store.directory)
        self._children: dict[str, subprocess.Popen] = {}
        _REGISTRIES.add(self)

    # -- reading --------------------------------------------------------------------

    def status(self, run: str) -> dict | None:
        """``run``'s job record with ``"running"`` set, or None if no job was started.
        A record not running has ``"ended"`` (``"finished"``, ``"failed"``,
        ``"stopped"``), or none when its server was killed before it could say."""
        self.reap()
        record = read_record(self.folder, run)
        if record is None:
            return None
        record["running"] = is_running(self.store, run)
        return record

    def running(self) -> dict[str, dict]:
        """Run name -> record of every job running now, in any server process."""
        self.reap()
        return running_jobs(self.store)

    # -- starting -------------------------------------------------------------------

    def start(self, run: str, scenario: str) -> dict:
        """Start computing ``run`` (scenario ``scenario``) unless a job of it is
        running in any server process, or it is stored; return its record."""
        from fracdash.runs import catalog

        self.reap()
        with registry_lock(self.store):
            fd = try_lock(self.folder / f"{job_slug(run)}.lock")
            if fd is None:  # running: this page joins it
                return {**(read_record(self.folder, run) or {"run": run}), "running": True}
            try:
                entry = catalog(self.store).get(run)  # an evicted analysis is computed again
                if entry is not None and entry["key"] in self.store:  # finished while we looked
                    return {**(read_record(self.folder, run) or {"run": run}), "running": False,
                            "ended": "finished"}  # fmt: skip
                record = self._launch(run, scenario, fd)
            finally:
                os.close(fd)  # the child holds the lock now (or nobody, on failure)
        return record

    def _launch(self, run: str, scenario: str, fd: int) -> dict:
        record = {"run": run, "scenario": scenario, "owner": os.getpid(), "started": time.time(),
                  "stage": "queued", "done": 0, "total": 0, "detail": "", "overall": 0.0,
                  "updated": time.time()}  # fmt: skip
        write_record(self.folder, run, record)
        spec = {"run": run, "scenario": scenario, "samples": self.samples,
                "compute": self.compute, "store": str(self.store.directory),
                "target": self.target, "lock_fd": fd, "parent": os.getpid(),
                "launched": time.time()}  # fmt: skip
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", "fracdash.web.job_process", json.dumps(spec)],
                pass_fds=(fd,),
                stdin=subprocess.DEVNULL,
            )
        except OSError as err:  # no process to be had (limits, memory): said on the page
            record.update(ended="failed", error=f"the computation could not start ({err}); "
                          "try again when the server has fewer running")  # fmt: skip
            write_record(self.folder, run, record)
            return {**record, "running": False}
        self._children[run] = child
        record["pid"] = child.pid
        return {**record, "running": True}

    # -- ending ---------------------------------------------------------------------

    def reap(self) -> None:
        """Collect this process's finished jobs; one that died without a word (killed,
        out of memory) gets a failed record saying how it ended."""
        for run, child in list(self._children.items()):
            code = child.poll()
            if code is None:
                continue
            self._children.pop(run, None)
            record = read_record(self.folder, run)
            if code != 0 and record is not None and record.get("ended") is None:
                how = f"signal {-code}" if code < 0 else f"exit status {code}"
                write_record(self.folder, run, {**record, "ended": "failed",
                             "error": f"the computation stopped ({how})"})  # fmt: skip

    def stop(self) -> None:
        """Terminate this process's jobs and wait for them (killed after
        :data:`STOP_GRACE` seconds); their records say ``"stopped"``."""
        children = list(self._children.items())
        for _, child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for run, child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            self._children.pop(run, None)
            record = read_record(self.folder, run)
            if record is not None and record.get("ended") is None:
                write_record(self.folder, run, {**record, "ended": "stopped"})

    def sweep(self) -> list[str]:
        """Remove the records of jobs not running (finished, failed, or left by a
        server that was killed) and their partial results; return their runs."""
        swept = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                run = json.loads(path.read_text())["run"]
            except (FileNotFoundError, ValueError, KeyError):
                continue
            with registry_lock(self.store):
                if _alive(self.folder, run):
                    continue
                path.unlink(missing_ok=True)
            self.store.delete(partial_key(run))
            swept.append(run)
        for tmp in self.folder.glob("*.tmp"):  # a writer killed between write and rename
            try:
                if time.time() - tmp.stat().st_mtime > 60:
                    tmp.unlink()
            except FileNotFoundError:  # renamed by its writer meanwhile
                pass
        return swept

    def children(self) -> dict[str, int]:
        """Run -> pid of the jobs this process started that are still running."""
        self.reap()
        return {run: child.pid for run, child in self._children.items()}


def stop_all() -> None:
    """Stop every job of every registry of this process (signal handlers, exit)."""
    for registry in list(_REGISTRIES):
        registry.stop()


atexit.register(stop_all)
