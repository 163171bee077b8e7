"""fracdash: how every layer of a trained classifier sorts a whole labelled test set.

The public API (keep it stable): :func:`vat_order`, :func:`curve_positions`,
:func:`relative_codes`, :func:`quality`, :func:`analyze` (your model on your data, with
the checks of ``fracdash analyze``; ``name=`` stores it as a run the dashboard lists),
:class:`Analysis` and :func:`show` (the dashboard on your model, inline in Jupyter or on
a port). Importing this package does not import tensorflow or dash; :func:`analyze`
imports what its model needs (keras, or onnx and onnxruntime for an ONNX model or a
PyTorch module).
"""

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
    # Analysis lives in the pipeline, analyze and show in the Python entry points; each
    # imports a framework only when it runs a model.
    if name == "Analysis":
        from fracdash.pipeline import Analysis

        return Analysis
    if name in ("analyze", "show"):
        from fracdash import notebook

        return getattr(notebook, name)
    if name in ("curve_positions", "quality", "relative_codes", "vat_order"):
        # From fracdash.core on first use: importing any fracdash module (the command
        # line's checks) loads neither scipy nor numba.
        from fracdash import core

        return getattr(core, name)
    raise AttributeError(f"module 'fracdash' has no attribute {name!r}")
