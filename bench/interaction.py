"""Hover and brush latency in headless Chromium on a stored run (issue 14).

    .venv/bin/python bench/interaction.py [--store DIR] [--run simplification] [--events 50]

Serves ``app.py`` on the run (loopback), opens it at 1600x1000, waits for the sample
data, then times in the page, for ``--events`` events each:
  * hover: a mousemove over a random sample pixel of a random glyph, until the tooltip
    names that sample, every glyph's mark is placed, and the next frame is painted;
  * brush: a shift-drag (pointerdown, pointermove, pointerup) over a random rectangle
    of a random glyph, until every glyph is redrawn with the selection and the next
    frame is painted.
Counts the requests sent during the events (the goal: none). Prints median and p95 and
writes ``bench/results/interaction-*.json``. Goal: p95 <= 50 ms.
"""

# ruff: noqa: E501  (the timed events are JavaScript, kept readable as one block)
from __future__ import annotations

import argparse
import json
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


def main(argv=None) -> int:
    from fracdash.store import default_store_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--run", default="simplification")
    parser.add_argument("--events", type=int, default=50)
    args = parser.parse_args(argv)
    store_dir = args.store or default_store_dir()
    from playwright.sync_api import sync_playwright

    proc, url = serve(store_dir, args.run)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(find_chromium()), headless=True, args=ARGS
            )
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(url)
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
            for kind in ("hover", "brush"):
                result[kind] = stats(page.evaluate(TIME_EVENTS, [kind, args.events, 7]))
            result["requests_during_events"] = len(sent)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print(f"{args.run}: n={result['n']:,}, {result['glyphs']} glyphs, "
          f"{result['requests_during_events']} requests during the events")  # fmt: skip
    for kind in ("hover", "brush"):
        r = result[kind]
        print(f"  {kind:<6} median {r['median_ms']:6.2f} ms   p95 {r['p95_ms']:6.2f} ms   "
              f"max {r['max_ms']:6.2f} ms   ({r['events']} events)")  # fmt: skip
    out = ROOT / "bench" / "results" / f"interaction-{time.strftime('%Y%m%d-%H%M')}.json"
    out.write_text(json.dumps({"machine": platform.processor() or platform.machine(),
                               "store": str(store_dir), **result}, indent=1))  # fmt: skip
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
