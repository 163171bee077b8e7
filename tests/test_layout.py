"""Sugiyama layout of the layer graph (docs/method.md §1-2): no overlaps, edges downward, stable;
and the layering the page folds to fit the window (ranks, orders, lanes)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest

from fracdash.layout import NodeBox, edge_points, sugiyama_layout, sugiyama_ranks

EPS = 1e-9


def chain(n: int, prefix: str = "l") -> tuple[list[str], list[tuple[str, str]]]:
    names = [f"{prefix}{i}" for i in range(n)]
    return names, list(itertools.pairwise(names))


def diamond() -> tuple[list[str], list[tuple[str, str]]]:
    """DoubleLeNet5-like: input -> rotate -> b branch, input -> a branch, both -> concat."""
    b = ["rotate", "b_conv2d0", "b_relu0", "b_conv2d1", "b_relu1", "b_dense0", "b_relu2"]
    a = ["a_conv2d0", "a_relu0", "a_conv2d1", "a_relu1", "a_dense0", "a_relu2"]
    names = ["input", *b, *a, "concat", "dense", "prediction"]
    edges = [("input", b[0]), *itertools.pairwise(b), ("input", a[0]), *itertools.pairwise(a)]
    edges += [(b[-1], "concat"), (a[-1], "concat"), ("concat", "dense"), ("dense", "prediction")]
    return names, edges


def random_dag(seed: int) -> tuple[list[str], list[tuple[str, str]], dict]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 31))
    names = [f"n{i}" for i in rng.permutation(n)]  # listing order != topological order
    ranks = rng.permutation(n)  # edges go from lower to higher rank: acyclic
    p = float(rng.uniform(0.05, 0.3))
    edges = [
        (names[i], names[j])
        for i in range(n)
        for j in range(n)
        if ranks[i] < ranks[j] and rng.random() < p
    ]
    sizes = {name: (float(rng.integers(20, 120)), float(rng.integers(20, 120))) for name in names}
    return names, edges, sizes


def square_sizes(names, side=64.0):
    return {name: (side, side + 30.0) for name in names}


def overlap(a: NodeBox, b: NodeBox) -> bool:
    return (
        a.x < b.x + b.w - EPS
        and b.x < a.x + a.w - EPS
        and a.y < b.y + b.h - EPS
        and b.y < a.y + a.h - EPS
    )


def check_layout(names, edges, sizes, hgap=24.0, vgap=40.0):
    boxes, width, height = sugiyama_layout(names, edges, sizes, hgap=hgap, vgap=vgap)
    assert list(boxes) == list(names)
    for name, box in boxes.items():
        assert (box.w, box.h) == sizes[name]
        assert box.x >= 0 and box.y >= 0, (name, box)
        assert box.x + box.w <= width + EPS and box.y + box.h <= height + EPS, (name, box)
    for (na, a), (nb, b) in itertools.combinations(boxes.items(), 2):
        assert not overlap(a, b), (na, a, nb, b)
    for src, dst in edges:
        assert boxes[dst].y > boxes[src].y + boxes[src].h, (src, dst)
    if boxes:
        # The drawing is tight: some box touches each border.
        assert min(b.x for b in boxes.values()) == pytest.approx(0.0)
        assert min(b.y for b in boxes.values()) == pytest.approx(0.0)
        assert max(b.x + b.w for b in boxes.values()) == pytest.approx(width)
        assert max(b.y + b.h for b in boxes.values()) == pytest.approx(height)
    return boxes, width, height


# --------------------------------------------------------------------------- the overlap check


def test_overlap_check_can_fail():
    a = NodeBox(0, 0, 10, 10)
    assert overlap(a, NodeBox(5, 5, 10, 10))
    assert overlap(a, NodeBox(2, 2, 1, 1))
    assert not overlap(a, NodeBox(10, 0, 10, 10))  # touching edges is not overlapping
    assert not overlap(a, NodeBox(0, 11, 10, 10))


# --------------------------------------------------------------------------- shapes of graphs


def test_single_node():
    boxes, width, height = check_layout(["x"], [], {"x": (30.0, 40.0)})
    assert boxes["x"] == NodeBox(0.0, 0.0, 30.0, 40.0)
    assert (width, height) == (30.0, 40.0)


def test_empty_graph():
    assert sugiyama_layout([], [], {}) == ({}, 0.0, 0.0)


def test_nodes_without_edges_sit_side_by_side():
    names = ["a", "b", "c"]
    boxes, width, height = check_layout(names, [], square_sizes(names), hgap=10.0)
    assert [boxes[n].x for n in names] == [0.0, 74.0, 148.0]
    assert all(boxes[n].y == 0.0 for n in names)
    assert width == 3 * 64 + 2 * 10 and height == 94.0


@pytest.mark.parametrize("n", [2, 10, 25])
def test_chain_is_one_column(n):
    names, edges = chain(n)
    boxes, width, height = check_layout(names, edges, square_sizes(names))
    assert width == pytest.approx(64.0)
    assert [boxes[name].y for name in names] == sorted(boxes[name].y for name in names)
    assert height == pytest.approx(n * 94.0 + (n - 1) * 40.0)


def test_vgg_like_chain_with_mixed_sizes():
    names, edges = chain(25, prefix="block")
    rng = np.random.default_rng(3)
    sizes = {name: (float(rng.integers(16, 200)), float(rng.integers(16, 200))) for name in names}
    boxes, _, _ = check_layout(names, edges, sizes, hgap=8.0, vgap=12.0)
    for src, dst in edges:
        assert boxes[dst].y - (boxes[src].y + boxes[src].h) >= 12.0 - EPS


def test_diamond_branches_side_by_side():
    names, edges = diamond()
    boxes, width, height = check_layout(names, edges, square_sizes(names))
    # Layers are ranked by longest path from the input; the b branch starts with rotate.
    for a, b in [("a_conv2d0", "rotate"), ("a_relu0", "b_conv2d0"), ("a_relu2", "b_dense0")]:
        ba, bb = boxes[a], boxes[b]
        assert ba.x != bb.x
        assert ba.y < bb.y + bb.h and bb.y < ba.y + ba.h, (a, b)  # overlapping y ranges
    a_col = {boxes[n].x for n in names if n.startswith("a_")}
    b_col = {boxes[n].x for n in names if n.startswith("b_")}
    assert a_col.isdisjoint(b_col)
    assert boxes["input"].y == 0.0
    assert boxes["prediction"].y + boxes["prediction"].h == pytest.approx(height)
    assert width >= 2 * 64 + 24


def test_gaps_are_respected():
    names, edges = diamond()
    boxes, _, _ = sugiyama_layout(names, edges, square_sizes(names), hgap=30.0, vgap=50.0)
    for a, b in itertools.combinations(boxes.values(), 2):
        same_row = a.y < b.y + b.h and b.y < a.y + a.h
        if same_row:
            assert max(b.x - (a.x + a.w), a.x - (b.x + b.w)) >= 30.0 - EPS
    for src, dst in edges:
        assert boxes[dst].y - (boxes[src].y + boxes[src].h) >= 50.0 - EPS


def test_disconnected_components_left_to_right():
    n1, e1 = chain(4, prefix="p")
    n2, e2 = diamond()
    names, edges = n1 + n2, e1 + e2
    boxes, width, _ = check_layout(names, edges, square_sizes(names), hgap=20.0)
    right_of_first = max(boxes[n].x + boxes[n].w for n in n1)
    left_of_second = min(boxes[n].x for n in n2)
    assert left_of_second - right_of_first == pytest.approx(20.0)
    assert min(boxes[n].y for n in n2) == 0.0  # both components start at the top
    # Listing the second component first puts it on the left.
    boxes2, width2, _ = check_layout(n2 + n1, e2 + e1, square_sizes(names), hgap=20.0)
    assert max(boxes2[n].x + boxes2[n].w for n in n2) < min(boxes2[n].x for n in n1)
    assert width2 == pytest.approx(width)


@pytest.mark.parametrize("seed", range(40))
def test_random_dags(seed):
    names, edges, sizes = random_dag(seed)
    check_layout(names, edges, sizes)


def test_sources_on_top_row():
    names, edges, sizes = random_dag(7)
    boxes, _, _ = check_layout(names, edges, sizes)
    has_input = {dst for _, dst in edges}
    sources = [n for n in names if n not in has_input]
    assert sources
    assert all(boxes[n].y <= min(b.y + b.h for b in boxes.values()) for n in sources)


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deterministic(seed):
    names, edges, sizes = random_dag(seed)
    first = sugiyama_layout(names, edges, sizes)
    assert sugiyama_layout(list(names), list(edges), dict(sizes)) == first
    # Duplicate edges change nothing.
    assert sugiyama_layout(names, edges + edges[:3], sizes) == first


def test_deterministic_across_interpreters():
    # Hash randomisation and object addresses must not leak into the layout.
    names, edges = diamond()
    r_names, r_edges, r_sizes = random_dag(11)
    cases = [[names, edges, square_sizes(names)], [r_names, r_edges, r_sizes]]
    code = (
        "import json, sys\n"
        "from fracdash.layout import sugiyama_layout, sugiyama_ranks\n"
        "for names, edges, sizes in json.loads(sys.stdin.read()):\n"
        "    edges = [tuple(e) for e in edges]\n"
        "    sizes = {k: tuple(v) for k, v in sizes.items()}\n"
        "    print(repr(sugiyama_layout(names, edges, sizes)))\n"
        "    print(repr(sugiyama_ranks(names, edges)))\n"
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
    for n, e_, s in cases:
        here += [repr(sugiyama_layout(n, [tuple(e) for e in e_], s))]
        here += [repr(sugiyama_ranks(n, [tuple(e) for e in e_]))]
    assert outs[0].splitlines() == here


# --------------------------------------------------------------------------- edges and errors


def test_edge_points_bottom_to_top_centre():
    names, edges = diamond()
    boxes, _, _ = sugiyama_layout(names, edges, square_sizes(names))
    segments = edge_points(boxes, edges)
    assert len(segments) == len(edges)
    for (src, dst), ((x0, y0), (x1, y1)) in zip(edges, segments, strict=True):
        a, b = boxes[src], boxes[dst]
        assert (x0, y0) == (a.x + a.w / 2, a.y + a.h)
        assert (x1, y1) == (b.x + b.w / 2, b.y)
        assert y1 > y0


@pytest.mark.parametrize(
    ("names", "edges", "sizes", "match"),
    [
        (["a", "a"], [], {"a": (1, 1)}, "unique"),
        (["a", "b"], [], {"a": (1, 1)}, "no size"),
        (["a"], [], {"a": (0, 1)}, "positive"),
        (["a"], [("a", "z")], {"a": (1, 1)}, "not in the graph"),
        (["a", "b"], [("a", "b"), ("b", "a")], {"a": (1, 1), "b": (1, 1)}, "cycle"),
        (["a"], [("a", "a")], {"a": (1, 1)}, "self-loop"),
    ],
)
def test_bad_input_raises(names, edges, sizes, match):
    with pytest.raises(ValueError, match=match):
        sugiyama_layout(names, edges, sizes)


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
