"""The comparison view's timed events, for bench/interaction.py --compare / --versus.

Two runs side by side (``?run=A&vs=B``). Timed in the page, each event from its dispatch
to the frame after it: its requestAnimationFrame callbacks, layout and paint, measured by
a user-blocking task posted from the callback (``median_ms``, ``p95_ms``); and to when the
main thread is free again, the tasks queued meanwhile run, the quality chart's redraw
among them (``settled``: a timer posted after that paint):
  * hover: a mousemove over a random sample pixel of a random glyph of either graph,
    until the tooltip names that sample and every glyph of BOTH graphs holds that
    sample's hover mark;
  * brush: a shift-drag in a random glyph of either graph, until the info line counts
    the rectangle's samples (the count recomputed from that graph's own sample model)
    and every overlay of both graphs is redrawn with the new selection;
  * diff-on / diff-off: a click on "classified differently", until the info line counts
    the samples the two runs classify differently (counted in numpy from the stored
    predictions, bench/vgg_pair.py) and every overlay of both graphs is redrawn; then a
    click that clears it, until every overlay is hidden again.
A comparison opens the charts' panel (the comparison panel is in it), and with it open a
selection's cohesion line is drawn on the quality chart (a Plotly redraw): each kind is
timed as the page opens, then again with that panel folded (a click on its summary), which
tells the glyphs' own cost from the chart's. Beside the wall times, the CPU time of all
of Chromium's processes per event (``browser_cpu_ms_per_event``, from /proc; it counts
what each event leaves untimed too: a brush's Esc, the other "classified differently"
click, and the bench's own checks), which a loaded machine inflates far less.
"""

# ruff: noqa: E501  (the timed events are JavaScript, kept readable as one block)
from __future__ import annotations

import os
from pathlib import Path

#: Both graphs' sample models, the comparison's data and every glyph on screen.
READY = """() => {
  const v = window.fracdashSampleView, s = v && v.state();
  if (!(s && s.model && s.modelB && s.compare)) return false;
  const sides = ['a', 'b'].map(x => document.querySelector(`.fd-dag-canvas[data-side="${x}"][data-laid-out]`));
  if (sides.some(c => !c)) return false;
  const imgs = [...document.querySelectorAll('.fd-dag-canvas img.fd-glyph')];
  return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0)
    && !!document.querySelector('.fd-compare-note[data-state=ok]');
}"""

FACTS = """() => {
  const s = window.fracdashSampleView.state();
  const count = x => document.querySelectorAll(`.fd-dag-canvas[data-side="${x}"] img.fd-glyph`).length;
  return {run_a: s.model.run, run_b: s.modelB.run, n: s.model.n, glyphs_a: count('a'),
          glyphs_b: count('b'), glyph_px: [s.model.width, s.model.height],
          note: document.querySelector('.fd-compare-note').innerText.trim()};
}"""

