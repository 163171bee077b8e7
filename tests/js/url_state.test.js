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
  assert.deepEqual(plain, ["/export/toy.png?curve=compact", "/export/toy.html?curve=compact"]);
  const all = url.links(url.viewOf("my run", "relative", ["on"], "paper"), "/app/page");
  assert.deepEqual(all, [
    "/app/export/my%20run.png?coloring=relative&curve=paper&simplify=1",
    "/app/export/my%20run.html?curve=paper&simplify=1",
  ]);
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
