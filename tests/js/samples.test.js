/* node --test assets/tests: the sample-following functions of assets/samples.js, each
 * checked against a brute-force recomputation from the raw arrays of a random run. */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const S = require("../../fracdash/web/assets/samples.js");

/* A seeded run: n samples on a W x H grid (a serpentine curve with the last cells
 * empty), k classes, two layers with random orders. */
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

function makeRun(n = 37, W = 7, H = 6, k = 4, seed = 1) {
  const rand = rng(seed);
  const cells = [];
  for (let y = 0; y < H; y++) {
    for (let i = 0; i < W; i++) cells.push(y * W + (y % 2 ? W - 1 - i : i));
  }
  const slots = cells.slice(0, n);
  const labels = Array.from({ length: n }, () => Math.floor(rand() * k));
  const predictions = labels.map((l) => (rand() < 0.3 ? (l + 1) % k : l));
  const orders = { a: shuffled(n, rand), b: shuffled(n, rand) };
  const payload = {
    run: "toy", n, width: W, height: H, curve: "compact",
    classNames: Array.from({ length: k }, (_, i) => "c" + i),
    colors: { classes: ["#ff0000", "#00ff00", "#0000ff", "#ffff00"], empty: "#000000",
              relative: ["#000000", "#808080", "#ffffff"], relative_empty: "#add8e6",
              focus_dim: "#404040" },
    orderType: "uint16", thumbs: null,
    labels: b64(Uint16Array, labels), predictions: b64(Uint16Array, predictions),
    slots: b64(Uint32Array, slots),
    layers: { a: { order: b64(Uint16Array, orders.a), quality: 0.5 },
              b: { order: b64(Uint16Array, orders.b), quality: 0.6 } },
  };
  return { payload, model: S.decode(payload), slots, labels, predictions, orders, W, H, n };
}

test("a pixel names the sample the order puts there, and back", () => {
  const r = makeRun();
  for (const layer of ["a", "b"]) {
    for (let rank = 0; rank < r.n; rank++) {
      const x = r.slots[rank] % r.W, y = Math.floor(r.slots[rank] / r.W);
      const got = S.sampleAt(r.model, layer, x, y);
      assert.deepEqual(got, { sample: r.orders[layer][rank], rank });
      assert.deepEqual(S.cellOf(r.model, layer, r.orders[layer][rank]), { x, y, rank });
    }
  }
  /* The empty cells and points off the grid name nobody. */
  const used = new Set(r.slots);
  for (let c = 0; c < r.W * r.H; c++) {
    if (!used.has(c)) assert.equal(S.sampleAt(r.model, "a", c % r.W, Math.floor(c / r.W)), null);
  }
  assert.equal(S.sampleAt(r.model, "a", -1, 0), null);
  assert.equal(S.sampleAt(r.model, "a", r.W, 0), null);
  assert.equal(S.sampleAt(r.model, "nope", 0, 0), null);
});

test("a rectangle selects exactly the samples whose pixels lie in it", () => {
  const r = makeRun(40, 8, 6, 3, 7);
  for (const [x0, y0, x1, y1] of [[1, 1, 4, 3], [6, 5, 0, 0], [0, 0, 0, 0], [7, 4, 7, 5]]) {
    const mask = S.rectMask(r.model, "b", x0, y0, x1, y1);
    for (let rank = 0; rank < r.n; rank++) {
      const x = r.slots[rank] % r.W, y = Math.floor(r.slots[rank] / r.W);
      const inside = x >= Math.min(x0, x1) && x <= Math.max(x0, x1) &&
                     y >= Math.min(y0, y1) && y <= Math.max(y0, y1);
      assert.equal(mask[r.orders.b[rank]], inside ? 1 : 0);
    }
  }
});

test("a confusion cell and the misclassified toggle select by label", () => {
  const r = makeRun(60, 8, 8, 4, 3);
  const cell = S.cellMask(r.model, 2, 3);
  const wrong = S.wrongMask(r.model);
  for (let i = 0; i < r.n; i++) {
    assert.equal(cell[i], r.labels[i] === 2 && r.predictions[i] === 3 ? 1 : 0);
    assert.equal(wrong[i], r.labels[i] !== r.predictions[i] ? 1 : 0);
  }
  assert.ok(S.count(wrong) > 0);
});

