"""One dashboard's own state: its store, default run, samples and job registry.

:func:`fracdash.web.create_app` builds one :class:`AppContext` per app and hands it
to the page skeleton, to ``/healthz`` and to every callback module's ``register``;
callbacks are closures over it. Nothing here is process-wide, so two apps in one
process (two ``fracdash.show`` calls in a notebook) never read each other's store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fracdash.store import Store
from fracdash.web.jobs import JobRegistry


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
    jobs : JobRegistry or None
        The store's jobs as this server process sees and starts them: one job per
        run, whichever page or server process asks.
    callbacks : dict of str to callable
        The app's server callbacks by name, the functions as written (not Dash's
        wrappers), filled by :func:`fracdash.web.callbacks.register_all`: tests and
        scripts call them directly.
    """

    store: Store
    default_run: str = "easy"
    samples: int | None = None
    compute: dict = field(default_factory=dict)
    jobs: JobRegistry | None = None
    callbacks: dict[str, Callable] = field(default_factory=dict)


def make_context(
    store_or_cache_dir=None,
    default_run: str = "easy",
    samples: int | None = None,
    compute: dict | None = None,
) -> AppContext:
    """An :class:`AppContext` on a store, with its job registry (the records of jobs
    left by a server that was killed are swept here).

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
    from fracdash.runs import run_name
    from fracdash.scenarios import SCENARIOS

    if isinstance(store_or_cache_dir, Store):
        store = store_or_cache_dir
    else:
        store = Store(store_or_cache_dir)
    if default_run in SCENARIOS:
        default_run = run_name(default_run, samples)
    jobs = JobRegistry(store, samples, compute)
    jobs.sweep()
    return AppContext(store, default_run, samples, dict(compute or {}), jobs)
