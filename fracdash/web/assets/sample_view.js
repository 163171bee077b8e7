/* fracdash: follow samples through every glyph, in the browser (issue 14).
 *
 * Once per run the page fetches the run's sample data (GET /samples/<run>.json) and its
 * thumbnail sprite; after that nothing here asks the server anything. Hovering a glyph
 * pixel shows that sample (index, true and predicted class, its rank in the layer, its
 * image) and marks it in every glyph; a click pins it; a shift-drag brushes a
 * rectangle; a confusion-matrix cell or the "misclassified" button selects a group,
 * which every glyph then shows with the rest dimmed, and the quality chart follows with
 * the group's cohesion per layer; "predicted" recolors every glyph by the model's
 * labels. Selection, pins and labels live in the URL (assets/url_state.js: each change
 * is one history entry), so a copied link opens with the same samples highlighted and
 * Back and Forward step through them.
 *
 * The logic is in assets/samples.js (pure, tested in node); this file is the glyphs'
 * DOM, assets/sample_panels.js the tooltip, the info line and the charts' side. */
(function () {
  "use strict";

  var S = null; // window.fracdashSamples, taken once the page runs
  var images = new WeakMap(); // overlay canvas -> its ImageData, reused
  var st = {
    model: null, loading: null, sprite: null, labels: "truth", focus: null,
    pins: [], sel: null, mask: null, hover: null, brush: null, spriteOf: null, failed: null,
  };

  /* The panels around the glyphs (assets/sample_panels.js). */
  function P() {
    return window.fracdashSamplePanels;
  }
  /* What could not be loaded, said in one line on the page (assets/load_errors.js). */
  function E() {
    return window.fracdashLoadErrors;
  }

  function base() {
    return window.location.pathname.replace(/[^/]*$/, "");
  }

  function coloring() {
    var checked = document.querySelector("#coloring input:checked");
    return checked ? checked.value : "absolute";
  }

  /* -- the URL (assets/url_state.js owns it) ----------------------------------------- */
  function U() {
    return window.fracdashUrl;
  }

  /* The view's labels, selection, pins and pinned class, as the URL says. */
  function readUrl() {
    var v = U().view();
    st.labels = v.labels === "predicted" ? "predicted" : "truth";
    st.pins = S.parsePins(v.pin, st.model.n);
    st.focus = v.focus !== null && v.focus < st.model.classNames.length ? v.focus : null;
    st.mask = S.maskOf(st.model, S.parseSelection(v.sel));
    st.sel = st.mask ? S.parseSelection(v.sel) : null; // a rule this run cannot apply: none
  }

  /* Back, Forward or the page opening: the URL's state, drawn. */
  window.addEventListener("fracdash:url", function () {
    if (!st.model || !S) return;
    readUrl();
    drawAll(false);
  });

  /* -- loading a run's data ---------------------------------------------------------- */
  function dagCanvas() {
    return document.querySelector(".fd-dag-canvas[data-run]");
  }

  function sync() {
    var c = dagCanvas();
    var run = c && c.dataset.run;
    if (!run) return;
    var curve = c.dataset.curve || "compact";
    var m = st.model;
    if (m && m.run === run && m.curve === curve) {
      drawAll(false);
      return;
    }
    var want = run + "|" + curve;
    if (st.loading === want || st.failed === want) return; // a failure is said, not retried
    st.loading = want;
    var url = base() + "samples/" + encodeURIComponent(run) + ".json?curve=" + curve;
    fetch(url, { credentials: "same-origin" })
      .then(function (r) {
        if (r.ok) return r.json();
        return r.text().then(function (body) {
          throw E().failure(r.status, body);
        });
      })
      .then(function (payload) {
        if (st.loading !== want) return;
        st.loading = null;
        st.model = S.decode(payload);
        E().show(payload.thumbsMissing ? E().imagesLine(run, payload.thumbsMissing) : null);
        readUrl(); // another run's URL holds none of the last one's samples
        drawAll(true);
      })
      .catch(function (err) {
        if (st.loading !== want) return;
        st.loading = null;
        st.failed = want;
        st.model = st.sel = st.mask = null; // never the last run's samples on this one's glyphs
        E().show(E().dataLine(run, err)); // on the page, not only in the console
      });
  }

  /* The thumbnails (one sprite, 1-2 MB for 10,000 images) are asked for when the
   * pointer first enters the graph, not with the page: a page load stays light. */
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
      if (st.model === m) E().show(E().spriteLine(m.run));
    };
    img.src = base() + "samples/" + encodeURIComponent(m.run) + "/thumbs.png";
  }

  /* -- drawing ---------------------------------------------------------------------- */
  /* The server's PNGs show the true labels in either coloring; the browser draws
   * over them what they cannot show: predicted labels, a focused class, a selection. */
  function drawn() {
    return st.labels === "predicted" || !!st.mask || (st.focus !== null && coloring() === "absolute");
  }

  function drawGlyphs(force) {
    var m = st.model;
    var key = [st.labels, coloring(), st.focus, S.formatSelection(st.sel), m.run, m.curve].join("|");
    document.querySelectorAll("canvas.fd-overlay[data-layer]").forEach(function (cv) {
      var layer = cv.dataset.layer;
      if (!m.layers[layer] || !drawn()) {
        cv.hidden = true;
        cv.dataset.drawn = "";
        return;
      }
      if (!force && cv.dataset.drawn === key) return;
      cv.hidden = false;
      if (cv.width !== m.width) cv.width = m.width;
      if (cv.height !== m.height) cv.height = m.height;
      var ctx = cv.getContext("2d");
      var image = images.get(cv);
      if (!image || image.width !== m.width || image.height !== m.height) {
        image = ctx.createImageData(m.width, m.height); // kept: a redraw allocates nothing
        images.set(cv, image);
      }
      S.paint(m, layer, { labels: st.labels, coloring: coloring(), focus: st.focus, mask: st.mask },
              image.data);
      ctx.putImageData(image, 0, 0);
      cv.dataset.drawn = key;
    });
  }

  function mark(sample, layer, kind) {
    var c = S.cellOf(st.model, layer, sample);
    var e = document.createElement("span");
    e.className = "fd-mark fd-mark-" + kind;
    e.dataset.sample = String(sample);
    e.dataset.x = String(c.x);
    e.dataset.y = String(c.y);
    e.style.left = ((c.x + 0.5) / st.model.width) * 100 + "%";
    e.style.top = ((c.y + 0.5) / st.model.height) * 100 + "%";
    return e;
  }

  /* Marks are redrawn only where they differ from what is wanted (every DOM change
   * wakes this script's observer: it must settle). */
  function drawMarks() {
    var m = st.model;
    var want = m ? [m.run, m.curve, st.pins.join(","), st.hover ? st.hover.sample : ""].join("|") : "";
    document.querySelectorAll(".fd-marks[data-layer]").forEach(function (holder) {
      var layer = holder.dataset.layer;
      if (holder.dataset.marks === want) return;
      holder.dataset.marks = want;
      holder.querySelectorAll(".fd-mark").forEach(function (e) {
        e.remove();
      });
      if (!m || !m.layers[layer]) return;
      st.pins.forEach(function (s) {
        holder.appendChild(mark(s, layer, "pin"));
      });
      if (st.hover !== null) holder.appendChild(mark(st.hover.sample, layer, "hover"));
    });
  }

  function drawAll(force) {
    if (!st.model) return;
    drawGlyphs(force);
    drawMarks();
    P().showSelection(st, S);
    /* The chart's line follows the glyphs by one frame: Plotly redraws take ~40 ms.
       One redraw in flight at a time, of the latest selection (a brush moves faster). */
    if (!cohesionQueued) {
      cohesionQueued = true;
      window.requestAnimationFrame(function () {
        window.setTimeout(function () {
          cohesionQueued = false;
          P().drawCohesion(st, S);
        }, 0);
      });
    }
  }
  var cohesionQueued = false;

  function setSelection(sel) {
    st.mask = S.maskOf(st.model, sel);
    st.sel = st.mask ? sel : null;
    U().set("sel", S.formatSelection(st.sel) || null);
    drawAll(false);
  }

  /* -- hover, pin, brush ------------------------------------------------------------ */
  function cellAt(img, ev) {
    var r = img.getBoundingClientRect();
    return {
      x: Math.floor(((ev.clientX - r.left) / r.width) * st.model.width),
      y: Math.floor(((ev.clientY - r.top) / r.height) * st.model.height),
    };
  }

  function glyphOf(target) {
    var img = target && target.closest ? target.closest("img.fd-glyph") : null;
    return img && st.model && st.model.layers[img.dataset.layer] ? img : null;
  }

  function hideHover() {
    var t = document.querySelector(".fd-tooltip");
    if (t) t.hidden = true;
    if (st.hover !== null) {
      st.hover = null;
      drawMarks();
    }
  }

  document.addEventListener("mousemove", function (ev) {
    if (st.brush) return;
    if (st.model && st.spriteOf !== st.model && ev.target.closest && ev.target.closest(".fd-dag")) {
      loadSprite();
    }
    var img = glyphOf(ev.target);
    if (!img) {
      hideHover();
      return;
    }
    var c = cellAt(img, ev);
    var hit = S.sampleAt(st.model, img.dataset.layer, c.x, c.y);
    if (!hit) {
      hideHover();
      return;
    }
    P().showTooltip(ev, img.dataset.layer, hit, st);
    if (!st.hover || st.hover.sample !== hit.sample) {
      st.hover = { sample: hit.sample, layer: img.dataset.layer };
      drawMarks();
    }
  });

  var clicks = 0; // single clicks on glyphs so far: each pin click its own gesture

  document.addEventListener("click", function (ev) {
    var img = glyphOf(ev.target);
    if (!img || ev.shiftKey) return;
    var c = cellAt(img, ev);
    var hit = S.sampleAt(st.model, img.dataset.layer, c.x, c.y);
    if (!hit) return;
    var i = st.pins.indexOf(hit.sample);
    if (i >= 0) st.pins.splice(i, 1);
    else st.pins.push(hit.sample);
    /* A double-click's two clicks are one gesture: it pins and unpins, and leaves no
       history entry behind (url_state.js takes it back). */
    if (ev.detail < 2) clicks += 1;
    U().set("pin", st.pins.join(",") || null, "pin-click:" + clicks + ":" + hit.sample);
    drawMarks();
    P().showSelection(st, S);
  });

  /* A double-click on a glyph enlarges it, as a click on its layer's name does (the
   * name may be hidden in an overview). Its two clicks pin and unpin: nothing stays. */
  document.addEventListener("dblclick", function (ev) {
    var img = ev.target.closest ? ev.target.closest("img.fd-glyph") : null;
    var name = img && img.parentElement.querySelector(".fd-node-name");
    if (name) name.click();
  });

  document.addEventListener("pointerdown", function (ev) {
    var img = ev.shiftKey && ev.button === 0 ? glyphOf(ev.target) : null;
    if (!img) return;
    ev.preventDefault();
    hideHover();
    var c = cellAt(img, ev);
    var holder = img.parentElement.querySelector(".fd-marks");
    var box = document.createElement("div");
    box.className = "fd-brush";
    holder.appendChild(box);
    st.brush = { img: img, x0: c.x, y0: c.y, x1: c.x, y1: c.y, box: box };
    placeBrush();
  });

  function clampCell(c) {
    return {
      x: Math.max(0, Math.min(st.model.width - 1, c.x)),
      y: Math.max(0, Math.min(st.model.height - 1, c.y)),
    };
  }

  function placeBrush() {
    var b = st.brush, m = st.model;
    var xa = Math.min(b.x0, b.x1), xb = Math.max(b.x0, b.x1) + 1;
    var ya = Math.min(b.y0, b.y1), yb = Math.max(b.y0, b.y1) + 1;
    b.box.style.left = (xa / m.width) * 100 + "%";
    b.box.style.top = (ya / m.height) * 100 + "%";
    b.box.style.width = ((xb - xa) / m.width) * 100 + "%";
    b.box.style.height = ((yb - ya) / m.height) * 100 + "%";
  }

  window.addEventListener("pointermove", function (ev) {
    if (!st.brush) return;
    var c = clampCell(cellAt(st.brush.img, ev));
    st.brush.x1 = c.x;
    st.brush.y1 = c.y;
    placeBrush();
  });

  window.addEventListener("pointerup", function () {
    var b = st.brush;
    if (!b) return;
    st.brush = null;
    b.box.remove();
    var first = clampCell({ x: b.x0, y: b.y0 });
    setSelection({ kind: "brush", layer: b.img.dataset.layer,
                   rect: [Math.min(first.x, b.x1), Math.min(first.y, b.y1),
                          Math.max(first.x, b.x1), Math.max(first.y, b.y1)] });
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && st.sel) setSelection(null);
  });

  /* Controls: truth / predicted labels, misclassified. (The graph's canvas has a
     data-labels of its own: the buttons are named by their class.) */
  document.addEventListener("click", function (ev) {
    var t = ev.target.closest ? ev.target.closest(".fd-labels, .fd-wrong-toggle") : null;
    if (!t || !st.model) return;
    if (t.dataset.labels) {
      st.labels = t.dataset.labels === "predicted" ? "predicted" : "truth";
      U().set("labels", st.labels === "predicted" ? "predicted" : null);
      drawAll(false);
    } else {
      setSelection(st.sel && st.sel.kind === "wrong" ? null : { kind: "wrong" });
    }
  });
  document.addEventListener("change", function (ev) {
    if (ev.target.closest && ev.target.closest("#coloring")) drawAll(false);
  });

  /* Class focus (assets/fracdash.js: legend hover and pin) reaches the drawing here. */
  var api = {
    setFocus: function (k) {
      st.focus = k === null || k === undefined ? null : k;
      if (st.model) drawGlyphs(false);
    },
    state: function () {
      return st;
    },
  };
  window.fracdashSampleView = api;

  var pending = false;
  function schedule() {
    if (!pending) {
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        S = window.fracdashSamples;
        if (!S || !P() || !E()) return;
        sync();
        P().hookConfusion(st, setSelection);
        if (st.model) P().drawCohesion(st, S);
      });
    }
  }
  function start() {
    document.addEventListener("toggle", schedule, true);
    new MutationObserver(schedule).observe(document.body, {
      childList: true, subtree: true, attributes: true, attributeFilter: ["data-run", "data-curve"],
    });
    schedule();
  }
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
