"""The confusion matrix chart of an :class:`~fracdash.analysis.Analysis`: row-normalised
shares with the counts on hover, or the counts themselves, as a plotly figure (no Dash,
like :mod:`fracdash.figures`, whose margins it shares)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from fracdash.figures import _MARGIN

#: Confusion matrices with more classes than this show no numbers in the cells.
MAX_CELL_TEXT = 12


def confusion_figure(analysis, normalise: bool = True) -> go.Figure:
    """Heatmap of the confusion matrix, accuracy in the title, a colorbar.

    Parameters
    ----------
    analysis : Analysis
        Its ``confusion`` (k, k) counts: rows = truth (y axis, row 0 on top),
        columns = prediction (x axis); ``class_names`` (k) label both axes, in class
        order (a clicked cell's ``(y, x)`` names its (truth, predicted) classes).
    normalise : bool
        Color each row divided by its truth count (in %), so confusions stand out
        beside a full diagonal; else the raw counts. The hover gives both.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Heatmap`` trace: ``z`` the row shares in % (or the counts), ``customdata``
        per cell ``[count, row total, share in %]``. Its height grows with k;
        ``layout.meta["min_height"]`` is :func:`confusion_min_height` (the page fits the
        chart to its box, never below that).
    """
    counts = analysis.confusion
    k = len(analysis.class_names)
    names = [str(name) for name in analysis.class_names]
    totals = counts.sum(axis=1, keepdims=True)
    variants = confusion_variants(counts)
    shown = variants["normalised" if normalise else "raw"]
    shares = np.array(variants["normalised"]["z"])
    custom = np.stack([counts, np.broadcast_to(totals, counts.shape), shares], -1)
    # Cell numbers while a cell is wide enough for them (the panel is ~450 px wide).
    text = "%{z:.0f}" if k <= MAX_CELL_TEXT else ""
    heatmap = go.Heatmap(
        z=shown["z"],
        x=names,
        y=names,
        customdata=custom.tolist(),
        texttemplate=text,
        textfont={"size": 11 if k <= 10 else 9},
        colorscale="Blues",
        zmin=0,
        zmax=shown["zmax"],
        colorbar={
            "title": {"text": shown["colorbar"], "side": "right"},
            "thickness": 12,
            "ticksuffix": shown["ticksuffix"],
        },
        hovertemplate="true %{y}, predicted %{x}<br>%{customdata[0]} of %{customdata[1]}"
        " samples (%{customdata[2]:.1f}%)<extra></extra>",
    )
    fig = go.Figure(heatmap)
    tick_font = {"size": 12 if k <= 10 else 10}
    fig.update_layout(
        template="plotly_white",
        title={
            "text": f"confusion matrix · accuracy {100 * analysis.accuracy:.2f}%",
            "subtitle": {"text": shown["subtitle"]},
            "x": 0.0,
            "xanchor": "left",
            "font": {"size": 14},
        },
        margin={**_MARGIN, "t": 56, "l": 60},
        height=170 + max(k, 10) * 22,  # ~22 px a row: no squashing at 20 classes
        uirevision="confusion",
        meta={
            "normalised": bool(normalise),
            "variants": variants,
            "min_height": confusion_min_height(k),
        },
    )
    # Category axes: class names ("0".."9") stay names, each one shown (dtick 1).
    fig.update_xaxes(
        title="predicted class",
        type="category",
        dtick=1,
        side="bottom",
        tickfont=tick_font,
        tickangle=-90 if k > 10 else (-45 if max(map(len, names), default=0) > 4 else 0),
    )
    fig.update_yaxes(
        title="true class", type="category", dtick=1, autorange="reversed", tickfont=tick_font
    )
    return fig


def confusion_min_height(k: int) -> int:
    """The least height (px) at which a confusion matrix of ``k`` classes keeps its
    titles, its axes and a row of ~15 px per class (its numbers stay legible)."""
    return 140 + max(k, 4) * 15


def confusion_variants(counts) -> dict[str, dict]:
    """The two ways to color a confusion matrix, for the page to switch between without
    a server round trip: ``"normalised"`` (each row in % of its truth count) and
    ``"raw"`` (counts), each ``{"z", "zmax", "colorbar", "ticksuffix", "subtitle"}``.

    Parameters
    ----------
    counts : ndarray of int, shape (k, k)
        Rows = truth, columns = prediction.
    """
    counts = np.asarray(counts)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.round(100 * counts / np.maximum(totals, 1), 2)
    return {
        "normalised": {
            "z": shares.tolist(),
            "zmax": 100,
            "colorbar": "% of true class",
            "ticksuffix": "%",
            "subtitle": "each row divided by its true count",
        },
        "raw": {
            "z": counts.tolist(),
            "zmax": int(max(counts.max(initial=0), 1)),
            "colorbar": "samples",
            "ticksuffix": "",
            "subtitle": "raw counts",
        },
    }
