/* node --test tests/js: the URL's one owner, assets/url_state.js: its pure functions,
 * then its history writing and restoring on a fake window whose history is a list. */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const url = require("../../fracdash/web/assets/url_state.js");

test("a view survives format then parse", () => {
  const view = {
    run: "easy-300", coloring: "relative", curve: "paper", simplify: true, labels: "predicted",
    focus: 3, sel: "brush:conv 1:0,1,12,9", pin: "4,9", zoom: 2.5, x: -10, y: 5,
  };
  assert.deepEqual(url.parse(url.format(view)), view);
});

test("defaults stay out of the URL and keys keep one order", () => {
  assert.equal(url.format(url.full({ run: "easy" })), "?run=easy");
  assert.equal(url.format({}), "");
  const shuffled = { pin: "1", run: "a", zoom: 1, y: 2, x: 3, labels: "predicted", coloring: "relative" };
  assert.equal(url.format(shuffled),
               "?run=a&coloring=relative&labels=predicted&pin=1&zoom=1&x=3&y=2");
});

test("malformed values are ignored, not obeyed", () => {
  assert.deepEqual(url.parse("?run=&coloring=neon&curve=x&simplify=maybe&focus=-1"), {});
  assert.deepEqual(url.parse("?focus=12345&labels=guessed&sel=all&pin=1,,2&pin=x"), {});
  assert.deepEqual(url.parse("?zoom=2&x=5"), {}); // a place needs all three
  assert.deepEqual(url.parse("?zoom=0&x=1&y=1"), {});
  assert.deepEqual(url.parse("?zoom=2&x=&y=1"), {});
  assert.deepEqual(url.parse("?run=a%2Fb"), { run: "a/b" }); // the server checks the name
});

test("run names with spaces and unicode round-trip", () => {
  const search = url.format(url.viewOf("my model · v2", "absolute", [], "compact"));
  assert.equal(url.parse(search).run, "my model · v2");
});

test("a change sets only the keys it names: a pin keeps predicted labels", () => {
  const before = "?run=a&coloring=relative&labels=predicted&focus=2&sel=wrong&zoom=2&x=1&y=1";
  const after = url.change(before, { pin: "7" });
  const want = Object.assign(url.parse(before), { pin: "7" });
  assert.deepEqual(url.parse(after), want);
  assert.equal(new URLSearchParams(after).get("labels"), "predicted");
  assert.deepEqual(url.parse(url.change(after, { pin: null })), url.parse(before));
});

test("another run drops what belonged to the last, and keeps the rest", () => {
  const before = "?run=a&coloring=relative&curve=paper&simplify=1&labels=predicted" +
    "&focus=2&sel=cell%3A1-0&pin=3&zoom=2&x=1&y=1";
  const view = url.parse(url.change(before, { run: "b" }));
  for (const key of url.RUN_BOUND) assert.equal(view[key], undefined, key);
  assert.deepEqual(view, { run: "b", coloring: "relative", curve: "paper", simplify: true,
                           labels: "predicted" });
  assert.equal(url.change(before, { run: "a" }), url.format(url.parse(before))); // same run
});

test("a change to a default or to what the URL cannot hold leaves the key out", () => {
  assert.equal(url.change("?run=a&coloring=relative", { coloring: "absolute" }), "?run=a");
  assert.equal(url.change("?run=a", { sel: "everything" }), "?run=a");
  assert.equal(url.change("?run=a&zoom=2&x=1&y=1", { zoom: null, x: null, y: null }), "?run=a");
  assert.throws(() => url.change("?run=a", { colour: "red" }), /no URL key 'colour'; use one of run,/);
});

test("zoom is written to 1e-6 and pan to whole pixels", () => {
  const at = url.parse(url.format({ zoom: 3 / 7, x: 10.6, y: -0.4 }));
  assert.deepEqual(at, { zoom: 0.428571, x: 11, y: 0 });
});

test("download links carry the run, the curve, the coloring and simplify", () => {
  const plain = url.links(url.viewOf("toy", "absolute", [], "compact"), "/");
  assert.deepEqual(plain, ["/export/toy.png?curve=compact", "/export/toy.html?curve=compact",
                           "/export/toy.csv?curve=compact"]);
  const all = url.links(url.viewOf("my run", "relative", ["on"], "paper"), "/app/page");
  assert.deepEqual(all, [
    "/app/export/my%20run.png?coloring=relative&curve=paper&simplify=1",
    "/app/export/my%20run.html?curve=paper&simplify=1",
    "/app/export/my%20run.csv?curve=paper",
  ]);
});

