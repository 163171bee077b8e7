/* fracdash: which plotly.js bundle the charts load, and when.
 *
 * Dash's Graph loads plotly.js lazily from window._dashPlotlyJSURL the first time a
 * chart renders; Dash points that at plotly's full 4.8 MB bundle. The page's charts
 * (a heatmap and line charts) need only plotly's "cartesian" bundle (1.5 MB, 0.5 MB
 * compressed), vendored in assets/vendor/ (MIT, see plotly-LICENSE.txt). Pinning the
 * URL here keeps plotly out of the page's first load, so the glyphs come first. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script && script.src ? script.src.replace(/plotly-source\.js.*$/, "") : "/assets/";
  var url = base + "vendor/plotly-cartesian-4.1.1.min.js";
  Object.defineProperty(window, "_dashPlotlyJSURL", {
    configurable: false,
    get: function () {
      return url;
    },
    set: function () {
      /* Dash's renderer assigns the full bundle's URL: kept on the cartesian one. */
    },
  });
})();
