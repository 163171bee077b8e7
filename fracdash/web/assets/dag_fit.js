/* fracdash: the layer graph fitted to the window. Pure functions, no DOM: graph +
 * viewport -> positions (node tests: assets/tests/dag_fit.test.mjs).
 *
 * The server sends the Sugiyama layering (each layer's rank, order and lane "x"; the
 * lanes a long edge passes through) and each glyph's size in pixels. Here the ranks are
 * folded into columns, read top to bottom and then left to right, and the glyphs get
 * the largest integer scale (screen pixels per sample) at which the whole graph fits:
 *
 * - a column break goes where one edge crosses it (between two blocks of a ResNet, not
 *   inside a pair of branches), unless breaking anywhere gives glyphs more than a third
 *   larger; either way the branches of a rank stay side by side, in their lanes;
 * - when nothing fits at 1 px per sample, the graph is shown whole at a smaller zoom
 *   (an overview), and zooming in reaches 1 px per sample and more; labels shrink with
 *   the overview and are hidden below a legible size.
 *
 * Units: "layout" pixels are screen pixels at zoom 1, where a glyph is drawn at
 * `scale` screen pixels per sample. A view is {zoom, panX, panY}: screen = layout *
 * zoom + pan. Works as a browser script (window.fracdashFit) and a CommonJS module. */
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
    hgap: 14, // between two lanes of a column
    vgap: 12, // between two ranks
    colGap: 28, // between two columns: the edges of a fold climb in this gap
    margin: 10, // around the drawing: the edges of a fold run in it, under and over
    labelMax: 150, // a longer name is cut (ellipsis); the full name is its title
    charWidth: 7, // label width per character when the page did not measure it
    maxScale: 64,
    nameFont: 12, // px at zoom >= 1; smaller in an overview
    qualityFont: 11,
    minFont: 7, // labels smaller than this are hidden
  };
  // Screen pixels per sample that zooming in and out steps through at and above 1.
  var LADDER = [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64];
  var ZOOM_FACTOR = 1.25; // one wheel step below 1 px per sample
  var EPS = 1e-9;

  function options(opts) {
    var out = {};
    Object.keys(DEFAULTS).forEach(function (k) {
      out[k] = opts && opts[k] !== undefined ? opts[k] : DEFAULTS[k];
    });
    return out;
  }

  function edgeOf(e) {
    return Array.isArray(e)
      ? { source: e[0], target: e[1], via: [] }
      : { source: e.source, target: e.target, via: e.via || [] };
  }

  /* Ranks, their nodes and the long edges' dummy lanes; which column breaks are clean. */
  function prepare(graph, o) {
    var byName = {};
    var nodes = graph.nodes.map(function (n) {
      var label = n.labelWidth !== undefined ? n.labelWidth : o.charWidth * String(n.name).length;
      var node = {
        name: n.name,
        width: n.width,
        height: n.height,
        rank: n.rank,
        order: n.order || 0,
        x: n.x !== undefined ? n.x : n.order || 0,
        label: Math.min(label, o.labelMax),
      };
      byName[n.name] = node;
      return node;
    });
    var edges = (graph.edges || []).map(edgeOf).filter(function (e) {
      return byName[e.source] && byName[e.target];
    });
    var count = 0;
    nodes.forEach(function (n) {
      count = Math.max(count, n.rank + 1);
    });
    var ranks = [];
    for (var r = 0; r < count; r++) {
      ranks.push({ nodes: [], dummies: [] });
    }
    nodes.forEach(function (n) {
      ranks[n.rank].nodes.push(n);
    });
    ranks.forEach(function (rank) {
      rank.nodes.sort(function (a, b) {
        return a.x - b.x || a.order - b.order;
      });
    });
    // crossing[r]: edges crossing the cut between rank r and rank r + 1.
    var crossing = new Array(Math.max(0, count - 1)).fill(0);
    edges.forEach(function (e) {
      var r0 = byName[e.source].rank;
      var r1 = byName[e.target].rank;
      for (var r = r0; r < r1; r++) {
        crossing[r] += 1;
        if (r > r0) {
          var lane = e.via[r - r0 - 1];
          ranks[r].dummies.push(lane !== undefined ? lane : byName[e.source].x);
        }
      }
    });
    return { nodes: nodes, byName: byName, edges: edges, ranks: ranks, crossing: crossing };
  }

  function nodeBox(n, s, o) {
    var gw = n.width * s;
    var gh = n.height * s;
    return { gw: gw, gh: gh, w: Math.max(gw, n.label), h: gh + 2 * o.label };
  }

  function bandHeights(prep, s, o) {
    return prep.ranks.map(function (rank) {
      var h = 2 * o.label;
      rank.nodes.forEach(function (n) {
        h = Math.max(h, nodeBox(n, s, o).h);
      });
      return h;
    });
  }

  /* Runs of ranks that a column break may not split: in "clean" mode a break goes only
   * where at most one edge crosses; in "any" mode between every two ranks. */
  function units(prep, bands, mode, o) {
    var out = [];
    var start = 0;
    for (var r = 0; r < bands.length; r++) {
      var last = r === bands.length - 1;
      if (last || mode === "any" || prep.crossing[r] <= 1) {
        var h = 0;
        for (var q = start; q <= r; q++) {
          h += bands[q] + (q > start ? o.vgap : 0);
        }
        out.push({ first: start, last: r, height: h });
        start = r + 1;
      }
    }
    return out;
  }

  /* Columns of whole units, each at most `limit` tall, filled in order. */
  function greedy(us, limit, o) {
    var groups = [];
    var current = null;
    for (var i = 0; i < us.length; i++) {
      var u = us[i];
      if (u.height > limit + EPS) {
        return null;
      }
      if (current && current.height + o.vgap + u.height <= limit + EPS) {
        current.last = u.last;
        current.height += o.vgap + u.height;
      } else {
        current = { first: u.first, last: u.last, height: u.height };
        groups.push(current);
      }
    }
    return groups;
  }

  /* At most k columns, as even in height as greedy filling allows (the smallest
   * height limit that still needs no more than k columns, by bisection). */
  function balanced(us, k, o) {
    var lo = 0;
    var hi = 0;
    us.forEach(function (u) {
      lo = Math.max(lo, u.height);
      hi += u.height + o.vgap;
    });
    if (greedy(us, lo, o).length <= k) {
      return greedy(us, lo, o);
    }
    for (var i = 0; i < 50 && hi - lo > 0.5; i++) {
      var mid = (lo + hi) / 2;
      if (greedy(us, mid, o).length <= k) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
    return greedy(us, hi, o);
  }

  /* Columns as even as possible: at most k, none taller than `limit`; each takes units
   * until it reaches an equal share of what is left, so the longer columns come first
   * (a chain of 26 in 6 columns: 5 5 4 4 4 4, not 5 5 5 5 5 1; of 10 in 4: 3 3 2 2). */
  function even(us, k, limit, o) {
    var groups = [];
    var i = 0;
    function heightOf(a, b) {
      var h = 0;
      for (var q = a; q < b; q++) {
        h += us[q].height + (q > a ? o.vgap : 0);
      }
      return h;
    }
    while (i < us.length) {
      var left = k - groups.length;
      var target = (heightOf(i, us.length) - (left - 1) * o.vgap) / left;
      var j = i + 1;
      var h = us[i].height;
      while (j < us.length) {
        var more = h + o.vgap + us[j].height;
        if (more > limit + EPS) {
          break;
        }
        var rest = greedy(us.slice(j), limit, o);
        var mustTake = left <= 1 || rest.length > left - 1;
        if (!mustTake && h >= target - EPS) {
          break;
        }
        h = more;
        j += 1;
      }
      groups.push({ first: us[i].first, last: us[j - 1].last, height: h });
      i = j;
    }
    return groups;
  }

  /* The horizontal extent of one column: its lane width and where its items reach. */
  function columnGeometry(prep, group, s, o) {
    var widest = 0;
    for (var r = group.first; r <= group.last; r++) {
      prep.ranks[r].nodes.forEach(function (n) {
        widest = Math.max(widest, nodeBox(n, s, o).w);
      });
    }
    var lane = widest + o.hgap;
    var left = Infinity;
    var right = -Infinity;
    for (r = group.first; r <= group.last; r++) {
      prep.ranks[r].nodes.forEach(function (n) {
        var half = nodeBox(n, s, o).w / 2;
        left = Math.min(left, n.x * lane - half);
        right = Math.max(right, n.x * lane + half);
      });
      prep.ranks[r].dummies.forEach(function (x) {
        left = Math.min(left, x * lane - 2);
        right = Math.max(right, x * lane + 2);
      });
    }
    if (left === Infinity) {
      left = 0;
      right = 0;
    }
    return { lane: lane, left: left, width: right - left };
  }

  function drawingSize(prep, groups, s, o) {
    var width = 2 * o.margin + o.colGap * (groups.length - 1);
    var height = 0;
    groups.forEach(function (g) {
      width += columnGeometry(prep, g, s, o).width;
      height = Math.max(height, g.height);
    });
    return { width: width, height: height + 2 * o.margin };
  }

  /* The columns at scale s that fit the viewport, or null. */
  function fitAt(prep, s, mode, viewport, o) {
    var bands = bandHeights(prep, s, o);
    var us = units(prep, bands, mode, o);
    var first = greedy(us, viewport.height - 2 * o.margin, o);
    if (!first) {
      return null;
    }
    // Fewest columns first (greedy filling), spread evenly; a few more columns can
    // still be narrower when lanes differ from column to column.
    var limit = viewport.height - 2 * o.margin;
    for (var k = first.length; k <= Math.min(us.length, first.length + 3); k++) {
      var groups = even(us, k, limit, o);
      var size = drawingSize(prep, groups, s, o);
      if (size.width <= viewport.width + EPS && size.height <= viewport.height + EPS) {
        return groups;
      }
    }
    return null;
  }

  function largestScale(prep, mode, viewport, o) {
    var top = o.maxScale;
    prep.nodes.forEach(function (n) {
      top = Math.min(top, Math.floor(viewport.width / n.width), Math.floor(viewport.height / n.height));
    });
    for (var s = top; s >= 1; s--) {
      var groups = fitAt(prep, s, mode, viewport, o);
      if (groups) {
        return { scale: s, groups: groups };
      }
    }
    return null;
  }

  function tallest(h, g) {
    return Math.max(h, g.height);
  }

  /* At 1 px per sample, the columns that need the least shrinking to fit. */
  function overview(prep, mode, viewport, o) {
    var bands = bandHeights(prep, 1, o);
    var us = units(prep, bands, mode, o);
    var best = null;
    for (var k = 1; k <= us.length; k++) {
      var tight = balanced(us, k, o);
      var groups = even(us, tight.length, tight.reduce(tallest, 0), o);
      var size = drawingSize(prep, groups, 1, o);
      var zoom = Math.min(viewport.width / size.width, viewport.height / size.height);
      if (!best || zoom > best.zoom + EPS) {
        best = { zoom: zoom, groups: groups };
      }
      if (tight.length < k) {
        break; // more columns are no longer possible
      }
    }
    return best;
  }

  /* Node boxes and edge routes (layout pixels) of columns `groups` at scale s. */
  function assemble(prep, groups, s, o) {
    var bands = bandHeights(prep, s, o);
    var boxes = {};
    var rankPlace = []; // per rank: column, band top and bottom, lane geometry
    var columns = [];
    var left = o.margin;
    groups.forEach(function (g, c) {
      var geo = columnGeometry(prep, g, s, o);
      var y = o.margin;
      for (var r = g.first; r <= g.last; r++) {
        var top = y;
        var bottom = y + bands[r];
        rankPlace[r] = { column: c, top: top, bottom: bottom, lane: geo.lane, x0: left - geo.left };
        prep.ranks[r].nodes.forEach(function (n) {
          var b = nodeBox(n, s, o);
          var cx = left - geo.left + n.x * geo.lane;
          var y0 = top + (bands[r] - b.h) / 2;
          boxes[n.name] = {
            name: n.name,
            rank: n.rank,
            column: c,
            x: cx - b.w / 2,
            y: y0,
            w: b.w,
            h: b.h,
            glyph: { x: cx - b.gw / 2, y: y0 + o.label, w: b.gw, h: b.gh },
            samples: { w: n.width, h: n.height },
          };
        });
        y = bottom + o.vgap;
      }
      columns.push({ first: g.first, last: g.last, x: left, y: o.margin, w: geo.width, h: g.height });
      left += geo.width + o.colGap;
    });
    var edges = prep.edges.map(function (e) {
      return { source: e.source, target: e.target, route: route(prep, e, boxes, rankPlace, columns, o) };
    });
    return { boxes: boxes, edges: edges, columns: columns };
  }

  /* An edge's route: points, each after the first reached by a straight line ("L") or
   * an S-curve with vertical ends ("S"). It leaves the source's box at the bottom,
   * passes each rank it spans in its lane, enters the target's box at the top; across
   * a fold it runs under its column, up the gap to the next column, and over it. */
  function route(prep, e, boxes, rankPlace, columns, o) {
    var src = boxes[e.source];
    var dst = boxes[e.target];
    var points = [{ x: src.x + src.w / 2, y: src.y + src.h, kind: "M" }];
    var r0 = src.rank;
    var r1 = dst.rank;
    function go(x, yTop, r, kind) {
      var last = points[points.length - 1];
      var from = rankPlace[r - 1];
      var to = rankPlace[r];
      if (from.column === to.column) {
        points.push({ x: x, y: yTop, kind: kind });
        return;
      }
      var col = columns[from.column];
      var under = col.y + col.h + o.margin / 2;
      var gap = col.x + col.w + o.colGap / 2;
      var over = columns[to.column].y - o.margin / 2;
      points.push({ x: last.x, y: under, kind: "L" });
      points.push({ x: gap, y: under, kind: "L" });
      points.push({ x: gap, y: over, kind: "L" });
      points.push({ x: x, y: over, kind: "L" });
      points.push({ x: x, y: yTop, kind: "L" });
    }
    for (var r = r0 + 1; r < r1; r++) {
      var place = rankPlace[r];
      var lane = e.via[r - r0 - 1];
      var x = place.x0 + (lane !== undefined ? lane : prep.byName[e.source].x) * place.lane;
      go(x, place.top, r, "S");
      points.push({ x: x, y: place.bottom, kind: "L" });
    }
    go(dst.x + dst.w / 2, dst.y, r1, "S");
    return points;
  }

  /**
   * The graph folded into columns and scaled to fit a viewport.
   *
   * graph: {nodes: [{name, width, height, rank, order?, x?, labelWidth?}],
   *         edges: [{source, target, via?}] or [[source, target]]}
   *   width, height: the glyph's pixels (samples); rank, order, x: the Sugiyama
   *   layering (x in lanes; order when x is missing); labelWidth: the measured width
   *   of the node's widest label at zoom 1.
   * viewport: {width, height} in screen pixels.
   * Returns {scale, zoom, overview, mode, width, height, boxes, edges, columns}: the
   * glyphs' integer scale (px per sample at zoom 1), the zoom that fits (1, or < 1 for
   * an overview), the drawing's size at zoom 1, and per node {x, y, w, h, glyph, column}.
   */
  function fitLayout(graph, viewport, opts) {
    var o = options(opts);
    var prep = prepare(graph, o);
    var found = null;
    var mode = "clean";
    var zoom = 1;
    if (prep.nodes.length) {
      var whole = largestScale(prep, "clean", viewport, o);
      var cut = largestScale(prep, "any", viewport, o);
      // Whole blocks are worth glyphs up to a quarter smaller, not more: a block cut
      // by a fold still shows its branches side by side in each column.
      if (whole && 4 * whole.scale >= 3 * cut.scale) {
        found = whole;
      } else if (cut) {
        mode = "any";
        found = cut;
      }
      if (!found) {
        var clean = overview(prep, "clean", viewport, o);
        var any = overview(prep, "any", viewport, o);
        // Whole branches are worth a slightly smaller overview, not a much smaller one.
        var pick = clean.zoom >= 0.8 * any.zoom ? clean : any;
        mode = pick === clean ? "clean" : "any";
        found = { scale: 1, groups: pick.groups };
        zoom = Math.min(1, pick.zoom);
      }
    } else {
      found = { scale: 1, groups: [] };
    }
    var parts = assemble(prep, found.groups, found.scale, o);
    var size = drawingSize(prep, found.groups, found.scale, o);
    return {
      scale: found.scale,
      zoom: zoom,
      overview: zoom < 1,
      mode: mode,
      width: size.width,
      height: size.height,
      boxes: parts.boxes,
      edges: parts.edges,
      columns: parts.columns,
      options: o,
    };
  }

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

  /* The view after one zoom step at screen point (ax, ay), which stays put. */
  function zoomAt(layout, view, direction, ax, ay) {
    var least = layout.scale * layout.zoom;
    var p = stepPxPerSample(layout.scale * view.zoom, direction, least);
    var z = p / layout.scale;
    var k = z / view.zoom;
    return { zoom: z, panX: ax - (ax - view.panX) * k, panY: ay - (ay - view.panY) * k };
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
   * Returns {pxPerSample, labels: {slot, nameFont, qualityFont, shown},
   * nodes: {name: {left, top, width, height, glyphWidth, glyphHeight, glyphLeft,
   * glyphTop}}, edges: [{source, target, d}]}. Positions are whole pixels.
   */
  function placeView(layout, view) {
    var o = layout.options;
    var z = view.zoom;
    var p = layout.scale * z;
    var shrink = Math.min(1, z);
    var slot = Math.round(o.label * z);
    var labels = {
      slot: slot,
      nameFont: o.nameFont * shrink,
      qualityFont: o.qualityFont * shrink,
      shown: o.qualityFont * shrink >= o.minFont,
    };
    var nodes = {};
    Object.keys(layout.boxes).forEach(function (name) {
      var b = layout.boxes[name];
      var gw = Math.max(1, Math.round(b.samples.w * p));
      var gh = Math.max(1, Math.round(b.samples.h * p));
      var cx = (b.x + b.w / 2) * z + view.panX;
      var top = Math.round(b.y * z + view.panY);
      var width = Math.max(gw, Math.round(b.w * z));
      var left = Math.round(cx - width / 2);
      nodes[name] = {
        left: left,
        top: top,
        width: width,
        height: gh + 2 * slot,
        glyphWidth: gw,
        glyphHeight: gh,
        glyphLeft: Math.round(cx - gw / 2),
        glyphTop: top + slot,
      };
    });
    var edges = layout.edges.map(function (e) {
      return { source: e.source, target: e.target, d: pathData(e.route, view) };
    });
    return { pxPerSample: p, labels: labels, nodes: nodes, edges: edges };
  }

  return {
    DEFAULTS: DEFAULTS,
    LADDER: LADDER,
    fitLayout: fitLayout,
    fitView: fitView,
    placeView: placeView,
    stepPxPerSample: stepPxPerSample,
    zoomAt: zoomAt,
  };
});
