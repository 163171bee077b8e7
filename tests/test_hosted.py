"""Hosted mode: ``/healthz``, no filesystem path accepted from the page, assets found
without the checkout, ``gunicorn app:server -w 2`` on one shared store (debug off), and
the bounded load test (bench/loadtest.py, run as a command) on a small store."""

from __future__ import annotations

import builtins
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from dash import dcc, html, no_update
from dash.exceptions import PreventUpdate
from helpers import Callbacks, free_port, store_toy, walk

import fracdash
from fracdash import __version__
from fracdash.runs import catalog
from fracdash.store import Store
from fracdash.web import app as web_app
from fracdash.web import create_app, ids
from fracdash.web.app import context_of

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ["../../etc/passwd", "/etc/passwd", "~/.ssh/id_rsa", "file:///etc/passwd",
           "easy/../../../etc/passwd", "x" * 10_000, "", None, ["easy"], {"run": "easy"},
           3]  # fmt: skip


@pytest.fixture
def cache(tmp_path):
    store_toy(tmp_path / "cache")
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    """One app for the module."""
    cache = tmp_path_factory.mktemp("hosted") / "cache"
    store_toy(cache)
    return create_app(cache_dir=cache, default_run="toy")


# -- /healthz -------------------------------------------------------------------------


def test_healthz_reports_status_runs_and_version(dashboard):
    response = dashboard.server.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "runs": 1, "version": __version__}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_is_503_with_a_reason_when_the_store_fails(dashboard, tmp_path, monkeypatch):
    client = dashboard.server.test_client()
    assert client.get("/healthz").status_code == 200  # Dash's first-request setup done
    store = context_of(dashboard).store

    def broken(key):
        raise OSError("disk I/O error")

    monkeypatch.setattr(store, "get_json", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error" and "disk I/O error" in body["reason"]
    monkeypatch.undo()
    assert client.get("/healthz").status_code == 200
    store = Store(tmp_path / "gone")
    try:
        shutil.rmtree(tmp_path / "gone")
        body, status = web_app.health(store)
    finally:
        store.close()
    assert status == 503 and body["reason"].startswith("store unavailable"), body


# -- no filesystem path from the page ---------------------------------------------------


def test_the_page_has_no_free_text_or_file_input(dashboard):
    page = dashboard.layout()
    # The one text field: a pairing of layer names, checked against both runs' layers
    # (fracdash.layer_pairs), never a path.
    texts = [c for c in walk(page) if type(c).__name__ in {"Input", "Textarea", "Upload"}]
    assert [(type(c).__name__, c.id) for c in texts] == [("Input", ids.PAIRING)]
    dropdowns = [c for c in walk(page) if isinstance(c, dcc.Dropdown)]
    assert [d.id for d in dropdowns] == [ids.SCENARIO, ids.VERSUS]
    values = [o["value"] for o in dropdowns[0].options]
    assert "toy" in values and all(re.fullmatch(r"[\w.-]+", v) for v in values), values
    assert all(not isinstance(c, html.Iframe) for c in walk(page))


def test_unknown_runs_and_paths_get_a_message_and_open_no_file(dashboard, monkeypatch):
    opened = []
    real_open, real_io_open = builtins.open, io.open

    def spy(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    def never(*args, **kwargs):
        raise AssertionError("a run name from the page started a computation")

    monkeypatch.setattr(builtins, "open", spy)
    monkeypatch.setattr(io, "open", spy)
    monkeypatch.setattr(context_of(dashboard).jobs, "start", never)
    callbacks = context_of(dashboard).callbacks
    select_run, watch_job = callbacks["select_run"], callbacks["watch_job"]
    render_dag, render_charts = callbacks["render_dag"], callbacks["render_charts"]
    render_legend = callbacks["render_legend"]
    for value in HOSTILE:
        run, compute, message = select_run(value)
        assert run is no_update and compute is no_update
        assert message.startswith("unknown run") and len(message) < 120, message
        assert render_dag(value, [], "compact", None, "absolute")[1] is None
        assert render_charts(value, ["on"]) == ({}, {})
        assert render_legend(value) == ([], "")
        with pytest.raises(PreventUpdate):  # no scenario's run: never computed nor watched
            watch_job(1, value)
        # As the second run, and as a pairing of layers: a one-line note, no file opened.
        note = callbacks["render_versus"]("toy", value, "", [], "compact")[3]
        assert note.to_plotly_json()["props"].get("data-state") in (None, "refused")
        note = callbacks["render_versus"]("toy", "toy", f"{value}:{value}", [], "compact")[3]
        assert "\n" not in (note.to_plotly_json()["props"].get("children") or "")
    assert select_run("toy") == ("toy", None, "")
    monkeypatch.setattr(builtins, "open", real_open)
    monkeypatch.setattr(io, "open", real_io_open)
    assert not [p for p in opened if "passwd" in p or "ssh" in p], opened


def test_a_path_posted_to_the_server_is_answered_with_a_message(dashboard):
    client = dashboard.server.test_client()
    calls = Callbacks(client.get("/_dash-dependencies").get_json())
    body = calls.body(
        ("run.data", "compute.data", "progress.children"),
        [("scenario", "value", "../../etc/passwd")],
    )
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    answer = response.get_json()["response"]
    assert answer == {"progress": {"children": answer["progress"]["children"]}}
    assert "unknown run '../../etc/passwd'" in answer["progress"]["children"]
    assert "root:" not in response.get_data(as_text=True)


# -- assets without the checkout ---------------------------------------------------------


def test_assets_are_package_data_with_an_override(tmp_path, monkeypatch):
    from fracdash import assets

    monkeypatch.delenv("FRACDASH_ASSETS", raising=False)
    packaged = Path(fracdash.__file__).resolve().parent / "web" / "assets"
    assert assets.assets_folder() == packaged and (packaged / "fracdash.js").is_file()
    override = tmp_path / "mine"
    override.mkdir()
    (override / "fracdash.js").write_text("")
    monkeypatch.setenv("FRACDASH_ASSETS", str(override))
    assert assets.assets_folder() == override
    monkeypatch.setenv("FRACDASH_ASSETS", str(tmp_path / "nothing-here"))
    with pytest.warns(UserWarning, match="FRACDASH_ASSETS"):
        assert assets.assets_folder() == packaged


# -- gunicorn -w 2 on one store ------------------------------------------------------------


def request(url, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.mark.slow
def test_gunicorn_two_workers_serve_the_page_on_one_store(cache):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Debug asked for through the environment must not reach the hosted app.
    env = dict(os.environ, FRACDASH_CACHE=str(cache), FLASK_DEBUG="1", DASH_DEBUG="true")
    command = [sys.executable, "-m", "gunicorn", "app:server", "-w", "2",
               "-b", f"127.0.0.1:{port}", "--timeout", "60"]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, "gunicorn exited"
                assert time.monotonic() < deadline, "no /healthz within 60 s"
                try:
                    status, text = request(url + "/healthz", timeout=5)
                    if status == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.3)
            assert json.loads(text) == {"status": "ok", "runs": 1, "version": __version__}

            status, text = request(url + "/")
            assert status == 200 and "<title>fracdash</title>" in text and "fracdash.js" in text
            assert request(url + "/assets/fracdash.js")[0] == 200
            status, text = request(url + "/_dash-layout")
            assert status == 200 and ids.SCENARIO in text and "toy" in text
            status, text = request(url + "/_dash-dependencies")
            assert status == 200
            calls = Callbacks(json.loads(text))
            update = url + "/_dash-update-component"
            # The request the renderer sends when a run is picked in the dropdown.
            status, text = request(update, {
                "output": calls.outputs[("run.data", "compute.data", "progress.children")],
                "outputs": [{"id": "run", "property": "data"},
                            {"id": "compute", "property": "data"},
                            {"id": "progress", "property": "children"}],
                "inputs": [{"id": "scenario", "property": "value", "value": "toy"}],
                "changedPropIds": ["scenario.value"],
            })  # fmt: skip
            assert status == 200, text
            assert json.loads(text)["response"] == {
                "run": {"data": "toy"},
                "compute": {"data": None},
                "progress": {"children": ""},
            }
            body = calls.body(
                ("dag.children", "glyph-variants.data", "partial-shown.data"),
                [("run", "data", "toy"), ("simplify", "value", []), ("curve", "value", "compact"),
                 ("partial-tick", "data", None)],
                [("coloring", "value", "relative"), ("compute", "data", None),
                 ("partial-shown", "data", None)],
            )  # fmt: skip
            status, text = request(update, body)
            assert status == 200, text
            variants = json.loads(text)["response"]["glyph-variants"]["data"]
            assert sorted(variants) == sorted(["input", "conv", "flatten", "dense", "prediction"])

            # A run stored by someone else while serving: every worker sees it.
            store_toy(cache, "toy-2", seed=1)
            for _ in range(10):
                status, text = request(url + "/healthz")
                assert (status, json.loads(text)["runs"]) == (200, 2)

            # A broken request: a plain 500, no traceback, no Werkzeug debugger.
            status, text = request(update, {"output": "nope.children", "inputs": []})
            assert status == 500
            assert "Traceback" not in text and "Werkzeug" not in text and "debugger" not in text
            status, text = request(url + "/")
            assert '"ui":false' in text and '"props_check":false' in text  # no dev tools
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
            log.seek(0)
            output = log.read().decode(errors="replace")
    assert len(re.findall(r"Booting worker with pid", output)) >= 2, output[-2000:]


# -- the load test -------------------------------------------------------------------------


def loadtest(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "bench" / "loadtest.py"), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)  # fmt: skip


def test_loadtest_refuses_targets_off_this_machine():
    for url in ["http://example.com:8050", "http://10.0.0.1:8050/", "https://127.0.0.1:1",
                "http://127.0.0.1.example.com/", "ftp://localhost/"]:  # fmt: skip
        done = loadtest("--url", url, "--run-time", "1s")
        assert done.returncode != 0 and "refusing" in done.stderr, (url, done.stderr)


@pytest.mark.slow
def test_loadtest_runs_bounded_and_reports_every_endpoint(cache, tmp_path):
    start = time.monotonic()
    done = loadtest("--cache-dir", str(cache), "--users", "3", "--run-time", "3s",
                    "--out", str(tmp_path), timeout=180)  # fmt: skip
    assert time.monotonic() - start < 90
    assert done.returncode == 0, done.stdout + done.stderr
    (result,) = tmp_path.glob("loadtest-*.json")
    report = json.loads(result.read_text())
    assert report["users"] == 3 and report["runs"] == ["toy"]
    assert report["tool"].startswith("locust ")
    for name, row in report["rows"].items():
        assert row["requests"] > 0 and row["errors"] == 0, (name, row)
        # locust rounds its percentiles (to 10 ms from 100 ms, 100 ms from 1 s), not the max
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["max_ms"] * 1.1 + 1, (name, row)
    assert "toggle_zoom" in done.stdout and "0 errors" in done.stdout
    store = Store(cache)
    try:
        assert catalog(store).keys() == {"toy"}  # the store is only read
    finally:
        store.close()


def test_the_wsgi_app_is_never_in_debug_mode(tmp_path):
    code = (
        "import app; page = app.server.test_client().get('/').get_data(as_text=True); "
        "print(app.server.debug, '\"ui\":false' in page)"
    )
    env = dict(os.environ, FRACDASH_CACHE=str(tmp_path), FLASK_DEBUG="1", DASH_DEBUG="true")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"], result.stdout


def test_every_app_in_a_process_gets_every_callback(tmp_path):
    """Dash hands dash.callback registrations to the first app only; fracdash registers
    its callbacks on each app, so a second dashboard in one process (a second
    fracdash.show in a notebook) answers its callbacks too."""
    store_toy(tmp_path / "cache")
    apps = [create_app(cache_dir=tmp_path / "cache", default_run="toy") for _ in range(2)]
    served = []
    for app in apps:
        client = app.server.test_client()
        deps = client.get("/_dash-dependencies").get_json()
        served.append({d["output"] for d in deps})
        assert served[-1] == set(app.callback_map)
    assert served[0] == served[1] and len(served[0]) >= 8
