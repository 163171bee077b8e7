"""Helpers shared by the tests: independent brute-force references, small hand-made
analyses, and the Dash request builder (fixtures are in conftest.py). Test modules import
from here, never from each other."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from ports import free_port  # noqa: F401  (tools/, on the path from conftest.py)

from fracdash import vat_order
from fracdash.analysis import Analysis, make_glyph
from fracdash.runs import register
from fracdash.store import Store, stage_key

DTYPES = [np.float32, np.float64]


def distance_matrix(x, dtype=np.float64) -> np.ndarray:
    """R[i, j] = sqrt(sum_k (x_ik - x_jk)^2), by broadcasting, one row at a time."""
    x = np.asarray(x).astype(dtype)
    n = x.shape[0]
    r = np.empty((n, n), dtype=dtype)
    for i in range(n):
        r[i] = np.sqrt(np.sum((x - x[i][None, :]) ** 2, axis=1))
    return r


def brute_vat(x, dtype=np.float64) -> np.ndarray:
    """VAT by the book: first maximum of R in row-major order, then Prim with argmin."""
    x = np.asarray(x)
    r = distance_matrix(x.reshape(len(x), -1), dtype)
    n = r.shape[0]
    start = int(np.unravel_index(np.argmax(r), r.shape)[0])
    order = [start]
    visited = np.zeros(n, dtype=bool)
    visited[start] = True
    to_set = r[start].astype(np.float64)
    for _ in range(1, n):
        cand = np.where(visited, np.inf, to_set)
        j = int(np.argmin(cand))
        order.append(j)
        visited[j] = True
        to_set = np.minimum(to_set, r[j])
    return np.array(order, dtype=np.int64)


def normalised(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    for i, row in enumerate(x):
        norm = np.sqrt(np.sum(row * row))
        if norm > 0:
            out[i] = row / norm
    return out


def check(x, metric="euclidean") -> np.ndarray:
    got = vat_order(x, metric=metric)
    ref = brute_vat(normalised(x) if metric == "cosine" else x)
    assert isinstance(got, np.ndarray)
    assert got.dtype == np.int64
    assert got.shape == (len(x),)
    assert sorted(got.tolist()) == list(range(len(x)))
    np.testing.assert_array_equal(got, ref)
    return got


class Callbacks:
    """Bodies of ``POST /_dash-update-component``, shaped as the Dash renderer sends them."""

    def __init__(self, dependencies: list[dict]):
        self.outputs = {}
        for dep in dependencies:
            if dep.get("clientside_function"):
                continue
            self.outputs[tuple(f"{o['id']}.{o['property']}" for o in self.split(dep["output"]))] = (
                dep["output"]
            )

    @staticmethod
    def split(output: str) -> list[dict]:
        """``..a.x...b.y@hash..`` -> [{"id": "a", "property": "x"}, {"id": "b", ...}]."""
        parts = output[2:-2].split("...") if output.startswith("..") else [output]
        return [
            {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1].split("@")[0]}
            for part in parts
        ]

    def body(self, outs: tuple, inputs: list, state: list = (), changed=None) -> dict:
        """The request of the callback with outputs ``outs`` ("id.property", ...)."""
        output = self.outputs[outs]
        outputs = self.split(output)
        inputs = [{"id": i, "property": p, "value": v} for i, p, v in inputs]
        first = inputs[0]
        trigger = changed or f"{first['id']}.{first['property']}"
        return {
            "output": output,
            "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": inputs,
            "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
            "changedPropIds": [trigger],
        }



def star_near_ties(rng, spokes: int = 12, scale: float = 1e-9):
    """Points whose distances to the visited set differ by ~``scale`` relative.

    Two far anchors A = -1000 e0 and B = +1000 e0 (the most dissimilar pair, so VAT
    starts at one of them), a centre C at the origin, and spokes (1 + eps_k) e_{k+1}
    (pairwise >= sqrt(2) apart, each sqrt(1000^2 + 1) from the anchors), all shifted
    by a large common vector. VAT goes anchor, C, then the spokes by increasing
    eps_k (each at distance 1 + eps_k from C), then the other anchor: a ranking that
    float32 arithmetic cannot see. Rows are shuffled so that index order and eps
    order disagree.

    Returns the rows, the indices of the anchors and of C, and the spokes' indices
    in the expected order.
    """
    d = spokes + 1
    anchors = np.zeros((2, d))
    anchors[0, 0], anchors[1, 0] = -1000.0, 1000.0
    centre = np.zeros((1, d))
    eps = scale * (1.0 + rng.permutation(spokes))
    spoke_rows = np.zeros((spokes, d))
    for k in range(spokes):
        spoke_rows[k, k + 1] = 1.0 + eps[k]
    x = np.vstack([anchors, centre, spoke_rows])
    x += 1e3 * rng.standard_normal(d)  # large common vector
    perm = rng.permutation(len(x))
    x = x[perm]
    where = np.argsort(perm)  # new index of old row i
    return x, {int(where[0]), int(where[1])}, int(where[2]), where[3 + np.argsort(eps)]


CLASSES = ["cat", "dog", "bird"]
# (name, kind, per-sample output shape), a chain in data-flow order.
LAYERS = [
    ("input", "InputLayer", (6, 6, 1)),
    ("conv", "Conv2D", (4, 4, 3)),
    ("flatten", "Flatten", (48,)),
    ("dense", "Dense", (8,)),
    ("prediction", "Activation", (3,)),
]


def toy_analysis(n: int = 40, seed: int = 0) -> Analysis:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(CLASSES), n).astype(np.int64)
    labels[: len(CLASSES)] = np.arange(len(CLASSES))  # every class present
    layers, previous = [], ()
    for name, kind, shape in LAYERS:
        layers.append(make_glyph(name, kind, previous, shape, rng.permutation(n), labels))
        previous = (name,)
    predictions = np.where(rng.random(n) < 0.8, labels, (labels + 1) % len(CLASSES))
    analysis = Analysis(layers=layers, labels=labels, predictions=predictions, class_names=CLASSES)
    analysis.meta.update(note="toy model, seeded", paper="none")
    return analysis


def walk(component):
    """Every Dash component in a tree, depth first."""
    yield component
    children = getattr(component, "children", None)
    if not isinstance(children, (list, tuple)):
        children = [children]
    for child in children:
        if hasattr(child, "to_plotly_json"):
            yield from walk(child)


def store_toy(cache: Path, name: str = "toy", seed: int = 0) -> None:
    """Store a small hand-made analysis under run ``name`` (no TensorFlow)."""
    store = Store(cache)
    try:
        analysis = toy_analysis(seed=seed)
        key = stage_key("analysis", {"test": "hosted", "seed": seed})
        analysis.meta["key"] = key
        store.set_bytes(key, analysis.to_bytes())
        register(store, name, analysis)
    finally:
        store.close()


#: CIFAR-100's classes, in its index order, by superclass: 20 groups of 5.
CIFAR100_GROUPS = {
    "aquatic mammals": ["beaver", "dolphin", "otter", "seal", "whale"],
    "fish": ["aquarium_fish", "flatfish", "ray", "shark", "trout"],
    "flowers": ["orchid", "poppy", "rose", "sunflower", "tulip"],
    "food containers": ["bottle", "bowl", "can", "cup", "plate"],
    "fruit and vegetables": ["apple", "mushroom", "orange", "pear", "sweet_pepper"],
    "household electrical devices": ["clock", "keyboard", "lamp", "telephone", "television"],
    "household furniture": ["bed", "chair", "couch", "table", "wardrobe"],
    "insects": ["bee", "beetle", "butterfly", "caterpillar", "cockroach"],
    "large carnivores": ["bear", "leopard", "lion", "tiger", "wolf"],
    "large man-made outdoor things": ["bridge", "castle", "house", "road", "skyscraper"],
    "large natural outdoor scenes": ["cloud", "forest", "mountain", "plain", "sea"],
    "large omnivores and herbivores": ["camel", "cattle", "chimpanzee", "elephant", "kangaroo"],
    "medium-sized mammals": ["fox", "porcupine", "possum", "raccoon", "skunk"],
    "non-insect invertebrates": ["crab", "lobster", "snail", "spider", "worm"],
    "people": ["baby", "boy", "girl", "man", "woman"],
    "reptiles": ["crocodile", "dinosaur", "lizard", "snake", "turtle"],
    "small mammals": ["hamster", "mouse", "rabbit", "shrew", "squirrel"],
    "trees": ["maple_tree", "oak_tree", "palm_tree", "pine_tree", "willow_tree"],
    "vehicles 1": ["bicycle", "bus", "motorcycle", "pickup_truck", "train"],
    "vehicles 2": ["lawn_mower", "rocket", "streetcar", "tank", "tractor"],
}
CIFAR100 = sorted(c for group in CIFAR100_GROUPS.values() for c in group)


def many_class_analysis(n: int = 500, seed: int = 0, meta=None) -> Analysis:
    """A hand-made run of CIFAR-100's 100 classes (5 samples each, then random ones):
    three layers of random orders; predictions right 70% of the time, else a class of
    the same superclass. Its meta holds what the pipeline keeps (``palette_meta``;
    ``meta`` given, the user's ``class_groups`` among it)."""
    from fracdash.glyphs import palette_meta

    rng = np.random.default_rng(seed)
    k = len(CIFAR100)
    labels = np.concatenate([np.repeat(np.arange(k), 5), rng.integers(0, k, n - 5 * k)])
    labels = rng.permutation(labels).astype(np.int64)
    superclass = {CIFAR100.index(c): list(map(CIFAR100.index, group))
                  for group in CIFAR100_GROUPS.values() for c in group}  # fmt: skip
    wrong = np.array([rng.choice(superclass[int(t)]) for t in labels])
    predictions = np.where(rng.random(n) < 0.7, labels, wrong).astype(np.int64)
    layers, previous = [], ()
    for name, kind, shape in [("input", "InputLayer", (32, 32, 3)), ("dense", "Dense", (64,)),
                              ("prediction", "Activation", (k,))]:  # fmt: skip
        layers.append(make_glyph(name, kind, previous, shape, rng.permutation(n), labels))
        previous = (name,)
    meta = {"note": "100 classes, hand-made", **(meta or {})}
    meta.update(palette_meta(labels, predictions, k, meta))
    return Analysis(layers=layers, labels=labels, predictions=predictions,
                    class_names=list(CIFAR100), meta=meta)  # fmt: skip


def store_analysis(cache: Path, name: str, analysis: Analysis) -> None:
    """Store ``analysis`` under run ``name``, as the pipeline and ``register`` do."""
    store = Store(cache)
    try:
        key = stage_key("analysis", {"test": name, "n": analysis.n})
        analysis.meta["key"] = key
        store.set_bytes(key, analysis.to_bytes())
        register(store, name, analysis)
    finally:
        store.close()


@contextmanager
def served_dashboard(store_dir, log_path, **app_args):
    """Serve ``create_app(cache_dir=store_dir, **app_args)`` from a subprocess on a free
    loopback port (its output in ``log_path``); yield the URL, stop it afterwards. Fails
    the test, with the log, if it does not answer within a minute."""
    port = free_port()
    args = ", ".join(f"{k}={v!r}" for k, v in {"cache_dir": str(store_dir), **app_args}.items())
    code = (
        f"from fracdash.web import create_app; create_app({args})"
        f".run(host='127.0.0.1', port={port})"
    )
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    root = Path(__file__).resolve().parents[1]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", code], cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    import pytest

                    pytest.fail(f"dashboard did not start:\n{log_path.read_text()}")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


# Every glyph's set of rendered colors as the user sees them, read back from a canvas
# (not from attributes): the browser's own drawing over the image when it shows one
# (class focus, predicted labels, a selection), else the image; null while an image is
# being swapped (decode() rejects when src changes meanwhile).
GLYPH_COLORS_JS = """async () => {
  const out = {};
  for (const img of document.querySelectorAll('img.fd-glyph')) {
    try { await img.decode(); } catch (err) { return null; }
    const over = img.parentElement.querySelector('canvas.fd-overlay');
    const shown = over && !over.hidden && over.width ? over : img;
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const g = canvas.getContext('2d');
    g.drawImage(shown, 0, 0);
    const data = g.getImageData(0, 0, canvas.width, canvas.height).data;
    const seen = new Set();
    for (let i = 0; i < data.length; i += 4) {
      seen.add('#' + [data[i], data[i + 1], data[i + 2]]
        .map(v => v.toString(16).padStart(2, '0')).join(''));
    }
    out[img.dataset.layer] = [...seen].sort();
  }
  return out;
}"""


def assert_refused(result, expected: str) -> None:
    """A refusal as the command line must give it: exit code 2, exactly one line on
    stderr naming the problem (``expected`` in it) and the fix (after a ";"), no
    traceback. ``result`` has ``returncode``, ``stdout`` and ``stderr``."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("fracdash: error: "), lines[0]
    assert expected in lines[0], lines[0]
    assert ";" in lines[0], "the message must say what to do"
    assert "Traceback" not in result.stderr


# --- the command line in this process (click's CliRunner), for hostile-input tests ---


def npz(tmp_path, name="data.npz", **arrays):
    np.savez(tmp_path / name, **arrays)
    return tmp_path / name


def good_x(n=6):
    return np.random.default_rng(0).random((n, 4), dtype=np.float32)


def good_y(n=6):
    return np.arange(n) % 3


class Result:
    """What the command did: exit code, stdout and stderr (CliRunner keeps them apart)."""

    def __init__(self, result):
        self.returncode = result.exit_code
        self.stdout, self.stderr = result.stdout, result.stderr
        self.exception = result.exception


def run_cli(*args, cache):
    from click.testing import CliRunner

    from fracdash.cli import main

    runner = CliRunner(env={"FRACDASH_CACHE": str(cache)})
    result = Result(runner.invoke(main, list(args)))
    if result.returncode not in (0, 2) and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback the user would have seen: show it here
    return result


def assert_cache_untouched(cache):
    """Nothing written: the store directory was never even created."""
    if cache.exists():
        from fracdash.runs import catalog
        from fracdash.store import Store

        store = Store(cache)
        try:
            assert catalog(store) == {}
        finally:
            store.close()
        assert not (cache / "models").exists()
    assert not cache.exists()

