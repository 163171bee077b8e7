// node --test tests/js/ : the graph fitted to the window (fracdash/web/assets/dag_fit.js),
// a pure function of the graph, its candidate folds and the viewport. The folds are
// made here by hand (fracdash/layout/fold.py makes the real ones; tests/test_layout.py
// checks that this module places them exactly as fracdash/layout/place.py does).
import assert from "node:assert/strict";
import { test } from "node:test";

import fitModule from "../../fracdash/web/assets/dag_fit.js";
import zoomModule from "../../fracdash/web/assets/dag_zoom.js";

const { DEFAULTS, fitLayout, settle } = fitModule;
const { fitView, placeView } = zoomModule;

// A seeded generator, so that every run tests the same graphs.
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// A fold from its columns' first ranks: each column spans its nodes' lanes (half a lane
// either side of a centre) and the lanes of the long edges passing through it.
function foldOf(graph, starts, mode = "any") {
  const count = Math.max(...graph.nodes.map((n) => n.rank)) + 1;
  const rank = Object.fromEntries(graph.nodes.map((n) => [n.name, n.rank]));
  const columns = starts.map((first, i) => {
    const last = i + 1 < starts.length ? starts[i + 1] - 1 : count - 1;
    const spans = graph.nodes.filter((n) => n.rank >= first && n.rank <= last)
      .map((n) => [n.x - 0.5, n.x + 0.5]);
    for (const e of graph.edges) {
      (e.via || []).forEach((lane, j) => {
        const r = rank[e.source] + 1 + j;
        if (r >= first && r <= last) spans.push([lane - 0.1, lane + 0.1]);
      });
    }
    return [first, last, Math.min(...spans.map((s) => s[0])), Math.max(...spans.map((s) => s[1]))];
  });
  return { mode, columns };
}

// Every even split of the ranks into k columns (the longer first), k = 1 .. ranks.
function evenFolds(graph) {
  const count = Math.max(...graph.nodes.map((n) => n.rank)) + 1;
  const folds = [];
  for (let k = 1; k <= count; k++) {
    const starts = [];
    let at = 0;
    for (let c = 0; c < k; c++) {
      starts.push(at);
      at += Math.floor(count / k) + (c < count % k ? 1 : 0);
    }
    folds.push(foldOf(graph, starts));
  }
  return folds;
}

function chain(n, w = 32, h = w, label = 60) {
  const nodes = [];
  const edges = [];
  for (let i = 0; i < n; i++) {
    nodes.push({ name: `l${i}`, width: w, height: h, rank: i, order: 0, x: 0, labelWidth: label });
    if (i) edges.push({ source: `l${i - 1}`, target: `l${i}`, via: [] });
  }
  const graph = { nodes, edges };
  graph.folds = evenFolds(graph);
  return graph;
}

// DoubleLeNet5 as the server lays it out: input, two branches (b one rank longer,
// through "rotate"), concatenate, dense, prediction. Clean folds break only after the
// fork (rank 9), "any" folds anywhere.
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
  const graph = { nodes, edges, a, b };
  graph.folds = [foldOf(graph, [0], "clean"), foldOf(graph, [0, 10], "clean"),
    foldOf(graph, [0, 10, 11], "clean"), ...evenFolds(graph).slice(1)];
  return graph;
}

