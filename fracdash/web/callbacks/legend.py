"""Legend panel (labels line, class items, coloring key; pointer and keyboard handled in
assets/*.js) and note line."""

from __future__ import annotations

from dash import Input, Output, State, html

from fracdash.web import ids
from fracdash.web.callbacks.guard import run_or_none
from fracdash.web.computing import read_partial
from fracdash.web.loading import load_analysis
from fracdash.web.panels import note_text, run_legend


def register(app, context) -> dict:
    """Declare the legend callback on ``app``, reading ``context``'s store."""

    @app.callback(
        Output(ids.LEGEND, "children"),
        Output(ids.NOTE, "children"),
        Input(ids.RUN, "data"),
        Input(ids.PARTIAL_TICK, "data"),
        State(ids.COMPUTE, "data"),
    )
    def render_legend(run, _partial=None, computing=None):
        run = run_or_none(run)
        analysis = load_analysis(context.store, run)
        if analysis is None and run is None and run_or_none(computing):
            # A run being computed: its classes as soon as its model is known.
            partial = read_partial(context.store, computing)
            return (run_legend(partial) if partial else []), ""
        if analysis is None:
            return [], ""
        note = note_text(run, analysis)
        # The note is shown whole; its tooltip repeats it.
        return run_legend(analysis), html.Span(note, title=note)

    return {"render_legend": render_legend}
