"""The comparison panel (charts side, shown while two runs are compared): both runs'
quality on one axis with their difference, the per-pair agreement table, the re-pairing
input, the layer x layer CKA heatmap (where a stored comparison holds one) and, for a
run of a series, the step slider and the layers x steps quality heatmap.

Builders only (no callbacks: :mod:`fracdash.web.callbacks.compare`); the figures set no
pixel width (the page sizes them) and a constant ``uirevision``.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
from dash import dcc, html

from fracdash.web import ids
from fracdash.web.chart_panel import GRAPH_CONFIG

#: The two runs' colors in the panel's charts (A as the page's quality chart draws it).
COLOR_A, COLOR_B, COLOR_DIFF = "#1f4e8c", "#d9730d", "#8a94a3"
#: Said where no stored comparison holds the CKA matrix.
CKA_MISSING = ("layer x layer CKA needs the layers' activations: run `fracdash compare {a} {b}` "
               "to compute and store it, then open this comparison again")  # fmt: skip
#: Said for every pair column of the table (docs/method.md §9).
COLUMNS = (
    ("layer A", "run A's layer"),
    ("layer B", "run B's layer it is paired with"),
    ("quality A", "run A's glyph quality (docs/method.md §6)"),
    ("quality B", "run B's glyph quality"),
    ("B − A", "quality B minus quality A"),
    ("curve", "curve agreement: share of each sample's curve neighbours that are its "
              "neighbours in both glyphs, mean over the samples"),
    ("kNN", "kNN overlap: share of each sample's k nearest neighbours the two layers "
            "share, mean (needs `fracdash compare`)"),
    ("CKA", "linear CKA of the two layers (needs `fracdash compare`)"),
)  # fmt: skip
_MARGIN = {"l": 44, "r": 44, "t": 36, "b": 40}


#: The panel's charts' heights (px): the charts' column scrolls while it shows.
HEIGHTS = {ids.COMPARE_QUALITY: 270, ids.CKA_HEATMAP: 300, ids.SERIES_HEATMAP: 280}


def _graph(component_id: str, class_name: str) -> dcc.Graph:
    return dcc.Graph(id=component_id, className=class_name, config=GRAPH_CONFIG,
                     responsive=True, figure={},
                     style={"height": f"{HEIGHTS[component_id]}px"})  # fmt: skip


def compare_panel() -> html.Div:
    """The panel's skeleton, hidden until two runs are compared; the callbacks fill it.
    The ``pairing`` input and a ``series-step`` slider are always in the page (the
    URL's ``pair`` restores the input; the slider is replaced when a series shows)."""
    return html.Div(
        [
            html.H2("comparison", className="fd-panel-title"),
            _graph(ids.COMPARE_QUALITY, "fd-compare-quality"),
            html.Div(id=ids.COMPARE_PAIRS, className="fd-pairs-box"),
            html.Label(
                [
                    html.Span("pair layers", className="fd-control-label"),
                    dcc.Input(id=ids.PAIRING, type="text", debounce=True, value="",
                              placeholder="automatic, or a1:b1,a2:b2", autoComplete="off",
                              spellCheck=False, className="fd-pairing-input"),  # fmt: skip
                ],
                className="fd-pairing",
                title="pair layer a1 of run A with layer b1 of run B...; empty: by name, "
                "else by relative depth (Enter applies)",
            ),
            html.Div(id=ids.PAIRING_ERROR, className="fd-pairing-error", role="alert"),
            html.Div(_graph(ids.CKA_HEATMAP, "fd-cka-heatmap"), id=ids.CKA_BOX,
                     className="fd-cka-box", hidden=True),  # fmt: skip
            html.Div(id=ids.CKA_NOTE, className="fd-cka-note"),
            html.Div(
                [
                    html.Div("checkpoints of the series: compare with step",
                             className="fd-control-label"),  # fmt: skip
                    html.Div(series_slider(), id=SLIDER_BOX, className="fd-series-step-box"),
                    _graph(ids.SERIES_HEATMAP, "fd-series-heatmap"),
                ],
                id=ids.SERIES,
                className="fd-series",
                hidden=True,
            ),
        ],
        id=ids.COMPARE_PANEL,
        className="fd-compare-panel",
        hidden=True,
    )


#: The slider's box: the slider is built anew, its value given, whenever it is shown.
SLIDER_BOX = "series-step-box"


def series_slider(low=0, high=1, marks=None, value=None, step=1) -> dcc.Slider:
    """The ``series-step`` slider, its value known when it is built. Built anew (not
    only updated) each time it shows, so that its first frame shows that value: the
    slider copies a changed ``value`` into its thumb only after a frame drawn with the
    old one, and a key pressed on that frame moved the old thumb (the press lost)."""
    return dcc.Slider(id=ids.SERIES_STEP, min=low, max=high, step=step, marks=marks or {},
                      value=value, included=False, className="fd-series-step")  # fmt: skip


def note_line(state: str = "", text: str = "") -> html.Div:
    """The one line under the toolbar: empty, ``refused`` (why) or ``ok`` (what)."""
    extra = {"data-state": state} if state else {}
    return html.Div(text or None, className="fd-compare-note", title=text, **extra)


def ok_text(found, metrics=(None, None)) -> str:
    """``comparing A with B · 8 layer pairs by name``; each run's metric named when the
    two differ (``comparing easy (euclidean) with easy-cosine (cosine) · …``)."""
    how = {"name": "by name", "depth": "by depth", "given": "as given"}[found.pairing]
    count = len(found.pairs)
    a, b = found.run_a, found.run_b
    if metrics[0] != metrics[1]:
        a, b = f"{a} ({metrics[0]})", f"{b} ({metrics[1]})"
    return (f"comparing {a} with {b} · {count} layer "
            f"{'pair' if count == 1 else 'pairs'} {how}")  # fmt: skip


def pair_label(a: str, b: str) -> str:
    return a if a == b else f"{a} ~ {b}"


def compare_quality_figure(found) -> go.Figure:
    """Both runs' quality per pair of layers on one axis, and B − A as bars on a second
    axis; a point's ``customdata`` is its pair (a click opens both glyphs)."""
    x = [pair_label(p.a, p.b) for p in found.pairs]
    pairs = [[p.a, p.b] for p in found.pairs]
    hint = "<br><i>click: both glyphs, enlarged</i><extra></extra>"
    traces = [
        go.Bar(x=x, y=[p.difference for p in found.pairs], name="B − A", yaxis="y2",
               marker_color=COLOR_DIFF, opacity=0.55, customdata=pairs,
               hovertemplate="%{x}: B − A %{y:+.3f}" + hint),  # fmt: skip
        *(
            go.Scatter(x=x, y=[getattr(p, f"quality_{side}") for p in found.pairs],
                       name=f"{side.upper()}: {run}", mode="lines+markers",
                       line={"color": color, "width": 2}, customdata=pairs,
                       hovertemplate=f"%{{x}}: {run} %{{y:.3f}}" + hint)  # fmt: skip
            for side, run, color in (("a", found.run_a, COLOR_A), ("b", found.run_b, COLOR_B))
        ),
    ]
    spread = max((abs(p.difference) for p in found.pairs), default=0.0) or 0.05
    figure = go.Figure(traces)
    figure.update_layout(
        title={"text": "quality of both runs, and B − A", "font": {"size": 14}},
        margin=_MARGIN, uirevision="compare", hovermode="closest",
        legend={"orientation": "h", "y": -0.25, "font": {"size": 11}},
        yaxis={"title": "quality", "range": [0, 1.02]},
        yaxis2={"title": "B − A", "overlaying": "y", "side": "right", "showgrid": False,
                "zeroline": True, "range": [-1.1 * spread, 1.1 * spread], "nticks": 5,
                "tickformat": "+.2~f"},
        xaxis={"tickangle": -40, "tickfont": {"size": 10}},
        plot_bgcolor="#fff",
    )  # fmt: skip
    return figure


def _number(value, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def pairs_table(found) -> html.Table:
    """``table.fd-pairs``: one ``tr[data-a][data-b]`` per pair of layers, with both
    qualities, their difference and the agreement measures (– where not computed)."""
    head = html.Thead(html.Tr([html.Th(name, title=title, scope="col") for name, title in COLUMNS]))
    rows = [
        html.Tr(
            [
                html.Td(p.a),
                html.Td(p.b),
                *(html.Td(_number(v), className="fd-num") for v in (p.quality_a, p.quality_b)),
                html.Td(_number(p.difference, signed=True), className="fd-num",
                        **{"data-sign": "+" if p.difference > 0 else "-" if p.difference < 0
                           else "0"}),  # fmt: skip
                *(html.Td(_number(v), className="fd-num") for v in (p.curve, p.knn, p.cka)),
            ],
            **{"data-a": p.a, "data-b": p.b},
        )
        for p in found.pairs
    ]
    return html.Table([head, html.Tbody(rows)], className="fd-pairs")


def cka_figure(found) -> go.Figure:
    """Linear CKA of every layer of run A (rows, first on top) with every layer of run B
    (columns); a cell's click opens both glyphs."""
    z = [[None if v is None or math.isnan(v) else float(v) for v in row] for row in found.cka]
    figure = go.Figure(
        go.Heatmap(z=z, x=list(found.layers_b), y=list(found.layers_a), zmin=0, zmax=1,
                   colorscale="Viridis", colorbar={"title": {"text": "CKA"}, "thickness": 10},
                   hovertemplate=f"{found.run_a}: %{{y}}<br>{found.run_b}: %{{x}}<br>"
                   "CKA %{z:.3f}<br><i>click: both glyphs, enlarged</i><extra></extra>")
    )  # fmt: skip
    figure.update_layout(
        title={"text": "layer × layer linear CKA", "font": {"size": 14}},
        margin={"l": 80, "r": 16, "t": 36, "b": 80}, uirevision="cka",
        xaxis={"title": f"B: {found.run_b}", "tickangle": -40, "tickfont": {"size": 10}},
        yaxis={"title": f"A: {found.run_a}", "autorange": "reversed", "tickfont": {"size": 10}},
    )  # fmt: skip
    return figure


def series_figure(layers, steps, z, run_b_step=None, run_a_step=None) -> go.Figure:
    """Quality of every layer (rows, first on top) at every step of a series (columns);
    the compared steps outlined (A solid, B dashed)."""
    x = [str(s) for s in steps]
    figure = go.Figure(
        go.Heatmap(z=z, x=x, y=list(layers), zmin=0, zmax=1, colorscale="Blues",
                   colorbar={"title": {"text": "quality"}, "thickness": 10},
                   hovertemplate="step %{x} · %{y}: quality %{z:.3f}<br>"
                   "<i>click: compare with this step</i><extra></extra>")
    )  # fmt: skip
    shapes = [
        {"type": "rect", "xref": "x", "yref": "paper", "x0": steps.index(s) - 0.5,
         "x1": steps.index(s) + 0.5, "y0": 0, "y1": 1,
         "line": {"color": color, "width": 2, "dash": dash}}
        for s, color, dash in ((run_a_step, COLOR_A, "solid"), (run_b_step, COLOR_B, "dash"))
        if s in steps
    ]  # fmt: skip
    figure.update_layout(
        title={"text": "quality per layer at each step", "font": {"size": 14}},
        margin={"l": 80, "r": 16, "t": 36, "b": 40}, uirevision="series", shapes=shapes,
        xaxis={"title": "step", "type": "category"},
        yaxis={"autorange": "reversed", "tickfont": {"size": 10}},
    )  # fmt: skip
    return figure
