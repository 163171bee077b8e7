"""Labels as the model's class indices: names mapped, counts checked, and labels that
look permuted against the model's classes refused."""

from __future__ import annotations

import numpy as np

from fracdash.errors import UserDataError
from fracdash.inputs.files import listed, name_index


def is_text(y) -> bool:
    """Whether ``y`` holds strings (labels that are class names)."""
    return np.asarray(y).dtype.kind in "US"


def labels_from_names(y, class_names) -> np.ndarray:
    """String labels as class indices: each must be one of ``class_names``.

    Parameters
    ----------
    y : array_like of str, shape (n,) or (n, 1)
    class_names : list of str or None

    Returns
    -------
    numpy.ndarray of int64, shape (n,)

    Raises
    ------
    UserDataError
        No class names, or labels that are not among them (at most 3 named).
    """
    y = np.asarray(y)
    if y.dtype.kind == "S":
        y = np.char.decode(y, "utf-8", errors="replace")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if class_names is None:
        raise UserDataError(
            f"y holds labels of dtype {y.dtype} ({listed(np.unique(y), 3)}) and no class names "
            "are given; pass --class-names (the model's class names in index order), or "
            "give y as class indices"
        )
    index = name_index([str(c) for c in class_names])
    found, inverse = np.unique(y, return_inverse=True)
    unknown = [str(s) for s in found if str(s) not in index]
    if unknown:
        raise UserDataError(
            f"y holds {len(unknown)} labels that are not class names ({listed(unknown, 3)}); "
            f"give labels among the {len(index)} class names ({listed(index, 10)}), "
            "or class indices"
        )
    return np.array([index[str(s)] for s in found], dtype=np.int64)[inverse.reshape(y.shape)]


def check_names(class_names, k: int) -> list[str] | None:
    """``class_names`` as a plain list of k names (None stays None)."""
    if class_names is None:
        return None
    names = [str(c) for c in class_names]
    if len(names) == k:
        return names
    # Names the data brought (not the user's): the advice differs.
    given = getattr(class_names, "given", True)
    origin = None if given else getattr(class_names, "source", None)
    if origin == "folder":
        raise UserDataError(
            f"the folders name {len(names)} classes but the model has {k}; pass --class-names "
            f"with the model's {k} class names in index order (one a line)"
        )
    if origin is not None:
        raise UserDataError(
            f"the data's class_names hold {len(names)} names, the model has {k} classes; "
            f"store {k}, or pass --class-names with {k}"
        )
    raise UserDataError(f"{len(names)} class names given, the model has {k} classes; give {k}")


def check_labels(y, n: int, k: int) -> np.ndarray:
    """y as int64 class indices ``(n,)`` in ``0..k-1`` (one-hot and (n, 1) accepted)."""
    if y.ndim == 2 and y.shape == (n, k) and np.isin(y, (0, 1)).all() and (y.sum(1) == 1).all():
        y = np.argmax(y, axis=1)  # one-hot rows
    elif y.ndim == 2 and y.shape[1:] == (1,):
        y = y[:, 0]
    if y.ndim != 1 or len(y) != n:
        raise UserDataError(f"y has shape {y.shape}, x {n} samples; give one label per sample")
    if y.dtype == bool or not np.issubdtype(y.dtype, np.number):
        raise UserDataError(f"y has dtype {y.dtype}; give integer class indices 0..{k - 1}")
    if np.issubdtype(y.dtype, np.floating) and (y != np.round(y)).any():
        bad = y[y != np.round(y)][0]
        raise UserDataError(f"y holds non-integer labels ({bad:g}); give class indices 0..{k - 1}")
    if y.min() < 0:
        raise UserDataError(f"y holds negative labels ({y.min():g}); give class indices 0..{k - 1}")
    if y.max() >= k:
        raise UserDataError(f"y holds label {y.max():g}, the model has {k} classes; use 0..{k - 1}")
    return y.astype(np.int64)


#: How much better the best one-to-one relabelling must classify than the labels as
#: given before a run is refused as permuted (accuracy points), and its least accuracy.
PERMUTED_GAIN, PERMUTED_FLOOR = 0.25, 0.5


def check_label_order(y, predictions, class_names, keep_labels: bool = False) -> None:
    """Refuse labels that look permuted against the model's class order.

    The best one-to-one relabelling of the confusion matrix (the Hungarian assignment,
    :func:`scipy.optimize.linear_sum_assignment`) is found; when it classifies at least
    :data:`PERMUTED_FLOOR` of the samples right and beats the labels as given by
    :data:`PERMUTED_GAIN` or more (and by ``3 / sqrt(n)``: chance on few samples), the
    labels are taken to be in another order than the model's (class folders numbered
    alphabetically, ``zero ... nine``), unless ``keep_labels``.

    Raises
    ------
    UserDataError
        With the mapping found and the fix (``--class-names`` in the model's order, or
        ``--keep-labels``).
    """
    if keep_labels:
        return
    from scipy.optimize import linear_sum_assignment

    y, predictions = np.asarray(y, np.int64), np.asarray(predictions, np.int64)
    k = int(max(y.max(initial=0), predictions.max(initial=0))) + 1
    confusion = np.zeros((k, k), np.int64)
    np.add.at(confusion, (y, predictions), 1)
    rows, cols = linear_sum_assignment(confusion, maximize=True)
    n = max(len(y), 1)
    stated, best = np.trace(confusion) / n, confusion[rows, cols].sum() / n
    # On few samples a relabelling gains by chance: the gain must also pass 3 / sqrt(n).
    if best < PERMUTED_FLOOR or best - stated < max(PERMUTED_GAIN, 3 / np.sqrt(n)):
        return
    names = list(class_names) if class_names else [str(i) for i in range(k)]
    name = lambda i: names[i] if i < len(names) else str(i)  # noqa: E731
    moved = [(r, c) for r, c in zip(rows, cols, strict=True) if r != c]
    shown = listed([f"{name(r)} -> model class {c}" for r, c in moved], 6, quote=False)
    raise UserDataError(
        f"the labels look permuted: the model scores {stated:.1%} with them as given but "
        f"{best:.1%} if {shown}; pass --class-names with the names in the model's class "
        "order (Python: class_names=), or --keep-labels (keep_labels=True) if the labels "
        "are right"
    )
