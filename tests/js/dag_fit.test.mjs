// node --test assets/tests/ : the graph fitted to the window (assets/dag_fit.js), a pure
// function of the graph and the viewport.
import assert from "node:assert/strict";
import { test } from "node:test";

import fitModule from "../../fracdash/web/assets/dag_fit.js";

const { DEFAULTS, LADDER, fitLayout, fitView, placeView, stepPxPerSample, zoomAt } = fitModule;

// A seeded generator, so that every run tests the same graphs.
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function chain(n, w = 32, h = w, label = 60) {
  const nodes = [];
  const edges = [];
  for (let i = 0; i < n; i++) {
    nodes.push({ name: `l${i}`, width: w, height: h, rank: i, order: 0, x: 0, labelWidth: label });
    if (i) edges.push({ source: `l${i - 1}`, target: `l${i}`, via: [] });
  }
  return { nodes, edges };
}

// DoubleLeNet5 as the server lays it out: input, two branches (b one rank longer,
// through "rotate"), concatenate, dense, prediction.
function doubleLenet(w = 32, h = w) {
  const a = ["a_conv2d0", "a_relu0", "a_conv2d1", "a_relu1", "a_flatten", "a_dense0", "a_relu2"];
  const b = ["rotate", "b_conv2d0", "b_relu0", "b_conv2d1", "b_relu1", "b_flatten", "b_dense0",
    "b_relu2"];
  const node = (name, rank, order, x) => ({ name, width: w, height: h, rank, order, x,
    labelWidth: 7 * name.length });
  const nodes = [node("input", 0, 0, 0.5)];
  b.forEach((name, i) => nodes.push(node(name, i + 1, 0, 0)));
  a.forEach((name, i) => nodes.push(node(name, i + 1, 1, 1)));
  nodes.push(node("concat", 9, 0, 0.5), node("dense", 10, 0, 0.5), node("prediction", 11, 0, 0.5));
  const edges = [{ source: "input", target: "rotate" }, { source: "input", target: a[0] }];
  for (let i = 1; i < a.length; i++) edges.push({ source: a[i - 1], target: a[i] });
  for (let i = 1; i < b.length; i++) edges.push({ source: b[i - 1], target: b[i] });
  edges.push({ source: "a_relu2", target: "concat", via: [1] });
  edges.push({ source: "b_relu2", target: "concat" }, { source: "concat", target: "dense" },
    { source: "dense", target: "prediction" });
  return { nodes, edges, a, b };
}

// A ResNet-style chain of blocks: five layers, and a skip edge beside them to an Add.
function resnet(blocks, w = 32, h = w) {
  const nodes = [{ name: "input", width: w, height: h, rank: 0, order: 0, x: 0.35 }];
  const edges = [];
  let prev = "input";
  let rank = 1;
  for (let k = 0; k < blocks; k++) {
    const body = ["conv1", "bn1", "relu1", "conv2", "bn2"].map((s) => `b${k}_${s}`);
    const start = rank;
    body.forEach((name, i) => {
      nodes.push({ name, width: w, height: h, rank: rank++, order: 0, x: 0 });
      edges.push({ source: i ? body[i - 1] : prev, target: name });
    });
    const add = `b${k}_add`;
    const out = `b${k}_out`;
    nodes.push({ name: add, width: w, height: h, rank: rank++, order: 0, x: 0.35 });
    nodes.push({ name: out, width: w, height: h, rank: rank++, order: 0, x: 0.35 });
    edges.push({ source: body[4], target: add });
    edges.push({ source: prev, target: add, via: body.map(() => 0.7) });
    edges.push({ source: add, target: out });
    assert.equal(rank - start, 7);
    prev = out;
  }
  return { nodes, edges };
}

// A random layered DAG: 1-3 nodes per rank in lanes 0..2, edges between neighbouring
// ranks, and a few long ones passing a free lane.
function layered(seed) {
  const rnd = random(seed);
  const ranks = 2 + Math.floor(rnd() * 25);
  const nodes = [];
  const byRank = [];
  for (let r = 0; r < ranks; r++) {
    const count = 1 + Math.floor(rnd() * 3);
    byRank.push([]);
    for (let i = 0; i < count; i++) {
      const name = `r${r}n${i}`;
      const side = 4 + Math.floor(rnd() * 60);
      const node = { name, width: side, height: Math.max(3, side - Math.floor(rnd() * 4)),
        rank: r, order: i, x: i, labelWidth: 20 + Math.floor(rnd() * 80) };
      nodes.push(node);
      byRank[r].push(node);
    }
  }
  const edges = [];
  for (let r = 1; r < ranks; r++) {
    for (const node of byRank[r]) {
      const src = byRank[r - 1][Math.floor(rnd() * byRank[r - 1].length)];
      edges.push({ source: src.name, target: node.name, via: [] });
    }
    if (r >= 3 && rnd() < 0.3) {
      edges.push({ source: byRank[r - 3][0].name, target: byRank[r][0].name, via: [3, 3] });
    }
  }
  return { nodes, edges };
}

