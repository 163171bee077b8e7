"""Hover and brush latency in headless Chromium on a stored run, or on two side by side.

    .venv/bin/python bench/interaction.py [--store DIR] [--run simplification] [--events 50]
    .venv/bin/python bench/interaction.py --compare [--store DIR] [--samples 10000]
    .venv/bin/python bench/interaction.py --run A --versus B [--store DIR]
    .venv/bin/python bench/interaction.py --compare --assets OLD/fracdash/web/assets

Serves ``app.py`` on the run (loopback), opens it at 1600x1000, waits for the sample
data, then times in the page, for ``--events`` events each:
  * hover: a mousemove over a random sample pixel of a random glyph, until the tooltip
    names that sample, every glyph's mark is placed, and the next frame is painted;
  * brush: a shift-drag (pointerdown, pointermove, pointerup) over a random rectangle
    of a random glyph, until every glyph is redrawn with the selection and the next
    frame is painted.
Counts the requests sent during the events (the goal: none). Prints median and p95 and
writes ``bench/results/interaction-*.json``. Goal: p95 <= 50 ms.

The comparison view (``?run=A&vs=B``): ``--versus B`` opens the stored run ``--run``
beside ``B``; ``--compare`` first stores two VGG16-size runs on the same ``--samples``
samples (bench/vgg_pair.py: VGG16's 26-layer graph, the same inputs and labels, SYNTHETIC
orders, random permutations, and predictions; the view's cost does not depend on what
the orders are) in ``--store`` (default: a folder under /tmp, reused) and opens those.
Timed there (bench/interaction_compare.py): hover in either graph until the tooltip
names the sample and both graphs' glyphs all hold its mark; brush in either graph until
every glyph of both is redrawn; "classified differently" switched on and off; each
with the charts' panel open (as a comparison opens it: the quality chart redraws its
selection line) and then folded; to the painted frame and to the main thread's next idle
moment ("settled"), with Chromium's CPU time per event. Writes
``bench/results/interaction-compare-*.json`` with the machine (CPU model, load average
before and after: the machine may be running other work).

Before and after a change of the page's scripts: ``--assets DIR`` serves them from DIR (a
copy of the older ``fracdash/web/assets/``, e.g. ``git archive``d), the result named
``*-assets.json``; run it and the plain bench alternately, back to back, and compare the
pairs (and ``browser_cpu_ms_per_event``, which other work on the machine inflates less).
"""

# ruff: noqa: E501  (the timed events are JavaScript, kept readable as one block)
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tools"))

from browser import ARGS, find_chromium  # noqa: E402
from page import serve  # noqa: E402

READY = (
    "() => { const s = window.fracdashSampleView && window.fracdashSampleView.state();"
    " return !!(s && s.model) && document.querySelector('.fd-dag-canvas[data-laid-out]') !== null; }"
)

