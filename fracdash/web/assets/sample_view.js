/* fracdash: follow samples through every glyph, in the browser (issue 14), in one graph
 * or in the two graphs of a comparison (?run=A&vs=B).
 *
 * Once per run the page fetches the run's sample data (GET /samples/<run>.json) and its
 * thumbnail sprite; while comparing, also B's sample data and, once per (A, B,
 * pairing), the comparison's per-sample data (GET /compare/<A>/<B>.json). After that
 * nothing here asks the server anything. Hovering a glyph pixel shows that sample and
 * marks it in every glyph of both graphs (each at its own place); a click pins it; a
 * shift-drag brushes a rectangle; a confusion-matrix cell or the "misclassified" button
 * (run A's labels), "classified differently" or "changed most" select a group, which
 * every glyph then shows with the rest dimmed, and the quality chart follows with the
 * group's cohesion per layer; "predicted" recolors every glyph by its own run's labels,
 * "right in A / B" by the comparison's correctness codes. Selection, pins and labels
 * live in the URL (assets/url_state.js: each change is one history entry), so a copied
 * link opens with the same samples highlighted and Back and Forward step through them.
 *
 * Every glyph, overlay and marks element belongs to the run of its graph,
 * element.closest(".fd-dag-canvas").dataset.run: layer names may repeat in both.
 *
 * The logic is in assets/samples.js and assets/compare.js (pure, tested in node); this
 * file holds the view's state and loads it; assets/sample_draw.js draws the glyphs'
 * overlays and marks, assets/sample_input.js is the pointer and keys,
 * assets/sample_panels.js the tooltip, info line and charts' side. */
