/* node --test tests/js: the download links (assets/export_links.js) carry the view's
 * selection and coloring by correctness, and assets/url_state.js hands changed links to
 * the buttons when a selection changes (no Dash control moves then). */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const E = require("../../fracdash/web/assets/export_links.js");
const url = require("../../fracdash/web/assets/url_state.js");

const params = (href) => new URLSearchParams(href.slice(href.indexOf("?")));

test("a run's selection goes to the PNG and HTML, never to the data", () => {
  const view = { run: "a", curve: "compact", sel: "brush:conv 1:0,1,12,9" };
  const [png, page, csv] = E.links(view, "/");
  assert.equal(png, "/export/a.png?curve=compact&sel=brush%3Aconv%201%3A0%2C1%2C12%2C9");
  assert.equal(params(page).get("sel"), "brush:conv 1:0,1,12,9");
  assert.equal(csv, "/export/a.csv?curve=compact");
});

test("a comparison's selection and correctness coloring go only with a second run", () => {
  for (const sel of ["diff", "moved", "brush-b:c:1,2,3,4"]) {
    const alone = E.links({ run: "a", sel, labels: "correctness" }, "/");
    assert.ok(alone.every((h) => !h.includes("sel=") && !h.includes("labels=")), alone.join());
    const both = E.links({ run: "a", vs: "b", pair: "x:y", sel, labels: "correctness" }, "/");
    for (const href of both.slice(0, 2)) {
      assert.equal(params(href).get("sel"), sel);
      assert.equal(params(href).get("labels"), "correctness");
      assert.equal(params(href).get("vs"), "b");
    }
    assert.ok(!both[2].includes("sel=") && !both[2].includes("labels="), both[2]);
  }
  /* Predicted labels are the page's own: no export draws them, no link says them. */
  const predicted = E.links({ run: "a", vs: "b", labels: "predicted", sel: "wrong" }, "/");
  assert.ok(predicted.every((h) => !h.includes("labels=")));
  assert.equal(params(predicted[0]).get("sel"), "wrong");
});

function fakeWindow(search) {
  const win = {
    location: { pathname: "/", search, hash: "" },
    entries: [search],
    props: [],
    history: {
      pushState(_, __, a) { win.location.search = a.slice(1); win.entries.push(win.location.search); },
      replaceState(_, __, a) { win.location.search = a.slice(1); win.entries[win.entries.length - 1] = win.location.search; },
      back() {},
    },
    setTimeout: () => 1,
    clearTimeout() {},
    addEventListener() {},
    dispatchEvent() {},
    CustomEvent: class { constructor(type, init) { this.type = type; this.detail = init.detail; } },
    dash_clientside: { callback_context: {}, set_props(id, props) { win.props.push([id, props]); } },
  };
  return win;
}

test("a selection made on the page relinks the download buttons at once", () => {
  const win = fakeWindow("?run=a&vs=b");
  const own = url.owner(win);
  const ids = ["scenario", "coloring", "simplify", "curve", "versus", "pairing"];
  const values = ["a", "absolute", [], "compact", "b", ""];
  win.dash_clientside.callback_context = {
    inputs_list: ids.map((id, i) => ({ id, property: "value", value: values[i] })),
    outputs_list: ["png", "html", "data"].map((id) => ({ id, property: "href" })),
    triggered: [{ prop_id: "." }],
  };
  const first = own.controls(...values);
  assert.ok(first.every((h) => !h.includes("sel=")));
  own.set("sel", "diff");
  assert.deepEqual(win.props.map((p) => p[0]), ["png", "html"]); // the data link is unchanged
  assert.equal(params(win.props[0][1].href).get("sel"), "diff");
  win.props.length = 0;
  own.set("labels", "correctness");
  assert.equal(params(win.props[1][1].href).get("labels"), "correctness");
  win.props.length = 0;
  own.set("pin", "3"); // a pin is not drawn by the exports: nothing relinked
  assert.deepEqual(win.props, []);
  own.set("sel", null);
  assert.ok(win.props.every(([, p]) => !p.href.includes("sel=")) && win.props.length === 2);
});
