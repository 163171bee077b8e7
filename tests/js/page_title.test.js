/* node --test tests/js: the tab's title, assets/page_title.js: the run and the view. */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const title = require("../../fracdash/web/assets/page_title.js");

test("the title names the app, the run, the coloring and the curve", () => {
  const view = { run: "easy-300", coloring: "relative", curve: "paper", simplify: false };
  assert.equal(title.pageTitle(view), "fracdash · easy-300 · relative · paper");
});

test("every setting of the view changes the title", () => {
  const base = { run: "easy-300", coloring: "absolute", curve: "compact", simplify: false };
  const changed = [
    { run: "realistic-200" }, { coloring: "relative" }, { curve: "paper" }, { simplify: true },
  ].map((change) => title.pageTitle(Object.assign({}, base, change)));
  const all = [title.pageTitle(base)].concat(changed);
  assert.equal(new Set(all).size, all.length);
  assert.equal(changed[3], "fracdash · easy-300 · absolute · compact · simplified");
});

test("the Dash controls read as a view; no run yet, no run in the title", () => {
  assert.deepEqual(title.viewOf("easy", "relative", ["on"], "paper"),
                   { run: "easy", coloring: "relative", curve: "paper", simplify: true });
  assert.equal(title.viewOf("easy", "absolute", [], "compact").simplify, false);
  assert.equal(title.pageTitle(title.viewOf(null, undefined, undefined, undefined)),
               "fracdash · absolute · compact");
});
