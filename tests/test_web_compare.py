"""The comparison view's server side: the callbacks called directly, ``GET
/compare/<A>/<B>.json`` through Flask's test client, on hand-made runs (no model, no
TensorFlow) checked against brute-force references."""

from __future__ import annotations

import base64
import math
from contextvars import copy_context
from types import SimpleNamespace

import numpy as np
import pytest
from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict
from helpers import CLASSES, LAYERS, walk
from tiny_models import curve_jaccard

from fracdash import compare as compare_module
from fracdash.analysis import Analysis, make_glyph
from fracdash.runs import register
from fracdash.series import record_step
from fracdash.store import Store, stage_key
from fracdash.web import compare_data, create_app, ids
from fracdash.web.app import context_of
from fracdash.web.callbacks.compare import slider_step, snapped
from fracdash.web.compare_data import moved_samples

N = 150
DEEP = [("input", "InputLayer", (6, 6, 1)), ("c1", "Conv2D", (4, 4, 3)),
        ("c2", "Conv2D", (3, 3, 3)), ("flat", "Flatten", (27,)),
        ("out", "Dense", (3,))]  # fmt: skip


def hand_made(seed: int, digest: str = "same", layers=LAYERS, labels_seed: int = 0) -> Analysis:
    """Random orders on seeded labels; predictions right 80% of the time."""
    labels = np.random.default_rng(labels_seed).integers(0, len(CLASSES), N).astype(np.int64)
    labels[: len(CLASSES)] = np.arange(len(CLASSES))
    rng = np.random.default_rng(seed)
    glyphs, previous = [], ()
    for name, kind, shape in layers:
        glyphs.append(make_glyph(name, kind, previous, shape, rng.permutation(N), labels))
        previous = (name,)
    predictions = np.where(rng.random(N) < 0.8, labels, (labels + 1) % len(CLASSES))
    analysis = Analysis(glyphs, labels, predictions, CLASSES)
    analysis.meta.update(data_digest=digest, key=stage_key("analysis", {"compare": seed}))
    return analysis


@pytest.fixture
def cb(tmp_path, monkeypatch):
    """Runs "a", "b" (same samples, same layers), "deep" (same samples, other layers),
    "other" (other samples) and a series "ser" of three steps; the app's callbacks,
    its Flask client and the analyses. No model is ever looked for."""

    def no_model(*args, **kwargs):
        raise AssertionError("the page must not look for a model")

    monkeypatch.setattr(compare_module, "find_inputs", no_model)
    monkeypatch.setattr(compare_module, "layer_activations", no_model)
    compare_data._CACHE.clear()
    store = Store(tmp_path / "store")
    runs = {"a": hand_made(1), "b": hand_made(2), "deep": hand_made(3, layers=DEEP),
            "other": hand_made(4, digest="elsewhere", labels_seed=9),
            "ser@1": hand_made(11), "ser@2": hand_made(12), "ser@3": hand_made(13)}  # fmt: skip
    for name, analysis in runs.items():
        store.set_bytes(analysis.meta["key"], analysis.to_bytes())
        register(store, name, analysis)
    for step in (1, 2, 3):
        record_step(store, "ser", step)
    app = create_app(store, default_run="a")
    context = context_of(app)
    yield SimpleNamespace(store=store, app=app, client=app.server.test_client(), runs=runs,
                          **context.callbacks)  # fmt: skip
    context.jobs.stop()
    store.close()


def triggered(prop_id: str, value, fn, *args, changed=None):
    """Run a callback body as if ``prop_id`` had fired with ``value``; what it set with
    ``set_props`` goes into ``changed``."""

    def run():
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": value}],
                                        updated_props={}))  # fmt: skip
        try:
            return fn(*args)
        finally:
            if changed is not None:
                changed.update(context_value.get().updated_props)

    return copy_context().run(run)


def props(component) -> dict:
    return component.to_plotly_json()["props"]


def note(children) -> tuple[str | None, str]:
    p = props(children)
    assert p["className"] == "fd-compare-note"
    return p.get("data-state"), p.get("children") or ""


# -- GET /compare/<A>/<B>.json -------------------------------------------------------


def brute_agreement(a: Analysis, b: Analysis, pairs) -> np.ndarray:
    rows = [curve_jaccard(a.layer(la).positions, b.layer(lb).positions) for la, lb in pairs]
    return np.mean(rows, axis=0)


