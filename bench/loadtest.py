"""Bounded load test of the hosted dashboard: ``python bench/loadtest.py``.

Loopback only. Starts its own ``gunicorn app:server -w 2`` on a free 127.0.0.1 port
against a store (default ``$FRACDASH_CACHE`` or ``~/.cache/fracdash``, only read), unless
``--url`` names a running server on this machine. Then ``--clients`` threads (20) loop
for ``--seconds`` (60) doing what a browser does: ``GET /``, ``GET /_dash-layout`` and
the page's server callbacks (open a run, DAG, charts, legend, options, zoom on a glyph),
built from the server's own ``/_dash-dependencies``, on runs picked among the catalog.
Recoloring and class focus run in the browser, so ``render_dag`` alternates the
coloring it is sent. Every request is timed; an error is an exception, a status other
than 200, or a callback answer without the expected content. Prints a table per
endpoint, writes ``bench/results/loadtest-YYYYMMDD-HHMM.json``, and exits 1 on any error.
Cold renders (the first view of a run in each worker) are included in the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TIMEOUT = 120.0  # per request; as gunicorn's --timeout
ENDPOINTS = ["GET /", "GET /_dash-layout", "select_run", "render_dag", "render_charts",
             "render_legend", "refresh_options", "toggle_zoom"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_loopback(url: str) -> str:
    """``url`` without a trailing slash; SystemExit unless it is http on this machine."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise SystemExit(f"loadtest: refusing {url!r}: only http://127.0.0.1 or localhost")
    return url.rstrip("/")


def fetch(url: str, body: dict | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
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
    env = dict(os.environ, FRACDASH_CACHE=str(cache_dir), TF_CPP_MIN_LOG_LEVEL="3")
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


class Callbacks:
    """Bodies of ``POST /_dash-update-component``, shaped as the Dash renderer sends them."""

    def __init__(self, dependencies: list[dict]):
        self.outputs = {}
        for dep in dependencies:
            if dep.get("clientside_function"):
                continue
            self.outputs[tuple(f"{o['id']}.{o['property']}" for o in self.split(dep["output"]))] = (
                dep["output"]
            )

    @staticmethod
    def split(output: str) -> list[dict]:
        """``..a.x...b.y@hash..`` -> [{"id": "a", "property": "x"}, {"id": "b", ...}]."""
        parts = output[2:-2].split("...") if output.startswith("..") else [output]
        return [
            {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1].split("@")[0]}
            for part in parts
        ]

    def body(self, outs: tuple, inputs: list, state: list = (), changed=None) -> dict:
        """The request of the callback with outputs ``outs`` ("id.property", ...)."""
        output = self.outputs[outs]
        outputs = self.split(output)
        inputs = [{"id": i, "property": p, "value": v} for i, p, v in inputs]
        first = inputs[0]
        trigger = changed or f"{first['id']}.{first['property']}"
        return {
            "output": output,
            "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": inputs,
            "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
            "changedPropIds": [trigger],
        }


def client_loop(url, calls, runs, deadline, seed, record, layers):
    rng = random.Random(seed)
    update = url + "/_dash-update-component"
    while time.monotonic() < deadline:
        run = rng.choice(runs)
        simplify = rng.choice([[], ["on"]])
        coloring = rng.choice(["absolute", "relative"])
        steps = [
            ("GET /", url + "/", None, None),
            ("GET /_dash-layout", url + "/_dash-layout", None, None),
            ("select_run", update,
             calls.body(("run.data", "compute.data", "progress.children"),
                        [("scenario", "value", run)]),
             lambda r, run=run: r["response"]["run"]["data"] == run),
            ("render_dag", update,
             calls.body(("dag.children", "glyph-variants.data"),
                        [("run", "data", run), ("simplify", "value", simplify)],
                        [("coloring", "value", coloring)]),
             lambda r: isinstance(r["response"]["glyph-variants"]["data"], dict)),
            ("render_charts", update,
             calls.body(("confusion.figure", "quality-chart.figure"),
                        [("run", "data", run), ("simplify", "value", simplify)]),
             lambda r: "data" in r["response"]["confusion"]["figure"]),
            ("render_legend", update,
             calls.body(("legend.children", "note.children"), [("run", "data", run)]),
             lambda r: len(r["response"]["legend"]["children"]) > 0),
            ("refresh_options", update,
             calls.body(("scenario.options",), [("run", "data", run)]),
             lambda r: len(r["response"]["scenario"]["options"]) >= len(runs)),
        ]  # fmt: skip
        if layers.get(run):
            layer = rng.choice(layers[run])
            glyph = json.dumps({"layer": layer, "type": "glyph"}, separators=(",", ":"))
            body = calls.body(
                ("glyph-zoom-body.children", "glyph-zoom.hidden"),
                [("glyph-zoom-close", "n_clicks", 0)],
                [("run", "data", run), ("coloring", "value", coloring)],
                changed=f"{glyph}.n_clicks",
            )
            # The pattern-matching input comes first, as a list of the matching glyphs.
            click = {"id": {"layer": layer, "type": "glyph"}, "property": "n_clicks", "value": 1}
            body["inputs"].insert(0, [click])
            steps.append(("toggle_zoom", update, body,
                          lambda r: r["response"]["glyph-zoom"]["hidden"] is False))  # fmt: skip
        for name, target, body, check in steps:
            if time.monotonic() >= deadline:
                return
            start = time.perf_counter()
            error = None
            try:
                status, payload = fetch(target, body)
                if status != 200:
                    error = f"HTTP {status}"
                elif check is not None:
                    answer = json.loads(payload)
                    if not check(answer):
                        error = "unexpected answer"
                    elif name == "render_dag" and run not in layers:
                        layers[run] = sorted(answer["response"]["glyph-variants"]["data"])
            except Exception as err:  # counted and reported, never raised
                error = f"{type(err).__name__}: {err}"
            record(name, time.perf_counter() - start, error)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summarize(samples: dict[str, list[float]], errors: dict[str, list[str]]) -> dict:
    rows = {}
    for name in [*ENDPOINTS, "all"]:
        times = samples.get(name, [])
        rows[name] = {
            "requests": len(times),
            "errors": len(errors.get(name, [])),
            "p50_ms": round(1000 * percentile(times, 50), 1) if times else None,
            "p95_ms": round(1000 * percentile(times, 95), 1) if times else None,
            "max_ms": round(1000 * max(times), 1) if times else None,
        }
    return rows


