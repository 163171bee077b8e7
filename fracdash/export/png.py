"""The whole layer graph as one PNG at native resolution: one pixel per sample.

Every glyph is pasted from its own PNG (:mod:`fracdash.glyphs`) at a whole-pixel offset,
never resampled, so the picture's glyph pixels are exactly the page's. Names sit above
each glyph and qualities below it, with a title line and the legend on top.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache

from fracdash.export.layout import glyph_size, graph_layout, run_line
from fracdash.glyphs import RELATIVE_COLORS, absolute_png, class_color, relative_png

COLORINGS = ("absolute", "relative")
FONT_SIZE, TITLE_SIZE = 12, 15
#: Height of the name band above each glyph and of the quality band below it (px).
LABEL_HEIGHT = 16
#: Horizontal room in a node box beyond the widest of glyph, name and quality (px).
NODE_PADDING = 10
HGAP, VGAP, MARGIN = 24.0, 28.0, 12
SWATCH, LEGEND_ROW, LEGEND_GAP = 12, 18, 16
#: Narrowest picture: a one-layer graph still gets a readable header.
MIN_WIDTH = 240
BACKGROUND = (255, 255, 255)
TEXT, MUTED = (29, 34, 40), (89, 96, 107)
EDGE, OUTLINE = (125, 138, 156), (120, 120, 120)
#: What the relative coloring's codes mean (docs/method.md §6).
RELATIVE_KEY = ("no neighbour of its class", "one neighbour of its class",
                "both neighbours of its class")  # fmt: skip

Rect = tuple[int, int, int, int]


@dataclass(frozen=True)
class PngNode:
    """Where one layer sits in the picture; rectangles are ``(x, y, width, height)``."""

    name: str
    glyph: Rect
    name_band: Rect
    quality_band: Rect


@dataclass(frozen=True)
class LegendItem:
    """One legend entry: a swatch of ``color`` at ``swatch``, ``text`` at ``text_xy``."""

    color: str
    text: str
    swatch: Rect
    text_xy: tuple[int, int]


@dataclass(frozen=True)
class PngLayout:
    """Everything :func:`export_png` draws, and where (pixels, top-left origin).

    Attributes
    ----------
    width, height : int
        Size of the picture.
    title : str
        The title line (run, note, accuracy, n), drawn at ``title_xy``.
    legend : tuple of LegendItem
        Class swatches and names (absolute coloring) or the relative codes.
    nodes : dict of str to PngNode
        Each layer's glyph and label bands.
    edges : tuple of ((x0, y0), (x1, y1))
        One segment per edge, source bottom to target top.
    """

    width: int
    height: int
    title: str
    title_xy: tuple[int, int]
    legend: tuple[LegendItem, ...]
    nodes: dict[str, PngNode]
    edges: tuple[tuple[tuple[float, float], tuple[float, float]], ...]


@lru_cache(maxsize=4)
def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1: a scalable font
    except TypeError:  # older Pillow: its one bitmap font
        return ImageFont.load_default()


def _text_width(font, text: str) -> int:
    return math.ceil(font.getlength(text))


def _text_top(font, top: int, height: int) -> int:
    """y at which a line of ``font`` is vertically centred in ``[top, top + height)``."""
    ascent, descent = font.getmetrics()
    return top + (height - ascent - descent) // 2


def _legend_entries(analysis, coloring: str) -> list[tuple[str, str]]:
    if coloring == "relative":
        return list(zip(RELATIVE_COLORS, RELATIVE_KEY, strict=True))
    return [(class_color(k), str(name)) for k, name in enumerate(analysis.class_names)]


def _check_coloring(coloring: str) -> None:
    if coloring not in COLORINGS:
        raise ValueError(f"coloring must be 'absolute' or 'relative', not {coloring!r}")


def png_layout(analysis, coloring: str = "absolute", *, title: str | None = None) -> PngLayout:
    """Where :func:`export_png` draws everything.

    Parameters
    ----------
    analysis, coloring, title
        As for :func:`export_png`.

    Returns
    -------
    PngLayout
        The picture's size, and every glyph, label band, legend item and edge in it.
    """
    _check_coloring(coloring)
    font, title_font = _font(FONT_SIZE), _font(TITLE_SIZE)
    glyphs = {g.name: glyph_size(analysis, g.name) for g in analysis.layers}
    sizes = {}
    for g in analysis.layers:
        gw, gh = glyphs[g.name]
        text = max(_text_width(font, g.name), _text_width(font, f"{g.quality:.3f}"))
        sizes[g.name] = (max(gw, text) + NODE_PADDING, gh + 2 * LABEL_HEIGHT)
    graph = graph_layout(analysis, sizes, hgap=HGAP, vgap=VGAP)

    line = run_line(analysis, title)
    content = max(graph.width, _text_width(title_font, line), MIN_WIDTH)
    ascent, descent = title_font.getmetrics()
    y = MARGIN + ascent + descent + 6
    legend, x = [], 0
    for color, text in _legend_entries(analysis, coloring):
        width = SWATCH + 4 + _text_width(font, text)
        if x > 0 and x + width > content:  # wrap to the picture's width
            x, y = 0, y + LEGEND_ROW
        swatch = (MARGIN + x, y + (LEGEND_ROW - SWATCH) // 2, SWATCH, SWATCH)
        text_xy = (MARGIN + x + SWATCH + 4, _text_top(font, y, LEGEND_ROW))
        legend.append(LegendItem(color, text, swatch, text_xy))
        x += width + LEGEND_GAP
    # The graph, centred under the header; whole-pixel offsets keep glyphs unresampled.
    ox, oy = MARGIN + (content - graph.width) // 2, y + LEGEND_ROW + 12
    nodes = {}
    for name, box in graph.boxes.items():
        gw, gh = glyphs[name]
        bx, by, bw = ox + int(box.x), oy + int(box.y), int(box.w)
        nodes[name] = PngNode(
            name=name,
            glyph=(bx + (bw - gw) // 2, by + LABEL_HEIGHT, gw, gh),
            name_band=(bx, by, bw, LABEL_HEIGHT),
            quality_band=(bx, by + LABEL_HEIGHT + gh, bw, LABEL_HEIGHT),
        )
    edges = tuple(
        ((x0 + ox, y0 + oy), (x1 + ox, y1 + oy)) for *_, (x0, y0), (x1, y1) in graph.edges
    )
    height = oy + graph.height + MARGIN
    return PngLayout(
        content + 2 * MARGIN, height, line, (MARGIN, MARGIN), tuple(legend), nodes, edges
    )


def _arrow_head(p0, p1, length: float = 6.0, half: float = 3.0) -> list[tuple[float, float]]:
    (x0, y0), (x1, y1) = p0, p1
    norm = math.hypot(x1 - x0, y1 - y0) or 1.0
    dx, dy = (x1 - x0) / norm, (y1 - y0) / norm
    bx, by = x1 - length * dx, y1 - length * dy
    return [(x1, y1), (bx - half * dy, by + half * dx), (bx + half * dy, by - half * dx)]


def _centred(draw, font, text: str, band: Rect, fill) -> None:
    x, y, w, h = band
    draw.text((x + (w - _text_width(font, text)) // 2, _text_top(font, y, h)), text,
              font=font, fill=fill)  # fmt: skip


def export_png(analysis, coloring: str = "absolute", *, title: str | None = None) -> bytes:
    """The whole layer graph as one PNG, every glyph at one pixel per sample.

    Parameters
    ----------
    analysis : Analysis
        Every layer of it is drawn (pass ``analysis.simplified()`` for the simplified
        network), on its Sugiyama layout, top to bottom.
    coloring : {"absolute", "relative"}
        The glyphs' coloring; the legend shows the classes, or the relative codes.
    title : str, optional
        Leads the title line (e.g. the run's name), before the run's note, accuracy
        and number of samples.

    Returns
    -------
    bytes
        An RGB PNG; the size and every position are :func:`png_layout`'s. Each glyph's
        pixels equal its own PNG's (:func:`fracdash.glyphs.absolute_png` or
        ``relative_png``) converted to RGB.
    """
    from PIL import Image, ImageDraw

    layout = png_layout(analysis, coloring, title=title)
    font, title_font = _font(FONT_SIZE), _font(TITLE_SIZE)
    picture = Image.new("RGB", (layout.width, layout.height), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    draw.text(layout.title_xy, layout.title, font=title_font, fill=TEXT)
    for item in layout.legend:
        x, y, w, h = item.swatch
        draw.rectangle([x, y, x + w - 1, y + h - 1], fill=item.color, outline=OUTLINE)
        draw.text(item.text_xy, item.text, font=font, fill=TEXT)
    # Edges first: a glyph pasted afterwards keeps every one of its own pixels.
    for p0, p1 in layout.edges:
        draw.line([p0, p1], fill=EDGE, width=1)
        draw.polygon(_arrow_head(p0, p1), fill=EDGE)
    render = relative_png if coloring == "relative" else absolute_png
    for g in analysis.layers:
        node = layout.nodes[g.name]
        with Image.open(io.BytesIO(render(analysis, g.name))) as glyph:
            picture.paste(glyph.convert("RGB"), node.glyph[:2])
        _centred(draw, font, g.name, node.name_band, TEXT)
        _centred(draw, font, f"{g.quality:.3f}", node.quality_band, MUTED)
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()
