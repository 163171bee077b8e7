"""A user's own model (Keras, ONNX) and labelled test set, loaded safely and checked.

Every problem raises :class:`UserDataError` with a one-line message of the form
``"<problem>; <what to do>"``, which the command line prints as is. Nothing here
writes to the fracdash store, and nothing is ever unpickled.

Rules that decide what the model sees:

* **x is passed as it is.** uint8 (or other integer) x for a float model is cast to
  float32 with its values unchanged: 0..255 stays 0..255, which is what a model with its
  own ``Rescaling(1/255)`` layer expects. A model trained on [0, 1] needs ``scale=1/255``
  (``--scale 1/255``), which multiplies x; one trained on normalized x also needs
  ``mean``, ``std`` (``(x * scale - mean) / std`` per channel, torchvision's
  convention); nothing is rescaled unless asked, but a note names the flags when a
  common preprocessing classifies a probe of the data much better than the one given.
* **Class indices are the model's.** An image folder's subfolders are matched to the
  given class names (``--class-names``, in the model's index order); without names they
  are numbered in sorted order, with a warning. String labels are mapped through the
  class names. Classes absent from the data are fine (a warning names them).
* **Samples** (``samples=N``): a seeded stratified sample (seed 0) that keeps the data's
  order; ``first=True`` takes the first N.
* **Channels**: RGB x for a grayscale model is converted (ITU-R 601 luma), grayscale x for
  an RGB model is repeated into three channels; both with a warning.
* **Output**: a class distribution on the first samples, log-probabilities (a
  LogSoftmax ending), sigmoid scores (with a note), or, with ``logits=True``, any finite
  scores (predictions are their argmax, which softmax and exp do not change). Of a
  model with several outputs, ``output`` picks the classifier's.

Warnings go to ``warn`` (stderr by default), only once the whole step has succeeded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fracdash.errors import UserDataError
from fracdash.inputs import files as userfiles
from fracdash.inputs.checks import (
    SAMPLE_SEED,
    check_distribution,
    check_sample_count,
    sample,
    sample_indices,
    stratified_indices,
)
from fracdash.inputs.class_groups import DISTINCT_COLORS, run_class_groups
from fracdash.inputs.files import SAVEZ, ClassNames, emit, listed, name_index
from fracdash.inputs.labels import check_labels, check_names, is_text, labels_from_names
from fracdash.inputs.preprocessing import (
    Preprocessing,
    channel_axis,
    parse_scale,
    suggest_preprocessing,
)
from fracdash.inputs.shapes import LUMA, fit_shape
from fracdash.sources.files import MODEL_SUFFIXES, check_model_file, load_model

__all__ = [
    "DISTINCT_COLORS", "LUMA", "MAX_SAMPLES", "SAMPLE_SEED", "ClassNames", "PreparedData",
    "Preprocessing", "UserDataError", "check_data", "check_model_file", "labels_from_names",
    "load_class_names", "load_data", "MODEL_SUFFIXES", "load_model", "parse_scale",
    "prepare_data", "sample", "stratified_indices",
]  # fmt: skip

#: The most samples one analysis takes: a sanity bound (a glyph holds one pixel per
#: sample), not a memory limit. Memory does not bound n, as a distance matrix past the
#: matrix budget goes to scratch disk; that disk does: 4·n² bytes for a layer wider
#: than 16 features (4 TB at this bound), checked against its free space before the
#: forward pass (:func:`fracdash.capacity.check_scratch_space`).
MAX_SAMPLES = 1_000_000
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



@dataclass(frozen=True)
class PreparedData:
    """A user's data checked against a model and preprocessed, ready to analyze.

    Attributes
    ----------
    model : ModelSource
        The model as :func:`fracdash.sources.as_source` gives it (its classifier output
        picked, a PyTorch module exported once).
    x : numpy.ndarray, shape (n, *input_shape)
        Laid out as the model takes it and preprocessed.
    y : numpy.ndarray of int64, shape (n,)
    class_names : list of str or None
    preprocessing : Preprocessing
    output_kind : {"probabilities", "log-probabilities", "scores", "logits"}
        What the model's output is (:func:`fracdash.inputs.checks.check_distribution`).
    class_groups : dict or None
        The user's groups of classes beyond 20 classes
        (:func:`fracdash.inputs.class_groups.check_class_groups`).
    """

    model: object
    x: np.ndarray
    y: np.ndarray
    class_names: list[str] | None
    preprocessing: Preprocessing
    output_kind: str
    class_groups: dict | None = None

    def meta(self) -> dict:
        """What a run stores of its inputs (its page header shows it)."""
        groups = {"class_groups": self.class_groups} if self.class_groups else {}
        return {"preprocessing": self.preprocessing.describe(),
                "preprocessing_values": self.preprocessing.as_dict(),
                "output_kind": self.output_kind, **groups}  # fmt: skip

    def about(self) -> dict:
        """What the run list shows of its inputs: the flags that repeat them."""
        return {"preprocessing": self.preprocessing.flags(), "output": self.output_kind}


def prepare_data(
    model,
    x,
    y,
    class_names=None,
    warn: Callable[[str], None] | None = None,
    *,
    scale=None,
    mean=None,
    std=None,
    output=None,
    logits: bool = False,
    source: str | None = None,
    class_groups=None,
) -> PreparedData:
    """Check ``(x, y, class_names)`` against ``model`` and preprocess x: the checks every
    entry point (``fracdash analyze``, :func:`fracdash.analyze`, :func:`fracdash.show`)
    makes before a run. See :func:`check_data` for the parameters; in addition:

    Parameters
    ----------
    mean, std : float, sequence of float or str, optional
        ``(x * scale - mean) / std`` per channel, torchvision's ``Normalize`` convention
        (:class:`~fracdash.inputs.preprocessing.Preprocessing`); ``"0.5"`` or
        ``"0.485,0.456,0.406"`` as on the command line.
    output : str or int, optional
        Of a model with several outputs, the classifier's (its name, or index from 0).
    class_groups : path-like or mapping, optional
        Groups of classes (``--class-groups``), for a model of more than 20 classes:
        colored in hue families, one per group
        (:func:`fracdash.inputs.class_groups.load_class_groups`).

    Returns
    -------
    PreparedData
        When a common preprocessing classifies a probe of the data much better than the
        one given, a note says which flags to pass
        (:func:`~fracdash.inputs.preprocessing.suggest_preprocessing`).
    """
    from fracdash.sources import as_source

    notes: list[str] = []
    source = source or getattr(class_names, "source", None)
    prep = Preprocessing.parse(scale, mean, std)  # a bad value is refused before the model
    x = np.asarray(x)
    y = np.asarray(y)
    n = check_sample_count(x)
    if n > MAX_SAMPLES:
        raise UserDataError(f"{n} samples exceed the limit of {MAX_SAMPLES:,}; pass --samples N")
    model = as_source(model, example=x, output=output)
    k = int(model.n_classes)
    expected = tuple(model.input_shape)
    x = fit_shape(x, expected, source, notes)
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise UserDataError(f"x has dtype {x.dtype}; store x as numbers (uint8 or float)")
    model_float = "float" in model.input_dtype
    axis = channel_axis(expected)
    given = x
    x = prep.apply(x, axis, model_float)
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
    groups = run_class_groups(class_groups, names, k, notes)
    kind = check_distribution(model.predict, x[:16], logits, notes)
    hint = suggest_preprocessing(model.predict, given, y, prep, axis, model_float)
    if hint:
        notes.append(hint)
    emit(notes, warn)
    return PreparedData(model, x, y, names, prep, kind, groups)


def check_data(
    model,
    x,
    y,
    class_names=None,
    warn: Callable[[str], None] | None = None,
    *,
    scale=None,
    mean=None,
    std=None,
    output=None,
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
        grayscale (ITU-R 601 luma) or grayscale RGB to fit the model's channels, images
        ``(n, h, w, c)`` go channels-first for a ``(c, h, w)`` model (each warned).
        Values are passed as they are (integers cast to float32 for a float model),
        then preprocessed as ``scale``, ``mean`` and ``std`` say.
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
    mean, std : float, sequence of float or str, optional
        Then subtract ``mean`` and divide by ``std``, per channel (see :func:`prepare_data`).
    output : str or int, optional
        Of a model with several outputs, the classifier's (name, or index from 0).
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
        bad labels, class names or preprocessing values, or a model whose output on the
        first 16 samples is none of a distribution, log-probabilities or sigmoid scores
        (not finite, with ``logits=True``).
    """
    data = prepare_data(model, x, y, class_names, warn, scale=scale, mean=mean, std=std,
                        output=output, logits=logits, source=source)  # fmt: skip
    return data.x, data.y, data.class_names
