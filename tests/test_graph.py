"""fracdash.core.graph: layer kinds, topological order and node removal (docs/method.md §2)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from fracdash.core import IDENTITY_KINDS, REORDER_KINDS, remove_nodes, topological_order

# --------------------------------------------------------------------------- references


def bridged_edges(names, edges, drop) -> set[tuple[str, str]]:
    """(u, v) for kept u, v joined by a path whose inner nodes are all dropped."""
    drop = set(drop)
    succs = {n: set() for n in names}
    for s, t in edges:
        succs[s].add(t)
    out = set()
    for u in names:
        if u in drop:
            continue
        stack, seen = list(succs[u]), set()
        while stack:
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            if v in drop:
                stack.extend(succs[v])
            else:
                out.add((u, v))
    return out


def is_topological(order, edges) -> bool:
    pos = {n: i for i, n in enumerate(order)}
    return all(pos[s] < pos[t] for s, t in edges)


def smallest_topological(names, edges):
    """Brute force: the topological order that is lexicographically smallest by the
    position of the nodes in ``names`` (what a stable Kahn's algorithm returns)."""
    rank = {n: i for i, n in enumerate(names)}
    best = None
    for perm in itertools.permutations(names):
        if is_topological(perm, edges):
            key = [rank[n] for n in perm]
            if best is None or key < best[0]:
                best = (key, list(perm))
    return None if best is None else best[1]


def random_dag(rng: random.Random, n: int, p: float):
    """Random DAG over shuffled names: edges only go forward in a hidden order."""
    hidden = [f"n{i}" for i in range(n)]
    edges = [(hidden[i], hidden[j]) for i in range(n) for j in range(i + 1, n) if rng.random() < p]
    names = hidden[:]
    rng.shuffle(names)
    rng.shuffle(edges)
    return names, edges


# --------------------------------------------------------------------------- kinds


@pytest.mark.parametrize(
    "kind",
    [
        "Dropout",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "SpatialDropout3D",
        "GaussianNoise",
        "GaussianDropout",
        "AlphaDropout",
        "ActivityRegularization",
    ],
)
def test_identity_kinds(kind):
    assert kind in IDENTITY_KINDS
    assert kind not in REORDER_KINDS


@pytest.mark.parametrize("kind", ["Flatten", "Reshape", "Permute"])
def test_reorder_kinds(kind):
    assert kind in REORDER_KINDS
    assert kind not in IDENTITY_KINDS


@pytest.mark.parametrize(
    "kind", ["Dense", "Conv2D", "ReLU", "Activation", "InputLayer", "Concatenate", "Softmax"]
)
def test_real_layers_are_in_neither(kind):
    assert kind not in IDENTITY_KINDS
    assert kind not in REORDER_KINDS


def test_shares_input_order_only_for_one_input_reorders():
    from fracdash.core import shares_input_order

    assert shares_input_order("Flatten", ("conv",)) and shares_input_order("Permute", ("x",))
    assert not shares_input_order("Reshape", ("a", "b"))  # two inputs: distances change
    assert not shares_input_order("Conv2D", ("x",)) and not shares_input_order("Dropout", ("x",))


def _kind_layer(keras, kind):
    """A Keras layer of class ``kind`` with arguments it needs, for (4, 4, 2) inputs."""
    args = {"Reshape": ((16, 2),), "Permute": ((2, 1, 3),), "SpatialDropout1D": (0.5,)}
    if kind in ("Dropout", "SpatialDropout2D", "SpatialDropout3D", "AlphaDropout"):
        args[kind] = (0.5,)
    if kind in ("GaussianNoise", "GaussianDropout"):
        args[kind] = (0.5,)
    return getattr(keras.layers, kind)(*args.get(kind, ()))


@pytest.mark.parametrize("kind", sorted(IDENTITY_KINDS | REORDER_KINDS))
def test_kinds_behave_as_classified(keras, kind):
    """Checked against Keras itself at inference: an identity kind returns its input, a
    reorder kind keeps every pairwise distance (its glyph may reuse its input's order)."""
    shape = (4, 2) if kind == "SpatialDropout1D" else (4, 4, 2)
    if kind == "SpatialDropout3D":
        shape = (2, 2, 2, 2)
    x = np.random.default_rng(0).normal(size=(6, *shape)).astype(np.float32)
    out = np.asarray(_kind_layer(keras, kind)(x, training=False))
    if kind in IDENTITY_KINDS:
        np.testing.assert_array_equal(out, x)
    else:
        flat_in, flat_out = x.reshape(6, -1), out.reshape(6, -1)
        d_in = np.linalg.norm(flat_in[:, None] - flat_in[None], axis=-1)
        d_out = np.linalg.norm(flat_out[:, None] - flat_out[None], axis=-1)
        np.testing.assert_allclose(d_out, d_in, rtol=1e-6)
        assert not np.array_equal(flat_out, flat_in) or kind != "Permute"


def test_a_real_layer_changes_distances(keras):
    """The check above can fail: a Dense layer does not keep distances."""
    x = np.random.default_rng(1).normal(size=(6, 8)).astype(np.float32)
    out = np.asarray(keras.layers.Dense(8)(x))
    d_in = np.linalg.norm(x[:, None] - x[None], axis=-1)
    d_out = np.linalg.norm(out[:, None] - out[None], axis=-1)
    assert not np.allclose(d_out, d_in, rtol=1e-3)


# --------------------------------------------------------------------------- topological_order


def test_topological_chain():
    assert topological_order(["c", "a", "b"], [("a", "b"), ("b", "c")]) == ["a", "b", "c"]


def test_topological_stable_when_already_sorted():
    names = ["in", "conv", "relu", "flat", "dense", "out"]
    edges = list(zip(names, names[1:], strict=False))
    assert topological_order(names, edges) == names
    # No edges at all: the names as given.
    assert topological_order(["z", "y", "x"], []) == ["z", "y", "x"]


def test_topological_diamond_is_stable():
    edges = [("in", "l"), ("in", "r"), ("l", "out"), ("r", "out")]
    assert topological_order(["in", "l", "r", "out"], edges) == ["in", "l", "r", "out"]
    assert topological_order(["in", "r", "l", "out"], edges) == ["in", "r", "l", "out"]
    assert topological_order(["out", "r", "l", "in"], edges) == ["in", "r", "l", "out"]


def test_topological_duplicate_edges():
    edges = [("a", "b"), ("a", "b"), ("b", "c"), ("a", "c"), ("b", "c")]
    assert topological_order(["c", "b", "a"], edges) == ["a", "b", "c"]


@pytest.mark.parametrize("seed", range(40))
def test_topological_random_vs_brute_force(seed):
    rng = random.Random(seed)
    names, edges = random_dag(rng, rng.randint(1, 7), rng.choice([0.2, 0.4, 0.7]))
    got = topological_order(names, edges)
    assert sorted(got) == sorted(names)
    assert is_topological(got, edges)
    assert got == smallest_topological(names, edges)


@pytest.mark.parametrize("seed", range(5))
def test_topological_larger_random(seed):
    rng = random.Random(1000 + seed)
    names, edges = random_dag(rng, 300, 0.02)
    got = topological_order(names, edges)
    assert sorted(got) == sorted(names)
    assert is_topological(got, edges)


def test_topological_does_not_mutate():
    names = ["b", "a"]
    edges = [("a", "b")]
    topological_order(names, edges)
    assert names == ["b", "a"] and edges == [("a", "b")]


@pytest.mark.parametrize(
    "edges",
    [
        [("a", "a")],
        [("a", "b"), ("b", "a")],
        [("a", "b"), ("b", "c"), ("c", "a")],
        [("in", "a"), ("a", "b"), ("b", "c"), ("c", "a"), ("c", "out")],
    ],
)
def test_topological_cycle_raises(edges):
    names = sorted({n for e in edges for n in e})
    with pytest.raises(ValueError):
        topological_order(names, edges)


def test_topological_unknown_node_raises():
    with pytest.raises(ValueError):
        topological_order(["a"], [("a", "ghost")])


# --------------------------------------------------------------------------- remove_nodes


def test_remove_from_chain():
    names, edges = remove_nodes(["a", "b", "c"], [("a", "b"), ("b", "c")], ["b"])
    assert names == ["a", "c"]
    assert edges == [("a", "c")]


def test_remove_chain_of_nodes():
    names, edges = remove_nodes(
        ["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("c", "d")], ["b", "c"]
    )
    assert names == ["a", "d"]
    assert edges == [("a", "d")]


def test_remove_branching_node():
    # Two predecessors and two successors: the four cross edges.
    all_names = ["p1", "p2", "x", "s1", "s2"]
    all_edges = [("p1", "x"), ("p2", "x"), ("x", "s1"), ("x", "s2")]
    names, edges = remove_nodes(all_names, all_edges, {"x"})
    assert names == ["p1", "p2", "s1", "s2"]
    assert len(edges) == 4
    assert set(edges) == {("p1", "s1"), ("p1", "s2"), ("p2", "s1"), ("p2", "s2")}


def test_remove_no_duplicate_edges():
    # a reaches c directly, through b and through d: one edge a -> c.
    all_edges = [("a", "b"), ("a", "d"), ("b", "c"), ("d", "c"), ("a", "c"), ("a", "b")]
    names, edges = remove_nodes(["a", "b", "d", "c"], all_edges, ["b", "d"])
    assert names == ["a", "c"]
    assert edges == [("a", "c")]


def test_remove_nothing_keeps_graph():
    all_names = ["a", "b", "c"]
    all_edges = [("a", "b"), ("b", "c"), ("a", "c")]
    names, edges = remove_nodes(all_names, all_edges, [])
    assert names == all_names
    assert sorted(edges) == sorted(all_edges)


def test_remove_source_and_sink():
    names, edges = remove_nodes(["a", "b", "c"], [("a", "b"), ("b", "c")], ["a", "c"])
    assert names == ["b"] and edges == []


def test_remove_dropped_cycle_terminates():
    # b and c form a cycle among removed nodes; a -> d must still be bridged.
    all_edges = [("a", "b"), ("b", "c"), ("c", "b"), ("c", "d")]
    names, edges = remove_nodes(["a", "b", "c", "d"], all_edges, ["b", "c"])
    assert names == ["a", "d"]
    assert edges == [("a", "d")]


def test_remove_does_not_mutate_inputs():
    all_names = ["a", "b", "c"]
    all_edges = [("a", "b"), ("b", "c")]
    drop = ["b"]
    remove_nodes(all_names, all_edges, drop)
    assert all_names == ["a", "b", "c"]
    assert all_edges == [("a", "b"), ("b", "c")]
    assert drop == ["b"]


def test_remove_accepts_iterators():
    names, edges = remove_nodes(["a", "b", "c"], iter([("a", "b"), ("b", "c")]), (n for n in ["b"]))
    assert names == ["a", "c"] and edges == [("a", "c")]


def test_remove_lenet_dropout_and_flatten():
    names = ["input", "conv2d0", "relu0", "flatten", "dense0", "relu2", "dropout", "dense1"]
    edges = list(zip(names, names[1:], strict=False))
    kinds = {"dropout": "Dropout", "flatten": "Flatten"}
    drop = [n for n in names if kinds.get(n) in IDENTITY_KINDS]
    kept, kept_edges = remove_nodes(names, edges, drop)
    assert kept == [n for n in names if n != "dropout"]
    assert ("relu2", "dense1") in kept_edges
    simple = [n for n in names if kinds.get(n) in IDENTITY_KINDS | REORDER_KINDS]
    kept, kept_edges = remove_nodes(names, edges, simple)
    assert "flatten" not in kept and ("relu0", "dense0") in kept_edges
    assert topological_order(kept, kept_edges) == kept


@pytest.mark.parametrize("seed", range(40))
def test_remove_random_vs_reachability(seed):
    rng = random.Random(seed)
    all_names, all_edges = random_dag(rng, rng.randint(1, 14), rng.choice([0.15, 0.3, 0.6]))
    drop = {n for n in all_names if rng.random() < 0.4}
    names, edges = remove_nodes(all_names, all_edges, drop)
    assert names == [n for n in all_names if n not in drop]
    assert len(edges) == len(set(edges))
    assert set(edges) == bridged_edges(all_names, all_edges, drop)
    # Still a DAG, and its order respects the original one.
    order = topological_order(names, edges)
    full = topological_order(all_names, all_edges)
    assert is_topological(order, edges)
    assert is_topological(full, edges)
