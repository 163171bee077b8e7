"""Samples and the model's answers: the stratified sample, the output's kind, and the
checks that need only what a model file says (before TensorFlow loads).
"""

from __future__ import annotations

import numpy as np

from fracdash.errors import UserDataError
from fracdash.inputs.files import emit
from fracdash.inputs.labels import check_labels, check_names, is_text, labels_from_names
from fracdash.inputs.shapes import fit_shape

#: The seed of the stratified sample (fixed: the same data give the same run).
SAMPLE_SEED = 0


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