# One timed event in the page: dispatch, then wait for the frame after it.
TIME_EVENTS = """async ([kind, count, seed]) => {
  let s = seed;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const frame = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  const imgs = [...document.querySelectorAll('img.fd-glyph')];
  const st = window.fracdashSampleView.state();
  const m = st.model, S = window.fracdashSamples;
  const times = [];
  for (let i = 0; i < count; i++) {
    const img = imgs[Math.floor(rand() * imgs.length)];
    const r = img.getBoundingClientRect();
    // Whole screen pixels (a MouseEvent's clientX is an integer), and the cell the page
    // itself computes for that pixel.
    const at = (x, y) => [Math.round(r.left + (x + 0.5) * r.width / m.width),
                          Math.round(r.top + (y + 0.5) * r.height / m.height)];
    const cellAt = (cx, cy) => [Math.floor((cx - r.left) / r.width * m.width),
                                Math.floor((cy - r.top) / r.height * m.height)];
    if (kind === 'hover') {
      const rank = Math.floor(rand() * m.n), cell = m.slots[rank];
      const [cx, cy] = at(cell % m.width, Math.floor(cell / m.width));
      const [hx, hy] = cellAt(cx, cy), hit = S.sampleAt(m, img.dataset.layer, hx, hy);
      if (!hit) { i--; continue; }
      const t0 = performance.now();
      img.dispatchEvent(new MouseEvent('mousemove', {clientX: cx, clientY: cy, bubbles: true}));
      await frame();
      const dt = performance.now() - t0;
      const want = String(hit.sample);
      if (document.querySelector('.fd-tooltip').dataset.sample !== want) throw new Error('hover missed');
      if (document.querySelectorAll('.fd-mark-hover').length !== imgs.length) throw new Error('marks missing');
      times.push(dt);
    } else {
      const x0 = Math.floor(rand() * m.width), y0 = Math.floor(rand() * m.height);
      const x1 = Math.min(m.width - 1, x0 + 5 + Math.floor(rand() * 30));
      const y1 = Math.min(m.height - 1, y0 + 5 + Math.floor(rand() * 30));
      const [ax, ay] = at(x0, y0), [bx, by] = at(x1, y1);
      const t0 = performance.now();
      img.dispatchEvent(new PointerEvent('pointerdown', {clientX: ax, clientY: ay, shiftKey: true, button: 0, bubbles: true}));
      window.dispatchEvent(new PointerEvent('pointermove', {clientX: bx, clientY: by, shiftKey: true, bubbles: true}));
      window.dispatchEvent(new PointerEvent('pointerup', {clientX: bx, clientY: by, shiftKey: true, bubbles: true}));
      await frame();
      const dt = performance.now() - t0;
      const [p0, q0] = cellAt(ax, ay), [p1, q1] = cellAt(bx, by);
      const want = S.count(S.rectMask(m, img.dataset.layer, p0, q0, p1, q1));
      if (document.querySelector('.fd-selection-info').dataset.count !== String(want)) throw new Error('brush missed');
      times.push(dt);
      document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));
      await frame();
    }
  }
  return times;
}"""


