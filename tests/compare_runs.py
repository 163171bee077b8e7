"""Real runs for the comparison view's browser tests (tests/test_browser_compare.py),
small and quick, made once per test session, and the independent references those tests
hold the page to: each sample's pixel from a stored order, the samples two runs classify
differently, and the "changed most" selection, all recomputed here with plain numpy and
Python from the stored orders and predictions (never by the code under test).

The store holds, on the first ``N`` test images of their data sets: the easy, problematic
and generalization scenarios (LeNet5 trained one epoch on ``TRAIN`` images; easy and
problematic share their model, trained on MNIST, problematic tested on Fashion-MNIST),
and a series ``SERIES`` of three checkpoints of another LeNet5 on the MNIST test images
(epochs 1, 2, 3), recorded by the Keras callback during its training.
"""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from helpers import served_dashboard

from fracdash.core import grid_shape, positions_for
from fracdash.glyphs import run_palette
from fracdash.runs import run_name

N = 300
TRAIN = 2000
EASY, PROBLEMATIC, GENERALIZATION = (run_name(s, N) for s in
                                     ("easy", "problematic", "generalization"))  # fmt: skip
SERIES = "lenet"
STEPS = (1, 2, 3)
CHECKPOINTS = [f"{SERIES}@{s}" for s in STEPS]
FIRST = CHECKPOINTS[0]
SCREEN = {"width": 1600, "height": 1000}

_BUILT: dict[str, Path] = {}


def compare_store(tmp_path_factory) -> Path:
    """The store of every run above, built on the session's first call."""
    if "path" not in _BUILT:
        path = tmp_path_factory.mktemp("compare")
        build(path)
        _BUILT["path"] = path
    return _BUILT["path"]


def build(path: Path) -> None:
    from fracdash.runs import precompute_scenario
    from fracdash.store import Store

    store = Store(path)
    try:
        for scenario in ("easy", "problematic", "generalization"):
            precompute_scenario(store, scenario, samples=N, epochs=1, train_samples=TRAIN)
        record_series(store)
    finally:
        store.close()


def record_series(store) -> None:
    """Train a LeNet5 (other seed, no augmentation) three epochs on MNIST, recording each
    epoch on easy's test images with ``fracdash.keras.Checkpoints``."""
    import keras

    import fracdash.keras
    from fracdash.datasets import load_dataset
    from fracdash.models.training import build_lenet5
    from fracdash.scenarios import SCENARIOS, prepare_images, test_data

    x, y, names = test_data(SCENARIOS["easy"], N)
    xt, yt = load_dataset("mnist", "train")
    xt, yt = prepare_images(xt[:TRAIN], "lenet5"), yt[:TRAIN].astype(np.int64)
    keras.utils.set_random_seed(11)
    model = build_lenet5()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    callback = fracdash.keras.Checkpoints(x, y, every=1, name=SERIES, class_names=names,
                                          store=store, keep_labels=True)  # fmt: skip
    model.fit(xt, yt, epochs=len(STEPS), batch_size=128, verbose=0, callbacks=[callback])
    assert callback.steps == list(STEPS), callback.steps


def stored_runs(tmp_path_factory):
    """(store path, run name -> its stored analysis, ``meta["run"]`` its name)."""
    path = compare_store(tmp_path_factory)
    found = {}
    for name in (EASY, PROBLEMATIC, GENERALIZATION, *CHECKPOINTS):
        found[name] = load(path, name)
        found[name].meta["run"] = name
    return path, found


@contextmanager
def serve(path: Path):
    """The dashboard on the store at ``path``: its URL, its server's log as ``.log``."""
    with served_dashboard(path, path / "server.log", default_run=EASY) as served:
        served = Url(served)
        served.log = path / "server.log"
        yield served


def load(path: Path, name: str):
    """Run ``name``'s stored analysis, as the page's server reads it."""
    from fracdash.compare import stored_run
    from fracdash.store import Store

    store = Store(path)
    try:
        return stored_run(store, name)[1]
    finally:
        store.close()


# --- independent references -------------------------------------------------------------


def pixels(order, curve: str = "compact") -> np.ndarray:
    """(n, 2) pixel (x, y) of each sample: the curve's pixel of the sample's rank in
    ``order`` (fracdash.core's grid function), sample by sample."""
    by_rank = positions_for(len(order), curve)
    out = np.zeros((len(order), 2), np.int64)
    for rank, sample in enumerate(np.asarray(order)):
        out[int(sample)] = by_rank[rank]
    return out


