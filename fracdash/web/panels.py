"""Small panels around the DAG: legend, glyph zoom, note line, progress text."""

from __future__ import annotations

from dash import html

from fracdash.glyphs import class_color
from fracdash.progress import progress_line
from fracdash.web import ids
from fracdash.web.dag import GlyphView, shape_text

#: The zoomed glyph is scaled up by the largest integer factor keeping its longer side
#: within this size (px).
ZOOM_TARGET = 512


def legend_children(class_names) -> list[html.Div]:
    """One item per class: its color swatch and its name. Hovering an item focuses the
    glyphs on that class (assets/fracdash.js writes the class index into the store
    named by ``data-focus-store``)."""
    return [
        html.Div(
            [
                html.Span(className="fd-swatch", style={"backgroundColor": class_color(k)}),
                html.Span(str(name), className="fd-class-name"),
            ],
            className="fd-legend-item",
            title=f"hover: show only class {name}",
            **{"data-class": str(k), "data-color": class_color(k), "data-focus-store": ids.FOCUS},
        )
        for k, name in enumerate(class_names)
    ]


def zoom_children(glyph: GlyphView, coloring: str) -> list:
    """A glyph drawn large, with its layer name, kind, output shape and quality."""
    scale = max(1, ZOOM_TARGET // max(glyph.width, glyph.height))
    facts = [
        ("layer", glyph.name),
        ("kind", glyph.kind),
        ("output shape", shape_text(glyph.output_shape)),
        ("quality", f"{glyph.quality:.3f}"),
        ("glyph", f"{glyph.width}×{glyph.height} px, shown ×{scale}"),
    ]
    return [
        html.H3(glyph.name, className="fd-zoom-title"),
        html.Img(
            src=glyph.src(coloring),
            className="fd-zoom-image",
            alt=glyph.name,
            style={"width": f"{glyph.width * scale}px", "height": f"{glyph.height * scale}px"},
            **{"data-layer": glyph.name, "data-width": str(glyph.width)},
        ),
        html.Dl(
            [
                item
                for label, value in facts
                for item in (html.Dt(label), html.Dd(value, **{"data-fact": label}))
            ],
            className="fd-zoom-facts",
        ),
    ]


def note_text(run: str, analysis) -> str:
    """``run · n samples · accuracy · the analysis' note (model, VGG16 base weights)``."""
    parts = [run, f"{analysis.n:,} test samples", f"accuracy {100 * analysis.accuracy:.2f}%"]
    paper = analysis.meta.get("paper")
    if paper:
        parts.append(f"paper: {paper}")
    note = analysis.meta.get("note")
    if note:
        parts.append(str(note))
    return " · ".join(parts)


def progress_text(run: str, stage: str, done: int, total: int, detail: str = "") -> str:
    """``computing easy — forward pass: batch 3 of 40``, or for the orders, counted in
    work (see :data:`fracdash.pipeline.Progress`), ``ordering layers: 31% (relu0)``."""
    return f"computing {run} — {progress_line(stage, done, total, detail)}"