def brute_moved(agreement: np.ndarray) -> list[int]:
    m = min(len(agreement), max(10, math.ceil(len(agreement) / 100)))
    ranked = sorted(range(len(agreement)), key=lambda i: (agreement[i], i))
    return sorted(ranked[:m])


def test_the_route_answers_every_sample_against_brute_force(cb):
    got = cb.client.get("/compare/a/b.json")
    assert got.status_code == 200 and got.headers["Cache-Control"] == "no-store"
    body = got.get_json()
    a, b = cb.runs["a"], cb.runs["b"]
    names = [name for name, _, _ in LAYERS]
    assert (body["run_a"], body["run_b"], body["n"], body["pairing"]) == ("a", "b", N, "name")
    assert [(p["a"], p["b"]) for p in body["pairs"]] == [(n, n) for n in names]
    assert body["layers_a"] == body["layers_b"] == names and body["cka"] is None
    for p in body["pairs"]:
        qa, qb = a.layer(p["a"]).quality, b.layer(p["b"]).quality
        assert (p["quality_a"], p["quality_b"]) == pytest.approx((qa, qb))
        assert p["difference"] == pytest.approx(qb - qa)
        assert p["knn"] is None and p["tree_edges"] is None and p["cka"] is None
    assert any("fracdash compare a b" in n for n in body["notes"])
    codes = np.frombuffer(base64.b64decode(body["correctness"]), np.int8)
    right_a, right_b = a.predictions == a.labels, b.predictions == b.labels
    want = [0 if ra and rb else 1 if ra else 2 if rb else 3
            for ra, rb in zip(right_a, right_b, strict=True)]  # fmt: skip
    assert codes.tolist() == want and {0, 1, 2, 3} <= set(want)
    agreement = np.frombuffer(base64.b64decode(body["agreement"]), "<f4")
    brute = brute_agreement(a, b, [(n, n) for n in names])
    np.testing.assert_allclose(agreement, brute, rtol=1e-6)
    assert body["moved"] == brute_moved(agreement) and len(body["moved"]) == 10
    assert body["disagreements"] == np.flatnonzero(a.predictions != b.predictions).tolist()
    assert cb.client.get("/compare/a/b.json").get_json() == body  # read back the same


def test_the_route_pairs_by_depth_and_as_given(cb):
    body = cb.client.get("/compare/a/deep.json").get_json()
    assert body["pairing"] == "depth" and len(body["pairs"]) == len(LAYERS)
    given = cb.client.get("/compare/a/deep.json?pair=conv:c2,%20dense:out").get_json()
    assert given["pairing"] == "given"
    assert [(p["a"], p["b"]) for p in given["pairs"]] == [("conv", "c2"), ("dense", "out")]
    a, deep = cb.runs["a"], cb.runs["deep"]
    agreement = np.frombuffer(base64.b64decode(given["agreement"]), "<f4")
    brute = brute_agreement(a, deep, [("conv", "c2"), ("dense", "out")])
    np.testing.assert_allclose(agreement, brute, rtol=1e-6)


def test_the_route_refuses_in_one_line(cb):
    unknown = cb.client.get("/compare/a/nowhere.json")
    assert unknown.status_code == 404 and unknown.mimetype == "text/plain"
    assert unknown.get_data(as_text=True).count("\n") == 1
    assert cb.client.get(f"/compare/{'x' * 300}/b.json").status_code == 404
    other = cb.client.get("/compare/a/other.json")
    assert other.status_code == 409
    error = other.get_json()["error"]
    assert "same samples" in error and "\n" not in error
    bad = cb.client.get("/compare/a/b.json?pair=conv:nope")
    assert bad.status_code == 409
    assert "run B has no layer 'nope'" in bad.get_json()["error"]


def test_changed_most_is_the_lowest_agreement_ties_to_the_lower_index():
    agreement = np.array([0.5, 0.1, 0.1, 0.9, 0.0] + [0.7] * 20, np.float32)
    assert moved_samples(agreement).tolist() == brute_moved(agreement)
    assert moved_samples(agreement).tolist() == [0, 1, 2, 4, 5, 6, 7, 8, 9, 10]
    assert moved_samples(np.zeros(4, np.float32)).tolist() == [0, 1, 2, 3]  # m <= n
    big = np.random.default_rng(0).random(2501).astype(np.float32)
    assert moved_samples(big).tolist() == brute_moved(big) and len(brute_moved(big)) == 26


