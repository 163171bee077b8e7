/* fracdash: what the page could not load, said on the page in one line (never only in
 * the console). The run's sample data (GET /samples/<run>.json) and its thumbnails are
 * fetched by assets/sample_view.js; when one fails, or when the server says a run's
 * images cannot be made here (the payload's thumbsMissing), the line names what is
 * missing and the fix, in the banner under the controls (.fd-load-error,
 * fracdash/web/skeleton.py). The wording is pure (node tests: tests/js/). */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.fracdashLoadErrors = api;
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  var LONGEST = 300; // characters of a server's reason shown; the rest is in its log

  function oneLine(text) {
    var line = String(text || "").replace(/\s+/g, " ").trim();
    return line.length > LONGEST ? line.slice(0, LONGEST - 1) + "…" : line;
  }

  /* Why a response failed: the server's JSON {"error": ...}, else the first line of its
   * text (an HTML error page of a proxy says nothing useful: its status does). */
  function reason(status, body) {
    var text = String(body || "");
    try {
      var parsed = JSON.parse(text);
      if (parsed && typeof parsed.error === "string") return oneLine(parsed.error);
    } catch (err) {
      /* not JSON: the text itself */
    }
    if (/^\s*</.test(text)) return "";
    return oneLine(text.split("\n")[0]);
  }

  /* A failed response as an Error the fetch chain can throw: {status, reason}. */
  function failure(status, body) {
    var err = new Error("HTTP " + status);
    err.status = status;
    err.reason = reason(status, body);
    return err;
  }

  /* The line for sample data that did not load: what, the status and reason, the fix.
   * ``err`` is a failure(), or what fetch rejected with (no status: no answer). */
  function dataLine(run, err) {
    var what = "the sample data of run " + run + " could not be loaded";
    var off = "hover, pins and selections are off";
    if (!err || !err.status) {
      return what + " (the server did not answer): " + off + "; reload the page once it is back";
    }
    var why = err.reason ? err.status + ": " + err.reason : "HTTP " + err.status;
    var fix = err.reason ? "" : "; reload the page, or see the server's log";
    return what + " (" + why + "): " + off + fix;
  }

  /* The line for a run whose images the server cannot show (thumbsMissing). */
  function imagesLine(run, missing) {
    return "run " + run + " shows no images on hover: " + oneLine(missing);
  }

  /* The line for a thumbnail sprite that did not load (an image gives no status). */
  function spriteLine(run) {
    return "the images of run " + run + " could not be loaded: hover shows no image;" +
      " reload the page, or see the server's log";
  }

  /* Show ``line`` in the banner, or hide it (null). Touches the page only on a change:
   * assets/sample_view.js watches the page for changes. */
  function show(line) {
    var el = typeof document !== "undefined" ? document.querySelector(".fd-load-error") : null;
    if (!el) return;
    var text = line || "";
    if (el.textContent !== text) el.textContent = text;
    if (el.hidden !== !text) el.hidden = !text;
  }

  return {
    reason: reason, failure: failure, dataLine: dataLine, imagesLine: imagesLine,
    spriteLine: spriteLine, show: show,
  };
});
