"""Zoom panel: a click on a layer's name shows its glyph large with the layer's facts."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from fracdash.web import ids
from fracdash.web.callbacks.guard import coloring_or_default, curve_or_default, run_or_none
from fracdash.web.loading import load_view
from fracdash.web.panels import zoom_children


def register(app, context) -> dict:
    """Declare the zoom callback on ``app``, reading ``context``'s store."""

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
        view = load_view(context.store, run_or_none(run), False, curve_or_default(curve))
        if view is None:
            raise PreventUpdate
        try:
            glyph = view.glyph(trigger.get("layer"))
        except KeyError:  # a layer this run does not have
            raise PreventUpdate from None
        return zoom_children(glyph, coloring_or_default(coloring)), False

    return {"toggle_zoom": toggle_zoom}