test("cohesion counts selected Moore neighbours over 8|S|", () => {
  const r = makeRun(42, 7, 6, 3, 11);
  const rand = rng(5);
  const mask = Uint8Array.from({ length: r.n }, () => (rand() < 0.4 ? 1 : 0));
  const pos = {};
  r.orders.a.forEach((s, rank) => (pos[s] = [r.slots[rank] % r.W, Math.floor(r.slots[rank] / r.W)]));
  let sum = 0, size = 0;
  for (let s = 0; s < r.n; s++) {
    if (!mask[s]) continue;
    size++;
    for (let t = 0; t < r.n; t++) {
      if (t === s || !mask[t]) continue;
      const dx = Math.abs(pos[s][0] - pos[t][0]), dy = Math.abs(pos[s][1] - pos[t][1]);
      if (dx <= 1 && dy <= 1) sum++;
    }
  }
  assert.ok(size > 0);
  assert.equal(S.cohesion(r.model, "a", mask), sum / (8 * size));
  assert.equal(S.cohesion(r.model, "a", new Uint8Array(r.n)), null);
});

test("paint: class colors, focus dim, relative codes, empty cells, dimmed unselected", () => {
  const r = makeRun(30, 6, 6, 4, 9);
  const px = (out, cell) => Array.from(out.slice(4 * cell, 4 * cell + 3));
  const classes = r.payload.colors.classes.map(S.rgb);
  const truth = S.paint(r.model, "a", { labels: "truth", coloring: "absolute" });
  const pred = S.paint(r.model, "a", { labels: "predicted", coloring: "absolute" });
  const focus = S.paint(r.model, "a", { labels: "truth", coloring: "absolute", focus: 1 });
  const rel = S.paint(r.model, "a", { labels: "truth", coloring: "relative" });
  const mask = new Uint8Array(r.n);
  mask[r.orders.a[0]] = 1;
  const sel = S.paint(r.model, "a", { labels: "truth", coloring: "absolute", mask });
  for (let rank = 0; rank < r.n; rank++) {
    const s = r.orders.a[rank], cell = r.slots[rank];
    assert.deepEqual(px(truth, cell), classes[r.labels[s]]);
    assert.deepEqual(px(pred, cell), classes[r.predictions[s]]);
    assert.deepEqual(px(focus, cell), r.labels[s] === 1 ? classes[1] : [64, 64, 64]);
    const prev = rank > 0 && r.labels[r.orders.a[rank - 1]] === r.labels[s];
    const next = rank < r.n - 1 && r.labels[r.orders.a[rank + 1]] === r.labels[s];
    assert.deepEqual(px(rel, cell), [[0, 0, 0], [128, 128, 128], [255, 255, 255]][prev + next]);
    const f = rank === 0 ? 1 : S.DIM;
    assert.deepEqual(px(sel, cell), classes[r.labels[s]].map((v) => Math.round(v * f)));
  }
  for (let cell = r.n; cell < 36; cell++) {
    assert.deepEqual(px(truth, r.slots.includes(cell) ? -1 : cell), [0, 0, 0]);
    assert.deepEqual(px(rel, r.slots.includes(cell) ? -1 : cell), [173, 216, 230]);
  }
});

/* The glyph's pixels by the book, sample by sample from the raw arrays: each cell the
 * color of its sample's class (or its relative code), dimmed by DIM outside the mask. */
function brutePaint(r, layer, opts) {
  const c = r.payload.colors, order = r.orders[layer], rel = opts.coloring === "relative";
  const labels = opts.labels === "predicted" ? r.predictions : r.labels;
  const out = [];
  for (let cell = 0; cell < r.W * r.H; cell++) out.push(S.rgb(rel ? c.relative_empty : c.empty));
  order.forEach((s, rank) => {
    let color;
    if (rel) {
      const same = (rank > 0 && labels[order[rank - 1]] === labels[s]) +
                   (rank < r.n - 1 && labels[order[rank + 1]] === labels[s]);
      color = S.rgb(c.relative[same]);
    } else {
      const focused = opts.focus === null || opts.focus === undefined || labels[s] === opts.focus;
      color = S.rgb(focused ? c.classes[labels[s]] : c.focus_dim);
    }
    const f = opts.mask && !opts.mask[s] ? S.DIM : 1;
    out[r.slots[rank]] = color.map((v) => Math.round(v * f));
  });
  return out;
}

