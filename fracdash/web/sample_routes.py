"""The routes behind sample following: ``GET /samples/<run>.json?curve=…`` (the
payload of :mod:`fracdash.web.samples`) and ``GET /samples/<run>/thumbs.png`` (the
thumbnail sprite). Both are fetched once per run; everything after that happens in the
browser. A run is looked up in the store catalog by name; anything else is a 404 with
one line of text. Responses carry the run's content key as ETag, so a browser that has
them revalidates instead of downloading again, and a replaced run is never stale.

Every other failure is answered as JSON, ``{"error": one line}``, naming what is
missing and the fix, which the page shows (assets/load_errors.js). A run whose
thumbnails cannot be made here (a scenario's run stored before runs kept them, served
without its data set) still gets its payload, with ``thumbsMissing`` saying so: sample
following works, hover shows no image.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache

from fracdash.errors import DatasetError
from fracdash.web.callbacks.guard import curve_or_default, run_or_none, unknown_run
from fracdash.web.loading import on_curve_by_key, run_key
from fracdash.web.samples import payload, run_thumbnails, sprite, sprite_layout

_LOCK = threading.Lock()
log = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def _thumbs(store, key: str):
    return run_thumbnails(store, key, on_curve_by_key(store, key, "compact"))


@lru_cache(maxsize=4)
def _sprite(store, key: str):
    thumbs = _thumbs(store, key)
    return None if thumbs is None else sprite(thumbs)


def thumbs_of(store, key: str):
    """``(thumbnails or None, why they are missing or None)`` of the run stored under
    ``key``: built once and kept; a failure is not kept (the data set may come)."""
    with _LOCK:  # one build at a time; the others then find it cached
        try:
            return _thumbs(store, key), None
        except DatasetError as err:
            return None, str(err)


def sprite_of(store, key: str):
    """``((png bytes, (w, h, columns)) or None, why it is missing or None)``."""
    thumbs, missing = thumbs_of(store, key)
    if thumbs is None:
        return None, missing
    with _LOCK:
        return _sprite(store, key), None


@lru_cache(maxsize=16)
def _payload(store, key: str, curve: str, run: str, layout, missing) -> dict:
    return payload(on_curve_by_key(store, key, curve), run, layout, missing)


def register_sample_routes(server, context) -> None:
    """Add the two routes to the Flask ``server`` of the app whose state is ``context``."""
    from flask import Response, jsonify, request

    def key_or_404(run):
        name = run_or_none(run)
        key = run_key(context.store, name) if name is not None else None
        if key is None:
            return None, Response(unknown_run(run) + "\n", status=404, mimetype="text/plain")
        return key, None

    def cached(response, etag: str):
        response.set_etag(etag)
        response.headers["Cache-Control"] = "no-cache"  # revalidate: a run may be replaced
        return response.make_conditional(request)

    def error(status: int, message: str):
        response = jsonify({"error": message})
        response.status_code = status
        return response

    def samples(run):
        key, missing = key_or_404(run)
        if missing is not None:
            return missing
        curve = curve_or_default(request.args.get("curve"))
        try:
            thumbs, why = thumbs_of(context.store, key)
            layout = None if thumbs is None else sprite_layout(thumbs)
            body = _payload(context.store, key, curve, run, layout, why)
        except Exception as err:  # one line on the page, the trace in the server's log
            log.exception("sample data of run %r", run)
            first = str(err).strip().splitlines()[0] if str(err).strip() else ""
            return error(500, f"the server could not build it ({type(err).__name__}: "
                              f"{first[:200]}); see the server's log")  # fmt: skip
        # The ETag changes once the images can be made (a data set installed since).
        return cached(jsonify(body), f"{key}-{curve}" + ("-without-images" if why else ""))

    def thumbs(run):
        key, missing = key_or_404(run)
        if missing is not None:
            return missing
        built, why = sprite_of(context.store, key)
        if built is None:
            return error(404, why or f"run {run!r} has no image inputs to show")
        return cached(Response(built[0], mimetype="image/png"), key)

    server.add_url_rule("/samples/<run>.json", endpoint="fracdash_samples", view_func=samples)
    server.add_url_rule("/samples/<run>/thumbs.png", endpoint="fracdash_thumbs", view_func=thumbs)
