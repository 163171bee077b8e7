"""fracdash.readings on hand-made layer graphs: depth, onset and degradation (issue 14)."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

from fracdash.analysis import Analysis, make_glyph
from fracdash.readings import (
    DEGRADATION,
    MAX_PATHS,
    branch_paths,
    layer_depths,
    layer_readings,
    quality_readings,
)


def graph(qualities: dict[str, float], edges: list[tuple[str, str]]):
    """An analysis-shaped object: layers in the given order with inputs and qualities."""
    layers = [
        SimpleNamespace(name=name, inputs=tuple(s for s, t in edges if t == name), quality=q)
        for name, q in qualities.items()
    ]
    return SimpleNamespace(layers=layers, edges=list(edges), layer_names=list(qualities))


def net(names, edges):
    """:func:`graph` with every quality 0.5 (only the structure matters)."""
    return graph(dict.fromkeys(names, 0.5), edges)


def chain(*qualities):
    names = [f"l{i}" for i in range(len(qualities))]
    return graph(dict(zip(names, qualities, strict=True)), list(itertools.pairwise(names)))


def every_path(analysis):
    """Every source-to-layer path, by plain recursion over predecessors."""
    inputs = {g.name: list(g.inputs) for g in analysis.layers}

    def into(name):
        if not inputs[name]:
            return [[name]]
        return [[*p, name] for s in inputs[name] for p in into(s)]

    return {g.name: into(g.name) for g in analysis.layers}


def brute_readings(analysis, drop=DEGRADATION):
    """The definitions path by path: the rise over the best input; degraded when, on
    some path into the layer, an earlier layer was at least ``drop`` better."""
    q = {g.name: g.quality for g in analysis.layers}
    rises = {g.name: q[g.name] - max(q[s] for s in g.inputs) for g in analysis.layers if g.inputs}
    best = max(rises.values(), default=0.0)
    onset = next((n for n, r in rises.items() if r == best), None) if best > 0 else None
    degraded = [
        name
        for name, paths in every_path(analysis).items()
        if any(len(p) > 1 and q[name] <= max(q[x] for x in p[:-1]) - drop + 1e-9 for p in paths)
    ]
    return {"onset": onset, "degraded": degraded}


def random_dag(rng, n):
    names = [f"n{i}" for i in range(n)]
    edges = [(names[i], names[j]) for j in range(1, n) for i in range(j) if rng.random() < 0.3]
    for j in range(1, n):  # every layer but the first has an input
        if not any(t == names[j] for _, t in edges):
            edges.append((names[int(rng.integers(0, j))], names[j]))
    qualities = {name: float(rng.random()) for name in names}
    return graph(qualities, edges), edges


# --------------------------------------------------------------------------- onset


def test_onset_is_the_largest_rise():
    readings = layer_readings(chain(0.30, 0.35, 0.60, 0.62, 0.61, 0.59))
    assert readings["onset"] == "l2"  # +0.25, the largest step up


def test_no_rise_no_onset():
    assert layer_readings(chain(0.6, 0.5, 0.4))["onset"] is None
    assert layer_readings(chain(0.5))["onset"] is None
    assert layer_readings(chain(0.5, 0.5))["onset"] is None


def test_onset_ties_go_to_the_earlier_layer():
    assert layer_readings(chain(0.25, 0.5, 0.5, 0.75))["onset"] == "l1"


def test_onset_at_a_join_counts_from_its_best_input():
    # in -> a (0.8), in -> b (0.4), a, b -> join (0.85): the join rises 0.05 over a.
    g = graph(
        {"in": 0.3, "a": 0.8, "b": 0.4, "join": 0.85},
        [("in", "a"), ("in", "b"), ("a", "join"), ("b", "join")],
    )
    assert layer_readings(g)["onset"] == "a"  # +0.5; the join is +0.05, not +0.45


# --------------------------------------------------------------------------- degradation


def test_degraded_below_the_running_maximum():
    readings = layer_readings(chain(0.30, 0.35, 0.60, 0.62, 0.61, 0.59))
    assert readings["degraded"] == ["l5"]  # 0.61 is only 0.01 below 0.62


def test_a_fall_of_exactly_the_threshold_counts():
    assert layer_readings(chain(0.5, 0.7, 0.68))["degraded"] == ["l2"]
    assert layer_readings(chain(0.5, 0.7, 0.6801))["degraded"] == []


def test_every_layer_after_the_fall_stays_flagged_until_it_recovers():
    readings = layer_readings(chain(0.4, 0.9, 0.85, 0.87, 0.89, 0.95, 0.9))
    assert readings["degraded"] == ["l2", "l3", "l6"]
    assert readings["onset"] == "l1"


def test_a_join_is_degraded_by_its_best_branch():
    g = graph(
        {"in": 0.3, "a": 0.8, "b": 0.4, "join": 0.7},
        [("in", "a"), ("in", "b"), ("a", "join"), ("b", "join")],
    )
    assert layer_readings(g)["degraded"] == ["join"]  # b is only compared with in


def test_threshold_is_a_parameter():
    g = chain(0.5, 0.7, 0.65)
    assert layer_readings(g)["degraded"] == ["l2"]
    assert layer_readings(g, drop=0.1)["degraded"] == []
    with pytest.raises(ValueError, match="drop"):
        layer_readings(g, drop=0)


@pytest.mark.parametrize("seed", range(30))
def test_random_dags_match_the_path_by_path_definition(seed):
    rng = np.random.default_rng(seed)
    g, _ = random_dag(rng, int(rng.integers(2, 9)))
    assert layer_readings(g) == brute_readings(g)
    assert layer_readings(g, drop=0.2) == brute_readings(g, drop=0.2)


def test_readings_of_a_real_analysis_use_its_stored_qualities():
    rng = np.random.default_rng(3)
    n = 60
    labels = rng.integers(0, 3, n)
    order = np.argsort(labels, kind="stable")  # classes in runs: high quality
    layers = [
        make_glyph("input", "InputLayer", (), (2,), rng.permutation(n), labels),
        make_glyph("sorted", "Dense", ("input",), (2,), order, labels),
        make_glyph("shuffled", "Dense", ("sorted",), (2,), rng.permutation(n), labels),
    ]
    analysis = Analysis(layers, labels, labels.copy(), ["a", "b", "c"])
    q = {g.name: g.quality for g in layers}
    assert q["sorted"] > q["input"] + 0.2 and q["shuffled"] < q["sorted"] - 0.2
    assert layer_readings(analysis) == {"onset": "sorted", "degraded": ["shuffled"]}
    inputs = {"input": [], "sorted": ["input"], "shuffled": ["sorted"]}
    assert quality_readings(q, inputs) == layer_readings(analysis)


# --------------------------------------------------------------------------- depth


def test_depth_of_a_chain_and_of_parallel_branches():
    assert layer_depths(chain(0, 0, 0)) == {"l0": 0, "l1": 1, "l2": 2}
    g = graph(
        dict.fromkeys(["input", "rotate", "b_conv", "a_conv", "concat", "out"], 0.5),
        [("input", "rotate"), ("rotate", "b_conv"), ("input", "a_conv"),
         ("b_conv", "concat"), ("a_conv", "concat"), ("concat", "out")],
    )  # fmt: skip
    depth = layer_depths(g)
    assert depth == {"input": 0, "rotate": 1, "a_conv": 1, "b_conv": 2, "concat": 3, "out": 4}


@pytest.mark.parametrize("seed", range(20))
def test_depth_is_the_longest_path_and_the_drawn_rank(seed):
    from fracdash.layout import sugiyama_ranks

    rng = np.random.default_rng(seed)
    g, edges = random_dag(rng, int(rng.integers(2, 12)))
    depth = layer_depths(g)
    longest = {name: max(len(p) for p in paths) - 1 for name, paths in every_path(g).items()}
    assert depth == longest
    names = [layer.name for layer in g.layers]
    assert sugiyama_ranks(names, edges).rank == depth  # the chart's x is the graph's row


def test_depth_needs_topological_order():
    g = graph({"b": 0.5, "a": 0.5}, [("a", "b")])
    with pytest.raises(ValueError, match="topological"):
        layer_depths(g)


# --------------------------------------------------------------------------- branch paths


def is_path(path, analysis):
    edges = set(analysis.edges)
    sources = {g.name for g in analysis.layers if not g.inputs}
    return (
        path[0] in sources
        and path[-1] == analysis.layers[-1].name
        and all(e in edges for e in itertools.pairwise(path))
    )


def brute_paths(analysis):
    """Every source-to-sink path by plain recursion (small graphs only)."""
    succs = {g.name: [t for s, t in analysis.edges if s == g.name] for g in analysis.layers}
    sink = analysis.layers[-1].name

    def walk(path):
        if path[-1] == sink:
            yield path
        for nxt in succs[path[-1]]:
            yield from walk([*path, nxt])

    return [p for g in analysis.layers if not g.inputs for p in walk([g.name])]


def names_chain(n):
    names = [f"l{i}" for i in range(n)]
    return names, list(itertools.pairwise(names))


def ladder(rungs):
    """``rungs`` diamonds in series: 2**rungs source-to-sink paths, all of equal length."""
    names, edges, prev = ["input"], [], "input"
    for r in range(rungs):
        a, b, join = f"a{r}", f"b{r}", f"join{r}"
        names += [a, b, join]
        edges += [(prev, a), (prev, b), (a, join), (b, join)]
        prev = join
    names.append("out")
    edges.append((prev, "out"))
    return names, edges


def test_chain_is_one_path():
    names, edges = names_chain(6)
    assert branch_paths(net(names, edges)) == [names]


def test_diamond_has_two_paths_covering_every_layer():
    names = ["input", "rotate", "b_conv2d0", "b_relu0", "a_conv2d0", "concat", "prediction"]
    edges = [("input", "rotate"), ("rotate", "b_conv2d0"), ("b_conv2d0", "b_relu0"),
             ("input", "a_conv2d0"), ("b_relu0", "concat"), ("a_conv2d0", "concat"),
             ("concat", "prediction")]  # fmt: skip
    analysis = net(names, edges)
    paths = branch_paths(analysis)
    assert len(paths) == 2
    assert all(is_path(p, analysis) for p in paths)
    assert {name for p in paths for name in p} == set(names)
    assert paths[0] == ["input", "rotate", "b_conv2d0", "b_relu0", "concat", "prediction"]
    assert sorted(map(tuple, paths)) == sorted(map(tuple, brute_paths(analysis)))


def test_two_inputs_are_two_sources():
    names = ["in_a", "in_b", "dense_a", "concat", "out"]
    edges = [("in_a", "dense_a"), ("dense_a", "concat"), ("in_b", "concat"), ("concat", "out")]
    paths = branch_paths(net(names, edges))
    assert paths == [["in_a", "dense_a", "concat", "out"], ["in_b", "concat", "out"]]


def test_more_than_eight_paths_are_capped():
    analysis = net(*ladder(4))  # 16 paths
    every = brute_paths(analysis)
    assert len(every) == 16
    paths = branch_paths(analysis)
    assert len(paths) == MAX_PATHS == 8
    assert len({tuple(p) for p in paths}) == 8
    assert all(is_path(p, analysis) for p in paths)
    # Equal lengths: ties broken by layer position, i.e. the 8 smallest index tuples.
    index = {name: i for i, name in enumerate(analysis.layer_names)}
    want = sorted(every, key=lambda p: [index[x] for x in p])[:8]
    assert paths == want


def test_longest_paths_kept_first():
    # A chain of 8 with a skip edge around each layer: many paths of many lengths.
    names, edges = names_chain(8)
    edges = edges + [(names[i], names[i + 2]) for i in range(6)]
    analysis = net(names, edges)
    every = brute_paths(analysis)
    assert len(every) > 8
    paths = branch_paths(analysis)
    assert paths[0] == names
    lengths = [len(p) for p in paths]
    assert lengths == sorted(lengths, reverse=True)
    assert lengths == sorted((len(p) for p in every), reverse=True)[:8]
    assert all(is_path(p, analysis) for p in paths)
    assert branch_paths(analysis) == paths  # deterministic


def test_many_paths_stay_cheap():
    analysis = net(*ladder(40))  # 2**40 paths: never enumerated
    paths = branch_paths(analysis)
    assert len(paths) == 8 and all(len(p) == 2 + 2 * 40 for p in paths)


def test_limit_must_be_positive():
    with pytest.raises(ValueError, match="limit"):
        branch_paths(net(*names_chain(2)), limit=0)
