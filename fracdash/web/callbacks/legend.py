"""Legend panel (class swatches; hover handled in assets/fracdash.js) and note line."""

from __future__ import annotations

from dash import Input, Output, callback

from fracdash.web import ids
from fracdash.web.callbacks.guard import run_or_none
from fracdash.web.loading import load_analysis
from fracdash.web.panels import legend_children, note_text
from fracdash.web.settings import current


@callback(Output(ids.LEGEND, "children"), Output(ids.NOTE, "children"), Input(ids.RUN, "data"))
def render_legend(run):
    _, store = current()
    run = run_or_none(run)
    analysis = load_analysis(store, run)
    if analysis is None:
        return [], ""
    return legend_children(analysis.class_names), note_text(run, analysis)
