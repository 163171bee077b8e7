"""The dashboard's settings and the one store built from them.

:func:`fracdash.web.create_app` calls :func:`configure`; callbacks read
:func:`current`. Background jobs run in forked processes and inherit it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fracdash.cache import Store, default_cache_dir


@dataclass(frozen=True)
class Settings:
    """Where the store lives and which runs the dashboard offers.

    Attributes
    ----------
    cache_dir : Path
        The fracdash store (``--cache-dir``, ``$FRACDASH_CACHE`` or the default).
    default_run : str
        Scenario opened first.
    samples : int or None
        Test samples per scenario run (None: all); runs are then named
        ``f"{scenario}-{samples}"``.
    compute : dict
        Extra keyword arguments of :func:`fracdash.runs.precompute_scenario`
        (``epochs``, ``train_samples``), for quick runs in tests.
    """

    cache_dir: Path
    default_run: str = "easy"
    samples: int | None = None
    compute: dict = field(default_factory=dict, hash=False)


_STATE: dict[str, object] = {}


def configure(settings: Settings) -> Store:
    """Install ``settings`` and open their store."""
    store = Store(settings.cache_dir)
    _STATE.update(settings=settings, store=store)
    return store


def current() -> tuple[Settings, Store]:
    """The installed settings and store."""
    if "settings" not in _STATE:
        raise RuntimeError("the dashboard is not configured: call fracdash.web.create_app()")
    return _STATE["settings"], _STATE["store"]


def make_settings(cache_dir=None, default_run="easy", samples=None, compute=None) -> Settings:
    path = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    return Settings(path, default_run, samples, dict(compute or {}))
