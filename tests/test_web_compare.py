"""The comparison view's server side: the callbacks called directly, ``GET
/compare/<A>/<B>.json`` through Flask's test client, on hand-made runs (no model, no
TensorFlow) checked against brute-force references."""

# ruff: noqa: F811  (the fixture cb is imported from web_compare_runs and taken as an argument)
from __future__ import annotations

import base64
import math

import numpy as np
import pytest
from dash import no_update
from helpers import LAYERS, walk
from tiny_models import curve_jaccard
from web_compare_runs import DEEP, N, cb, hand_made, note, props, triggered  # noqa: F401

from fracdash.analysis import Analysis
from fracdash.run_comparison import moved_samples
from fracdash.runs import register
from fracdash.store import stage_key
from fracdash.web import compare_data, ids

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
    # The browser draws run B's samples over it: the glyph names its run.
    assert props(body[1])["data-run"] == "b"
    body, _ = triggered(f'{{"layer":"dense","type":"{ids.GLYPH_NAME}"}}.n_clicks', 1,
                        cb.toggle_zoom, [1], 0, "a", "absolute", "compact")  # fmt: skip
    assert props(body[1])["data-run"] == "a"


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
