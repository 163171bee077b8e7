"""The whole layer graph as one PNG, folded into columns as on the page.

Every glyph is pasted from its own PNG (:mod:`fracdash.glyphs`), enlarged by a whole
number of pixels per sample (:func:`fracdash.export.layout.export_scale`, each sample an
equal square) at a whole-pixel offset, never resampled otherwise. Names sit above each
glyph and qualities below it, with a title line and the legend on top; edges follow the
page's routes (down each column, under it, up the gap and over the next one).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from fracdash.export.layout import (
    FONT_SIZE,
    SPACING,
    font,
    graph_layout,
    run_line,
    text_width,
)
from fracdash.export.marking import COLORINGS, Marking, correctness_legend, marked_glyph
from fracdash.glyphs import RELATIVE_COLORS, absolute_png, relative_png, run_palette

TITLE_SIZE = 15
MARGIN = 12
SWATCH, LEGEND_ROW, LEGEND_GAP = 12, 18, 16
#: Narrowest picture: a one-layer graph still gets a readable header.
MIN_WIDTH = 240
BACKGROUND = (255, 255, 255)
TEXT, MUTED = (29, 34, 40), (89, 96, 107)
EDGE, OUTLINE = (125, 138, 156), (120, 120, 120)
#: Points per S-curve of an edge (a cubic Bezier with vertical ends, as on the page).
CURVE_STEPS = 12
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
    scale : int
        Pixels per sample of every glyph.
    title : str
        The title line (run, note, curve, accuracy, n), drawn at ``title_xy``.
    legend : tuple of LegendItem
        Class swatches and names (absolute coloring) or the relative codes.
    nodes : dict of str to PngNode
        Each layer's glyph and label bands.
    edges : tuple of (str, str, tuple of (x, y))
        Each edge as a polyline from its source's bottom to its target's top.
    columns : int
        How many columns the graph is folded into.
    """

    width: int
    height: int
    scale: int
    title: str
    title_xy: tuple[int, int]
    legend: tuple[LegendItem, ...]
    nodes: dict[str, PngNode]
    edges: tuple[tuple[str, str, tuple[tuple[float, float], ...]], ...]
    columns: int


def _text_top(size: int, top: int, height: int) -> int:
    """y at which a line of the ``size`` font is vertically centred in ``[top, top + height)``."""
    ascent, descent = font(size).getmetrics()
    return top + (height - ascent - descent) // 2


def _legend_entries(analysis, coloring: str) -> list[tuple[str, str]]:
    if coloring == "relative":
        return list(zip(RELATIVE_COLORS, RELATIVE_KEY, strict=True))
    if coloring == "correctness":
        return correctness_legend()
    return list(zip(run_palette(analysis), map(str, analysis.class_names), strict=True))


def _check_coloring(coloring: str) -> None:
    if coloring not in COLORINGS:
        raise ValueError(f"coloring must be one of {', '.join(COLORINGS)}, not {coloring!r}")


