/* fracdash: the page's download links, PNG, HTML and data of the view shown. Pure, no
 * DOM (node tests: tests/js/export_links.test.js); assets/url_state.js, the URL's one
 * owner, hands them to the page's download buttons whenever the view changes.
 *
 * A link carries the view in the URL's own words, so that the export routes
 * (fracdash/web/export_routes.py) read it as the page does: the curve always (the
 * export's own default may differ), the PNG's coloring, simplify; while comparing, the
 * second run and the re-pairing; and for the PNG and HTML, the selection (?sel=, the
 * rule of assets/samples.js) and the coloring by correctness (labels=correctness, with
 * a second run only: it colors by right or wrong in both). A comparison's selection
 * ("diff", "moved", a brush in the second graph) goes only where a second run does. */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.fracdashExportLinks = api;
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  /* The selections that select only while two runs are compared. */
  function comparing(sel) {
    return sel === "diff" || sel === "moved" || /^brush-b:/.test(sel);
  }

  /* What the PNG and HTML draw over the glyphs: the coloring by correctness and the
   * selection, as query parts. */
  function marks(view) {
    var out = [];
    if (view.vs && view.labels === "correctness") out.push("labels=correctness");
    if (view.sel && (view.vs || !comparing(view.sel))) {
      out.push("sel=" + encodeURIComponent(view.sel));
    }
    return out;
  }

  /* The download links of a view [png, html, csv], beside the page at `pathname`. */
  function links(view, pathname) {
    var base = (pathname || "/").replace(/[^/]*$/, "");
    var name = encodeURIComponent(view.run || "");
    var curve = "curve=" + (view.curve || "compact");
    var simple = view.simplify ? ["simplify=1"] : [];
    var versus = view.vs ? ["vs=" + encodeURIComponent(view.vs)] : [];
    if (view.vs && view.pair) versus.push("pair=" + encodeURIComponent(view.pair));
    var png = (view.coloring === "relative" ? ["coloring=relative"] : []).concat(curve, simple);
    var drawn = versus.concat(marks(view));
    return [
      base + "export/" + name + ".png?" + png.concat(drawn).join("&"),
      base + "export/" + name + ".html?" + [curve].concat(simple, drawn).join("&"),
      base + "export/" + name + ".csv?" + [curve].concat(versus).join("&"),
    ];
  }

  return { links: links, marks: marks };
});
