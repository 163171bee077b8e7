"""Onset and degradation flags on the graph's nodes (issue 14, part 3): the nodes the
page marks are those fracdash.readings names, recomputed here from the qualities."""

from __future__ import annotations

from dataclasses import replace

from helpers import toy_analysis, walk

from fracdash.web.dag import dag_children, dag_view


def with_qualities(analysis, qualities):
    layers = [replace(g, quality=q) for g, q in zip(analysis.layers, qualities, strict=True)]
    return replace(analysis, layers=layers)


def flags_of(analysis) -> dict:
    tree = dag_children(dag_view(analysis))
    return {
        n.to_plotly_json()["props"]["data-layer"]: n.to_plotly_json()["props"].get("data-reading")
        for n in walk(tree)
        if getattr(n, "className", None) == "fd-node"
    }


def test_the_steepest_rise_is_the_onset_and_falls_below_the_best_are_degraded():
    # input .30 -> conv .32 -> flatten .50 (rise .18: onset) -> dense .47 (.03 below .50:
    # degraded) -> prediction .485 (.015 below: not degraded)
    analysis = with_qualities(toy_analysis(), [0.30, 0.32, 0.50, 0.47, 0.485])
    assert flags_of(analysis) == {
        "input": None,
        "conv": None,
        "flatten": "onset",
        "dense": "degraded",
        "prediction": None,
    }


def test_a_flat_network_has_no_flags():
    analysis = with_qualities(toy_analysis(), [0.4] * 5)
    assert set(flags_of(analysis).values()) == {None}
