"""Small panels around the DAG: legend, glyph zoom, note line."""

from __future__ import annotations

from dash import dcc, html

from fracdash.glyphs import (
    ABSOLUTE_EMPTY,
    FOCUS_DIM,
    RELATIVE_COLORS,
    RELATIVE_EMPTY,
    class_color,
    run_groups,
    run_palette,
)
from fracdash.web.dag import GlyphView, shape_text
from fracdash.web.messages import readable_note

#: The zoomed glyph is scaled up by the largest integer factor keeping its longer side
#: within this size (px).
ZOOM_TARGET = 512
#: The same for each of the two glyphs of a comparison shown side by side.
PAIR_ZOOM_TARGET = 400


def _legend_item(k: int, name, color: str) -> html.Div:
    return html.Div(
        [
            html.Span(className="fd-swatch", style={"backgroundColor": color}),
            html.Span(str(name), className="fd-class-name"),
        ],
        className="fd-legend-item",
        title=f"hover: show only class {name}; click or Enter: keep it",
        tabIndex=0,
        role="button",
        **{"data-class": str(k), "data-color": color},
    )


def legend_children(class_names, colors=None, groups=None) -> list:
    """The legend: an empty labels line (the page's scripts say there which labels color
    the pixels), one item per class, then the coloring key (:func:`coloring_key`).

    Each item is its color swatch and its name; hovering or focusing it focuses the
    glyphs on that class, a click or Enter pins it (assets/fracdash.js; a pinned class
    is the URL's ``focus``). With ``groups`` (``{"names", "members"}``, a run of more
    than 20 classes, :func:`fracdash.glyphs.run_groups`), the items come in one section
    per group under its name, after a search box that keeps the classes whose name
    holds what is typed, Enter pinning the best match (assets/legend_search.js).

    Parameters
    ----------
    class_names : list of str
    colors : list of str, optional
        One hex color per class (default: :func:`fracdash.glyphs.class_color`).
    groups : dict, optional
    """
    colors = colors or [class_color(k) for k in range(len(class_names))]
    items = [_legend_item(k, name, colors[k]) for k, name in enumerate(class_names)]
    firsts = [colors[m[0]] for m in groups["members"] if m] if groups else colors
    key = coloring_key(len(class_names), firsts)  # a grouped run's key: one hue a group
    if not groups:
        return [html.Div(className="fd-legend-labels"), *items, key]
    sections = [
        html.Div(
            [
                html.Div(
                    [
                        html.Span(name, className="fd-legend-group-name"),
                        html.Span(str(len(members)), className="fd-legend-group-count"),
                    ],
                    className="fd-legend-group-title",
                    title=_group_title(groups, len(members)),
                ),
                *(items[k] for k in members),
            ],
            className="fd-legend-group",
            role="group",
            **{"data-group": str(g), "aria-label": name},
        )
        for g, (name, members) in enumerate(zip(groups["names"], groups["members"], strict=True))
    ]
    search = legend_search(len(class_names))
    return [html.Div(className="fd-legend-labels"), search, *sections, key]


def _group_title(groups: dict, size: int) -> str:
    found = groups.get("source") == "confusion"
    said = "classes the model confuses with one another" if found else "a group you gave"
    return f"{size} {'class' if size == 1 else 'classes'}: {said}; one hue for the group"


def legend_search(n_classes: int) -> html.Label:
    """The legend's search box: typing keeps the classes whose name holds the text, Enter
    pins the best match, Escape clears it (assets/legend_search.js)."""
    return html.Label(
        [
            html.Span("find a class (Enter pins it)", className="fd-legend-search-label"),
            dcc.Input(
                type="search",
                className="fd-legend-search-input",
                placeholder=f"one of {n_classes} classes",
                autoComplete="off",
                spellCheck=False,
                debounce=False,
            ),
        ],
        className="fd-legend-search",
    )


def run_legend(analysis) -> list:
    """:func:`legend_children` of a run: its class names, colors and groups."""
    return legend_children(analysis.class_names, run_palette(analysis), run_groups(analysis))


def _key_row(text: str, color: str | None = None, background: str | None = None) -> html.Div:
    style = {"background": background} if background else {"backgroundColor": color}
    return html.Div(
        [html.Span(className="fd-key-swatch", style=style), html.Span(text)],
        className="fd-key-row",
    )


