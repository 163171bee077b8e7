/* fracdash: two runs on the same samples, compared in the browser. Pure functions, no
 * DOM (node tests: tests/js/compare.test.js); assets/sample_view.js wires them to the
 * page's two graphs.
 *
 * A comparison's per-sample data (GET /compare/<A>/<B>.json, fracdash/web/compare_data.py)
 * becomes typed arrays: each sample's correctness code (0 both right, 1 only A right,
 * 2 only B right, 3 both wrong), its mean curve agreement over the matched layer pairs,
 * and the "changed most" samples. With the two runs' sample models (assets/samples.js)
 * the selections "classified differently" (diff) and "changed most" (moved) are masks
 * of n bytes, and a glyph can be painted by correctness. */
(function (root, factory) {
  "use strict";
  /* assets/samples.js, found when first needed (the page loads it after this file). */
  var api = factory(function () {
    return typeof module === "object" && module.exports ? require("./samples.js")
      : root.fracdashSamples;
  });
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.fracdashCompare = api;
  }
})(typeof self !== "undefined" ? self : this, function (samples) {
  "use strict";

  /* The correctness codes' names and colors, in code order (the legend names them). */
  var CORRECTNESS = {
    names: ["both right", "only A right", "only B right", "both wrong"],
    colors: ["#d9d9d9", "#0072b2", "#e69f00", "#cc0033"],
  };
  var DIM = 0.22; // as assets/samples.js: unselected pixels keep this share of their color

  function typed(b64, Type) {
    return samples().typed(b64 || "", Type);
  }

  /* The JSON of GET /compare/<A>/<B>.json as typed arrays; throws a one-line error when
   * its arrays do not hold n samples. */
  function decode(payload) {
    var p = payload, n = p.n;
    var correctness = typed(p.correctness, Int8Array);
    var agreement = typed(p.agreement, Float32Array);
    var moved = Uint32Array.from(p.moved || []);
    if (correctness.length !== n || agreement.length !== n) {
      throw new Error("the comparison of " + p.run_a + " with " + p.run_b + " holds " +
                      correctness.length + " correctness codes and " + agreement.length +
                      " agreements for " + n + " samples; reload the page");
    }
    return {
      runA: p.run_a, runB: p.run_b, n: n, pairing: p.pairing, pairs: p.pairs || [],
      notes: p.notes || [], correctness: correctness, agreement: agreement, moved: moved,
    };
  }

  /* Each sample's code from the true labels and both runs' predictions. */
  function correctnessOf(labels, predA, predB) {
    var codes = new Int8Array(labels.length);
    for (var i = 0; i < labels.length; i++) {
      var a = predA[i] === labels[i], b = predB[i] === labels[i];
      codes[i] = a && b ? 0 : a ? 1 : b ? 2 : 3;
    }
    return codes;
  }

  /* The "changed most" samples: the m = max(10, ceil(n/100)) (at most n) lowest mean
   * agreements, ties to the lower index; sorted by index. */
  function changedMost(agreement) {
    var n = agreement.length;
    var m = Math.min(n, Math.max(10, Math.ceil(n / 100)));
    var idx = new Uint32Array(n);
    for (var i = 0; i < n; i++) idx[i] = i;
    var by = Array.prototype.slice.call(idx).sort(function (x, y) {
      return agreement[x] - agreement[y] || x - y;
    });
    return Uint32Array.from(by.slice(0, m)).sort();
  }

  /* Masks (Uint8Array of n, 1 = selected). */
  function diffMask(a, b) {
    if (!a || !b || a.n !== b.n) return null;
    var mask = new Uint8Array(a.n);
    for (var i = 0; i < a.n; i++) mask[i] = a.predictions[i] !== b.predictions[i] ? 1 : 0;
    return mask;
  }

  function listMask(n, list) {
    var mask = new Uint8Array(n);
    for (var i = 0; i < list.length; i++) if (list[i] < n) mask[list[i]] = 1;
    return mask;
  }

  /* The samples of a selection rule while two runs are shown: a, b their sample models
   * (b null when one run is shown), compare the decoded comparison (or null), S
   * assets/samples.js. Misclassified and confusion cells are run A's; a brush is the
   * graph's it was drawn in. null when the rule does not apply (yet). */
  function maskOf(S, a, b, compare, sel) {
    if (!sel || !a) return null;
    if (sel.kind === "diff") return diffMask(a, b);
    if (sel.kind === "moved") {
      return b && compare && compare.n === a.n ? listMask(a.n, compare.moved) : null;
    }
    if (sel.kind === "brush" && sel.side === "b") {
      if (!b || b.n !== a.n || !b.layers[sel.layer]) return null;
      var q = sel.rect;
      return S.rectMask(b, sel.layer, q[0], q[1], q[2], q[3]);
    }
    return S.maskOf(a, sel);
  }

  /* Whether a rule waits for a comparison's data (the second run's, or the JSON's). */
  function needsComparison(sel) {
    return !!sel && (sel.kind === "diff" || sel.kind === "moved" || sel.side === "b");
  }

  function rgb(hex) {
    var h = hex.replace("#", "");
    return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
  }

  function pack(c, f) {
    return ((255 << 24) | (Math.round(c[2] * f) << 16) | (Math.round(c[1] * f) << 8) |
            Math.round(c[0] * f)) >>> 0;
  }

  /* RGBA pixels (width·height·4) of a layer's glyph, each sample in its correctness
   * code's color, unselected samples dimmed when `mask` is given. The two images of the
   * codes (full and dimmed) are kept on the layer (assets/samples.js layerImages). */
  function paintCorrectness(model, layer, codes, mask, out) {
    var S = samples();
    var images = S.layerImages(model, layer, "correctness", codes, function (full, faded) {
      var empty = pack(rgb(model.colors.empty), 1);
      full.fill(empty);
      faded.fill(empty);
      var colors = CORRECTNESS.colors.map(rgb);
      var bright = colors.map(function (c) {
        return pack(c, 1);
      });
      var dimmed = colors.map(function (c) {
        return pack(c, DIM);
      });
      var order = model.layers[layer].order, slots = model.slots;
      for (var r = 0; r < order.length; r++) {
        var k = codes[order[r]] & 3;
        full[slots[r]] = bright[k];
        faded[slots[r]] = dimmed[k];
      }
    });
    return S.compose(model, layer, images, mask || null, out);
  }

  /* The info line's words for a selection of `count` samples while comparing. */
  function selectionText(sel, count, runA) {
    var many = count.toLocaleString("en");
    if (sel.kind === "diff") return many + " classified differently";
    if (sel.kind === "moved") return many + " changed most";
    var of = runA ? " by " + runA : "";
    if (sel.kind === "wrong") return many + " selected (misclassified" + of + ")";
    return null; // the single-run wording (assets/sample_panels.js)
  }

  return {
    CORRECTNESS: CORRECTNESS, DIM: DIM, decode: decode, correctnessOf: correctnessOf,
    changedMost: changedMost, diffMask: diffMask, listMask: listMask, maskOf: maskOf,
    needsComparison: needsComparison, paintCorrectness: paintCorrectness,
    selectionText: selectionText,
  };
});
