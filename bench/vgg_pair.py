"""Two stored VGG16-size runs on the same samples, for the comparison view's latency
bench (bench/interaction.py --compare). No TensorFlow, seconds to build.

Both runs have the layer graph fracdash reads from the simplification scenario's VGG16
(fracdash.models.training.build_vgg16 through fracdash.models.network.network_graph: 26
shown layers, the 13 convolutions and 5 poolings of the base, Flatten, the dense head)
and hold the same ``n`` samples: the same synthetic 32x32 gray inputs (so the same data
digest and the same thumbnails), the same labels (10 classes, MNIST's names). What is
synthetic is the orders and the predictions: each layer's order is a seeded random
permutation (the input layer's is shared, as two models' input layers are; a Flatten
keeps its input's order, as the pipeline does), and each run predicts the true label
for about ``ACCURACY`` of the samples, a random other class elsewhere. The page's cost
(hover, brush, toggles) depends on n, the glyphs and their sizes, not on what the orders
are, so these runs time the view as two real VGG16 runs would.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fracdash.analysis import Analysis, make_glyph
from fracdash.datasets import CLASS_NAMES
from fracdash.runs import catalog, data_digest, register
from fracdash.store import Store, stage_key
from fracdash.thumbnails import store_thumbnails

#: (name, kind, per-sample output shape), a chain in data-flow order: what
#: network_graph(build_vgg16()) gives (checked by hand against it, 26 nodes).
VGG16_LAYERS = [
    ("input", "InputLayer", (32, 32, 3)),
    ("block1_conv1", "Conv2D", (32, 32, 64)),
    ("block1_conv2", "Conv2D", (32, 32, 64)),
    ("block1_pool", "MaxPooling2D", (16, 16, 64)),
    ("block2_conv1", "Conv2D", (16, 16, 128)),
    ("block2_conv2", "Conv2D", (16, 16, 128)),
    ("block2_pool", "MaxPooling2D", (8, 8, 128)),
    ("block3_conv1", "Conv2D", (8, 8, 256)),
    ("block3_conv2", "Conv2D", (8, 8, 256)),
    ("block3_conv3", "Conv2D", (8, 8, 256)),
    ("block3_pool", "MaxPooling2D", (4, 4, 256)),
    ("block4_conv1", "Conv2D", (4, 4, 512)),
    ("block4_conv2", "Conv2D", (4, 4, 512)),
    ("block4_conv3", "Conv2D", (4, 4, 512)),
    ("block4_pool", "MaxPooling2D", (2, 2, 512)),
    ("block5_conv1", "Conv2D", (2, 2, 512)),
    ("block5_conv2", "Conv2D", (2, 2, 512)),
    ("block5_conv3", "Conv2D", (2, 2, 512)),
    ("block5_pool", "MaxPooling2D", (1, 1, 512)),
    ("flatten", "Flatten", (512,)),
    ("dense0", "Dense", (4096,)),
    ("relu0", "Activation", (4096,)),
    ("dense1", "Dense", (4096,)),
    ("relu1", "Activation", (4096,)),
    ("dense2", "Dense", (10,)),
    ("prediction", "Activation", (10,)),
]
#: Each run's share of right predictions (about; drawn at random per sample).
ACCURACY = {"a": 0.97, "b": 0.95}
NAMES = {"a": "vgg-synthetic-a", "b": "vgg-synthetic-b"}


def synthetic_run(side: str, x: np.ndarray, labels: np.ndarray, input_order, seed: int):
    """One run's Analysis: random orders per layer, ``ACCURACY[side]`` right."""
    n, k = labels.size, len(CLASS_NAMES["mnist"])
    rng = np.random.default_rng(seed)
    layers, previous, order = [], (), None
    for name, kind, shape in VGG16_LAYERS:
        if kind == "InputLayer":
            order = input_order
        elif kind != "Flatten":
            order = rng.permutation(n)
        layers.append(make_glyph(name, kind, previous, shape, order, labels))
        previous = (name,)
    wrong = rng.random(n) >= ACCURACY[side]
    other = (labels + rng.integers(1, k, n)) % k
    predictions = np.where(wrong, other, labels).astype(np.int64)
    analysis = Analysis(layers=layers, labels=labels, predictions=predictions,
                        class_names=list(CLASS_NAMES["mnist"]))  # fmt: skip
    analysis.meta.update(
        network="vgg16_mnist", data_digest=data_digest(x), source="bench",
        note=f"synthetic orders and predictions (bench/vgg_pair.py, seed {seed}): "
             "VGG16's layer graph, random permutations",
    )  # fmt: skip
    return analysis


def build(path: Path, n: int = 10_000, seed: int = 0) -> tuple[str, str]:
    """Store runs ``NAMES["a"]`` and ``NAMES["b"]`` (n samples each) under ``path``
    unless they are there already; return their names."""
    store = Store(path)
    try:
        known = catalog(store)
        if all(known.get(name, {}).get("n") == n for name in NAMES.values()):
            return NAMES["a"], NAMES["b"]
        rng = np.random.default_rng(seed)
        x = rng.integers(0, 256, (n, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, len(CLASS_NAMES["mnist"]), n).astype(np.int64)
        input_order = rng.permutation(n)
        for i, side in enumerate("ab"):
            analysis = synthetic_run(side, x, labels, input_order, seed + 1 + i)
            key = stage_key("analysis", {"bench": "vgg_pair", "side": side, "n": n,
                                         "seed": seed})  # fmt: skip
            analysis.meta["key"] = key
            store_thumbnails(store, analysis, x)
            store.set_bytes(key, analysis.to_bytes())
            register(store, NAMES[side], analysis, data="synthetic images (bench)")
        return NAMES["a"], NAMES["b"]
    finally:
        store.close()


def expected(path: Path, a: str, b: str) -> dict:
    """Facts the page must show, from the stored runs (numpy, not the page's code): the
    number of samples the two runs classify differently, and the glyphs per run."""
    from fracdash.runs import load_run

    store = Store(path)
    try:
        ra, rb = load_run(store, a), load_run(store, b)
    finally:
        store.close()
    return {"n": ra.n, "glyphs_a": len(ra.layers), "glyphs_b": len(rb.layers),
            "classified_differently": int(np.count_nonzero(ra.predictions != rb.predictions)),
            "accuracy_a": round(ra.accuracy, 4), "accuracy_b": round(rb.accuracy, 4)}  # fmt: skip
