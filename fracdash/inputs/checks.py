"""Labels, samples, scaling and the checks of x behind :func:`fracdash.inputs.data.check_data`.

:mod:`fracdash.inputs.data` re-exports the public names.
"""

from __future__ import annotations

import math

import numpy as np

from fracdash.errors import UserDataError
from fracdash.inputs.files import emit, listed, name_index

#: The seed of the stratified sample (fixed: the same data give the same run).
SAMPLE_SEED = 0
#: ITU-R BT.601 luma weights of R, G, B.
LUMA = (0.299, 0.587, 0.114)


def parse_scale(text) -> float:
    """The factor of ``--scale``: a positive finite number (``0.00392``, ``255``) or
    fraction (``1/255``).

    Parameters
    ----------
    text : str or float

    Returns
    -------
    float

    Raises
    ------
    UserDataError
        Anything else (``0``, ``-1``, ``inf``, ``1/0``, ``abc``).
    """
    number, slash, denominator = str(text).strip().partition("/")
    try:
        value = float(number) / float(denominator) if slash else float(number)
    except (ValueError, ZeroDivisionError, OverflowError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise UserDataError(
            f"--scale {str(text)!r} is not a positive number or fraction; "
            "give e.g. --scale 1/255 for a model trained on [0, 1]"
        )
    return value


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


def sample(x, y, samples: int | None, *, first: bool = False, seed: int = SAMPLE_SEED, warn=None):
    """Keep ``samples`` of the samples, warning which were kept.

    Parameters
    ----------
    x : array_like, shape (n, ...)
    y : array_like, shape (n,), (n, 1) or one-hot (n, k)
        Class indices or names; the strata.
    samples : int or None
        How many to keep (at least 2, at most n); None, or n, keeps all.
    first : bool
        Keep the first ``samples``. By default: a stratified sample, seeded, in which each
        class gets its proportional share (within 1), and each class present at least one
        sample when ``samples`` allows; the kept samples stay in the data's order.
    seed : int
    warn : callable(str), optional
        Receives the one line saying what was kept (default: stderr).

    Returns
    -------
    x, y : numpy.ndarray
        ``(samples, ...)`` each.
    """
    x, y = np.asarray(x), np.asarray(y)
    if samples is None:
        return x, y
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 2:
        raise UserDataError(f"samples={samples!r} is not a whole number >= 2; pass --samples N")
    if len(x) != len(y):
        raise UserDataError(f"y has shape {y.shape}, x {len(x)} samples; give one label per sample")
    notes: list[str] = []
    keep = sample_indices(y, samples, first, seed, notes)
    emit(notes, warn)
    return (x, y) if keep is None else (x[keep], y[keep])


def sample_indices(y: np.ndarray, samples, first: bool, seed: int, notes: list[str]):
    """Sorted indices of the kept samples (None: all), and the note saying which."""
    total = len(y)
    if samples is not None and samples > total:
        raise UserDataError(
            f"--samples {samples} asks for more samples than the data hold ({total}); pass "
            f"--samples {total} or fewer, or leave it out to use all"
        )
    if samples is None or total == samples:
        return None
    if first:
        notes.append(f"using the first {samples} of {total} samples (--first)")
        return np.arange(samples)
    notes.append(
        f"using a stratified sample of {samples} of {total} samples (seed {seed}); "
        f"pass --first for the first {samples}"
    )
    return stratified_indices(y, samples, seed)


def stratified_indices(y, samples: int, seed: int = SAMPLE_SEED) -> np.ndarray:
    """Indices of a seeded stratified sample of ``samples`` of ``len(y)`` samples.

    Parameters
    ----------
    y : array_like, shape (n,), (n, 1) or one-hot (n, k)
        The strata (class indices or names).
    samples : int
        ``1 <= samples <= n``.
    seed : int

    Returns
    -------
    numpy.ndarray of int64, shape (samples,)
        Sorted. Class c of n_c samples gets ``samples * n_c / n`` rounded by largest
        remainder (within 1 of it), raised to 1 for every class when ``samples`` is at
        least the number of classes.
    """
    y = np.asarray(y)
    key = y.reshape(len(y), -1)
    key = key[:, 0] if key.shape[1] == 1 else np.argmax(key, axis=1)
    classes, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.reshape(-1)
    counts = np.bincount(inverse, minlength=len(classes))
    quota = samples * counts / counts.sum()
    take = np.floor(quota).astype(np.int64)
    by_remainder = np.argsort(-(quota - take), kind="stable")
    take[by_remainder[: samples - take.sum()]] += 1
    if samples >= len(classes):
        for c in np.flatnonzero(take == 0):  # each from the class most over its share
            donor = np.argmax(np.where(take > 1, take - quota, -np.inf))
            take[donor] -= 1
            take[c] += 1
    rng = np.random.default_rng(seed)
    members = np.split(np.argsort(inverse, kind="stable"), np.cumsum(counts)[:-1])
    picked = [rng.choice(m, t, replace=False) for m, t in zip(members, take, strict=True) if t]
    return np.sort(np.concatenate(picked)).astype(np.int64)


def scaled(x: np.ndarray, scale, model_float: bool) -> np.ndarray:
    """x times ``scale`` (float32 unless x is a wider float); integers for a float model
    become float32 with their values unchanged (no implicit /255)."""
    if scale is not None:
        factor = parse_scale(scale)
        if np.issubdtype(x.dtype, np.floating) and x.dtype.itemsize > 4:
            return x * factor  # float64 stays float64
        return x.astype(np.float32) * np.float32(factor)
    if model_float and not np.issubdtype(x.dtype, np.floating):
        return x.astype(np.float32)
    return x


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


def _shape_matches(shape, expected) -> bool:
    return len(shape) == len(expected) and all(
        e is None or s == e for s, e in zip(shape, expected, strict=True)
    )


def fit_shape(x: np.ndarray, expected: tuple, source, notes: list[str]) -> np.ndarray:
    """x shaped as the model takes it, or :class:`UserDataError` saying how to get there."""
    shape = x.shape[1:]
    if _shape_matches(shape, expected):
        return x
    if len(shape) + 1 == len(expected) and expected[-1] == 1:
        if _shape_matches(shape + (1,), expected):
            return x[..., None]
    if x.ndim in (3, 4) and len(expected) in (2, 3) and np.issubdtype(x.dtype, np.number):
        rgb = x.ndim == 4 and x.shape[-1] == 3
        gray = x.ndim == 3 or x.shape[-1] == 1
        wants = expected[2] if len(expected) == 3 else 1
        if _shape_matches(x.shape[1:3], expected[:2]):
            if rgb and wants == 1:
                notes.append(
                    f"x holds RGB images, the model takes grayscale {_shown(expected)}: "
                    f"converted with ITU-R 601 luma ({LUMA[0]} R + {LUMA[1]} G + {LUMA[2]} B)"
                )
                luma = _luma(x)
                return luma[..., None] if len(expected) == 3 else luma
            if gray and wants == 3:
                notes.append(
                    f"x holds grayscale images, the model takes RGB {_shown(expected)}: "
                    "each gray value repeated into R, G and B"
                )
                plane = x if x.ndim == 3 else x[..., 0]
                return np.repeat(plane[..., None], 3, axis=-1)
    first = _channels_first(x, expected, notes)
    if first is not None:
        return first
    moved = _other_layout(x, expected, notes)
    if moved is not None:
        return moved
    raise UserDataError(
        f"x has samples of shape {shape}, the model takes {_shown(expected)}; "
        + _shape_fix(x, expected, source)
    )


def _channels_first(x: np.ndarray, expected: tuple, notes: list[str]) -> np.ndarray | None:
    """Images ``(n, h, w)`` or ``(n, h, w, c)`` for a model taking ``(c, h, w)`` (PyTorch's
    layout, kept by its ONNX export), as :func:`fit_shape` does for channels last; None
    if x is no such image set."""
    if len(expected) != 3 or expected[0] not in (1, 3) or x.ndim not in (3, 4):
        return None
    channels = 1 if x.ndim == 3 else x.shape[-1]
    if channels not in (1, 3) or not _shape_matches(x.shape[1:3], expected[1:]):
        return None
    if not np.issubdtype(x.dtype, np.number):
        return None
    hwc = x if x.ndim == 4 else x[..., None]
    if channels == 3 and expected[0] == 1:
        notes.append(
            f"x holds RGB images, the model takes grayscale {_shown(expected)}: "
            f"converted with ITU-R 601 luma ({LUMA[0]} R + {LUMA[1]} G + {LUMA[2]} B)"
        )
        hwc = _luma(hwc)[..., None]
    elif channels == 1 and expected[0] == 3:
        notes.append(
            f"x holds grayscale images, the model takes RGB {_shown(expected)}: "
            "each gray value repeated into R, G and B"
        )
        hwc = np.repeat(hwc, 3, axis=-1)
    elif channels == 3:
        notes.append(f"x holds images (h, w, 3), the model takes {_shown(expected)}: axes moved")
    return np.ascontiguousarray(np.moveaxis(hwc, -1, 1))


def _other_layout(x: np.ndarray, expected: tuple, notes: list[str]) -> np.ndarray | None:
    """x laid out as the model takes it when only the layout differs, and only one way
    fits: samples flattened for a flat input (row-major, as numpy's ``reshape`` and
    torch's ``flatten`` do), or channels-first images ``(c, h, w)`` moved to ``(h, w, c)``;
    None otherwise."""
    shape = x.shape[1:]
    if len(expected) == 1 and expected[0] is not None and len(shape) > 1:
        if int(np.prod(shape)) == expected[0]:
            notes.append(
                f"x holds samples of shape {shape}, the model takes a flat {_shown(expected)}: "
                "each sample flattened (row-major)"
            )
            return x.reshape(len(x), -1)
    if x.ndim == 4 and len(expected) == 3 and x.shape[1] in (1, 3):
        if _shape_matches((x.shape[2], x.shape[3], x.shape[1]), expected):
            notes.append(
                f"x holds images (c, h, w) = {shape}, the model takes (h, w, c) = "
                f"{_shown(expected)}: axes moved"
            )
            return np.ascontiguousarray(np.moveaxis(x, 1, -1))
    return None


def _shown(expected) -> tuple:
    return tuple("?" if d is None else d for d in expected)


def _shape_fix(x: np.ndarray, expected: tuple, source) -> str:
    """The fix of a shape mismatch in the user's terms (images to resize, or x)."""
    images = x.ndim in (3, 4) and len(expected) in (2, 3)
    if images and not _shape_matches(x.shape[1:3], expected[:2]):
        size = "x".join("?" if d is None else str(d) for d in expected[:2])
        resize = f"resize the images to {size} pixels (height x width)"
        return resize if source == "folder" else f"{resize}, or fix x"
    if source == "folder":
        return f"give images the model takes ({_shown(expected)}), or the data as an .npz"
    return "fix x"


def _luma(x: np.ndarray) -> np.ndarray:
    """RGB (n, h, w, 3) -> gray (n, h, w) in x's dtype (integers rounded and clipped)."""
    work = np.float64 if x.dtype.itemsize > 4 else np.float32
    gray = x.astype(work) @ np.asarray(LUMA, dtype=work)
    if np.issubdtype(x.dtype, np.integer):
        info = np.iinfo(x.dtype)
        return np.clip(np.rint(gray), info.min, info.max).astype(x.dtype)
    return gray.astype(x.dtype)


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


def check_distribution(predict, probe, logits: bool, notes: list[str] | None = None) -> str:
    """``predict`` (a model source's probe call) runs on ``probe`` and outputs finite
    scores of a kind fracdash takes; which kind is returned.

    Returns
    -------
    str
        ``"probabilities"`` (a softmax ending), ``"log-probabilities"`` (a LogSoftmax
        ending: the standard PyTorch MNIST one, its ``exp`` a distribution),
        ``"scores"`` (independent sigmoid scores in [0, 1]; a note says so) or
        ``"logits"`` (when ``logits``: raw scores). Predictions are the argmax of each,
        which neither softmax nor exp changes.

    Raises
    ------
    UserDataError
        The model fails on ``probe``, outputs NaN or inf, or outputs scores that are
        none of the above (logits) without ``logits``.
    """
    try:
        out = np.asarray(predict(probe), dtype=np.float64)
    except UserDataError:
        raise  # already says what to fix (an ONNX input dtype)
    except Exception as err:  # whatever the model's layers raise on this input
        text = " ".join(str(err).split())[:200]
        raise UserDataError(f"the model fails on x ({text}); give x as the model takes it") from err
    if not np.isfinite(out).all():
        raise UserDataError(
            "the model outputs NaN or inf on the first samples; check the model's weights "
            "and the input scaling (--scale)"
        )
    if logits:
        return "logits"
    sums_to_one = np.allclose(out.sum(axis=1), 1.0, atol=1e-3)
    if out.min() >= -1e-6 and out.max() <= 1 + 1e-6:
        if sums_to_one:
            return "probabilities"
        if notes is not None:
            notes.append(
                "the model ends in independent scores in [0, 1] (a sigmoid), not a "
                "distribution; predictions are their argmax"
            )
        return "scores"
    if out.max() <= 1e-6 and np.allclose(np.exp(out).sum(axis=1), 1.0, atol=1e-3):
        return "log-probabilities"
    raise UserDataError(
        "the model's output is not a class distribution (it looks like logits); pass "
        "--logits (Python: logits=True) to take raw scores, or end the model with a Softmax "
        "layer"
    )


#: How much better the best one-to-one relabelling must classify than the labels as
#: given before a run is refused as permuted (accuracy points), and its least accuracy.
PERMUTED_GAIN, PERMUTED_FLOOR = 0.25, 0.5


def check_label_order(y, predictions, class_names, keep_labels: bool = False) -> None:
    """Refuse labels that look permuted against the model's class order.

    The best one-to-one relabelling of the confusion matrix (the Hungarian assignment,
    :func:`scipy.optimize.linear_sum_assignment`) is found; when it classifies at least
    :data:`PERMUTED_FLOOR` of the samples right and beats the labels as given by
    :data:`PERMUTED_GAIN` or more, the labels are taken to be in another order than the
    model's (class folders numbered alphabetically, ``zero ... nine``), unless
    ``keep_labels``.

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
    if best < PERMUTED_FLOOR or best - stated < PERMUTED_GAIN:
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


def check_before_loading(summary, x, y, class_names=None, source=None, output=None) -> None:
    """The checks :func:`fracdash.inputs.data.check_data` makes that need only what a
    Keras file says of its model (:class:`fracdash.sources.keras_file.KerasFileSummary`):
    x's shape, the class names' and the labels' count. Run before TensorFlow's start-up,
    so that these errors answer at once; what the file does not say is checked later."""
    if summary.n_outputs > 1 and output is None:
        raise UserDataError(
            f"the model has {summary.n_outputs} outputs; pick the classifier's with --output "
            "NAME or INDEX (Python: output=)"
        )
    x, y = np.asarray(x), np.asarray(y)
    check_sample_count(x)
    if summary.input_shape is not None and x.ndim > 1:
        fit_shape(x, summary.input_shape, source or getattr(class_names, "source", None), [])
    k = summary.n_classes
    if k is not None and k < 2:
        raise UserDataError(
            f"the model outputs {k} value per sample, not (batch, k >= 2); end it with Dense(k) "
            "and Softmax"
        )
    if k is None or summary.n_outputs > 1:
        return
    names = check_names(class_names, k)
    if is_text(y):
        y = labels_from_names(y, names)
    check_labels(y, len(x), k)


def check_sample_count(x) -> int:
    """The number of samples in ``x``; :class:`UserDataError` unless it is at least 2."""
    x = np.asarray(x)
    n = len(x) if x.ndim else 0
    if n == 0:
        raise UserDataError("the data hold no samples; give at least 2 labelled samples")
    if n < 2:
        raise UserDataError(f"the data hold {n} sample; give at least 2 labelled samples")
    return n
