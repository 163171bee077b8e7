/* fracdash: the tab's title names the run and the view shown
 * ("fracdash · easy-300 · relative · paper"), so that tabs, bookmarks and the history
 * list tell views apart. Set by a clientside callback on the Dash controls
 * (fracdash/web/callbacks/title.py): the same controls assets/url_state.js, the URL's
 * one owner, writes into the address. The pure function first (node tests in
 * tests/js/page_title.test.js). */
(function (root) {
  "use strict";

  var APP = "fracdash";

  /* The title of a view {run, coloring, curve, simplify}: the app, the run (when one is
   * named), the coloring and the curve, "simplified" when the network is. */
  function pageTitle(view) {
    var v = view || {};
    var parts = [APP];
    if (v.run) parts.push(String(v.run));
    parts.push(v.coloring || "absolute", v.curve || "compact");
    if (v.simplify) parts.push("simplified");
    return parts.join(" · ");
  }

  /* The Dash controls as a view: the simplify checklist holds ["on"] when checked. */
  function viewOf(run, coloring, simplify, curve) {
    return {
      run: run || null,
      coloring: coloring,
      curve: curve,
      simplify: Array.isArray(simplify) ? simplify.indexOf("on") >= 0 : !!simplify,
    };
  }

  var api = { pageTitle: pageTitle, viewOf: viewOf };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = api;
  }
  if (root && root.document) {
    root.dash_clientside = Object.assign({}, root.dash_clientside, {
      fracdash_title: {
        /* The controls callback: the document's title, nothing returned. */
        update: function (run, coloring, simplify, curve) {
          var title = pageTitle(viewOf(run, coloring, simplify, curve));
          if (root.document.title !== title) root.document.title = title;
        },
      },
    });
  }
})(typeof window !== "undefined" ? window : globalThis);
