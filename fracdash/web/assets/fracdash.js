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

  /* The pinned class (click, Enter or Space on a legend item; again to unpin) is the
   * URL's focus (assets/url_state.js: one history entry per pin), shown while no other
   * item is hovered. A hover focuses the glyphs and writes nothing. */
  function pinned() {
    var url = window.fracdashUrl;
    return url ? url.view().focus : null;
  }

  function setFocus(k) {
    if (window.fracdashSampleView) {
      window.fracdashSampleView.setFocus(k);
    }
  }

  function markPinned() {
    var k = pinned();
    document.querySelectorAll(".fd-legend-item").forEach(function (e) {
      var on = String(k !== null && Number(e.dataset.class) === k);
      if (e.getAttribute("aria-pressed") !== on) {
        e.setAttribute("aria-pressed", on);
      }
    });
  }

  function pin(item) {
    var k = Number(item.dataset.class);
    window.fracdashUrl.set("focus", pinned() === k ? null : k);
    markPinned();
    setFocus(pinned());
  }

  /* Back, Forward or the page opening: the URL's pinned class. */
  window.addEventListener("fracdash:url", function (ev) {
    markPinned();
    setFocus(ev.detail.focus);
  });

  document.addEventListener("mouseover", function (ev) {
    var item = legendItem(ev.target);
    if (item && !item.contains(ev.relatedTarget)) {
      setFocus(Number(item.dataset.class));
    }
  });

  document.addEventListener("mouseout", function (ev) {
    var item = legendItem(ev.target);
    if (item && !item.contains(ev.relatedTarget)) {
      setFocus(pinned());
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

  /* Whole texts on hover where the toolbar may shorten them (fracdash.css): every run's
   * full name (the closed run list, the list's options) and the selection line. */
  function titleWholeTexts() {
    document.querySelectorAll(".fd-scenario").forEach(function (button) {
      var shown = button.querySelector(".dash-dropdown-value");
      var name = shown ? shown.textContent : "";
      if (button.title !== name) button.title = name;
    });
    document.querySelectorAll(".dash-dropdown-option, .fd-selection-info").forEach(function (e) {
      var text = e.textContent;
      if (e.title !== text) e.title = text;
    });
  }

  new MutationObserver(function () {
    markPinned();
    titleWholeTexts();
  }).observe(document.documentElement, {
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
