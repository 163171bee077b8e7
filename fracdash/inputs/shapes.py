"""x laid out as the model takes it: a channel axis added, RGB and gray converted,
channels moved, samples flattened, where only one way fits; else one line saying how."""

from __future__ import annotations

import numpy as np

from fracdash.errors import UserDataError

#: ITU-R BT.601 luma weights of R, G, B.
LUMA = (0.299, 0.587, 0.114)


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
