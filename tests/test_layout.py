"""The layer graph's layout (fracdash.layout): the Sugiyama layering (ranks, orders,
lanes) and the candidate folds into columns (their placement: test_placement.py)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest
from layer_graphs import chain, diamond, layered, random_dag, residual

from fracdash.layout import candidate_folds, layered_graph, sugiyama_ranks
from fracdash.layout.fold import crossings, even_split

EPS = 1e-9


def test_deterministic_across_interpreters():
    # Hash randomisation and object addresses must not leak into the layering or folds.
    names, edges = diamond()
    r_names, r_edges, _ = random_dag(11)
    cases = [[names, edges], [r_names, r_edges]]
    code = (
        "import json, sys\n"
        "from fracdash.layout import candidate_folds, layered_graph, sugiyama_ranks\n"
        "for names, edges in json.loads(sys.stdin.read()):\n"
        "    edges = [tuple(e) for e in edges]\n"
        "    print(repr(sugiyama_ranks(names, edges)))\n"
        "    g = layered_graph(names, edges, {n: (9, 8) for n in names})\n"
        "    print(repr(candidate_folds(g)))\n"
    )
    outs = [
        subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(cases),
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(seed)},
            timeout=60,
        ).stdout
        for seed in (0, 1, 12345)
    ]
    assert len(set(outs)) == 1
    here = []
    for n, e_ in cases:
        e_ = [tuple(e) for e in e_]
        here += [repr(sugiyama_ranks(n, e_))]
        here += [repr(candidate_folds(layered_graph(n, e_, {x: (9, 8) for x in n})))]
    assert outs[0].splitlines() == here


# --------------------------------------------------------------------------- the page's layering


def longest_path_ranks(names, edges) -> dict[str, int]:
    """Reference: a node's rank is the length of the longest path reaching it."""
    rank = dict.fromkeys(names, 0)
    for _ in names:  # relax |V| times: enough for any DAG
        for src, dst in edges:
            rank[dst] = max(rank[dst], rank[src] + 1)
    return rank


def check_ranking(names, edges):
    r = sugiyama_ranks(names, edges)
    assert list(r.rank) == list(names) == list(r.order) == list(r.x)
    assert r.rank == longest_path_ranks(names, edges)
    for src, dst in edges:
        assert r.rank[dst] > r.rank[src], (src, dst)
        assert len(r.via[src, dst]) == r.rank[dst] - r.rank[src] - 1
    rows: dict[int, list[str]] = {}
    for name in names:
        rows.setdefault(r.rank[name], []).append(name)
    for row in rows.values():
        # Orders number each rank left to right; two nodes of a rank are a lane apart.
        ordered = sorted(row, key=r.order.__getitem__)
        assert [r.order[n] for n in ordered] == list(range(len(row)))
        xs = [r.x[n] for n in ordered]
        assert all(b - a >= 1 - EPS for a, b in itertools.pairwise(xs)), xs
    lanes = [*r.x.values(), *(v for path in r.via.values() for v in path)]
    assert min(lanes) == pytest.approx(0.0)
    # A long edge passes beside the nodes of the ranks it crosses, never through one.
    for (src, dst), path in r.via.items():
        for step, lane in enumerate(path, start=r.rank[src] + 1):
            assert all(abs(lane - r.x[n]) >= 0.5 for n in rows[step]), (src, dst, step)
    return r


@pytest.mark.parametrize("n", [1, 2, 10, 26])
def test_ranks_of_a_chain_are_its_positions(n):
    names, edges = chain(n)
    r = check_ranking(names, edges)
    assert [r.rank[name] for name in names] == list(range(n))
    assert set(r.x.values()) == {0.0}


def test_ranks_of_double_lenet_keep_the_branches_in_two_lanes():
    names, edges = diamond()
    r = check_ranking(names, edges)
    a = {r.x[n] for n in names if n.startswith("a_")}
    b = {r.x[n] for n in names if n.startswith("b_") or n == "rotate"}
    assert len(a) == len(b) == 1 and abs(a.pop() - b.pop()) == pytest.approx(1.0)
    # The shorter branch's last edge reaches the join through one lane, its own.
    assert r.via["a_relu2", "concat"] == (r.x["a_relu2"],)


def test_ranks_of_a_residual_block_put_the_skip_edge_beside_the_body():
    names, edges, previous = ["input"], [], "input"
    for k in range(3):
        body = [f"b{k}_{part}" for part in ("conv1", "bn1", "relu1", "conv2", "bn2", "add")]
        names += body
        edges += [(previous, body[0]), *itertools.pairwise(body), (previous, body[-1])]
        previous = body[-1]
    r = check_ranking(names, edges)
    skips = [(s, t) for s, t in edges if t.endswith("_add") and not s.endswith("_bn2")]
    assert len(skips) == 3
    for skip in skips:
        # Past the five layers of the block, in one straight lane beside them.
        assert len(r.via[skip]) == 5 and len(set(r.via[skip])) == 1, r.via[skip]


@pytest.mark.parametrize("seed", range(25))
def test_ranks_of_random_dags(seed):
    names, edges, _ = random_dag(seed)
    check_ranking(names, edges)


