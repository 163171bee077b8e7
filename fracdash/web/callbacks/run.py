"""Scenario panel: open a stored run at once, or compute it in a background job
with live progress (a forked process per job: other users are never blocked)."""

from __future__ import annotations

import time

from dash import Input, Output, no_update
from dash.exceptions import PreventUpdate

from fracdash.runs import precompute_scenario
from fracdash.store import Store
from fracdash.web import ids
from fracdash.web.callbacks.guard import run_or_none, unknown_run
from fracdash.web.loading import run_key, run_options, scenario_of
from fracdash.web.panels import progress_text


def register(app, context) -> dict:
    """Declare the run callbacks on ``app``: ``select_run``, the background job
    ``compute_run`` (run by ``context.jobs``) and ``refresh_options``."""

    @app.callback(
        Output(ids.RUN, "data"),
        Output(ids.COMPUTE, "data"),
        Output(ids.PROGRESS, "children", allow_duplicate=True),
        Input(ids.SCENARIO, "value"),
        prevent_initial_call="initial_duplicate",
    )
    def select_run(value):
        run = run_or_none(value)
        if run is not None and run_key(context.store, run) is not None:
            return run, no_update, ""
        if run is None or scenario_of(run, context.samples) is None:
            return no_update, no_update, unknown_run(value)
        return no_update, run, progress_text(run, "queued", 0, 0)

    @app.callback(
        Output(ids.RUN, "data", allow_duplicate=True),
        Output(ids.PROGRESS, "children", allow_duplicate=True),
        Input(ids.COMPUTE, "data"),
        background=True,
        progress=Output(ids.PROGRESS, "children"),
        cancel=[Input(ids.SCENARIO, "value")],
        interval=500,
        prevent_initial_call=True,
    )
    @context.jobs.own  # this app's job runner must run this closure, not another app's
    def compute_run(set_progress, value):
        run = run_or_none(value)
        if not value:
            raise PreventUpdate
        scenario = scenario_of(run, context.samples) if run else None
        if scenario is None:  # only built-in scenarios are computed from the page
            return no_update, unknown_run(value)
        start = time.monotonic()
        set_progress(progress_text(run, "start", 0, 0, "loading TensorFlow"))

        def report(stage, done, total, detail):
            set_progress(progress_text(run, stage, done, total, detail))

        store = Store(context.directory)  # this job's own connection: it runs in a fork
        try:
            precompute_scenario(
                store, scenario, samples=context.samples, progress=report, **context.compute
            )
        except (ValueError, OSError) as err:
            return no_update, f"could not compute {run}: {err}"
        finally:
            store.close()
        return run, f"computed {run} in {time.monotonic() - start:.0f} s"

    @app.callback(
        Output(ids.SCENARIO, "options"), Input(ids.RUN, "data"), prevent_initial_call=True
    )
    def refresh_options(_run):
        return run_options(context.store, context.samples)

    return {
        "select_run": select_run,
        "compute_run": compute_run,
        "refresh_options": refresh_options,
    }