def stats(times: list[float]) -> dict:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"median_ms": round(ordered[len(ordered) // 2], 2), "p95_ms": round(p95, 2),
            "max_ms": round(ordered[-1], 2), "events": len(ordered)}  # fmt: skip


def machine() -> dict:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"cpu": cpu, "cores": os.cpu_count(), "arch": platform.machine(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip


def single(page, args) -> dict:
    """One run's glyphs: hover and brush (the original bench)."""
    page.wait_for_function(READY, timeout=120_000)
    page.wait_for_timeout(500)
    facts = page.evaluate(
        "() => { const m = window.fracdashSampleView.state().model;"
        " return [m.n, Object.keys(m.layers).length,"
        " document.querySelectorAll('img.fd-glyph').length]; }"
    )
    for kind in ("hover", "brush"):  # warm up (the first hover asks for thumbnails)
        page.evaluate(TIME_EVENTS, [kind, 5, 99])
    page.wait_for_timeout(1000)
    sent = []
    page.on("request", lambda r: "favicon" in r.url or sent.append(r.url))
    result = {"run": args.run, "n": facts[0], "glyphs": facts[2]}
    from interaction_compare import browser_cpu_s

    for kind in ("hover", "brush"):
        cpu = browser_cpu_s()
        result[kind] = stats(page.evaluate(TIME_EVENTS, [kind, args.events, 7]))
        cpu = (browser_cpu_s() - cpu) * 1000 / args.events
        result[kind]["browser_cpu_ms_per_event"] = round(cpu, 1)
    result["requests_during_events"] = len(sent)
    return result


def compared(page, args, want: dict) -> dict:
    """Two runs side by side: hover, brush, and "classified differently" on and off,
    with the charts' panel as the page opens it, then folded."""
    from interaction_compare import measure

    return measure(page, args.events, want, stats)


def main(argv=None) -> int:
    from fracdash.store import default_store_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--run", default="simplification")
    parser.add_argument(
        "--versus", default=None, help="a second stored run: time the comparison view"
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="store two synthetic VGG16-size runs (bench/vgg_pair.py) and compare them",
    )
    parser.add_argument(
        "--samples", type=int, default=10_000, help="with --compare (default 10000)"
    )
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument(
        "--assets",
        type=Path,
        default=None,
        help="serve the page's scripts and stylesheets from this folder (FRACDASH_ASSETS),"
        " e.g. a copy of an older fracdash/web/assets/ to time before and after a change",
    )
    args = parser.parse_args(argv)
    if args.assets:
        if not (args.assets / "fracdash.js").is_file():
            parser.error(
                f"--assets {args.assets} holds no fracdash.js: give a copy of fracdash/web/assets/"
            )
        os.environ["FRACDASH_ASSETS"] = str(args.assets.resolve())
    store_dir, want = args.store or default_store_dir(), {}
    if args.compare:
        import vgg_pair

        store_dir = args.store or Path("/tmp") / f"fracdash-bench-vgg-pair-{args.samples}"
        args.run, args.versus = vgg_pair.build(store_dir, n=args.samples)
    if args.versus:
        import vgg_pair

        want = vgg_pair.expected(store_dir, args.run, args.versus)
    from urllib.parse import urlencode

    from playwright.sync_api import sync_playwright

    before = machine()
    proc, url = serve(store_dir, args.run)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(find_chromium()), headless=True, args=ARGS
            )
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            if args.versus:
                page.goto(url + "?" + urlencode({"run": args.run, "vs": args.versus}))
                result = compared(page, args, want)
            else:
                page.goto(url)
                result = single(page, args)
            result["page_errors"] = errors
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    after = machine()
    report(result, args)
    what = "interaction-compare" if args.versus else "interaction"
    stamp = time.strftime("%Y%m%d-%H%M%S" if args.assets else "%Y%m%d-%H%M")
    out = ROOT / "bench" / "results" / f"{what}-{stamp}{'-assets' if args.assets else ''}.json"
    facts = {"machine": before["cpu"], "cores": before["cores"],
             "load_average_before": before["load_average"],
             "load_average_after": after["load_average"],
             "date": time.strftime("%Y-%m-%d %H:%M %Z"), "store": str(store_dir),
             "assets": str(args.assets.resolve()) if args.assets else "fracdash/web/assets"}  # fmt: skip
    if args.compare or args.run.startswith("vgg-synthetic-"):
        facts["synthetic"] = ("the runs are synthetic in their orders and predictions "
                              "(bench/vgg_pair.py): VGG16's layer graph, random permutations")  # fmt: skip
    out.write_text(json.dumps({**facts, **result}, indent=1))
    print(f"machine: {before['cpu']}, {before['cores']} cores; load average "
          f"{before['load_average']} before, {after['load_average']} after")  # fmt: skip
    print(f"written: {out}")
    return 0


def report(result: dict, args) -> None:
    if args.versus:
        print(f"{result['run_a']} vs {result['run_b']}: n={result['n']:,}, "
              f"{result['glyphs_a']} + {result['glyphs_b']} glyphs, "
              f"{result['requests_during_events']} requests during the events")  # fmt: skip
        if args.compare:
            print("  (synthetic runs: VGG16's layer graph, random orders and predictions)")
        kinds = ("hover", "brush", "diff-on", "diff-off")
    else:
        print(f"{args.run}: n={result['n']:,}, {result['glyphs']} glyphs, "
              f"{result['requests_during_events']} requests during the events")  # fmt: skip
        kinds = ("hover", "brush")
    variants = [("", result)]
    if args.versus:
        variants = [(f"charts panel {'open' if result['charts_panel_open'] else 'folded'} "
                     "(as the page opens the comparison)", result)]  # fmt: skip
        if "charts_folded" in result:
            variants.append(("charts panel folded (no quality chart to follow)",
                             result["charts_folded"]))  # fmt: skip
    for title, timed in variants:
        if title:
            print(f"  {title}:")
        for kind in kinds:
            r = timed[kind]
            print(f"  {kind:<8} median {r['median_ms']:6.2f} ms   p95 {r['p95_ms']:6.2f} ms   "
                  f"max {r['max_ms']:6.2f} ms   ({r['events']} events)")  # fmt: skip
            if "settled" not in r and "browser_cpu_ms_per_event" in r:
                print(f"  {'':<8} Chromium CPU {r['browser_cpu_ms_per_event']:.1f} ms/event")
            if "settled" in r:
                q = r["settled"]
                print(f"  {'':<8} settled: median {q['median_ms']:6.2f} ms   "
                      f"p95 {q['p95_ms']:6.2f} ms   max {q['max_ms']:6.2f} ms   "
                      f"Chromium CPU {r['browser_cpu_ms_per_event']:.1f} ms/event")  # fmt: skip
    if result.get("page_errors"):
        print(f"  page errors: {result['page_errors'][:3]}")


if __name__ == "__main__":
    sys.exit(main())
