"""Pure numerical core of fracdash: numpy, scipy (BLAS) and numba (Prim's loop) only.

Nothing in this package imports tensorflow, keras, dash, plotly, diskcache or grandalf;
a test checks it, so that the method can be used (and tested) without the heavy stack.
The layer graph's drawing layout is the dashboard's: :mod:`fracdash.web.dag_layout`.
"""

from fracdash.core.coloring import (
    class_image,
    code_image,
    quality,
    relative_codes,
)
from fracdash.core.graph import (
    IDENTITY_KINDS,
    REORDER_KINDS,
    remove_nodes,
    shares_input_order,
    topological_order,
)
from fracdash.core.hilbert import curve_order, curve_positions, hilbert_points
from fracdash.core.vat import vat_order

__all__ = [
    "IDENTITY_KINDS",
    "REORDER_KINDS",
    "class_image",
    "code_image",
    "curve_order",
    "curve_positions",
    "hilbert_points",
    "quality",
    "relative_codes",
    "shares_input_order",
    "remove_nodes",
    "topological_order",
    "vat_order",
]