function screenBoxes(layout, viewport) {
  const placed = placeView(layout, fitView(layout, viewport));
  return { placed, boxes: Object.entries(placed.nodes) };
}

function overlap(a, b) {
  return a.left < b.left + b.width && b.left < a.left + a.width &&
    a.top < b.top + b.height && b.top < a.top + a.height;
}

function checkFits(graph, viewport) {
  const layout = fitLayout(graph, viewport);
  const { placed, boxes } = screenBoxes(layout, viewport);
  assert.equal(boxes.length, graph.nodes.length);
  for (const [name, b] of boxes) {
    assert.ok(b.left >= 0 && b.top >= 0, `${name} starts outside: ${JSON.stringify(b)}`);
    assert.ok(b.left + b.width <= viewport.width && b.top + b.height <= viewport.height,
      `${name} ends outside ${JSON.stringify(viewport)}: ${JSON.stringify(b)}`);
    assert.ok(b.glyphLeft >= b.left && b.glyphLeft + b.glyphWidth <= b.left + b.width, name);
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      assert.ok(!overlap(boxes[i][1], boxes[j][1]), `${boxes[i][0]} overlaps ${boxes[j][0]}`);
    }
  }
  assert.ok(Number.isInteger(layout.scale) && layout.scale >= 1);
  assert.ok(layout.width * layout.zoom <= viewport.width + 1e-6);
  assert.ok(layout.height * layout.zoom <= viewport.height + 1e-6);
  return { layout, placed };
}

// Reading order: each rank is below the previous one in its column, or starts a
// column to the right of it.
function checkReadingOrder(layout) {
  const byRank = {};
  for (const b of Object.values(layout.boxes)) (byRank[b.rank] ||= []).push(b);
  const ranks = Object.keys(byRank).map(Number).sort((a, b) => a - b);
  for (let i = 1; i < ranks.length; i++) {
    const prev = byRank[ranks[i - 1]];
    const next = byRank[ranks[i]];
    const prevCol = prev[0].column;
    const nextCol = next[0].column;
    assert.ok(next.every((b) => b.column === nextCol) && prev.every((b) => b.column === prevCol));
    if (nextCol === prevCol) {
      const bottom = Math.max(...prev.map((b) => b.y + b.h));
      assert.ok(Math.min(...next.map((b) => b.y)) >= bottom, `rank ${ranks[i]} not below`);
    } else {
      assert.equal(nextCol, prevCol + 1);
      const right = Math.max(...prev.map((b) => b.x + b.w));
      assert.ok(Math.min(...next.map((b) => b.x)) > right, `rank ${ranks[i]} not to the right`);
    }
  }
}

// The reference for a uniform chain, counted by hand: q ranks a column, the fewest
// columns, and the drawing's width and height with the default gaps and margins.
function chainFits(n, w, h, label, s, viewport) {
  const d = DEFAULTS;
  const band = h * s + 2 * d.label;
  const q = Math.floor((viewport.height - 2 * d.margin + d.vgap) / (band + d.vgap));
  if (q < 1) return false;
  const columns = Math.ceil(n / q);
  const width = 2 * d.margin + columns * Math.max(w * s, label) + (columns - 1) * d.colGap;
  return width <= viewport.width;
}

test("a chain gets the largest integer scale that fits", () => {
  for (const [n, w, h] of [[10, 32, 32], [26, 32, 32], [10, 128, 128], [26, 100, 100],
    [26, 18, 17], [9, 128, 128], [3, 16, 16], [1, 32, 32], [60, 18, 17]]) {
    for (const viewport of [{ width: 1380, height: 880 }, { width: 1060, height: 600 }]) {
      const graph = chain(n, w, h);
      const layout = fitLayout(graph, viewport);
      if (!chainFits(n, w, h, 60, 1, viewport)) {
        assert.ok(layout.overview, `${n}x${w}: nothing fits at 1 px, yet no overview`);
        continue;
      }
      const s = layout.scale;
      assert.ok(chainFits(n, w, h, 60, s, viewport), `${n}x${w}x${h} at ${s} does not fit`);
      assert.ok(!chainFits(n, w, h, 60, s + 1, viewport), `${n}x${w}x${h}: ${s + 1} fits too`);
      assert.equal(layout.zoom, 1);
      checkFits(graph, viewport);
      checkReadingOrder(layout);
    }
  }
});

