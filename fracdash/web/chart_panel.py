"""The charts beside the legend: confusion matrix and quality per layer, folded at first."""

from __future__ import annotations

from dash import dcc, html

from fracdash.figures import DEGRADED_COLOR, ONSET_COLOR, READING_MEANS
from fracdash.measure_figure import MEASURE_LABELS
from fracdash.web import ids

#: Charts offer no way to send data off the server: no Plotly logo link, no "Edit in
#: Chart Studio" / "Share chart" (both upload the figure to Plotly's cloud), no link.
GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showLink": False,
    "sendData": False,
    "modeBarButtonsToRemove": ["sendDataToCloud", "editInChartStudio"],
}

#: The least height of the quality chart (px): its titles, a plot and its layer names.
#: The confusion matrix's least height follows its classes (``layout.meta.min_height``,
#: applied by the charts callback).
QUALITY_MIN_HEIGHT = 240


def chart_toggle(component_id: str, label: str, on: bool) -> dcc.Checklist:
    """One checkbox above a chart (value ``["on"]`` when checked)."""
    return dcc.Checklist(
        id=component_id,
        options=[{"label": label, "value": "on"}],
        value=["on"] if on else [],
        inline=True,
        className="fd-chart-toggle",
    )


def chart_graph(component_id: str, class_name: str, min_height: int) -> dcc.Graph:
    """A chart filling its share of the charts column (assets/fracdash.css), never
    below ``min_height`` px: a responsive graph in a box of a definite height, so
    Plotly's hover finds the point under the pointer (it finds none in a 0 px box)."""
    return dcc.Graph(
        id=component_id,
        className=class_name,
        config=GRAPH_CONFIG,
        responsive=True,
        style={"minHeight": f"{min_height}px"},
    )


def measure_options(measured: bool) -> list[dict]:
    """The quality chart's measures; all but quality disabled for a run without
    measures (runs from before them, a metric without exact neighbours)."""
    return [
        {"label": label, "value": value, "disabled": value != "quality" and not measured}
        for value, label in MEASURE_LABELS.items()
    ]


def measure_selector() -> dcc.RadioItems:
    """Which measure the quality chart plots: 8-neighbour quality (default), kNN
    accuracy, hubness or trustworthiness (:mod:`fracdash.measuring`)."""
    return dcc.RadioItems(
        id=ids.QUALITY_MEASURE,
        options=measure_options(False),
        value="quality",
        inline=True,
        labelStyle={"marginRight": "0.8em"},
        className="fd-chart-toggle fd-quality-measure",
    )


def reading_key() -> html.Div:
    """What the quality chart's ▲ and ▼ (and the graph's) mean."""
    return html.Div(
        [
            html.Div(["▲ ", READING_MEANS["onset"]], className="fd-reading-onset"),
            html.Div(["▼ ", READING_MEANS["degraded"]], className="fd-reading-degraded"),
        ],
        className="fd-reading-key",
        style={"--fd-onset": ONSET_COLOR, "--fd-degraded": DEGRADED_COLOR},
    )


def charts_panel(first=None) -> html.Details:
    """Closed at first: the graph is the page. Opened, the charts take a column of their
    own beside the legend's, the whole height of the panel, and the graph refits beside
    them; the two charts share that height, so both are whole in a 1280×720 window
    (docs/decisions.md, "The page"). Their toggles and the flags' key stay under the
    legend: row-normalised confusion (on), one quality line per class (off). ``first``:
    a panel above the charts in their column (the comparison panel,
    :func:`fracdash.web.compare_panel.compare_panel`: hidden unless two runs are
    compared, when the column scrolls)."""
    return html.Details(
        [
            html.Summary("confusion matrix · quality", className="fd-charts-toggle"),
            html.Div(
                [
                    chart_toggle(ids.CONFUSION_NORMALISE, "row-normalised (% of true class)", True),
                    chart_toggle(ids.QUALITY_PER_CLASS, "one line per class", False),
                    measure_selector(),
                    reading_key(),
                ],
                className="fd-chart-options",
            ),
            html.Div(
                [
                    # Two runs compared: their comparison first (hidden otherwise).
                    *([first] if first is not None else []),
                    # The confusion matrix's least height comes with its figure.
                    chart_graph(ids.CONFUSION, "fd-confusion", QUALITY_MIN_HEIGHT),
                    chart_graph(ids.QUALITY_CHART, "fd-quality-chart", QUALITY_MIN_HEIGHT),
                ],
                className="fd-charts",
            ),
        ],
        id=ids.CHARTS_PANEL,
        className="fd-charts-panel",
    )
