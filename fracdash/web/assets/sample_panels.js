/* fracdash: the panels around sample following (assets/sample_view.js): the tooltip,
 * the selection's info line and buttons, the legend's labels line, the confusion
 * matrix's cells as selections (run A's labels while comparing) and the quality chart's
 * "selection" line. Each function takes the view's state (st.model: run A's samples,
 * st.modelB: run B's while comparing); nothing here asks the server anything. */
(function () {
  "use strict";

  var THUMB = 56; // px of the tooltip's thumbnail

  /* -- controls, info line, legend line --------------------------------------------- */
  var TOGGLES = { wrong: ".fd-wrong-toggle", diff: ".fd-diff-toggle", moved: ".fd-moved-toggle" };

  function pressed(e, on) {
    if (e.getAttribute("aria-pressed") !== String(on)) e.setAttribute("aria-pressed", String(on));
  }

  function showSelection(st, S) {
    var m = st.model, C = window.fracdashCompare, versus = !!st.modelB;
    var shown = st.labels === "correctness" && !versus ? "truth" : st.labels;
    document.querySelectorAll(".fd-labels[data-labels]").forEach(function (b) {
      pressed(b, b.dataset.labels === shown);
    });
    Object.keys(TOGGLES).forEach(function (kind) {
      document.querySelectorAll(TOGGLES[kind]).forEach(function (b) {
        pressed(b, !!st.sel && st.sel.kind === kind);
      });
    });
    var info = document.querySelector(".fd-selection-info");
    if (info) {
      var text = "";
      if (st.mask) {
        var count = S.count(st.mask);
        var said = versus && C ? C.selectionText(st.sel, count, m.run) : null;
        var by = versus ? " by " + m.run : "";
        var what = st.sel.kind === "wrong" ? "misclassified"
          : st.sel.kind === "cell" ? "true " + m.classNames[st.sel.truth] + ", predicted " +
            m.classNames[st.sel.predicted] + by
          : "brushed in " + st.sel.layer + (st.sel.side === "b" ? " of " + st.modelB.run : "");
        text = (said || count.toLocaleString("en") + " selected (" + what + ")") + " · Esc clears";
      }
      if (st.pins.length) text += (text ? " · " : "") + st.pins.length + " pinned";
      if (info.textContent !== text) info.textContent = text;
      info.dataset.count = st.mask ? String(S.count(st.mask)) : "";
    }
    var legend = document.querySelector(".fd-legend-labels");
    if (shown === "correctness" && st.compare && C) {
      correctnessLegend(legend, C.CORRECTNESS, m.run, st.modelB.run);
      return;
    }
    var line = shown === "predicted" ? "pixels colored by the " +
      (versus ? "models' predicted classes" : "model's predicted class")
      : "pixels colored by the true class";
    if (legend && (legend.textContent !== line || legend.dataset.key)) {
      legend.textContent = line;
      legend.dataset.key = "";
    }
  }

  /* The legend's line for the coloring by correctness: its four colors, named. */
  function correctnessLegend(legend, K, a, b) {
    var key = "correctness|" + a + "|" + b;
    if (!legend || legend.dataset.key === key) return;
    legend.dataset.key = key;
    legend.textContent = "pixels colored by right or wrong in " + a + " (A) and " + b + " (B): ";
    K.names.forEach(function (name, i) {
      var item = document.createElement("span");
      item.className = "fd-correctness-item";
      item.dataset.code = String(i);
      item.style.whiteSpace = "nowrap";
      item.style.marginRight = "8px";
      var swatch = document.createElement("span");
      swatch.className = "fd-correctness-swatch";
      swatch.style.cssText = "display:inline-block;width:10px;height:10px;margin-right:3px;" +
        "border:1px solid #666;vertical-align:middle;background:" + K.colors[i];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(name));
      legend.appendChild(item);
      legend.appendChild(document.createTextNode(" "));
    });
  }

  /* The quality chart gains a "selection" line: the group's cohesion per layer, at the
   * x the chart gives each layer (its layout.meta.x_of_layer). */
  function drawCohesion(st, S) {
    var gd = document.querySelector("#quality-chart .js-plotly-plot");
    var P = window.Plotly;
    /* A folded chart is drawn when it is opened (its "toggle" wakes this script). */
    var folded = gd && gd.closest("details") && !gd.closest("details").open;
    if (!gd || !P || !gd.data || !gd.layout || folded || !gd.getClientRects().length) return;
    var at = gd.layout.meta && gd.layout.meta.x_of_layer;
    var old = [];
    gd.data.forEach(function (t, i) {
      if (t.name === "selection") old.push(i);
    });
    var want = st.mask && at ? S.formatSelection(st.sel) + "|" + st.model.run + "|" + st.maskId : "";
    if (gd.dataset.selection === want && (want === "") === (old.length === 0)) return;
    gd.dataset.selection = want;
    if (old.length && (!want || old.length > 1)) {
      P.deleteTraces(gd, old);
      old = [];
    }
    if (!want) return;
    var xs = [], ys = [], text = [];
    Object.keys(at).forEach(function (layer) {
      if (!st.model.layers[layer]) return;
      var c = S.cohesion(st.model, layer, st.mask);
      xs.push(at[layer]);
      ys.push(c);
      text.push(layer + "<br>selection cohesion " + (c === null ? "–" : c.toFixed(3)));
    });
    /* Branches share an x (their depth): points only, no line zigzagging between them. */
    var mode = new Set(xs).size < xs.length ? "markers" : "markers+lines";
    if (old.length) {  // one line already: new points in place (cheaper than a new trace)
      P.restyle(gd, { x: [xs], y: [ys], text: [text], mode: [mode] }, old);
      return;
    }
    P.addTraces(gd, {
      x: xs, y: ys, text: text, name: "selection", mode: mode,
      line: { color: "#111", dash: "dot" }, hovertemplate: "%{text}<extra></extra>",
    });
  }

  function tooltip() {
    var t = document.querySelector(".fd-tooltip");
    if (!t) {
      t = document.createElement("div");
      t.className = "fd-tooltip";
      t.setAttribute("role", "tooltip");
      t.innerHTML = '<canvas class="fd-thumb" width="' + THUMB + '" height="' + THUMB +
        '"></canvas><div class="fd-tip-text"></div>';
      document.body.appendChild(t);
    }
    return t;
  }

  function verdict(right) {
    return right ? ' <span class="fd-right">✓</span>' : ' <span class="fd-wrong">✗</span>';
  }

  /* The hovered sample `hit` of `layer` in the glyph of model `m` (run A's by default);
   * while comparing, both runs' predictions. */
  function showTooltip(ev, layer, hit, st, m) {
    m = m || st.model;
    var s = hit.sample, t = tooltip();
    var truth = m.labels[s], pred = m.predictions[s];
    var predicted = "<br>predicted: " + esc(m.classNames[pred]) + verdict(truth === pred);
    var b = st.modelB, a = st.model;
    if (b && a && b.n === a.n) {
      predicted = [["A", a], ["B", b]].map(function (side) {
        var p = side[1].predictions[s];
        return "<br>predicted by " + side[0] + ": " + esc(side[1].classNames[p]) +
          verdict(p === truth);
      }).join("");
    }
    t.dataset.sample = String(s);
    t.dataset.rank = String(hit.rank);
    t.dataset.run = m.run;
    t.querySelector(".fd-tip-text").innerHTML =
      "<b>sample " + s + "</b><br>true: " + esc(m.classNames[truth]) + predicted +
      "<br>rank " + (hit.rank + 1).toLocaleString("en") + " of " + m.n.toLocaleString("en") +
      " in " + esc(layer) + (b && m === b && a !== b ? " of " + esc(m.run) : "");
    var thumb = t.querySelector(".fd-thumb");
    thumb.hidden = !(m.thumbs && st.sprite);
    if (!thumb.hidden) {
      var w = m.thumbs.width, h = m.thumbs.height, cols = m.thumbs.columns;
      var ctx = thumb.getContext("2d");
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(st.sprite, (s % cols) * w, Math.floor(s / cols) * h, w, h, 0, 0, THUMB, THUMB);
    }
    t.hidden = false;
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + 220 > window.innerWidth) x = ev.clientX - 220;
    if (y + 90 > window.innerHeight) y = ev.clientY - 90;
    t.style.left = x + "px";
    t.style.top = y + "px";
  }

  function esc(text) {
    return String(text).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }

  /* A confusion-matrix cell selects its samples (a second click on it clears). */
  var hooked = new WeakSet();
  function hookConfusion(st, setSelection) {
    var gd = document.querySelector("#confusion .js-plotly-plot");
    if (!gd || !gd.on || hooked.has(gd)) return;
    hooked.add(gd);
    gd.on("plotly_click", function (data) {
      var pt = data && data.points && data.points[0];
      if (!pt || !st.model) return;
      var names = st.model.classNames;
      var truth = names.indexOf(String(pt.y)), pred = names.indexOf(String(pt.x));
      if (truth < 0 || pred < 0) return;
      var same = st.sel && st.sel.kind === "cell" && st.sel.truth === truth &&
        st.sel.predicted === pred;
      setSelection(same ? null : { kind: "cell", truth: truth, predicted: pred });
    });
  }

  window.fracdashSamplePanels = {
    showSelection: showSelection,
    drawCohesion: drawCohesion,
    showTooltip: showTooltip,
    hookConfusion: hookConfusion,
  };
})();
