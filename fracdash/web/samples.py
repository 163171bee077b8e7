"""What the browser needs to follow samples through every glyph, sent once per run.

The page draws nothing per sample on the server after it has loaded: hover, marks,
brush, pins, the predicted-label coloring and the selection's cohesion are computed in
the browser (assets/samples.js, assets/sample_view.js) from one payload per run and
curve, ``GET /samples/<run>.json?curve=compact``:

- ``labels``, ``predictions``: per sample (uint16, base64);
- ``slots``: the grid cell of each rank on the curve, ``y * width + x`` (uint32), the
  same for every layer of the run;
- ``layers``: per layer its VAT order, rank -> sample (uint16 below 65,536 samples,
  uint32 above), and its quality;
- the class names and the page's colors, so the browser paints as the PNGs do;
- ``thumbs``: where the input images are, as one sprite of thumbnails
  (``GET /samples/<run>/thumbs.png``), or None when the input is not an image;
- ``thumbsMissing`` (only where thumbnails should be and cannot be made here): one line
  saying why and what to do, which the page shows; hover then shows no image.

The run is looked up in the app's store catalog by name, never opened as a path.
"""

from __future__ import annotations

import base64
import io
import logging
import math
import sqlite3

import numpy as np

from fracdash import glyphs
from fracdash.runs import add_to_runs
from fracdash.thumbnails import scenario_thumbnails, thumbs_key

log = logging.getLogger(__name__)


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def order_dtype(n: int) -> np.dtype:
    """The smallest unsigned type holding a sample index below ``n``."""
    return np.dtype("<u2") if n <= 65536 else np.dtype("<u4")


def rank_slots(analysis) -> tuple[np.ndarray, int, int]:
    """``(slots, width, height)``: the grid cell ``y * width + x`` of each rank, which
    every layer of ``analysis`` shares (they all lay n samples on one curve)."""
    g = analysis.layers[0]
    by_rank = g.positions[g.order]
    return (by_rank[:, 1] * g.width + by_rank[:, 0]).astype("<u4"), g.width, g.height


def payload(
    analysis, run: str, thumbs: tuple[int, int, int] | None = None, missing: str | None = None
) -> dict:
    """The JSON the browser follows samples with (module docstring).

    ``thumbs``: ``(width, height, columns)`` of the run's thumbnail sprite, if any;
    ``missing``: why a run that should have them has none (``thumbsMissing``).
    """
    n = analysis.n
    slots, width, height = rank_slots(analysis)
    dtype = order_dtype(n)
    return {
        "run": run,
        "n": n,
        "width": width,
        "height": height,
        "curve": analysis.curve,
        "classNames": [str(c) for c in analysis.class_names],
        "colors": glyphs.palette_constants(analysis),
        "orderType": "uint16" if dtype.itemsize == 2 else "uint32",
        "labels": _b64(analysis.labels.astype("<u2")),
        "predictions": _b64(analysis.predictions.astype("<u2")),
        "slots": _b64(slots),
        "layers": {
            g.name: {"order": _b64(g.order.astype(dtype)), "quality": round(g.quality, 4)}
            for g in analysis.layers
        },
        "thumbs": None
        if thumbs is None
        else {"width": thumbs[0], "height": thumbs[1], "columns": thumbs[2]},
        **({"thumbsMissing": missing} if missing else {}),
    }


def sprite_layout(thumbs: np.ndarray) -> tuple[int, int, int]:
    """``(width, height, columns)``: one thumbnail's size and the sprite's columns."""
    n, h, w = thumbs.shape[:3]
    return w, h, max(1, math.ceil(math.sqrt(n)))


def sprite(thumbs: np.ndarray) -> tuple[bytes, tuple[int, int, int]]:
    """One PNG holding every thumbnail, row-major in ``columns`` columns (gray ones in
    16 levels); returns the PNG and :func:`sprite_layout`."""
    from PIL import Image

    n, h, w = thumbs.shape[:3]
    columns = sprite_layout(thumbs)[2]
    rows = math.ceil(n / columns)
    sheet = np.zeros((rows * h, columns * w, *thumbs.shape[3:]), dtype=np.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        sheet[r * h : (r + 1) * h, c * w : (c + 1) * w] = thumbs[i]
    if sheet.ndim == 2:  # 16 gray levels: half the bytes, and a thumbnail needs no more
        sheet = sheet // 16 * 17
    buf = io.BytesIO()
    Image.fromarray(sheet).save(buf, format="PNG")
    return buf.getvalue(), (w, h, columns)


def run_thumbnails(store, key: str, analysis) -> np.ndarray | None:
    """The thumbnails of a stored run: stored with it, or for a built-in scenario's run
    stored without them, made from its data set (the first n images of its split) and
    stored with it then, where the data set is on this machine. None: not images.

    Raises
    ------
    DatasetError
        The run's images are not stored and its data set is not here (the message names
        the fix; :func:`fracdash.thumbnails.scenario_thumbnails`).
    """
    stored = store.get_array(thumbs_key(key))
    if stored is not None:
        return stored
    made = scenario_thumbnails(analysis.meta, analysis.n)
    if made is not None:  # next time, and on a server without the data set, it is read
        try:
            store.set_array(thumbs_key(key), made)
            add_to_runs(store, key, thumbs_key(key))
        except (OSError, sqlite3.Error) as err:  # a read-only store: shown, not kept
            log.warning("thumbnails of %s not stored: %s", key, err)
    return made
