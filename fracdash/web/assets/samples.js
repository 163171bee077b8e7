/* fracdash: following samples through every glyph. Pure functions, no DOM (node tests:
 * assets/tests/samples.test.js); assets/sample_view.js wires them to the page.
 *
 * A run's sample data (GET /samples/<run>.json, fracdash/web/samples.py) becomes a
 * model: per sample its true and predicted class; the grid cell of each rank on the
 * curve (the same for every layer); per layer its VAT order (rank -> sample) and,
 * built on first use, its inverse (sample -> rank). With these, a pixel names a sample,
 * a sample has a pixel in every glyph, a rectangle or a confusion cell is a set of
 * samples (a mask of n bytes), and a glyph can be painted in the browser under any
 * labels, coloring, class focus and selection, as the server's PNGs are. */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.fracdashSamples = api;
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  /* Unselected pixels keep this share of their color while a selection is shown. */
  var DIM = 0.22;

  function bytesOf(b64) {
    if (typeof atob === "function") {
      var text = atob(b64);
      var out = new Uint8Array(text.length);
      for (var i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
      return out;
    }
    return new Uint8Array(Buffer.from(b64, "base64"));
  }

  function typed(b64, Type) {
    var bytes = bytesOf(b64);
    return new Type(bytes.buffer, bytes.byteOffset, bytes.byteLength / Type.BYTES_PER_ELEMENT);
  }

  /* The payload as typed arrays, plus the inverse of the rank -> cell map. */
  function decode(payload) {
    var p = payload;
    var OrderType = p.orderType === "uint32" ? Uint32Array : Uint16Array;
    var slots = typed(p.slots, Uint32Array);
    var cellRank = new Int32Array(p.width * p.height).fill(-1);
    for (var r = 0; r < slots.length; r++) cellRank[slots[r]] = r;
    var layers = {};
    Object.keys(p.layers).forEach(function (name) {
      layers[name] = { order: typed(p.layers[name].order, OrderType), rankOf: null,
                       quality: p.layers[name].quality };
    });
    return {
      run: p.run, n: p.n, width: p.width, height: p.height, curve: p.curve,
      classNames: p.classNames, colors: p.colors, thumbs: p.thumbs,
      labels: typed(p.labels, Uint16Array), predictions: typed(p.predictions, Uint16Array),
      slots: slots, cellRank: cellRank, layers: layers,
    };
  }

  function rankOf(model, layer) {
    var l = model.layers[layer];
    if (!l.rankOf) {
      l.rankOf = new Int32Array(model.n);
      for (var r = 0; r < l.order.length; r++) l.rankOf[l.order[r]] = r;
    }
    return l.rankOf;
  }

  /* The sample at grid cell (x, y) of a layer's glyph: {sample, rank}, or null for an
   * empty cell or a point off the grid. */
  function sampleAt(model, layer, x, y) {
    if (!model.layers[layer] || x < 0 || y < 0 || x >= model.width || y >= model.height) {
      return null;
    }
    var rank = model.cellRank[y * model.width + x];
    return rank < 0 ? null : { sample: model.layers[layer].order[rank], rank: rank };
  }

  /* The grid cell {x, y, rank} where a sample sits in a layer's glyph. */
  function cellOf(model, layer, sample) {
    var rank = rankOf(model, layer)[sample];
    var cell = model.slots[rank];
    return { x: cell % model.width, y: Math.floor(cell / model.width), rank: rank };
  }

  /* Masks (Uint8Array of n, 1 = selected). */
  function rectMask(model, layer, x0, y0, x1, y1) {
    var mask = new Uint8Array(model.n);
    var xa = Math.max(0, Math.min(x0, x1)), xb = Math.min(model.width - 1, Math.max(x0, x1));
    var ya = Math.max(0, Math.min(y0, y1)), yb = Math.min(model.height - 1, Math.max(y0, y1));
    var order = model.layers[layer].order;
    for (var y = ya; y <= yb; y++) {
      for (var x = xa; x <= xb; x++) {
        var rank = model.cellRank[y * model.width + x];
        if (rank >= 0) mask[order[rank]] = 1;
      }
    }
    return mask;
  }

  function cellMask(model, truth, predicted) {
    var mask = new Uint8Array(model.n);
    for (var i = 0; i < model.n; i++) {
      mask[i] = model.labels[i] === truth && model.predictions[i] === predicted ? 1 : 0;
    }
    return mask;
  }

  function wrongMask(model) {
    var mask = new Uint8Array(model.n);
    for (var i = 0; i < model.n; i++) mask[i] = model.labels[i] !== model.predictions[i] ? 1 : 0;
    return mask;
  }

  function count(mask) {
    var c = 0;
    for (var i = 0; i < mask.length; i++) c += mask[i];
    return c;
  }

  /* Selection cohesion (docs/method.md §6): over the selected samples' pixels, the
   * Moore neighbours that hold a selected sample, over 8·|S|. null for an empty S. */
  function cohesion(model, layer, mask) {
    var W = model.width, H = model.height, order = model.layers[layer].order;
    var inS = new Uint8Array(W * H);
    var size = 0;
    for (var r = 0; r < order.length; r++) {
      if (mask[order[r]]) {
        inS[model.slots[r]] = 1;
        size++;
      }
    }
    if (!size) return null;
    var sum = 0;
    for (var c = 0; c < inS.length; c++) {
      if (!inS[c]) continue;
      var x = c % W, y = (c - x) / W;
      for (var dy = -1; dy <= 1; dy++) {
        var yy = y + dy;
        if (yy < 0 || yy >= H) continue;
        for (var dx = -1; dx <= 1; dx++) {
          var xx = x + dx;
          if ((dx || dy) && xx >= 0 && xx < W) sum += inS[yy * W + xx];
        }
      }
    }
    return sum / (8 * size);
  }

  function rgb(hex) {
    var h = hex.replace("#", "");
    return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
  }

  /* One RGBA pixel as a little-endian 32-bit word (every browser's byte order). */
  function pack(c, f) {
    f = f === undefined ? 1 : f;
    return ((255 << 24) | (Math.round(c[2] * f) << 16) | (Math.round(c[1] * f) << 8) |
            Math.round(c[0] * f)) >>> 0;
  }

  /* A mask's samples, selected ("on") and not ("off"), listed once for all the glyphs
   * that show it. Masks are never changed once made (each selection makes a new one). */
  var listed = typeof WeakMap === "function" ? new WeakMap() : null;
  function samplesOf(mask) {
    var got = listed && listed.get(mask);
    if (got) return got;
    var on = count(mask), i, a = 0, b = 0;
    got = { on: new Int32Array(on), off: new Int32Array(mask.length - on) };
    for (i = 0; i < mask.length; i++) {
      if (mask[i]) got.on[a++] = i;
      else got.off[b++] = i;
    }
    if (listed) listed.set(mask, got);
    return got;
  }

  /* A layer's glyph under one palette as two images of 32-bit pixels, every cell in full
   * and dimmed color (empty cells the same in both): `fill(full, faded)` draws them.
   * Kept on the layer for the last palette (`key`, and `ref` an object it depends on): a
   * new selection under the same palette only picks, cell by cell, one of the two. */
  function layerImages(model, layer, key, ref, fill) {
    var l = model.layers[layer];
    if (l.images && l.images.key === key && l.images.ref === ref) return l.images;
    var size = model.width * model.height;
    var full = new Uint32Array(size), faded = new Uint32Array(size);
    fill(full, faded);
    l.images = { key: key, ref: ref, full: full, faded: faded };
    return l.images;
  }

  /* RGBA pixels `px` (width·height·4, made when not given) of a layer's glyph from its
   * two images: unselected samples (mask[s] = 0) dimmed, all in full without a mask. One
   * image copied whole, then the pixels of the fewer of the selected and the unselected
   * samples from the other (a brush of 100 samples: 100 pixels, not 10,000). */
  function compose(model, layer, images, mask, px) {
    var size = model.width * model.height;
    px = px || new Uint8ClampedArray(size * 4);
    var words = new Uint32Array(px.buffer, px.byteOffset, size);
    if (!mask) {
      words.set(images.full);
      return px;
    }
    var lists = samplesOf(mask), few = lists.on.length <= lists.off.length;
    var under = few ? images.faded : images.full, over = few ? images.full : images.faded;
    var list = few ? lists.on : lists.off, rank = rankOf(model, layer), slots = model.slots;
    words.set(under);
    for (var i = 0; i < list.length; i++) {
      var c = slots[rank[list[i]]];
      words[c] = over[c];
    }
    return px;
  }

  /* RGBA pixels (width·height·4) of a layer's glyph. opts: labels "truth" |
   * "predicted", coloring "absolute" | "relative", focus (class or null, absolute
   * only), mask (a selection, or null): unselected samples are dimmed. Written as
   * 32-bit words with precomputed colors; the palette's two images are kept (layerImages),
   * so that a brush repaints 52 glyphs of 10,000 samples in a pass over memory each. */
  function paint(model, layer, opts, out) {
    var relative = opts.coloring === "relative";
    var focus = opts.focus === null || opts.focus === undefined || relative ? null : opts.focus;
    var key = [opts.labels === "predicted" ? "predicted" : "truth", relative, focus].join("|");
    var images = layerImages(model, layer, key, model.colors, function (full, faded) {
      fillPalette(model, layer, opts.labels === "predicted", relative, focus, full, faded);
    });
    return compose(model, layer, images, opts.mask || null, out);
  }

  function fillPalette(model, layer, predicted, relative, focus, full, faded) {
    var c = model.colors, labels = predicted ? model.predictions : model.labels;
    var order = model.layers[layer].order, slots = model.slots, n = order.length;
    var empty = pack(rgb(relative ? c.relative_empty : c.empty));
    full.fill(empty);
    faded.fill(empty);
    var base = relative ? c.relative.map(rgb) : c.classes.map(rgb);
    var dim = rgb(c.focus_dim);
    var bright = [], dimmed = [];
    for (var k = 0; k < base.length; k++) {
      var color = !relative && focus !== null && k !== focus ? dim : base[k];
      bright.push(pack(color));
      dimmed.push(pack(color, DIM));
    }
    var m = base.length, r, s, key;
    for (r = 0; r < n; r++) {
      s = order[r];
      if (relative) {
        var own = labels[s];
        key = (r > 0 && labels[order[r - 1]] === own ? 1 : 0) +
              (r + 1 < n && labels[order[r + 1]] === own ? 1 : 0);
      } else {
        key = labels[s] % m;
      }
      full[slots[r]] = bright[key];
      faded[slots[r]] = dimmed[key];
    }
  }

  /* A selection as it is written in the URL (?sel=…): "wrong", "cell:T-P",
   * "brush:LAYER:X0,Y0,X1,Y1" (drawn in the second run's graph of a comparison:
   * "brush-b:…"), and a comparison's "diff" and "moved" (assets/compare.js) — the rule,
   * not the list, so links stay short. */
  function formatSelection(sel) {
    if (!sel) return "";
    if (sel.kind === "wrong" || sel.kind === "diff" || sel.kind === "moved") return sel.kind;
    if (sel.kind === "cell") return "cell:" + sel.truth + "-" + sel.predicted;
    if (sel.kind === "brush") {
      return (sel.side === "b" ? "brush-b:" : "brush:") + sel.layer + ":" + sel.rect.join(",");
    }
    return "";
  }

  function parseSelection(text) {
    if (!text) return null;
    if (text === "wrong" || text === "diff" || text === "moved") return { kind: text };
    var m = /^cell:(\d{1,4})-(\d{1,4})$/.exec(text);
    if (m) return { kind: "cell", truth: +m[1], predicted: +m[2] };
    m = /^brush(-b)?:(.+):(\d{1,5}),(\d{1,5}),(\d{1,5}),(\d{1,5})$/.exec(text);
    if (m) {
      var sel = { kind: "brush", layer: m[2], rect: [+m[3], +m[4], +m[5], +m[6]] };
      if (m[1]) sel.side = "b";
      return sel;
    }
    return null;
  }

  /* The samples of a selection rule on a model, or null when it does not apply (the
   * comparison's rules: assets/compare.js). */
  function maskOf(model, sel) {
    if (!sel || sel.side === "b") return null;
    var k = model.classNames.length;
    if (sel.kind === "wrong") return wrongMask(model);
    if (sel.kind === "cell" && sel.truth < k && sel.predicted < k) {
      return cellMask(model, sel.truth, sel.predicted);
    }
    if (sel.kind === "brush" && model.layers[sel.layer]) {
      var q = sel.rect;
      return rectMask(model, sel.layer, q[0], q[1], q[2], q[3]);
    }
    return null;
  }

  function parsePins(text, n) {
    if (!text) return [];
    return text.split(",").filter(function (t) {
      return /^\d{1,7}$/.test(t) && +t < n;
    }).map(Number).filter(function (v, i, a) {
      return a.indexOf(v) === i;
    });
  }

  return {
    DIM: DIM, decode: decode, typed: typed, rankOf: rankOf, sampleAt: sampleAt, cellOf: cellOf,
    rectMask: rectMask, cellMask: cellMask, wrongMask: wrongMask, count: count,
    cohesion: cohesion, paint: paint, rgb: rgb, pack: pack, samplesOf: samplesOf,
    layerImages: layerImages, compose: compose, formatSelection: formatSelection,
    parseSelection: parseSelection, maskOf: maskOf, parsePins: parsePins,
  };
});