TIME_EVENTS = """async ([kind, count, seed, diffCount]) => {
  let s = seed;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  // The frame after an event: its rAF callbacks run, then the frame is laid out and
  // painted in the same task; a user-blocking task posted there runs next (before the
  // timers queued meanwhile): 'painted'. A timer posted then runs after those timers
  // (the quality chart's redraw among them): 'settled', the main thread free again.
  const post = window.scheduler && scheduler.postTask
    ? f => scheduler.postTask(f, {priority: 'user-blocking'}) : f => setTimeout(f, 0);
  const frame = () => new Promise(r => requestAnimationFrame(() => post(() => {
    const painted = performance.now();
    setTimeout(() => r({painted, settled: performance.now()}), 0);
  })));
  const V = window.fracdashSampleView, S = window.fracdashSamples, st = V.state();
  const glyphs = x => [...document.querySelectorAll(`.fd-dag-canvas[data-side="${x}"] img.fd-glyph`)];
  const sides = {a: glyphs('a'), b: glyphs('b')};
  const overlays = [...document.querySelectorAll('.fd-dag-canvas canvas.fd-overlay[data-layer]')];
  if (overlays.length !== sides.a.length + sides.b.length) throw new Error('overlays: ' + overlays.length);
  const info = () => document.querySelector('.fd-selection-info').dataset.count;
  // Every overlay of both graphs shows the current selection (its key holds the mask id).
  const redrawn = () => overlays.every(cv => !cv.hidden && cv.dataset.drawn.split('|')[4] === String(st.maskId));
  const times = [], settled = [], where = {a: 0, b: 0};
  const button = document.querySelector('button.fd-diff-toggle');
  for (let i = 0; i < count; i++) {
    const side = rand() < 0.5 ? 'a' : 'b';
    const imgs = sides[side], img = imgs[Math.floor(rand() * imgs.length)];
    const m = V.modelOf(img), layer = img.dataset.layer;
    const r = img.getBoundingClientRect();
    const at = (x, y) => [Math.round(r.left + (x + 0.5) * r.width / m.width),
                          Math.round(r.top + (y + 0.5) * r.height / m.height)];
    const cellAt = (cx, cy) => [Math.floor((cx - r.left) / r.width * m.width),
                                Math.floor((cy - r.top) / r.height * m.height)];
    if (kind === 'hover') {
      const rank = Math.floor(rand() * m.n), cell = m.slots[rank];
      const [cx, cy] = at(cell % m.width, Math.floor(cell / m.width));
      const [hx, hy] = cellAt(cx, cy), hit = S.sampleAt(m, layer, hx, hy);
      if (!hit) { i--; continue; }
      const t0 = performance.now();
      img.dispatchEvent(new MouseEvent('mousemove', {clientX: cx, clientY: cy, bubbles: true}));
      const f = await frame();
      const dt = f.painted - t0, ds = f.settled - t0;
      const want = String(hit.sample);
      if (document.querySelector('.fd-tooltip').dataset.sample !== want) throw new Error('hover missed');
      for (const x of ['a', 'b']) {
        const marks = [...document.querySelectorAll(`.fd-dag-canvas[data-side="${x}"] .fd-mark-hover`)];
        if (marks.length !== sides[x].length || marks.some(e => e.dataset.sample !== want)) throw new Error('marks missing in ' + x);
      }
      times.push(dt); settled.push(ds);
    } else if (kind === 'brush') {
      const x0 = Math.floor(rand() * m.width), y0 = Math.floor(rand() * m.height);
      const x1 = Math.min(m.width - 1, x0 + 5 + Math.floor(rand() * 30));
      const y1 = Math.min(m.height - 1, y0 + 5 + Math.floor(rand() * 30));
      const [ax, ay] = at(x0, y0), [bx, by] = at(x1, y1);
      const before = st.maskId;
      const t0 = performance.now();
      img.dispatchEvent(new PointerEvent('pointerdown', {clientX: ax, clientY: ay, shiftKey: true, button: 0, bubbles: true}));
      window.dispatchEvent(new PointerEvent('pointermove', {clientX: bx, clientY: by, shiftKey: true, bubbles: true}));
      window.dispatchEvent(new PointerEvent('pointerup', {clientX: bx, clientY: by, shiftKey: true, bubbles: true}));
      const f = await frame();
      const dt = f.painted - t0, ds = f.settled - t0;
      const [p0, q0] = cellAt(ax, ay), [p1, q1] = cellAt(bx, by);
      const want = S.count(S.rectMask(m, layer, p0, q0, p1, q1));
      if (info() !== String(want)) throw new Error(`brush missed in ${side}: ${info()} != ${want}`);
      if (st.maskId === before || !redrawn()) throw new Error('brush: a glyph not redrawn');
      times.push(dt); settled.push(ds);
      document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));
      await frame();
    } else {  // 'diff-on' / 'diff-off': the same click, timed on its way in or out
      const on = kind === 'diff-on';
      if (st.sel !== null) throw new Error('diff: a selection before the click');
      if (!on) { button.click(); await frame(); }
      const t0 = performance.now();
      button.click();
      const f = await frame();
      const dt = f.painted - t0, ds = f.settled - t0;
      if (on) {
        if (info() !== String(diffCount)) throw new Error(`diff: ${info()} != ${diffCount}`);
        if (!redrawn()) throw new Error('diff: a glyph not redrawn');
        if (button.getAttribute('aria-pressed') !== 'true') throw new Error('diff: not pressed');
        button.click(); await frame();
      } else if (st.sel !== null || overlays.some(cv => !cv.hidden)) {
        throw new Error('diff off: the selection stays');
      }
      times.push(dt); settled.push(ds);
      continue;
    }
    where[side] += 1;
  }
  return {times, settled, where, postTask: !!(window.scheduler && scheduler.postTask)};
}"""