# -- the page: toolbar, graphs, note, buttons ----------------------------------------


def test_the_page_holds_the_comparison_controls(cb):
    page = cb.app.layout()
    found = {getattr(c, "id", None): c for c in walk(page)}
    versus = found[ids.VERSUS]
    assert [o["value"] for o in versus.options] == ["b", "deep", "other", "ser@1", "ser@2",
                                                    "ser@3"]  # fmt: skip
    assert versus.value is None
    controls = next(c for c in walk(page) if getattr(c, "className", None) == "fd-controls")
    assert versus in list(walk(controls))
    assert found[ids.PAIRING].value == "" and found[ids.PAIRING].debounce is True
    graphs = found[ids.GRAPHS]
    assert [c.id for c in graphs.children] == [ids.DAG, ids.DAG_B]
    assert graphs.className == "fd-graphs" and found[ids.DAG_B].className == "fd-dag fd-dag-b"
    assert note(found[ids.COMPARE_NOTE].children) == (None, "")
    for key in (ids.LABELS_CORRECTNESS, ids.DIFF_TOGGLE, ids.MOVED_TOGGLE, ids.COMPARE_PANEL):
        assert found[key].hidden is True, key
    assert props(found[ids.LABELS_CORRECTNESS])["data-labels"] == "correctness"
    assert found[ids.DIFF_TOGGLE].className == "fd-diff-toggle"
    assert found[ids.MOVED_TOGGLE].className == "fd-moved-toggle"
    assert found[ids.DOWNLOAD_DATA].className == "fd-download"
    assert cb.versus_choices("deep") == [{"label": n, "value": n, "title": n}
                                         for n in ("a", "b", "other", "ser@1", "ser@2", "ser@3")]


def test_the_controls_callback_gets_the_comparison_and_gives_three_links(cb):
    (spec,) = [s for s in cb.app._callback_list if s["output"].startswith(f"..{ids.DOWNLOAD_PNG}")]
    assert spec["output"] == f"..{ids.DOWNLOAD_PNG}.href...{ids.DOWNLOAD_HTML}.href..." \
                             f"{ids.DOWNLOAD_DATA}.href.."  # fmt: skip
    inputs = [(i["id"], i["property"]) for i in spec["inputs"]]
    assert inputs[4:] == [(ids.VERSUS, "value"), (ids.PAIRING, "value")]
    painted = [s for s in cb.app._callback_list if '"type":"glyph-b"' in s["output"]]
    assert len(painted) == 1 and painted[0]["inputs"][0]["id"] == ids.COLORING


def test_an_accepted_comparison_draws_run_b_beside_run_a(cb):
    graph, variants, area, line, *hidden = cb.render_versus("a", "b", "", [], "compact", "relative")
    canvas = props(graph)
    assert (canvas["data-run"], canvas["data-side"], canvas["className"]) == ("b", "b",
                                                                             "fd-dag-canvas")
    images = [c for c in walk(graph) if getattr(c, "className", None) == "fd-glyph"]
    assert [img.id for img in images] == [{"type": ids.GLYPH_B, "layer": n} for n, _, _ in LAYERS]
    assert all(img.src == variants[img.id["layer"]]["relative"] for img in images)
    names = [c.id for c in walk(graph) if getattr(c, "className", None) == "fd-node-name"]
    assert names == [{"type": ids.GLYPH_NAME_B, "layer": n} for n, _, _ in LAYERS]
    assert area == "fd-graphs fd-compare-on" and hidden == [False, False, False]
    assert note(line) == ("ok", "comparing a with b · 5 layer pairs by name")
    a_graph, *_ = cb.render_dag("a", [], "compact", None, "absolute")
    assert (props(a_graph)["data-side"], props(a_graph)["data-run"]) == ("a", "a")
    *_, line, _, _, _ = cb.render_versus("a", "deep", "conv:c2", [], "compact", "absolute")
    assert note(line) == ("ok", "comparing a with deep · 1 layer pair as given")
    # Another pairing: the note changes, run B's graph stays as it is laid out.
    got = triggered(f"{ids.PAIRING}.value", "conv:c2", cb.render_versus, "a", "deep", "conv:c2",
                    [], "compact", "absolute")  # fmt: skip
    assert note(got[3]) == ("ok", "comparing a with deep · 1 layer pair as given")
    assert all(v is no_update for i, v in enumerate(got) if i != 3)
    simple, *_ = cb.render_versus("a", "b", "", ["on"], "compact", "absolute")
    assert "flatten" not in {c.id["layer"] for c in walk(simple)
                             if getattr(c, "className", None) == "fd-glyph"}  # fmt: skip