def coloring_key(n_classes: int, colors=None) -> html.Div:
    """What a glyph's pixels mean, for each coloring (docs/method.md §6); the stylesheet shows the
    part of the coloring chosen on the page, with no server round trip. ``colors``: one per
    class (default: :func:`fracdash.glyphs.class_color`); the key shows the first five."""
    colors = colors or [class_color(k) for k in range(max(n_classes, 1))]
    shown = list(colors[: min(n_classes, 5)]) or [colors[0]]
    step = 100 / len(shown)
    stripes = ", ".join(f"{c} {i * step:.0f}% {(i + 1) * step:.0f}%" for i, c in enumerate(shown))
    absolute = [
        _key_row("a sample, in its class color", background=f"linear-gradient(90deg, {stripes})"),
        _key_row("empty cell (no sample)", ABSOLUTE_EMPTY),
        _key_row("other classes, while one is focused", FOCUS_DIM),
    ]
    said = ["neither curve neighbour", "one of its 2 curve neighbours", "both curve neighbours"]
    relative = [
        _key_row(f"{text} of its class", color)
        for text, color in zip(said, RELATIVE_COLORS, strict=True)
    ]
    relative.append(_key_row("empty cell (no sample)", RELATIVE_EMPTY))
    return html.Div(
        [
            html.Div(
                [html.Div("pixels (absolute)", className="fd-key-title"), *absolute],
                className="fd-key-part fd-key-absolute",
                **{"data-coloring": "absolute"},
            ),
            html.Div(
                [html.Div("pixels (relative)", className="fd-key-title"), *relative],
                className="fd-key-part fd-key-relative",
                **{"data-coloring": "relative"},
            ),
        ],
        className="fd-key",
    )


def zoom_children(glyph: GlyphView, coloring: str, target: int = ZOOM_TARGET,
                  run: str | None = None) -> list:  # fmt: skip
    """A glyph drawn large (its longer side up to ``target`` px), with its layer name,
    kind, output shape and quality; ``run`` named on it (``data-run``) for the browser,
    which draws that run's samples over it."""
    scale = max(1, target // max(glyph.width, glyph.height))
    facts = [
        ("layer", glyph.name),
        ("kind", glyph.kind),
        ("output shape", shape_text(glyph.output_shape)),
        ("quality", f"{glyph.quality:.3f}"),
        ("glyph", f"{glyph.width}×{glyph.height} px, shown ×{scale}"),
    ]
    return [
        html.H3(glyph.name, className="fd-zoom-title"),
        html.Div(
            [
                html.Img(
                    src=glyph.src(coloring),
                    className="fd-zoom-image",
                    alt=glyph.name,
                    style={"width": "100%", "height": "100%"},
                    **{"data-layer": glyph.name, "data-width": str(glyph.width)},
                ),
                # The browser draws focus, predicted labels and a selection here too.
                html.Canvas(
                    className="fd-glyph-layer fd-overlay fd-zoom-overlay",
                    **{"data-layer": glyph.name},
                ),
            ],
            className="fd-zoom-glyph",
            style={"width": f"{glyph.width * scale}px", "height": f"{glyph.height * scale}px"},
            **({"data-run": run} if run else {}),
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


def zoom_pair_children(sides, coloring: str) -> list:
    """Two glyphs of a comparison side by side, each under its run's name: ``sides`` is
    ``[(run A, glyph), (run B, glyph)]``. Each half is ``.fd-zoom-side[data-run]
    [data-side]`` (the browser draws each run's samples over its own glyph)."""
    halves = [
        html.Div(
            [html.Div(f"{side.upper()}: {run}", className="fd-zoom-run"),
             *zoom_children(glyph, coloring, PAIR_ZOOM_TARGET)],
            className="fd-zoom-side",
            **{"data-run": run, "data-side": side},
        )  # fmt: skip
        for side, (run, glyph) in zip("ab", sides, strict=True)
    ]
    return [html.Div(halves, className="fd-zoom-pair")]


def note_text(run: str, analysis) -> str:
    """``run · n samples · accuracy · the analysis' note (model, VGG16 base weights)``."""
    parts = [run, f"{analysis.n:,} test samples", f"accuracy {100 * analysis.accuracy:.2f}%"]
    parts.append(f"metric: {analysis.meta.get('metric', 'euclidean')}")  # core.metrics
    paper = analysis.meta.get("paper")
    if paper:
        parts.append(f"paper: {paper}")
    note = analysis.meta.get("note")
    if note:
        parts.append(readable_note(note))  # an older VGG16 note as today's sentence
    said = (("preprocessing", "preprocessing"), ("output_kind", "output"))  # a user's run
    parts += [f"{label}: {analysis.meta[key]}" for key, label in said if key in analysis.meta]
    return " · ".join(parts)
