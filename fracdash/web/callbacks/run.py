"""Scenario panel: open a stored run at once, or have the server compute it.

A run that is not stored is computed by one job on the server
(:class:`~fracdash.web.jobs.JobRegistry`), however many pages ask for it: choosing it
starts that job or joins it. The page shows the run it names: the previous run is
cleared at once, and the one being computed shows its job's progress and its graph as
it grows. The page polls only while a job it shows is running (the one it waits for,
or one the run list marks), and a job goes on when the page looks elsewhere.
"""

from __future__ import annotations

from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from fracdash.web import ids
from fracdash.web.callbacks.guard import run_or_none, unknown_run
from fracdash.web.computing import progress_view
from fracdash.web.loading import run_key, run_options, scenario_of, scenario_runs
from fracdash.web.messages import error_line


def register(app, context) -> dict:
    """Declare the run callbacks on ``app``: ``select_run``, ``watch_job``,
    ``show_computed`` and ``refresh_options``."""
    jobs = context.jobs

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
            return run, None, ""
        scenario = scenario_of(run, context.samples) if run else None
        if scenario is None:  # only built-in scenarios are computed from the page
            return no_update, no_update, unknown_run(value)
        record = jobs.start(run, scenario)  # or join the job computing it already
        # The page shows the run it names, not the previous one (the browser cleared
        # its graph already: callbacks/dag.py).
        return None, run, progress_view(record)

    @app.callback(
        Output(ids.COMPUTED, "data"),
        Output(ids.PROGRESS, "children", allow_duplicate=True),
        Output(ids.PARTIAL_TICK, "data"),
        Output(ids.COMPUTE, "data", allow_duplicate=True),
        Input(ids.JOBS_TICK, "n_intervals"),
        State(ids.COMPUTE, "data"),
        State(ids.PARTIAL_TICK, "data"),
        prevent_initial_call=True,
    )
    def watch_job(_tick, computing, partials=None):
        """The job this page waits for: its progress and how many partial graphs it
        has stored (the DAG redraws on a new one), then its run, or why it failed."""
        run = run_or_none(computing)
        scenario = scenario_of(run, context.samples) if run else None
        if scenario is None:  # only built-in scenarios are computed: nothing to watch
            raise PreventUpdate
        record = jobs.status(run)
        if run_key(context.store, run) is not None:
            took = f" in {record['seconds']:.0f} s" if record and record.get("seconds") else ""
            return run, f"computed {run}{took}", no_update, None
        if record is not None and record.get("ended") == "failed":
            failed = f"could not compute {run}: {error_line(record['error'])}"
            return no_update, failed, no_update, None
        if record is None or not record["running"]:  # its server ended: start it again
            record = jobs.start(run, scenario)
        tick = f"{run}:{record.get('partials', 0)}"  # the graph and legend redraw on a new one
        return no_update, progress_view(record), tick if tick != partials else no_update, no_update

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
        """The run list, and whether to poll: while this page waits for a run, or a
        job computing a run of this page's list is running."""
        options = run_options(context.store, context.samples, context.compute)
        waiting = run_or_none(computing) is not None
        shown = scenario_runs(context.samples).keys() & jobs.running().keys()
        return options, not (waiting or shown)

    return {
        "select_run": select_run,
        "watch_job": watch_job,
        "show_computed": show_computed,
        "refresh_options": refresh_options,
    }
