"""Zoom panel: a click on a layer's name, or on its point in the quality chart, shows its
glyph large with the layer's facts."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from fracdash.web import ids
from fracdash.web.callbacks.guard import coloring_or_default, curve_or_default, run_or_none
from fracdash.web.loading import load_view
from fracdash.web.panels import zoom_children


def chart_layer(click) -> str | None:
    """The layer of the quality chart's clicked point: its ``customdata``
    (:func:`fracdash.figures.quality_figure`), or None (no point, or a line the page
    drew itself, such as the selection's)."""
    points = click.get("points") if isinstance(click, dict) else None
    first = points[0] if isinstance(points, list) and points else None
    layer = first.get("customdata") if isinstance(first, dict) else None
    return layer if isinstance(layer, str) else None


def register(app, context) -> dict:
    """Declare the zoom callbacks on ``app``, reading ``context``'s store."""

    def zoomed(layer, run, coloring, curve):
        view = load_view(context.store, run_or_none(run), False, curve_or_default(curve))
        if view is None or layer is None:
            raise PreventUpdate
        try:
            glyph = view.glyph(layer)
        except KeyError:  # a layer this run does not have
            raise PreventUpdate from None
        return zoom_children(glyph, coloring_or_default(coloring)), False

    @app.callback(
        Output(ids.GLYPH_ZOOM_BODY, "children"),
        Output(ids.GLYPH_ZOOM, "hidden"),
        Input({"type": ids.GLYPH_NAME, "layer": ALL}, "n_clicks"),
        Input(ids.GLYPH_ZOOM_CLOSE, "n_clicks"),
        State(ids.RUN, "data"),
        State(ids.COLORING, "value"),
        State(ids.CURVE, "value"),
        prevent_initial_call=True,
    )
    def toggle_zoom(_glyph_clicks, _close_clicks, run, coloring, curve=None):
        trigger = dash.ctx.triggered_id
        if trigger == ids.GLYPH_ZOOM_CLOSE:
            return no_update, True
        # New glyphs (another run) also fire this callback, with n_clicks 0: not a click.
        if not isinstance(trigger, dict) or not dash.ctx.triggered[0]["value"]:
            raise PreventUpdate
        return zoomed(trigger.get("layer"), run, coloring, curve)

    # Its outputs in the other order than toggle_zoom's: tools that find a callback by
    # its outputs (bench/locustfile.py, tests/helpers.py) tell the two apart.
    @app.callback(
        Output(ids.GLYPH_ZOOM, "hidden", allow_duplicate=True),
        Output(ids.GLYPH_ZOOM_BODY, "children", allow_duplicate=True),
        Input(ids.QUALITY_CHART, "clickData"),
        State(ids.RUN, "data"),
        State(ids.COLORING, "value"),
        State(ids.CURVE, "value"),
        prevent_initial_call=True,
    )
    def zoom_from_chart(click, run, coloring, curve=None):
        """A click on a layer's point in the quality chart: (hidden, body) of that
        layer's glyph."""
        body, hidden = zoomed(chart_layer(click), run, coloring, curve)
        return hidden, body

    return {"toggle_zoom": toggle_zoom, "zoom_from_chart": zoom_from_chart}