KINDS = ("hover", "brush", "diff-on", "diff-off")


def browser_cpu_s() -> float:
    """CPU seconds (user + system, all threads) of the Chromium processes started from this
    one (through Playwright's driver): what the page cost, whatever else the machine runs."""
    parent, comm = {}, {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                text = (d / "stat").read_text()
            except OSError:
                continue
            name, rest = (
                text[text.index("(") + 1 : text.rindex(")")],
                text[text.rindex(")") + 2 :].split(),
            )
            parent[int(d.name)], comm[int(d.name)] = (
                (int(rest[1]), [int(rest[11]), int(rest[12])]),
                name,
            )
    me, total = os.getpid(), 0
    for pid, (ppid, ticks) in parent.items():
        up = ppid
        while up not in (0, 1, me) and up in parent:
            up = parent[up][0]
        if up == me and comm[pid].startswith(("chrom", "headless")):
            total += sum(ticks)
    return total / os.sysconf("SC_CLK_TCK")


def timed(page, events: int, diff: int, stats, sent: list) -> dict:
    for kind in KINDS:  # warm up (the first hover asks for thumbnails)
        page.evaluate(TIME_EVENTS, [kind, 5, 99, diff])
    page.wait_for_timeout(1000)
    out = {}
    sent.append(True)  # counting: requests are counted while the last item is True
    for kind in KINDS:
        cpu = browser_cpu_s()
        got = page.evaluate(TIME_EVENTS, [kind, events, 7, diff])
        cpu = (browser_cpu_s() - cpu) * 1000 / events
        out[kind] = {**stats(got["times"]), "settled": stats(got["settled"]),
                     "browser_cpu_ms_per_event": round(cpu, 1),
                     **({"in_graph": got["where"]} if kind in ("hover", "brush") else {})}  # fmt: skip
    sent.append(False)
    return out


def measure(page, events: int, want: dict, stats) -> dict:
    """Every kind timed ``events`` times, charts' panel as opened, then folded."""
    page.wait_for_function(READY, timeout=300_000)
    page.wait_for_timeout(500)
    facts = page.evaluate(FACTS)
    diff = want.get("classified_differently", -1)
    sent, urls = [False], []
    page.on("request", lambda r: sent[-1] and "favicon" not in r.url and urls.append(r.url))
    opened = page.evaluate("() => !!(document.querySelector('#charts-panel') || {}).open")
    result = {**facts, "expected": want, "charts_panel_open": opened,
              **timed(page, events, diff, stats, sent)}  # fmt: skip
    if opened:
        page.click("#charts-panel > summary")
        page.wait_for_function("() => !document.querySelector('#charts-panel').open")
        page.wait_for_timeout(2000)  # the graphs refit to the wider area
        page.wait_for_function(READY, timeout=60_000)
        result["charts_folded"] = timed(page, events, diff, stats, sent)
    result["requests_during_events"] = len(urls)
    result["requests"] = urls[:10]
    return result
