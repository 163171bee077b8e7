"""Pure numerical core of fracdash: numpy, scipy (BLAS) and numba (Prim's loop) only.

Nothing in this package imports tensorflow, keras, dash, plotly, diskcache or grandalf;
a test checks it, so that the method can be used (and tested) without the heavy stack.
The layer graph's drawing layout is the dashboard's: :mod:`fracdash.layout`.
"""

from fracdash.core import jit_cache  # noqa: F401  (first: where numba may cache)
from fracdash.core.coloring import (
    class_image,
    class_quality,
    code_image,
    cohesion,
    quality,
    relative_codes,
    same_neighbours,
)
from fracdash.core.gilbert import compact_positions, compact_shape, gilbert_points
from fracdash.core.graph import (
    IDENTITY_KINDS,
    REORDER_KINDS,
    remove_nodes,
    shares_input_order,
    topological_order,
)
from fracdash.core.hilbert import (
    CURVES,
    curve_order,
    curve_positions,
    grid_shape,
    hilbert_points,
    positions_for,
)
from fracdash.core.vat import vat_order

__all__ = [
    "CURVES",
    "IDENTITY_KINDS",
    "REORDER_KINDS",
    "class_image",
    "class_quality",
    "code_image",
    "cohesion",
    "compact_positions",
    "compact_shape",
    "curve_order",
    "curve_positions",
    "gilbert_points",
    "grid_shape",
    "hilbert_points",
    "positions_for",
    "quality",
    "relative_codes",
    "same_neighbours",
    "shares_input_order",
    "remove_nodes",
    "topological_order",
    "vat_order",
]
