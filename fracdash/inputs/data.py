"""A user's own model (Keras, ONNX) and labelled test set, loaded safely and checked.

Every problem raises :class:`UserDataError` with a one-line message of the form
``"<problem>; <what to do>"``, which the command line prints as is. Nothing here
writes to the fracdash store, and nothing is ever unpickled.

Rules that decide what the model sees:

* **x is passed as it is.** uint8 (or other integer) x for a float model is cast to
  float32 with its values unchanged: 0..255 stays 0..255, which is what a model with its
  own ``Rescaling(1/255)`` layer expects. A model trained on [0, 1] needs ``scale=1/255``
  (``--scale 1/255``), which multiplies x; nothing is rescaled unless asked.
* **Class indices are the model's.** An image folder's subfolders are matched to the
  given class names (``--class-names``, in the model's index order); without names they
  are numbered in sorted order, with a warning. String labels are mapped through the
  class names. Classes absent from the data are fine (a warning names them).
* **Samples** (``samples=N``): a seeded stratified sample (seed 0) that keeps the data's
  order; ``first=True`` takes the first N.
* **Channels**: RGB x for a grayscale model is converted (ITU-R 601 luma), grayscale x for
  an RGB model is repeated into three channels; both with a warning.
* **Output**: a class distribution on the first samples, or, with ``logits=True``, any
  finite scores (predictions are their argmax, as softmax is monotone).

Warnings go to ``warn`` (stderr by default), only once the whole step has succeeded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from fracdash.errors import UserDataError
from fracdash.inputs import files as userfiles
from fracdash.inputs.checks import (
    SAMPLE_SEED,
    check_distribution,
    sample,
    sample_indices,
    stratified_indices,
)
from fracdash.inputs.files import SAVEZ, ClassNames, emit, listed, name_index
from fracdash.inputs.labels import check_labels, check_names, is_text, labels_from_names
from fracdash.inputs.preprocessing import parse_scale, scaled
from fracdash.inputs.shapes import LUMA, fit_shape
from fracdash.sources.files import MODEL_SUFFIXES, check_model_file, load_model

__all__ = [
    "DISTINCT_COLORS", "LUMA", "MAX_SAMPLES", "SAMPLE_SEED", "ClassNames", "UserDataError",
    "check_data", "check_model_file", "labels_from_names", "load_class_names", "load_data",
    "MODEL_SUFFIXES", "load_model", "parse_scale", "sample", "stratified_indices",
]  # fmt: skip

#: The most samples one analysis takes: a sanity bound (a glyph holds one pixel per
#: sample), not a memory limit. Memory does not bound n, as a distance matrix past the
#: matrix budget goes to scratch disk; that disk does: 4·n² bytes for a layer wider
#: than 16 features (4 TB at this bound), checked against its free space before the
#: forward pass (:func:`fracdash.pipeline.check_scratch_space`).
MAX_SAMPLES = 1_000_000
#: Classes the absolute coloring tells apart; beyond it, colors repeat.
DISTINCT_COLORS = 20
SPLITS = ("test", "train")


def load_class_names(path) -> list[str]:
    """Class names from a text file, one a line in the model's index order.

    Parameters
    ----------
    path : path-like
        UTF-8 text; blank lines are ignored, names are stripped.

    Returns
    -------
    list of str
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UserDataError(f"cannot read {path} ({err}); give UTF-8 text, a name a line") from err
    return [line.strip() for line in text.splitlines() if line.strip()]


def load_data(
    path,
    samples: int | None = None,
    warn: Callable[[str], None] | None = None,
    *,
    class_names=None,
    first: bool = False,
    split: str = "test",
    seed: int = SAMPLE_SEED,
):
    """Load a labelled test set.

    Parameters
    ----------
    path : path-like
        An ``.npz`` with arrays ``x``, ``y`` (optionally ``class_names``); an IDX
        ``*images*`` file beside its labels file (``t10k-images-idx3-ubyte.gz`` pairs with
        ``t10k-labels-idx1-ubyte.gz``); a folder of one IDX pair, or of the four official
        files (``split`` says which); or a folder of images with one subfolder per class.
    samples : int, optional
        Keep this many samples (see :func:`sample`); image files are drawn before they
        are decoded.
    warn : callable(str), optional
        Receives each warning (default: a line on stderr), only if the load succeeds.
    class_names : list of str, optional
        The model's class names in index order (``--class-names``). Subfolders of an image
        folder must be among them and get their index; string labels are mapped to their
        index. Without them, subfolders are numbered in sorted order (warned).
    first : bool
        With ``samples``: take the first samples instead of a stratified sample.
    split : {"test", "train"}
        The split of a folder holding the four official IDX files (warned which).
    seed : int
        Seed of the stratified sample.

    Returns
    -------
    x : numpy.ndarray, shape (n, ...)
        As stored; images are uint8 ``(n, h, w)`` (grayscale) or ``(n, h, w, 3)``.
    y : numpy.ndarray, shape (n,) or as stored
        Class indices where names were mapped; otherwise as stored (checked by
        :func:`check_data`).
    class_names : ClassNames or None
        ``class_names`` if given, else the data's own (subfolders, the ``.npz``'s).

    Raises
    ------
    UserDataError
        A path that is missing or of no known kind, a malformed file, subfolders or
        string labels that are not class names, a ``split`` the data lack.
    """
    path = Path(path)
    notes: list[str] = []
    if split not in SPLITS:
        raise UserDataError(f"split {split!r} is unknown; pass --split test or --split train")
    if class_names is not None:
        class_names = [str(c) for c in class_names]
        name_index(class_names)
    if not path.exists():
        raise UserDataError(f"data {path} does not exist; give an .npz, IDX or image folder")
    stored, source = None, "idx"
    if path.is_dir():
        pair = userfiles.idx_pair_in_folder(path, split, notes)
        if pair is None:
            userfiles.check_split(split, path, None)
            files, names = userfiles.image_folder_files(path, class_names, notes)
            labels = np.array([k for k, _ in files], dtype=np.int64)
            keep = sample_indices(labels, samples, first, seed, notes)
            if keep is not None:  # before decoding: 300 of 60,000 images read, not all
                files, labels = [files[i] for i in keep], labels[keep]
            x = userfiles.read_images(files)
            emit(notes, warn)
            return x, labels, names
        x, y = userfiles.read_idx(pair[0]), userfiles.read_idx(pair[1])
    elif path.suffix.lower() == ".npz":
        userfiles.check_split(split, path, None)
        x, y, stored = userfiles.read_npz(path)
        source = "npz"
    elif "images" in path.name:
        userfiles.check_split(split, path, userfiles.split_of(path.name))
        x, y = userfiles.read_idx(path), userfiles.read_idx(userfiles.labels_beside(path))
    else:
        raise UserDataError(f"data {path} is not an .npz, IDX *images* file or folder; {SAVEZ}")
    if class_names is not None and stored is not None and stored != class_names:
        notes.append(f"--class-names differ from the class_names in {path.name}; using them")
    names = None
    if class_names is not None or stored is not None:
        given = class_names is not None
        names = ClassNames(class_names if given else stored, source=source, given=given)
    if is_text(y):
        y = labels_from_names(y, names)
    x, y = sample(x, y, samples, first=first, seed=seed, warn=notes.append)
    emit(notes, warn)
    return x, y, names


