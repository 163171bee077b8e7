"""The view in the URL, a link to copy, and downloads: all in the browser.

The URL (``?run=…&vs=…&pair=…&coloring=…&curve=…&simplify=1&labels=…&focus=3&sel=…``,
``&pin=…&zoom=…``) has one owner, assets/url_state.js: it writes one history entry per
change of view and, when the page opens and on Back/Forward, sets every control from the
URL. Here its controls callback: the first call applies the URL to the Dash controls, later ones
write the changed control into the URL; both return the download links of the view
shown (run, coloring, curve, simplify, and the run compared with and the pairing): PNG,
HTML and data. No request to the server.
"""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output

from fracdash.web import ids


def register(app, context) -> dict:
    """Declare the clientside callbacks of the URL and downloads, and the copy button."""
    app.clientside_callback(
        ClientsideFunction(namespace="fracdash_url", function_name="controls"),
        Output(ids.DOWNLOAD_PNG, "href"),
        Output(ids.DOWNLOAD_HTML, "href"),
        Output(ids.DOWNLOAD_DATA, "href"),
        # In this order: assets/url_state.js maps them to the URL's run, coloring,
        # simplify, curve, vs (the run compared with) and pair (the re-pairing).
        Input(ids.SCENARIO, "value"),
        Input(ids.COLORING, "value"),
        Input(ids.SIMPLIFY, "value"),
        Input(ids.CURVE, "value"),
        Input(ids.VERSUS, "value"),
        Input(ids.PAIRING, "value"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="fracdash_url", function_name="href"),
        Output(ids.COPY_LINK, "content"),
        Input(ids.COPY_LINK, "n_clicks"),
        prevent_initial_call=True,
    )
    return {}
