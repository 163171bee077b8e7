"""Small layer graphs for the layout tests (names and edges, no glyphs): a chain,
DoubleLeNet5's fork, residual blocks, random DAGs. Shared by test_layout.py and
test_placement.py, as helpers.py is by every test module."""

from __future__ import annotations

import itertools

import numpy as np

from fracdash.layout import layered_graph


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


def residual(blocks: int):
    """input, then ``blocks`` residual blocks (five layers, an Add that a skip edge
    also reaches, and a ReLU after it: one edge crosses from a block to the next)."""
    names, edges, previous = ["input"], [], "input"
    for k in range(blocks):
        body = [f"b{k}_{part}" for part in ("conv1", "bn1", "relu1", "conv2", "bn2", "add")]
        names += [*body, f"b{k}_out"]
        edges += [(previous, body[0]), *itertools.pairwise(body), (previous, body[-1])]
        edges.append((body[-1], f"b{k}_out"))
        previous = f"b{k}_out"
    return names, edges


def layered(names, edges, size=(30, 28)):
    """The graph layered for folding, every glyph ``size`` samples."""
    return layered_graph(names, edges, dict.fromkeys(names, size))
