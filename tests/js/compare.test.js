/* node --test tests/js: a comparison's functions (assets/compare.js), each checked
 * against a brute-force recomputation from two random runs' raw arrays. */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const S = require("../../fracdash/web/assets/samples.js");
const C = require("../../fracdash/web/assets/compare.js");

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
function shuffled(n, rand) {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
const b64 = (Type, values) => Buffer.from(new Type(values).buffer).toString("base64");
const COLORS = { classes: ["#ff0000", "#00ff00", "#0000ff", "#ffff00"], empty: "#000000",
                 relative: ["#000000", "#808080", "#ffffff"], relative_empty: "#add8e6",
                 focus_dim: "#404040" };

/* Two runs on the same n samples (same labels), each with its own predictions, grid
 * and layers ("conv" in both: layer names may repeat across the two graphs). */
function makePair(n = 53, k = 4, seed = 1) {
  const rand = rng(seed);
  const labels = Array.from({ length: n }, () => Math.floor(rand() * k));
  const run = (name, W, H, layers) => {
    const predictions = labels.map((l) => (rand() < 0.35 ? (l + 1 + Math.floor(rand() * (k - 1))) % k : l));
    const slots = shuffled(W * H, rand).slice(0, n);
    const orders = {};
    for (const layer of layers) orders[layer] = shuffled(n, rand);
    const payload = {
      run: name, n, width: W, height: H, curve: "compact", colors: COLORS,
      classNames: Array.from({ length: k }, (_, i) => "c" + i), orderType: "uint16", thumbs: null,
      labels: b64(Uint16Array, labels), predictions: b64(Uint16Array, predictions),
      slots: b64(Uint32Array, slots),
      layers: Object.fromEntries(layers.map((l) => [l, { order: b64(Uint16Array, orders[l]), quality: 0 }])),
    };
    return { model: S.decode(payload), predictions, slots, orders, W, H };
  };
  const a = run("A", 8, 7, ["input", "conv", "dense"]);
  const b = run("B", 9, 6, ["conv", "pool", "dense 2"]);
  const agreement = Float32Array.from({ length: n }, () => Math.round(rand() * 8) / 8); // ties
  return { n, labels, a, b, agreement };
}

function payloadOf(r) {
  const codes = r.labels.map((l, i) => {
    const ra = r.a.predictions[i] === l, rb = r.b.predictions[i] === l;
    return ra && rb ? 0 : ra ? 1 : rb ? 2 : 3;
  });
  return {
    run_a: "A", run_b: "B", n: r.n, pairing: "by name", pairs: [], layers_a: [], layers_b: [],
    cka: null, notes: [], correctness: b64(Int8Array, codes),
    agreement: b64(Float32Array, r.agreement), moved: bruteMoved(r.agreement),
  };
}

/* The definition, literally: the m lowest mean agreements, ties to the lower index. */
function bruteMoved(agreement) {
  const n = agreement.length, m = Math.min(n, Math.max(10, Math.ceil(n / 100)));
  const chosen = [];
  const left = new Set(Array.from({ length: n }, (_, i) => i));
  while (chosen.length < m) {
    let best = -1;
    for (const i of left) if (best < 0 || agreement[i] < agreement[best]) best = i; // first lowest
    chosen.push(best);
    left.delete(best);
  }
  return chosen.sort((x, y) => x - y);
}

test("the comparison's JSON decodes to its arrays; a short array is refused in one line", () => {
  const r = makePair();
  const c = C.decode(payloadOf(r));
  assert.equal(c.n, r.n);
  assert.deepEqual(Array.from(c.agreement), Array.from(r.agreement));
  assert.deepEqual(Array.from(c.correctness),
                   Array.from(C.correctnessOf(r.a.model.labels, r.a.model.predictions, r.b.model.predictions)));
  assert.deepEqual(Array.from(c.moved), bruteMoved(r.agreement));
  const bad = Object.assign(payloadOf(r), { n: r.n + 1 });
  assert.throws(() => C.decode(bad), /^Error: the comparison of A with B holds 53 correctness codes and 53 agreements for 54 samples; reload the page$/);
});

test("correctness codes: both right, only A, only B, both wrong", () => {
  const codes = C.correctnessOf([0, 1, 2, 3, 4], [0, 1, 9, 9, 4], [0, 9, 2, 9, 4]);
  assert.deepEqual(Array.from(codes), [0, 1, 2, 3, 0]);
  const r = makePair(200, 3, 5);
  const all = C.correctnessOf(r.labels, r.a.predictions, r.b.predictions);
  assert.deepEqual(new Set(all), new Set([0, 1, 2, 3])); // the random pair holds every code
});

test("changed most: the m lowest agreements, ties to the lower index", () => {
  for (const [n, seed] of [[5, 1], [53, 2], [999, 3], [2345, 4]]) {
    const rand = rng(seed);
    const agreement = Float32Array.from({ length: n }, () => Math.round(rand() * 6) / 6);
    const got = Array.from(C.changedMost(agreement));
    assert.deepEqual(got, bruteMoved(agreement));
    assert.equal(got.length, Math.min(n, Math.max(10, Math.ceil(n / 100))));
  }
});

test("classified differently, changed most: the masks of their definitions", () => {
  const r = makePair(120, 4, 9);
  const c = C.decode(payloadOf(r));
  const diff = C.maskOf(S, r.a.model, r.b.model, c, { kind: "diff" });
  const moved = C.maskOf(S, r.a.model, r.b.model, c, { kind: "moved" });
  const movedSet = new Set(bruteMoved(r.agreement));
  let differ = 0;
  for (let i = 0; i < r.n; i++) {
    const d = r.a.predictions[i] !== r.b.predictions[i];
    differ += d;
    assert.equal(diff[i], d ? 1 : 0);
    assert.equal(moved[i], movedSet.has(i) ? 1 : 0);
  }
  assert.ok(differ > 0 && differ < r.n);
  assert.equal(S.count(diff), differ);
  /* Not comparing (no B, no data): these rules do not apply. */
  assert.equal(C.maskOf(S, r.a.model, null, null, { kind: "diff" }), null);
  assert.equal(C.maskOf(S, r.a.model, r.b.model, null, { kind: "moved" }), null);
  assert.equal(C.maskOf(S, r.a.model, null, c, { kind: "moved" }), null);
  assert.ok(C.needsComparison({ kind: "diff" }) && C.needsComparison({ kind: "moved" }));
  assert.ok(!C.needsComparison({ kind: "wrong" }) && !C.needsComparison(null));
});

test("a brush selects in the graph it was drawn in; misclassified and cells are A's", () => {
  const r = makePair(60, 4, 3);
  const brushB = { kind: "brush", layer: "conv", rect: [1, 1, 5, 4], side: "b" };
  const brushA = { kind: "brush", layer: "conv", rect: [1, 1, 5, 4] };
  const inRect = (run, layer, [x0, y0, x1, y1]) => {
    const mask = new Uint8Array(r.n);
    run.orders[layer].forEach((s, rank) => {
      const x = run.slots[rank] % run.W, y = Math.floor(run.slots[rank] / run.W);
      if (x >= x0 && x <= x1 && y >= y0 && y <= y1) mask[s] = 1;
    });
    return mask;
  };
  assert.deepEqual(C.maskOf(S, r.a.model, r.b.model, null, brushB), inRect(r.b, "conv", brushB.rect));
  assert.deepEqual(C.maskOf(S, r.a.model, r.b.model, null, brushA), inRect(r.a, "conv", brushA.rect));
  assert.notDeepEqual(inRect(r.a, "conv", brushA.rect), inRect(r.b, "conv", brushB.rect));
  assert.equal(C.maskOf(S, r.a.model, r.b.model, null, { kind: "brush", layer: "pool", rect: [0, 0, 1, 1] }), null);
  assert.equal(C.maskOf(S, r.a.model, null, null, brushB), null);
  const wrong = C.maskOf(S, r.a.model, r.b.model, null, { kind: "wrong" });
  for (let i = 0; i < r.n; i++) assert.equal(wrong[i], r.labels[i] !== r.a.predictions[i] ? 1 : 0);
  const cell = C.maskOf(S, r.a.model, r.b.model, null, { kind: "cell", truth: 1, predicted: 2 });
  for (let i = 0; i < r.n; i++) {
    assert.equal(cell[i], r.labels[i] === 1 && r.a.predictions[i] === 2 ? 1 : 0);
  }
});

test("correctness paint: four distinct colors per sample, empty cells, dimmed unselected", () => {
  const r = makePair(53, 4, 11);
  const c = C.decode(payloadOf(r));
  assert.equal(new Set(C.CORRECTNESS.colors).size, 4);
  assert.deepEqual(C.CORRECTNESS.names, ["both right", "only A right", "only B right", "both wrong"]);
  const rgb = C.CORRECTNESS.colors.map(S.rgb);
  const mask = new Uint8Array(r.n);
  for (let i = 0; i < r.n; i += 3) mask[i] = 1;
  for (const [run, layer] of [[r.a, "conv"], [r.b, "conv"], [r.b, "dense 2"]]) {
    const full = C.paintCorrectness(run.model, layer, c.correctness, null);
    const dimmed = C.paintCorrectness(run.model, layer, c.correctness, mask,
                                      new Uint8ClampedArray(run.W * run.H * 4));
    const at = new Map();
    run.orders[layer].forEach((s, rank) => at.set(run.slots[rank], s));
    for (let cell = 0; cell < run.W * run.H; cell++) {
      const px = (out) => Array.from(out.slice(4 * cell, 4 * cell + 4));
      if (!at.has(cell)) {
        assert.deepEqual(px(full), [0, 0, 0, 255]);
        continue;
      }
      const s = at.get(cell), code = c.correctness[s];
      assert.deepEqual(px(full), [...rgb[code], 255]);
      const f = mask[s] ? 1 : C.DIM;
      assert.deepEqual(px(dimmed), [...rgb[code].map((v) => Math.round(v * f)), 255]);
    }
  }
  assert.equal(C.DIM, S.DIM);
});

test("correctness paint under a run of selections and of two comparisons' codes", () => {
  const r = makePair(50, 4, 23), rand = rng(9); // B: 9 x 6 cells, 4 of them empty
  const c = C.decode(payloadOf(r));
  const other = Int8Array.from(c.correctness, (k) => (k + 1) % 4); // another comparison's codes
  const rgb = C.CORRECTNESS.colors.map(S.rgb);
  const run = r.b, layer = "dense 2";
  const out = new Uint8ClampedArray(run.W * run.H * 4);
  const at = new Map();
  run.orders[layer].forEach((s, rank) => at.set(run.slots[rank], s));
  for (const codes of [c.correctness, other, c.correctness]) {
    for (const share of [0, 0.1, 0.5, 0.9, 1, null]) {
      const mask = share === null ? null : Uint8Array.from({ length: r.n }, () => (rand() < share ? 1 : 0));
      C.paintCorrectness(run.model, layer, codes, mask, out);
      for (let cell = 0; cell < run.W * run.H; cell++) {
        const px = Array.from(out.slice(4 * cell, 4 * cell + 4));
        if (!at.has(cell)) {
          assert.deepEqual(px, [0, 0, 0, 255]);
          continue;
        }
        const s = at.get(cell), f = mask && !mask[s] ? C.DIM : 1;
        assert.deepEqual(px, [...rgb[codes[s]].map((v) => Math.round(v * f)), 255]);
      }
    }
  }
  /* The same layer painted by its classes after the correctness: that palette's pixels. */
  const byClass = S.paint(run.model, layer, { labels: "truth", coloring: "absolute" });
  for (const [cell, s] of at) {
    assert.deepEqual(Array.from(byClass.slice(4 * cell, 4 * cell + 3)), S.rgb(COLORS.classes[run.model.labels[s]]));
  }
});

test("the info line's words for the comparison's selections", () => {
  assert.equal(C.selectionText({ kind: "diff" }, 1234, "A"), "1,234 classified differently");
  assert.equal(C.selectionText({ kind: "moved" }, 100, "A"), "100 changed most");
  assert.equal(C.selectionText({ kind: "wrong" }, 7, "easy"), "7 selected (misclassified by easy)");
  assert.equal(C.selectionText({ kind: "cell", truth: 1, predicted: 2 }, 7, "easy"), null);
});
