"""Pure numerical core of fracdash: numpy, scipy (BLAS) and numba (Prim's loop) only.

Nothing in this package imports tensorflow, keras, dash, plotly, diskcache or grandalf;
a test checks it, so that the method can be used (and tested) without the heavy stack.
The layer graph's drawing layout is the dashboard's: :mod:`fracdash.layout`.

The names below are imported from their modules on first use, so that importing one
light module (the command line's checks: nodes, metrics, coloring) loads neither scipy
nor numba (a second or more); ``from fracdash.core import vat_order`` works as before.
"""

from fracdash.core import jit_cache  # noqa: F401  (first: where numba may cache)

#: Each public name -> the module of this package holding it.
_HOMES = {
    **dict.fromkeys(("class_image", "class_quality", "code_image", "cohesion", "quality",
                     "relative_codes", "same_neighbours"), "coloring"),
    **dict.fromkeys(("compact_positions", "compact_shape", "gilbert_points"), "gilbert"),
    **dict.fromkeys(("IDENTITY_KINDS", "REORDER_KINDS", "remove_nodes", "shares_input_order",
                     "topological_order"), "graph"),
    **dict.fromkeys(("CURVES", "curve_order", "curve_positions", "grid_shape",
                     "hilbert_points", "positions_for"), "hilbert"),
    "vat_order": "vat",
}  # fmt: skip


def __getattr__(name):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'fracdash.core' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"fracdash.core.{home}"), name)
    globals()[name] = value  # looked up once
    return value


def __dir__():
    return sorted({*globals(), *_HOMES})


__all__ = sorted(_HOMES, key=lambda name: (not name.isupper(), name))
