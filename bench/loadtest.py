"""Bounded load test of the hosted dashboard, on locust: ``python bench/loadtest.py``.

Loopback only. Starts its own ``gunicorn app:server -w 2`` on a free 127.0.0.1 port
against a store (``--cache-dir``, default ``$FRACDASH_STORE`` or ``~/.cache/fracdash``,
only read), unless ``--url`` names a running server on this machine. Then runs locust
headless (``bench/locustfile.py``: ``--users`` 20, all started at once, for
``--run-time`` 60s, after which locust stops by itself) on the computed runs of the
store, or those named by ``--runs``. Prints a table per request, writes
``bench/results/loadtest-YYYYMMDD-HHMM.json`` (requests, errors, p50, p95, max, per
request and over all) and exits 1 on any error, on a request never made, or when locust
fails. Cold renders (the first view of a run in each worker) are included.
locust is not a dependency of fracdash: it comes with the ``test`` extra (``make`` installs it).
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from ports import free_port  # noqa: E402

LOCUSTFILE = ROOT / "bench" / "locustfile.py"
RESULTS = ROOT / "bench" / "results"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
ENDPOINTS = ["GET /", "GET /_dash-layout", "select_run", "render_dag", "render_charts",
             "render_legend", "refresh_options", "toggle_zoom"]  # fmt: skip



def check_loopback(url: str) -> str:
    """``url`` without a trailing slash; SystemExit unless it is http on this machine."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise SystemExit(f"loadtest: refusing {url!r}: only http://127.0.0.1 or localhost")
    return url.rstrip("/")


def seconds_of(run_time: str) -> int:
    """locust's ``--run-time`` (``60s``, ``2m``, ``90``) in seconds; ValueError otherwise."""
    match = re.fullmatch(r"(\d+)([sm]?)", run_time)
    if not match:
        raise ValueError(run_time)
    return int(match[1]) * (60 if match[2] == "m" else 1)


def fetch(url: str, body: dict | None = None, timeout: float = 30) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def wait_healthy(url: str, process=None, limit: float = 90.0) -> dict:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            status, body = fetch(url + "/healthz")
            if status == 200:
                return json.loads(body)
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url}/healthz did not answer 200 within {limit:.0f} s")


@contextmanager
def gunicorn(cache_dir: Path, workers: int = 2):
    """``gunicorn app:server -w workers`` on a free loopback port; yields its URL."""
    port = free_port()
    env = dict(os.environ, FRACDASH_STORE=str(cache_dir), TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, "-m", "gunicorn", "app:server", "-w", str(workers),
               "-b", f"127.0.0.1:{port}", "--timeout", "120"]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{port}"
            try:
                wait_healthy(url, process)
            except RuntimeError:
                log.seek(0)
                sys.stderr.write(log.read().decode(errors="replace")[-4000:])
                raise
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def computed_runs(url: str) -> list[str]:
    """The runs the page offers as computed, asked as the page does (the run list)."""
    body = {"output": "..scenario.options...jobs-tick.disabled..",
            "outputs": [{"id": "scenario", "property": "options"},
                        {"id": "jobs-tick", "property": "disabled"}],
            "inputs": [{"id": "run", "property": "data", "value": None},
                       {"id": "computed", "property": "data", "value": None},
                       {"id": "jobs-tick", "property": "n_intervals", "value": None},
                       {"id": "compute", "property": "data", "value": None}],
            "state": [], "changedPropIds": ["run.data"]}  # fmt: skip
    status, answer = fetch(url + "/_dash-update-component", body)
    if status != 200:
        raise SystemExit(f"loadtest: the run list answered HTTP {status}")
    options = json.loads(answer)["response"]["scenario"]["options"]
    return [
        o["value"]
        for o in options
        if "(not computed" not in str(o["label"]) and "(computing" not in str(o["label"])
    ]


