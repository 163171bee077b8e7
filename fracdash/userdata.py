"""A user's own Keras model and labelled test set, loaded safely and checked.

Every problem raises :class:`UserDataError` with a one-line message of the form
``"<problem>; <what to do>"``, which the command line prints as is. Nothing here
writes to the fracdash store, and nothing is ever unpickled.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

#: The most samples one analysis takes (an n x n distance workspace must fit in memory).
MAX_SAMPLES = 1_000_000
#: Classes the absolute coloring tells apart; beyond it, colors repeat.
DISTINCT_COLORS = 20
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
RESAVE = "save the model with model.save('model.keras')"
SAVEZ = "save the data with numpy.savez('data.npz', x=x, y=y)"


class UserDataError(ValueError):
    """A user model or data set that fracdash cannot analyze (message: problem; fix)."""


def _stderr_warning(message: str) -> None:
    print(f"fracdash: warning: {message}", file=sys.stderr, flush=True)


def load_model(path):
    """Load a Keras 3 model (``.keras``, or legacy ``.h5``) in safe mode, uncompiled,
    with one input and one (batch, k >= 2) output. A TensorFlow SavedModel directory is
    refused with instructions (Keras 3 wraps it only as an opaque TFSMLayer)."""
    path = Path(path)
    if not path.exists():
        raise UserDataError(f"model {path} does not exist; give the path of a .keras or .h5 file")
    if path.is_dir():
        if (path / "saved_model.pb").exists():
            raise UserDataError(
                f"{path} is a TensorFlow SavedModel, which Keras 3 cannot load as a model "
                "(only as an opaque keras.layers.TFSMLayer, without its layers); load it in "
                "TensorFlow 2.x (tf.keras) and save it with model.save('model.keras')"
            )
        raise UserDataError(f"model {path} is a directory; give a .keras or .h5 file")
    keras_zip = path.suffix.lower() == ".keras"
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise UserDataError(f"model {path} is not a .keras or .h5 file; {RESAVE}")
    magic = _head(path, 8)
    if keras_zip and magic[:4] != b"PK\x03\x04":
        raise UserDataError(f"model {path} is not a .keras archive (corrupt?); {RESAVE}")
    if not keras_zip and magic != b"\x89HDF\r\n\x1a\n":
        raise UserDataError(f"model {path} is not an HDF5 file (corrupt?); {RESAVE}")
    import keras

    try:
        load = keras.saving.load_model if keras_zip else keras.models.load_model
        model = load(path, compile=False, safe_mode=True)
    except Exception as err:  # keras raises many types for a bad file
        raise UserDataError(_load_problem(path, err)) from err
    return _check_structure(model, path)


def _head(path: Path, size: int) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError as err:
        raise UserDataError(f"cannot read model {path} ({err}); check its permissions") from err


def _load_problem(path: Path, err: Exception) -> str:
    text = " ".join(str(err).split())
    unknown = re.search(r"Could not locate (?:class|function) '([^']+)'", text)
    if unknown or "Unknown layer" in text:
        what = repr(unknown.group(1)) if unknown else "a layer"
        return f"model {path} uses {what}, a class Keras does not know; use built-in layers"
    if "Lambda" in text or "safe_mode" in text:
        return f"model {path} holds a Lambda layer, which safe mode refuses; use built-in layers"
    return f"cannot load model {path} ({text[:200]}); {RESAVE} in Keras 3"


def _check_structure(model, path: Path):
    outputs = getattr(model, "outputs", None) or []
    inputs = getattr(model, "inputs", None) or []
    shape = tuple(outputs[0].shape) if len(outputs) == 1 else ()
    if len(outputs) != 1:
        problem = f"has {len(outputs)} outputs; give a classifier with one output"
    elif len(inputs) != 1:
        problem = f"has {len(inputs)} inputs; use fracdash.analyze() for multi-input models"
    elif len(shape) != 2 or shape[-1] is None or shape[-1] < 2:
        problem = f"outputs {shape}, not (batch, k >= 2); end it with Dense(k) and Softmax"
    else:
        return model
    raise UserDataError(f"model {path} {problem}")


def load_class_names(path) -> list[str]:
    """One class name per line (blank lines ignored)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UserDataError(f"cannot read {path} ({err}); give UTF-8 text, a name a line") from err
    return [line.strip() for line in text.splitlines() if line.strip()]