test("a long chain folds into columns, read top to bottom then left to right", () => {
  const viewport = { width: 1380, height: 880 };
  const { layout } = checkFits(chain(26, 128, 128), viewport);
  assert.ok(layout.columns.length > 1);
  checkReadingOrder(layout);
  // Columns are even, the longer ones first.
  const sizes = layout.columns.map((c) => c.last - c.first + 1);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, JSON.stringify(sizes));
  assert.deepEqual(sizes, [...sizes].sort((a, b) => b - a));
  const ten = fitLayout(chain(10, 32, 32), { width: 1000, height: 250 }, { maxScale: 1 });
  assert.deepEqual(ten.columns.map((c) => c.last - c.first + 1), [3, 3, 2, 2]);
});

test("glyphs keep their own width and height (rectangles)", () => {
  const viewport = { width: 1000, height: 700 };
  const graph = chain(6, 18, 17);
  const { layout, placed } = checkFits(graph, viewport);
  for (const node of Object.values(placed.nodes)) {
    assert.equal(node.glyphWidth, 18 * layout.scale);
    assert.equal(node.glyphHeight, 17 * layout.scale);
  }
});

test("branches stay side by side in every column", () => {
  for (const viewport of [{ width: 1380, height: 880 }, { width: 1060, height: 640 },
    { width: 700, height: 900 }, { width: 1400, height: 500 }]) {
    const graph = doubleLenet();
    const { layout } = checkFits(graph, viewport);
    const box = layout.boxes;
    assert.ok(!layout.overview && layout.scale >= 1);
    // Same rank: same band, b on the left and a on the right (their lanes), apart.
    for (let i = 1; i < graph.a.length; i++) {
      const a = box[graph.a[i]];
      const b = box[graph.b[i]];
      assert.equal(a.rank, b.rank);
      assert.equal(a.y, b.y);
      assert.ok(b.x + b.w < a.x, `${graph.b[i]} not left of ${graph.a[i]}`);
    }
    checkReadingOrder(layout);
  }
});

test("a block stays whole in one column unless cutting it makes glyphs a third larger", () => {
  // Narrow: one column either way, the block is whole.
  let layout = fitLayout(doubleLenet(), { width: 300, height: 1000 });
  assert.equal(layout.mode, "clean");
  const graph = doubleLenet();
  const column = layout.boxes.input.column;
  for (const name of [...graph.a, ...graph.b, "concat"]) {
    assert.equal(layout.boxes[name].column, column, name);
  }
  // Wide: whole, the block (input to concat) would get 1 px per sample, cut 5.
  layout = fitLayout(doubleLenet(), { width: 1380, height: 880 });
  assert.equal(layout.mode, "any");
  assert.equal(layout.scale, 5);
  assert.ok(layout.columns.length > 1);
});

test("ResNet blocks stay whole when that costs little, and are cut when it costs a lot", () => {
  let layout = fitLayout(resnet(3), { width: 600, height: 1000 });
  assert.equal(layout.mode, "clean");
  // Columns break between blocks only (after an Add), never beside a skip edge.
  const names = Object.fromEntries(Object.values(layout.boxes).map((b) => [b.rank, b.name]));
  assert.equal(layout.columns.length, 3);
  for (const c of layout.columns.slice(0, -1)) assert.match(names[c.last], /_add$/);
  layout = fitLayout(resnet(3), { width: 1380, height: 880 });
  assert.equal(layout.mode, "any");
  assert.equal(layout.scale, 4);
});

test("random layered graphs fit without overlaps, in reading order", () => {
  for (let seed = 1; seed <= 60; seed++) {
    const graph = layered(seed);
    for (const viewport of [{ width: 1380, height: 880 }, { width: 1060, height: 600 }]) {
      const { layout } = checkFits(graph, viewport);
      checkReadingOrder(layout);
    }
  }
});

test("every edge runs from its source's bottom to its target's top", () => {
  const viewport = { width: 1060, height: 600 };
  for (const graph of [chain(26, 32, 32), doubleLenet(), resnet(8), layered(5)]) {
    const layout = fitLayout(graph, viewport);
    assert.equal(layout.edges.length, graph.edges.length);
    for (const e of layout.edges) {
      const src = layout.boxes[e.source];
      const dst = layout.boxes[e.target];
      const first = e.route[0];
      const last = e.route[e.route.length - 1];
      assert.deepEqual([first.x, first.y], [src.x + src.w / 2, src.y + src.h]);
      assert.deepEqual([last.x, last.y], [dst.x + dst.w / 2, dst.y]);
      // Inside the drawing all the way, including around a fold.
      for (const p of e.route) {
        assert.ok(p.x >= 0 && p.x <= layout.width && p.y >= 0 && p.y <= layout.height);
      }
    }
    const { placed } = screenBoxes(layout, viewport);
    for (const e of placed.edges) assert.match(e.d, /^M[\d.]+,[\d.]+( [CL][\d., ]+)+$/);
  }
});