def read_stats(prefix: Path) -> tuple[dict, list[str]]:
    """Rows per request name (and "all") from locust's CSV, and the first failures."""
    rows = {name: {"requests": 0, "errors": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
            for name in [*ENDPOINTS, "all"]}  # fmt: skip
    with open(f"{prefix}_stats.csv", newline="") as f:
        for line in csv.DictReader(f):
            name = "all" if line["Name"] == "Aggregated" else line["Name"]
            count = int(line["Request Count"])
            rows[name] = {"requests": count, "errors": int(line["Failure Count"])}
            for field, column in (("p50_ms", "50%"), ("p95_ms", "95%"),
                                  ("max_ms", "Max Response Time")):  # fmt: skip
                rows[name][field] = round(float(line[column]), 1) if count else None
    with open(f"{prefix}_failures.csv", newline="") as f:
        failures = [f"{r['Name']}: {r['Error']} (x{r['Occurrences']})" for r in csv.DictReader(f)]
    return rows, failures[:10]


def table(rows: dict) -> str:
    lines = [f"{'request':<18} {'requests':>9} {'errors':>7} {'p50 ms':>9} {'p95 ms':>9} "
             f"{'max ms':>9}"]  # fmt: skip
    for name, row in rows.items():
        cells = [row[k] if row[k] is not None else "-" for k in ("p50_ms", "p95_ms", "max_ms")]
        lines.append(f"{name:<18} {row['requests']:>9} {row['errors']:>7} "
                     f"{cells[0]:>9} {cells[1]:>9} {cells[2]:>9}")  # fmt: skip
    return "\n".join(lines)


def load(url: str, users: int, run_time: str, runs: list[str] | None) -> dict:
    """locust against ``url``; the measured rows, the first failures, locust's status."""
    health = wait_healthy(url, limit=30)
    offered = computed_runs(url)
    if runs:
        unknown = [r for r in runs if r not in offered]
        if unknown:
            raise SystemExit(f"loadtest: not computed in the store: {', '.join(unknown)}")
    runs = runs or offered
    if not runs:
        raise SystemExit("loadtest: the store has no computed run")
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "locust"
        command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
                   "--users", str(users), "--spawn-rate", str(users), "--run-time", run_time,
                   "--host", url, "--runs", ",".join(runs), "--csv", str(prefix),
                   "--only-summary", "--loglevel", "WARNING"]  # fmt: skip
        start = time.monotonic()
        # locust stops itself at --run-time; the timeout only guards against a hang.
        done = subprocess.run(command, cwd=ROOT, timeout=seconds_of(run_time) + 180, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
        elapsed = time.monotonic() - start
        if not Path(f"{prefix}_stats.csv").exists():
            sys.stderr.write(done.stdout[-4000:])
            raise SystemExit(f"loadtest: locust exited with {done.returncode}, no statistics")
        rows, failures = read_stats(prefix)
    return {"health": health, "runs": runs, "elapsed_s": round(elapsed, 1), "rows": rows,
            "first_errors": failures, "locust_exit_code": done.returncode,
            "locust_output_tail": done.stdout[-2000:] if done.returncode else ""}  # fmt: skip


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                             capture_output=True, text=True, timeout=10)  # fmt: skip
        return out.stdout.strip()
    except OSError:
        return "?"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server on 127.0.0.1/localhost (else: start one)")
    parser.add_argument("--cache-dir", type=Path, help="store for the server started here")
    parser.add_argument("--runs", help="runs to open, comma-separated (default: all computed)")
    parser.add_argument("--users", type=int, default=20, help="locust users (default 20)")
    parser.add_argument("--run-time", default="60s", help="locust's --run-time (default 60s)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the JSON result")
    args = parser.parse_args(argv)
    try:
        seconds = seconds_of(args.run_time)
    except ValueError:
        parser.error("--run-time: seconds or minutes, as 60s, 2m or 90")
    if args.users < 1 or not 0 < seconds <= 600:
        parser.error("--users must be >= 1 and --run-time in (0, 600] seconds")
    url = check_loopback(args.url) if args.url else None
    try:
        version = importlib.metadata.version("locust")
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit("loadtest: locust is not installed: `make loadtest` installs it") from None
    runs = [r for r in (args.runs or "").split(",") if r]
    if url:
        result = load(url, args.users, args.run_time, runs)
        server = {"url": url}
    else:
        cache = args.cache_dir or Path(
            os.environ.get("FRACDASH_STORE") or Path.home() / ".cache" / "fracdash"
        )
        with gunicorn(cache.expanduser(), args.workers) as url:
            result = load(url, args.users, args.run_time, runs)
        server = {"gunicorn": f"app:server -w {args.workers} --timeout 120",
                  "store": str(cache)}  # fmt: skip
    now = datetime.now(timezone.utc)
    report = {
        "date": now.isoformat(timespec="seconds"),
        "commit": git_commit(),
        "tool": f"locust {version} (bench/locustfile.py, headless)",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "server": server,
        "users": args.users,
        "run_time": args.run_time,
        **result,
    }
    rows = result["rows"]
    never = [name for name in ENDPOINTS if not rows[name]["requests"]]
    print(table(rows))
    total, runs = rows["all"], ", ".join(result["runs"])
    print(f"{total['requests']} requests, {total['errors']} errors, "
          f"{result['elapsed_s']} s, {args.users} users, runs: {runs}")  # fmt: skip
    for error in result["first_errors"]:
        print("error:", error)
    if never:
        print("error: never requested:", ", ".join(never))
    if result["locust_exit_code"]:
        print(result["locust_output_tail"], f"error: locust exited with "
              f"{result['locust_exit_code']}", sep="\n")  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"loadtest-{now:%Y%m%d-%H%M}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")
    return 1 if rows["all"]["errors"] or never or result["locust_exit_code"] else 0


if __name__ == "__main__":
    sys.exit(main())
