"""Errors, class names and the file readers behind :func:`fracdash.inputs.data.load_data`.

Readers of ``.npz``, IDX pairs and image folders. Every problem raises
:class:`UserDataError` with one line, ``"<problem>; <what to do>"``; nothing is
unpickled. Notes for the user (which split was taken, how folders were numbered) are
appended to a ``notes`` list, which the caller prints only once the whole load has
succeeded, so that a refused load prints one line. :mod:`fracdash.inputs.data` re-exports
the public names.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from fracdash.errors import UserDataError

SAVEZ = "save the data with numpy.savez('data.npz', x=x, y=y)"


class ClassNames(list):
    """Class names that remember where they came from (a plain list otherwise).

    Parameters
    ----------
    names : iterable of str
        The names, in class index order.
    source : {"folder", "npz", "idx"}
        The kind of data they came with.
    given : bool
        True when the user gave them (``--class-names``); False when they are the data's
        own (subfolder names, an ``.npz``'s ``class_names``).
    """

    def __init__(self, names, source: str, given: bool):
        super().__init__(str(s) for s in names)
        self.source = source
        self.given = given


def _stderr_warning(message: str) -> None:
    print(f"fracdash: warning: {message}", file=sys.stderr, flush=True)


def listed(items, most: int, quote: bool = True) -> str:
    """``items`` joined by commas, at most ``most`` of them (then ``…``)."""
    shown = [repr(str(s)) if quote else str(s) for s in list(items)[:most]]
    return ", ".join(shown) + (", …" if len(items) > most else "")


def name_index(names) -> dict[str, int]:
    """Class name -> index; a name given twice is refused (it would map ambiguously)."""
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in index:
            raise UserDataError(
                f"class name {name!r} appears twice; give each class once, in index order"
            )
        index[name] = i
    return index


def emit(notes: list[str], warn) -> None:
    """Each note to ``warn`` (default: a warning line on stderr)."""
    for note in notes:
        (warn or _stderr_warning)(note)


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
#: The folder of the four official files (MNIST, Fashion-MNIST) names its splits so.
SPLIT_PREFIXES = {"train": ("train",), "test": ("t10k", "test")}


def read_idx(path: Path) -> np.ndarray:
    """One IDX file (optionally gzipped) as an array of its declared shape."""
    from fracdash.datasets import read_idx as read
    from fracdash.errors import DatasetError

    try:
        return read(path)
    except DatasetError as err:
        raise UserDataError(f"{err}; give the official IDX format (optionally gzipped)") from err


def labels_beside(images: Path) -> Path:
    """The labels file of IDX ``images``: its name with ``labels`` for ``images`` and,
    as in the official names, ``idx1`` for ``idx3`` (the literal swap is accepted too),
    gzipped or not.

    Parameters
    ----------
    images : Path
        E.g. ``t10k-images-idx3-ubyte.gz``.

    Returns
    -------
    Path
        The first of the candidates that exists, e.g. ``t10k-labels-idx1-ubyte.gz``.
    """
    for candidate in _label_names(images.name):
        if images.with_name(candidate).is_file():
            return images.with_name(candidate)
    wanted = images.with_name(_label_names(images.name)[0])
    raise UserDataError(f"no labels file {wanted}; put the IDX pair together")


def _label_names(name: str) -> list[str]:
    swapped = name.replace("images", "labels")
    names = []
    for stem in (swapped.replace("idx3", "idx1"), swapped):
        for candidate in (stem, stem[:-3] if stem.endswith(".gz") else stem + ".gz"):
            if candidate not in names:
                names.append(candidate)
    return names


def split_of(name: str) -> str | None:
    """``"train"``, ``"test"`` (``t10k-*``) or None: the split an IDX file's name says."""
    lower = name.lower()
    return next((s for s, prefixes in SPLIT_PREFIXES.items() if lower.startswith(prefixes)), None)


def _unpacked_first(files: list[Path]) -> list[Path]:
    """One file per name: ``x`` when both ``x`` and ``x.gz`` lie there (an unpacked copy
    beside its archive is common after downloading MNIST)."""
    plain = {p.name for p in files}
    return [p for p in files if not (p.name.endswith(".gz") and p.name[:-3] in plain)]


def idx_pair_in_folder(path: Path, split: str, notes: list[str]) -> tuple[Path, Path] | None:
    """The IDX ``(images, labels)`` files in folder ``path``; None when it holds none.

    A folder holds one pair (any names), or the four official files, of which ``split``
    (``"test"``: ``t10k-*``, ``"train"``: ``train-*``) is taken, with a note.
    """
    files = _unpacked_first(sorted(p for p in path.iterdir() if p.is_file()))
    images = [p for p in files if "images" in p.name]
    labels = [p for p in files if "labels" in p.name]
    if not images and not labels:
        return None
    if len(images) == 1 and len(labels) == 1:
        check_split(split, path, split_of(images[0].name))
        return images[0], labels[0]
    label_names = {p.name: p for p in labels}
    pairs = {}
    for image in images:
        partner = next((label_names[c] for c in _label_names(image.name) if c in label_names), None)
        pairs[split_of(image.name)] = (image, partner)
    if len(images) == len(labels) == 2 and set(pairs) == {"train", "test"}:
        if all(partner is not None for _, partner in pairs.values()):
            other = "train" if split == "test" else "test"
            notes.append(
                f"{path} holds the train and test IDX files; using the {split} split "
                f"({pairs[split][0].name}; --split {other} for the other)"
            )
            return pairs[split]
    raise UserDataError(
        f"folder {path} holds {len(images)} *images* and {len(labels)} *labels* files; keep "
        "exactly one of each (an IDX pair) or the official four (train-* and t10k-*), "
        "or give the images file"
    )


def check_split(split: str, path: Path, has: str | None) -> None:
    """Refuse ``split="train"`` for data without a train split (``"test"`` is the
    default, taken by every other kind of data)."""
    if split == "train" and has != "train":
        raise UserDataError(
            f"{path} has no train split; --split train needs a folder of the four official "
            "IDX files (train-* and t10k-*) or the train-images file"
        )


def read_npz(path: Path) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """Arrays ``x`` and ``y`` (and ``class_names`` if stored) of an ``.npz``, refusing
    object arrays instead of unpickling them."""
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


def image_folder_files(path: Path, class_names, notes: list[str]):
    """The image files of a folder with one subfolder per class, and their classes.

    Parameters
    ----------
    path : Path
        The folder; hidden subfolders (``.ipynb_checkpoints``) and loose files are skipped.
    class_names : list of str or None
        The model's class names in index order: each subfolder must be one of them and
        gets its index. None: subfolders are numbered in sorted order (numerically when
        all names are numbers), with a note saying so.
    notes : list of str
        Receives that note.

    Returns
    -------
    files : list of (int, Path)
        ``(class index, image file)`` in class order, then file name order.
    names : ClassNames
        ``class_names`` (``given=True``), or the subfolder names (``given=False``).
    """
    folders = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if not folders:
        raise UserDataError(f"folder {path} has no class subfolders; put images in one per class")
    if class_names is not None:
        index = name_index(class_names)
        unknown = sorted(p.name for p in folders if p.name not in index)
        if unknown:
            raise UserDataError(
                f"folder {path} has subfolders {listed(unknown, 3)} that are not among the "
                f"{len(class_names)} class names ({listed(class_names, 10)}); rename the "
                "subfolders to class names, or fix --class-names"
            )
        numbered = sorted((index[p.name], p) for p in folders)
        names = ClassNames(class_names, source="folder", given=True)
    else:
        numeric = all(p.name.isdigit() for p in folders)
        folders.sort(key=lambda p: (int(p.name), p.name) if numeric else (0, p.name))
        numbered = list(enumerate(folders))
        names = ClassNames([p.name for p in folders], source="folder", given=False)
        shown = listed([f"{k}={p.name}" for k, p in numbered], 10, quote=False)
        notes.append(
            f"classes numbered by sorted folder name: {shown}; pass --class-names to map "
            "them to the model's indices"
        )
    files = [
        (k, f)
        for k, folder in numbered
        for f in sorted(folder.iterdir())
        if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
    ]
    return files, names


def read_images(files) -> np.ndarray:
    """Decode ``files`` (``(class, path)`` pairs) into one uint8 array, ``(n, h, w)``
    when all are grayscale, else ``(n, h, w, 3)`` (grayscale ones repeated into RGB)."""
    from PIL import Image, UnidentifiedImageError

    arrays = []
    for _, f in files:
        try:
            with Image.open(f) as img:
                a = np.asarray(img.convert("L" if img.mode in ("1", "L", "LA") else "RGB"))
        except (OSError, UnidentifiedImageError) as err:
            raise UserDataError(f"cannot read image {f} ({err}); remove or replace it") from err
        if arrays and a.shape[:2] != arrays[0].shape[:2]:
            size, first = "x".join(map(str, a.shape[:2])), "x".join(map(str, arrays[0].shape[:2]))
            raise UserDataError(
                f"image {f} is {size} pixels, the first {first}; resize all images alike"
            )
        arrays.append(a)
    if not arrays:
        return np.zeros((0,), np.uint8)
    if any(a.ndim == 3 for a in arrays):  # a mixed folder: gray images become RGB
        arrays = [a if a.ndim == 3 else np.repeat(a[..., None], 3, axis=-1) for a in arrays]
    return np.stack(arrays)
