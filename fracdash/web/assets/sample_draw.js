/* fracdash: the drawing of sample following (assets/sample_view.js holds the view's
 * state and loads it). Over each glyph's image (the server's PNG, true labels) lie a
 * canvas, painted here in the browser with what the PNG cannot show (predicted labels,
 * correctness, a focused class, a selection: assets/samples.js paint, assets/compare.js
 * paintCorrectness), and a layer of marks (the hovered and the pinned samples).
 *
 * Each function takes the view (window.fracdashSampleView: state, modelOf, labels) and
 * changes only what differs from what is drawn: an overlay keeps the key of its drawing
 * (data-drawn: labels|coloring|focus|selection|mask id|comparison|run|curve), a marks
 * layer the pins and hover it shows (data-marks). A canvas is as large as its glyph's
 * grid (one pixel per cell, CSS scales it, pixelated), and its ImageData is reused. */
(function () {
  "use strict";

  var images = new WeakMap(); // overlay canvas -> its ImageData, reused

  function coloring() {
    var checked = document.querySelector("#coloring input:checked");
    return checked ? checked.value : "absolute";
  }

  /* Whether the overlays show anything: the server's PNGs show the true labels in
   * either coloring, and nothing else. */
  function drawn(view) {
    var st = view.state();
    return view.labels() !== "truth" || !!st.mask ||
      (st.focus !== null && coloring() === "absolute");
  }

  function hide(cv) {
    if (!cv.hidden) cv.hidden = true;
    if (cv.dataset.drawn) cv.dataset.drawn = "";
  }

  /* Every overlay of every graph, drawn under the view's labels, coloring, focus and
   * selection; `force`: also those whose key is unchanged (another run's data). */
  function drawGlyphs(view, force) {
    var st = view.state(), S = window.fracdashSamples, C = window.fracdashCompare;
    var lab = view.labels(), col = coloring(), show = drawn(view);
    var key = [lab, col, st.focus, S.formatSelection(st.sel), st.maskId,
               lab === "correctness" ? st.compareKey : ""].join("|");
    document.querySelectorAll("canvas.fd-overlay[data-layer]").forEach(function (cv) {
      var layer = cv.dataset.layer, m = view.modelOf(cv);
      if (!m || !m.layers[layer] || !show) {
        hide(cv);
        return;
      }
      var mine = key + "|" + m.run + "|" + m.curve;
      if (!force && cv.dataset.drawn === mine) return;
      if (cv.hidden) cv.hidden = false;
      if (cv.width !== m.width) cv.width = m.width;
      if (cv.height !== m.height) cv.height = m.height;
      var ctx = cv.getContext("2d");
      var image = images.get(cv);
      if (!image || image.width !== m.width || image.height !== m.height) {
        image = ctx.createImageData(m.width, m.height); // kept: a redraw allocates nothing
        images.set(cv, image);
      }
      if (lab === "correctness") {
        C.paintCorrectness(m, layer, st.compare.correctness, st.mask, image.data);
      } else {
        S.paint(m, layer, { labels: lab, coloring: col, focus: st.focus, mask: st.mask }, image.data);
      }
      ctx.putImageData(image, 0, 0);
      cv.dataset.drawn = mine;
    });
  }

  function mark(m, sample, layer, kind) {
    var c = window.fracdashSamples.cellOf(m, layer, sample);
    var e = document.createElement("span");
    e.className = "fd-mark fd-mark-" + kind;
    e.dataset.sample = String(sample);
    e.dataset.x = String(c.x);
    e.dataset.y = String(c.y);
    e.style.left = ((c.x + 0.5) / m.width) * 100 + "%";
    e.style.top = ((c.y + 0.5) / m.height) * 100 + "%";
    return e;
  }

  /* Marks are redrawn only where they differ from what is wanted (every DOM change
   * wakes the view's observer: it must settle). The inverse orders they read are
   * built once per run and layer (assets/samples.js rankOf). */
  function drawMarks(view) {
    var st = view.state();
    var marks = st.pins.join(",") + "|" + (st.hover ? st.hover.sample : "");
    document.querySelectorAll(".fd-marks[data-layer]").forEach(function (holder) {
      var layer = holder.dataset.layer, m = st.model ? view.modelOf(holder) : null;
      var want = m ? m.run + "|" + m.curve + "|" + marks : "";
      if (holder.dataset.marks === want) return;
      holder.dataset.marks = want;
      holder.querySelectorAll(".fd-mark").forEach(function (e) {
        e.remove();
      });
      if (!m || !m.layers[layer]) return;
      st.pins.forEach(function (s) {
        holder.appendChild(mark(m, s, layer, "pin"));
      });
      if (st.hover !== null) holder.appendChild(mark(m, st.hover.sample, layer, "hover"));
    });
  }

  window.fracdashSampleDraw = { coloring: coloring, drawGlyphs: drawGlyphs, drawMarks: drawMarks };
})();
