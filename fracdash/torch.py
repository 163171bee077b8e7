"""fracdash during PyTorch training: ``fracdash.torch.record(model, x, y, epoch)`` in the
training loop records the model as a series of runs ``NAME@EPOCH`` (:mod:`fracdash.series`).

Importing this module imports no torch (the module is exported to ONNX when recorded:
:mod:`fracdash.sources.torch_source`).
"""

from __future__ import annotations


def record(
    model, x, y, epoch: int, *, name: str = "run", store=None, class_names=None,
    start: int | None = None, metric: str = "euclidean", keep_labels: bool = False,
):  # fmt: skip
    """Analyze ``model`` on ``(x, y)`` as run ``name@epoch`` (replaced if stored) of
    series ``name``.

    Parameters
    ----------
    model : torch.nn.Module
        The classifier being trained (left in its mode and on its device).
    x : tensor or ndarray, shape (n, ...)
        Test inputs, as the model takes them.
    y : tensor or array_like of int, shape (n,)
        Their classes.
    epoch : int
        The step of the series.
    name, class_names, store, start, metric, keep_labels
        As :func:`fracdash.keras.Checkpoints` takes them.

    Returns
    -------
    fracdash.analysis.Analysis
    """
    from fracdash.series import record_checkpoint
    from fracdash.sources.torch_record import recordable

    module, x, y = recordable(model, x, y)
    return record_checkpoint(module, x, y, epoch, name=name, store=store,
                             class_names=class_names, start=start, metric=metric,
                             keep_labels=keep_labels)  # fmt: skip