test("while comparing, every download link names the second run and the re-pairing", () => {
  const vs = url.links(url.viewOf("a", "relative", [], "compact", "b & c", ""), "/");
  assert.deepEqual(vs, [
    "/export/a.png?coloring=relative&curve=compact&vs=b%20%26%20c",
    "/export/a.html?curve=compact&vs=b%20%26%20c",
    "/export/a.csv?curve=compact&vs=b%20%26%20c",
  ]);
  const paired = url.links(url.viewOf("a", "absolute", ["on"], "paper", "b", "x:y,p q:r"), "/");
  for (const href of paired) {
    const params = new URLSearchParams(href.slice(href.indexOf("?")));
    assert.equal(params.get("vs"), "b");
    assert.equal(params.get("pair"), "x:y,p q:r");
    assert.ok(href.endsWith("&vs=b&pair=x%3Ay%2Cp%20q%3Ar"), href);
  }
  /* A re-pairing without a second run pairs nothing. */
  const lone = url.links(Object.assign(url.viewOf("a", "absolute", [], "compact"), { pair: "x:y" }), "/");
  assert.ok(lone.every((href) => !href.includes("pair=")));
});

test("vs and pair round-trip, right after run, vs before pair", () => {
  const view = { run: "easy", vs: "problematic · 2", pair: "conv 1:c1,dense:d", labels: "correctness",
                 sel: "diff" };
  assert.deepEqual(url.parse(url.format(view)), view);
  assert.equal(url.format(Object.assign({ curve: "paper", sel: "moved" }, view, { sel: "moved" })),
               "?run=easy&vs=problematic+%C2%B7+2&pair=conv+1%3Ac1%2Cdense%3Ad&curve=paper" +
               "&labels=correctness&sel=moved");
  assert.deepEqual(Object.keys(url.full({})).slice(0, 3), ["run", "vs", "pair"]);
  assert.equal(url.DEFAULTS.vs, null);
  assert.equal(url.DEFAULTS.pair, null);
  assert.deepEqual(url.parse("?vs=&pair=%20%20"), {}); // empty: absent
  assert.deepEqual(url.parse("?pair=" + "a:b,".repeat(2000)), {}); // too long to be a pairing
  for (const sel of ["diff", "moved", "brush-b:conv 1:0,1,2,3", "brush:b:x:0,0,1,1"]) {
    assert.equal(url.parse("?sel=" + encodeURIComponent(sel)).sel, sel);
  }
  for (const sel of ["different", "moved:3", "brush-c:x:0,0,1,1", "brush-b:0,0,1,1"]) {
    assert.equal(url.parse("?sel=" + encodeURIComponent(sel)).sel, undefined, sel);
  }
  assert.equal(url.parse("?labels=correct").labels, undefined);
});

test("another run or another second run drops the re-pairing, and only then", () => {
  const before = "?run=a&vs=b&pair=x%3Ay&labels=correctness&sel=diff&pin=3";
  const keep = url.parse(url.change(before, { labels: "predicted", sel: "moved", pin: null }));
  assert.equal(keep.pair, "x:y");
  assert.equal(keep.vs, "b");
  const otherVs = url.parse(url.change(before, { vs: "c" }));
  assert.deepEqual(otherVs, { run: "a", vs: "c", labels: "correctness", sel: "diff", pin: "3" });
  const noVs = url.parse(url.change(before, { vs: null }));
  assert.deepEqual(noVs, { run: "a", labels: "correctness", sel: "diff", pin: "3" });
  const otherRun = url.parse(url.change(before, { run: "c" }));
  assert.deepEqual(otherRun, { run: "c", vs: "b", labels: "correctness" });
  assert.equal(url.parse(url.change(before, { vs: "b" })).pair, "x:y"); // the same: kept
  /* One change naming both keeps the pairing it names. */
  assert.equal(url.parse(url.change(before, { vs: "c", pair: "p:q" })).pair, "p:q");
  /* A brush in B's graph belongs to that B. */
  const brushed = "?run=a&vs=b&sel=brush-b%3Aconv%3A0%2C0%2C1%2C1";
  assert.equal(url.parse(url.change(brushed, { vs: "c" })).sel, undefined);
  assert.equal(url.parse(url.change(brushed, { pair: "x:y" })).sel, "brush-b:conv:0,0,1,1");
  assert.equal(url.parse(url.change("?run=a&vs=b&sel=brush%3Aconv%3A0%2C0%2C1%2C1", { vs: "c" })).sel,
               "brush:conv:0,0,1,1");
});

