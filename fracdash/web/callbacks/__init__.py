"""Dash callbacks, one module per panel, registered with ``dash.callback`` on import.

Each callback is thin: parse inputs, call a builder of :mod:`fracdash.web`, return.
"""

from fracdash.web.callbacks import charts, dag, legend, run, zoom

__all__ = ["charts", "dag", "legend", "run", "zoom"]
