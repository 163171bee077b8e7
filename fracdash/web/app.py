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
    cache_dir=None, default_run: str = "easy", samples: int | None = None, *, compute=None
):
    """The dashboard on the store at ``cache_dir``, with its own callbacks and state.

    Every call builds an independent app: its page, ``/healthz``, callbacks and
    background jobs read only its own :class:`~fracdash.web.context.AppContext`, so
    several apps in one process (on one store or on several) never mix.

    Parameters
    ----------
    cache_dir : path-like or Store, optional
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

    Returns
    -------
    dash.Dash
        Serve it with ``app.run()``, or ``app.server`` under a WSGI server;
        :func:`context_of` gives its context (store, callbacks).
    """
    # Imported here, not at module level: ``import fracdash.web`` stays free of Dash.
    from dash import Dash

    from fracdash.web.callbacks import register_all
    from fracdash.web.context import make_context
    from fracdash.web.skeleton import page

    context = make_context(cache_dir, default_run, samples, compute)
    app = Dash(
        __name__,
        title="fracdash",
        update_title=None,
        assets_folder=str(assets_folder()),
        assets_ignore=ASSETS_IGNORE,
        background_callback_manager=context.jobs,
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
    return app


def context_of(app):
    """The :class:`~fracdash.web.context.AppContext` of an app made by :func:`create_app`."""
    return app.server.extensions[EXTENSION]
