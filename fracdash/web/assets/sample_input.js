/* fracdash: the pointer and keys of sample following (assets/sample_view.js holds the
 * view's state and draws it). Hover a glyph pixel: that sample, marked in every glyph
 * of every graph shown; click: pin it; shift-drag: brush a rectangle (a selection in
 * both graphs of a comparison); Esc: clear the selection. The buttons: true /
 * predicted / "right in A / B" labels, misclassified (run A's), "classified
 * differently" and "changed most" (a comparison's). Every glyph is read with the sample
 * model of its own graph (fracdashSampleView.modelOf). */
(function () {
  "use strict";

  function V() {
    return window.fracdashSampleView;
  }
  function S() {
    return window.fracdashSamples;
  }
  function P() {
    return window.fracdashSamplePanels;
  }
  function U() {
    return window.fracdashUrl;
  }
  function st() {
    return V().state();
  }

  /* The grid cell under the pointer; `rect`: the glyph's box if already read (a brush
   * keeps its pointer-down box: reading it again after moving the brush's outline
   * would force a layout on every move). */
  function cellAt(img, m, ev, rect) {
    var r = rect || img.getBoundingClientRect();
    return {
      x: Math.floor(((ev.clientX - r.left) / r.width) * m.width),
      y: Math.floor(((ev.clientY - r.top) / r.height) * m.height),
    };
  }

  /* The glyph under `target` and its graph's sample model, or null. */
  function glyphOf(target) {
    var img = target && target.closest ? target.closest("img.fd-glyph") : null;
    if (!img || !V() || !st().model) return null;
    var m = V().modelOf(img);
    return m && m.layers[img.dataset.layer] ? { img: img, model: m } : null;
  }

  function hideHover() {
    var t = document.querySelector(".fd-tooltip");
    if (t) t.hidden = true;
    if (V() && st().hover !== null) {
      st().hover = null;
      V().drawMarks();
    }
  }

  document.addEventListener("mousemove", function (ev) {
    if (!V() || st().brush) return;
    var s = st();
    if (s.model && s.spriteOf !== s.model && ev.target.closest && ev.target.closest(".fd-dag")) {
      V().loadSprite();
    }
    var g = glyphOf(ev.target);
    if (!g) {
      hideHover();
      return;
    }
    var layer = g.img.dataset.layer, c = cellAt(g.img, g.model, ev);
    var hit = S().sampleAt(g.model, layer, c.x, c.y);
    if (!hit) {
      hideHover();
      return;
    }
    P().showTooltip(ev, layer, hit, s, g.model);
    if (!s.hover || s.hover.sample !== hit.sample) {
      s.hover = { sample: hit.sample, layer: layer, run: g.model.run };
      V().drawMarks();
    }
  });

  var clicks = 0; // single clicks on glyphs so far: each pin click its own gesture

  document.addEventListener("click", function (ev) {
    var g = glyphOf(ev.target);
    if (!g || ev.shiftKey) return;
    var c = cellAt(g.img, g.model, ev);
    var hit = S().sampleAt(g.model, g.img.dataset.layer, c.x, c.y);
    if (!hit) return;
    var s = st(), i = s.pins.indexOf(hit.sample);
    if (i >= 0) s.pins.splice(i, 1);
    else s.pins.push(hit.sample);
    /* A double-click's two clicks are one gesture: it pins and unpins, and leaves no
       history entry behind (url_state.js takes it back). */
    if (ev.detail < 2) clicks += 1;
    U().set("pin", s.pins.join(",") || null, "pin-click:" + clicks + ":" + hit.sample);
    V().drawMarks();
    P().showSelection(s, S());
  });

  /* A double-click on a glyph enlarges it, as a click on its layer's name does (the
   * name may be hidden in an overview). Its two clicks pin and unpin: nothing stays. */
  document.addEventListener("dblclick", function (ev) {
    var img = ev.target.closest ? ev.target.closest("img.fd-glyph") : null;
    var name = img && img.parentElement.querySelector(".fd-node-name");
    if (name) name.click();
  });

  document.addEventListener("pointerdown", function (ev) {
    var g = ev.shiftKey && ev.button === 0 ? glyphOf(ev.target) : null;
    if (!g) return;
    ev.preventDefault();
    hideHover();
    var rect = g.img.getBoundingClientRect();
    var c = cellAt(g.img, g.model, ev, rect);
    var holder = g.img.parentElement.querySelector(".fd-marks");
    var box = document.createElement("div");
    box.className = "fd-brush";
    holder.appendChild(box);
    st().brush = { img: g.img, model: g.model, x0: c.x, y0: c.y, x1: c.x, y1: c.y, box: box,
                   rect: rect };
    placeBrush();
  });

  function clampCell(m, c) {
    return {
      x: Math.max(0, Math.min(m.width - 1, c.x)),
      y: Math.max(0, Math.min(m.height - 1, c.y)),
    };
  }

  function placeBrush() {
    var b = st().brush, m = b.model;
    var xa = Math.min(b.x0, b.x1), xb = Math.max(b.x0, b.x1) + 1;
    var ya = Math.min(b.y0, b.y1), yb = Math.max(b.y0, b.y1) + 1;
    b.box.style.left = (xa / m.width) * 100 + "%";
    b.box.style.top = (ya / m.height) * 100 + "%";
    b.box.style.width = ((xb - xa) / m.width) * 100 + "%";
    b.box.style.height = ((yb - ya) / m.height) * 100 + "%";
  }

  window.addEventListener("pointermove", function (ev) {
    var b = V() && st().brush;
    if (!b) return;
    b.rect = b.rect || b.img.getBoundingClientRect();
    var c = clampCell(b.model, cellAt(b.img, b.model, ev, b.rect));
    b.x1 = c.x;
    b.y1 = c.y;
    placeBrush();
  });

  /* A zoom or a resize moves the glyph under a brush: its box is read again at the
   * next move. */
  ["wheel", "resize", "scroll"].forEach(function (type) {
    window.addEventListener(type, function () {
      var b = V() && st().brush;
      if (b) b.rect = null;
    }, { passive: true, capture: true });
  });

  /* A brush in the second run's graph is written "brush-b:…" (assets/samples.js). */
  window.addEventListener("pointerup", function () {
    var s = V() && st(), b = s && s.brush;
    if (!b) return;
    s.brush = null;
    b.box.remove();
    var first = clampCell(b.model, { x: b.x0, y: b.y0 });
    var sel = { kind: "brush", layer: b.img.dataset.layer,
                rect: [Math.min(first.x, b.x1), Math.min(first.y, b.y1),
                       Math.max(first.x, b.x1), Math.max(first.y, b.y1)] };
    if (b.model !== s.model && b.model === s.modelB) sel.side = "b";
    V().setSelection(sel);
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && V() && st().sel) V().setSelection(null);
  });

  /* Controls: the labels buttons (the graph's canvas has a data-labels of its own: the
     buttons are named by their class); a second click on "right in A / B" goes back
     to the true labels. Misclassified, classified differently and changed most toggle
     their selection. */
  var TOGGLES = { "fd-wrong-toggle": "wrong", "fd-diff-toggle": "diff", "fd-moved-toggle": "moved" };
  document.addEventListener("click", function (ev) {
    var t = ev.target.closest
      ? ev.target.closest(".fd-labels, .fd-wrong-toggle, .fd-diff-toggle, .fd-moved-toggle")
      : null;
    if (!t || !V() || !st().model) return;
    var s = st();
    if (t.classList.contains("fd-labels")) {
      var want = t.dataset.labels;
      V().setLabels(want === "correctness" && s.labels === "correctness" ? "truth" : want);
      return;
    }
    var kind = null;
    Object.keys(TOGGLES).forEach(function (cls) {
      if (t.classList.contains(cls)) kind = TOGGLES[cls];
    });
    if (kind) V().setSelection(s.sel && s.sel.kind === kind ? null : { kind: kind });
  });
  document.addEventListener("change", function (ev) {
    if (ev.target.closest && ev.target.closest("#coloring") && V()) V().drawAll(false);
  });
})();