def test_runs_of_other_samples_are_refused_in_one_line(cb):
    graph, variants, area, line, *hidden = cb.render_versus("a", "other", "", [], "compact")
    assert (graph, variants, area, hidden) == (None, None, "fd-graphs", [True, True, True])
    state, text = note(line)
    assert state == "refused" and text.startswith("cannot compare a with other: ")
    assert "same samples" in text and "\n" not in text
    state, text = note(cb.render_versus("a", "gone", "", [], "compact")[3])
    assert state == "refused" and "no run named 'gone'" in text
    for versus in (None, ""):
        graph, _, area, line, *hidden = cb.render_versus("a", versus, "", [], "compact")
        assert graph is None and note(line) == (None, "") and hidden == [True, True, True]


# -- the comparison panel -------------------------------------------------------------


def panel(cb, run, versus, pairing="", trigger=ids.VERSUS, opened=False):
    return triggered(f"{trigger}.value", versus, cb.render_compare_panel, run, versus, pairing,
                     opened)  # fmt: skip


def test_the_panel_shows_both_qualities_and_the_pairs(cb):
    hidden, quality, table, error, cka_hidden, cka, cka_note, opened = panel(cb, "a", "b")
    assert hidden is False and error == "" and opened is True
    a, b = cb.runs["a"], cb.runs["b"]
    traces = {t["name"]: t for t in quality.to_plotly_json()["data"]}
    assert set(traces) == {"A: a", "B: b", "B − A"}
    names = [name for name, _, _ in LAYERS]
    assert list(traces["A: a"]["y"]) == pytest.approx([a.layer(n).quality for n in names])
    assert list(traces["B: b"]["y"]) == pytest.approx([b.layer(n).quality for n in names])
    assert list(traces["B − A"]["y"]) == pytest.approx(
        [b.layer(n).quality - a.layer(n).quality for n in names])
    rows = [props(r) for r in walk(table) if getattr(r, "children", None) and
            "data-a" in props(r)]  # fmt: skip
    assert [(r["data-a"], r["data-b"]) for r in rows] == [(n, n) for n in names]
    assert props(table)["className"] == "fd-pairs"
    assert cka_hidden is True and cka == {} and "fracdash compare a b" in cka_note
    # Already open, or another trigger: the charts panel is left as it is.
    assert panel(cb, "a", "b", opened=True)[-1] is panel(cb, "a", "b", trigger=ids.PAIRING)[-1]
    assert panel(cb, "a", "other")[0] is True and panel(cb, "a", None)[0] is True


def test_a_bad_pairing_says_why_in_one_line_and_keeps_the_automatic_pairs(cb):
    _, _, table, error, *_ = panel(cb, "a", "b", "conv:nope", trigger=ids.PAIRING)
    assert error.startswith("pairing not applied: run B has no layer 'nope'") and "\n" not in error
    rows = [r for r in walk(table) if "data-a" in props(r)]
    assert len(rows) == len(LAYERS)
    _, _, table, error, *_ = panel(cb, "a", "deep", "dense:out", trigger=ids.PAIRING)
    assert error == "" and [props(r)["data-b"] for r in walk(table)
                            if "data-a" in props(r)] == ["out"]  # fmt: skip