// A random layered graph: 1-3 nodes per rank in lanes 0..2, edges between neighbouring
// ranks, and a few long ones passing lane 3.
function layered(seed) {
  const rnd = random(seed);
  const ranks = 2 + Math.floor(rnd() * 25);
  const nodes = [];
  const byRank = [];
  for (let r = 0; r < ranks; r++) {
    byRank.push([]);
    for (let i = 0; i < 1 + Math.floor(rnd() * 3); i++) {
      const side = 4 + Math.floor(rnd() * 60);
      const node = { name: `r${r}n${i}`, width: side, height: Math.max(3, side - Math.floor(rnd() * 4)),
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
  const graph = { nodes, edges };
  graph.folds = evenFolds(graph);
  return graph;
}

function overlap(a, b) {
  return a.left < b.left + b.width && b.left < a.left + a.width &&
    a.top < b.top + b.height && b.top < a.top + a.height;
}

function checkFits(graph, viewport, opts) {
  const layout = fitLayout(graph, viewport, opts);
  const placed = placeView(layout, fitView(layout, viewport), opts && opts.dpr);
  const boxes = Object.entries(placed.nodes);
  assert.equal(boxes.length, graph.nodes.length);
  for (const [name, b] of boxes) {
    assert.ok(b.left >= 0 && b.top >= 0, `${name} starts outside: ${JSON.stringify(b)}`);
    assert.ok(b.left + b.width <= viewport.width + 0.5 && b.top + b.height <= viewport.height + 0.5,
      `${name} ends outside ${JSON.stringify(viewport)}: ${JSON.stringify(b)}`);
    assert.ok(b.glyphLeft >= b.left - 0.5 && b.glyphLeft + b.glyphWidth <= b.left + b.width + 0.5, name);
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      assert.ok(!overlap(boxes[i][1], boxes[j][1]), `${boxes[i][0]} overlaps ${boxes[j][0]}`);
    }
  }
  assert.ok(layout.width * layout.zoom <= viewport.width + 1e-6);
  assert.ok(layout.height * layout.zoom <= viewport.height + 1e-6);
  return { layout, placed };
}

// Each rank is below the previous one in its column, or starts the next column.
function checkReadingOrder(layout) {
  const byRank = {};
  for (const b of Object.values(layout.boxes)) (byRank[b.rank] ||= []).push(b);
  const ranks = Object.keys(byRank).map(Number).sort((a, b) => a - b);
  for (let i = 1; i < ranks.length; i++) {
    const prev = byRank[ranks[i - 1]];
    const next = byRank[ranks[i]];
    if (next[0].column === prev[0].column) {
      const bottom = Math.max(...prev.map((b) => b.y + b.h));
      assert.ok(Math.min(...next.map((b) => b.y)) >= bottom, `rank ${ranks[i]} not below`);
    } else {
      assert.equal(next[0].column, prev[0].column + 1);
      const right = Math.max(...prev.map((b) => b.x + b.w));
      assert.ok(Math.min(...next.map((b) => b.x)) > right, `rank ${ranks[i]} not to the right`);
    }
  }
}

// The reference for a uniform chain, counted by hand: its size folded into columns of
// `rows` ranks at most, at scale s, with the default gaps and margins.
function chainSize(n, w, h, label, s, columns) {
  const d = DEFAULTS;
  const rows = Math.ceil(n / columns);
  const lane = Math.max(w * s, label) + d.hgap;
  return { width: 2 * d.margin + columns * lane + (columns - 1) * d.colGap,
    height: 2 * d.margin + rows * (h * s + 2 * d.label) + (rows - 1) * d.vgap };
}

// The scale a chain should get, by the rule counted by hand: per column count k the
// largest scale that fits (a scan in 1/1000 px steps); of the counts within 10% of the
// best, the one whose drawing covers most of the viewport.
function chainScale(n, w, h, label, viewport) {
  const fits = [];
  let best = 0;
  for (let k = 1; k <= n; k++) {
    let s = 0;
    for (let i = 1; i <= 64000; i++) {
      const t = i / 1000;
      const size = chainSize(n, w, h, label, t, k);
      if (size.width > viewport.width || size.height > viewport.height) break;
      s = t;
    }
    fits.push(s);
    best = Math.max(best, s);
  }
  let chosen = null;
  fits.forEach((s, i) => {
    const size = chainSize(n, w, h, label, s, i + 1);
    const cover = (size.width / viewport.width) * (size.height / viewport.height);
    if (s >= 0.9 * best - 1e-3 && (!chosen || cover > chosen.cover + 1e-3)) chosen = { s, cover };
  });
  return chosen.s;
}

test("a chain gets the fold and scale that fill the viewport, crisp where it costs little", () => {
  for (const [n, w, h] of [[10, 32, 32], [26, 100, 100], [10, 45, 45], [19, 100, 100],
    [26, 18, 17], [9, 128, 128], [3, 16, 16], [1, 32, 32]]) {
    for (const viewport of [{ width: 1380, height: 880 }, { width: 1060, height: 600 }]) {
      for (const dpr of [1, 2, 1.5]) {
        const graph = chain(n, w, h);
        const layout = fitLayout(graph, viewport, { dpr });
        const best = chainScale(n, w, h, 60, viewport);
        const crisp = Math.floor(best * dpr + 1e-6) / dpr;
        const want = crisp >= 0.95 * best ? crisp : Math.floor(best * 100) / 100;
        assert.ok(Math.abs(layout.scale - want) <= 0.011, `${n}x${w} at dpr ${dpr}: ${layout.scale}, not ${want}`);
        assert.equal(layout.crisp, Math.abs(layout.scale * dpr - Math.round(layout.scale * dpr)) < 1e-6);
        assert.equal(layout.zoom, 1);
        checkFits(graph, viewport, { dpr });
        checkReadingOrder(layout);
      }
    }
  }
});

test("the chosen fold fills the viewport one way", () => {
  for (const n of [10, 19, 26]) {
    for (const viewport of [{ width: 1380, height: 880 }, { width: 1060, height: 600 }]) {
      const layout = fitLayout(chain(n, 100, 100), viewport, { crispShare: 1 });
      const wide = layout.width / viewport.width;
      const tall = layout.height / viewport.height;
      assert.ok(Math.max(wide, tall) > 0.99, `${n}: ${wide} x ${tall}`);
    }
  }
});

test("settle: k/d where that keeps 95% of the scale, else the scale to 1/100", () => {
  const o = { dpr: 1, crispShare: 0.95 };
  assert.equal(settle(3.1, o), 3);
  assert.equal(settle(2.94, o), 2.94);
  assert.equal(settle(1.04, o), 1);
  assert.equal(settle(2.5, { dpr: 2, crispShare: 0.95 }), 2.5);
  assert.equal(settle(2.74, { dpr: 2, crispShare: 0.95 }), 2.74);
  assert.equal(settle(2.6, { dpr: 2, crispShare: 0.95 }), 2.5);
});

test("glyphs keep their own width and height (rectangles)", () => {
  const viewport = { width: 1000, height: 700 };
  const { layout, placed } = checkFits(chain(6, 18, 17), viewport);
  for (const node of Object.values(placed.nodes)) {
    assert.ok(Math.abs(node.glyphWidth - 18 * layout.scale) <= 0.5);
    assert.ok(Math.abs(node.glyphHeight - 17 * layout.scale) <= 0.5);
  }
});

test("branches stay side by side in every column", () => {
  for (const viewport of [{ width: 1380, height: 880 }, { width: 1060, height: 640 },
    { width: 700, height: 900 }, { width: 1400, height: 500 }]) {
    const graph = doubleLenet();
    const { layout } = checkFits(graph, viewport);
    assert.ok(!layout.overview && layout.scale >= 1);
    for (let i = 1; i < graph.a.length; i++) {
      const a = layout.boxes[graph.a[i]];
      const b = layout.boxes[graph.b[i]];
      assert.equal(a.y, b.y);
      assert.ok(b.x + b.w < a.x, `${graph.b[i]} not left of ${graph.a[i]}`);
    }
    checkReadingOrder(layout);
  }
});

test("a block stays whole unless cutting it makes glyphs a third larger", () => {
  // Narrow and tall: one column, the block whole.
  let layout = fitLayout(doubleLenet(), { width: 300, height: 1000 });
  assert.equal(layout.mode, "clean");
  const graph = doubleLenet();
  for (const name of [...graph.a, ...graph.b, "concat"]) {
    assert.equal(layout.boxes[name].column, layout.boxes.input.column, name);
  }
  // Wide: the whole fork (10 ranks) in one column would get glyphs far smaller.
  layout = fitLayout(doubleLenet(), { width: 1380, height: 880 });
  assert.equal(layout.mode, "any");
  assert.ok(layout.columns.length > 2);
});

test("random layered graphs fit without overlaps, in reading order", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const graph = layered(seed);
    for (const viewport of [{ width: 1380, height: 880 }, { width: 1060, height: 600 }]) {
      const { layout } = checkFits(graph, viewport, { dpr: seed % 2 ? 1 : 2 });
      checkReadingOrder(layout);
    }
  }
});

