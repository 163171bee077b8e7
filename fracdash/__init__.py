"""fracdash: how every layer of a trained classifier sorts a whole labelled test set.

The public API (keep it stable): :func:`vat_order`, :func:`curve_positions`,
:func:`relative_codes`, :func:`quality`, :func:`analyze`, :class:`Analysis` and
:func:`show` (the dashboard on your model, inline in Jupyter or on a port).
Importing this package does not import tensorflow or dash; :func:`analyze` imports
what its model needs (keras, or onnx and onnxruntime for an ONNX model or a PyTorch
module).
"""

from fracdash.core import curve_positions, quality, relative_codes, vat_order
from fracdash.version import __version__

__all__ = [
    "Analysis",
    "analyze",
    "curve_positions",
    "quality",
    "relative_codes",
    "show",
    "vat_order",
    "__version__",
]


def __getattr__(name):
    # analyze/Analysis live in the pipeline, which imports a framework when it runs a model.
    if name in ("analyze", "Analysis"):
        from fracdash import pipeline

        return getattr(pipeline, name)
    if name == "show":
        from fracdash.notebook import show

        return show
    raise AttributeError(f"module 'fracdash' has no attribute {name!r}")
