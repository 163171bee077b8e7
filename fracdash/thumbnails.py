"""Thumbnails of a run's input images, stored beside its analysis (numpy only).

The page shows a hovered sample's image (fracdash/web/samples.py serves them as one
sprite). Every run stores them when it is computed, as uint8 thumbnails under
:func:`thumbs_key` (:func:`store_thumbnails`), so that a server with the store alone (no
data set, no model files) shows them. A built-in scenario's run stored before that gets
them from its data set on first open, where the data set is on the machine
(:func:`scenario_thumbnails`).
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
    Three equal channels (a gray image repeated for the network) give gray thumbnails.
    """
    if isinstance(x, (list, tuple)):
        return None  # a multi-input model: no one image per sample
    x = np.asarray(x)
    if x.ndim == 4 and x.shape[1] in (1, 3) and x.shape[-1] not in (1, 3):
        x = np.moveaxis(x, 1, -1)
    if x.ndim == 4 and x.shape[-1] in (1, 3):
        gray = x.shape[-1] == 1 or (
            np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 0], x[..., 2])
        )
        x = x[..., 0] if gray else x
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


def store_thumbnails(store, analysis, x) -> str | None:
    """Store the thumbnails of ``x``, the inputs ``analysis`` was computed on, beside it;
    return their key (also added to ``analysis.meta["uses"]``, so that the run's
    listing counts them and deleting the run frees them), or None for inputs that are
    not images."""
    thumbs = thumbnails(x)
    if thumbs is None:
        return None
    key = thumbs_key(analysis.meta["key"])
    store.set_array(key, thumbs)
    analysis.meta["uses"] = sorted({*analysis.meta.get("uses", ()), key})
    return key


def scenario_thumbnails(meta: dict, n: int) -> np.ndarray | None:
    """The thumbnails of a built-in scenario's run (its ``meta``, ``n`` samples) made
    again from its data set, found on this machine only (never downloaded); None for a
    run that is not a scenario's.

    Raises
    ------
    DatasetError
        The scenario's data set is not on this machine (one line naming it and the fix).
    """
    from fracdash.datasets import ENV_VAR, load_dataset
    from fracdash.errors import DatasetError
    from fracdash.scenarios import SCENARIOS

    spec = SCENARIOS.get(meta.get("scenario") or "")
    split = meta.get("split", "test")
    if spec is None or split not in ("test", "train", "all"):
        return None
    try:
        x, _ = load_dataset(spec.test_on, split, download=False)
    except DatasetError as err:
        raise DatasetError(
            f"its images are not in the store and the {spec.test_on} data set of scenario "
            f"{spec.name!r} is not on this server; set {ENV_VAR} to a folder holding its "
            "IDX files, or compute the run again with this version, which stores them"
        ) from err
    return thumbnails(x[:n]) if len(x) >= n else None
