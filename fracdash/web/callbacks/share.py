"""The view in the URL, a link to copy, and downloads: all in the browser.

The URL (``?run=…&coloring=…&curve=…&simplify=1&focus=3``) and the controls are kept in
step in both directions by one clientside callback (assets/url_state.js), so opening a
copied link reproduces the view and back/forward step through view changes, with no
request to the server. The download links follow the run and coloring shown.
"""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State

from fracdash.web import ids


def register(app, context) -> dict:
    """Declare the clientside callbacks of the URL, the copy button and the downloads."""
    app.clientside_callback(
        ClientsideFunction(namespace="fracdash_url", function_name="sync"),
        Output(ids.URL, "search"),
        Output(ids.SCENARIO, "value", allow_duplicate=True),
        Output(ids.COLORING, "value"),
        Output(ids.SIMPLIFY, "value"),
        Output(ids.CURVE, "value"),
        Output(ids.FOCUS, "data", allow_duplicate=True),
        Input(ids.URL, "search"),
        Input(ids.SCENARIO, "value"),
        Input(ids.COLORING, "value"),
        Input(ids.SIMPLIFY, "value"),
        Input(ids.CURVE, "value"),
        prevent_initial_call="initial_duplicate",
    )
    app.clientside_callback(
        ClientsideFunction(namespace="fracdash_url", function_name="href"),
        Output(ids.COPY_LINK, "content"),
        Input(ids.COPY_LINK, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="fracdash_url", function_name="downloads"),
        Output(ids.DOWNLOAD_PNG, "href"),
        Output(ids.DOWNLOAD_HTML, "href"),
        Input(ids.SCENARIO, "value"),
        Input(ids.COLORING, "value"),
        Input(ids.SIMPLIFY, "value"),
        State(ids.URL, "pathname"),
    )
    return {}
