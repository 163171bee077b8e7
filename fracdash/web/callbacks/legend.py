"""Legend panel (labels line, class items, coloring key; pointer and keyboard handled in
assets/*.js) and note line."""

from __future__ import annotations

from dash import Input, Output, html

from fracdash.web import ids
from fracdash.web.callbacks.guard import run_or_none
from fracdash.web.loading import load_analysis
from fracdash.web.panels import legend_children, note_text


def register(app, context) -> dict:
    """Declare the legend callback on ``app``, reading ``context``'s store."""

    @app.callback(
        Output(ids.LEGEND, "children"), Output(ids.NOTE, "children"), Input(ids.RUN, "data")
    )
    def render_legend(run):
        run = run_or_none(run)
        analysis = load_analysis(context.store, run)
        if analysis is None:
            return [], ""
        note = note_text(run, analysis)
        # The page shows two lines of the note (the graph needs the height); the
        # tooltip holds all of it.
        return legend_children(analysis.class_names), html.Span(note, title=note)

    return {"render_legend": render_legend}
