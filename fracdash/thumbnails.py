"""Thumbnails of a run's input images, stored beside its analysis (numpy only).

The page shows a hovered sample's image (fracdash/web/samples.py serves them as one
sprite). A built-in scenario's images are loaded again from its dataset; a user's
images are kept at analysis time, as uint8 thumbnails under :func:`thumbs_key`.
"""

from __future__ import annotations

import math

import numpy as np

from fracdash.store import stage_key

#: Longest side of a thumbnail (px); larger inputs are subsampled by an integer stride.
THUMB_MAX = 32


def thumbnails(x) -> np.ndarray | None:
    """uint8 thumbnails ``(n, h, w)`` or ``(n, h, w, 3)`` of image inputs, else None.

    Takes channels-last ``(n, h, w)``, ``(n, h, w, 1|3)`` and channels-first
    ``(n, 1|3, h, w)`` arrays of at least 4×4 pixels; values are scaled from the
    array's own range to 0..255, and sides above :data:`THUMB_MAX` are subsampled.
    """
    if isinstance(x, (list, tuple)):
        return None  # a multi-input model: no one image per sample
    x = np.asarray(x)
    if x.ndim == 4 and x.shape[1] in (1, 3) and x.shape[-1] not in (1, 3):
        x = np.moveaxis(x, 1, -1)
    if x.ndim == 4 and x.shape[-1] in (1, 3):
        x = x[..., 0] if x.shape[-1] == 1 else x
    if x.ndim == 4 and x.shape[-1] != 3:
        return None
    if x.ndim not in (3, 4) or min(x.shape[1:3]) < 4 or not np.issubdtype(x.dtype, np.number):
        return None
    step = max(1, math.ceil(max(x.shape[1:3]) / THUMB_MAX))
    x = x[:, ::step, ::step].astype(np.float32)
    lo, hi = float(np.min(x)), float(np.max(x))
    scaled = (x - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(x)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def thumbs_key(analysis_key: str) -> str:
    """Store key of the thumbnails of the analysis stored under ``analysis_key``."""
    return stage_key("thumbs", {}, (analysis_key,))