test("every edge runs from its source's bottom to its target's top, inside the drawing", () => {
  const viewport = { width: 1060, height: 600 };
  for (const graph of [chain(26, 32, 32), doubleLenet(), layered(5), layered(9)]) {
    const layout = fitLayout(graph, viewport);
    assert.equal(layout.edges.length, graph.edges.length);
    for (const e of layout.edges) {
      const src = layout.boxes[e.source];
      const dst = layout.boxes[e.target];
      const first = e.route[0];
      const last = e.route[e.route.length - 1];
      assert.deepEqual([first.x, first.y], [src.x + src.w / 2, src.y + src.h]);
      assert.deepEqual([last.x, last.y], [dst.x + dst.w / 2, dst.y]);
      for (const p of e.route) {
        assert.ok(p.x >= 0 && p.x <= layout.width && p.y >= 0 && p.y <= layout.height);
      }
    }
  }
});

test("nothing fits at one device pixel per sample: an overview at that scale", () => {
  const viewport = { width: 600, height: 400 };
  for (const dpr of [1, 2]) {
    const { layout, placed } = checkFits(chain(60, 64, 64), viewport, { dpr });
    assert.ok(layout.overview && layout.zoom < 1);
    assert.equal(layout.scale, 1 / dpr);
    assert.ok(placed.pxPerSample < 1 / dpr);
    checkReadingOrder(layout);
  }
});

