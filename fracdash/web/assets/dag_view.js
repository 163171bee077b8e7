/* fracdash: places the layer graph in its box, at the scale that fills the window.
 *
 * The server renders one .fd-node per layer (name, glyph, quality) inside a
 * .fd-dag-canvas whose data-graph holds the layered graph and its candidate folds as
 * JSON (see fracdash/web/dag.py). This script measures the labels and the box, asks
 * fracdashFit (assets/dag_fit.js, pure) for the fold and the scale that give the
 * largest glyphs (devicePixelRatio-aware), then positions the nodes and draws the
 * edges as SVG paths (views: fracdashZoom, assets/dag_zoom.js). It refits whenever
 * the graph or the box changes (a new run, the simplified network, a resized window,
 * the charts panel opened); the wheel zooms at the pointer, a drag moves the graph, a
 * double-click on the background or the "fit" button shows it whole, "crisp" goes to
 * whole screen pixels per sample; the current scale is shown beside them.
 *
 * It only sets inline positions, sizes and CSS variables, and adds an SVG inside the
 * empty .fd-edges: props Dash never sets, so Dash's own updates (a new glyph src on
 * recoloring) leave them alone. */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var WHEEL_STEP = 50; // wheel delta (px) per zoom step; trackpads send many small ones
  var DRAG_SLOP = 4; // px a press may move and still be a click
  var fit = null; // fracdashFit and fracdashZoom (assets/dag_fit.js, dag_zoom.js) in one
  var states = new WeakMap(); // canvas -> {text, layout, view, paths}
  var observed = new WeakSet(); // boxes watched for resizing
  var pending = false;
  var measureContext = null;

  function boxOf(canvas) {
    return canvas.parentElement;
  }

  function dpr() {
    return window.devicePixelRatio || 1;
  }

  function viewportOf(canvas) {
    var box = boxOf(canvas);
    return { width: box.clientWidth, height: box.clientHeight };
  }

  /* Width of each node's widest label at zoom 1, as the page's font draws it. */
  function labelWidths(graph) {
    if (!measureContext) {
      measureContext = document.createElement("canvas").getContext("2d");
    }
    var family = getComputedStyle(document.body).fontFamily;
    var d = fit.DEFAULTS;
    graph.nodes.forEach(function (n) {
      measureContext.font = "600 " + d.nameFont + "px " + family;
      var name = measureContext.measureText(n.name).width;
      measureContext.font = d.qualityFont + "px " + family;
      var quality = measureContext.measureText(Number(n.quality).toFixed(3)).width;
      n.labelWidth = Math.ceil(Math.max(name, quality)) + 6;
    });
    return graph;
  }

  function edgeLayer(canvas, st) {
    var holder = canvas.querySelector(".fd-edges");
    var svg = holder.querySelector("svg");
    if (!svg || !st.paths) {
      holder.textContent = "";
      svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("class", "fd-edges-svg");
      st.paths = st.layout.edges.map(function (e) {
        var path = document.createElementNS(SVG, "path");
        path.setAttribute("class", "fd-edge");
        path.setAttribute("data-source", e.source);
        path.setAttribute("data-target", e.target);
        svg.appendChild(path);
        return path;
      });
      holder.appendChild(svg);
    }
    return st.paths;
  }

  /* Positions every node and edge for the state's view. */
  function apply(canvas, st) {
    var placed = fit.placeView(st.layout, st.view, dpr());
    var labels = placed.labels;
    canvas.style.setProperty("--fd-slot", labels.slot + "px");
    canvas.style.setProperty("--fd-name-font", labels.nameFont.toFixed(2) + "px");
    canvas.style.setProperty("--fd-quality-font", labels.qualityFont.toFixed(2) + "px");
    canvas.dataset.labels = labels.shown ? "shown" : "hidden";
    canvas.querySelectorAll(".fd-node").forEach(function (node) {
      var p = placed.nodes[node.dataset.layer];
      var img = node.querySelector("img.fd-glyph");
      if (!p || !img) {
        return;
      }
      node.dataset.column = String(st.layout.boxes[node.dataset.layer].column);
      node.style.left = p.left + "px";
      node.style.top = p.top + "px";
      node.style.width = p.width + "px";
      node.style.height = p.height + "px";
      /* The image and the layers over it (assets/sample_view.js draws them). */
      node.querySelectorAll("img.fd-glyph, .fd-glyph-layer").forEach(function (e) {
        e.style.left = p.glyphLeft - p.left + "px";
        e.style.top = p.glyphTop - p.top + "px";
        e.style.width = p.glyphWidth + "px";
        e.style.height = p.glyphHeight + "px";
      });
    });
    var paths = edgeLayer(canvas, st);
    placed.edges.forEach(function (e, i) {
      paths[i].setAttribute("d", e.d);
    });
    canvas.dataset.scale = String(st.layout.scale);
    canvas.dataset.zoom = st.view.zoom.toFixed(4);
    canvas.dataset.pxPerSample = placed.pxPerSample.toFixed(4);
    canvas.dataset.mode = st.layout.mode;
    canvas.dataset.columns = String(st.layout.columns.length);
    canvas.dataset.crisp = placed.crisp ? "true" : "false";
    var shown = canvas.querySelector(".fd-scale");
    if (shown) {
      shown.textContent = fit.scaleText(placed.pxPerSample);
    }
    canvas.setAttribute("data-laid-out", "");
  }

  /* Zoom and pan live in the URL too (?zoom=&x=&y=; assets/url_state.js owns it), so
   * that a copied link opens at the same place and Back steps back through them: the
   * view shown is the URL's, or the whole graph when it says none. One wheel turn or
   * one drag is one history entry (a gesture: its later frames replace that entry). */
  function readUrlView() {
    var v = window.fracdashUrl ? window.fracdashUrl.view() : {};
    return v.zoom ? { zoom: v.zoom, panX: v.x, panY: v.y } : null;
  }

  /* Writes the view (null: the whole graph) and returns it as the URL holds it. */
  function writeUrlView(view, gesture) {
    var at = view ? { zoom: view.zoom, x: view.panX, y: view.panY }
                  : { zoom: null, x: null, y: null };
    window.fracdashUrl.setMany(at, gesture);
    return view ? readUrlView() || view : null;
  }

  var gestures = 0; // a new token per drag and per wheel turn
  var wheelAt = 0; // when the last wheel step was taken (ms)
  var WHEEL_TURN_MS = 500; // wheel steps closer than this are one turn

  /* Back or Forward: each graph at the URL's view. */
  window.addEventListener("fracdash:url", function () {
    document.querySelectorAll(".fd-dag-canvas").forEach(function (canvas) {
      var st = states.get(canvas);
      if (!st) return;
      var want = readUrlView() || fit.fitView(st.layout, viewportOf(canvas));
      var v = st.view;
      if (want.zoom !== v.zoom || want.panX !== v.panX || want.panY !== v.panY) {
        st.view = want;
        apply(canvas, st);
      }
    });
  });

  /* Fits the canvas's graph to its box, from scratch. */
  function layOut(canvas) {
    var viewport = viewportOf(canvas);
    var text = canvas.dataset.graph;
    if (!text || viewport.width <= 0 || viewport.height <= 0) {
      return;
    }
    var layout = fit.fitLayout(labelWidths(JSON.parse(text)), viewport, { dpr: dpr() });
    var view = readUrlView() || fit.fitView(layout, viewport);
    var st = { text: text, layout: layout, view: view, paths: null };
    st.size = viewport.width + "x" + viewport.height + "@" + dpr();
    states.set(canvas, st);
    apply(canvas, st);
  }

  function refresh() {
    pending = false;
    if (!window.fracdashFit || !window.fracdashZoom) {
      return;
    }
    fit = fit || Object.assign({}, window.fracdashFit, window.fracdashZoom);
    document.querySelectorAll(".fd-dag-canvas").forEach(function (canvas) {
      var box = boxOf(canvas);
      if (box && !observed.has(box) && window.ResizeObserver) {
        observed.add(box);
        new ResizeObserver(schedule).observe(box);
      }
      var st = states.get(canvas);
      var v = viewportOf(canvas);
      if (!st || st.text !== canvas.dataset.graph || st.size !== v.width + "x" + v.height + "@" + dpr()) {
        layOut(canvas);
      } else if (!canvas.querySelector(".fd-edges svg") || unplaced(canvas)) {
        st.paths = null; // Dash re-rendered part of the graph: place it again
        apply(canvas, st);
      }
    });
  }

  function unplaced(canvas) {
    var nodes = canvas.querySelectorAll(".fd-node");
    for (var i = 0; i < nodes.length; i++) {
      if (!nodes[i].style.left) {
        return true;
      }
    }
    return false;
  }

  function schedule() {
    if (!pending) {
      pending = true;
      window.requestAnimationFrame(refresh);
    }
  }

  function canvasAt(target) {
    var box = target && target.closest ? target.closest(".fd-dag") : null;
    var canvas = box ? box.querySelector(".fd-dag-canvas") : null;
    return canvas && states.has(canvas) ? canvas : null;
  }

  function setView(canvas, view, gesture) {
    var st = states.get(canvas);
    st.view = writeUrlView(view, gesture);
    apply(canvas, st);
  }

  function showWhole(canvas) {
    var st = states.get(canvas);
    writeUrlView(null); // the whole graph is the default: nothing to say in the URL
    st.view = fit.fitView(st.layout, viewportOf(canvas));
    apply(canvas, st);
  }

  /* Wheel: one zoom step per notch, at the pointer. */
  var wheelRest = 0;
  document.addEventListener(
    "wheel",
    function (ev) {
      var canvas = canvasAt(ev.target);
      if (!canvas) {
        return;
      }
      ev.preventDefault(); // the page itself never scrolls
      var unit = ev.deltaMode === 1 ? 16 : ev.deltaMode === 2 ? 400 : 1;
      wheelRest += ev.deltaY * unit;
      if (Math.abs(wheelRest) < WHEEL_STEP) {
        return;
      }
      var direction = wheelRest < 0 ? 1 : -1;
      wheelRest = 0;
      var st = states.get(canvas);
      if (ev.timeStamp - wheelAt > WHEEL_TURN_MS) gestures += 1;
      wheelAt = ev.timeStamp;
      var rect = boxOf(canvas).getBoundingClientRect();
      var x = ev.clientX - rect.left - boxOf(canvas).clientLeft;
      var y = ev.clientY - rect.top - boxOf(canvas).clientTop;
      setView(canvas, fit.zoomAt(st.layout, st.view, direction, x, y), "wheel:" + gestures);
    },
    { passive: false }
  );

  /* Drag: moves the graph. A press that moves less than DRAG_SLOP stays a click (a
   * click on a glyph pins a sample); after a real drag the click is swallowed. A
   * shift-drag on a glyph is a brush (assets/sample_view.js), not a move. */
  var drag = null;
  var swallowClick = false;
  document.addEventListener("pointerdown", function (ev) {
    swallowClick = false;
    var canvas = ev.button === 0 ? canvasAt(ev.target) : null;
    if (!canvas || ev.target.closest(".fd-view-tools") || (ev.shiftKey && ev.target.closest(".fd-glyph"))) {
      return;
    }
    var view = states.get(canvas).view;
    gestures += 1;
    drag = { canvas: canvas, x: ev.clientX, y: ev.clientY, view: view, moved: false };
    drag.gesture = "drag:" + gestures;
  });
  window.addEventListener("pointermove", function (ev) {
    if (!drag) {
      return;
    }
    var dx = ev.clientX - drag.x;
    var dy = ev.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < DRAG_SLOP) {
      return;
    }
    drag.moved = true;
    boxOf(drag.canvas).classList.add("fd-dragging");
    var v = drag.view;
    setView(drag.canvas, { zoom: v.zoom, panX: v.panX + dx, panY: v.panY + dy }, drag.gesture);
  });
  window.addEventListener("pointerup", function () {
    if (drag && drag.moved) {
      swallowClick = true;
      boxOf(drag.canvas).classList.remove("fd-dragging");
      window.fracdashUrl.flush(); // the drag's last frame, in its entry now
    }
    drag = null;
  });
  window.addEventListener(
    "click",
    function (ev) {
      if (swallowClick) {
        swallowClick = false;
        ev.stopPropagation();
        ev.preventDefault();
        return;
      }
      var canvas = canvasAt(ev.target);
      if (canvas && ev.target.closest(".fd-fit")) {
        showWhole(canvas);
      } else if (canvas && ev.target.closest(".fd-crisp")) {
        var st = states.get(canvas);
        setView(canvas, fit.crispView(st.layout, st.view, viewportOf(canvas), dpr()));
      }
    },
    true
  );
  document.addEventListener("dblclick", function (ev) {
    var canvas = canvasAt(ev.target);
    if (canvas && !ev.target.closest(".fd-node, .fd-view-tools")) {
      showWhole(canvas);
    }
  });

  /* Every edge's dots start an animation and end one cycle of it every 0.8 s, each an
   * event that reached the page's React root (which listens to every event type): 100
   * dispatches in one frame, 5-10 ms, every 0.8 s. Nothing here listens to them: they
   * stop at the window. */
  ["animationstart", "animationiteration"].forEach(function (type) {
    window.addEventListener(type, function (ev) {
      var t = ev.target;
      if (t && t.classList && t.classList.contains("fd-edge")) ev.stopPropagation();
    }, true);
  });

  function start() {
    new MutationObserver(schedule).observe(document.body, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ["data-graph"],
    });
    schedule();
  }
  if (document.body) {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