def test_a_stored_cka_matrix_is_a_heatmap_whose_cells_open_both_glyphs(cb, monkeypatch):
    real = compare_data.compare_runs

    def with_cka(*args, **kwargs):
        found = real(*args, **kwargs)
        found.cka = np.arange(25, dtype=float).reshape(5, 5) / 25
        return found

    monkeypatch.setattr(compare_data, "compare_runs", with_cka)
    hidden, _, _, _, cka_hidden, cka, cka_note, _ = panel(cb, "a", "b")
    assert (hidden, cka_hidden, cka_note) == (False, False, "")
    heat = cka.to_plotly_json()["data"][0]
    names = [name for name, _, _ in LAYERS]
    assert list(heat["y"]) == list(heat["x"]) == names
    assert heat["z"][1][3] == pytest.approx(8 / 25)
    click = {"points": [{"x": "dense", "y": "conv", "z": 8 / 25}]}
    body, zoom_hidden = triggered(f"{ids.CKA_HEATMAP}.clickData", click, cb.zoom_pair, click,
                                  None, "a", "b", "absolute", "compact")  # fmt: skip
    assert zoom_hidden is False
    sides = [props(s) for s in walk(body[0]) if getattr(s, "className", None) == "fd-zoom-side"]
    assert [(s["data-run"], s["data-side"]) for s in sides] == [("a", "a"), ("b", "b")]
    titles = [c.children for c in walk(body[0]) if getattr(c, "className", None) == "fd-zoom-title"]
    assert titles == ["conv", "dense"]
    # A pair of the comparison's quality chart opens both glyphs too.
    point = {"points": [{"customdata": ["flatten", "flatten"]}]}
    body, _ = triggered(f"{ids.COMPARE_QUALITY}.clickData", point, cb.zoom_pair, None, point,
                        "a", "b", "absolute", "compact")  # fmt: skip
    titles = [c.children for c in walk(body[0]) if getattr(c, "className", None) == "fd-zoom-title"]
    assert titles == ["flatten", "flatten"]


def test_a_click_on_a_name_in_run_b_enlarges_b_s_glyph(cb):
    trigger = f'{{"layer":"dense","type":"{ids.GLYPH_NAME_B}"}}.n_clicks'
    body, hidden = triggered(trigger, 1, cb.zoom_b, [1], "b", "absolute", "compact")
    image = next(c for c in walk(body[1]) if getattr(c, "className", None) == "fd-zoom-image")
    from fracdash.web.loading import load_view

    assert hidden is False and image.src == load_view(cb.store, "b").glyph("dense").absolute


# -- a series: the step slider and the layers x steps heatmap -------------------------


def series_step(cb, trigger, value, run, versus, step=None, click=None, shown=(True,)):
    """step_series as if ``trigger`` had fired (``shown``: the series box's hidden, then
    the slider's min, max and marks): (what "compare with" was set to or no_update, the
    callback's outputs)."""
    prop = {ids.RUN: "data", ids.SERIES_HEATMAP: "clickData"}.get(trigger, "value")
    changed: dict = {}
    got = triggered(f"{trigger}.{prop}", value, cb.step_series, run, versus, step, click,
                    *shown, changed=changed)  # fmt: skip
    return (changed.pop(ids.VERSUS, {}).get("value", no_update), *got)


def slider_props(box) -> dict:
    assert type(box).__name__ == "Slider", box
    keep = ("id", "min", "max", "marks", "value", "step")
    return {k: v for k, v in props(box).items() if k in keep}


#: The slider ser@3's series shows (the page sends the marks' keys as text).
SHOWN = (False, 1, 3, {"1": "1", "2": "2"})


