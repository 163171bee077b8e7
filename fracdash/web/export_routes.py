"""The server's export routes: ``GET /export/<run>.png`` and ``GET /export/<run>.html``.

The run is looked up in the app's store catalog by name, never opened as a path (as
every page input, :mod:`fracdash.web.callbacks.guard`): anything else is a 404 with
one line of text. ``?coloring=relative`` recolors the PNG; ``?simplify=1`` drops the
reorder-only layers from either export, as the page's "simplified network" does;
``?curve=paper`` lays the glyphs on the paper's curve (``compact`` by default), as the
page's curve switch does. Unknown values fall back to the defaults, as on the page.
"""

from __future__ import annotations

import io

from fracdash.export.png import export_png
from fracdash.export.standalone import export_html
from fracdash.web.callbacks.guard import (
    coloring_or_default,
    curve_or_default,
    run_or_none,
    unknown_run,
)
from fracdash.web.loading import load_analysis, run_key

TRUE = ("1", "true", "yes", "on")


def _analysis_or_404(context, run):
    """The stored analysis of catalog run ``run`` (on the asked curve, simplified if
    asked), or a 404 text response."""
    from flask import Response, request

    name = run_or_none(run)
    analysis = None
    if name is not None and run_key(context.store, name) is not None:
        simplify = request.args.get("simplify", "").lower() in TRUE
        curve = curve_or_default(request.args.get("curve"))
        analysis = load_analysis(context.store, name, simplify, curve)
    if analysis is None:
        body = unknown_run(run) + "\n"
        return None, Response(body, status=404, mimetype="text/plain")
    return analysis, None


def _attachment(data: bytes, mimetype: str, filename: str):
    from flask import send_file

    response = send_file(
        io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename
    )
    # A run may be replaced under the same name: never serve an older export.
    response.headers["Cache-Control"] = "no-store"
    return response


def register_routes(server, context) -> None:
    """Add the export routes to the Flask ``server`` of the app whose state is
    ``context`` (:class:`~fracdash.web.context.AppContext`)."""
    from flask import request

    def png(run):
        analysis, missing = _analysis_or_404(context, run)
        if missing is not None:
            return missing
        coloring = coloring_or_default(request.args.get("coloring"))
        return _attachment(export_png(analysis, coloring, title=run), "image/png", f"{run}.png")

    def page(run):
        analysis, missing = _analysis_or_404(context, run)
        if missing is not None:
            return missing
        body = export_html(analysis, run).encode("utf-8")
        return _attachment(body, "text/html", f"{run}.html")

    server.add_url_rule("/export/<run>.png", endpoint="fracdash_export_png", view_func=png)
    server.add_url_rule("/export/<run>.html", endpoint="fracdash_export_html", view_func=page)
