"""Legend panel (labels line, class items, coloring key; pointer and keyboard handled in
assets/*.js) and note line."""

from __future__ import annotations

from dash import Input, Output, State, html

from fracdash.web import ids
from fracdash.web.callbacks.guard import run_or_none
from fracdash.web.computing import read_partial
from fracdash.web.loading import load_analysis
from fracdash.web.panels import legend_children, note_text


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
            return (legend_children(partial.class_names) if partial else []), ""
        if analysis is None:
            return [], ""
        note = note_text(run, analysis)
        # The page shows two lines of the note (the graph needs the height); the
        # tooltip holds all of it.
        return legend_children(analysis.class_names), html.Span(note, title=note)

    return {"render_legend": render_legend}
