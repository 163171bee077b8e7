"""The server's export routes: ``GET /export/<run>.png``, ``/export/<run>.html`` and
``/export/<run>.csv``.

Runs are looked up in the app's store catalog by name, never opened as a path (as every
page input, :mod:`fracdash.web.callbacks.guard`): anything else is a 404 with one line
of text. ``?coloring=relative`` recolors the PNG; ``?simplify=1`` drops the
reorder-only layers, as the page's "simplified network" does; ``?curve=paper`` lays the
glyphs on the paper's curve (``compact`` by default), as the page's curve switch does.
Unknown values fall back to the defaults, as on the page.

``?vs=<B>`` (and ``&pair=a1:b1,a2:b2``) compares the run with run B, as the page's
comparison view: the PNG and HTML show both graphs side by side
(:mod:`fracdash.export.versus`), the CSV is the comparison's table. Runs of other
samples, or a pair naming a layer its run has not, are a 409 with the one-line reason.

The CSV is what ``fracdash export RUN --data`` writes (``fracdash export RUN --versus B
--data`` with ``vs``): the per-sample table, or with ``?part=layers`` the per-layer
(per-pair) table that the command writes beside it. ``curve`` and ``simplify`` apply to a
run's table (its pixels and layers) as to ``--data``; a comparison's table is of the
stored runs' every layer, as ``fracdash compare --data`` writes it.
"""

from __future__ import annotations

import io

from fracdash.errors import CompareError, RunError
from fracdash.export.data import run_tables, table_bytes
from fracdash.export.png import export_png
from fracdash.export.standalone import export_html
from fracdash.export.versus import (
    check_pair,
    comparison_data,
    export_html_pair,
    export_png_pair,
    pairing_line,
    parse_pairing,
    side_titles,
)
from fracdash.runs import catalog
from fracdash.web.callbacks.guard import (
    coloring_or_default,
    curve_or_default,
    run_or_none,
    unknown_run,
)
from fracdash.web.loading import load_analysis, run_key

TRUE = ("1", "true", "yes", "on")


def _text(body: str, status: int):
    from flask import Response

    return Response(body.splitlines()[0] + "\n", status=status, mimetype="text/plain")


def _known(context, run) -> str | None:
    """``run`` if it names a stored analysis of the catalog, else None."""
    name = run_or_none(run)
    return name if name is not None and run_key(context.store, name) is not None else None


def _view():
    """(simplify, curve) asked for in the query string."""
    from flask import request

    simplify = request.args.get("simplify", "").lower() in TRUE
    return simplify, curve_or_default(request.args.get("curve"))


def _analysis_or_404(context, run, simplify=None):
    """The stored analysis of catalog run ``run`` (on the asked curve, simplified if
    asked, or as ``simplify`` says), or a 404 text response."""
    asked, curve = _view()
    name, analysis = _known(context, run), None
    if name is not None:
        simplify = asked if simplify is None else simplify
        analysis = load_analysis(context.store, name, simplify, curve)
    if analysis is None:
        return None, _text(unknown_run(run), 404)
    return analysis, None


def _pair_or_error(context, run, versus):
    """(names, drawn analyses, titles, pairing line) of runs ``run`` and ``versus``, or
    an error response: 404 for an unknown run, 409 for runs that cannot be compared."""
    from flask import request

    drawn, full = [], []
    for name in (run, versus):
        analysis, missing = _analysis_or_404(context, name)
        if missing is not None:
            return None, missing
        drawn.append(analysis)
        full.append(_analysis_or_404(context, name, simplify=False)[0])
    names = (run, versus)
    entries = catalog(context.store)
    try:
        matched, pairing = check_pair(names, full, [entries.get(n, {}) for n in names],
                                      parse_pairing(request.args.get("pair")))  # fmt: skip
    except CompareError as err:
        return None, _text(str(err), 409)
    return (names, drawn, side_titles(names, full), pairing_line(names, matched, pairing)), None


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
        coloring = coloring_or_default(request.args.get("coloring"))
        versus = request.args.get("vs")
        if versus:
            pair, failed = _pair_or_error(context, run, versus)
            if failed is not None:
                return failed
            names, drawn, titles, line = pair
            data = export_png_pair(drawn, coloring, titles, line)
            return _attachment(data, "image/png", f"{names[0]}-vs-{names[1]}.png")
        analysis, missing = _analysis_or_404(context, run)
        if missing is not None:
            return missing
        return _attachment(export_png(analysis, coloring, title=run), "image/png", f"{run}.png")

    def page(run):
        versus = request.args.get("vs")
        if versus:
            pair, failed = _pair_or_error(context, run, versus)
            if failed is not None:
                return failed
            names, drawn, titles, line = pair
            body = export_html_pair(drawn, names, titles, line).encode("utf-8")
            return _attachment(body, "text/html", f"{names[0]}-vs-{names[1]}.html")
        analysis, missing = _analysis_or_404(context, run)
        if missing is not None:
            return missing
        body = export_html(analysis, run).encode("utf-8")
        return _attachment(body, "text/html", f"{run}.html")

    def data(run):
        versus = request.args.get("vs")
        part = "layers" if request.args.get("part") == "layers" else "samples"
        suffix = "-layers" if part == "layers" else ""
        if versus:
            names = (_known(context, run), _known(context, versus))
            if None in names:
                return _text(unknown_run(run if names[0] is None else versus), 404)
            try:
                tables = comparison_data(context.store, names,
                                         parse_pairing(request.args.get("pair")))  # fmt: skip
            except RunError as err:  # deleted meanwhile
                return _text(str(err), 404)
            except CompareError as err:
                return _text(str(err), 409)
            filename = f"{names[0]}-vs-{names[1]}{suffix}.csv"
        else:
            analysis, missing = _analysis_or_404(context, run)
            if missing is not None:
                return missing
            tables, filename = run_tables(analysis), f"{run}{suffix}.csv"
        body = table_bytes(tables[1] if part == "layers" else tables[0], ".csv")
        return _attachment(body, "text/csv", filename)

    server.add_url_rule("/export/<run>.png", endpoint="fracdash_export_png", view_func=png)
    server.add_url_rule("/export/<run>.html", endpoint="fracdash_export_html", view_func=page)
    server.add_url_rule("/export/<run>.csv", endpoint="fracdash_export_csv", view_func=data)
