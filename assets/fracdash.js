/* fracdash in the browser: recoloring and class focus swap precomputed glyph PNGs,
 * with no request to the server. */
(function () {
  "use strict";

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    fracdash: {
      /* Every glyph's src for a coloring ("absolute" | "relative") and a focused
       * class (index, or null for all). Focus applies to absolute coloring only. */
      paint: function (coloring, focus, variants) {
        var dc = window.dash_clientside;
        var outputs = dc.callback_context.outputs_list || [];
        if (outputs.length && Array.isArray(outputs[0])) {
          outputs = outputs[0];
        }
        return outputs.map(function (output) {
          var v = variants && variants[output.id.layer];
          if (!v) {
            return dc.no_update;
          }
          if (coloring === "relative") {
            return v.relative;
          }
          if (focus === null || focus === undefined) {
            return v.absolute;
          }
          return v.focus[focus] || v.absolute;
        });
      },
    },
  });

  function legendItem(node) {
    return node && node.closest ? node.closest(".fd-legend-item") : null;
  }

  /* A legend item names its store (data-focus-store) and its class (data-class). */
  function setFocus(item, k) {
    window.dash_clientside.set_props(item.dataset.focusStore, { data: k });
  }

  document.addEventListener("mouseover", function (ev) {
    var item = legendItem(ev.target);
    if (item && !item.contains(ev.relatedTarget)) {
      setFocus(item, Number(item.dataset.class));
    }
  });

  document.addEventListener("mouseout", function (ev) {
    var item = legendItem(ev.target);
    if (item && !item.contains(ev.relatedTarget)) {
      setFocus(item, null);
    }
  });

  /* Escape, or a click on the dimmed backdrop, closes the zoom panel. */
  function closeZoom(panel) {
    var button = panel && panel.querySelector(".fd-zoom-close");
    if (button && !panel.hidden) {
      button.click();
    }
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") {
      closeZoom(document.querySelector(".fd-zoom"));
    }
  });
  document.addEventListener("click", function (ev) {
    if (ev.target.classList && ev.target.classList.contains("fd-zoom")) {
      closeZoom(ev.target);
    }
  });
})();
