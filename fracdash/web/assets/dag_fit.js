/* fracdash: the layer graph fitted to the window. Pure functions, no DOM: graph +
 * viewport -> positions (node tests: tests/js/dag_fit.test.mjs).
 *
 * The server sends the graph layered (each layer's glyph size in samples, its rank and
 * lane "x"; the lanes a long edge passes through) and every candidate fold of its ranks
 * into columns (fracdash/layout/fold.py: the exports fold with the same candidates).
 * Here, two things only:
 *
 * - placeFold: where a fold puts every node and edge at a glyph scale s (screen pixels
 *   per sample) - the arithmetic of fracdash/layout/place.py, line for line; a Python
 *   test runs both on the same folds and compares every position;
 * - fitLayout: the fold and the scale that give the largest glyphs in the viewport (of
 *   the folds within 10% of the largest, the one covering most of it). The scale may
 *   fall between integers; where the devicePixelRatio d allows it within a few
 *   percent, it is k/d (every sample an equal square of k device pixels). When nothing
 *   fits at one device pixel per sample, the graph is shown whole at a smaller zoom
 *   (an overview).
 *
 * Units: "layout" pixels are screen pixels at zoom 1, where a glyph is drawn at `scale`
 * screen pixels per sample. Works as a browser script (window.fracdashFit) and a
 * CommonJS module. */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.fracdashFit = api;
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  var DEFAULTS = {
    label: 16, // height of the name line above a glyph and of the quality line below
    hgap: 14, // added to the widest box of a column: one lane
    vgap: 12, // between two ranks
    colGap: 28, // between two columns: the edges of a fold climb in this gap
    margin: 10, // around the drawing: the edges of a fold run in it, under and over
    labelMax: 150, // a longer name is cut (ellipsis); the full name is its title
    charWidth: 7, // label width per character when the page did not measure it
    maxScale: 64,
    nameFont: 12, // px at zoom >= 1; smaller in an overview
    qualityFont: 11,
    minFont: 7, // labels smaller than this are hidden
    dpr: 1, // device pixels per CSS pixel
    crispShare: 0.95, // an equal-square scale is taken if it keeps this share of the size
    cleanShare: 0.75, // whole blocks are worth glyphs up to a quarter smaller
    nearShare: 0.9, // of the folds giving glyphs this close to the largest, the fullest
  };
  // The server's spacing (fracdash.layout.Spacing) under this module's names.
  var SPACING = { label: "label", hgap: "hgap", vgap: "vgap", colGap: "col_gap",
    margin: "margin", labelMax: "label_max" }; // prettier-ignore
  var EPS = 1e-9;

  function options(graph, opts) {
    var out = {};
    var spacing = (graph && graph.spacing) || {};
    Object.keys(DEFAULTS).forEach(function (k) {
      var given = SPACING[k] && spacing[SPACING[k]] !== undefined ? spacing[SPACING[k]] : DEFAULTS[k];
      out[k] = opts && opts[k] !== undefined ? opts[k] : given;
    });
    return out;
  }

  /* Nodes with their label room, edges, the number of ranks, and per rank its widest
   * and tallest glyph and widest label (all a frame needs). */
  function prepare(graph, o) {
    var byName = {};
    var nodes = graph.nodes.map(function (n) {
      var label = n.labelWidth !== undefined ? n.labelWidth : o.charWidth * String(n.name).length;
      var node = { name: n.name, width: n.width, height: n.height, rank: n.rank,
        x: n.x !== undefined ? n.x : n.order || 0, label: Math.min(label, o.labelMax) }; // prettier-ignore
      byName[n.name] = node;
      return node;
    });
    var edges = (graph.edges || []).map(function (e) {
      return Array.isArray(e)
        ? { source: e[0], target: e[1], via: [] }
        : { source: e.source, target: e.target, via: e.via || [] };
    });
    var count = 0;
    nodes.forEach(function (n) {
      count = Math.max(count, n.rank + 1);
    });
    var ranks = [];
    for (var r = 0; r < count; r++) {
      ranks.push({ width: 0, height: 0, label: 0 });
    }
    nodes.forEach(function (n) {
      var st = ranks[n.rank];
      st.width = Math.max(st.width, n.width);
      st.height = Math.max(st.height, n.height);
      st.label = Math.max(st.label, n.label);
    });
    return { nodes: nodes, byName: byName, edges: edges, rankCount: count, ranks: ranks };
  }

  /* A fold as the server sends it: {mode, columns: [[first, last, lo, hi], ...]}. */
  function columnsOf(fold) {
    return fold.columns.map(function (c) {
      return { first: c[0], last: c[1], lo: c[2], hi: c[3] };
    });
  }

  /* Per rank its band height; per column its lane, left edge, width and height
   * (fracdash/layout/place.py: _frame). */
  function frame(prep, cols, s, o) {
    var bands = prep.ranks.map(function (st) {
      return Math.max(2 * o.label, st.height * s + 2 * o.label);
    });
    var colOf = [];
    var widest = cols.map(function (col, c) {
      var w = 0;
      for (var q = col.first; q <= col.last; q++) {
        colOf[q] = c;
        w = Math.max(w, prep.ranks[q].width * s, prep.ranks[q].label);
      }
      return w;
    });
    var f = { bands: bands, colOf: colOf, lanes: [], lefts: [], widths: [], heights: [] };
    var left = o.margin;
    cols.forEach(function (col, c) {
      var lane = widest[c] + o.hgap;
      var width = (col.hi - col.lo) * lane;
      var height = o.vgap * (col.last - col.first);
      for (var q = col.first; q <= col.last; q++) {
        height += bands[q];
      }
      f.lanes.push(lane);
      f.lefts.push(left);
      f.widths.push(width);
      f.heights.push(height);
      left += width + o.colGap;
    });
    return f;
  }

  function sizeOf(f, o) {
    var width = 2 * o.margin + Math.max(0, o.colGap * (f.widths.length - 1));
    f.widths.forEach(function (w) {
      width += w;
    });
    return { width: width, height: 2 * o.margin + Math.max.apply(null, f.heights.concat([0])) };
  }

  /* Every box and edge route of a fold at scale s (fracdash/layout/place.py: place). */
  function placeFold(prep, fold, s, o) {
    var cols = columnsOf(fold);
    var f = frame(prep, cols, s, o);
    var tops = [];
    cols.forEach(function (col) {
      var y = o.margin;
      for (var r = col.first; r <= col.last; r++) {
        tops[r] = y;
        y += f.bands[r] + o.vgap;
      }
    });
    var boxes = {};
    prep.nodes.forEach(function (n) {
      var c = f.colOf[n.rank];
      var gw = n.width * s;
      var gh = n.height * s;
      var w = Math.max(gw, n.label);
      var h = gh + 2 * o.label;
      var cx = f.lefts[c] + (n.x - cols[c].lo) * f.lanes[c];
      var y = tops[n.rank] + (f.bands[n.rank] - h) / 2;
      boxes[n.name] = { name: n.name, rank: n.rank, column: c, x: cx - w / 2, y: y, w: w, h: h,
        glyph: { x: cx - gw / 2, y: y + o.label, w: gw, h: gh },
        samples: { w: n.width, h: n.height } }; // prettier-ignore
    });
    function go(points, x, yTop, r, kind) {
      var c0 = f.colOf[r - 1];
      if (c0 === f.colOf[r]) {
        points.push({ kind: kind, x: x, y: yTop });
        return;
      }
      var under = o.margin + f.heights[c0] + o.margin / 2;
      var gap = f.lefts[c0] + f.widths[c0] + o.colGap / 2;
      var over = o.margin / 2;
      var lastX = points[points.length - 1].x;
      [[lastX, under], [gap, under], [gap, over], [x, over], [x, yTop]].forEach(function (p) {
        points.push({ kind: "L", x: p[0], y: p[1] });
      });
    }
    var edges = prep.edges.map(function (e) {
      var src = boxes[e.source];
      var dst = boxes[e.target];
      var points = [{ kind: "M", x: src.x + src.w / 2, y: src.y + src.h }];
      for (var r = src.rank + 1; r < dst.rank; r++) {
        var lane = e.via[r - src.rank - 1];
        var c = f.colOf[r];
        var x = f.lefts[c] + ((lane !== undefined ? lane : prep.byName[e.source].x) - cols[c].lo) * f.lanes[c];
        go(points, x, tops[r], r, "S");
        points.push({ kind: "L", x: x, y: tops[r] + f.bands[r] });
      }
      go(points, dst.x + dst.w / 2, dst.y, dst.rank, "S");
      return { source: e.source, target: e.target, route: points };
    });
    var size = sizeOf(f, o);
    var columns = cols.map(function (col, c) {
      return { first: col.first, last: col.last, x: f.lefts[c], y: o.margin, w: f.widths[c], h: f.heights[c] };
    });
    return { scale: s, width: size.width, height: size.height, boxes: boxes, edges: edges, columns: columns };
  }

  /* The largest scale at which a fold fits the viewport (0 if none does): sizes grow
   * with s, so a bisection under the bound where one glyph alone fills the viewport. */
  function largestScale(prep, cols, viewport, o) {
    var top = o.maxScale;
    prep.nodes.forEach(function (n) {
      top = Math.min(top, (viewport.width - 2 * o.margin) / n.width,
        (viewport.height - 2 * o.margin - 2 * o.label) / n.height); // prettier-ignore
    });
    function fits(s) {
      var size = sizeOf(frame(prep, cols, s, o), o);
      return size.width <= viewport.width + EPS && size.height <= viewport.height + EPS;
    }
    if (top <= 0 || !fits(0)) {
      return 0;
    }
    if (fits(top)) {
      return top;
    }
    var lo = 0;
    var hi = top;
    for (var i = 0; i < 50; i++) {
      var mid = (lo + hi) / 2;
      if (fits(mid)) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /* The best fold of each mode: of those whose `score` is within `near` of the mode's
   * best, the one whose `fill` is largest (ties: the better score, then the earlier
   * candidate). Clean wins unless `any` scores better by more than `share`. */
  function pick(folds, score, share, fill, near) {
    var top = {};
    folds.forEach(function (fold, i) {
      top[fold.mode] = Math.max(top[fold.mode] || 0, score(i));
    });
    var best = {};
    folds.forEach(function (fold, i) {
      var v = score(i);
      var b = best[fold.mode];
      if (v < near * top[fold.mode] - EPS) {
        return;
      }
      var f = fill(i);
      if (!b || f > b.fill + EPS || (Math.abs(f - b.fill) <= EPS && v > b.value + EPS)) {
        best[fold.mode] = { index: i, value: v, fill: f };
      }
    });
    var clean = best.clean;
    var any = best.any;
    if (clean && (!any || clean.value >= share * any.value)) {
      return clean;
    }
    return any || clean;
  }

  /* The scale shown for a fitted s: k/d, every sample an equal square of k device
   * pixels, if that keeps `crispShare` of s; else s itself (to 1/100 px). */
  function settle(s, o) {
    var crisp = Math.floor(s * o.dpr + 1e-6) / o.dpr;
    return crisp >= o.crispShare * s ? crisp : Math.floor(s * 100 + 1e-6) / 100;
  }

  /**
   * The graph folded and scaled to fill a viewport.
   *
   * graph: {nodes: [{name, width, height, rank, x, labelWidth?}], edges: [{source,
   *   target, via}], folds: [{mode, columns: [[first, last, lo, hi]]}], spacing?}: the
   *   server's fracdash.web.dag.graph_data; labelWidth is the measured width of the
   *   node's widest label at zoom 1.
   * viewport: {width, height} in screen pixels; opts: DEFAULTS to override (dpr).
   * Returns {scale, zoom, overview, crisp, mode, fold, width, height, boxes, edges,
   * columns, options}: the glyphs' scale (px per sample at zoom 1), the zoom that fits
   * (1, or < 1 for an overview), the chosen fold's index, the drawing's size at zoom 1.
   */
  function fitLayout(graph, viewport, opts) {
    var o = options(graph, opts);
    var prep = prepare(graph, o);
    var folds = graph.folds || [];
    if (!prep.nodes.length || !folds.length) {
      var none = { scale: 1, width: 2 * o.margin, height: 2 * o.margin, boxes: {}, edges: [], columns: [] };
      return finish(none, { mode: "clean" }, -1, 1, o);
    }
    var cols = folds.map(columnsOf);
    var least = 1 / o.dpr; // one device pixel per sample
    var scales = folds.map(function (fold, i) {
      return largestScale(prep, cols[i], viewport, o);
    });
    var chosen = pick(folds, function (i) {
      return scales[i];
    }, o.cleanShare, function (i) {
      // How much of the viewport the fold covers at its own largest scale.
      var size = sizeOf(frame(prep, cols[i], scales[i], o), o);
      return (size.width / viewport.width) * (size.height / viewport.height);
    }, o.nearShare);
    if (chosen.value >= least - EPS) {
      var s = Math.max(least, settle(chosen.value, o));
      return finish(placeFold(prep, folds[chosen.index], s, o), folds[chosen.index], chosen.index, 1, o);
    }
    // An overview: the layout at one device pixel per sample, shrunk to fit.
    var zooms = cols.map(function (c) {
      var size = sizeOf(frame(prep, c, least, o), o);
      return Math.min(viewport.width / size.width, viewport.height / size.height);
    });
    var shrunk = pick(folds, function (i) {
      return zooms[i];
    }, 0.8, function () {
      return 0;
    }, 1);
    var placed = placeFold(prep, folds[shrunk.index], least, o);
    return finish(placed, folds[shrunk.index], shrunk.index, Math.min(1, shrunk.value), o);
  }

  function finish(placed, fold, index, zoom, o) {
    placed.zoom = zoom;
    placed.overview = zoom < 1;
    placed.crisp = Math.abs(placed.scale * o.dpr - Math.round(placed.scale * o.dpr)) < 1e-6;
    placed.mode = fold.mode;
    placed.fold = index;
    placed.options = o;
    return placed;
  }

  return {
    DEFAULTS: DEFAULTS,
    options: options,
    prepare: prepare,
    placeFold: placeFold,
    largestScale: largestScale,
    settle: settle,
    fitLayout: fitLayout,
  };
});
