"""Tiny seeded ONNX classifiers (no TensorFlow), their numpy forward pass as an
independent reference, and brute-force references of the comparison's measures."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper

D, K = 6, 3


def mlp_weights(seed: int, hidden=(7,), d: int = D, k: int = K) -> list[tuple]:
    """[(W, b), ...] of a dense ReLU network, float32, seeded."""
    rng = np.random.default_rng(seed)
    widths = [d, *hidden, k]
    return [(rng.normal(size=(a, b)).astype(np.float32), rng.normal(size=b).astype(np.float32))
            for a, b in zip(widths[:-1], widths[1:], strict=True)]  # fmt: skip


def mlp(seed: int, hidden=(7,), d: int = D, k: int = K):
    """An ONNX model: ``dense{i}`` (MatMul+Add) and ``relu{i}`` per hidden layer, then
    ``logits`` and a ``prediction`` Softmax."""
    n, nodes, weights, prev = helper.make_node, [], [], "x"
    params = mlp_weights(seed, hidden, d, k)
    for i, (w, b) in enumerate(params, 1):
        last = i == len(params)
        name = "logits" if last else f"dense{i}"
        nodes += [n("MatMul", [prev, f"W{i}"], [f"m{i}"], name=f"{name}/MatMul"),
                  n("Add", [f"m{i}", f"b{i}"], [f"a{i}"], name=f"{name}/BiasAdd")]  # fmt: skip
        weights += [numpy_helper.from_array(w, f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
        prev = f"a{i}"
        if not last:
            nodes.append(n("Relu", [prev], [f"r{i}"], name=f"relu{i}"))
            prev = f"r{i}"
    nodes.append(n("Softmax", [prev], ["y"], name="prediction"))
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", d])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", k])], weights,
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def mlp_layers(seed: int, x, hidden=(7,)) -> dict[str, np.ndarray]:
    """Every layer of :func:`mlp` on ``x``, computed in float64 numpy."""
    out, h = {"x": np.asarray(x, np.float64)}, np.asarray(x, np.float64)
    params = mlp_weights(seed, hidden, x.shape[1])
    for i, (w, b) in enumerate(params, 1):
        h = h @ w.astype(np.float64) + b
        if i == len(params):
            out["logits"] = h
            e = np.exp(h - h.max(axis=1, keepdims=True))
            out["prediction"] = e / e.sum(axis=1, keepdims=True)
        else:
            out[f"dense{i}"] = h
            h = np.maximum(h, 0)
            out[f"relu{i}"] = h
    return out


def samples(n: int = 90, seed: int = 0):
    """(x (n, D) float32, y (n,) with every class)."""
    x = np.random.default_rng(seed).normal(size=(n, D)).astype(np.float32)
    return x, np.arange(n) % K


# --- brute-force references -----------------------------------------------------------


def distances(x) -> np.ndarray:
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    return np.array([((x - row) ** 2).sum(axis=1) for row in x])


def knn_lists(x, k: int) -> list[list[int]]:
    """Each sample's k nearest others by (squared distance, index)."""
    r = distances(x)
    return [[j for j in np.lexsort((np.arange(len(x)), row)) if j != i][:k]
            for i, row in enumerate(r)]  # fmt: skip


def prim_edges(x, order) -> set[frozenset]:
    """The edges (order[t], its nearest earlier sample; ties to the lower index)."""
    r, edges = distances(x), set()
    for t in range(1, len(order)):
        earlier = np.asarray(order[:t])
        parent = earlier[np.lexsort((earlier, r[order[t], earlier]))[0]]
        edges.add(frozenset((int(order[t]), int(parent))))
    return edges


def moore_sets(positions) -> list[set]:
    """Each sample's set of samples on the 8 pixels around its own."""
    at = {(int(px), int(py)): i for i, (px, py) in enumerate(positions)}
    return [{at[(px + dx, py + dy)] for dx in (-1, 0, 1) for dy in (-1, 0, 1)
             if (dx, dy) != (0, 0) and (px + dx, py + dy) in at}
            for px, py in positions]  # fmt: skip


def curve_jaccard(positions_a, positions_b) -> np.ndarray:
    out = []
    for sa, sb in zip(moore_sets(positions_a), moore_sets(positions_b), strict=True):
        out.append(len(sa & sb) / len(sa | sb) if sa | sb else 1.0)
    return np.array(out)


def brute_cka(x, y) -> float:
    """<HKH, HLH> / (|HKH| |HLH|) from the n x n Gram matrices, in float64."""
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    y = np.asarray(y, np.float64).reshape(len(y), -1)
    h = np.eye(len(x)) - 1.0 / len(x)
    kc, lc = h @ x @ x.T @ h, h @ y @ y.T @ h
    return float((kc * lc).sum() / np.sqrt((kc * kc).sum() * (lc * lc).sum()))
