/* fracdash in the browser: recoloring swaps precomputed glyph PNGs, with no request to
 * the server; class focus (legend hover, click or keyboard pin) is drawn over them by
 * assets/sample_view.js from the run's sample data. */
(function () {
  "use strict";

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    fracdash: {
      /* Every glyph's src for a coloring ("absolute" | "relative"). */
      paint: function (coloring, variants) {
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
          return coloring === "relative" ? v.relative : v.absolute;
        });
      },
    },
  });

  function legendItem(node) {
    return node && node.closest ? node.closest(".fd-legend-item") : null;
  }

  /* The pinned class (click, Enter or Space on a legend item; again to unpin), shown
   * while no other item is hovered, and kept in the URL (?focus=k, replaced). */
  var focusParam = new URLSearchParams(window.location.search).get("focus");
  var pinned = focusParam !== null && /^\d{1,4}$/.test(focusParam) ? Number(focusParam) : null;

  /* A legend item names its store (data-focus-store) and its class (data-class). */
  function setFocus(item, k) {
    window.dash_clientside.set_props(item.dataset.focusStore, { data: k });
    if (window.fracdashSampleView) {
      window.fracdashSampleView.setFocus(k);
    }
  }

  function markPinned() {
    document.querySelectorAll(".fd-legend-item").forEach(function (e) {
      var on = String(pinned !== null && Number(e.dataset.class) === pinned);
      if (e.getAttribute("aria-pressed") !== on) {
        e.setAttribute("aria-pressed", on);
      }
    });
  }

  function pin(item) {
    var k = Number(item.dataset.class);
    pinned = pinned === k ? null : k;
    var p = new URLSearchParams(window.location.search);
    if (pinned === null) {
      p.delete("focus");
    } else {
      p.set("focus", String(pinned));
    }
    var q = p.toString();
    window.history.replaceState(window.history.state, "", window.location.pathname + (q ? "?" + q : ""));
    markPinned();
    setFocus(item, pinned);
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
      setFocus(item, pinned);
    }
  });

  document.addEventListener("click", function (ev) {
    var item = legendItem(ev.target);
    if (item) {
      pin(item);
    }
  });

  document.addEventListener("keydown", function (ev) {
    var item = legendItem(ev.target);
    if (item && (ev.key === "Enter" || ev.key === " ")) {
      ev.preventDefault();
      pin(item);
    }
  });

  new MutationObserver(markPinned).observe(document.documentElement, {
    childList: true,
    subtree: true,
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
