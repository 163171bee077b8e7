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


def charts_panel() -> html.Details:
    """Closed at first: the graph is the page. Opened, the side panel widens and the
    graph refits beside it (docs/decisions.md, "The page (issue 13)")."""
    return html.Details(
        [
            html.Summary("confusion matrix · quality", className="fd-charts-toggle"),
            html.Div(
                [
                    dcc.Graph(id=ids.CONFUSION, className="fd-confusion", config=GRAPH_CONFIG),
                    dcc.Graph(
                        id=ids.QUALITY_CHART, className="fd-quality-chart", config=GRAPH_CONFIG
                    ),
                ],
                className="fd-charts",
            ),
        ],
        className="fd-charts-panel",
    )
