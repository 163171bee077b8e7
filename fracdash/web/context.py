"""One dashboard's own state: its store, default run, samples and background jobs.

:func:`fracdash.web.create_app` builds one :class:`AppContext` per app and hands it
to the page skeleton, to ``/healthz`` and to every callback module's ``register``;
callbacks are closures over it. Nothing here is process-wide, so two apps in one
process (two ``fracdash.show`` calls in a notebook) never read each other's store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dash import DiskcacheManager

from fracdash.store import Store


class AppJobs(DiskcacheManager):
    """Dash's disk-cache job runner for one app, running only that app's job functions.

    Dash keys a background function by its callback id (its outputs) and its source,
    and hands every such function to every manager in the process. Two dashboards'
    ``compute_run`` closures have the same outputs and the same source but read
    different stores: under the shared key the one registered last would run for
    both apps. So each app's manager takes only the functions marked with
    :meth:`own`, and keeps its own app's closure under that key.

    Parameters
    ----------
    cache : diskcache.Cache
        Where jobs leave progress and results; every server process of one store
        must share it (a poll may reach another gunicorn worker than the start).
    """

    def __init__(self, cache) -> None:
        # Set before Dash's __init__, which offers this manager every job function
        # registered so far in the process (other apps' ones, all refused).
        self._own: set[Callable] = set()
        super().__init__(cache)

    def own(self, fn: Callable) -> Callable:
        """Mark ``fn`` as this app's job function; use before ``app.callback``."""
        self._own.add(fn)
        return fn

    def register(self, key, fn, progress) -> None:
        """Keep ``fn`` under ``key`` only if it is one of this app's functions."""
        if fn in self._own:
            super().register(key, fn, progress)


@dataclass(frozen=True, eq=False)
class AppContext:
    """What one app's page, ``/healthz`` and callbacks read.

    Attributes
    ----------
    store : Store
        The fracdash store the app shows.
    default_run : str
        Run opened first (a scenario's run name when ``samples`` is set).
    samples : int or None
        Test samples per scenario run (None: all); runs are then named
        ``f"{scenario}-{samples}"``.
    compute : dict
        Extra keyword arguments of :func:`fracdash.runs.precompute_scenario`
        (``epochs``, ``train_samples``), for quick runs in tests.
    jobs : AppJobs or None
        The app's background-callback manager (None until the app is built).
    callbacks : dict of str to callable
        The app's server callbacks by name, the functions as written (not Dash's
        wrappers), filled by :func:`fracdash.web.callbacks.register_all`: tests and
        scripts call them directly.
    """

    store: Store
    default_run: str = "easy"
    samples: int | None = None
    compute: dict = field(default_factory=dict)
    jobs: AppJobs | None = None
    callbacks: dict[str, Callable] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        """The store's folder (a background job opens its own connection there)."""
        return self.store.directory


def make_context(
    store_or_cache_dir=None,
    default_run: str = "easy",
    samples: int | None = None,
    compute: dict | None = None,
) -> AppContext:
    """An :class:`AppContext` on a store, with its own job runner.

    Parameters
    ----------
    store_or_cache_dir : Store or path-like, optional
        An open store (the caller keeps and closes it), or its folder (opened here);
        ``$FRACDASH_STORE`` or ``~/.cache/fracdash`` by default.
    default_run, samples, compute
        As in :class:`AppContext`; a scenario name as ``default_run`` becomes its
        run name at ``samples``.

    Returns
    -------
    AppContext
    """
    import diskcache

    from fracdash.runs import run_name
    from fracdash.scenarios import SCENARIOS

    if isinstance(store_or_cache_dir, Store):
        store = store_or_cache_dir
    else:
        store = Store(store_or_cache_dir)
    if default_run in SCENARIOS:
        default_run = run_name(default_run, samples)
    # Dash's job runner for background callbacks; not fracdash's content-keyed store.
    jobs = AppJobs(diskcache.Cache(str(store.directory / "dash-jobs")))
    return AppContext(store, default_run, samples, dict(compute or {}), jobs)