test("labels: measured widths widen a lane; unmeasured ones are estimated", () => {
  const viewport = { width: 1380, height: 880 };
  const narrow = fitLayout(chain(3, 8, 8, 20), viewport, { maxScale: 1 });
  const wide = fitLayout(chain(3, 8, 8, 140), viewport, { maxScale: 1 });
  assert.ok(wide.boxes.l0.w >= 140 && narrow.boxes.l0.w < wide.boxes.l0.w);
  const graph = chain(3, 8, 8);
  graph.nodes.forEach((n) => delete n.labelWidth);
  const layout = fitLayout(graph, viewport, { maxScale: 1 });
  assert.equal(layout.boxes.l0.w, Math.max(8 * layout.scale, DEFAULTS.charWidth * 2));
});

test("the server's spacing is used where the graph carries it", () => {
  const graph = chain(2, 10, 10);
  graph.spacing = { label: 20, hgap: 30, vgap: 5, col_gap: 40, margin: 3, label_max: 100 };
  const layout = fitLayout(graph, { width: 500, height: 500 }, { maxScale: 2 });
  assert.equal(layout.options.margin, 3);
  assert.equal(layout.boxes.l0.y, 3);
  assert.equal(layout.boxes.l0.h, 10 * layout.scale + 40);
});

test("an empty graph and a lone node", () => {
  const viewport = { width: 800, height: 600 };
  assert.deepEqual(fitLayout({ nodes: [], edges: [], folds: [] }, viewport).boxes, {});
  const { layout } = checkFits(chain(1, 32, 32), viewport);
  // Height-bound at 548 / 32 = 17.125 px per sample: 17, crisp, keeps over 95% of it.
  assert.equal(layout.scale, Math.floor((600 - 2 * DEFAULTS.margin - 2 * DEFAULTS.label) / 32));
  assert.ok(layout.crisp);
});
