"""Every component id of the dashboard, defined once (kebab-case).

Outside tests and scripts address the page through these ids; never spell one out
anywhere else. Glyph images use a pattern-matching id built by :func:`glyph_id`.
"""

from __future__ import annotations

#: Dropdown of the built-in scenarios and stored analyses.
SCENARIO = "scenario"
#: The layer DAG: glyph nodes over an SVG of moving dotted edges.
DAG = "dag"
#: Per-class swatches; hovering one focuses every glyph on that class.
LEGEND = "legend"
#: Radio: absolute / relative coloring.
COLORING = "coloring"
#: Toggle: the simplified network (no Flatten/Reshape/Permute).
SIMPLIFY = "simplify"
#: Confusion matrix graph.
CONFUSION = "confusion"
#: Quality per layer graph.
QUALITY_CHART = "quality-chart"
#: Modal panel with one glyph shown large.
GLYPH_ZOOM = "glyph-zoom"
#: Content of the zoom panel (image and facts).
GLYPH_ZOOM_BODY = "glyph-zoom-body"
#: Button closing the zoom panel.
GLYPH_ZOOM_CLOSE = "glyph-zoom-close"
#: Status and live progress of a background computation.
PROGRESS = "progress"
#: One line: the analysis' own note (model file, VGG16 base weights...).
NOTE = "note"
#: One line, written by the browser: what of the run's sample data or images could not
#: be loaded, and the fix (assets/load_errors.js finds it by its class, fd-load-error).
LOAD_ERROR = "load-error"

#: Radio items: the curve glyphs are laid on ("compact" by default, or "paper").
CURVE = "curve"
#: Button copying the view's link (dcc.Clipboard).
COPY_LINK = "copy-link"
#: Links downloading the run as a PNG / a standalone HTML file.
DOWNLOAD_PNG = "download-png"
DOWNLOAD_HTML = "download-html"
#: Link downloading the run (and the comparison, while comparing) as data (CSV).
DOWNLOAD_DATA = "download-data"

#: dcc.Store: name of the run shown (set once it is in the store).
RUN = "run"
#: dcc.Store: name of a run to compute in the background (the last one asked for).
COMPUTE = "compute"
#: dcc.Store: name of the run a background job has just finished.
COMPUTED = "computed"
#: dcc.Interval refreshing the run list while some job is running (disabled otherwise).
JOBS_TICK = "jobs-tick"
#: dcc.Store: which partial graph of a run being computed the page shows ("run|pending").
PARTIAL_SHOWN = "partial-shown"
#: dcc.Store: ``run:count`` of the partial graphs stored by the job the page waits for
#: (set by the job watcher; the DAG and the legend redraw when it changes).
PARTIAL_TICK = "partial-tick"
#: dcc.Store: every glyph's PNG variants, {layer: {"absolute", "relative", "focus"}}.
GLYPH_VARIANTS = "glyph-variants"

#: ``type`` of the glyph images' pattern-matching ids.
GLYPH = "glyph"
#: ``type`` of the layer names' pattern-matching ids (a click enlarges the glyph).
GLYPH_NAME = "glyph-name"


def glyph_id(layer: str, side: str = "a") -> dict[str, str]:
    """Pattern-matching id of layer ``layer``'s glyph image (of run B: ``side="b"``)."""
    return {"type": GLYPH_B if side == "b" else GLYPH, "layer": layer}


def glyph_name_id(layer: str, side: str = "a") -> dict[str, str]:
    """Pattern-matching id of layer ``layer``'s name above its glyph (``side`` as above)."""
    return {"type": GLYPH_NAME_B if side == "b" else GLYPH_NAME, "layer": layer}


#: The charts panel (a details element: opened when two runs are first compared).
CHARTS_PANEL = "charts-panel"
#: Checklist in the charts panel: the confusion matrix row-normalised ("on", default).
CONFUSION_NORMALISE = "confusion-normalise"
#: Checklist in the charts panel: one quality line per class ("on").
QUALITY_PER_CLASS = "quality-per-class"
#: Which measure the quality chart plots (8-neighbour quality, kNN accuracy...).
QUALITY_MEASURE = "quality-measure"

# -- the comparison view: a second run beside the first (docs/method.md §9) ----------
#: Dropdown in the toolbar: the run compared with the one shown ("compare with").
VERSUS = "versus"
#: The graph area: both graphs; class ``fd-compare-on`` while comparing.
GRAPHS = "graphs"
#: The second run's layer graph (empty unless comparing).
DAG_B = "dag-b"
#: dcc.Store: the second run's glyph PNG variants, as :data:`GLYPH_VARIANTS`.
GLYPH_VARIANTS_B = "glyph-variants-b"
#: Holds the one line ``div.fd-compare-note``: refused (why) or what is compared.
COMPARE_NOTE = "compare-note"
#: Toolbar buttons shown while comparing: the samples the runs classify differently,
#: those whose neighbourhood changed most, the pixels colored by correctness in both.
DIFF_TOGGLE = "diff-toggle"
MOVED_TOGGLE = "moved-toggle"
LABELS_CORRECTNESS = "labels-correctness"
#: The comparison panel (charts side) and its parts.
COMPARE_PANEL = "compare-panel"
COMPARE_QUALITY = "compare-quality"
COMPARE_PAIRS = "compare-pairs"
#: Text input: the re-pairing "a1:b1,a2:b2" ("" = automatic), and its error line.
PAIRING = "pairing"
PAIRING_ERROR = "pairing-error"
CKA_HEATMAP = "cka-heatmap"
#: The heatmap's box (hidden where no CKA matrix is stored).
CKA_BOX = "cka-box"
#: What is said where no CKA matrix is stored (the command that computes it).
CKA_NOTE = "cka-note"
#: A run of a series: the step slider and the layers x steps quality heatmap.
SERIES = "series"
SERIES_STEP = "series-step"
SERIES_HEATMAP = "series-heatmap"

#: ``type`` of run B's glyph images and layer names (run A's: :data:`GLYPH`, :data:`GLYPH_NAME`).
GLYPH_B = "glyph-b"
GLYPH_NAME_B = "glyph-name-b"
