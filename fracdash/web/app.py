"""``create_app()``: the Dash application on a fracdash store."""

from __future__ import annotations

from functools import partial

from fracdash.assets import assets_folder

#: Key of an app's context in ``app.server.extensions``.
EXTENSION = "fracdash"
#: What Dash must not load into the page from the assets folder: the standalone export's
#: script (inlined into exported files, not the page) and the vendored plotly bundle
#: (loaded lazily by the first chart: assets/plotly-source.js). Dash matches it against
#: file names (not paths), in every subfolder.
ASSETS_IGNORE = r"^plotly-cartesian.*\.js$|^standalone.*\.js$"


def health(store) -> tuple[dict, int]:
    """Body and status of ``/healthz``: 200 when ``store`` answers, else 503 and why."""
    from fracdash.runs import catalog
    from fracdash.version import __version__

    try:
        if not store.directory.is_dir():
            raise FileNotFoundError("the store's folder is gone")
        runs = len(catalog(store))
    except Exception as err:  # any failure means: not healthy
        reason = f"store unavailable: {type(err).__name__}: {err}"
        return {"status": "error", "reason": reason, "version": __version__}, 503
    return {"status": "ok", "runs": runs, "version": __version__}, 200


def create_app(
    store=None, default_run: str = "easy", samples: int | None = None, *, compute=None,
    cache_dir=None,
):  # fmt: skip
    """The dashboard on ``store``, with its own callbacks and state.

    Every call builds an independent app: its page, ``/healthz`` and callbacks read
    only its own :class:`~fracdash.web.context.AppContext`, so
    several apps in one process (on one store or on several) never mix.

    Parameters
    ----------
    store : path-like or Store, optional
        The fracdash store, as its folder (opened here) or an open
        :class:`~fracdash.store.Store` (the caller closes it);
        ``$FRACDASH_STORE`` or ``~/.cache/fracdash`` by default.
    default_run : str
        Scenario (or stored run) opened first; computed in the background if missing.
    samples : int, optional
        Test samples per scenario (all by default); runs are named ``f"{scenario}-{samples}"``.
    compute : dict, optional
        Extra arguments of :func:`fracdash.runs.precompute_scenario` for runs computed
        from the page (``epochs``, ``train_samples``), e.g. for quick tests.
    cache_dir : path-like or Store, optional
        Deprecated: the older name of ``store`` (a DeprecationWarning).

    Returns
    -------
    dash.Dash
        Serve it with ``app.run()``, or ``app.server`` under a WSGI server;
        :func:`context_of` gives its context (store, callbacks).
    """
    # Imported here, not at module level: ``import fracdash.web`` stays free of Dash.
    from dash import Dash

    from fracdash.store import store_argument
    from fracdash.web.callbacks import register_all
    from fracdash.web.context import make_context
    from fracdash.web.skeleton import page

    store = store_argument(store, cache_dir, "cache_dir")
    context = make_context(store, default_run, samples, compute)
    app = Dash(
        __name__,
        title="fracdash",
        update_title=None,
        assets_folder=str(assets_folder()),
        assets_ignore=ASSETS_IGNORE,
        # gzip/brotli for every response (flask-compress): the page weighs a third.
        compress=True,
    )
    app.layout = partial(page, context)
    register_all(app, context)
    # Flask's documented place for an extension's per-app state.
    app.server.extensions[EXTENSION] = context

    @app.server.route("/healthz")
    def healthz():  # for load balancers and the Dockerfile's HEALTHCHECK
        body, status = health(context.store)
        return body, status, {"Cache-Control": "no-store"}

    from fracdash.web.export_routes import register_routes

    register_routes(app.server, context)  # GET /export/<run>.png and /export/<run>.html
    from fracdash.web.sample_routes import register_sample_routes

    register_sample_routes(app.server, context)  # GET /samples/<run>.json, thumbs.png
    from fracdash.web.compare_routes import register_compare_routes

    register_compare_routes(app.server, context)  # GET /compare/<A>/<B>.json
    return app


def serve(app, host: str = "127.0.0.1", port: int = 8050, debug: bool = False) -> None:
    """Serve ``app`` (made by :func:`create_app`) here until SIGTERM or SIGINT, which
    first stop the jobs this server started (:func:`fracdash.web.jobs.stop_all`)."""
    from fracdash.serving import stop_on_signals
    from fracdash.web.jobs import stop_all

    stop_on_signals(stop_all)
    app.run(host=host, port=port, debug=debug)


def context_of(app):
    """The :class:`~fracdash.web.context.AppContext` of an app made by :func:`create_app`."""
    return app.server.extensions[EXTENSION]
