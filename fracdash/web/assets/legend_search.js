/* fracdash: the search box of a legend of many classes (fracdash/web/panels.py). Typing
 * keeps the classes whose name holds the text (any case) and the groups holding one;
 * Enter pins the best match, as a click on its legend item does (assets/fracdash.js:
 * the pin is the URL's focus); ArrowDown moves to the first class kept. The pure
 * functions first (node tests in tests/js/legend_search.test.js). */
(function (root) {
  "use strict";

  function fold(text) {
    return String(text === null || text === undefined ? "" : text).trim().toLowerCase();
  }

  /* The indices of `names` holding `query` (any case); all of them for an empty query. */
  function matching(names, query) {
    var q = fold(query);
    var out = [];
    for (var i = 0; i < names.length; i++) {
      if (!q || fold(names[i]).indexOf(q) >= 0) out.push(i);
    }
    return out;
  }

  /* The class Enter pins: the name equal to `query` as typed, else equal in any case,
   * else the first that starts with it, else the first that holds it (EMNIST's "a" and
   * "A" are two classes); null when none does or the query is empty. */
  function bestMatch(names, query) {
    var q = fold(query);
    if (!q) return null;
    var typed = String(query).trim();
    var same = null, starts = null, holds = null;
    for (var i = 0; i < names.length; i++) {
      var name = fold(names[i]);
      if (String(names[i]).trim() === typed) return i;
      if (same === null && name === q) same = i;
      if (starts === null && name.indexOf(q) === 0) starts = i;
      if (holds === null && name.indexOf(q) >= 0) holds = i;
    }
    return [same, starts, holds].filter(function (v) { return v !== null; })[0] ?? null;
  }

  var api = { matching: matching, bestMatch: bestMatch };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = api;
  }
  if (!root || !root.document) return;
  var doc = root.document;

  function searchInput(node) {
    return node && node.closest && node.closest(".fd-legend-search") && node.tagName === "INPUT"
      ? node : null;
  }

  /* The legend around a search box, its items and their names (in the items' order). */
  function legendOf(input) {
    var legend = input.closest(".fd-legend") || doc;
    var items = Array.prototype.slice.call(legend.querySelectorAll(".fd-legend-item"));
    var names = items.map(function (item) {
      var name = item.querySelector(".fd-class-name");
      return name ? name.textContent : "";
    });
    return { legend: legend, items: items, names: names };
  }

  function mark(element, hidden) {
    if (hidden) element.setAttribute("data-unmatched", "");
    else element.removeAttribute("data-unmatched");
  }

  function filter(input) {
    var found = legendOf(input);
    var kept = {};
    matching(found.names, input.value).forEach(function (i) { kept[i] = true; });
    found.items.forEach(function (item, i) { mark(item, !kept[i]); });
    found.legend.querySelectorAll(".fd-legend-group").forEach(function (group) {
      mark(group, !group.querySelector(".fd-legend-item:not([data-unmatched])"));
    });
    var box = input.closest(".fd-legend-search");
    box.setAttribute("data-matches", String(Object.keys(kept).length));
  }

  doc.addEventListener("input", function (ev) {
    var input = searchInput(ev.target);
    if (input) filter(input);
  });

  doc.addEventListener("keydown", function (ev) {
    var input = searchInput(ev.target);
    if (!input) return;
    var found = legendOf(input);
    if (ev.key === "Enter") {
      ev.preventDefault();
      var k = bestMatch(found.names, input.value);
      var item = k === null ? null : found.items[k];
      // A click pins (assets/fracdash.js); a class pinned already stays pinned.
      if (item && item.getAttribute("aria-pressed") !== "true") item.click();
    } else if (ev.key === "ArrowDown") {
      var first = found.items.filter(function (e) { return !e.hasAttribute("data-unmatched"); })[0];
      if (first) {
        ev.preventDefault();
        first.focus();
      }
    }
  });
})(typeof window !== "undefined" ? window : globalThis);
