"""``create_app()``: the Dash application on a fracdash store."""

from __future__ import annotations

from functools import partial
from pathlib import Path

#: Stylesheet and scripts (hover focus, clientside recoloring), at the repository root.
ASSETS = Path(__file__).resolve().parents[2] / "assets"


def create_app(
    cache_dir=None, default_run: str = "easy", samples: int | None = None, *, compute=None
):
    """The dashboard on the store at ``cache_dir``.

    Parameters
    ----------
    cache_dir : path-like, optional
        The fracdash store; ``$FRACDASH_CACHE`` or ``~/.cache/fracdash`` by default.
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
        Serve it with ``app.run()``, or ``app.server`` under a WSGI server.
    """
    import diskcache
    from dash import Dash, DiskcacheManager

    import fracdash.web.callbacks  # noqa: F401  (registers the callbacks)
    from fracdash.models.scenarios import SCENARIOS
    from fracdash.runs import run_name
    from fracdash.web.layout import page
    from fracdash.web.settings import configure, make_settings

    if default_run in SCENARIOS:
        default_run = run_name(default_run, samples)
    settings = make_settings(cache_dir, default_run, samples, compute)
    store = configure(settings)
    # Dash's job runner for background callbacks; not fracdash's content-keyed store.
    jobs = diskcache.Cache(str(settings.cache_dir / "dash-jobs"))
    app = Dash(
        __name__,
        title="fracdash",
        update_title=None,
        assets_folder=str(ASSETS),
        background_callback_manager=DiskcacheManager(jobs),
    )
    app.layout = partial(page, settings, store)
    return app
