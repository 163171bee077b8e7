"""The server's export routes: ``GET /export/<run>.png``, ``/export/<run>.html`` and
``/export/<run>.csv``.

Runs are looked up in the app's store catalog by name, never opened as a path (as every
page input, :mod:`fracdash.web.callbacks.guard`): anything else is a 404 with one line
of text. ``?coloring=relative`` recolors the PNG; ``?simplify=1`` drops the
reorder-only layers, as the page's "simplified network" does; ``?curve=paper`` lays the
glyphs on the paper's curve (``compact`` by default), as the page's curve switch does.
Unknown values fall back to the defaults, as on the page.

``?sel=…`` draws the page's selection in every glyph (the other samples faded, as the
page fades them), in the words the page's URL writes it (``wrong``, ``cell:T-P``,
``brush:LAYER:X0,Y0,X1,Y1``, and while comparing ``diff``, ``moved``, ``brush-b:…``;
:mod:`fracdash.export.selection`); ``?labels=correctness`` (with ``vs``) colors each
sample by right or wrong in both runs, as the page's "right in A / B". A selection that
is none of these, that names a layer or class the run has not, or a comparison's
selection or coloring without ``vs``, is a 400 with the one-line reason.

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

from fracdash.errors import CompareError, ExportError, RunError
from fracdash.export.data import run_tables, table_bytes
from fracdash.export.png import export_png
from fracdash.export.selection import check_view, needs_comparison, view_marking
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
from fracdash.web.compare_data import comparison
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


def _coloring(png: bool) -> str:
    """The glyphs' coloring the query string asks for: "correctness" for the page's
    ``labels=correctness``, else the PNG's ``coloring`` (the HTML has a switch)."""
    from flask import request

    if request.args.get("labels") == "correctness":
        return "correctness"
    return coloring_or_default(request.args.get("coloring")) if png else "absolute"


def _marking_or_error(context, names, full, coloring):
    """(Marking or None, None) of the asked ``sel`` and ``coloring`` over runs ``names``
    (``full``: every layer, on the asked curve), or (None, error response): 400 for a
    selection that does not apply, 404 or 409 where the runs' comparison fails."""
    from flask import request

    sel, compared = request.args.get("sel"), None
    try:
        if len(names) == 2 and needs_comparison(sel, coloring):
            compared = comparison(context.store, *names, request.args.get("pair"))
        return view_marking(sel, coloring, full, compared), None
    except ExportError as err:
        return None, _text(str(err), 400)
    except RunError as err:  # deleted meanwhile
        return None, _text(str(err), 404)
    except CompareError as err:
        return None, _text(str(err), 409)


def _view_or_400(coloring):
    """None, or the 400 response for a ``sel`` (or coloring) the export cannot draw,
    refused before any run is read."""
    from flask import request

    try:
        check_view(request.args.get("sel"), coloring, bool(request.args.get("vs")))
    except ExportError as err:
        return _text(str(err), 400)
    return None


def _pair_or_error(context, run, versus, png: bool):
    """(names, drawn analyses, titles, pairing line, marking) of runs ``run`` and
    ``versus``, or an error response: 404 for an unknown run, 409 for runs that cannot
    be compared, 400 for a selection that does not apply."""
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
    marking, failed = _marking_or_error(context, names, full, _coloring(png))
    if failed is not None:
        return None, failed
    return (names, drawn, side_titles(names, full), pairing_line(names, matched, pairing),
            marking), None  # fmt: skip


def _run_or_error(context, run, coloring):
    """(drawn analysis, marking) of run ``run``, or an error response (404, 400)."""
    analysis, missing = _analysis_or_404(context, run)
    if missing is not None:
        return None, missing
    full = _analysis_or_404(context, run, simplify=False)[0]
    marking, failed = _marking_or_error(context, (run,), [full], coloring)
    return (None, failed) if failed is not None else ((analysis, marking), None)


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
        coloring, versus = _coloring(png=True), request.args.get("vs")
        refused = _view_or_400(coloring)
        if refused is not None:
            return refused
        if versus:
            pair, failed = _pair_or_error(context, run, versus, png=True)
            if failed is not None:
                return failed
            names, drawn, titles, line, marking = pair
            data = export_png_pair(drawn, coloring, titles, line, marking)
            return _attachment(data, "image/png", f"{names[0]}-vs-{names[1]}.png")
        found, failed = _run_or_error(context, run, coloring)
        if failed is not None:
            return failed
        data = export_png(found[0], coloring, title=run, marking=found[1])
        return _attachment(data, "image/png", f"{run}.png")

    def page(run):
        versus = request.args.get("vs")
        refused = _view_or_400(_coloring(png=False))
        if refused is not None:
            return refused
        if versus:
            pair, failed = _pair_or_error(context, run, versus, png=False)
            if failed is not None:
                return failed
            names, drawn, titles, line, marking = pair
            body = export_html_pair(drawn, names, titles, line, marking).encode("utf-8")
            return _attachment(body, "text/html", f"{names[0]}-vs-{names[1]}.html")
        found, failed = _run_or_error(context, run, _coloring(png=False))
        if failed is not None:
            return failed
        body = export_html(found[0], run, found[1]).encode("utf-8")
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