test("the controls map onto URL keys in the callback's input order", () => {
  assert.deepEqual(url.CONTROLS, ["run", "coloring", "simplify", "curve", "vs", "pair"]);
  assert.deepEqual(url.viewOf("a", null, ["on"], null, "b", " x:y "),
                   { run: "a", coloring: "absolute", simplify: true, curve: "compact", vs: "b",
                     pair: "x:y" });
  assert.deepEqual(url.viewOf("a", "relative", [], "paper", null, ""),
                   { run: "a", coloring: "relative", simplify: false, curve: "paper", vs: null,
                     pair: null });
  assert.deepEqual(url.viewOf("a", "relative", [], "paper"), url.viewOf("a", "relative", [], "paper", undefined, undefined));
});

/* A window with a history of entries, a Dash that records set_props, and timers run
 * by hand. Back and Forward fire popstate, as a browser does (asynchronously). */
function fakeWindow(search) {
  const listeners = {};
  const timers = new Map();
  let nextTimer = 1;
  const entries = [search];
  let at = 0;
  const searchOf = (address) => (address.includes("?") ? address.slice(address.indexOf("?")) : "");
  const win = {
    entries, events: [], props: [], writes: 0,
    location: {
      pathname: "/", hash: "",
      get search() { return entries[at]; },
      get href() { return "http://x/" + entries[at]; },
    },
    history: {
      pushState(_state, _title, address) {
        win.writes += 1;
        entries.splice(at + 1, entries.length, searchOf(address));
        at += 1;
      },
      replaceState(_state, _title, address) {
        win.writes += 1;
        entries[at] = searchOf(address);
      },
      back() { win.go(-1); },
    },
    go(delta) {
      at += delta;
      win.dispatchEvent({ type: "popstate" });
    },
    get at() { return at; },
    setTimeout(fn) { timers.set(nextTimer, fn); return nextTimer++; },
    clearTimeout(id) { timers.delete(id); },
    runTimers() { for (const [id, fn] of [...timers]) { timers.delete(id); fn(); } },
    addEventListener(type, fn) { (listeners[type] = listeners[type] || []).push(fn); },
    dispatchEvent(ev) { (listeners[ev.type] || []).forEach((fn) => fn(ev)); },
    CustomEvent: class { constructor(type, init) { this.type = type; this.detail = init.detail; } },
    dash_clientside: { callback_context: {}, set_props(id, props) { win.props.push([id, props]); } },
  };
  win.addEventListener(url.EVENT, (ev) => win.events.push(ev.detail));
  return win;
}

const IDS = ["scenario", "coloring", "simplify", "curve"];

/* The controls callback as Dash calls it: `fired` names the inputs that changed
 * (none: the first call). */
function callControls(win, own, values, fired) {
  win.dash_clientside.callback_context = {
    inputs_list: IDS.map((id, i) => ({ id, property: "value", value: values[i] })),
    triggered: fired ? fired.map((id) => ({ prop_id: id + ".value" })) : [{ prop_id: "." }],
  };
  return own.controls(...values);
}

test("the page opens at the link's view: controls set, the URL normalised in place", () => {
  const win = fakeWindow("?coloring=relative&simplify=1&junk=1&labels=predicted");
  const own = url.owner(win);
  const hrefs = callControls(win, own, ["toy", "absolute", [], "compact"]);
  assert.deepEqual(win.entries, ["?run=toy&coloring=relative&simplify=1&labels=predicted"]);
  assert.deepEqual(win.props, [["coloring", { value: "relative" }], ["simplify", { value: ["on"] }]]);
  assert.equal(win.events.length, 1);
  assert.equal(win.events[0].labels, "predicted");
  assert.deepEqual(hrefs, url.links(url.viewOf("toy", "absolute", [], "compact"), "/"));
});