def load_data(path, samples=None, warn: Callable[[str], None] | None = None):
    """Load a labelled test set; return ``(x, y, class_names or None)``.

    ``path``: an ``.npz`` with arrays ``x``, ``y`` (optionally ``class_names``), never
    unpickled; an IDX ``*images*[.gz]`` file beside its ``*labels*`` file; a folder with
    exactly one ``*images*`` and one ``*labels*`` IDX file; or a folder of images, one
    subfolder per class (names = sorted subfolder names; order = class, file name).
    Only the first ``samples`` samples are kept, which ``warn`` reports."""
    path = Path(path)
    warn = warn or _stderr_warning
    if not path.exists():
        raise UserDataError(f"data {path} does not exist; give an .npz, IDX or image folder")
    names, total = None, None
    if path.is_dir():
        files = [p for p in path.iterdir() if p.is_file()]
        images = [p for p in files if "images" in p.name]
        labels = [p for p in files if "labels" in p.name]
        if images or labels:
            if len(images) != 1 or len(labels) != 1:
                raise UserDataError(
                    f"folder {path} holds {len(images)} *images* and {len(labels)} *labels* "
                    "files; keep exactly one of each (an IDX pair), or give the images file"
                )
            x, y = _read_idx(images[0]), _read_idx(labels[0])
        else:
            x, y, names, total = _read_image_folder(path, samples)
    elif path.suffix.lower() == ".npz":
        x, y, names = _read_npz(path)
    elif "images" in path.name:
        sibling = path.with_name(path.name.replace("images", "labels"))
        if not sibling.is_file():
            raise UserDataError(f"no labels file {sibling}; put the IDX pair together")
        x, y = _read_idx(path), _read_idx(sibling)
    else:
        raise UserDataError(f"data {path} is not an .npz, IDX *images* file or folder; {SAVEZ}")
    total = len(x) if total is None else total
    if samples is not None and total > samples:
        warn(f"using the first {samples} of {total} samples (--samples {samples})")
        x, y = x[:samples], y[:samples]
    return x, y, names


def _read_idx(path: Path) -> np.ndarray:
    from fracdash.datasets import DatasetError, read_idx

    try:
        return read_idx(path)
    except DatasetError as err:
        raise UserDataError(f"{err}; give the official IDX format (optionally gzipped)") from err


def _read_npz(path: Path):
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise UserDataError(f"cannot read {path} as .npz ({err}); {SAVEZ}") from err
    if not hasattr(archive, "files"):
        raise UserDataError(f"{path} holds one array, not x and y; {SAVEZ}")
    with archive:
        missing = [k for k in ("x", "y") if k not in archive.files]
        if missing:
            held = ", ".join(archive.files) or "nothing"
            no = " or ".join(map(repr, missing))
            raise UserDataError(f"{path} has no array {no} (it holds {held}); {SAVEZ}")
        try:
            x, y = archive["x"], archive["y"]
            names = archive["class_names"] if "class_names" in archive.files else None
        except (ValueError, OSError, EOFError) as err:
            if "pickle" not in str(err):
                raise UserDataError(f"cannot read {path} as .npz ({err}); {SAVEZ}") from err
            raise UserDataError(
                f"refusing to unpickle {path} (it holds object arrays); store x and y as "
                "numeric arrays and class names as a string array"
            ) from err
    if names is not None:
        names = [str(s) for s in np.asarray(names).reshape(-1)]
    return x, y, names


