/* fracdash standalone export: the legend hover and the coloring switch of an exported
 * run, in a single HTML file that works offline.
 *
 * Python (fracdash/export/standalone.py) inlines this script at the end of the page's
 * body; the glyph variants sit in <script type="application/json" id="fd-variants">,
 * {layer: {absolute, relative, focus: [per class]}}, as PNG data URIs. As on the live
 * page, recoloring and class focus only swap precomputed images.
 *
 * A classic script, not an ES module: inlined it runs from file:// URLs, and under
 * node (CommonJS, no package.json needed) standalone.test.mjs imports its functions;
 * there it exports them and touches no DOM. The live dashboard never loads it
 * (fracdash.web.app.ASSETS_IGNORE). */
(function () {
  "use strict";

  var COLORINGS = ["absolute", "relative"];

  /* The src of one glyph for a coloring and a focused class (an index, or null for
   * all). Focus applies to the absolute coloring only, as on the live page. */
  function glyphSrc(variant, coloring, focus) {
    if (!variant) {
      return null;
    }
    if (coloring === "relative") {
      return variant.relative;
    }
    if (focus === null || focus === undefined) {
      return variant.absolute;
    }
    return (variant.focus && variant.focus[focus]) || variant.absolute;
  }

  /* A known coloring, else "absolute" (the value comes from the page's radio inputs). */
  function coloringOr(value) {
    return COLORINGS.indexOf(value) >= 0 ? value : "absolute";
  }

  /* A legend item's data-class ("3") as a class index, or null when it is not one. */
  function classOf(value) {
    return typeof value === "string" && /^[0-9]+$/.test(value) ? Number(value) : null;
  }

  /* The next {coloring, focus} state after an action; the same object when nothing
   * changes, so that callers repaint only on a real change. Actions: {type: "focus",
   * k}, {type: "blur"}, {type: "coloring", value}. */
  function nextState(state, action) {
    var next = state;
    if (action.type === "focus") {
      next = { coloring: state.coloring, focus: action.k };
    } else if (action.type === "blur") {
      next = { coloring: state.coloring, focus: null };
    } else if (action.type === "coloring") {
      next = { coloring: coloringOr(action.value), focus: state.focus };
    }
    return next.coloring === state.coloring && next.focus === state.focus ? state : next;
  }

  /* Point every glyph image at its variant for `state`; returns how many changed.
   * `images`: objects with dataset.layer and a writable src (img elements). */
  function paint(images, variants, state) {
    var changed = 0;
    for (var i = 0; i < images.length; i += 1) {
      var img = images[i];
      var layer = img.dataset.layer;
      var own = Object.prototype.hasOwnProperty.call(variants, layer);
      var src = own ? glyphSrc(variants[layer], state.coloring, state.focus) : null;
      if (src && img.src !== src) {
        img.src = src;
        changed += 1;
      }
    }
    return changed;
  }

  function legendItem(node) {
    return node && node.closest ? node.closest(".fd-legend-item") : null;
  }

  /* Wire the legend and the coloring switch of `doc`; returns a handle whose state()
   * reads the current state, or null when `doc` holds no exported run. */
  function start(doc) {
    var data = doc.getElementById("fd-variants");
    if (!data) {
      return null;
    }
    var variants = JSON.parse(data.textContent);
    // A reload may restore the radio's checked state: start from what it shows.
    var checked = doc.querySelector("input[name=fd-coloring]:checked");
    var state = { coloring: coloringOr(checked && checked.value), focus: null };
    function repaint() {
      doc.body.dataset.coloring = state.coloring;
      paint(doc.querySelectorAll("img.fd-glyph"), variants, state);
    }
    function update(action) {
      var next = nextState(state, action);
      if (next !== state) {
        state = next;
        repaint();
      }
    }
    // Pointer and keyboard alike: entering an item focuses its class, leaving ends it.
    function enter(ev) {
      var item = legendItem(ev.target);
      if (item && !item.contains(ev.relatedTarget)) {
        update({ type: "focus", k: classOf(item.dataset.class) });
      }
    }
    function leave(ev) {
      var item = legendItem(ev.target);
      if (item && !item.contains(ev.relatedTarget)) {
        update({ type: "blur" });
      }
    }
    doc.addEventListener("mouseover", enter);
    doc.addEventListener("focusin", enter);
    doc.addEventListener("mouseout", leave);
    doc.addEventListener("focusout", leave);
    doc.addEventListener("change", function (ev) {
      if (ev.target && ev.target.name === "fd-coloring") {
        update({ type: "coloring", value: ev.target.value });
      }
    });
    repaint();
    doc.body.dataset.fdReady = "true"; // wired: tests and scripts wait for this
    return {
      state: function () {
        return state;
      },
    };
  }

  var api = {
    COLORINGS: COLORINGS,
    glyphSrc: glyphSrc,
    coloringOr: coloringOr,
    classOf: classOf,
    nextState: nextState,
    paint: paint,
    start: start,
  };
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else if (typeof document !== "undefined") {
    start(document);
  }
})();