def differently(a, b) -> list[int]:
    """The samples runs ``a`` and ``b`` classify differently, one by one."""
    return [i for i in range(a.n) if int(a.predictions[i]) != int(b.predictions[i])]


def moore_sets(pos) -> list[set[int]]:
    """Each sample's set of samples on the 8 pixels around its own."""
    at = {(int(x), int(y)): s for s, (x, y) in enumerate(pos)}
    out = []
    for x, y in pos:
        out.append({at[(int(x) + dx, int(y) + dy)] for dx in (-1, 0, 1) for dy in (-1, 0, 1)
                    if (dx or dy) and (int(x) + dx, int(y) + dy) in at})  # fmt: skip
    return out


def mean_agreement(a, b, pairs, curve: str = "compact") -> np.ndarray:
    """Each sample's curve agreement (Jaccard index of its Moore neighbourhoods on the
    two glyphs, 1 when both are empty) averaged over the layer ``pairs``."""
    total = np.zeros(a.n)
    for la, lb in pairs:
        sets_a = moore_sets(pixels(a.layer(la).order, curve))
        sets_b = moore_sets(pixels(b.layer(lb).order, curve))
        for s, (na, nb) in enumerate(zip(sets_a, sets_b, strict=True)):
            total[s] += len(na & nb) / len(na | nb) if na | nb else 1.0
    return total / len(pairs)


def changed_most(a, b, pairs, curve: str = "compact") -> list[int]:
    """The contract's "changed most": the max(10, ceil(n/100)) samples (at most n) of
    lowest mean curve agreement, ties to the lower index; sorted. The agreement is
    rounded to 1e-12 so that equal fractions summed in another order stay ties."""
    agreement = np.round(mean_agreement(a, b, pairs, curve), 12)
    m = min(a.n, max(10, math.ceil(a.n / 100)))
    ranked = sorted(range(a.n), key=lambda s: (agreement[s], s))
    return sorted(ranked[:m])


def by_name(a, b) -> list[tuple[str, str]]:
    """Layer pairs by name, in run A's layer order (the networks have the same layers)."""
    assert sorted(a.layer_names) == sorted(b.layer_names), (a.layer_names, b.layer_names)
    return [(name, name) for name in a.layer_names]


def correctness(a, b) -> list[int]:
    """0 both right, 1 only A right, 2 only B right, 3 both wrong, sample by sample."""
    out = []
    for t, pa, pb in zip(a.labels, a.predictions, b.predictions, strict=True):
        out.append({(True, True): 0, (True, False): 1, (False, True): 2,
                    (False, False): 3}[(int(pa) == int(t), int(pb) == int(t))])  # fmt: skip
    return out


# --- the page ----------------------------------------------------------------------------


class Url(str):
    """The served page's address, with its server's log for the evidence of a failure."""

    log = None


def side(which: str) -> str:
    return f".fd-dag-canvas[data-side='{which}']"


STATE = """() => ({
  search: decodeURIComponent(location.search),
  note: [...document.querySelectorAll('.fd-compare-note')]
    .map(e => [e.dataset.state || null, e.innerText]),
  graphs: [...document.querySelectorAll('.fd-dag-canvas')].map(c => [c.dataset.side || null,
    c.dataset.run, c.querySelectorAll('img.fd-glyph').length, c.hasAttribute('data-laid-out'),
    (c.closest('[id]') || {}).id]),
  dagB: document.querySelector('#dag-b') ? document.querySelector('#dag-b').childElementCount
    : 'no #dag-b',
  count: (document.querySelector('.fd-selection-info') || {dataset: {}}).dataset.count,
  pairs: [...document.querySelectorAll('table.fd-pairs tr[data-a]')]
    .map(r => r.dataset.a + ':' + r.dataset.b),
  buttons: [...document.querySelectorAll('.fd-diff-toggle, .fd-moved-toggle, .fd-labels')]
    .map(b => [b.className, b.hidden, b.getAttribute('aria-pressed')]),
  slider: [...document.querySelectorAll('#series-step [role=slider]')]
    .map(s => s.getAttribute('aria-valuenow')),
})"""


