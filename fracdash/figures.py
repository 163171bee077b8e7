"""Pure plotly figure builders for an :class:`~fracdash.analysis.Analysis`.

Each ``*_figure`` function takes plain data and returns a ``plotly.graph_objects.Figure``;
nothing here imports Dash, so the builders can be tested (and reused) without a server.
Figures set no pixel width (the page sizes them) and a constant ``uirevision``, so a
Dash update keeps the user's zoom.
"""

from __future__ import annotations

import plotly.graph_objects as go

#: Paths drawn at most by :func:`quality_figure`.
MAX_PATHS = 8

_MARGIN = {"l": 48, "r": 16, "t": 40, "b": 40}


def confusion_figure(analysis) -> go.Figure:
    """Heatmap of the confusion matrix, counts in the cells, accuracy in the title.

    Parameters
    ----------
    analysis : Analysis
        Its ``confusion`` (k, k) counts: rows = truth (y axis, row 0 on top),
        columns = prediction (x axis); ``class_names`` (k) label both axes.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Heatmap`` trace whose ``z`` is the confusion matrix.
    """
    counts = analysis.confusion
    names = [str(name) for name in analysis.class_names]
    heatmap = go.Heatmap(
        z=counts.tolist(),
        x=names,
        y=names,
        text=counts.tolist(),
        texttemplate="%{text}",
        colorscale="Blues",
        zmin=0,
        showscale=False,
        hovertemplate="truth %{y}<br>predicted %{x}<br>%{z} samples<extra></extra>",
    )
    fig = go.Figure(heatmap)
    fig.update_layout(
        template="plotly_white",
        title={"text": f"accuracy {100 * analysis.accuracy:.2f}%", "x": 0.5},
        margin=_MARGIN,
        uirevision="confusion",
    )
    # Category axes: class names such as "0".."9" must not become numbers.
    fig.update_xaxes(title="predicted", type="category", side="bottom")
    fig.update_yaxes(title="truth", type="category", autorange="reversed", scaleanchor="x")
    return fig


def _predecessors(analysis) -> dict[str, list[str]]:
    """Inputs of each layer (shown ones only), in the order the layer lists them."""
    shown = {g.name for g in analysis.layers}
    return {g.name: [s for s in dict.fromkeys(g.inputs) if s in shown] for g in analysis.layers}


def branch_paths(analysis, limit: int = MAX_PATHS) -> list[list[str]]:
    """Source-to-sink paths of the layer DAG, longest first, at most ``limit``.

    Sources are the layers without inputs, the sink is the last layer. Among paths of
    equal length, the one whose layers come earlier in ``analysis.layers`` (compared
    position by position) goes first, so the result is deterministic. The top paths
    are found by dynamic programming over the topological order, never by listing
    every path (a residual network has exponentially many).

    Parameters
    ----------
    analysis : Analysis
        Its ``layers`` in topological order, ``edges`` between them.
    limit : int
        How many paths to keep, >= 1.

    Returns
    -------
    list of list of str
        Each path a list of layer names from a source to the sink; a chain gives one.
    """
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    if not analysis.layers:
        return []
    index = {g.name: i for i, g in enumerate(analysis.layers)}
    preds = _predecessors(analysis)

    def key(path: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
        return (-len(path), path)

    # best[name]: the top ``limit`` paths from any source to ``name``, as layer indices.
    best: dict[str, list[tuple[int, ...]]] = {}
    for g in analysis.layers:
        if not preds[g.name]:
            best[g.name] = [(index[g.name],)]
            continue
        candidates = {
            path + (index[g.name],) for src in preds[g.name] for path in best.get(src, [])
        }
        best[g.name] = sorted(candidates, key=key)[:limit]
    names = [g.name for g in analysis.layers]
    return [[names[i] for i in path] for path in best[names[-1]]]


def _path_label(path: list[str], main: list[str]) -> str:
    """``"via <layer>"``: the first layer of ``path`` off the main path or, for a path
    that only skips layers of it, the first layer where the two differ."""
    on_main = set(main)
    for name in path:
        if name not in on_main:
            return f"via {name}"
    for a, b in zip(path, main, strict=False):
        if a != b:
            return f"via {a}"
    return f"via {path[-1]}"


def quality_figure(analysis) -> go.Figure:
    """Quality per layer along each branch of the network, one line per path.

    Parameters
    ----------
    analysis : Analysis
        Layers in topological order, each with its ``quality`` in [0, 1].

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Scatter`` line per path of :func:`branch_paths` (at most 8): ``x`` the
        layers' indices in ``analysis.layers`` (ticks labelled with their names),
        ``y`` their qualities. The first line is named ``"main"``, the others
        ``"via <layer>"`` after the layer where they leave it.
    """
    layers = {g.name: g for g in analysis.layers}
    index = {g.name: i for i, g in enumerate(analysis.layers)}
    paths = branch_paths(analysis)
    fig = go.Figure()
    used: set[str] = set()
    for i, path in enumerate(paths):
        label = "main" if i == 0 else _path_label(path, paths[0])
        name, n = label, 2
        while name in used:  # two paths leaving at the same layer
            name, n = f"{label} ({n})", n + 1
        used.add(name)
        quality = [float(layers[p].quality) for p in path]
        fig.add_trace(
            go.Scatter(
                x=[index[p] for p in path],
                y=quality,
                name=name,
                mode="lines+markers",
                text=[f"{p}<br>quality {q:.3f}" for p, q in zip(path, quality, strict=True)],
                hovertemplate="%{text}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        template="plotly_white",
        margin=_MARGIN,
        uirevision="quality",
        showlegend=len(paths) > 1,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0.0},
        hovermode="closest",
    )
    fig.update_xaxes(
        tickmode="array",
        tickvals=list(range(len(analysis.layers))),
        ticktext=[g.name for g in analysis.layers],
        tickangle=-45,
    )
    fig.update_yaxes(title="quality", tickformat=".2f")
    return fig
