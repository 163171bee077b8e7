"""Chart panels: confusion matrix and quality per layer."""

from __future__ import annotations

from dash import Input, Output

from fracdash.figures import confusion_figure, quality_figure
from fracdash.web import ids
from fracdash.web.callbacks.guard import curve_or_default, run_or_none
from fracdash.web.loading import load_analysis


def register(app, context) -> dict:
    """Declare the chart callback on ``app``, reading ``context``'s store."""

    @app.callback(
        Output(ids.CONFUSION, "figure"),
        Output(ids.QUALITY_CHART, "figure"),
        Input(ids.RUN, "data"),
        Input(ids.SIMPLIFY, "value"),
        Input(ids.CURVE, "value"),
    )
    def render_charts(run, simplify, curve=None):
        analysis = load_analysis(
            context.store, run_or_none(run), bool(simplify), curve_or_default(curve)
        )
        if analysis is None:  # nothing shown (a run being computed): no stale charts
            return {}, {}
        return confusion_figure(analysis), quality_figure(analysis)

    return {"render_charts": render_charts}
