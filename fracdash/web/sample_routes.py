"""The routes behind sample following: ``GET /samples/<run>.json?curve=…`` (the
payload of :mod:`fracdash.web.samples`) and ``GET /samples/<run>/thumbs.png`` (the
thumbnail sprite). Both are fetched once per run; everything after that happens in the
browser. A run is looked up in the store catalog by name; anything else is a 404 with
one line of text. Responses carry the run's content key as ETag, so a browser that has
them revalidates instead of downloading again, and a replaced run is never stale.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from fracdash.web.callbacks.guard import curve_or_default, run_or_none, unknown_run
from fracdash.web.loading import on_curve_by_key, run_key
from fracdash.web.samples import payload, run_thumbnails, sprite, sprite_layout

_LOCK = threading.Lock()


@lru_cache(maxsize=8)
def _thumbs(store, key: str):
    return run_thumbnails(store, key, on_curve_by_key(store, key, "compact"))


@lru_cache(maxsize=4)
def _sprite(store, key: str):
    thumbs = _thumbs(store, key)
    return None if thumbs is None else sprite(thumbs)


def thumbs_of(store, key: str):
    """The thumbnails of the run stored under ``key``, or None (built once, kept)."""
    with _LOCK:  # one build at a time; the others then find it cached
        return _thumbs(store, key)


def sprite_of(store, key: str):
    """``(png bytes, (w, h, columns))`` of the run stored under ``key``, or None."""
    with _LOCK:
        return _sprite(store, key)


@lru_cache(maxsize=16)
def _payload(store, key: str, curve: str, run: str) -> dict:
    analysis = on_curve_by_key(store, key, curve)
    thumbs = thumbs_of(store, key)
    return payload(analysis, run, None if thumbs is None else sprite_layout(thumbs))


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

    def samples(run):
        key, missing = key_or_404(run)
        if missing is not None:
            return missing
        curve = curve_or_default(request.args.get("curve"))
        return cached(jsonify(_payload(context.store, key, curve, run)), f"{key}-{curve}")

    def thumbs(run):
        key, missing = key_or_404(run)
        if missing is not None:
            return missing
        built = sprite_of(context.store, key)
        if built is None:
            body = f"run {run!r} has no image inputs to show\n"
            return Response(body, status=404, mimetype="text/plain")
        return cached(Response(built[0], mimetype="image/png"), key)

    server.add_url_rule("/samples/<run>.json", endpoint="fracdash_samples", view_func=samples)
    server.add_url_rule("/samples/<run>/thumbs.png", endpoint="fracdash_thumbs", view_func=thumbs)
