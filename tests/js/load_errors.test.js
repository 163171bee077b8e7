/* node --test tests/js: the one line the page shows for what it could not load
 * (fracdash/web/assets/load_errors.js), from what the server answers. */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const E = require("../../fracdash/web/assets/load_errors.js");

test("the server's JSON error is the reason, on one line", () => {
  const body = JSON.stringify({ error: "the mnist data set\nis not on this server; set FRACDASH_DATA" });
  assert.equal(E.reason(500, body), "the mnist data set is not on this server; set FRACDASH_DATA");
  assert.equal(E.reason(404, "unknown run 'x': choose one of the runs listed\n"),
               "unknown run 'x': choose one of the runs listed");
  assert.equal(E.reason(502, "<html><body><h1>Bad Gateway</h1></body></html>"), "");
  assert.equal(E.reason(500, ""), "");
  const long = E.reason(500, JSON.stringify({ error: "x".repeat(1000) }));
  assert.ok(long.length <= 300 && long.endsWith("…"));
});

test("a failed sample data request names the run, the status, the reason and the fix", () => {
  const err = E.failure(500, JSON.stringify({ error: "it could not be built (KeyError: k); see the server's log" }));
  assert.ok(err instanceof Error);
  assert.equal(err.status, 500);
  const line = E.dataLine("easy", err);
  assert.equal(line, "the sample data of run easy could not be loaded (500: it could not be built" +
    " (KeyError: k); see the server's log): hover, pins and selections are off");
  assert.ok(!line.includes("\n"));
  // No reason from the server (a proxy's page): its status, and a fix all the same.
  const bare = E.dataLine("easy", E.failure(502, "<html></html>"));
  assert.match(bare, /\(HTTP 502\).*reload the page, or see the server's log$/);
  // No answer at all: fetch rejects with a TypeError, which has no status.
  assert.match(E.dataLine("easy", new TypeError("Failed to fetch")),
               /did not answer.*reload the page once it is back$/);
});

test("images the server cannot show: the run and the server's own fix", () => {
  const missing = "its images are not in the store and the mnist data set of scenario 'easy'" +
    " is not on this server; set FRACDASH_DATA to a folder holding its IDX files";
  assert.equal(E.imagesLine("easy-300", missing), "run easy-300 shows no images on hover: " + missing);
  assert.match(E.spriteLine("easy-300"), /^the images of run easy-300 could not be loaded: .*log$/);
});

test("show writes the banner only on a change, and hides it for no line", () => {
  const writes = [];
  const el = {
    _text: "", hidden: true,
    get textContent() { return this._text; },
    set textContent(v) { writes.push(v); this._text = v; },
  };
  global.document = { querySelector: (sel) => (sel === ".fd-load-error" ? el : null) };
  try {
    E.show("a line");
    assert.equal(el.textContent, "a line");
    assert.equal(el.hidden, false);
    E.show("a line");
    assert.deepEqual(writes, ["a line"]); // the same line again: no change to the page
    E.show(null);
    assert.equal(el.hidden, true);
    assert.equal(el.textContent, "");
  } finally {
    delete global.document;
  }
});
