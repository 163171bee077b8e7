"""Dash callbacks, one module per panel, each registered on one app by ``register``.

``register(app, context)`` in every module declares that panel's callbacks with
``app.callback`` as closures over the app's
:class:`~fracdash.web.context.AppContext`, and returns its server callbacks by name.
Nothing goes through ``dash.callback``'s process-wide registry, which Dash hands to the
first app served only: each app built by :func:`fracdash.web.create_app` gets its own
callbacks, reading its own store.

Each callback is thin: parse inputs, call a builder of :mod:`fracdash.web`, return.
"""

from __future__ import annotations

from fracdash.web.callbacks import charts, compare, dag, legend, run, share, title, zoom

#: The panels' modules, in the order their callbacks are registered.
PANELS = (run, dag, charts, legend, zoom, share, title, compare)


def register_all(app, context) -> dict:
    """Register every panel's callbacks on ``app`` and record them in ``context``.

    Parameters
    ----------
    app : dash.Dash
    context : AppContext
        The app's state; its ``callbacks`` gets each server callback by name.

    Returns
    -------
    dict of str to callable
        ``context.callbacks``.
    """
    for panel in PANELS:
        context.callbacks.update(panel.register(app, context))
    return context.callbacks


__all__ = ["PANELS", "charts", "compare", "dag", "legend", "register_all", "run", "share",
           "title", "zoom"]  # fmt: skip
