"""Page weight and time to first glyphs, per stored run, in headless Chromium (issue 13).

    .venv/bin/python bench/page.py [--store DIR] [--runs easy,generalization,...]

For each run: serve ``app.py`` opened on that run (a fresh server, loopback), load the
page in a fresh browser context (empty cache), and measure
  * bytes transferred: the sum of every response's encoded body and headers, as
    Chromium reports them (compressed when the server compresses);
  * time to first glyphs: from navigation start until every glyph image of the DAG
    has decoded (``img[data-layer]`` complete with a natural width).
Writes ``bench/results/page-*.json`` and prints a table. Loopback only; bounded.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tools"))

from browser import ARGS, find_chromium  # noqa: E402
from ports import free_port  # noqa: E402

ALL_GLYPHS_DECODED = """() => {
  const imgs = [...document.querySelectorAll('img[data-layer]')];
  return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0)
    ? imgs.length : 0;
}"""


def serve(store: Path, run: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--run", run,
           "--cache-dir", str(store)]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "healthz", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"bench/page.py: the server for {run} did not start")


def measure(browser, url: str) -> dict:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    requests = []
    page.on("requestfinished", lambda request: requests.append(request))
    start = time.perf_counter()
    page.goto(url)
    glyphs = page.wait_for_function(ALL_GLYPHS_DECODED, timeout=120_000).json_value()
    first = time.perf_counter() - start
    page.wait_for_load_state("networkidle")
    total, biggest = 0, []
    for request in requests:
        sizes = request.sizes()
        size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        total += size
        biggest.append((size, request.url.replace(url, "/")))
    context.close()
    biggest.sort(reverse=True)
    return {"bytes": total, "first_glyphs_s": round(first, 3), "glyphs": glyphs,
            "requests": len(requests), "largest": biggest[:5]}  # fmt: skip


def main(argv=None) -> int:
    from fracdash.runs import catalog
    from fracdash.store import Store, default_store_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--runs", default=None, help="comma-separated (default: all stored)")
    args = parser.parse_args(argv)
    store_dir = args.store or default_store_dir()
    store = Store(store_dir)
    runs = args.runs.split(",") if args.runs else sorted(catalog(store))
    store.close()
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(find_chromium()), headless=True, args=ARGS
        )
        for run in runs:
            proc, url = serve(store_dir, run)
            try:
                measure(browser, url)  # warm the server's per-run caches once
                results[run] = measure(browser, url)
            finally:
                proc.terminate()
                proc.wait(timeout=20)
        browser.close()
    print(f"{'run':<24} {'MB moved':>9} {'first glyphs':>13} {'glyphs':>7} {'requests':>9}")
    for run, r in results.items():
        print(f"{run:<24} {r['bytes'] / 1e6:9.2f} {r['first_glyphs_s']:12.2f}s {r['glyphs']:7d} "
              f"{r['requests']:9d}")  # fmt: skip
    out = ROOT / "bench" / "results" / f"page-{time.strftime('%Y%m%d-%H%M')}.json"
    out.write_text(json.dumps({"machine": platform.processor() or platform.machine(),
                               "store": str(store_dir), "runs": results}, indent=1))  # fmt: skip
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