def test_ranks_of_components_sit_side_by_side_and_are_deterministic():
    n1, e1 = chain(4, prefix="p")
    n2, e2 = diamond()
    r = check_ranking(n1 + n2, e1 + e2)
    assert max(r.x[n] for n in n1) + 1 <= min(r.x[n] for n in n2)
    assert sugiyama_ranks(n1 + n2, e1 + e2 + e1[:2]) == r  # duplicate edges change nothing


def test_ranks_refuse_cycles_and_unknown_nodes():
    with pytest.raises(ValueError, match="cycle"):
        sugiyama_ranks(["a", "b"], [("a", "b"), ("b", "a")])
    with pytest.raises(ValueError, match="not in the graph"):
        sugiyama_ranks(["a"], [("a", "z")])


# --------------------------------------------------------------------------- folds


@pytest.mark.parametrize(
    ("weights", "k", "sizes"),
    [([1] * 26, 6, [5, 5, 4, 4, 4, 4]), ([1] * 10, 4, [3, 3, 2, 2]), ([1] * 3, 5, [1, 1, 1]),
     ([1] * 7, 1, [7]), ([10, 1, 1], 2, [1, 2]), ([1, 1, 10], 2, [2, 1])],
)  # fmt: skip
def test_even_split_examples(weights, k, sizes):
    assert [b - a for a, b in even_split(weights, k)] == sizes


@pytest.mark.parametrize("seed", range(30))
def test_even_split_covers_in_order_and_is_even_for_equal_weights(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 40)), int(rng.integers(1, 45))
    groups = even_split([1] * n, k)
    assert len(groups) == min(k, n)
    assert groups[0][0] == 0 and groups[-1][1] == n
    assert all(a < b for a, b in groups)
    assert all(b == c for (_, b), (c, _) in itertools.pairwise(groups))
    sizes = [b - a for a, b in groups]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


def check_folds(graph, folds):
    count = graph.rank_count
    assert folds[0].mode == "clean" and len(folds[0].columns) == 1
    seen = set()
    for fold in folds:
        starts = tuple(c.first for c in fold.columns)
        assert starts not in seen  # no fold twice
        seen.add(starts)
        assert fold.columns[0].first == 0 and fold.columns[-1].last == count - 1
        for a, b in itertools.pairwise(fold.columns):
            assert b.first == a.last + 1
        for n in graph.nodes:
            col = fold.columns[fold.column_of(n.rank)]
            assert col.lo <= n.x - 0.5 + EPS and n.x + 0.5 <= col.hi + EPS
        for e in graph.edges:
            start = graph.node(e.source).rank + 1
            for r, lane in enumerate(e.via, start=start):
                col = fold.columns[fold.column_of(r)]
                assert col.lo < lane < col.hi


def test_folds_of_a_chain_are_every_column_count():
    names, edges = chain(12)
    graph = layered(names, edges)
    folds = candidate_folds(graph)
    check_folds(graph, folds)
    assert [len(f.columns) for f in folds] == list(range(1, 13))
    assert {f.mode for f in folds} == {"clean"}  # a chain breaks cleanly anywhere
    assert [c.last - c.first + 1 for c in folds[4].columns] == [3, 3, 2, 2, 2]
    assert len(candidate_folds(graph, max_columns=5)) == 5


def test_clean_folds_break_only_where_one_edge_crosses():
    names, edges = residual(4)
    graph = layered(names, edges)
    rank = {n.name: n.rank for n in graph.nodes}
    folds = candidate_folds(graph)
    check_folds(graph, folds)
    clean = [f for f in folds if f.mode == "clean"]
    assert len(clean) == 5  # input + 4 blocks: at most 5 columns
    for fold in clean:
        for col in fold.columns[:-1]:
            # Counted here from the edges: what crosses the cut after this column.
            crossing = sum(rank[s] <= col.last < rank[t] for s, t in edges)
            assert crossing <= 1, (fold, col)
    cuts = crossings(graph)
    assert cuts == [sum(rank[s] <= r < rank[t] for s, t in edges) for r in range(len(cuts))]
    assert any(f.mode == "any" for f in folds)


def test_folds_of_double_lenet_keep_the_branches_in_the_columns_lanes():
    names, edges = diamond()
    graph = layered(names, edges)
    folds = candidate_folds(graph)
    check_folds(graph, folds)
    join = graph.node("concat").rank
    for fold in folds:
        if fold.mode == "clean":  # the fork, input to concat, is never cut
            assert fold.column_of(0) == fold.column_of(join)


@pytest.mark.parametrize("seed", range(20))
def test_folds_of_random_dags(seed):
    names, edges, _ = random_dag(seed)
    graph = layered(names, edges)
    check_folds(graph, candidate_folds(graph))


def test_layered_graph_refuses_missing_sizes():
    with pytest.raises(ValueError, match="no positive glyph size"):
        layered_graph(["a", "b"], [("a", "b")], {"a": (3, 3)})
    assert candidate_folds(layered_graph([], [], {})) == ()
