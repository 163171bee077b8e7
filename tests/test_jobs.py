"""The job registry: one job per run whoever asks (threads, server processes), jobs that
end with their server (stopped, SIGTERM, SIGINT, or the server killed outright), a
queue of one computation at a time, failures said, and leftovers swept.

Jobs here are real child processes running a stand-in (tests/job_fakes.py): no
TensorFlow, a few seconds each. The page's side of the same is tested through HTTP in
test_two_apps.py and in Chromium in test_browser_jobs.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest
from helpers import Callbacks, free_port
from job_fakes import fake_env

from fracdash.runs import catalog
from fracdash.store import Store
from fracdash.web.jobs import JobRegistry, is_running, jobs_folder, read_record, running_jobs

ROOT = Path(__file__).resolve().parents[1]
QUICK = {"steps": 3, "delay": 0.15}


@pytest.fixture(autouse=True)
def fakes_importable(monkeypatch):
    """Job processes inherit the environment: they find tests/job_fakes.py."""
    monkeypatch.setenv("PYTHONPATH", fake_env())


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "store")
    yield s
    s.close()


#: Every registry a test made, stopped after it (its jobs reaped, none left behind).
MADE: list[JobRegistry] = []


@pytest.fixture(autouse=True)
def stop_registries():
    yield
    while MADE:
        MADE.pop().stop()


def registry(store, target="quick", compute=QUICK) -> JobRegistry:
    made = JobRegistry(store, None, compute, target=f"job_fakes:{target}")
    MADE.append(made)
    return made


def wait_until(check, timeout=30.0, step=0.05):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step)
    return found


def gone(pid: int) -> bool:
    """The process is gone (reaped, or never a zombie of ours)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def watch(store, run, seen, stop):
    """Collect the record of ``run``'s job while it runs (as a polling page does)."""
    folder = jobs_folder(store.directory)
    while not stop.is_set():
        record = read_record(folder, run)
        if record is not None:
            seen.append(record)
        time.sleep(0.02)


STAGE_ORDER = ["queued", "start", "train", "forward", "order"]


def assert_monotone(records):
    """Stage, then count within the stage, then the overall share: never backwards."""
    keys = [(STAGE_ORDER.index(r["stage"]), r["done"] / (r["total"] or 1), r["overall"])
            for r in records if r.get("ended") is None]  # fmt: skip
    assert len(keys) >= 3, records
    for a, b in zip(keys, keys[1:], strict=False):
        assert b[:2] >= a[:2] and b[2] >= a[2], (a, b)


