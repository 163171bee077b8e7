"""The quality chart's other measures: kNN accuracy, hubness or trustworthiness per layer
(:mod:`fracdash.measuring`), drawn as the quality chart draws quality.

Plotly only, never Dash (as :mod:`fracdash.figures`).
"""

from __future__ import annotations

import plotly.graph_objects as go

from fracdash.analysis import MEASURE_FIELDS
from fracdash.figures import _MARGIN, CLICK_HINT, PATH_INK, depth_axis, quality_figure
from fracdash.readings import branch_paths, layer_depths, path_names

#: What the chart's selector offers, value -> label ("quality" first, the default).
MEASURE_LABELS = {
    "quality": "8-neighbour quality",
    "knn_accuracy": "kNN accuracy",
    "hubness": "hubness",
    "trustworthiness": "trustworthiness",
}

#: One line under each measure's title (docs/method.md §3.4).
MEASURE_EXPLAINED = {
    "knn_accuracy": "leave-one-out accuracy of the k nearest samples' vote in the layer's space",
    "hubness": "skewness of how often each sample is among others' k nearest (0: no hubs)",
    "trustworthiness": "how far the glyph's k nearest pixels are the layer's own neighbours",
}


def has_measures(analysis) -> bool:
    """Whether ``analysis``'s layers carry measures (runs from before them do not)."""
    return any(g.knn_accuracy is not None for g in analysis.layers)


def measure_figure(analysis, measure: str = "quality", per_class: bool = False) -> go.Figure:
    """One measure over depth along each branch of the network, one line per path.

    Parameters
    ----------
    analysis : Analysis
        Layers in topological order; for a measure other than quality, each glyph's
        field of that name (None where not measured: a gap in the line).
    measure : {"quality", "knn_accuracy", "hubness", "trustworthiness"}
        "quality" is :func:`fracdash.figures.quality_figure` (with ``per_class``).

    Returns
    -------
    plotly.graph_objects.Figure
        As :func:`~fracdash.figures.quality_figure`'s paths: one ``Scatter`` per path
        (``meta["kind"] == "path"``, each point's ``customdata`` its layer's name), ``x``
        each layer's depth, ``y`` its measure. ``layout.meta``: ``{"x_of_layer": {layer:
        x}, "measure": measure, "per_class": False}``.
    """
    if measure == "quality":
        return quality_figure(analysis, per_class)
    if measure not in MEASURE_FIELDS:
        raise ValueError(f"measure must be one of {', '.join(MEASURE_LABELS)}, not {measure!r}")
    depths, paths = layer_depths(analysis), branch_paths(analysis)
    layers, label = {g.name: g for g in analysis.layers}, MEASURE_LABELS[measure]
    fig = go.Figure()
    for i, (path, name) in enumerate(zip(paths, path_names(paths), strict=True)):
        values = [getattr(layers[p], measure) for p in path]
        fig.add_trace(
            go.Scatter(
                x=[depths[p] for p in path],
                y=values,
                customdata=list(path),
                name=name,
                mode="lines+markers",
                text=[
                    f"{p}<br>{label} " + ("—" if v is None else f"{v:.3f}")
                    for p, v in zip(path, values, strict=True)
                ],
                hovertemplate=f"%{{text}}<br>{CLICK_HINT}<extra>%{{fullData.name}}</extra>",
                line={
                    "color": PATH_INK,
                    "width": 3,
                    "dash": ("solid", "dash", "dot", "dashdot", "longdash")[i % 5],
                },
                meta={"kind": "path", "path": i},
                showlegend=len(paths) > 1,
            )
        )
    k = analysis.meta.get("measures_k", 10)
    fig.update_layout(
        template="plotly_white",
        title={
            "text": f"{label} per layer (k = {k})",
            "subtitle": {"text": MEASURE_EXPLAINED[measure]},
            "x": 0.0,
            "xanchor": "left",
            "y": 0.98,
            "yanchor": "top",
            "yref": "container",
            "font": {"size": 14},
        },
        margin={**_MARGIN, "t": 72},
        uirevision=f"measure-{measure}",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0.0, "font": {"size": 11}},
        hovermode="closest",
        meta={"x_of_layer": depths, "measure": measure, "per_class": False},
    )
    return depth_axis(fig, depths, label)