(function () {
  "use strict";

  var S = null; // window.fracdashSamples, taken once the page runs
  var C = null; // window.fracdashCompare
  var KEEP = 4; // sample models kept (those shown, and the last ones shown)
  var st = {
    model: null, modelB: null, compare: null, cache: {}, loading: {}, failed: {},
    compareKey: null, sprite: null, spriteOf: null, spriteFailed: null, labels: "truth", focus: null,
    pins: [], sel: null, mask: null, maskId: 0, hover: null, brush: null,
  };

  /* The panels around the glyphs (assets/sample_panels.js). */
  function P() {
    return window.fracdashSamplePanels;
  }
  /* What could not be loaded, said in one line on the page (assets/load_errors.js). */
  function E() {
    return window.fracdashLoadErrors;
  }
  function U() {
    return window.fracdashUrl; // the URL's one owner (assets/url_state.js)
  }
  function base() {
    return window.location.pathname.replace(/[^/]*$/, "");
  }

  /* -- which run an element belongs to ------------------------------------------------ */
  /* The graphs: A's (data-side="a", or the page's only one) and B's (data-side="b"). */
  function canvases() {
    var a = null, b = null;
    document.querySelectorAll(".fd-dag-canvas[data-run]").forEach(function (c) {
      if (!c.dataset.run) return;
      if (c.dataset.side === "b") b = b || c;
      else a = a || c;
    });
    return { a: a, b: b };
  }

  /* The sample model of the graph `el` lies in (a glyph outside a graph, as the zoomed
   * one: the nearest data-run, else run A). */
  function modelOf(el) {
    var holder = el.closest(".fd-dag-canvas") || el.closest("[data-run]");
    var run = holder ? holder.dataset.run : null;
    if (!run) return st.model;
    if (st.model && st.model.run === run) return st.model;
    if (st.modelB && st.modelB.run === run) return st.modelB;
    return null;
  }

  function comparing() {
    return !!(st.model && st.modelB);
  }

  /* The labels the glyphs show: "correctness" only while its data is here. */
  function labels() {
    if (st.labels === "correctness") return comparing() && st.compare ? "correctness" : "truth";
    return st.labels;
  }

  function setMask(sel) {
    st.mask = C.maskOf(S, st.model, st.modelB, st.compare, sel);
    /* A comparison's rule waits for its data rather than being dropped. */
    st.sel = st.mask || (sel && C.needsComparison(sel) && U().view().vs) ? sel : null;
    st.maskId += 1;
  }

  /* The view's labels, selection, pins and pinned class, as the URL says (a selection
     not yet written there is written first: a click on "classified differently" just
     before the second run's data arrived was read back as no selection). */
  function readUrl() {
    writeSel();
    var v = U().view();
    st.labels = v.labels === "predicted" || v.labels === "correctness" ? v.labels : "truth";
    st.pins = S.parsePins(v.pin, st.model.n);
    st.focus = v.focus !== null && v.focus < st.model.classNames.length ? v.focus : null;
    setMask(S.parseSelection(v.sel)); // a rule this run cannot apply: none
  }

  /* Back, Forward or the page opening: the URL's state, drawn. With no run drawn yet,
     a selection not yet written there is still written (a brush made while the page
     was opening stays, as it did when it was written at once); readUrl writes it
     otherwise. */
  window.addEventListener("fracdash:url", function () {
    if (!st.model || !S) {
      writeSel();
      return;
    }
    readUrl();
    drawAll(false);
    schedule(); // another pairing: other comparison data
  });

  /* -- loading a run's data, and a comparison's ---------------------------------------- */
  function getJson(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (r.ok) return r.json();
      return r.text().then(function (body) {
        throw E().failure(r.status, body);
      });
    });
  }

  /* The model of a graph's run and curve: from the cache, else asked for (once). */
  function modelFor(canvas) {
    if (!canvas) return null;
    var want = canvas.dataset.run + "|" + (canvas.dataset.curve || "compact");
    if (st.cache[want]) return st.cache[want];
    if (st.loading[want] || st.failed[want]) return null; // a failure is said, not retried
    st.loading[want] = true;
    var curve = canvas.dataset.curve || "compact";
    getJson(base() + "samples/" + encodeURIComponent(canvas.dataset.run) + ".json?curve=" + curve)
      .then(function (payload) {
        delete st.loading[want];
        var m = S.decode(payload);
        m.thumbsMissing = payload.thumbsMissing || null;
        Object.keys(m.layers).forEach(function (l) { S.rankOf(m, l); }); // hover reads them
        st.cache[want] = m;
        schedule();
      })
      .catch(function (err) {
        delete st.loading[want];
        st.failed[want] = err;
        schedule();
      });
    return null;
  }

  /* The banner's one line: what failed to load, else what run A cannot show. */
  function say(c) {
    var line = null;
    [c.a, c.b].forEach(function (canvas) {
      var key = canvas && canvas.dataset.run + "|" + (canvas.dataset.curve || "compact");
      if (!line && key && st.failed[key]) line = E().dataLine(canvas.dataset.run, st.failed[key]);
    });
    var ck = st.compareKey;
    if (!line && ck && st.failed[ck]) {
      var err = st.failed[ck], why = err.status ? " (" + err.status + ": " + err.reason + ")" : "";
      line = "the comparison of " + st.model.run + " with " + st.modelB.run + " could not be loaded" +
        why + ": classified differently, changed most and right in A / B are off";
    }
    if (!line && st.model && st.model.thumbsMissing) {
      line = E().imagesLine(st.model.run, st.model.thumbsMissing);
    }
    if (!line && st.model && st.spriteFailed === st.model) line = E().spriteLine(st.model.run);
    E().show(line);
  }

  function forget(keep) {
    var keys = Object.keys(st.cache);
    for (var i = 0; i < keys.length && Object.keys(st.cache).length > KEEP; i++) {
      if (keep.indexOf(st.cache[keys[i]]) < 0) delete st.cache[keys[i]];
    }
  }

  /* The comparison's per-sample data for the two graphs' runs and the URL's pairing. */
  function compareFor(a, b) {
    if (!a || !b) return null;
    var pair = U().view().pair;
    var key = "compare|" + a.run + "|" + b.run + "|" + (pair || "");
    st.compareKey = key;
    if (st.cache[key]) return st.cache[key];
    if (st.loading[key] || st.failed[key]) return null;
    st.loading[key] = true;
    var url = base() + "compare/" + encodeURIComponent(a.run) + "/" + encodeURIComponent(b.run) +
      ".json" + (pair ? "?pair=" + encodeURIComponent(pair) : "");
    getJson(url)
      .then(function (payload) {
        delete st.loading[key];
        var c = C.decode(payload);
        if (c.n !== a.n) throw new Error("the comparison holds " + c.n + " samples, not " + a.n);
        st.cache[key] = c;
        schedule();
      })
      .catch(function (err) {
        delete st.loading[key];
        st.failed[key] = err;
        schedule();
      });
    return null;
  }

  /* The graphs on the page and the data they need: what is here is drawn, what is not
   * is asked for; a change of run, second run or pairing re-reads the URL's state. */
  function sync() {
    var c = canvases();
    if (!c.a) return;
    var a = modelFor(c.a), b = c.b ? modelFor(c.b) : null;
    var cmp = a && b && a.n === b.n ? compareFor(a, b) : null;
    if (!(a && b)) st.compareKey = null;
    var changed = a !== st.model || b !== st.modelB || cmp !== st.compare;
    st.model = a;
    st.modelB = a ? b : null;
    st.compare = st.modelB ? cmp : null;
    say(c);
    if (!a) {
      st.sel = st.mask = null; // never the last run's samples on this one's glyphs
      return;
    }
    if (changed) {
      forget([a, b, cmp]);
      readUrl(); // another run's URL holds none of the last one's samples
      drawAll(true);
    } else {
      drawAll(false);
    }
  }

  /* The thumbnails (one sprite, 1-2 MB for 10,000 images) are asked for when the
   * pointer first enters a graph, not with the page: a page load stays light. Both runs
   * hold the same samples: run A's images serve both graphs. */
  function loadSprite() {
    var m = st.model;
    if (!m || !m.thumbs || st.spriteOf === m) return;
    st.spriteOf = m;
    st.sprite = null;
    var img = new Image();
    img.onload = function () {
      if (st.model === m) st.sprite = img;
    };
    img.onerror = function () {
      st.spriteFailed = m;
      if (st.model === m) E().show(E().spriteLine(m.run));
    };
    img.src = base() + "samples/" + encodeURIComponent(m.run) + "/thumbs.png";
  }

  /* -- drawing: the glyphs' overlays and marks (assets/sample_draw.js) ------------- */
  function D() {
    return window.fracdashSampleDraw;
  }
  function drawGlyphs(force) {
    D().drawGlyphs(api, force);
  }
  function drawMarks() {
    D().drawMarks(api);
  }

  var cohesionQueued = false;
  /* The chart's line follows the glyphs by one frame: Plotly redraws take ~40 ms. One
     redraw in flight at a time, of the latest selection (a brush moves faster). */
  function drawAll(force) {
    if (!st.model) return;
    drawGlyphs(force);
    drawMarks();
    P().showSelection(st, S);
    queueCohesion();
  }
  function queueCohesion() { // the chart's selection line: a frame after the glyphs
    if (cohesionQueued) return;
    cohesionQueued = true;
    window.requestAnimationFrame(function () {
      window.setTimeout(function () {
        cohesionQueued = false;
        P().drawCohesion(st, S);
      }, 0);
    });
  }
  /* A selection is drawn first and written to the URL just after that frame: its
     history entry and the download links (a Dash update) cost ~10 ms of a loaded
     machine's frame. Any input event, and any other write from here, writes it first:
     the history keeps its order. */
  var selQueued; // the selection's text for the URL (null: none), undefined when written
  function writeSel() {
    if (selQueued === undefined) return;
    var text = selQueued;
    selQueued = undefined;
    U().set("sel", text);
  }
  ["pointerdown", "click", "keydown", "wheel", "change"].forEach(function (type) {
    window.addEventListener(type, writeSel, true);
  });
  function setSelection(sel) {
    setMask(sel);
    selQueued = S.formatSelection(st.sel) || null;
    drawAll(false);
    window.requestAnimationFrame(function () {
      window.setTimeout(writeSel, 0);
    });
    window.setTimeout(writeSel, 250); // a hidden page draws no frames
  }

  /* The labels the buttons ask for: "truth", "predicted" or "correctness". */
  function setLabels(value) {
    writeSel();
    st.labels = value === "predicted" || value === "correctness" ? value : "truth";
    U().set("labels", st.labels === "truth" ? null : st.labels);
    drawAll(false);
  }

  /* Class focus (assets/fracdash.js: legend hover and pin) reaches the drawing here;
     the pointer and keys (assets/sample_input.js) reach the view through the rest. */
  var api = {
    setFocus: function (k) {
      st.focus = k === null || k === undefined ? null : k;
      if (st.model) drawGlyphs(false);
    },
    state: function () {
      return st;
    },
    modelOf: modelOf,
    comparing: comparing,
    labels: labels,
    drawMarks: drawMarks,
    drawAll: drawAll,
    setSelection: setSelection,
    setLabels: setLabels,
    loadSprite: loadSprite,
  };
  window.fracdashSampleView = api;

  var pending = false;
  function schedule() {
    if (!pending) {
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        S = window.fracdashSamples;
        C = window.fracdashCompare;
        if (!S || !C || !P() || !E() || !U() || !D()) return;
        sync();
        P().hookConfusion(st, setSelection);
        if (st.model) queueCohesion();
      });
    }
  }
  function start() {
    document.addEventListener("toggle", schedule, true);
    new MutationObserver(schedule).observe(document.body, {
      childList: true, subtree: true, attributes: true,
      attributeFilter: ["data-run", "data-curve", "data-side"],
    });
    schedule();
  }
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
