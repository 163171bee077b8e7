/* node --test assets/tests: the URL <-> view functions of assets/url_state.js. */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const url = require("../../fracdash/web/assets/url_state.js");

const NO = Symbol("no_update");

test("a view survives format then parse", () => {
  const view = { run: "easy-300", coloring: "relative", simplify: true, curve: "paper", focus: 3 };
  assert.deepEqual(url.parse(url.format(view)), view);
});

test("defaults stay out of the URL", () => {
  assert.equal(url.format(url.viewOf("easy", "absolute", [], "compact", null)), "?run=easy");
  assert.equal(url.format({}), "");
});

test("malformed values are ignored, not obeyed", () => {
  assert.deepEqual(url.parse("?run=&coloring=neon&curve=x&simplify=maybe&focus=-1"), {});
  assert.deepEqual(url.parse("?focus=12345"), {});
  assert.deepEqual(url.parse("?run=a%2Fb"), { run: "a/b" }); // the server checks the name
});

test("run names with spaces and unicode round-trip", () => {
  const view = url.viewOf("my model · v2", "absolute", [], "compact", null);
  assert.equal(url.parse(url.format(view)).run, "my model · v2");
});

test("a URL change sets only the controls that differ", () => {
  const out = url.sync("url", "?run=b&coloring=relative", "a", "relative", [], "compact", null, NO);
  assert.deepEqual(out, [NO, "b", NO, NO, NO, NO]);
  const back = url.sync("url", "?run=a&simplify=1&focus=2", "a", "absolute", [], "compact", null, NO);
  assert.deepEqual(back, [NO, NO, NO, ["on"], NO, 2]);
});

test("a control change writes the URL once, then nothing", () => {
  const out = url.sync("control", "?run=a", "a", "relative", ["on"], "paper", 1, NO);
  assert.deepEqual(out, ["?run=a&coloring=relative&curve=paper&simplify=1&focus=1",
                         NO, NO, NO, NO, NO]);
  const again = url.sync("control", out[0], "a", "relative", ["on"], "paper", 1, NO);
  assert.deepEqual(again, [NO, NO, NO, NO, NO, NO]); // no loop
});

test("a bare URL gets the view shown, once", () => {
  const out = url.sync("url", "", "easy", "absolute", [], "compact", null, NO);
  assert.deepEqual(out, ["?run=easy", NO, NO, NO, NO, NO]);
});

test("going back to a URL without a setting restores its default", () => {
  const out = url.sync("url", "?run=a&coloring=relative", "a", "relative", ["on"], "paper", null, NO);
  assert.deepEqual(out, [NO, NO, NO, [], "compact", NO]);
});

test("zoom and pan stay in the URL while the run stays", () => {
  const zoomed = "?run=a&zoom=2.0000&x=-10&y=5";
  const same = url.sync("control", zoomed, "a", "relative", [], "compact", null, NO);
  assert.equal(same[0], "?run=a&coloring=relative&zoom=2.0000&x=-10&y=5");
  const other = url.sync("control", zoomed, "b", "absolute", [], "compact", null, NO);
  assert.equal(other[0], "?run=b");
});

test("selection, pins, labels and the pinned class stay while the run stays", () => {
  const shared = "?run=a&focus=3&labels=predicted&sel=cell%3A6-0&pin=4%2C9";
  const same = url.sync("control", shared, "a", "relative", [], "compact", null, NO);
  const kept = new URLSearchParams(same[0]);
  assert.equal(kept.get("coloring"), "relative");
  assert.equal(kept.get("focus"), "3");
  assert.equal(kept.get("labels"), "predicted");
  assert.equal(kept.get("sel"), "cell:6-0");
  assert.equal(kept.get("pin"), "4,9");
  const other = url.sync("control", shared, "b", "absolute", [], "compact", null, NO);
  assert.equal(other[0], "?run=b");
});