def test_many_asking_start_one_job_and_its_progress_never_goes_back(store):
    first, second = registry(store), registry(store)  # two servers' views of one store
    records = []
    threads = [threading.Thread(target=lambda r=r: records.append(r.start("easy", "easy")))
               for r in (first, second, first, second)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    started = {**first.children(), **second.children()}
    assert len(started) == 1 and list(started) == ["easy"]
    assert all(r["running"] for r in records)
    assert running_jobs(store).keys() == {"easy"}
    seen, stop = [], threading.Event()
    watcher = threading.Thread(target=watch, args=(store, "easy", seen, stop))
    watcher.start()
    wait_until(lambda: "easy" in catalog(store))
    wait_until(lambda: not is_running(store, "easy"))
    stop.set()
    watcher.join()
    assert_monotone(seen)
    assert {r["pid"] for r in seen if "pid" in r} == set(started.values())
    status = second.status("easy")
    assert status["ended"] == "finished" and status["overall"] == 1.0 and not status["running"]
    assert second.start("easy", "easy")["ended"] == "finished"  # stored: nothing started
    assert second.children() == {}
    wait_until(lambda: first.children() == {}, timeout=10)  # reaped once it has exited
    assert gone(started["easy"])


START_IN_A_SERVER = """
import json, sys, time
from fracdash.store import Store
from fracdash.web.jobs import JobRegistry
store = Store(sys.argv[1])
jobs = JobRegistry(store, None, {"steps": 3, "delay": 0.3}, target="job_fakes:quick")
go = float(sys.argv[2])
time.sleep(max(0.0, go - time.time()))
record = jobs.start("easy", "easy")
print(json.dumps({"children": jobs.children(), "running": record["running"]}), flush=True)
while jobs.children():
    jobs.reap()
    time.sleep(0.1)
"""


def test_two_server_processes_on_one_store_run_one_job(store, tmp_path):
    """As two gunicorn workers: both ask at the same instant; the job lock decides."""
    go = time.time() + 3.0
    servers = [subprocess.Popen([sys.executable, "-c", START_IN_A_SERVER, str(store.directory),
                                 str(go)], stdout=subprocess.PIPE, text=True)
               for _ in range(2)]  # fmt: skip
    answers = [json.loads(s.stdout.readline()) for s in servers]
    for s in servers:
        assert s.wait(timeout=60) == 0
        s.stdout.close()
    assert all(a["running"] for a in answers)
    assert sorted(len(a["children"]) for a in answers) == [0, 1], answers
    assert "easy" in catalog(store)


def test_a_second_computation_waits_until_the_first_ends(store, tmp_path):
    gate = tmp_path / "go"  # the first job trains until this file exists
    jobs = registry(store, compute={"steps": 2, "delay": 0.1, "gate": str(gate)})
    jobs.start("easy", "easy")
    wait_until(lambda: (r := jobs.status("easy")) and r["stage"] == "start")
    jobs.start("generalization", "generalization")
    queued = wait_until(lambda: (r := jobs.status("generalization")) and r["detail"] and r)
    assert queued["stage"] == "queued" and queued["detail"] == "waits for easy to finish"
    assert jobs.status("easy")["stage"] == "start" and "generalization" not in catalog(store)
    gate.touch()
    wait_until(lambda: "easy" in catalog(store))
    assert "generalization" not in catalog(store)
    wait_until(lambda: "generalization" in catalog(store))
    easy, later = jobs.status("easy"), jobs.status("generalization")
    # Its 4 stages of 2 steps of 0.1 s all ran after the first job ended.
    assert later["started"] < easy["finished"] and later["finished"] >= easy["finished"] + 0.8


def test_stop_terminates_and_reaps_the_jobs_and_frees_their_locks(store):
    jobs = registry(store, "sleepy")
    pid = jobs.start("easy", "easy")["pid"]
    wait_until(lambda: jobs.status("easy")["stage"] == "train")
    jobs.stop()
    assert gone(pid) and jobs.children() == {}
    assert not psutil.pid_exists(pid) or gone(pid)
    status = jobs.status("easy")
    assert status["ended"] == "stopped" and not status["running"]
    assert not is_running(store, "easy") and running_jobs(store) == {}
    # The compute slot is free too: the next job runs at once.
    other = registry(store)
    other.start("generalization", "generalization")
    wait_until(lambda: "generalization" in catalog(store))


def test_a_failing_job_says_why_and_is_not_left_running(store):
    jobs = registry(store, "failing")
    jobs.start("easy", "easy")
    status = wait_until(lambda: (r := jobs.status("easy")) and not r["running"] and r)
    assert status["ended"] == "failed" and jobs.children() == {}
    assert status["error"] == "the MNIST files are missing; put them in $FRACDASH_DATA"


KILLED_SERVER = """
import sys, time
from fracdash.store import Store
from fracdash.web.jobs import JobRegistry
jobs = JobRegistry(Store(sys.argv[1]), None, {}, target="job_fakes:sleepy")
print(jobs.start("easy", "easy")["pid"], flush=True)
time.sleep(600)
"""


def test_a_job_whose_server_is_killed_ends_and_its_record_is_swept(store):
    server = subprocess.Popen([sys.executable, "-c", KILLED_SERVER, str(store.directory)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    job = int(server.stdout.readline())
    server.stdout.close()
    wait_until(lambda: (read_record(jobs_folder(store.directory), "easy") or {}).get("stage")
               == "train")  # fmt: skip
    server.kill()  # kill -9: no handler runs
    server.wait(timeout=10)
    wait_until(lambda: not psutil.pid_exists(job), timeout=10)  # it saw its parent go
    assert not is_running(store, "easy")
    assert read_record(jobs_folder(store.directory), "easy").get("ended") is None  # left
    fresh = registry(store)  # the next server start
    assert fresh.sweep() == ["easy"]
    assert fresh.status("easy") is None
    fresh.start("easy", "easy")  # and a page asking again computes it
    wait_until(lambda: "easy" in catalog(store))


SERVE = """
import sys
from fracdash.web import create_app
from fracdash.web.app import context_of, serve
app = create_app(sys.argv[1], default_run="toy", compute={})
context_of(app).jobs.target = "job_fakes:sleepy"
serve(app, host="127.0.0.1", port=int(sys.argv[2]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_server_leaves_no_process_of_it(tmp_path, signum):
    """``kill -TERM`` (or Ctrl-C) of a serving dashboard: its job processes are
    terminated and reaped before it ends, and their locks are free."""
    from helpers import store_toy

    store_toy(tmp_path / "store")
    port = free_port()
    command = [sys.executable, "-c", SERVE, str(tmp_path / "store"), str(port)]
    log = open(tmp_path / "server.log", "w+b")  # noqa: SIM115 (closed below)
    # As from a terminal: a suite started in the background (`make test &`) has SIGINT
    # ignored, which its children would inherit, and a server that ignores Ctrl-C keeps
    # serving once its jobs are stopped.
    server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        url = f"http://127.0.0.1:{port}"
        calls = wait_until(lambda: dependencies(url), timeout=60, step=0.3)
        body = calls.body(("run.data", "compute.data", "progress.children"),
                          [("scenario", "value", "easy")])
        answer = post(url + "/_dash-update-component", body)["response"]
        assert answer["compute"]["data"] == "easy" and answer["run"]["data"] is None
        process = psutil.Process(server.pid)
        children = wait_until(lambda: process.children(recursive=True), timeout=30)
        assert all(c.pgid() if hasattr(c, "pgid") else os.getpgid(c.pid) == os.getpgid(server.pid)
                   for c in children)  # fmt: skip
        server.send_signal(signum)
        server.wait(timeout=30)
        stderr = (tmp_path / "server.log").read_text(errors="replace")
        for child in children:
            wait_until(lambda c=child: not psutil.pid_exists(c.pid), timeout=5)
        store = Store(tmp_path / "store")
        try:
            assert not is_running(store, "easy"), stderr
            assert read_record(jobs_folder(store.directory), "easy")["ended"] == "stopped"
        finally:
            store.close()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()


def dependencies(url):
    import urllib.request

    try:
        with urllib.request.urlopen(url + "/_dash-dependencies", timeout=5) as response:
            return Callbacks(json.loads(response.read()))
    except OSError:
        return None


def post(url, body):
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_the_job_runs_in_its_own_interpreter_from_a_spec(store):
    """The job's command line is the module and its JSON spec: no path from a page."""
    jobs = registry(store, "sleepy")
    pid = jobs.start("easy", "easy")["pid"]
    try:
        # mid-exec the kernel shows an empty command line: wait for it to be there
        command = wait_until(lambda: psutil.Process(pid).cmdline())
        assert command[:3] == [sys.executable, "-m", "fracdash.web.job_process"]
        spec = json.loads(command[3])
        assert spec["run"] == "easy" and spec["target"] == "job_fakes:sleepy"
        assert spec["parent"] == os.getpid() and spec["store"] == str(store.directory)
    finally:
        jobs.stop()
    assert gone(pid)


def test_a_job_process_needs_no_dash(tmp_path):
    code = textwrap.dedent("""
        import sys
        import fracdash.web.job_process
        print("dash" in sys.modules, "tensorflow" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)  # fmt: skip
    assert out.stdout.split() == ["False", "False"], out.stderr
