"""Dash callbacks, one module per panel, declared with ``dash.callback`` on import.

Each callback is thin: parse inputs, call a builder of :mod:`fracdash.web`, return.

``dash.callback`` puts callbacks in a process-wide registry that Dash hands, whole, to
the first app that serves a request: a second app in the same process (a second
``fracdash.show`` in one notebook) would get none. So the ones declared here are taken
out of that registry once, on import, and :func:`attach` gives them to every app.
"""

from dash import _callback as _dash_registry

_before = set(_dash_registry.GLOBAL_CALLBACK_MAP)

from fracdash.web.callbacks import charts, dag, legend, run, zoom  # noqa: E402

#: This package's callbacks, as Dash's registry held them: id -> entry, and the specs.
CALLBACK_MAP = {
    key: _dash_registry.GLOBAL_CALLBACK_MAP.pop(key)
    for key in list(_dash_registry.GLOBAL_CALLBACK_MAP)
    if key not in _before
}
CALLBACK_LIST = [
    spec for spec in _dash_registry.GLOBAL_CALLBACK_LIST if spec["output"] in CALLBACK_MAP
]
_dash_registry.GLOBAL_CALLBACK_LIST[:] = [
    spec for spec in _dash_registry.GLOBAL_CALLBACK_LIST if spec["output"] not in CALLBACK_MAP
]


def attach(app) -> None:
    """Give ``app`` the dashboard's callbacks (each app its own copies of the entries)."""
    app.callback_map.update({key: dict(entry) for key, entry in CALLBACK_MAP.items()})
    app._callback_list.extend(dict(spec) for spec in CALLBACK_LIST)


__all__ = ["CALLBACK_LIST", "CALLBACK_MAP", "attach", "charts", "dag", "legend", "run", "zoom"]