def polyline(route, dx: float, dy: float) -> tuple[tuple[float, float], ...]:
    """An edge route (``(kind, x, y)`` points, :class:`fracdash.layout.Placement`) as a
    polyline shifted by ``(dx, dy)``; each "S" step is a cubic Bezier with vertical ends."""
    points: list[tuple[float, float]] = []
    for kind, x, y in route:
        x, y = x + dx, y + dy
        if kind == "S" and points:
            (x0, y0), mid = points[-1], (points[-1][1] + y) / 2
            for i in range(1, CURVE_STEPS + 1):
                t = i / CURVE_STEPS
                a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
                points.append((a * x0 + b * x0 + c * x + d * x, a * y0 + (b + c) * mid + d * y))
        else:
            points.append((x, y))
    return tuple(points)


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
    graph = graph_layout(analysis)
    line = run_line(analysis, title)
    content = max(graph.width, text_width(line, TITLE_SIZE), MIN_WIDTH)
    ascent, descent = font(TITLE_SIZE).getmetrics()
    y = MARGIN + ascent + descent + 6
    legend, x = [], 0
    for color, text in _legend_entries(analysis, coloring):
        width = SWATCH + 4 + text_width(text)
        if x > 0 and x + width > content:  # wrap to the picture's width
            x, y = 0, y + LEGEND_ROW
        swatch = (MARGIN + x, y + (LEGEND_ROW - SWATCH) // 2, SWATCH, SWATCH)
        text_xy = (MARGIN + x + SWATCH + 4, _text_top(FONT_SIZE, y, LEGEND_ROW))
        legend.append(LegendItem(color, text, swatch, text_xy))
        x += width + LEGEND_GAP
    # The graph, centred under the header; whole-pixel offsets keep glyphs unresampled.
    ox, oy = MARGIN + (content - graph.width) // 2, y + LEGEND_ROW + 6
    band = round(SPACING.label)
    nodes = {}
    for name, box in graph.placement.boxes.items():
        gx, gy, gw, gh = graph.glyph_rect(name)
        bx, bw = ox + round(box.x), round(box.w)
        nodes[name] = PngNode(
            name=name,
            glyph=(ox + gx, oy + gy, gw, gh),
            name_band=(bx, oy + gy - band, bw, band),
            quality_band=(bx, oy + gy + gh, bw, band),
        )
    edges = tuple((s, t, polyline(route, ox, oy)) for s, t, route in graph.placement.routes)
    height = oy + graph.height + MARGIN
    return PngLayout(
        content + 2 * MARGIN, height, graph.scale, line, (MARGIN, MARGIN), tuple(legend),
        nodes, edges, len(graph.fold.columns),
    )  # fmt: skip


def _arrow_head(p0, p1, length: float = 6.0, half: float = 3.0) -> list[tuple[float, float]]:
    (x0, y0), (x1, y1) = p0, p1
    norm = math.hypot(x1 - x0, y1 - y0) or 1.0
    dx, dy = (x1 - x0) / norm, (y1 - y0) / norm
    bx, by = x1 - length * dx, y1 - length * dy
    return [(x1, y1), (bx - half * dy, by + half * dx), (bx + half * dy, by - half * dx)]


def _centred(draw, text: str, band: Rect, fill) -> None:
    x, y, w, h = band
    draw.text((x + (w - text_width(text)) // 2, _text_top(FONT_SIZE, y, h)), text,
              font=font(FONT_SIZE), fill=fill)  # fmt: skip


def export_png(analysis, coloring: str = "absolute", *, title: str | None = None,
               marking: Marking | None = None) -> bytes:  # fmt: skip
    """The whole layer graph as one PNG, folded into columns as on the page.

    Parameters
    ----------
    analysis : Analysis
        Every layer of it is drawn (pass ``analysis.simplified()`` for the simplified
        network, ``analysis.on_curve("paper")`` for the paper's curve).
    coloring : {"absolute", "relative", "correctness"}
        The glyphs' coloring; the legend shows the classes, the relative codes, or the
        four correctness classes ("correctness": ``marking.codes`` are needed).
    title : str, optional
        Leads the title line (e.g. the run's name), before the run's note, curve,
        accuracy and number of samples.
    marking : Marking, optional
        A selection (the other samples faded, as on the page; its note joins the
        title) and the correctness codes (:mod:`fracdash.export.marking`).

    Returns
    -------
    bytes
        An RGB PNG; the size and every position are :func:`png_layout`'s. Each glyph's
        pixels are its own PNG's (:func:`fracdash.glyphs.absolute_png` or
        ``relative_png``) converted to RGB, each pixel a ``scale x scale`` square; with a
        ``marking`` (or the correctness coloring),
        :func:`fracdash.export.marking.marked_glyph`'s.
    """
    from PIL import Image, ImageDraw

    if marking is not None and marking.note:
        title = " · ".join(t for t in (title, marking.note) if t)
    layout = png_layout(analysis, coloring, title=title)
    picture = Image.new("RGB", (layout.width, layout.height), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    draw.text(layout.title_xy, layout.title, font=font(TITLE_SIZE), fill=TEXT)
    for item in layout.legend:
        x, y, w, h = item.swatch
        draw.rectangle([x, y, x + w - 1, y + h - 1], fill=item.color, outline=OUTLINE)
        draw.text(item.text_xy, item.text, font=font(FONT_SIZE), fill=TEXT)
    # Edges first: a glyph pasted afterwards keeps every one of its own pixels.
    for _, _, points in layout.edges:
        draw.line(points, fill=EDGE, width=2, joint="curve")
        draw.polygon(_arrow_head(points[-2], points[-1]), fill=EDGE)
    render = relative_png if coloring == "relative" else absolute_png
    for g in analysis.layers:
        node = layout.nodes[g.name]
        x, y, w, h = node.glyph
        if marking is not None or coloring == "correctness":
            glyph = Image.fromarray(marked_glyph(analysis, g.name, coloring, marking))
        else:
            with Image.open(io.BytesIO(render(analysis, g.name))) as own:
                glyph = own.convert("RGB")
        picture.paste(glyph.resize((w, h), Image.Resampling.NEAREST), (x, y))
        _centred(draw, g.name, node.name_band, TEXT)
        _centred(draw, f"{g.quality:.3f}", node.quality_band, MUTED)
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()
