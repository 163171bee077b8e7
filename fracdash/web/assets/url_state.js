/* fracdash: the one owner of the page's URL. Every view setting lives in it
 * (?run=…&vs=…&pair=…&coloring=…&labels=…&sel=…&pin=…&zoom=…), so that a copied link reproduces the
 * view, and every change of view is one history entry, so that Back and Forward step
 * through exactly the views that existed.
 *
 * The page's other scripts never write `history` or `location`: they call
 * fracdashUrl.set(key, value) (setMany for one gesture changing several keys) and read
 * fracdashUrl.view(). When the page opens and on Back/Forward, this module restores every
 * control from the URL, by one path: the Dash controls (run, coloring, curve, simplify,
 * and the comparison's second run `vs` and its re-pairing `pair`) through set_props, the scripts' state (labels, focus, selection, pins, zoom) through a
 * "fracdash:url" event on window whose detail is the view.
 *
 * Pure functions first (parse, format, change, links; node tests in
 * tests/js/url_state.test.js), then the history's owner, built on a window (a fake one in
 * the tests). */
(function (root) {
  "use strict";

  var COLORINGS = ["absolute", "relative"];
  var CURVES = ["compact", "paper"];
  /* Every key, in the order the URL writes them. */
  var KEYS = ["run", "vs", "pair", "coloring", "curve", "simplify", "labels", "focus", "sel",
              "pin", "zoom", "x", "y"];
  /* A key left out of the URL holds its default. */
  var DEFAULTS = {
    run: null, vs: null, pair: null, coloring: "absolute", curve: "compact", simplify: false, labels: "truth",
    focus: null, sel: null, pin: null, zoom: null, x: null, y: null,
  };
  /* What belongs to one run (class indices, samples, places): another run opens without. */
  var RUN_BOUND = ["focus", "sel", "pin", "zoom", "x", "y"];
  /* The Dash controls, in the order of the controls callback's inputs (callbacks/share.py). */
  var CONTROLS = ["run", "coloring", "simplify", "curve", "vs", "pair"];
  /* What belongs to one comparison: another run or another second run drops it. */
  var PAIR_BOUND = ["pair"];
  /* The longest re-pairing text kept ("a1:b1,a2:b2", fracdash/layer_pairs.py). */
  var PAIR_LONGEST = 4000;
  /* The event the page's scripts restore their state on. */
  var EVENT = "fracdash:url";
  /* A gesture's later frames replace its entry at most this often (ms): Chromium drops
   * history calls beyond 200 in 10 s. */
  var REPLACE_MS = 100;

  function oneOf(values) {
    return function (v) {
      return values.indexOf(v) >= 0 ? v : undefined;
    };
  }
  function matching(re) {
    return function (v) {
      return re.test(v) ? v : undefined;
    };
  }
  function numberOf(text) {
    return text === null || text.trim() === "" ? NaN : Number(text);
  }

  var READ = {
    run: function (v) {
      return v || undefined;
    },
    /* The second run of a comparison, and its layer re-pairing (the server checks both). */
    vs: function (v) {
      return v || undefined;
    },
    pair: function (v) {
      var text = v.trim();
      return text && text.length <= PAIR_LONGEST ? text : undefined;
    },
    coloring: oneOf(COLORINGS),
    curve: oneOf(CURVES),
    simplify: function (v) {
      return v === "1" ? true : v === "0" ? false : undefined;
    },
    labels: oneOf(["truth", "predicted", "correctness"]),
    focus: function (v) {
      return /^\d{1,4}$/.test(v) ? Number(v) : undefined;
    },
    /* The rules of assets/samples.js (formatSelection, parsePins); brush-b: a brush in
       the second run's graph; diff and moved: the comparison's (assets/compare.js). */
    sel: matching(
      /^(wrong|diff|moved|cell:\d{1,4}-\d{1,4}|brush(-b)?:.+:\d{1,5},\d{1,5},\d{1,5},\d{1,5})$/),
    pin: matching(/^\d{1,7}(,\d{1,7})*$/),
  };

  /* The view a query string asks for: only the keys it holds with a valid value (a
   * hand-edited link never breaks the page). zoom, x and y come together or not at all. */
  function parse(search) {
    var params = new URLSearchParams(search || "");
    var view = {};
    Object.keys(READ).forEach(function (key) {
      var text = params.get(key);
      var value = text === null ? undefined : READ[key](text);
      if (value !== undefined) view[key] = value;
    });
    var z = numberOf(params.get("zoom"));
    var x = numberOf(params.get("x"));
    var y = numberOf(params.get("y"));
    if (isFinite(z) && z > 0 && z < 1000 && isFinite(x) && isFinite(y)) {
      view.zoom = z;
      view.x = x;
      view.y = y;
    }
    return view;
  }

  function zoomed(view) {
    return [view.zoom, view.x, view.y].every(function (v) {
      return typeof v === "number" && isFinite(v);
    }) && view.zoom > 0;
  }

  var WRITE = {
    simplify: function () {
      return "1";
    },
    zoom: function (v) {
      return String(Number(v.toFixed(6)));
    },
    x: function (v) {
      return String(Math.round(v) || 0);
    },
    y: function (v) {
      return String(Math.round(v) || 0);
    },
  };

  /* The query string of a view: defaults left out, keys in a fixed order ("" for none). */
  function format(view) {
    var params = new URLSearchParams();
    var place = zoomed(view);
    KEYS.forEach(function (key) {
      var v = view[key];
      if (v === null || v === undefined || v === DEFAULTS[key]) return;
      if ((key === "zoom" || key === "x" || key === "y") && !place) return;
      params.set(key, WRITE[key] ? WRITE[key](v) : String(v));
    });
    var text = params.toString();
    return text ? "?" + text : "";
  }

  /* Every key's value, defaults filled in. */
  function full(view) {
    return Object.assign({}, DEFAULTS, view);
  }

  /* The query string after `changes` ({key: value}; null: back to the default). Only the
   * keys named change, except that another run drops what belonged to the last one, and
   * another run or second run drops the re-pairing (and a brush drawn in the last
   * second run's graph). */
  function change(search, changes) {
    var view = parse(search);
    Object.keys(changes).forEach(function (key) {
      if (KEYS.indexOf(key) < 0) {
        throw new Error("fracdashUrl: no URL key '" + key + "'; use one of " + KEYS.join(", "));
      }
    });
    var otherRun = changes.run !== undefined && changes.run !== (view.run || null);
    var otherVs = changes.vs !== undefined && changes.vs !== (view.vs || null);
    if (otherRun) {
      RUN_BOUND.forEach(function (key) {
        delete view[key];
      });
    }
    if (otherRun || otherVs) {
      PAIR_BOUND.forEach(function (key) {
        delete view[key];
      });
      if (/^brush-b:/.test(view.sel || "")) delete view.sel;
    }
    Object.keys(changes).forEach(function (key) {
      view[key] = changes[key];
    });
    return format(parse(format(view))); // what the URL cannot hold is not written
  }

  /* The Dash controls as a view: the simplify checklist holds ["on"] when checked; the
   * "compare with" dropdown holds a run's name or null, the pairing input a text. */
  function viewOf(run, coloring, simplify, curve, vs, pair) {
    return {
      run: run || null,
      coloring: coloring || DEFAULTS.coloring,
      simplify: Array.isArray(simplify) ? simplify.indexOf("on") >= 0 : !!simplify,
      curve: curve || DEFAULTS.curve,
      vs: vs || null,
      pair: (typeof pair === "string" && READ.pair(pair)) || null,
    };
  }

  /* What a Dash control is set to for a view's value. */
  function controlValue(key, want) {
    if (key === "simplify") return want ? ["on"] : [];
    if (key === "pair") return want || "";
    return want === undefined ? null : want;
  }

  /* The download links of a view [png, html, csv] (assets/export_links.js, loaded first). */
  function links(view, pathname) {
    return (typeof module === "object" && module.exports ? require("./export_links.js")
      : root.fracdashExportLinks).links(view, pathname);
  }

  /* The history's owner on window `win`. set/setMany push one entry per change of view;
   * a gesture (a token naming one drag, one wheel turn, one double-click) pushes its
   * first change and replaces that entry with the later ones, and a gesture that undoes
   * itself takes its entry back. Back/Forward and the page's opening restore(). */
  function owner(win) {
    var page = {
      started: false, ids: {}, shown: {},
      pending: null, timer: null, gesture: null, before: null, popping: null, queued: [],
      linkIds: [], hrefs: [],
    };

    function current() {
      if (page.popping !== null) return page.popping;
      return page.pending !== null ? page.pending : win.location.search;
    }
    function address(search) {
      return win.location.pathname + search + (win.location.hash || "");
    }
    function view() {
      return full(parse(current()));
    }

    /* A gesture's last replaced frame, written now. */
    function flush() {
      if (page.timer !== null) win.clearTimeout(page.timer);
      page.timer = null;
      if (page.pending !== null) {
        var search = page.pending;
        page.pending = null;
        win.history.replaceState(null, "", address(search));
      }
    }

    /* The download links of the controls shown with the URL's selection and labels;
       relink hands changed ones to the buttons (a selection moves no Dash control). */
    function hrefsOf(shown) {
      var v = view();
      return links(Object.assign({}, shown || v, { sel: v.sel, labels: v.labels }),
                   win.location.pathname);
    }
    function relink() {
      var hrefs = hrefsOf(null);
      page.linkIds.forEach(function (id, i) {
        if (hrefs[i] !== page.hrefs[i]) win.dash_clientside.set_props(id, { href: hrefs[i] });
        page.hrefs[i] = hrefs[i];
      });
    }
    function setMany(changes, gesture) {
      write(changes, gesture);
      relink();
    }

    function write(changes, gesture) {
      if (page.popping !== null) {
        page.queued.push([changes, gesture]); // written once the entry it follows is back
        return;
      }
      var now = format(parse(current()));
      var next = change(now, changes);
      var continuing = !!gesture && gesture === page.gesture;
      if (!continuing) {
        page.gesture = gesture || null;
        page.before = now;
      }
      if (next === now) return;
      if (!continuing) {
        flush();
        win.history.pushState(null, "", address(next));
      } else if (next === page.before) {
        /* The gesture came back to where it began (a double-click pins and unpins): the
           entry it pushed goes, so that Back does not land on a view that did not stay. */
        flush();
        page.gesture = null;
        page.popping = next;
        win.history.back();
      } else {
        page.pending = next;
        if (page.timer === null) page.timer = win.setTimeout(flush, REPLACE_MS);
      }
    }

    function set(key, value, gesture) {
      var changes = {};
      changes[key] = value;
      setMany(changes, gesture);
    }

    /* Every control as the URL says: Dash's through set_props (those that differ), the
       scripts' through the event. */
    function restore() {
      var v = view();
      var dc = win.dash_clientside;
      var moved = 0;
      CONTROLS.forEach(function (key) {
        var want = v[key];
        if (!page.ids[key] || (key === "run" && !want) || page.shown[key] === want) return;
        page.shown[key] = want;
        moved++;
        dc.set_props(page.ids[key], { value: controlValue(key, want) });
      });
      win.dispatchEvent(new win.CustomEvent(EVENT, { detail: v }));
      return moved;
    }

    function popped() {
      if (page.timer !== null) win.clearTimeout(page.timer);
      page.timer = null;
      page.pending = null;
      page.gesture = null;
      page.popping = null;
      if (!restore()) relink(); // a moved control: the controls callback relinks
      var queued = page.queued;
      page.queued = [];
      queued.forEach(function (q) {
        setMany(q[0], q[1]);
      });
    }

    function keyOf(propId) {
      var id = propId.slice(0, propId.lastIndexOf("."));
      for (var i = 0; i < CONTROLS.length; i++) {
        if (page.ids[CONTROLS[i]] === id) return CONTROLS[i];
      }
      return null;
    }

    /* The controls callback (callbacks/share.py): first call, the URL's view over the
       controls, normalised in place (no entry); later, the changed controls into the URL.
       Returns the download links (as many as the callback has outputs). */
    function controls(run, coloring, simplify, curve, vs, pair) {
      var ctx = (win.dash_clientside && win.dash_clientside.callback_context) || {};
      var shown = viewOf(run, coloring, simplify, curve, vs, pair);
      (ctx.inputs_list || []).forEach(function (input, i) {
        if (CONTROLS[i] && typeof input.id === "string") page.ids[CONTROLS[i]] = input.id;
      });
      if (!page.started) {
        page.started = true;
        page.shown = Object.assign({}, shown);
        var asked = parse(win.location.search);
        var opened = format(Object.assign({}, asked, { run: asked.run || shown.run }));
        if (opened !== win.location.search) win.history.replaceState(null, "", address(opened));
        restore();
      } else {
        var changes = {};
        (ctx.triggered || []).forEach(function (t) {
          var key = keyOf(String(t.prop_id));
          if (key) {
            page.shown[key] = shown[key];
            changes[key] = shown[key];
          }
        });
        if (Object.keys(changes).length) {
          write(changes);
          /* Another run or second run dropped the re-pairing: its input is emptied. */
          var now = view();
          if (page.ids.pair && changes.pair === undefined && page.shown.pair !== now.pair) {
            page.shown.pair = now.pair;
            win.dash_clientside.set_props(page.ids.pair, { value: controlValue("pair", now.pair) });
          }
        }
      }
      var outputs = ctx.outputs_list;
      if (Array.isArray(outputs)) page.linkIds = outputs.map(function (o) { return o.id; });
      var hrefs = hrefsOf(shown);
      page.hrefs = hrefs.slice();
      return Array.isArray(outputs) && outputs.length ? hrefs.slice(0, outputs.length) : hrefs;
    }

    win.addEventListener("popstate", popped);
    return {
      set: set, setMany: setMany, view: view, flush: flush, controls: controls,
      href: function () {
        flush();
        return win.location.href;
      },
    };
  }

  var api = {
    KEYS: KEYS, DEFAULTS: DEFAULTS, RUN_BOUND: RUN_BOUND, PAIR_BOUND: PAIR_BOUND,
    CONTROLS: CONTROLS, EVENT: EVENT,
    parse: parse, format: format, full: full, change: change, viewOf: viewOf, links: links,
    owner: owner,
  };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = api;
  }
  if (root && root.window && root.history) {
    var own = owner(root);
    root.fracdashUrl = Object.assign({}, api, {
      set: own.set, setMany: own.setMany, view: own.view, flush: own.flush,
    });
    root.dash_clientside = Object.assign({}, root.dash_clientside);
    root.dash_clientside.fracdash_url = { controls: own.controls, href: own.href };
  }
})(typeof window !== "undefined" ? window : globalThis);
