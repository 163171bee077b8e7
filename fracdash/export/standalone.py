"""A run as one self-contained HTML file: the layer graph, a legend that focuses a
class on hover, and the absolute / relative coloring switch; offline, no server.

The graph is folded and placed exactly as in the PNG export
(:func:`fracdash.export.layout.graph_layout`: the page's folds, a whole number of
pixels per sample). Glyphs are ``<img>`` elements holding PNG data URIs, scaled with
``image-rendering: pixelated`` (as on the live page); every variant of every glyph
(absolute, relative, one focus per class) is inlined once, and the script
(``assets/standalone/standalone.js``, inlined too) only swaps them. Nothing in the file
names an external URL: no CDN, no web font, no ``<script src>``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from fracdash.assets import assets_folder
from fracdash.errors import FracdashError
from fracdash.export.layout import SPACING, graph_layout, run_line
from fracdash.export.marking import Marking, correctness_legend, marked_glyph, rgb_png
from fracdash.glyphs import RELATIVE_COLORS, RELATIVE_EMPTY, glyph_pngs, png_uri, run_palette
from fracdash.version import __version__

#: The module inlined in the page, under the assets folder.
SCRIPT = Path("standalone") / "standalone.js"

CSS = """
body { margin: 0; padding: 10px 16px 16px; background: #f4f5f7; color: #1d2228;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.fd-title { margin: 0; font-size: 22px; }
.fd-note { margin: 4px 0 8px; font-size: 13px; color: #59606b; }
.fd-controls { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 18px; }
.fd-coloring { border: 0; margin: 0; padding: 0; font-size: 14px; }
.fd-coloring legend { float: left; margin-right: 8px; color: #59606b; font-size: 13px; }
.fd-coloring label { margin-right: 10px; cursor: pointer; }
.fd-legend { display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: 13px; }
.fd-legend-item { display: flex; align-items: center; gap: 4px; cursor: default;
  padding: 1px 4px; border-radius: 4px; }
.fd-legend-item:hover, .fd-legend-item:focus { background: #e3e7ec; outline: none; }
.fd-swatch { width: 12px; height: 12px; border: 1px solid #888; display: inline-block; }
.fd-relative-key { display: none; font-size: 13px; color: #59606b; }
body[data-coloring=relative] .fd-legend { opacity: 0.45; }
body[data-coloring=relative] .fd-relative-key { display: block; }
.fd-dag { margin-top: 10px; overflow: auto; background: #fff; border: 1px solid #d9dde3;
  border-radius: 6px; padding: 6px 0; }
.fd-dag-canvas { position: relative; margin: 0 auto; }
.fd-edges-svg { position: absolute; left: 0; top: 0; overflow: visible; }
.fd-edge { fill: none; stroke: #7d8a9c; stroke-width: 2.5; stroke-linecap: round; }
.fd-node { position: absolute; z-index: 1; }
.fd-node-name, .fd-node-quality { position: absolute; left: 0; right: 0; font-size: 12px;
  text-align: center; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.fd-node-name { top: 0; font-weight: 600; }
.fd-node-quality { bottom: 0; }
.fd-node-quality { color: #59606b; font-variant-numeric: tabular-nums; }
.fd-glyph { position: absolute; display: block; image-rendering: pixelated;
  outline: 1px solid #d9dde3; }
.fd-footer { margin-top: 8px; font-size: 12px; color: #59606b; }
"""
# The label bands are the layout's (fracdash.layout.Spacing), as in the PNG.
CSS += (
    f".fd-node-name, .fd-node-quality {{ height: {SPACING.label:.0f}px; "
    f"line-height: {SPACING.label:.0f}px; }}\n"
)


def script_source() -> str:
    """The standalone page's script, read from the assets folder.

    Raises
    ------
    FracdashError
        The assets folder holds no readable ``standalone/standalone.js``.
    """
    path = assets_folder() / SCRIPT
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as err:
        raise FracdashError(
            f"cannot read the export's script {path} ({err.strerror or err}); "
            "reinstall fracdash, or unset FRACDASH_ASSETS if it names another folder"
        ) from err
    # Either would change how the HTML parser reads the inline <script> (end it early).
    if "</script" in source.lower() or "<!--" in source:
        raise FracdashError(f"{path} holds '</script' or '<!--'; it cannot be inlined")
    return source


def _json_for_script(value) -> str:
    """JSON safe inside ``<script>``: no ``</`` can close the element."""
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/")


def _edge_path(route) -> str:
    """An edge route (:class:`fracdash.layout.Placement`) as SVG path data, drawn as the
    page draws it: "S" steps are cubic curves with vertical ends."""
    parts, prev = [], None
    for kind, x, y in route:
        if kind == "M":
            parts.append(f"M{x:.1f},{y:.1f}")
        elif kind == "S":
            mid = (prev[1] + y) / 2
            parts.append(f"C{prev[0]:.1f},{mid:.1f} {x:.1f},{mid:.1f} {x:.1f},{y:.1f}")
        else:
            parts.append(f"L{x:.1f},{y:.1f}")
        prev = (x, y)
    return " ".join(parts)


def _legend(class_names, colors) -> str:
    esc = html.escape
    items = "".join(
        f'<div class="fd-legend-item" role="listitem" tabindex="0" data-class="{k}" '
        f'title="hover: show only class {esc(str(name))}">'
        f'<span class="fd-swatch" style="background-color:{colors[k]}"></span>'
        f'<span class="fd-class-name">{esc(str(name))}</span></div>'
        for k, name in enumerate(class_names)
    )
    return f'<div class="fd-legend" role="list" aria-label="classes">{items}</div>'


def _relative_key() -> str:
    black, gray, white = RELATIVE_COLORS
    parts = [(black, "no neighbour of its class"), (gray, "one"), (white, "both"),
             (RELATIVE_EMPTY, "empty")]  # fmt: skip
    return '<div class="fd-relative-key">' + " · ".join(
        f'<span class="fd-swatch" style="background-color:{c}"></span> {t}' for c, t in parts
    ) + "</div>"  # fmt: skip


def _marked_uri(analysis, layer: str, coloring: str, marking, focus=None) -> str:
    return png_uri(rgb_png(marked_glyph(analysis, layer, coloring, marking, focus)))


def glyph_variants(analysis, marking: Marking | None = None) -> dict[str, dict]:
    """Every layer's glyph variants as PNG data URIs: {layer: {absolute, relative,
    focus: [one per class]}}, what the inlined script swaps. With a ``marking``
    (:mod:`fracdash.export.marking`), every variant shows its selection (the others
    faded) and, where it holds correctness codes, the "absolute" variant and every
    focus are the coloring by correctness (which no class focus changes, as on the
    page)."""
    k = len(analysis.class_names)
    variants = {}
    if marking is not None:
        shown = "correctness" if marking.codes is not None else "absolute"
        for g in analysis.layers:
            absolute = _marked_uri(analysis, g.name, shown, marking)
            focus = ([absolute] * k if shown == "correctness"
                     else [_marked_uri(analysis, g.name, "absolute", marking, c)
                           for c in range(k)])  # fmt: skip
            relative = _marked_uri(analysis, g.name, "relative", marking)
            variants[g.name] = {"absolute": absolute, "relative": relative, "focus": focus}
        return variants
    for g in analysis.layers:
        p = glyph_pngs(analysis, g.name)
        variants[g.name] = {"absolute": png_uri(p["absolute"]), "relative": png_uri(p["relative"]),
                            "focus": [png_uri(p[f"focus-{c}"]) for c in range(k)]}  # fmt: skip
    return variants


def graph_markup(analysis, graph, variants: dict, keys: dict | None = None, attrs: str = "") -> str:
    """The ``div.fd-dag`` of ``analysis`` placed as ``graph`` (:func:`graph_layout`).
    ``keys``: each layer's key in the variants JSON, written as its glyph's
    ``data-layer`` (the layer's name by default); ``attrs``: more attributes of the
    ``.fd-dag-canvas``."""
    esc = html.escape
    keys = keys or {name: name for name in analysis.layer_names}
    # No xmlns: inline SVG in HTML needs none, and the file must name no URL at all.
    paths = "".join(
        f'<path class="fd-edge" data-source="{esc(s)}" data-target="{esc(t)}" '
        f'd="{_edge_path(route)}" stroke-dasharray="2 6"/>'
        for s, t, route in graph.placement.routes
    )
    nodes = []
    for g in analysis.layers:
        box = graph.placement.boxes[g.name]
        left, top, width = round(box.x), round(box.y), round(box.w)
        gx, gy, gw, gh = graph.glyph_rect(g.name)
        named = "" if keys[g.name] == g.name else f' data-name="{esc(g.name)}"'
        nodes.append(
            f'<div class="fd-node" data-layer="{esc(g.name)}" data-column="{box.column}" '
            f'style="left:{left}px;top:{top}px;width:{width}px;height:{round(box.h)}px">'
            f'<div class="fd-node-name" title="{esc(g.name)}">{esc(g.name)}</div>'
            f'<img class="fd-glyph" data-layer="{esc(keys[g.name])}"{named} alt="{esc(g.name)}" '
            f'title="{esc(g.name)} ({esc(g.kind)})" width="{gw}" height="{gh}" '
            f'style="left:{gx - left}px;top:{gy - top}px" src="{variants[g.name]["absolute"]}">'
            f'<div class="fd-node-quality">{g.quality:.3f}</div></div>'
        )
    size_style = f"width:{graph.width}px;height:{graph.height}px"
    return f"""<div class="fd-dag"><div class="fd-dag-canvas"{attrs} style="{size_style}">
<svg class="fd-edges-svg" width="{graph.width}" height="{graph.height}">{paths}</svg>
{"".join(nodes)}
</div></div>"""


def document(title: str, intro: str, analysis, body: str, footer: str, variants: dict,
             css: str = "") -> str:  # fmt: skip
    """The whole page: heading ``title``, the ``intro`` markup under it, the coloring
    switch and ``analysis``' legend, the graphs' ``body``, the ``footer`` line, the
    ``variants`` JSON and the inlined script. ``css`` is added to the page's style."""
    esc = html.escape
    coloring = "".join(
        f'<label><input type="radio" name="fd-coloring" value="{c}" autocomplete="off"'
        f"{' checked' if c == 'absolute' else ''}> {c}</label>"
        for c in ("absolute", "relative")
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="fracdash {__version__}">
<title>{esc(title)} — fracdash</title>
<style>{CSS}{css}</style>
</head>
<body data-coloring="absolute">
<h1 class="fd-title">{esc(title)}</h1>
{intro}
<div class="fd-controls">
<fieldset class="fd-coloring"><legend>coloring</legend>{coloring}</fieldset>
{_legend(analysis.class_names, run_palette(analysis))}
{_relative_key()}
</div>
{body}
<p class="fd-footer">{footer} This file works offline.</p>
<script type="application/json" id="fd-variants">{_json_for_script(variants)}</script>
<script>
{script_source()}
</script>
</body>
</html>
"""


def marking_intro(marking: Marking | None, names=None) -> str:
    """The lines an export's page says its marking with: the selection's note and,
    for the coloring by correctness, its four colors named (``names``: the two runs)."""
    if marking is None:
        return ""
    esc, parts = html.escape, []
    if marking.note:
        parts.append(f'<p class="fd-note fd-selection-note">{esc(marking.note)} '
                     "(the other samples faded)</p>")  # fmt: skip
    if marking.codes is not None:
        runs = f" in {names[0]} (A) and {names[1]} (B)" if names else ""
        items = " · ".join(
            f'<span class="fd-correctness-item" data-code="{i}"><span class="fd-swatch" '
            f'style="background-color:{color}"></span> {esc(name)}</span>'
            for i, (color, name) in enumerate(correctness_legend())
        )
        parts.append(f'<p class="fd-note fd-correctness-key">pixels colored by right or '
                     f"wrong{esc(runs)}: {items}</p>")  # fmt: skip
    return "".join(parts)


def export_html(analysis, title: str, marking: Marking | None = None) -> str:
    """The run as one self-contained HTML page (legend hover, coloring switch).

    Parameters
    ----------
    analysis : Analysis
        Every layer of it is drawn (pass ``analysis.simplified()`` for the simplified
        network, ``analysis.on_curve("paper")`` for the paper's curve), folded into
        columns as on the page (:func:`fracdash.export.layout.graph_layout`).
    title : str
        The page's heading and ``<title>``, e.g. the run's name.
    marking : Marking, optional
        A selection baked into every glyph variant (:func:`glyph_variants`), said
        under the heading.

    Returns
    -------
    str
        The HTML document: one ``<img class="fd-glyph">`` per layer (its absolute
        coloring, ``data-layer`` naming the layer), the variants as JSON in
        ``#fd-variants`` and the inlined script; no external URL.
    """
    graph = graph_layout(analysis)
    variants = glyph_variants(analysis, marking)
    intro = f'<p class="fd-note">{html.escape(run_line(analysis))}</p>' + marking_intro(marking)
    footer = (f"Exported by fracdash {__version__}: {graph.scale} px per sample, hover a "
              "class to show only it.")  # fmt: skip
    body = graph_markup(analysis, graph, variants)
    return document(title, intro, analysis, body, footer, variants)
