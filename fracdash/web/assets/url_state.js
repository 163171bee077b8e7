/* fracdash: every view setting lives in the page's URL (?run=…&coloring=…), so that a
 * copied link reproduces the view and back/forward step through view changes.
 *
 * Pure functions (parse, format) plus one clientside callback (sync) that keeps the
 * URL and the controls in step in both directions, in the browser: no request. */
(function (root) {
  "use strict";

  var COLORINGS = ["absolute", "relative"];
  var CURVES = ["compact", "paper"];
  var DEFAULTS = { coloring: "absolute", simplify: false, curve: "compact", focus: null };
  var KEPT = ["focus", "zoom", "x", "y", "labels", "sel", "pin"];

  /* The view a query string asks for; unknown or malformed values are left out (the
   * page keeps its own), so a hand-edited link never breaks the page. */
  function parse(search) {
    var params = new URLSearchParams(search || "");
    var view = {};
    var run = params.get("run");
    if (run) view.run = run;
    var coloring = params.get("coloring");
    if (COLORINGS.indexOf(coloring) >= 0) view.coloring = coloring;
    var curve = params.get("curve");
    if (CURVES.indexOf(curve) >= 0) view.curve = curve;
    var simplify = params.get("simplify");
    if (simplify === "1" || simplify === "0") view.simplify = simplify === "1";
    var focus = params.get("focus");
    if (focus !== null && /^\d{1,4}$/.test(focus)) view.focus = parseInt(focus, 10);
    return view;
  }

  /* The query string of a view: defaults are left out, keys in a fixed order. */
  function format(view) {
    var params = new URLSearchParams();
    if (view.run) params.set("run", view.run);
    if (view.coloring && view.coloring !== DEFAULTS.coloring) params.set("coloring", view.coloring);
    if (view.curve && view.curve !== DEFAULTS.curve) params.set("curve", view.curve);
    if (view.simplify) params.set("simplify", "1");
    if (view.focus !== null && view.focus !== undefined) params.set("focus", String(view.focus));
    var text = params.toString();
    return text ? "?" + text : "";
  }

  /* Controls as the view: the simplify checklist holds ["on"] when checked. */
  function viewOf(run, coloring, simplify, curve, focus) {
    return {
      run: run || null,
      coloring: coloring || DEFAULTS.coloring,
      simplify: Array.isArray(simplify) ? simplify.indexOf("on") >= 0 : !!simplify,
      curve: curve || DEFAULTS.curve,
      focus: focus === undefined ? null : focus,
    };
  }

  /* One callback, both directions. The URL changed (page load, back/forward): set the
   * controls it names. A control changed: write the URL (a new history entry). Returns
   * [search, run, coloring, simplify, curve, focus], unchanged ones as noUpdate. */
  function sync(triggered, search, run, coloring, simplify, curve, focus, noUpdate) {
    var current = viewOf(run, coloring, simplify, curve, focus);
    if (triggered === "url" && !search) {
      /* A bare URL (first visit): write the view shown, so that it can be copied. */
      var shown = format(current);
      return [shown || noUpdate, noUpdate, noUpdate, noUpdate, noUpdate, noUpdate];
    }
    if (triggered === "url") {
      /* What the URL leaves out is the default (format() omits defaults), except the run
       * and the focus, which stay as they are. */
      var asked = Object.assign(
        { coloring: DEFAULTS.coloring, simplify: DEFAULTS.simplify, curve: DEFAULTS.curve },
        parse(search)
      );
      var same = function (key) {
        return asked[key] === undefined || asked[key] === current[key];
      };
      return [
        noUpdate,
        same("run") ? noUpdate : asked.run,
        same("coloring") ? noUpdate : asked.coloring,
        same("simplify") ? noUpdate : asked.simplify ? ["on"] : [],
        same("curve") ? noUpdate : asked.curve,
        same("focus") ? noUpdate : asked.focus,
      ];
    }
    var wanted = format(current);
    /* What other scripts keep in the URL stays while the run stays: zoom and pan
     * (assets/dag_view.js), the pinned class (assets/fracdash.js), labels, selection
     * and pinned samples (assets/sample_view.js). */
    var before = new URLSearchParams(search || "");
    if (before.get("run") === current.run) {
      KEPT.forEach(function (k) {
        if (before.get(k) !== null && !(k === "focus" && wanted.indexOf("focus=") >= 0)) {
          wanted += (wanted ? "&" : "?") + k + "=" + encodeURIComponent(before.get(k));
        }
      });
    }
    var result = [wanted === (search || "") ? noUpdate : wanted];
    for (var i = 0; i < 5; i += 1) result.push(noUpdate);
    return result;
  }

  var api = { parse: parse, format: format, viewOf: viewOf, sync: sync, DEFAULTS: DEFAULTS };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = api;
  }
  if (root && root.window) {
    root.dash_clientside = Object.assign({}, root.dash_clientside);
    root.dash_clientside.fracdash_url = {
      /* Class focus is not an input: a legend hover would write history at every
       * move. A link's ?focus= still applies when the page opens. */
      sync: function (search, run, coloring, simplify, curve) {
        var dc = root.dash_clientside;
        var ctx = dc.callback_context;
        var first = ctx && ctx.triggered && ctx.triggered[0];
        var prop = first ? String(first.prop_id) : ".";
        var fromUrl = prop === "." || prop.indexOf("url.") === 0;  /* "." = page load */
        /* The address bar, not the Location prop: dag_view.js replaces zoom and pan in
         * it without Dash knowing. */
        var now = fromUrl ? search : root.location.search;
        return sync(fromUrl ? "url" : "control", now, run, coloring, simplify, curve,
                    null, dc.no_update);
      },
    };
    root.fracdashUrl = api;
  }
})(typeof window !== "undefined" ? window : globalThis);

/* The copy button's text and the download links, in the browser. */
(function (root) {
  "use strict";
  if (!root || !root.window) return;
  root.dash_clientside = Object.assign({}, root.dash_clientside);
  var url = root.dash_clientside.fracdash_url || {};
  url.href = function () {
    return root.location.href;
  };
  url.downloads = function (run, coloring, simplify, pathname) {
    var base = (pathname || "/").replace(/[^/]*$/, "");
    var name = encodeURIComponent(run || "");
    var simple = Array.isArray(simplify) && simplify.indexOf("on") >= 0 ? "simplify=1" : "";
    var png = [coloring === "relative" ? "coloring=relative" : "", simple].filter(Boolean);
    return [
      base + "export/" + name + ".png" + (png.length ? "?" + png.join("&") : ""),
      base + "export/" + name + ".html" + (simple ? "?" + simple : ""),
    ];
  };
  root.dash_clientside.fracdash_url = url;
})(typeof window !== "undefined" ? window : globalThis);