test("a large network is an overview that fits whole, and zooms in to 1 px per sample", () => {
  const viewport = { width: 1380, height: 880 };
  const graph = resnet(16, 64); // 113 layers, 64 x 64 glyphs (4,096 samples)
  const { layout, placed } = checkFits(graph, viewport);
  assert.ok(layout.overview && layout.zoom < 1 && layout.scale === 1);
  checkReadingOrder(layout);
  assert.ok(placed.pxPerSample < 1);

  // Wheel steps at a glyph: it stays under the pointer and reaches 1 px per sample.
  const name = "b8_conv2";
  let view = fitView(layout, viewport);
  let node = placed.nodes[name];
  const ax = node.glyphLeft + node.glyphWidth / 2;
  const ay = node.glyphTop + node.glyphHeight / 2;
  let steps = 0;
  while (view.zoom * layout.scale < 1) {
    view = zoomAt(layout, view, +1, ax, ay);
    steps += 1;
    assert.ok(steps < 20);
  }
  const zoomed = placeView(layout, view);
  node = zoomed.nodes[name];
  assert.equal(zoomed.pxPerSample, 1);
  assert.equal(node.glyphWidth, 64);
  assert.ok(Math.abs(node.glyphLeft + node.glyphWidth / 2 - ax) <= 1);
  assert.ok(Math.abs(node.glyphTop + node.glyphHeight / 2 - ay) <= 1);
  assert.ok(zoomed.labels.shown && zoomed.labels.nameFont >= 10 && zoomed.labels.slot >= 12);
  // The overview's labels are smaller, and hidden once too small to read.
  assert.ok(placed.labels.nameFont < zoomed.labels.nameFont);
  const tiny = placeView(layout, { zoom: 0.3, panX: 0, panY: 0 });
  assert.equal(tiny.labels.shown, false);
});

test("zoom steps: 1.25x below 1 px per sample landing on 1, whole numbers above", () => {
  assert.equal(stepPxPerSample(0.5, +1, 0.5), 0.625);
  assert.equal(stepPxPerSample(0.9, +1, 0.5), 1);
  assert.equal(stepPxPerSample(1, +1, 0.5), 2);
  assert.equal(stepPxPerSample(2.5, +1, 0.5), 3);
  assert.equal(stepPxPerSample(64, +1, 0.5), 64);
  assert.equal(stepPxPerSample(3, -1, 0.5), 2);
  assert.equal(stepPxPerSample(1, -1, 0.5), 0.8);
  assert.equal(stepPxPerSample(0.55, -1, 0.5), 0.5); // never below the fitted view
  assert.equal(stepPxPerSample(4, -1, 4), 4);
  assert.deepEqual(LADDER.filter((p) => !Number.isInteger(p)), []);
});

test("zooming keeps the point under the pointer", () => {
  const viewport = { width: 1000, height: 700 };
  const layout = fitLayout(chain(10, 32, 32), viewport);
  const view = fitView(layout, viewport);
  const next = zoomAt(layout, view, +1, 300, 200);
  const before = [(300 - view.panX) / view.zoom, (200 - view.panY) / view.zoom];
  const after = [(300 - next.panX) / next.zoom, (200 - next.panY) / next.zoom];
  assert.ok(Math.abs(before[0] - after[0]) < 1e-9 && Math.abs(before[1] - after[1]) < 1e-9);
  assert.equal(next.zoom * layout.scale, layout.scale + 1);
  // Zooming out from the fitted view changes nothing.
  assert.deepEqual(zoomAt(layout, view, -1, 300, 200), view);
});

test("labels: measured widths widen a lane; unmeasured ones are estimated", () => {
  const viewport = { width: 1380, height: 880 };
  const narrow = fitLayout(chain(3, 8, 8, 20), viewport, { maxScale: 1 });
  const wide = fitLayout(chain(3, 8, 8, 140), viewport, { maxScale: 1 });
  assert.ok(wide.boxes.l0.w >= 140 && narrow.boxes.l0.w < wide.boxes.l0.w);
  const graph = chain(3, 8, 8);
  graph.nodes.forEach((n) => delete n.labelWidth);
  assert.equal(fitLayout(graph, viewport).boxes.l0.w, Math.max(8 * fitLayout(graph, viewport).scale,
    DEFAULTS.charWidth * 2));
});

test("an empty graph and a lone node", () => {
  const viewport = { width: 800, height: 600 };
  const empty = fitLayout({ nodes: [], edges: [] }, viewport);
  assert.deepEqual(empty.boxes, {});
  const { layout } = checkFits(chain(1, 32, 32), viewport);
  assert.equal(layout.scale, Math.floor((600 - 2 * DEFAULTS.margin - 2 * DEFAULTS.label) / 32));
});
