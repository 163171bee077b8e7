"""Two dashboards in one process, on two stores, each see only their own runs: the
page, the server callbacks (called directly and over HTTP) and the jobs that compute
a scenario (each app's registry starts them on its own store)."""

from __future__ import annotations

import time

import pytest
from dash import no_update
from helpers import Callbacks, store_toy, walk
from job_fakes import fake_env

from fracdash.runs import catalog
from fracdash.store import Store
from fracdash.web import create_app, ids
from fracdash.web.app import context_of

#: Outputs ("id.property") of the run callbacks, as /_dash-dependencies lists them.
SELECT = ("run.data", "compute.data", "progress.children")


@pytest.fixture
def apps(tmp_path):
    """App one on store "one" (run ``only-in-one``, all samples), then app two on
    store "two" (run ``only-in-two``, 300 samples per scenario): built in that order,
    as a second ``fracdash.show`` would, before either is used."""
    store_toy(tmp_path / "one", "only-in-one")
    store_toy(tmp_path / "two", "only-in-two", seed=1)
    one = create_app(tmp_path / "one", default_run="only-in-one")
    two = create_app(cache_dir=tmp_path / "two", default_run="easy", samples=300)
    return one, two


def stored_runs(folder) -> set[str]:
    store = Store(folder)
    try:
        return set(catalog(store))
    finally:
        store.close()


def offered(app) -> list[str]:
    """Run names in the dropdown of a freshly loaded page."""
    (dropdown,) = [c for c in walk(app.layout()) if getattr(c, "id", None) == ids.SCENARIO]
    return [o["value"] for o in dropdown.options]


def calls_of(app):
    client = app.server.test_client()
    return client, Callbacks(client.get("/_dash-dependencies").get_json())


def test_each_app_offers_only_its_own_runs(apps):
    one, two = apps
    assert context_of(one).store is not context_of(two).store
    assert context_of(one).jobs is not context_of(two).jobs
    scenarios = ["easy", "generalization", "problematic", "simplification", "realistic"]
    assert offered(one) == [*scenarios, "only-in-one"]
    assert offered(two) == [f"{s}-300" for s in scenarios] + ["only-in-two"]
    for app in apps:
        options, _ = context_of(app).callbacks["refresh_options"](None)
        assert [o["value"] for o in options] == offered(app)
    for app in apps:
        assert app.server.test_client().get("/healthz").get_json()["runs"] == 1


def test_a_run_only_in_store_one_opens_in_app_one_only(apps):
    one, two = apps
    first, second = context_of(one).callbacks, context_of(two).callbacks
    assert first["select_run"]("only-in-one") == ("only-in-one", None, "")
    run, compute, message = second["select_run"]("only-in-one")
    assert (run, compute) == (no_update, no_update)
    assert message.startswith("unknown run 'only-in-one'")
    assert second["select_run"]("only-in-two") == ("only-in-two", None, "")
    assert first["select_run"]("only-in-two")[2].startswith("unknown run")
    assert first["render_legend"]("only-in-one")[0]
    assert second["render_legend"]("only-in-one") == ([], "")
    assert second["render_dag"]("only-in-one", [], "compact", "absolute")[1] is None
    # The same through each app's own server, as the browser asks.
    for app, answer in ((one, {"run": {"data": "only-in-one"}}), (two, None)):
        client, calls = calls_of(app)
        body = calls.body(SELECT, [("scenario", "value", "only-in-one")])
        response = client.post("/_dash-update-component", json=body).get_json()["response"]
        if answer is None:
            assert "unknown run 'only-in-one'" in response["progress"]["children"]
            assert "run" not in response
        else:
            assert response["run"] == answer["run"]


WATCH = ("computed.data", "progress.children", "partial-tick.data", "compute.data")


def compute_over_http(app, run: str, timeout: float = 60.0) -> dict:
    """Ask for ``run`` as the dropdown does, then poll as the page's timer does until
    its job answers."""
    client, calls = calls_of(app)
    body = calls.body(SELECT, [("scenario", "value", run)])
    answer = client.post("/_dash-update-component", json=body).get_json()["response"]
    assert answer["compute"] == {"data": run} and "computing" in str(answer["progress"])
    body = calls.body(WATCH, [("jobs-tick", "n_intervals", 1)],
                      [("compute", "data", run), ("partial-tick", "data", None)])  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = client.post("/_dash-update-component", json=body)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        response = answer.get_json()["response"]
        if "computed" in response:
            return response
        time.sleep(0.2)
    raise AssertionError(f"no answer from the job of {run} in {timeout} s")


def test_jobs_compute_into_their_own_apps_store(apps, tmp_path, monkeypatch):
    one, two = apps
    monkeypatch.setenv("PYTHONPATH", fake_env())  # the job processes run a stand-in
    for app in apps:
        context_of(app).jobs.target = "job_fakes:quick"
    try:
        response = compute_over_http(one, "easy")
        assert response["computed"] == {"data": "easy"}
        assert response["progress"]["children"].startswith("computed easy")
        assert stored_runs(tmp_path / "one") == {"only-in-one", "easy"}
        assert stored_runs(tmp_path / "two") == {"only-in-two"}
        assert context_of(one).callbacks["select_run"]("easy") == ("easy", None, "")
        assert context_of(two).callbacks["select_run"]("easy")[2].startswith("unknown run")

        response = compute_over_http(two, "easy-300")
        assert response["computed"] == {"data": "easy-300"}
        assert stored_runs(tmp_path / "two") == {"only-in-two", "easy-300"}
        assert stored_runs(tmp_path / "one") == {"only-in-one", "easy"}
        # App one's run names are its own: "easy-300" is no scenario run there.
        assert context_of(one).callbacks["select_run"]("easy-300") == (
            no_update, no_update, "unknown run 'easy-300': choose one of the runs listed")
        deadline = time.monotonic() + 10
        while context_of(one).jobs.children():  # its job exits once it has said so
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        for app in apps:
            context_of(app).jobs.stop()