def check_data(
    model,
    x,
    y,
    class_names=None,
    warn: Callable[[str], None] | None = None,
    *,
    scale: float | str | None = None,
    logits: bool = False,
    source: str | None = None,
):
    """Check ``(x, y, class_names)`` against ``model``; return them ready to analyze.

    Parameters
    ----------
    model : keras.Model, ModelSource, onnx.ModelProto or torch.nn.Module
        One input, one ``(batch, k)`` output (:func:`fracdash.sources.as_source`).
    x : array_like, shape (n, ...)
        As the model takes it: a missing trailing channel axis of 1 is added, RGB becomes
        grayscale (ITU-R 601 luma) or grayscale RGB to fit the model's channels (warned).
        Values are passed as they are (integers cast to float32 for a float model),
        times ``scale`` if given.
    y : array_like, shape (n,), (n, 1) or one-hot (n, k)
        Class indices in ``0..k-1`` (integral floats accepted) or class names. Classes
        absent from y are fine (warned).
    class_names : list of str, optional
        k names. When they are an image folder's own subfolder names
        (:class:`ClassNames` with ``given=False``), a count other than k is refused with
        advice to pass ``--class-names``.
    warn : callable(str), optional
        Receives each warning (default: stderr), only if every check passes.
    scale : float or str, optional
        Multiply x by this (``1/255`` for a model trained on [0, 1]); see :func:`parse_scale`.
    logits : bool
        The model outputs any finite scores (logits) rather than a distribution.
    source : {"folder", "npz", "idx"}, optional
        Where x came from, for the advice on a shape mismatch (default: from
        ``class_names.source`` when known).

    Returns
    -------
    x : numpy.ndarray, shape (n, *input_shape)
    y : numpy.ndarray of int64, shape (n,)
    class_names : list of str or None

    Raises
    ------
    UserDataError
        Too few or too many samples, x of a shape, dtype or values the model cannot take,
        bad labels or class names, or a model whose output on the first 16 samples is not
        a distribution (not finite, with ``logits=True``).
    """
    from fracdash.sources import as_source

    notes: list[str] = []
    source = source or getattr(class_names, "source", None)
    x = np.asarray(x)
    y = np.asarray(y)
    n = len(x) if x.ndim else 0
    if n == 0:
        raise UserDataError("the data hold no samples; give at least 2 labelled samples")
    if n < 2:
        raise UserDataError(f"the data hold {n} sample; give at least 2 labelled samples")
    if n > MAX_SAMPLES:
        raise UserDataError(f"{n} samples exceed the limit of {MAX_SAMPLES:,}; pass --samples N")
    model = as_source(model, example=x)
    k = int(model.n_classes)
    expected = tuple(model.input_shape)
    x = fit_shape(x, expected, source, notes)
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise UserDataError(f"x has dtype {x.dtype}; store x as numbers (uint8 or float)")
    x = scaled(x, scale, "float" in model.input_dtype)
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise UserDataError(f"x holds {bad} NaN or inf values; clean or drop those samples")
    names = check_names(class_names, k)
    if is_text(y):
        y = labels_from_names(y, names)
    y = check_labels(y, n, k)
    absent = np.setdiff1d(np.arange(k), y)
    if len(absent):
        shown = listed([f"{c}={names[c]}" if names else str(c) for c in absent], 10, quote=False)
        notes.append(
            f"the data hold {k - len(absent)} of the model's {k} classes; absent: {shown} "
            "(the legend still lists all)"
        )
    if k > DISTINCT_COLORS:
        notes.append(
            f"{k} classes: absolute coloring repeats colors beyond {DISTINCT_COLORS}; "
            "relative coloring still works"
        )
    check_distribution(model.predict, x[:16], logits)
    emit(notes, warn)
    return x, y, names
