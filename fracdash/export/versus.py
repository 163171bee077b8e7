"""Two runs on the same samples in one export: both layer graphs side by side in one PNG
(:func:`export_png_pair`) or one self-contained HTML page (:func:`export_html_pair`), and
the comparison's tables (:func:`comparison_data`).

The two runs must hold the same samples in the same order
(:func:`fracdash.compare.check_same_samples`, else :class:`~fracdash.errors.CompareError`
with the reason); their layers are paired as a comparison pairs them
(:func:`fracdash.layer_pairs.pair_layers`: by name, else by relative depth, else as
given). Each side is titled with its run's name, and its metric where the two runs' metrics
differ; a line above both says how the layers were paired. The PNG pastes each run's own
export (:func:`fracdash.export.png.export_png`) unchanged; the page's legend hover and
coloring switch act on both graphs at once.
"""

from __future__ import annotations

import html
import io
from dataclasses import replace

from fracdash.compare import check_same_samples, compare_runs, stored_run
from fracdash.export.data import comparison_tables
from fracdash.export.layout import font, run_line, text_width
from fracdash.export.marking import Marking
from fracdash.export.png import BACKGROUND, MARGIN, TEXT, TITLE_SIZE, export_png
from fracdash.export.standalone import document, glyph_variants, graph_markup, marking_intro
from fracdash.layer_pairs import pair_layers
from fracdash.version import __version__

#: Pixels between the two pictures of a PNG (a thin rule is drawn in the middle).
GAP = 16
RULE = (217, 221, 227)
#: How each pairing (:data:`fracdash.layer_pairs.PAIRINGS`) is said on the pairing line.
PAIRED = {"name": "by name", "depth": "by depth", "given": "as given"}
SIDES = ("a", "b")
CSS = """
.fd-sides { display: flex; gap: 16px; align-items: flex-start; }
.fd-side { flex: 1 1 0; min-width: 0; }
.fd-side-title { margin: 10px 0 0; font-size: 17px; }
"""


def parse_pairing(text) -> list[str] | None:
    """The URL's ``pair`` text ``"a1:b1,a2:b2"`` as ``["a1:b1", "a2:b2"]`` (each checked by
    :func:`fracdash.layer_pairs.pair_layers`); None for no text (automatic pairing)."""
    if not isinstance(text, str):
        return None
    pairs = [part.strip() for part in text.split(",") if part.strip()]
    return pairs or None


def side_titles(names, analyses) -> tuple[str, str]:
    """Each side's title: its run's name, and its metric where the two runs' differ."""
    metrics = [a.meta.get("metric", "euclidean") for a in analyses]
    if metrics[0] == metrics[1]:
        return tuple(names)
    return tuple(f"{name} · metric {m}" for name, m in zip(names, metrics, strict=True))


def pairing_line(names, matched, pairing: str) -> str:
    """``comparing A with B · 5 layer pairs by name``; the pairs are listed unless they
    are paired by name."""
    count = f"{len(matched)} layer pair{'' if len(matched) == 1 else 's'}"
    line = f"comparing {names[0]} with {names[1]} · {count} {PAIRED[pairing]}"
    if pairing != "name":
        line += ": " + ", ".join(f"{a}~{b}" for a, b in matched)
    return line


def check_pair(names, analyses, entries, pairs=None) -> tuple[list[tuple[str, str]], str]:
    """The pairs of layers of two runs and how they were paired, once the runs are known
    to hold the same samples.

    Parameters
    ----------
    names, analyses, entries : pairs
        Both runs' names, full analyses (every layer) and catalog entries.
    pairs : list of "A:B" strings, optional
        The pairs as given (:func:`parse_pairing`); automatic by default.

    Raises
    ------
    CompareError
        Runs of other samples (the reason, in one line), or a pair naming a layer its
        run has not.
    """
    check_same_samples(names[0], analyses[0], entries[0], names[1], analyses[1], entries[1])
    return pair_layers(analyses[0], analyses[1], pairs)


def pair_png_layout(size_a, size_b, line: str) -> tuple[int, int, tuple, tuple]:
    """(width, height, top-left of A's picture, top-left of B's) of a PNG that puts
    pictures of ``size_a`` and ``size_b`` (width, height) side by side under ``line``."""
    ascent, descent = font(TITLE_SIZE).getmetrics()
    top = MARGIN + ascent + descent
    width = max(size_a[0] + GAP + size_b[0], text_width(line, TITLE_SIZE) + 2 * MARGIN)
    return width, top + max(size_a[1], size_b[1]), (0, top), (size_a[0] + GAP, top)


