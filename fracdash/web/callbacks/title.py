"""The tab's title: the run and the view shown (``fracdash · easy-300 · relative ·
paper``), set in the browser by assets/page_title.js from the controls, with no request."""

from __future__ import annotations

from dash import ClientsideFunction, Input

from fracdash.web import ids


def register(app, context) -> dict:
    """Declare the title's clientside callback on ``app`` (no server callback)."""
    app.clientside_callback(
        ClientsideFunction(namespace="fracdash_title", function_name="update"),
        Input(ids.SCENARIO, "value"),
        Input(ids.COLORING, "value"),
        Input(ids.SIMPLIFY, "value"),
        Input(ids.CURVE, "value"),
    )
    return {}
