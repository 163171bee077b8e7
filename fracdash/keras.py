"""fracdash during Keras training: ``model.fit(..., callbacks=[fracdash.keras.Checkpoints(x,
y)])`` records the model as a series of runs ``NAME@EPOCH`` (:mod:`fracdash.series`).

Importing this module imports neither keras nor tensorflow; the callback itself lives in
:mod:`fracdash.models.checkpoints`, the one package that imports Keras.
"""

from __future__ import annotations

import sys


def Checkpoints(  # named as Keras names its callbacks
    x, y, every: int = 1, *, name: str = "run", class_names=None, store=None,
    start: int | None = None, metric: str = "euclidean", keep_labels: bool = False,
):  # fmt: skip
    """A Keras callback that analyzes the model on ``(x, y)`` every ``every`` epochs, as
    run ``name@EPOCH`` (replaced if stored) of series ``name``.

    Parameters
    ----------
    x : ndarray, shape (n, ...)
        Test inputs, as the model takes them.
    y : array_like of int, shape (n,)
        Their classes.
    every : int
        Record every this many epochs.
    name : str
        The series' name.
    class_names : list of str, optional
    store : path-like or Store, optional
        The fracdash store (the default one when None).
    start : int, optional
        Begin every layer's order at this sample ("fixed start (not exact VAT)"): steadier
        layouts from epoch to epoch (:mod:`fracdash.series`).
    metric : str
    keep_labels : bool
        Keep labels that look permuted against the model's classes (an early epoch's
        model may well look so).

    Returns
    -------
    keras.callbacks.Callback
        Its ``steps`` lists the epochs recorded.
    """
    from fracdash.models.checkpoints import Checkpoints as Callback
    from fracdash.series import record_checkpoint

    seen: set[str] = set()

    def warn_once(note: str) -> None:  # the same data each epoch: each note once
        if note not in seen:
            seen.add(note)
            print(f"fracdash: warning: {note}", file=sys.stderr, flush=True)

    def record(model, step: int) -> None:
        record_checkpoint(
            model, x, y, step, name=name, store=store, class_names=class_names, start=start,
            metric=metric, keep_labels=keep_labels, warn=warn_once,
        )  # fmt: skip

    return Callback(record, every)