def export_png_pair(analyses, coloring: str, titles, line: str,
                    marking: Marking | None = None) -> bytes:  # fmt: skip
    """Both runs' layer graphs side by side in one PNG.

    Parameters
    ----------
    analyses : pair of Analysis
        As drawn (simplified, on a curve, as :func:`~fracdash.export.png.export_png`).
    coloring : {"absolute", "relative", "correctness"}
    titles : pair of str
        Each side's title (:func:`side_titles`).
    line : str
        The pairing line drawn above both (:func:`pairing_line`).
    marking : Marking, optional
        The selection, drawn in every glyph of both runs (its note ends the pairing
        line), and the correctness codes (:mod:`fracdash.export.marking`).

    Returns
    -------
    bytes
        An RGB PNG: ``export_png(analyses[i], coloring, title=titles[i],
        marking=marking)`` (without the note), pixel for pixel, at
        :func:`pair_png_layout`'s places.
    """
    from PIL import Image, ImageDraw

    if marking is not None and marking.note:
        line, marking = f"{line} · {marking.note}", replace(marking, note="")
    pictures = []
    for analysis, title in zip(analyses, titles, strict=True):
        drawn = export_png(analysis, coloring, title=title, marking=marking)
        with Image.open(io.BytesIO(drawn)) as image:
            pictures.append(image.convert("RGB"))
    width, height, at_a, at_b = pair_png_layout(pictures[0].size, pictures[1].size, line)
    picture = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    draw.text((MARGIN, MARGIN), line, font=font(TITLE_SIZE), fill=TEXT)
    rule = at_b[0] - GAP // 2
    draw.line([(rule, at_a[1]), (rule, height - MARGIN)], fill=RULE, width=1)
    picture.paste(pictures[0], at_a)
    picture.paste(pictures[1], at_b)
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def export_html_pair(analyses, names, titles, line: str, marking: Marking | None = None) -> str:
    """Both runs' layer graphs side by side in one self-contained HTML page.

    Each graph is a ``section.fd-side[data-side=a|b]`` holding its title
    (``h2.fd-side-title``), its run line and a ``.fd-dag-canvas[data-run][data-side]``
    placed as the single export places it. A glyph's ``data-layer`` is its key in the
    variants JSON, ``"a/<layer>"`` or ``"b/<layer>"`` (the layer's name is its
    ``data-name``), so that equal layer names stay apart; the legend hover and the
    coloring switch change both graphs. The legend is run A's (both runs hold the same
    labels). A ``marking`` is baked into both runs' glyphs
    (:func:`fracdash.export.standalone.glyph_variants`) and said under the pairing line.
    """
    from fracdash.export.layout import graph_layout

    esc = html.escape
    variants, sections, scales = {}, [], []
    for side, analysis, name, title in zip(SIDES, analyses, names, titles, strict=True):
        graph = graph_layout(analysis)
        scales.append(graph.scale)
        own = glyph_variants(analysis, marking)
        keys = {layer: f"{side}/{layer}" for layer in own}
        variants.update({keys[layer]: v for layer, v in own.items()})
        attrs = f' data-run="{esc(name)}" data-side="{side}"'
        sections.append(
            f'<section class="fd-side" data-side="{side}">'
            f'<h2 class="fd-side-title">{esc(title)}</h2>'
            f'<p class="fd-note">{esc(run_line(analysis))}</p>'
            f"{graph_markup(analysis, graph, own, keys, attrs)}</section>"
        )
    body = f'<div class="fd-sides">{"".join(sections)}</div>'
    intro = f'<p class="fd-note fd-compare-note">{esc(line)}</p>' + marking_intro(marking, names)
    footer = (f"Exported by fracdash {__version__}: {scales[0]} and {scales[1]} px per sample, "
              "hover a class to show only it in both graphs.")  # fmt: skip
    return document(f"{names[0]} vs {names[1]}", intro, analyses[0], body, footer, variants, CSS)


def comparison_data(store, names, pairs=None) -> tuple[dict, dict]:
    """(per-sample table, per-pair table) of the comparison of stored runs ``names``:
    :func:`fracdash.export.data.comparison_tables` of
    ``compare_runs(..., activations=False, cka="none")`` (a fuller comparison stored by
    ``fracdash compare`` is used as it is). Raises RunError, CompareError."""
    comparison = compare_runs(store, names[0], names[1], pairs=pairs, activations=False,
                              cka="none")  # fmt: skip
    analyses = [stored_run(store, name)[1] for name in names]
    return comparison_tables(comparison, *analyses)