test("every change of view is one entry; Back and Forward restore each exactly", () => {
  const win = fakeWindow("");
  const own = url.owner(win);
  callControls(win, own, ["toy", "absolute", [], "compact"]);
  callControls(win, own, ["toy", "relative", [], "compact"], ["coloring"]);
  own.set("labels", "predicted");
  own.set("focus", 1);
  own.set("sel", "cell:1-2");
  own.set("pin", "4");
  own.setMany({ zoom: 2, x: 3, y: 4 });
  callControls(win, own, ["toy", "relative", [], "paper"], ["curve"]);
  callControls(win, own, ["toy", "relative", ["on"], "paper"], ["simplify"]);
  const written = win.entries.slice();
  assert.equal(written.length, 9);
  assert.equal(new Set(written).size, 9);
  assert.equal(new URLSearchParams(written[4]).get("labels"), "predicted"); // kept by the pin
  for (let i = 7; i >= 0; i--) {
    win.props.length = 0;
    win.go(-1);
    assert.equal(win.location.search, written[i]);
    const want = url.full(url.parse(written[i]));
    assert.deepEqual(win.events.at(-1), want);
    // Dash is told only what differs from the entry after it.
    const next = url.full(url.parse(written[i + 1]));
    const names = { scenario: "run", coloring: "coloring", simplify: "simplify", curve: "curve" };
    const told = win.props.map(([id]) => names[id]);
    assert.deepEqual(told, ["run", "coloring", "simplify", "curve"].filter((k) => want[k] !== next[k]));
    // Dash answers with the restored value: no new entry.
    win.props.forEach(([id, props]) => {
      const values = IDS.map((c) => (c === id ? props.value : undefined));
      const shown = [want.run, want.coloring, want.simplify ? ["on"] : [], want.curve];
      callControls(win, own, shown.map((v, j) => (values[j] === undefined ? v : values[j])), [id]);
    });
    assert.deepEqual(win.entries, written);
  }
  for (let i = 1; i <= 8; i++) {
    win.go(1);
    assert.deepEqual(win.events.at(-1), url.full(url.parse(written[i])));
  }
  assert.deepEqual(win.entries, written);
});

test("a gesture is one entry; its frames replace it, throttled, and a flush writes the last", () => {
  const win = fakeWindow("?run=a");
  const own = url.owner(win);
  for (let i = 1; i <= 30; i++) own.setMany({ zoom: 1, x: i, y: 0 }, "drag:1");
  assert.equal(win.entries.length, 2);
  assert.ok(win.writes <= 2, win.writes); // the push, then frames wait for the timer
  assert.deepEqual(own.view().x, 30); // readers see the latest frame at once
  own.flush();
  assert.deepEqual(win.entries, ["?run=a", "?run=a&zoom=1&x=30&y=0"]);
  own.setMany({ zoom: 2, x: 30, y: 0 }, "wheel:2"); // another gesture: another entry
  own.setMany({ zoom: 3, x: 30, y: 0 }, "wheel:2");
  win.runTimers();
  assert.deepEqual(win.entries.slice(2), ["?run=a&zoom=3&x=30&y=0"]);
});

test("a gesture that undoes itself takes its entry back (a double-click's pin)", () => {
  const win = fakeWindow("?run=a&labels=predicted");
  const own = url.owner(win);
  own.set("pin", "5", "pin-click:1:5");
  assert.equal(win.entries.length, 2);
  own.set("pin", null, "pin-click:1:5");
  assert.equal(win.at, 0);
  assert.equal(win.location.search, "?run=a&labels=predicted");
  own.set("pin", "5", "pin-click:2:5"); // a later click is its own entry
  assert.deepEqual(win.entries, ["?run=a&labels=predicted", "?run=a&labels=predicted&pin=5"]);
});

test("an unchanged value writes nothing; Back drops a gesture's unwritten frame", () => {
  const win = fakeWindow("?run=a&coloring=relative");
  const own = url.owner(win);
  own.set("coloring", "relative");
  own.set("pin", null);
  assert.equal(win.writes, 0);
  own.setMany({ zoom: 1, x: 1, y: 1 }, "drag:1");
  own.setMany({ zoom: 1, x: 9, y: 9 }, "drag:1");
  win.go(-1);
  win.runTimers();
  assert.deepEqual(win.entries, ["?run=a&coloring=relative", "?run=a&coloring=relative&zoom=1&x=1&y=1"]);
  assert.equal(own.view().zoom, null);
});

/* The controls callback with the comparison's two controls, as its 5th and 6th inputs,
 * and its three outputs (png, html, data). */
