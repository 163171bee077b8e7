"""Values the page sends back, checked before use: a client may post anything.

A run name is only ever a key of the store's catalog (or of the built-in scenarios),
never a path: nothing is opened from it. Callbacks pass what they receive through
:func:`run_or_none` and :func:`coloring_or_default` first.
"""

from __future__ import annotations

from fracdash.runs import MAX_RUN_NAME

COLORINGS = ("absolute", "relative")


def run_or_none(value) -> str | None:
    """``value`` if it can be a run name (a non-empty string, not too long), else None."""
    if isinstance(value, str) and 0 < len(value) <= MAX_RUN_NAME:
        return value
    return None


def coloring_or_default(value) -> str:
    """``value`` if it is a known coloring, else ``"absolute"``."""
    return value if value in COLORINGS else "absolute"


def curve_or_default(value) -> str:
    """``value`` if it is a known curve ("compact", "paper"), else the default."""
    from fracdash.analysis import DEFAULT_CURVE
    from fracdash.core import CURVES

    return value if value in CURVES else DEFAULT_CURVE


def unknown_run(value) -> str:
    """The message shown for a run that is neither stored nor a built-in scenario."""
    shown = repr(value) if isinstance(value, str) else type(value).__name__
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"unknown run {shown}: choose one of the runs listed"
