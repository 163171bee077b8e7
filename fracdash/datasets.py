"""MNIST and Fashion-MNIST from IDX files on disk, with numpy only.

Directory resolution (docs/method.md §8): the explicit ``data_dir`` argument, then the
``FRACDASH_DATA`` environment variable, then ``/usr/share/datasets/<name>/`` (Debian's
``dataset-*`` packages).
An explicit or environment directory may hold the four IDX files directly or in a ``<name>/``
subfolder. Only when no directory is found does :func:`load_dataset` read Keras's download
cache (``~/.keras/datasets``), downloading into it when online (without importing Keras).
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from fracdash.errors import DatasetError

#: Datasets this module knows.
DATASETS = ("mnist", "fashion-mnist")

#: Human-readable class names, indexed by label.
# fmt: off
CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ],
}
# fmt: on

#: The four standard IDX files (without ``.gz``), keyed by ``(split, part)``.
FILES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}

SPLITS = ("train", "test")
#: What :func:`load_dataset` takes: a split, or ``"all"`` (train then test: 70,000).
LOAD_SPLITS = (*SPLITS, "all")
#: Environment variable naming a data directory (second in the resolution order).
ENV_VAR = "FRACDASH_DATA"
#: Last place looked: ``SYSTEM_DATA_DIR / <name>``.
SYSTEM_DATA_DIR = Path("/usr/share/datasets")

_APT = {"fashion-mnist": "dataset-fashion-mnist"}
_IDX_DTYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}



def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file, gzip-compressed or raw (detected from the gzip magic bytes).

    Parameters
    ----------
    path : path-like
        The IDX file, e.g. ``t10k-images-idx3-ubyte.gz``.

    Returns
    -------
    numpy.ndarray
        A writable, native-endian array of the declared shape ``(d0, d1, ..., d{ndim-1})`` and
        dtype (uint8, int8, int16, int32, float32 or float64).

    Raises
    ------
    DatasetError
        Bad magic, unknown dtype code, bad gzip stream, truncated header or data, or data
        whose length is not exactly the product of the declared dimensions.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from exc
    if len(raw) < 4:
        raise DatasetError(f"{path}: truncated header ({len(raw)} bytes)")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES or raw[3] == 0:
        raise DatasetError(f"{path}: bad IDX magic {raw[:4].hex()}")
    ndim, header = raw[3], 4 + 4 * raw[3]
    if len(raw) < header:
        raise DatasetError(f"{path}: truncated header ({len(raw)} bytes, need {header})")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    want, have = math.prod(dims) * dtype.itemsize, len(raw) - header
    if have < want:
        raise DatasetError(f"{path}: truncated data ({have} bytes, shape {dims} needs {want})")
    if have > want:
        raise DatasetError(f"{path}: size mismatch ({have} bytes, shape {dims} needs {want})")
    data = np.frombuffer(raw, dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="))


def _check_name(name: str) -> None:
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; valid: {', '.join(DATASETS)}")


def _files_in(directory: Path) -> dict[tuple[str, str], Path] | None:
    """The four files in ``directory`` (``.gz`` preferred), or None if any is missing."""
    found = {}
    for key, stem in FILES.items():
        for candidate in (directory / f"{stem}.gz", directory / stem):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            return None
    return found


def _search(base: Path, name: str) -> Path | None:
    return next((d for d in (base, base / name) if _files_in(d) is not None), None)


def find_dataset_dir(name: str, data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The directory holding the four IDX files of dataset ``name``.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`.
    data_dir : path-like, optional
        Looked in first (directly, then ``data_dir/<name>/``); if given it must hold the files.

    Returns
    -------
    pathlib.Path or None
        The first of ``data_dir``, ``$FRACDASH_DATA`` (each directly or via ``<name>/``) and
        ``SYSTEM_DATA_DIR/<name>`` that holds all four files; None if none does.

    Raises
    ------
    DatasetError
        Unknown ``name``, or ``data_dir`` given but without the four files.
    """
    _check_name(name)
    if data_dir is not None:
        found = _search(Path(data_dir), name)
        if found is None:
            expected = ", ".join(f"{s}[.gz]" for s in FILES.values())
            raise DatasetError(
                f"{data_dir}: no {name} files here or in {name}/; expected {expected}"
            )
        return found
    env = os.environ.get(ENV_VAR)
    if env:
        found = _search(Path(env), name)
        if found is not None:
            return found
    system = SYSTEM_DATA_DIR / name
    return system if _files_in(system) is not None else None