test("paint under a run of selections and palettes equals painting by the book", () => {
  const r = makeRun(40, 7, 7, 4, 21), rand = rng(5);
  const masks = [null, new Uint8Array(r.n), new Uint8Array(r.n).fill(1)];
  for (const share of [0.05, 0.3, 0.5, 0.7, 0.95]) {
    masks.push(Uint8Array.from({ length: r.n }, () => (rand() < share ? 1 : 0)));
  }
  const palettes = [{ labels: "truth", coloring: "absolute" },
                    { labels: "predicted", coloring: "absolute" },
                    { labels: "truth", coloring: "absolute", focus: 2 },
                    { labels: "truth", coloring: "relative" },
                    { labels: "predicted", coloring: "relative" }];
  const out = new Uint8ClampedArray(r.W * r.H * 4); // reused, as the page reuses its ImageData
  out.fill(7);
  /* Each palette twice (its kept images, then anew after another), every mask in turn
     on both layers: the kept images and the pixel lists must never show a stale pixel. */
  for (const opts of [...palettes, ...palettes]) {
    for (const mask of masks) {
      for (const layer of ["a", "b"]) {
        const got = S.paint(r.model, layer, { ...opts, mask }, out);
        assert.equal(got, out);
        const want = brutePaint(r, layer, { ...opts, mask });
        for (let cell = 0; cell < r.W * r.H; cell++) {
          assert.deepEqual(Array.from(out.slice(4 * cell, 4 * cell + 4)), [...want[cell], 255],
                           `${JSON.stringify(opts)} ${layer} cell ${cell}`);
        }
      }
    }
  }
  const listed = S.samplesOf(masks[4]);
  assert.equal(S.samplesOf(masks[4]), listed); // listed once per mask
  assert.deepEqual([...listed.on, ...listed.off].sort((x, y) => x - y), [...Array(r.n).keys()]);
  assert.ok([...listed.on].every((s) => masks[4][s] === 1));
  assert.ok([...listed.off].every((s) => masks[4][s] === 0));
});

test("selections survive the URL; malformed ones are ignored", () => {
  for (const sel of [{ kind: "wrong" }, { kind: "cell", truth: 6, predicted: 0 },
                     { kind: "brush", layer: "block1:conv", rect: [3, 4, 10, 12] },
                     { kind: "brush", layer: "b:conv", rect: [0, 0, 1, 1], side: "b" },
                     { kind: "diff" }, { kind: "moved" }]) {
    assert.deepEqual(S.parseSelection(S.formatSelection(sel)), sel);
  }
  assert.equal(S.formatSelection({ kind: "brush", layer: "x", rect: [1, 2, 3, 4], side: "b" }),
               "brush-b:x:1,2,3,4");
  assert.deepEqual(S.parseSelection("brush:b:x:1,2,3,4"), // a layer named "b:x" in graph A
                   { kind: "brush", layer: "b:x", rect: [1, 2, 3, 4] });
  for (const bad of ["", "cell:1", "cell:a-b", "brush:x:1,2,3", "wrongs", "cell:1-2-3",
                     "brush-a:x:1,2,3,4", "diffs", "moved:1"]) {
    assert.equal(S.parseSelection(bad), null);
  }
  assert.deepEqual(S.parsePins("3,x,7,3,99999", 100), [3, 7]);
  const r = makeRun();
  assert.equal(S.maskOf(r.model, { kind: "cell", truth: 9, predicted: 0 }), null);
  assert.equal(S.maskOf(r.model, { kind: "brush", layer: "zz", rect: [0, 0, 1, 1] }), null);
  assert.deepEqual(S.maskOf(r.model, { kind: "wrong" }), S.wrongMask(r.model));
  /* A brush in the second run's graph, or a comparison's rule, is not one run's. */
  assert.equal(S.maskOf(r.model, { kind: "brush", layer: "a", rect: [0, 0, 1, 1], side: "b" }), null);
  assert.equal(S.maskOf(r.model, { kind: "diff" }), null);
  assert.equal(S.maskOf(r.model, { kind: "moved" }), null);
});

test("orders above 65,536 samples come as uint32", () => {
  const n = 70000;
  const order = Uint32Array.from({ length: n }, (_, i) => n - 1 - i);
  const payload = {
    run: "big", n, width: 265, height: 265, curve: "compact", classNames: ["a"],
    colors: { classes: ["#ff0000"], empty: "#000000", relative: ["#000000", "#808080", "#ffffff"],
              relative_empty: "#add8e6", focus_dim: "#404040" },
    orderType: "uint32", thumbs: null,
    labels: b64(Uint16Array, new Uint16Array(n)), predictions: b64(Uint16Array, new Uint16Array(n)),
    slots: b64(Uint32Array, Uint32Array.from({ length: n }, (_, i) => i)),
    layers: { L: { order: Buffer.from(order.buffer).toString("base64"), quality: 0 } },
  };
  const m = S.decode(payload);
  assert.deepEqual(S.sampleAt(m, "L", 0, 0), { sample: n - 1, rank: 0 });
  assert.deepEqual(S.cellOf(m, "L", 0), { x: (n - 1) % 265, y: Math.floor((n - 1) / 265), rank: n - 1 });
});
