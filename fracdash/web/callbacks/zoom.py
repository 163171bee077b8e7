"""Zoom panel: a click on a layer's name, or on its point in the quality chart, shows its
glyph large with the layer's facts; while two runs are compared, a click on a layer's
name in run B's graph shows B's glyph, and a click on a cell of the CKA heatmap (or a
pair of the comparison's quality chart) both glyphs side by side."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from fracdash.web import ids
from fracdash.web.callbacks.guard import coloring_or_default, curve_or_default, run_or_none
from fracdash.web.loading import load_view
from fracdash.web.panels import zoom_children, zoom_pair_children


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
        run = run_or_none(run)
        view = load_view(context.store, run, False, curve_or_default(curve))
        if view is None or layer is None:
            raise PreventUpdate
        try:
            glyph = view.glyph(layer)
        except KeyError:  # a layer this run does not have
            raise PreventUpdate from None
        return zoom_children(glyph, coloring_or_default(coloring), run=run), False

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

    @app.callback(
        Output(ids.GLYPH_ZOOM_BODY, "children", allow_duplicate=True),
        Output(ids.GLYPH_ZOOM, "hidden", allow_duplicate=True),
        Input({"type": ids.GLYPH_NAME_B, "layer": ALL}, "n_clicks"),
        State(ids.VERSUS, "value"),
        State(ids.COLORING, "value"),
        State(ids.CURVE, "value"),
        prevent_initial_call=True,
    )
    def zoom_b(_glyph_clicks, versus, coloring, curve=None):
        """A click on a layer's name in run B's graph: that glyph of run B, enlarged."""
        trigger = dash.ctx.triggered_id
        if not isinstance(trigger, dict) or not dash.ctx.triggered[0]["value"]:
            raise PreventUpdate  # new glyphs, not a click
        return zoomed(trigger.get("layer"), versus, coloring, curve)

    @app.callback(
        Output(ids.GLYPH_ZOOM_BODY, "children", allow_duplicate=True),
        Output(ids.GLYPH_ZOOM, "hidden", allow_duplicate=True),
        Input(ids.CKA_HEATMAP, "clickData"),
        Input(ids.COMPARE_QUALITY, "clickData"),
        State(ids.RUN, "data"),
        State(ids.VERSUS, "value"),
        State(ids.COLORING, "value"),
        State(ids.CURVE, "value"),
        prevent_initial_call=True,
    )
    def zoom_pair(cka_click, quality_click, run, versus, coloring, curve=None):
        """A click on a cell of the CKA heatmap (or a pair of the comparison's quality
        chart): both glyphs, A's and B's, enlarged side by side."""
        trigger = dash.ctx.triggered_id if dash.ctx.triggered else None
        layers = (cka_layers(cka_click) if trigger == ids.CKA_HEATMAP
                  else pair_layers(quality_click))  # fmt: skip
        run, versus = run_or_none(run), run_or_none(versus)
        if layers is None or run is None or versus is None:
            raise PreventUpdate
        curve = curve_or_default(curve)
        sides = []
        for name, layer in zip((run, versus), layers, strict=True):
            view = load_view(context.store, name, False, curve)
            try:
                sides.append((name, view.glyph(layer)))
            except (AttributeError, KeyError):  # not stored, or no such layer
                raise PreventUpdate from None
        return zoom_pair_children(sides, coloring_or_default(coloring)), False

    return {"toggle_zoom": toggle_zoom, "zoom_from_chart": zoom_from_chart,
            "zoom_b": zoom_b, "zoom_pair": zoom_pair}  # fmt: skip


def _first_point(click) -> dict | None:
    points = click.get("points") if isinstance(click, dict) else None
    first = points[0] if isinstance(points, list) and points else None
    return first if isinstance(first, dict) else None


def cka_layers(click) -> tuple[str, str] | None:
    """(layer of run A, layer of run B) of the CKA heatmap's clicked cell (its y, x)."""
    point = _first_point(click)
    found = (point.get("y"), point.get("x")) if point else None
    return found if found and all(isinstance(v, str) for v in found) else None


def pair_layers(click) -> tuple[str, str] | None:
    """(layer of run A, layer of run B) of the comparison's quality chart's clicked
    point (its ``customdata``)."""
    point = _first_point(click)
    found = point.get("customdata") if point else None
    if isinstance(found, list | tuple) and len(found) == 2 and all(isinstance(v, str)
                                                                 for v in found):  # fmt: skip
        return found[0], found[1]
    return None
