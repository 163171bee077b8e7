"""Scenario panel: open a stored run at once, or compute it in a background job (a
forked process per job: other users are never blocked).

Computing is said before it starts (the run list gives an estimate), shown while it
runs (the page clears the previous run and shows the one being computed, with a bar
and an ETA per stage), and never lost by looking elsewhere: choosing a stored run
leaves the job running, and another computation waits until it ends.
"""

from __future__ import annotations

import time

from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from fracdash.errors import FracdashError
from fracdash.runs import precompute_scenario
from fracdash.store import Store
from fracdash.web import ids
from fracdash.web.callbacks.guard import run_or_none, unknown_run
from fracdash.web.computing import JobProgress, percent, progress_view, read_progress
from fracdash.web.loading import run_key, run_options, scenario_of


def register(app, context) -> dict:
    """Declare the run callbacks on ``app``: ``select_run``, the background job
    ``compute_run`` (run by ``context.jobs``), ``show_computed`` and ``refresh_options``."""

    @app.callback(
        Output(ids.RUN, "data"),
        Output(ids.COMPUTE, "data"),
        Output(ids.PROGRESS, "children", allow_duplicate=True),
        Input(ids.SCENARIO, "value"),
        State(ids.COMPUTE, "data"),
        prevent_initial_call="initial_duplicate",
    )
    def select_run(value, computing=None):
        run = run_or_none(value)
        if run is not None and run_key(context.store, run) is not None:
            return run, no_update, ""
        if run is None or scenario_of(run, context.samples) is None:
            return no_update, no_update, unknown_run(value)
        busy = read_progress(context.store, computing) if computing not in (None, run) else None
        if busy is not None:  # one computation per page: the running one goes on
            return (
                no_update,
                no_update,
                (
                    f"{computing} is still being computed ({percent(busy) or 0}%) and goes on; "
                    f"choose {run} again when it is done"
                ),
            )
        record = {"run": run, "stage": "queued", "done": 0, "total": 0, "detail": ""}
        # The page shows the run being computed, not the previous one.
        return None, run, progress_view(record)

    @app.callback(
        Output(ids.COMPUTED, "data"),
        Output(ids.PROGRESS, "children", allow_duplicate=True),
        Input(ids.COMPUTE, "data"),
        background=True,
        # The bar, and a count of the partial graphs stored: the DAG redraws on it.
        progress=[Output(ids.PROGRESS, "children"), Output(ids.PARTIAL_TICK, "data")],
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
        store = Store(context.directory)  # this job's own connection: it runs in a fork
        job = JobProgress(store, run)
        stored = [0]  # partial graphs stored so far
        set_progress((progress_view(job("start", 0, 0, "loading TensorFlow")), 0))

        def report(stage, done, total, detail):
            set_progress((progress_view(job(stage, done, total, detail)), stored[0]))

        def partial(analysis):
            job.partial(analysis)
            stored[0] += 1
            set_progress((progress_view(job.record), stored[0]))

        try:
            precompute_scenario(
                store, scenario, samples=context.samples, progress=report,
                on_partial=partial, **context.compute,
            )  # fmt: skip
        except (FracdashError, OSError) as err:
            return no_update, f"could not compute {run}: {err}"
        finally:
            job.clear()
            store.close()
        return run, f"computed {run} in {time.monotonic() - start:.0f} s"

    @app.callback(
        Output(ids.RUN, "data", allow_duplicate=True),
        Input(ids.COMPUTED, "data"),
        State(ids.SCENARIO, "value"),
        prevent_initial_call=True,
    )
    def show_computed(computed, chosen):
        """A finished job opens its run only if the user is still looking for it."""
        return computed if computed == chosen else no_update

    @app.callback(
        Output(ids.SCENARIO, "options"),
        Output(ids.JOBS_TICK, "disabled"),
        Input(ids.RUN, "data"),
        Input(ids.COMPUTED, "data"),
        Input(ids.JOBS_TICK, "n_intervals"),
        Input(ids.COMPUTE, "data"),
        prevent_initial_call=True,
    )
    def refresh_options(_run, _computed=None, _tick=None, computing=None):
        options = run_options(context.store, context.samples, context.compute)
        # Poll (every few seconds) only while some job is running, to show its progress
        # and its layers as they are ordered: from the moment this page asks for one
        # (its job may not have written its first record yet) until it is stored.
        asked = run_or_none(computing)
        waiting = asked is not None and run_key(context.store, asked) is None
        return options, not (waiting or any("(computing" in o["label"] for o in options))

    return {
        "select_run": select_run,
        "compute_run": compute_run,
        "show_computed": show_computed,
        "refresh_options": refresh_options,
    }
