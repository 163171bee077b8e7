"""Where a glyph's cells are drawn: a point on a Playwright page, the pixels of a PNG."""

from __future__ import annotations

import numpy as np


def cell_point(page, layer, x, y, width, height):
    """Screen point at the centre of grid cell (x, y) of ``layer``'s glyph (a glyph of
    ``width`` x ``height`` cells) on a Playwright ``page``."""
    box = page.eval_on_selector(
        f"img.fd-glyph[data-layer='{layer}']",
        "e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }",
    )
    return box[0] + (x + 0.5) * box[2] / width, box[1] + (y + 0.5) * box[3] / height


def png_pixels(data: bytes) -> np.ndarray:
    """(height, width, 3) uint8: a PNG's pixels as RGB."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))
