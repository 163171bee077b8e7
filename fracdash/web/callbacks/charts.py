"""Chart panels: confusion matrix and quality per layer (or another measure per layer,
as the chart's selector asks: :mod:`fracdash.measure_figure`).

The server draws both figures for a run (row-normalised, per-class lines hidden); the
charts' two toggles then act in the browser only: each figure carries what a toggle
switches (the raw and normalised matrices in ``layout.meta.variants``, the class lines
as hidden traces), and a clientside callback flips it, with no server round trip.
"""

from __future__ import annotations

from dash import Input, Output, State, no_update

from fracdash.confusion_figure import confusion_figure
from fracdash.measure_figure import has_measures, measure_figure
from fracdash.web import ids
from fracdash.web.callbacks.guard import curve_or_default, run_or_none
from fracdash.web.chart_panel import measure_options
from fracdash.web.loading import load_analysis

#: Applies the toggles to fresh figures and the fresh toggles to the figures, and gives
#: the confusion graph its figure's least height (it fills its share of the charts
#: column, never below ~15 px a class): returns (confusion, quality, confusion's style),
#: each a new object when it changes, else no_update.
APPLY_CHART_TOGGLES = """
function (confusion, quality, normalise, perClass, style) {
  var skip = window.dash_clientside.no_update;
  var on = function (v) { return Array.isArray(v) && v.indexOf("on") >= 0; };
  var copy = function (a, b) { return Object.assign({}, a, b); };
  var outConfusion = skip, outQuality = skip;
  var cm = confusion && confusion.layout && confusion.layout.meta;
  if (cm && cm.variants && cm.normalised !== on(normalise)) {
    var v = cm.variants[on(normalise) ? "normalised" : "raw"];
    var heat = confusion.data[0], bar = heat.colorbar || {};
    heat = copy(heat, {z: v.z, zmax: v.zmax, colorbar: copy(bar,
      {title: copy(bar.title, {text: v.colorbar}), ticksuffix: v.ticksuffix})});
    outConfusion = copy(confusion, {data: [heat].concat(confusion.data.slice(1)),
      layout: copy(confusion.layout, {
        title: copy(confusion.layout.title, {subtitle: {text: v.subtitle}}),
        meta: copy(cm, {normalised: on(normalise)})})});
  }
  var qm = quality && quality.layout && quality.layout.meta;
  if (qm && qm.per_class !== on(perClass)) {
    outQuality = copy(quality, {
      data: quality.data.map(function (t) {
        return t.meta && t.meta.kind === "class" ? copy(t, {visible: on(perClass)}) : t;
      }),
      layout: copy(quality.layout, {meta: copy(qm, {per_class: on(perClass)})})});
  }
  var least = cm && cm.min_height ? cm.min_height + "px" : null;
  var outStyle = least && (!style || style.minHeight !== least)
    ? copy(style, {minHeight: least}) : skip;
  return [outConfusion, outQuality, outStyle];
}
"""


def register(app, context) -> dict:
    """Declare the chart callbacks on ``app``, reading ``context``'s store."""

    @app.callback(
        Output(ids.CONFUSION, "figure"),
        Output(ids.QUALITY_CHART, "figure"),
        Input(ids.RUN, "data"),
        Input(ids.SIMPLIFY, "value"),
        Input(ids.CURVE, "value"),
        Input(ids.QUALITY_MEASURE, "value"),
    )
    def render_charts(run, simplify, curve=None, measure=None):
        analysis = load_analysis(
            context.store, run_or_none(run), bool(simplify), curve_or_default(curve)
        )
        if analysis is None:  # nothing shown (a run being computed): no stale charts
            return {}, {}
        # A run without measures (older runs) has its quality only.
        measure = measure if measure and has_measures(analysis) else "quality"
        return confusion_figure(analysis), measure_figure(analysis, measure)

    @app.callback(
        Output(ids.QUALITY_MEASURE, "options"),
        Output(ids.QUALITY_MEASURE, "value"),
        Input(ids.RUN, "data"),
        State(ids.QUALITY_MEASURE, "value"),
    )
    def measure_choices(run, measure=None):
        """The selector's measures for ``run``: quality alone for a run without any. The
        value is set only when it changes (setting it redraws the charts)."""
        analysis = load_analysis(context.store, run_or_none(run), False, curve_or_default(None))
        measured = analysis is not None and has_measures(analysis)
        value = (measure or "quality") if measured else "quality"
        return measure_options(measured), no_update if value == measure else value

    app.clientside_callback(
        APPLY_CHART_TOGGLES,
        Output(ids.CONFUSION, "figure", allow_duplicate=True),
        Output(ids.QUALITY_CHART, "figure", allow_duplicate=True),
        Output(ids.CONFUSION, "style"),
        Input(ids.CONFUSION, "figure"),
        Input(ids.QUALITY_CHART, "figure"),
        Input(ids.CONFUSION_NORMALISE, "value"),
        Input(ids.QUALITY_PER_CLASS, "value"),
        State(ids.CONFUSION, "style"),
        prevent_initial_call=True,
    )
    return {"render_charts": render_charts, "measure_choices": measure_choices}
