/* fracdash: the view of a fitted layer graph - zoom, pan and screen placement. Pure
 * functions, no DOM (node tests: tests/js/dag_zoom.test.mjs).
 *
 * A layout is assets/dag_fit.js's fitLayout: boxes in layout pixels, glyphs drawn at
 * `scale` screen pixels per sample at zoom 1. A view is {zoom, panX, panY}: screen =
 * layout * zoom + pan. Screen positions are snapped to device pixels (1 / dpr), so a
 * glyph drawn at k/dpr CSS pixels per sample shows every sample as an equal square.
 * Works as a browser script (window.fracdashZoom) and a CommonJS module. */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.fracdashZoom = api;
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // Screen pixels per sample that zooming in and out steps through at and above 1.
  var LADDER = [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64];
  var ZOOM_FACTOR = 1.25; // one wheel step below 1 px per sample
  var EPS = 1e-9;

  /* The view showing the whole layout, centred in the viewport. */
  function fitView(layout, viewport) {
    var z = layout.zoom;
    return {
      zoom: z,
      panX: Math.max(0, (viewport.width - layout.width * z) / 2),
      panY: Math.max(0, (viewport.height - layout.height * z) / 2),
    };
  }

  /* Screen pixels per sample one zoom step in (+1) or out (-1) from `p`, never below
   * `least` (the fitted view): steps of 1.25x below 1 px per sample, landing on 1
   * exactly, then whole numbers, so that glyphs stay crisp. */
  function stepPxPerSample(p, direction, least) {
    var next = p;
    var i;
    if (direction > 0) {
      if (p < 1 - EPS) {
        next = p * ZOOM_FACTOR > 0.95 ? 1 : p * ZOOM_FACTOR;
      } else {
        for (i = 0; i < LADDER.length && LADDER[i] <= p + EPS; i++);
        next = i < LADDER.length ? LADDER[i] : p;
      }
    } else if (p <= 1 + EPS) {
      next = p / ZOOM_FACTOR;
    } else {
      for (i = LADDER.length - 1; i >= 0 && LADDER[i] >= p - EPS; i--);
      next = i >= 0 ? LADDER[i] : p;
    }
    return Math.max(next, least);
  }

  /* The view at `p` screen pixels per sample, the screen point (ax, ay) staying put. */
  function viewAt(layout, view, p, ax, ay) {
    var z = p / layout.scale;
    var k = z / view.zoom;
    return { zoom: z, panX: ax - (ax - view.panX) * k, panY: ay - (ay - view.panY) * k };
  }

  /* The view after one zoom step at screen point (ax, ay). */
  function zoomAt(layout, view, direction, ax, ay) {
    var least = layout.scale * layout.zoom;
    return viewAt(layout, view, stepPxPerSample(layout.scale * view.zoom, direction, least), ax, ay);
  }

  /* Screen pixels per sample of the crisp view from `p`: the largest whole number of
   * device pixels per sample at or below it, at least one (1:1 on a plain screen). */
  function crispPxPerSample(p, dpr) {
    return Math.max(1, Math.floor(p * dpr + 1e-6)) / dpr;
  }

  /* The crisp view of `view`, centred on the viewport's middle. */
  function crispView(layout, view, viewport, dpr) {
    var p = crispPxPerSample(layout.scale * view.zoom, dpr);
    return viewAt(layout, view, p, viewport.width / 2, viewport.height / 2);
  }

  /* Whether `p` px per sample is a whole number of device pixels. */
  function isCrisp(p, dpr) {
    return Math.abs(p * dpr - Math.round(p * dpr)) < 1e-6 && p * dpr >= 1 - 1e-6;
  }

  /* "3 px/sample", "2.35 px/sample", "0.64 px/sample": what the page shows. */
  function scaleText(p) {
    var digits = p >= 10 ? 1 : 2;
    return Number(p.toFixed(digits)).toString() + " px/sample";
  }

  function pathData(points, view) {
    var z = view.zoom;
    var d = "";
    var prev = null;
    points.forEach(function (p) {
      var x = p.x * z + view.panX;
      var y = p.y * z + view.panY;
      if (p.kind === "M") {
        d += "M" + x.toFixed(1) + "," + y.toFixed(1);
      } else if (p.kind === "S") {
        var mid = ((prev.y + y) / 2).toFixed(1);
        d +=
          " C" + prev.x.toFixed(1) + "," + mid + " " + x.toFixed(1) + "," + mid +
          " " + x.toFixed(1) + "," + y.toFixed(1);
      } else {
        d += " L" + x.toFixed(1) + "," + y.toFixed(1);
      }
      prev = { x: x, y: y };
    });
    return d;
  }

  /**
   * Screen placement of every node and edge for a view {zoom, panX, panY}.
   * Returns {pxPerSample, crisp, labels: {slot, nameFont, qualityFont, shown},
   * nodes: {name: {left, top, width, height, glyphWidth, glyphHeight, glyphLeft,
   * glyphTop}}, edges: [{source, target, d}]}. Positions are whole device pixels.
   */
  function placeView(layout, view, dpr) {
    var d = dpr || layout.options.dpr || 1;
    var snap = function (v) {
      return Math.round(v * d) / d;
    };
    var o = layout.options;
    var z = view.zoom;
    var p = layout.scale * z;
    var shrink = Math.min(1, z);
    var slot = snap(o.label * z);
    var labels = {
      slot: slot,
      nameFont: o.nameFont * shrink,
      qualityFont: o.qualityFont * shrink,
      shown: o.qualityFont * shrink >= o.minFont,
    };
    var nodes = {};
    Object.keys(layout.boxes).forEach(function (name) {
      var b = layout.boxes[name];
      var gw = Math.max(1 / d, snap(b.samples.w * p));
      var gh = Math.max(1 / d, snap(b.samples.h * p));
      var cx = (b.x + b.w / 2) * z + view.panX;
      var top = snap(b.y * z + view.panY);
      var width = Math.max(gw, snap(b.w * z));
      nodes[name] = {
        left: snap(cx - width / 2),
        top: top,
        width: width,
        height: gh + 2 * slot,
        glyphWidth: gw,
        glyphHeight: gh,
        glyphLeft: snap(cx - gw / 2),
        glyphTop: top + slot,
      };
    });
    var edges = layout.edges.map(function (e) {
      return { source: e.source, target: e.target, d: pathData(e.route, view) };
    });
    return { pxPerSample: p, crisp: isCrisp(p, d), labels: labels, nodes: nodes, edges: edges };
  }

  return {
    LADDER: LADDER,
    fitView: fitView,
    stepPxPerSample: stepPxPerSample,
    zoomAt: zoomAt,
    crispPxPerSample: crispPxPerSample,
    crispView: crispView,
    isCrisp: isCrisp,
    scaleText: scaleText,
    placeView: placeView,
  };
});
