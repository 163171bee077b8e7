"""The charts beside the legend: confusion matrix and quality per layer, folded at first."""

from __future__ import annotations

from dash import dcc, html

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


#: Height of the quality chart's box (px); the confusion matrix's before its figure
#: arrives (then that figure's own, which grows with the classes).
QUALITY_HEIGHT = 380
CONFUSION_HEIGHT = 390


def chart_toggle(component_id: str, label: str, on: bool) -> dcc.Checklist:
    """One checkbox above a chart (value ``["on"]`` when checked)."""
    return dcc.Checklist(
        id=component_id,
        options=[{"label": label, "value": "on"}],
        value=["on"] if on else [],
        inline=True,
        className="fd-chart-toggle",
    )


def chart_graph(component_id: str, class_name: str, height: int) -> dcc.Graph:
    """A chart with its height in px on its own element: Dash's responsive graph would
    otherwise be 100% of the auto-height panel, i.e. 0 px, where Plotly's hover finds
    no point. The confusion matrix's height then follows its figure (charts callback)."""
    return dcc.Graph(
        id=component_id, className=class_name, config=GRAPH_CONFIG, style={"height": f"{height}px"}
    )


def charts_panel() -> html.Details:
    """Closed at first: the graph is the page. Opened, the side panel widens and the
    graph refits beside it (docs/decisions.md, "The page (issue 13)"). Each chart has
    its toggle above it: row-normalised confusion (on), one quality line per class."""
    return html.Details(
        [
            html.Summary("confusion matrix · quality", className="fd-charts-toggle"),
            html.Div(
                [
                    chart_toggle(ids.CONFUSION_NORMALISE, "row-normalised (% of true class)", True),
                    chart_graph(ids.CONFUSION, "fd-confusion", CONFUSION_HEIGHT),
                    chart_toggle(ids.QUALITY_PER_CLASS, "one line per class", False),
                    chart_graph(ids.QUALITY_CHART, "fd-quality-chart", QUALITY_HEIGHT),
                ],
                className="fd-charts",
            ),
        ],
        className="fd-charts-panel",
    )
