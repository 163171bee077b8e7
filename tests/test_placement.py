"""Where a fold puts every glyph and edge at a glyph scale (fracdash.layout.place), and
the same in the page's JS (fracdash/web/assets/dag_fit.js, run by Node.js): compared
position by position on every candidate fold of many graphs, and on the fold an export
picks for a real analysis (so the page and the exports draw one layout)."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from layer_graphs import chain, diamond, layered, random_dag, residual

from fracdash.layout import Spacing, candidate_folds, drawing_size, label_room, place

EPS = 1e-9


def box_overlap(a, b) -> bool:
    return (
        a.x < b.x + b.w - EPS
        and b.x < a.x + a.w - EPS
        and a.y < b.y + b.h - EPS
        and (b.y < a.y + a.h - EPS)
    )


def check_placement(graph, fold, scale, labels, spacing=None):
    spacing = spacing or Spacing()
    p = place(graph, fold, scale, labels, spacing)
    assert (p.width, p.height) == drawing_size(graph, fold, scale, labels, spacing)
    boxes = p.boxes
    for n in graph.nodes:
        b = boxes[n.name]
        gx, gy, gw, gh = b.glyph
        assert (gw, gh) == pytest.approx((n.width * scale, n.height * scale))
        assert b.x - EPS <= gx and gx + gw <= b.x + b.w + EPS and gy == b.y + spacing.label
        assert b.w == pytest.approx(max(gw, labels[n.name])) and b.h == gh + 2 * spacing.label
        assert b.x >= -EPS and b.y >= -EPS and b.x + b.w <= p.width and b.y + b.h <= p.height
        assert b.column == fold.column_of(n.rank)
    for (na, a), (nb, b) in itertools.combinations(boxes.items(), 2):
        assert not box_overlap(a, b), (na, nb)
    for src, dst, points in p.routes:
        a, b = boxes[src], boxes[dst]
        assert points[0] == ("M", a.x + a.w / 2, a.y + a.h)
        assert points[-1][1:] == pytest.approx((b.x + b.w / 2, b.y))
        assert all(0 <= x <= p.width and 0 <= y <= p.height for _, x, y in points)
        if a.column == b.column:  # no fold between them: the route only goes down
            assert all(y1 >= y0 - EPS for (_, _, y0), (_, _, y1) in itertools.pairwise(points))
    return p


def test_place_a_chain_by_hand():
    names, edges = chain(5)
    graph = layered(names, edges, size=(10, 8))
    fold = candidate_folds(graph)[1]  # 3 + 2 ranks
    sp = Spacing()
    labels = dict.fromkeys(names, 30.0)
    p = check_placement(graph, fold, 4.0, labels)
    lane = max(40, 30) + sp.hgap  # a glyph is 40 px wide, its label 30
    band = 32 + 2 * sp.label
    assert p.boxes["l0"].glyph == (sp.margin + lane / 2 - 20, sp.margin + sp.label, 40, 32)
    assert p.boxes["l2"].y == sp.margin + 2 * (band + sp.vgap)
    assert p.boxes["l3"].glyph[:2] == (sp.margin + lane + sp.col_gap + lane / 2 - 20, 26.0)
    assert p.width == 2 * sp.margin + 2 * lane + sp.col_gap
    assert p.height == 2 * sp.margin + 3 * band + 2 * sp.vgap
    # The edge across the fold: under the first column, up the gap, over the second.
    _, _, route = p.routes[2]
    gap = sp.margin + lane + sp.col_gap / 2
    assert [(k, x) for k, x, _ in route[1:4]] == [("L", route[0][1]), ("L", gap), ("L", gap)]


@pytest.mark.parametrize("seed", range(12))
def test_place_every_fold_of_random_dags(seed):
    rng = np.random.default_rng(seed)
    names, edges, _ = random_dag(seed)
    graph = layered(names, edges, size=(int(rng.integers(3, 60)), int(rng.integers(3, 60))))
    labels = label_room(graph, {n: float(rng.integers(10, 200)) for n in names}, Spacing())
    for fold in candidate_folds(graph):
        check_placement(graph, fold, float(rng.uniform(0.3, 5)), labels)


# --------------------------------------------------------------------------- the page's JS


#: Runs fracdash/web/assets/dag_fit.js's placeFold on each case read from stdin.
JS_PLACE = """
const fit = require(process.argv[1]);
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = cases.map(({graph, fold, scale}) => {
  const o = fit.options(graph, {});
  const p = fit.placeFold(fit.prepare(graph, o), fold, scale, o);
  return {width: p.width, height: p.height,
    boxes: Object.fromEntries(Object.entries(p.boxes).map(([k, b]) =>
      [k, [b.x, b.y, b.w, b.h, b.glyph.x, b.glyph.y, b.glyph.w, b.glyph.h, b.column]])),
    routes: p.edges.map(e => [e.source, e.target, e.route.map(q => [q.kind, q.x, q.y])])};
});
process.stdout.write(JSON.stringify(out));
"""


def js_place(cases: list[dict]) -> list[dict]:
    """dag_fit.js's placement of each ``{graph, fold, scale}`` (node, in a subprocess)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed to run the page's layout (apt-get install nodejs)")
    script = Path(__file__).resolve().parents[1] / "fracdash/web/assets/dag_fit.js"
    result = subprocess.run(
        [node, "-e", JS_PLACE, str(script)], input=json.dumps(cases), capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def page_graph(graph, labels, spacing) -> dict:
    """The graph as the page gets it (fracdash.web.dag.graph_data), labels measured."""
    data = graph.to_json()
    for node in data["nodes"]:
        node["labelWidth"] = labels[node["name"]]
    data["spacing"] = spacing.to_json()
    return data


def assert_same_placement(py, js):
    assert js["width"] == pytest.approx(py.width, abs=1e-9)
    assert js["height"] == pytest.approx(py.height, abs=1e-9)
    assert set(js["boxes"]) == set(py.boxes)
    for name, b in py.boxes.items():
        want = [b.x, b.y, b.w, b.h, *b.glyph, b.column]
        assert js["boxes"][name] == pytest.approx(want, abs=1e-9), name
    assert len(js["routes"]) == len(py.routes)
    for (s, t, points), (js_s, js_t, js_points) in zip(py.routes, js["routes"], strict=True):
        assert (js_s, js_t) == (s, t)
        assert [k for k, _, _ in points] == [k for k, _, _ in js_points]
        flat = [v for _, x, y in points for v in (x, y)]
        assert [v for _, x, y in js_points for v in (x, y)] == pytest.approx(flat, abs=1e-9)


def test_the_page_places_every_fold_as_python_does():
    cases, expected = [], []
    graphs = [diamond(), residual(5), chain(9)] + [random_dag(s)[:2] for s in range(6)]
    rng = np.random.default_rng(1)
    for i, (names, edges) in enumerate(graphs):
        graph = layered(names, edges, size=(int(rng.integers(5, 120)), int(rng.integers(5, 120))))
        labels = label_room(graph, {n: float(rng.integers(10, 200)) for n in names}, Spacing())
        spacing = Spacing(hgap=14.0 + i, margin=10.0 + i % 3)
        for fold in candidate_folds(graph):
            scale = float(rng.choice([0.5, 1.0, 2.37, 3.0, 7.5]))
            cases.append({"graph": page_graph(graph, labels, spacing), "fold": fold.to_json(),
                          "scale": scale})  # fmt: skip
            expected.append(place(graph, fold, scale, labels, spacing))
    assert len(cases) > 100
    for py, js in zip(expected, js_place(cases), strict=True):
        assert_same_placement(py, js)


def test_page_and_export_fold_and_place_alike():
    """The page's data carries the export's candidate folds; the page's JS, given the
    export's fold, scale and label widths, puts every glyph and edge where the export
    does."""
    from helpers import toy_analysis

    from fracdash.analysis import Analysis, make_glyph
    from fracdash.export.layout import graph_layout, label_widths
    from fracdash.web.dag import dag_view, graph_data

    rng = np.random.default_rng(4)
    n = 2000
    labels = rng.integers(0, 3, n).astype(np.int64)
    names, edges = diamond()
    inputs = {name: tuple(s for s, t in edges if t == name) for name in names}
    branched = Analysis(
        [make_glyph(m, "Layer", inputs[m], (4,), rng.permutation(n), labels) for m in names],
        labels, labels.copy(), ["a", "b", "c"],
    )  # fmt: skip
    for analysis in (toy_analysis(n=2000), branched, branched.on_curve("paper")):
        page = graph_data(dag_view(analysis))
        export = graph_layout(analysis)
        assert page["folds"] == [f.to_json() for f in candidate_folds(export.graph)]
        assert export.fold.to_json() in page["folds"]
        widths = label_widths(analysis)
        for node in page["nodes"]:
            node["labelWidth"] = widths[node["name"]]
        (js,) = js_place([{"graph": page, "fold": export.fold.to_json(), "scale": export.scale}])
        assert_same_placement(export.placement, js)