def _read_image_folder(path: Path, samples):
    from PIL import Image, UnidentifiedImageError

    classes = sorted(p for p in path.iterdir() if p.is_dir())
    if not classes:
        raise UserDataError(f"folder {path} has no class subfolders; put images in one per class")
    files = [
        (k, f)
        for k, folder in enumerate(classes)
        for f in sorted(folder.iterdir())
        if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
    ]
    total = len(files)
    if samples is not None:
        files = files[:samples]
    arrays, shape = [], None
    for _, f in files:
        try:
            with Image.open(f) as img:
                a = np.asarray(img.convert("L" if img.mode in ("1", "L", "LA") else "RGB"))
        except (OSError, UnidentifiedImageError) as err:
            raise UserDataError(f"cannot read image {f} ({err}); remove or replace it") from err
        if shape is None:
            shape = a.shape
        elif a.shape != shape:
            raise UserDataError(f"image {f} is {a.shape}, the first {shape}; resize all alike")
        arrays.append(a)
    x = np.stack(arrays) if arrays else np.zeros((0,), np.uint8)
    y = np.array([k for k, _ in files], dtype=np.int64)
    return x, y, [p.name for p in classes], total


def check_data(model, x, y, class_names=None, warn: Callable[[str], None] | None = None):
    """Check ``(x, y, class_names)`` against ``model``; return them ready to analyze.

    x must match the model's input shape (a missing trailing channel axis of 1 is added)
    and be finite; uint8 x fed to a float model is scaled to float32 in [0, 1] (x / 255).
    y: one class in ``0..k-1`` per sample (integral floats and one-hot rows accepted);
    k class names. On the first samples the model must output a distribution."""
    warn = warn or _stderr_warning
    k = int(model.outputs[0].shape[-1])
    x = np.asarray(x)
    y = np.asarray(y)
    n = len(x) if x.ndim else 0
    if n == 0:
        raise UserDataError("the data hold no samples; give at least 2 labelled samples")
    if n < 2:
        raise UserDataError(f"the data hold {n} sample; give at least 2 labelled samples")
    if n > MAX_SAMPLES:
        raise UserDataError(f"{n} samples exceed the limit of {MAX_SAMPLES:,}; pass --samples N")
    expected = tuple(model.inputs[0].shape)[1:]
    if len(x.shape[1:]) + 1 == len(expected) and expected[-1] == 1:
        if _shape_matches(x.shape[1:] + (1,), expected):
            x = x[..., None]
    if not _shape_matches(x.shape[1:], expected):
        shown = tuple("?" if d is None else d for d in expected)
        raise UserDataError(f"x has samples of shape {x.shape[1:]}, the model takes {shown}; fix x")
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise UserDataError(f"x has dtype {x.dtype}; store x as numbers (uint8 or float)")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise UserDataError(f"x holds {bad} NaN or inf values; clean or drop those samples")
    model_float = "float" in str(model.inputs[0].dtype)
    if x.dtype == np.uint8 and model_float:
        x = x.astype(np.float32) / 255.0
    elif model_float and not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    y = _check_labels(y, n, k)
    if class_names is not None:
        class_names = [str(c) for c in class_names]
        if len(class_names) != k:
            given = len(class_names)
            raise UserDataError(f"{given} class names given, the model has {k} classes; give {k}")
    if k > DISTINCT_COLORS:
        warn(
            f"{k} classes: absolute coloring repeats colors beyond {DISTINCT_COLORS}; "
            "relative coloring still works"
        )
    _check_distribution(model, x[:16])
    return x, y, class_names


def _shape_matches(shape, expected) -> bool:
    return len(shape) == len(expected) and all(
        e is None or s == e for s, e in zip(shape, expected, strict=True)
    )


def _check_labels(y, n: int, k: int) -> np.ndarray:
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


def _check_distribution(model, probe) -> None:
    try:
        out = np.asarray(model(probe, training=False), dtype=np.float64)
    except Exception as err:  # whatever the model's layers raise on this input
        text = " ".join(str(err).split())[:200]
        raise UserDataError(f"the model fails on x ({text}); give x as the model takes it") from err
    ok = (
        np.isfinite(out).all()
        and out.min() >= -1e-6
        and out.max() <= 1 + 1e-6
        and np.allclose(out.sum(axis=1), 1.0, atol=1e-3)
    )
    if not ok:
        raise UserDataError(
            "the model's output is not a class distribution (softmax); add a Softmax layer"
        )