def evidence(page) -> str:
    state = page.evaluate(STATE)
    log = getattr(page, "log", None)
    tail = log.read_text(errors="replace")[-1500:] if log and log.exists() else ""
    return (f"\nDOM: {json.dumps(state)}\npage errors: {page.errors}\n"
            f"console errors: {page.console[-6:]}\nserver log tail:\n{tail}")  # fmt: skip


def wait(page, js: str, arg=None, what: str = "", timeout: float = 30_000) -> None:
    from playwright.sync_api import TimeoutError as Timeout

    try:
        page.wait_for_function(js, arg=arg, timeout=timeout)
    except Timeout:
        raise AssertionError(f"{what}: not within {timeout / 1000:.0f} s{evidence(page)}") from None


def open_view(browser, url, query: str, size=SCREEN):
    context = browser.new_context(viewport=size)
    page = context.new_page()
    page.errors, page.console, page.log = [], [], getattr(url, "log", None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and page.console.append(m.text))
    page.goto(url + query)
    return context, page


def link(a: str, b: str | None = None, **more) -> str:
    return "?" + urllib.parse.urlencode({"run": a, **({"vs": b} if b else {}), **more})


def wait_graphs(page, a, b) -> None:
    """Run ``a``'s graph on side a and ``b``'s on side b, every glyph there, laid out."""
    js = """([a, b]) => [a, b].every(([s, run, k]) => {
      const c = document.querySelector(`.fd-dag-canvas[data-side="${s}"]`);
      return c && c.dataset.run === run && c.hasAttribute('data-laid-out')
        && c.querySelectorAll('img.fd-glyph').length === k; })"""
    arg = [["a", a.meta["run"], len(a.layers)], ["b", b.meta["run"], len(b.layers)]]
    wait(page, js, arg, f"graphs of {arg[0][1]} (side a) and {arg[1][1]} (side b)")


def query(page) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(page.url).query))


def wait_count(page, count: int, what: str) -> None:
    wait(page, "c => (document.querySelector('.fd-selection-info') || {dataset: {}})"
         ".dataset.count === String(c)", count, f"{what}: selection count {count}")  # fmt: skip


def wait_query(page, key: str, value: str) -> None:
    wait(page, "([k, v]) => new URLSearchParams(location.search).get(k) === v", [key, value],
         f"the address bar's {key}={value}")  # fmt: skip


def overlay(page, which: str, layer: str):
    return page.evaluate(
        "sel => { const c = document.querySelector(sel); return c && !c.hidden && c.width"
        " ? Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data) : null; }",
        f"{side(which)} canvas.fd-overlay[data-layer='{layer}']",
    )


def sample_colors(page, which, analysis, layer) -> list | None:
    """Each sample's RGB on ``layer``'s drawn overlay of graph ``which``, at its pixel."""
    data = overlay(page, which, layer)
    if data is None:
        return None
    width, _ = grid_shape(analysis.n, "compact")
    out = []
    for x, y in pixels(analysis.layer(layer).order):
        at = 4 * (int(y) * width + int(x))
        out.append(tuple(data[at : at + 3]))
    return out


def shown_selection(page, which, analysis, layer) -> set[int] | None:
    """The samples drawn in full color (the rest dimmed) on graph ``which``'s glyph."""
    colors = sample_colors(page, which, analysis, layer)
    if colors is None:
        return None
    palette = [tuple(int(c.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
               for c in run_palette(analysis)]  # fmt: skip
    return {s for s, rgb in enumerate(colors) if rgb == palette[int(analysis.labels[s])]}


def assert_selection(page, a, b, want: set[int], layers=("dense0", "dense1")) -> None:
    """Both graphs show exactly ``want`` selected, each at its run's pixels."""
    deadline, got = time.monotonic() + 10, None
    while time.monotonic() < deadline:
        got = [
            shown_selection(page, w, r, layers[i]) for i, (w, r) in enumerate([("a", a), ("b", b)])
        ]
        if got == [want, want]:
            return
        page.wait_for_timeout(200)
    for which, shown in zip("ab", got, strict=True):
        missing, extra = sorted(want - (shown or set())), sorted((shown or set()) - want)
        assert shown == want, (f"graph {which}: drawn selection differs: missing {missing[:20]},"
                               f" extra {extra[:20]}{evidence(page)}")  # fmt: skip


def fetch_json(url: str):
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        body = err.read().decode(errors="replace")
        try:
            return err.code, json.loads(body)
        except ValueError:
            return err.code, body
