// node --test tests/js/ : zoom, pan and screen placement of a fitted graph
// (fracdash/web/assets/dag_zoom.js), pure functions of a layout and a view.
import assert from "node:assert/strict";
import { test } from "node:test";

import fitModule from "../../fracdash/web/assets/dag_fit.js";
import zoomModule from "../../fracdash/web/assets/dag_zoom.js";

const { fitLayout } = fitModule;
const { LADDER, crispPxPerSample, crispView, fitView, isCrisp, placeView, scaleText,
  stepPxPerSample, zoomAt } = zoomModule;

// A chain of n glyphs of w x h samples, with its folds into 1 .. n even columns.
function chain(n, w, h = w) {
  const nodes = [];
  const edges = [];
  for (let i = 0; i < n; i++) {
    nodes.push({ name: `l${i}`, width: w, height: h, rank: i, x: 0, labelWidth: 60 });
    if (i) edges.push({ source: `l${i - 1}`, target: `l${i}`, via: [] });
  }
  const folds = [];
  for (let k = 1; k <= n; k++) {
    const columns = [];
    let at = 0;
    for (let c = 0; c < k; c++) {
      const rows = Math.floor(n / k) + (c < n % k ? 1 : 0);
      columns.push([at, at + rows - 1, -0.5, 0.5]);
      at += rows;
    }
    folds.push({ mode: "any", columns });
  }
  return { nodes, edges, folds };
}

test("zoom steps: 1.25x below 1 px per sample landing on 1, whole numbers above", () => {
  assert.equal(stepPxPerSample(0.5, +1, 0.5), 0.625);
  assert.equal(stepPxPerSample(0.9, +1, 0.5), 1);
  assert.equal(stepPxPerSample(1, +1, 0.5), 2);
  assert.equal(stepPxPerSample(2.5, +1, 0.5), 3);
  assert.equal(stepPxPerSample(2.35, -1, 0.5), 2);
  assert.equal(stepPxPerSample(64, +1, 0.5), 64);
  assert.equal(stepPxPerSample(3, -1, 0.5), 2);
  assert.equal(stepPxPerSample(1, -1, 0.5), 0.8);
  assert.equal(stepPxPerSample(0.55, -1, 0.5), 0.5); // never below the fitted view
  assert.equal(stepPxPerSample(4, -1, 4), 4);
  assert.deepEqual(LADDER.filter((p) => !Number.isInteger(p)), []);
});

test("zooming keeps the point under the pointer", () => {
  const viewport = { width: 1000, height: 700 };
  const layout = fitLayout(chain(10, 32), viewport);
  const view = fitView(layout, viewport);
  const next = zoomAt(layout, view, +1, 300, 200);
  const before = [(300 - view.panX) / view.zoom, (200 - view.panY) / view.zoom];
  const after = [(300 - next.panX) / next.zoom, (200 - next.panY) / next.zoom];
  assert.ok(Math.abs(before[0] - after[0]) < 1e-9 && Math.abs(before[1] - after[1]) < 1e-9);
  assert.equal(next.zoom * layout.scale, Math.floor(layout.scale) + 1);
  // Zooming out from the fitted view changes nothing.
  assert.deepEqual(zoomAt(layout, view, -1, 300, 200), view);
});

test("crisp: the largest whole number of device pixels per sample, one at the least", () => {
  assert.equal(crispPxPerSample(2.35, 1), 2);
  assert.equal(crispPxPerSample(2.35, 2), 2);
  assert.equal(crispPxPerSample(2.6, 2), 2.5);
  assert.equal(crispPxPerSample(0.4, 1), 1); // an overview: 1:1
  assert.equal(crispPxPerSample(0.4, 2), 0.5);
  assert.ok(isCrisp(2.5, 2) && !isCrisp(2.5, 1) && isCrisp(3, 1) && !isCrisp(0.5, 1));
  const viewport = { width: 1000, height: 700 };
  const layout = fitLayout(chain(7, 100), viewport, { crispShare: 1 });
  assert.ok(!layout.crisp, `the test needs a fractional fit, got ${layout.scale}`);
  const view = crispView(layout, fitView(layout, viewport), viewport, 1);
  const placed = placeView(layout, view, 1);
  assert.equal(placed.pxPerSample, Math.floor(layout.scale));
  assert.ok(placed.crisp);
  for (const node of Object.values(placed.nodes)) {
    assert.equal(node.glyphWidth, 100 * Math.floor(layout.scale));
  }
});

test("screen positions are whole device pixels; a fractional scale is shown as such", () => {
  const viewport = { width: 1100, height: 650 };
  for (const dpr of [1, 2, 1.25]) {
    const layout = fitLayout(chain(9, 45), viewport, { dpr, crispShare: 1 });
    const placed = placeView(layout, fitView(layout, viewport), dpr);
    for (const node of Object.values(placed.nodes)) {
      for (const v of [node.left, node.top, node.glyphLeft, node.glyphTop, node.glyphWidth]) {
        assert.ok(Math.abs(v * dpr - Math.round(v * dpr)) < 1e-9, `${v} at dpr ${dpr}`);
      }
      assert.ok(Math.abs(node.glyphWidth - 45 * placed.pxPerSample) <= 0.5 / dpr + 1e-9);
    }
  }
  assert.equal(scaleText(3), "3 px/sample");
  assert.equal(scaleText(2.3456), "2.35 px/sample");
  assert.equal(scaleText(12.34), "12.3 px/sample");
  assert.equal(scaleText(0.64), "0.64 px/sample");
});

test("an overview zooms in to one pixel per sample at the pointer, labels readable", () => {
  const viewport = { width: 900, height: 600 };
  const layout = fitLayout(chain(60, 64), viewport);
  assert.ok(layout.overview && layout.zoom < 1 && layout.scale === 1);
  let view = fitView(layout, viewport);
  const first = placeView(layout, view, 1);
  assert.ok(first.pxPerSample < 1);
  const name = "l30";
  let node = first.nodes[name];
  const ax = node.glyphLeft + node.glyphWidth / 2;
  const ay = node.glyphTop + node.glyphHeight / 2;
  let steps = 0;
  while (view.zoom * layout.scale < 1) {
    view = zoomAt(layout, view, +1, ax, ay);
    steps += 1;
    assert.ok(steps < 20);
  }
  const zoomed = placeView(layout, view, 1);
  node = zoomed.nodes[name];
  assert.equal(zoomed.pxPerSample, 1);
  assert.equal(node.glyphWidth, 64);
  assert.ok(Math.abs(node.glyphLeft + node.glyphWidth / 2 - ax) <= 1);
  assert.ok(Math.abs(node.glyphTop + node.glyphHeight / 2 - ay) <= 1);
  assert.ok(zoomed.labels.shown && zoomed.labels.nameFont >= 10 && zoomed.labels.slot >= 12);
  assert.ok(first.labels.nameFont < zoomed.labels.nameFont);
  assert.equal(placeView(layout, { zoom: 0.3, panX: 0, panY: 0 }, 1).labels.shown, false);
});

test("edges become SVG path data of lines and S-curves", () => {
  const viewport = { width: 700, height: 400 };
  const layout = fitLayout(chain(8, 32), viewport);
  const placed = placeView(layout, fitView(layout, viewport), 1);
  assert.equal(placed.edges.length, 7);
  for (const e of placed.edges) assert.match(e.d, /^M[\d.]+,[\d.]+( [CL][\d., ]+)+$/);
});