const IDS6 = ["scenario", "coloring", "simplify", "curve", "versus", "pairing"];
function callControls6(win, own, values, fired, outputs = 3) {
  win.dash_clientside.callback_context = {
    inputs_list: IDS6.map((id, i) => ({ id, property: "value", value: values[i] })),
    outputs_list: Array.from({ length: outputs }, (_, i) => ({ id: "out" + i, property: "href" })),
    triggered: fired ? fired.map((id) => ({ prop_id: id + ".value" })) : [{ prop_id: "." }],
  };
  return own.controls(...values);
}

test("a comparison's link opens with both controls set; Back undoes it control by control", () => {
  const win = fakeWindow("?pair=conv%3Ac1&vs=b&run=a&labels=correctness&sel=diff");
  const own = url.owner(win);
  const hrefs = callControls6(win, own, ["a", "absolute", [], "compact", null, ""]);
  assert.deepEqual(win.entries, ["?run=a&vs=b&pair=conv%3Ac1&labels=correctness&sel=diff"]);
  assert.deepEqual(win.props, [["versus", { value: "b" }], ["pairing", { value: "conv:c1" }]]);
  assert.equal(win.events[0].vs, "b");
  assert.equal(hrefs.length, 3); // what the controls showed when called
  /* Dash answers with the restored values: no new entry, and the links now compare. */
  const now = callControls6(win, own, ["a", "absolute", [], "compact", "b", "conv:c1"],
                            ["versus", "pairing"]);
  assert.equal(win.entries.length, 1);
  assert.deepEqual(now, url.links(url.parse(win.entries[0]), "/"));
  assert.ok(now[2].endsWith("/export/a.csv?curve=compact&vs=b&pair=conv%3Ac1"), now[2]);
  /* The user picks another second run: one entry, the pairing dropped, its input emptied. */
  win.props.length = 0;
  callControls6(win, own, ["a", "absolute", [], "compact", "c", "conv:c1"], ["versus"]);
  assert.deepEqual(win.entries.slice(1), ["?run=a&vs=c&labels=correctness&sel=diff"]);
  assert.deepEqual(win.props, [["pairing", { value: "" }]]);
  callControls6(win, own, ["a", "absolute", [], "compact", "c", ""], ["pairing"]); // Dash's answer
  assert.equal(win.entries.length, 2);
  /* then types a pairing: another entry. */
  callControls6(win, own, ["a", "absolute", [], "compact", "c", "x:y"], ["pairing"]);
  assert.equal(url.parse(win.location.search).pair, "x:y");
  /* then stops comparing: the dropdown cleared. */
  callControls6(win, own, ["a", "absolute", [], "compact", null, "x:y"], ["versus"]);
  assert.equal(win.location.search, "?run=a&labels=correctness&sel=diff");
  callControls6(win, own, ["a", "absolute", [], "compact", null, ""], ["pairing"]);
  assert.equal(win.entries.length, 4);
  /* Back: the dropdown and the input told exactly what they held. */
  win.props.length = 0;
  win.go(-1);
  assert.deepEqual(win.props, [["versus", { value: "c" }], ["pairing", { value: "x:y" }]]);
  win.props.length = 0;
  win.go(-1);
  assert.deepEqual(win.props, [["pairing", { value: "" }]]);
  win.props.length = 0;
  win.go(-1);
  assert.deepEqual(win.props, [["versus", { value: "b" }], ["pairing", { value: "conv:c1" }]]);
  win.props.length = 0;
  win.go(1);
  win.go(1);
  win.go(1);
  assert.deepEqual(win.props, [["versus", { value: "c" }], ["pairing", { value: "" }],
                               ["pairing", { value: "x:y" }], ["versus", { value: null }],
                               ["pairing", { value: "" }]]);
});

test("a callback with two outputs (no data link) gets two links", () => {
  const win = fakeWindow("?run=a&vs=b");
  const own = url.owner(win);
  const hrefs = callControls6(win, own, ["a", "absolute", [], "compact", "b", ""], null, 2);
  assert.deepEqual(hrefs, ["/export/a.png?curve=compact&vs=b", "/export/a.html?curve=compact&vs=b"]);
});

test("a page without the comparison's controls keeps its four, and a link's vs stays", () => {
  const win = fakeWindow("?run=toy&vs=other");
  const own = url.owner(win);
  callControls(win, own, ["toy", "absolute", [], "compact"]);
  assert.deepEqual(win.props, []); // nothing to set the second run on
  assert.equal(win.location.search, "?run=toy&vs=other");
  callControls(win, own, ["toy", "relative", [], "compact"], ["coloring"]);
  assert.equal(win.location.search, "?run=toy&vs=other&coloring=relative");
});
