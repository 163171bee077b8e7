// node --test assets/standalone/: the standalone export's pure functions, and start()
// on a minimal fake document (no DOM library: the module must not need one).
import assert from "node:assert/strict";
import { test } from "node:test";

import standalone from "../../fracdash/web/assets/standalone/standalone.js";

const { classOf, coloringOr, glyphSrc, nextState, paint, start } = standalone;

const VARIANT = { absolute: "A", relative: "R", focus: ["F0", "F1", "F2"] };
const VARIANTS = { input: VARIANT, dense: { absolute: "a", relative: "r", focus: ["f0", "f1"] } };

test("glyphSrc: absolute, focused class, relative", () => {
  assert.equal(glyphSrc(VARIANT, "absolute", null), "A");
  assert.equal(glyphSrc(VARIANT, "absolute", undefined), "A");
  assert.equal(glyphSrc(VARIANT, "absolute", 0), "F0");
  assert.equal(glyphSrc(VARIANT, "absolute", 2), "F2");
});

test("glyphSrc: relative ignores the focus", () => {
  assert.equal(glyphSrc(VARIANT, "relative", null), "R");
  assert.equal(glyphSrc(VARIANT, "relative", 1), "R");
});

test("glyphSrc: an unknown class or layer falls back", () => {
  assert.equal(glyphSrc(VARIANT, "absolute", 7), "A");
  assert.equal(glyphSrc({ absolute: "A", relative: "R" }, "absolute", 0), "A");
  assert.equal(glyphSrc(undefined, "absolute", 0), null);
});

test("coloringOr accepts the two colorings only", () => {
  assert.equal(coloringOr("relative"), "relative");
  assert.equal(coloringOr("absolute"), "absolute");
  for (const bad of ["", "RELATIVE", null, undefined, 3, "__proto__"]) {
    assert.equal(coloringOr(bad), "absolute");
  }
});

test("classOf reads digits only", () => {
  assert.equal(classOf("0"), 0);
  assert.equal(classOf("12"), 12);
  for (const bad of ["", "-1", "1.5", "x", " 1", null, undefined, 3]) {
    assert.equal(classOf(bad), null);
  }
});

test("nextState: focus, blur, coloring; same object when nothing changes", () => {
  const s0 = { coloring: "absolute", focus: null };
  const s1 = nextState(s0, { type: "focus", k: 2 });
  assert.deepEqual(s1, { coloring: "absolute", focus: 2 });
  assert.deepEqual(s0, { coloring: "absolute", focus: null }, "not mutated");
  assert.equal(nextState(s1, { type: "focus", k: 2 }), s1);
  assert.deepEqual(nextState(s1, { type: "blur" }), s0);
  assert.equal(nextState(s0, { type: "blur" }), s0);
  const s2 = nextState(s1, { type: "coloring", value: "relative" });
  assert.deepEqual(s2, { coloring: "relative", focus: 2 });
  assert.deepEqual(nextState(s2, { type: "coloring", value: "bogus" }).coloring, "absolute");
  assert.equal(nextState(s0, { type: "unknown" }), s0);
});

function image(layer, src = "") {
  return { dataset: { layer }, src };
}

test("paint points every known glyph at its variant and counts changes", () => {
  const images = [image("input", "A"), image("dense", "a"), image("gone", "x")];
  assert.equal(paint(images, VARIANTS, { coloring: "absolute", focus: 1 }), 2);
  assert.deepEqual(images.map((i) => i.src), ["F1", "f1", "x"]);
  assert.equal(paint(images, VARIANTS, { coloring: "absolute", focus: 1 }), 0);
  paint(images, VARIANTS, { coloring: "relative", focus: 1 });
  assert.deepEqual(images.map((i) => i.src), ["R", "r", "x"]);
});

test("paint reads only the run's own layers, never inherited properties", () => {
  const images = [image("constructor", "c"), image("__proto__", "p"), image("toString", "t")];
  assert.equal(paint(images, VARIANTS, { coloring: "relative", focus: null }), 0);
  assert.deepEqual(images.map((i) => i.src), ["c", "p", "t"]);
});

// A document just rich enough for start(): listeners, a JSON element, glyphs, radios.
function fakeDocument({ variants = VARIANTS, checked = "absolute" } = {}) {
  const listeners = {};
  const images = [image("input", "A"), image("dense", "a")];
  const legendItems = [0, 1].map((k) => ({
    dataset: { class: String(k) },
    closest(selector) {
      return selector === ".fd-legend-item" ? this : null;
    },
    contains(node) {
      return node === this;
    },
  }));
  const doc = {
    body: { dataset: {} },
    images,
    legendItems,
    getElementById: (id) =>
      id === "fd-variants" && variants ? { textContent: JSON.stringify(variants) } : null,
    querySelector: (sel) => (sel.includes(":checked") ? { value: checked } : null),
    querySelectorAll: (sel) => (sel === "img.fd-glyph" ? images : []),
    addEventListener: (type, fn) => {
      (listeners[type] ||= []).push(fn);
    },
    fire: (type, ev) => (listeners[type] || []).forEach((fn) => fn(ev)),
  };
  return doc;
}

test("start: hovering a legend item focuses its class; leaving restores", () => {
  const doc = fakeDocument();
  const handle = start(doc);
  assert.equal(doc.body.dataset.fdReady, "true");
  assert.equal(doc.body.dataset.coloring, "absolute");
  const [cat, dog] = doc.legendItems;
  doc.fire("mouseover", { target: dog, relatedTarget: null });
  assert.deepEqual(handle.state(), { coloring: "absolute", focus: 1 });
  assert.deepEqual(doc.images.map((i) => i.src), ["F1", "f1"]);
  // Moving within the item (relatedTarget inside it) changes nothing.
  doc.fire("mouseout", { target: dog, relatedTarget: dog });
  assert.equal(handle.state().focus, 1);
  doc.fire("mouseout", { target: dog, relatedTarget: null });
  assert.deepEqual(doc.images.map((i) => i.src), ["A", "a"]);
  doc.fire("focusin", { target: cat, relatedTarget: null }); // keyboard
  assert.deepEqual(doc.images.map((i) => i.src), ["F0", "f0"]);
  doc.fire("focusout", { target: cat, relatedTarget: null });
  assert.equal(handle.state().focus, null);
});

test("start: the coloring switch recolors; other inputs and targets are ignored", () => {
  const doc = fakeDocument();
  const handle = start(doc);
  doc.fire("change", { target: { name: "fd-coloring", value: "relative" } });
  assert.equal(doc.body.dataset.coloring, "relative");
  assert.deepEqual(doc.images.map((i) => i.src), ["R", "r"]);
  doc.fire("change", { target: { name: "other", value: "absolute" } });
  doc.fire("mouseover", { target: { closest: () => null }, relatedTarget: null });
  assert.deepEqual(handle.state(), { coloring: "relative", focus: null });
});

test("start: a restored relative radio is honoured; no run data means no wiring", () => {
  const doc = fakeDocument({ checked: "relative" });
  start(doc);
  assert.deepEqual(doc.images.map((i) => i.src), ["R", "r"]);
  const empty = fakeDocument({ variants: null });
  assert.equal(start(empty), null);
  assert.equal(empty.body.dataset.fdReady, undefined);
});