def table(rows: dict) -> str:
    lines = [f"{'endpoint':<18} {'requests':>9} {'errors':>7} {'p50 ms':>9} {'p95 ms':>9} "
             f"{'max ms':>9}"]  # fmt: skip
    for name, row in rows.items():
        cells = [row[k] if row[k] is not None else "-" for k in ("p50_ms", "p95_ms", "max_ms")]
        lines.append(f"{name:<18} {row['requests']:>9} {row['errors']:>7} "
                     f"{cells[0]:>9} {cells[1]:>9} {cells[2]:>9}")  # fmt: skip
    return "\n".join(lines)


def load(url: str, clients: int, seconds: float) -> dict:
    """Run the clients against ``url``; the measured rows and the first errors."""
    health = wait_healthy(url, limit=30)
    _, deps = fetch(url + "/_dash-dependencies")
    calls = Callbacks(json.loads(deps))
    _, options = fetch(url + "/_dash-update-component", calls.body(
        ("scenario.options",), [("run", "data", None)]))  # fmt: skip
    runs = [o["value"] for o in json.loads(options)["response"]["scenario"]["options"]
            if "(not computed)" not in str(o["label"])]  # fmt: skip
    if not runs:
        raise SystemExit("loadtest: the store has no computed run")
    samples: dict[str, list[float]] = {}
    errors: dict[str, list[str]] = {}
    lock = threading.Lock()

    def record(name, elapsed, error):
        with lock:
            for key in (name, "all"):
                samples.setdefault(key, []).append(elapsed)
                if error:
                    errors.setdefault(key, []).append(error)

    layers: dict[str, list[str]] = {}
    start = time.monotonic()
    deadline = start + seconds
    threads = [
        threading.Thread(target=client_loop, daemon=True,
                         args=(url, calls, runs, deadline, seed, record, layers))
        for seed in range(clients)
    ]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:  # a request started before the deadline ends within TIMEOUT
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + TIMEOUT + 5)
    elapsed = time.monotonic() - start
    return {
        "health": health,
        "runs": runs,
        "elapsed_s": round(elapsed, 1),
        "rows": summarize(samples, errors),
        "first_errors": [e for name in ENDPOINTS for e in errors.get(name, [])[:3]],
        "still_running": sum(t.is_alive() for t in threads),
    }


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
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the JSON result")
    args = parser.parse_args(argv)
    if args.clients < 1 or not 0 < args.seconds <= 600:
        parser.error("--clients must be >= 1 and --seconds in (0, 600]")
    if args.url:
        url = check_loopback(args.url)
        result = load(url, args.clients, args.seconds)
        server = {"url": url}
    else:
        cache = args.cache_dir or Path(
            os.environ.get("FRACDASH_CACHE") or Path.home() / ".cache" / "fracdash"
        )
        with gunicorn(cache.expanduser(), args.workers) as url:
            result = load(url, args.clients, args.seconds)
        server = {"gunicorn": f"app:server -w {args.workers} --timeout 120",
                  "store": str(cache)}  # fmt: skip
    now = datetime.now(timezone.utc)
    report = {
        "date": now.isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },  # fmt: skip
        "server": server,
        "clients": args.clients,
        "seconds": args.seconds,
        **result,
    }
    print(table(result["rows"]))
    total = result["rows"]["all"]
    print(
        f"{total['requests']} requests, {total['errors']} errors, "
        f"{result['elapsed_s']} s, {args.clients} clients, runs: {', '.join(result['runs'])}"
    )
    for error in result["first_errors"]:
        print("error:", error)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"loadtest-{now:%Y%m%d-%H%M}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")
    return 1 if total["errors"] or result["still_running"] else 0


if __name__ == "__main__":
    sys.exit(main())