#: Where Keras's own loaders download these data sets; read (and filled) in its layout,
#: so a Keras user's cached copy is found and no Keras import is needed.
KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
MNIST_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def keras_cache_dir() -> Path:
    """Keras's download cache: ``$KERAS_HOME/datasets`` (``~/.keras/datasets``)."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def _fetch(url: str, path: Path, sha256: str | None = None) -> None:
    import hashlib
    import tempfile
    import urllib.request

    path.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(url, timeout=60) as response:
        raw = response.read()
    if sha256 and hashlib.sha256(raw).hexdigest() != sha256:
        raise OSError(f"{url}: checksum mismatch")
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(raw)
    os.replace(tmp.name, path)  # never a half-written file in the cache


def _not_fetched(url: str, path: Path, sha256: str | None = None) -> None:
    raise OSError(f"{path} is missing and downloading was not asked for")


def _downloaded(name: str, split: str, download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Keras's cached copy of ``name``, downloaded there first if missing (online only,
    and only with ``download``)."""
    looked = f"${ENV_VAR}={os.environ.get(ENV_VAR, '(unset)')}, {SYSTEM_DATA_DIR / name}"
    apt = f", or `apt-get install {_APT[name]}`" if name in _APT else ""
    cache = keras_cache_dir()
    fetch = _fetch if download else _not_fetched
    try:
        if name == "mnist":
            npz = cache / "mnist.npz"
            if not npz.is_file():
                fetch(KERAS_ORIGIN + "mnist.npz", npz, MNIST_NPZ_SHA256)
            with np.load(npz, allow_pickle=False) as arrays:
                return arrays[f"x_{split}"], arrays[f"y_{split}"]
        folder = cache / name
        for stem in (FILES[split, "images"], FILES[split, "labels"]):
            if not (folder / f"{stem}.gz").is_file():
                fetch(f"{KERAS_ORIGIN}{name}/{stem}.gz", folder / f"{stem}.gz")
        return (
            read_idx(folder / f"{FILES[split, 'images']}.gz"),
            read_idx(folder / f"{FILES[split, 'labels']}.gz"),
        )
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError(
            f"{name} not found (looked in {looked}, {cache}) and the download failed ({exc}); "
            f"set {ENV_VAR} or pass a directory holding the four IDX files{apt}"
        ) from exc


def load_dataset(
    name: str,
    split: str = "test",
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of MNIST or Fashion-MNIST.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`.
    split : {"test", "train", "all"}
        ``"all"``: the training images then the test images (60,000 + 10,000 for
        MNIST and Fashion-MNIST; sample ``60000 + i`` is test image ``i``).
    data_dir : path-like, optional
        See :func:`find_dataset_dir`.
    download : bool
        False: only read what is on this machine, never download into Keras's cache.

    Returns
    -------
    x : numpy.ndarray, uint8, shape (n, 28, 28)
        Images.
    y : numpy.ndarray, uint8, shape (n,)
        Labels in ``0..9``; ``CLASS_NAMES[name][y[i]]`` names sample ``i``.

    Raises
    ------
    DatasetError
        Unknown name or split, no data found anywhere, or malformed or inconsistent files.
    """
    _check_name(name)
    if split not in LOAD_SPLITS:
        raise DatasetError(f"unknown split {split!r}; valid: {', '.join(LOAD_SPLITS)}")
    if split == "all":
        parts = [load_dataset(name, part, data_dir, download=download) for part in SPLITS]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    directory = find_dataset_dir(name, data_dir)
    if directory is None:
        x, y = _downloaded(name, split, download)
        source = f"{keras_cache_dir()} ({name})"
    else:
        files = _files_in(directory) or {}
        x, y = read_idx(files[split, "images"]), read_idx(files[split, "labels"])
        source = f"{files[split, 'images']} / {files[split, 'labels']}"
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8:
        raise DatasetError(f"{source}: images must be uint8 (n, 28, 28), got {x.dtype} {x.shape}")
    if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
        raise DatasetError(f"{source}: {len(x)} images but labels are {y.dtype} {y.shape}")
    if y.size and (y.min() < 0 or y.max() > 9):
        raise DatasetError(f"{source}: labels outside 0..9 ({y.min()}..{y.max()})")
    return x, y.astype(np.uint8)