def test_a_run_of_a_series_steps_through_it_keeping_the_view(cb):
    versus, hidden, box, value, figure = series_step(cb, ids.RUN, "ser@3", "ser@3", None)
    assert hidden is False and value is no_update and versus is no_update
    assert slider_props(box) == {"id": ids.SERIES_STEP, "min": 1, "max": 3, "step": 1,
                                 "marks": {1: "1", 2: "2"}, "value": None}  # fmt: skip
    heat = figure.to_plotly_json()["data"][0]
    names = [name for name, _, _ in LAYERS]
    assert list(heat["x"]) == ["1", "2", "3"] and list(heat["y"]) == names
    want = [[cb.runs[f"ser@{s}"].layer(n).quality for s in (1, 2, 3)] for n in names]
    np.testing.assert_allclose(np.array(heat["z"], float), want)
    # The slider to step 1: compare with ser@1 (nothing else of the view changes).
    versus, _, box, value, _ = series_step(cb, ids.SERIES_STEP, 1, "ser@3", None, 1, shown=SHOWN)
    assert (versus, box, value) == ("ser@1", no_update, no_update)  # the slider is there
    # Chosen from the list: the slider is built again at that step.
    versus, _, box, value, _ = series_step(cb, ids.VERSUS, "ser@2", "ser@3", "ser@2", 1,
                                           shown=SHOWN)  # fmt: skip
    assert versus is no_update and value is no_update and slider_props(box)["value"] == 2
    # The slider at that step already (the user moved it there): kept as it is.
    got = series_step(cb, ids.VERSUS, "ser@2", "ser@3", "ser@2", 2, shown=SHOWN)
    assert got[0] is no_update and got[2] is no_update and got[3] is no_update
    # Onto run A's own step, the end of the slider: it stays where it was.
    got = series_step(cb, ids.SERIES_STEP, 3, "ser@3", "ser@2", 3, shown=SHOWN)
    assert got[3] == 2 and all(v is no_update for i, v in enumerate(got) if i != 3)
    # Past run A's own step: on to the next step in the direction moved.
    assert series_step(cb, ids.SERIES_STEP, 2, "ser@2", "ser@1", 2)[0] == "ser@3"
    assert series_step(cb, ids.SERIES_STEP, 2, "ser@2", "ser@3", 2)[0] == "ser@1"
    # Onto the step compared already: "compare with" is not set again.
    assert series_step(cb, ids.SERIES_STEP, 2, "ser@3", "ser@2", 2, shown=SHOWN)[0] is no_update
    # A click on a step's column of the heatmap.
    click = {"points": [{"x": "2", "y": "conv"}]}
    assert series_step(cb, ids.SERIES_HEATMAP, click, "ser@3", None, None, click)[0] == "ser@2"
    # A run of no series: no slider.
    assert series_step(cb, ids.RUN, "a", "a", "b")[1] is True
    # "compare with" is no declared output: the URL's writer never waits for this.
    assert not any(f"{ids.VERSUS}.value" in s["output"] for s in cb.app._callback_list)


def test_the_slider_shows_built_with_its_value_and_a_press_is_kept(cb):
    """Shown, or for another series, the slider is built anew, its value in it (the page
    draws no frame with an old thumb a key could move); a slider moved while "compare
    with" changed too in the same call is what the call follows."""
    for shown in ((True,), (True, 1, 3, {"1": "1", "2": "2"}), (False, 1, 3, {"2": "2"})):
        _, hidden, box, value, _ = series_step(cb, ids.VERSUS, "ser@2", "ser@3", "ser@2", 2,
                                               shown=shown)  # fmt: skip
        assert hidden is False and value is no_update and slider_props(box)["value"] == 2, shown
    fired = [{"prop_id": f"{ids.VERSUS}.value", "value": "ser@1"},
             {"prop_id": f"{ids.SERIES_STEP}.value", "value": 2}]  # fmt: skip
    changed: dict = {}

    def run():
        context_value.set(AttributeDict(triggered_inputs=fired, updated_props={}))
        try:
            return cb.step_series("ser@3", "ser@1", 2, None, *SHOWN)
        finally:
            changed.update(context_value.get().updated_props)

    got = copy_context().run(run)
    assert changed.get(ids.VERSUS) == {"value": "ser@2"}, changed
    assert got[1] is no_update and got[2] is no_update, got  # the slider, kept at step 2


def test_the_slider_reaches_every_step_and_only_steps():
    assert [slider_step(s) for s in ([1, 2, 3], [5, 10, 20], [1, 5, 10], [4])] == [1, 5, 1, 1]
    steps = [1, 5, 10]
    assert snapped(2, 1, 10, steps) == 5 and snapped(9, 5, 10, steps) is None
    assert snapped(4, 5, 10, steps) == 1 and snapped(5, 1, 10, steps) == 5
    assert snapped(6, None, 10, steps) == 5 and snapped(None, 1, 10, steps) is None


def test_runs_under_two_metrics_are_named_with_their_metrics(cb):
    """One model's run under another metric compares like another model, each side
    named with its metric; runs of one metric are not."""
    cosine = hand_made(5)
    cosine.meta.update(metric="cosine", key=stage_key("analysis", {"compare": "cosine"}))
    cb.store.set_bytes(cosine.meta["key"], cosine.to_bytes())
    register(cb.store, "a-cosine", cosine)
    state, text = note(cb.render_versus("a", "a-cosine", "", [], "compact")[3])
    assert state == "ok"
    assert text.startswith("comparing a (euclidean) with a-cosine (cosine) · ")
    state, text = note(cb.render_versus("a", "b", "", [], "compact")[3])
    assert state == "ok" and text.startswith("comparing a with b · ")
