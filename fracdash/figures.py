"""Pure plotly figure builders for an :class:`~fracdash.analysis.Analysis`.

Each ``*_figure`` function takes plain data and returns a ``plotly.graph_objects.Figure``;
nothing here imports Dash, so the builders can be tested (and reused) without a server.
Figures set no pixel width (the page sizes them) and a constant ``uirevision``, so a
Dash update keeps the user's zoom.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from fracdash.core import class_quality
from fracdash.glyphs import class_color
from fracdash.readings import (
    DEGRADATION,
    branch_paths,
    layer_depths,
    layer_readings,
    path_names,
)

#: One line under the quality chart's title: the metric, as docs/method.md §6.5 defines it.
QUALITY_EXPLAINED = (
    "quality: share of each sample's 8 neighbouring pixels that hold a sample of its class"
)

#: Flag colors on the quality chart, and the paths' ink when the classes take the colors.
ONSET_COLOR = "#1a7f37"
DEGRADED_COLOR = "#c62828"
PATH_INK = "#1d2228"
#: What the onset and degraded flags mean (:mod:`fracdash.readings`), said wherever a
#: flag is shown: the quality chart's markers and notes, the page's key under the chart
#: and the graph's ▲ / ▼ (fracdash/web/dag.py).
READING_MEANS = {
    "onset": "onset: where quality rises most (the classes start to separate)",
    "degraded": f"degraded: quality {DEGRADATION} or more below the best layer before it",
}
#: Said by every point's hover: a click opens the layer's glyph (the page's zoom).
CLICK_HINT = "<i>click: the glyph, enlarged</i>"
#: The flags' markers, as the graph marks the same layers: ▲ onset, ▼ degraded.
_FLAG_SYMBOLS = {"onset": "triangle-up", "degraded": "triangle-down"}

_MARGIN = {"l": 48, "r": 16, "t": 40, "b": 40}


def _depth_ticks(depths: dict[str, int]) -> tuple[list[int], list[str]]:
    """Tick values 0..D and, at each depth, the names of the layers there (two at most
    spelled out, the rest counted)."""
    at: dict[int, list[str]] = {}
    for name, d in depths.items():
        at.setdefault(d, []).append(name)
    values = sorted(at)
    texts = [
        " / ".join(at[d][:2]) + (f" +{len(at[d]) - 2}" if len(at[d]) > 2 else "") for d in values
    ]
    return values, texts


def depth_axis(fig: go.Figure, depths: dict[str, int], title: str) -> go.Figure:
    """The x axis of a per-layer chart by depth (tick at each depth, its layers named)
    and the y axis titled ``title``: the quality chart's and the measures'."""
    ticks, texts = _depth_ticks(depths)
    fig.update_xaxes(
        title="depth (layers from the input, as in the graph)",
        tickmode="array",
        tickvals=ticks,
        ticktext=texts,
        tickangle=-45,
        tickfont={"size": 10},
    )
    fig.update_yaxes(title=title, tickformat=".2f")
    return fig


def _flag_traces(analysis, depths, readings) -> tuple[list[go.Scatter], list[dict]]:
    """Markers and annotations of the onset and the degraded layers."""
    quality = {g.name: float(g.quality) for g in analysis.layers}
    traces, notes = [], []
    onset, degraded = readings["onset"], readings["degraded"]
    if onset is not None:
        traces.append(_flag(analysis, [onset], depths, "onset", ONSET_COLOR))
        notes.append(_note(depths[onset], quality[onset], "onset", ONSET_COLOR, -34))
    if degraded:
        traces.append(_flag(analysis, degraded, depths, "degraded", DEGRADED_COLOR))
        first = degraded[0]
        notes.append(_note(depths[first], quality[first], "degraded", DEGRADED_COLOR, 34))
    return traces, notes


def _flag(analysis, names, depths, kind, color) -> go.Scatter:
    quality = [float(analysis.layer(n).quality) for n in names]
    what = READING_MEANS[kind]
    return go.Scatter(
        x=[depths[n] for n in names],
        y=quality,
        customdata=list(names),
        mode="markers",
        name=kind,
        showlegend=False,
        marker={"symbol": _FLAG_SYMBOLS[kind], "size": 13, "color": color, "line": {"width": 1}},
        text=[f"{n}<br>quality {q:.3f}<br>{what}" for n, q in zip(names, quality, strict=True)],
        hovertemplate=f"%{{text}}<br>{CLICK_HINT}<extra></extra>",
        meta={"kind": kind, "layers": list(names)},
    )


def _note(x, y, text, color, ay) -> dict:
    return {
        "x": x,
        "y": y,
        "text": text,
        "hovertext": READING_MEANS[text],
        "showarrow": True,
        "arrowhead": 2,
        "ax": 0,
        "ay": ay,
        "font": {"color": color, "size": 12},
        "arrowcolor": color,
    }


def _line(path, x, y, name, **style) -> go.Scatter:
    """A line through ``path``'s layers; each point's ``customdata`` is its layer's
    name (a click on it opens that glyph, fracdash/web/callbacks/zoom.py)."""
    return go.Scatter(
        x=x,
        y=y,
        customdata=list(path),
        name=name,
        mode="lines+markers",
        text=[f"{p}<br>quality {q:.3f}" for p, q in zip(path, y, strict=True)],
        hovertemplate=f"%{{text}}<br>{CLICK_HINT}<extra>%{{fullData.name}}</extra>",
        **style,
    )


def _class_lines(analysis, paths, depths, visible: bool) -> list[go.Scatter]:
    """One line per class (its own quality, docs/method.md §6.6), drawn along every
    path; a class's lines share its color and one legend group, and overlap where the
    paths do. The first of them names the class in the chart's second legend (right of
    the plot, titled "class"), which Plotly draws only while the lines are shown."""
    k = len(analysis.class_names)
    on_paths = {name for path in paths for name in path}
    per_class = {
        g.name: class_quality(g.positions, analysis.color_labels, k)
        for g in analysis.layers
        if g.name in on_paths
    }
    lines = []
    for c, class_name in enumerate(analysis.class_names):
        if np.isnan(per_class[paths[0][0]][c]):
            continue  # no sample of this class
        for i, path in enumerate(paths):
            y = [float(per_class[p][c]) for p in path]
            lines.append(
                _line(
                    path,
                    [depths[p] for p in path],
                    y,
                    str(class_name),
                    legendgroup=f"class-{c}",
                    legend="legend2",
                    showlegend=i == 0,
                    visible=visible,
                    opacity=0.9,
                    line={"color": class_color(c, analysis), "width": 1.5},
                    marker={"size": 4},
                    meta={"kind": "class", "class": c, "path": i},
                )
            )
    return lines


def _legend_rows(names: list[str], width: float = 380.0) -> int:
    """Rows a horizontal legend of ``names`` takes in ``width`` px (11 px font: a
    swatch and gap of ~45 px, ~6.2 px a character), so the top margin holds it under
    the title."""
    rows, used = 1, 0.0
    for name in names:
        entry = 45 + 6.2 * len(name)
        if used and used + entry > width:
            rows, used = rows + 1, 0.0
        used += entry
    return rows


def quality_figure(analysis, per_class: bool = False) -> go.Figure:
    """Quality over depth along each branch of the network, one line per path.

    Parameters
    ----------
    analysis : Analysis
        Layers in topological order, each with its ``quality`` in [0, 1].
    per_class : bool
        Show the per-class lines: one per class and path, in the class's color, the
        quality restricted to that class's samples (:func:`fracdash.core.class_quality`)
        on the same grid. They are in the figure either way (hidden when False), for
        the page to show without asking the server again.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Scatter`` line per path of :func:`fracdash.readings.branch_paths` (at most
        8), in dark ink told apart by dash: ``x`` each layer's depth
        (:func:`fracdash.readings.layer_depths`: its rank in the drawn graph, so
        parallel branches share an x), ``y`` its quality; named by
        :func:`fracdash.readings.path_names`. The onset and degraded layers
        (:func:`fracdash.readings.layer_readings`) get markers (▲, ▼) and notes whose
        hover says what they mean (:data:`READING_MEANS`). Every trace's
        ``meta["kind"]`` is ``"path"``, ``"class"``, ``"onset"`` or ``"degraded"``, and
        every point's ``customdata`` its layer's name. The class lines carry their class
        names in a second legend (``legend2``), shown with them.
        ``layout.meta``: ``{"x_of_layer": {layer: x}, "readings": {...},
        "per_class": bool}``.
    """
    depths = layer_depths(analysis)
    paths = branch_paths(analysis)
    names = path_names(paths)
    readings = layer_readings(analysis)
    layers = {g.name: g for g in analysis.layers}
    # The class lines are always there, shown or hidden: the page's per-class toggle
    # only flips their visibility (fracdash/web/callbacks/charts.py), with no round trip.
    fig = go.Figure(_class_lines(analysis, paths, depths, visible=per_class))
    for i, (path, name) in enumerate(zip(paths, names, strict=True)):
        # The classes own the colors: the paths are in dark ink, told apart by dash.
        dash = ("solid", "dash", "dot", "dashdot", "longdash")[i % 5]
        style = {"line": {"color": PATH_INK, "width": 3, "dash": dash}}
        quality = [float(layers[p].quality) for p in path]
        fig.add_trace(
            _line(
                path,
                [depths[p] for p in path],
                quality,
                name,
                meta={"kind": "path", "path": i},
                showlegend=len(paths) > 1,  # a lone line needs no legend
                **style,
            )
        )
    flags, notes = _flag_traces(analysis, depths, readings)
    fig.add_traces(flags)
    legend_rows = _legend_rows(names) if len(paths) > 1 else 0
    fig.update_layout(
        template="plotly_white",
        title={
            "text": "quality per layer",
            "subtitle": {"text": QUALITY_EXPLAINED},
            "x": 0.0,
            "xanchor": "left",
            "y": 0.98,
            "yanchor": "top",
            "yref": "container",
            "font": {"size": 14},
        },
        margin={**_MARGIN, "t": 72 + 20 * legend_rows},
        uirevision="quality",
        showlegend=True,  # per trace; Plotly leaves hidden ones out (the class lines)
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.0,
            "x": 0.0,
            "font": {"size": 11},
        },
        # The class lines' names, right of the plot (scrolling when they outnumber it).
        legend2={
            "title": {"text": "class", "font": {"size": 11}},
            "x": 1.02,
            "y": 1.0,
            "xanchor": "left",
            "yanchor": "top",
            "font": {"size": 10},
            "tracegroupgap": 0,
            "itemwidth": 30,
        },
        hovermode="closest",
        annotations=notes,
        meta={"x_of_layer": depths, "readings": readings, "per_class": bool(per_class)},
    )
    return depth_axis(fig, depths, "quality")
