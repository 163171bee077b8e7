"""Write docs/screenshot.png: the dashboard's default view of a stored run.

    .venv/bin/python docs/make_screenshot.py [--cache-dir DIR] [--run simplification]
                                             [--size 1600x1000] [--out PATH]

Serves ``app.py`` on a free port and photographs the page in Chromium (found as
``fracdash.browser`` says; Playwright, headless) at one window size: the page is the
window, the graph fitted into it, so the picture is exactly what a user sees. The run
must already be in the store (``fracdash precompute simplification``): this script
computes nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
from browser import ARGS as CHROMIUM_ARGS  # noqa: E402
from browser import find_chromium  # noqa: E402
from ports import free_port  # noqa: E402


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the dashboard did not start at {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", help="fracdash store (default: the usual one)")
    parser.add_argument(
        "--run", default="simplification", help="stored run to show (default: simplification)"
    )
    parser.add_argument("--size", default="1600x1000", help="window, WxH (default: 1600x1000)")
    parser.add_argument("--query", default="",
                        help="more of the view, as in the page's URL: 'vs=B&sel=diff'")  # fmt: skip
    parser.add_argument("--charts", action="store_true", help="open the charts panel first")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from fracdash.runs import load_run
    from fracdash.store import Store

    store = Store(args.cache_dir)
    analysis = load_run(store, args.run)
    from urllib.parse import parse_qs, urlencode

    versus = parse_qs(args.query).get("vs", [None])[0]
    other = load_run(store, versus) if versus else None
    store.close()
    if analysis is None:
        raise SystemExit(f"run {args.run!r} is not stored; compute it: fracdash precompute")
    if versus and other is None:
        raise SystemExit(f"run {versus!r} is not stored")
    glyphs = len(analysis.layers) + (len(other.layers) if other is not None else 0)
    width, height = (int(v) for v in args.size.lower().split("x"))

    port = free_port()
    cmd = [sys.executable, "app.py", "--port", str(port), "--run", args.run]
    if args.cache_dir:
        cmd += ["--cache-dir", args.cache_dir]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_up(url, proc)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(find_chromium()), headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": width, "height": height})
            query = urlencode({"run": args.run}) + (f"&{args.query}" if args.query else "")
            page.goto(f"{url}?{query}")
            # Every glyph loaded and placed (fracdash/web/assets/dag_view.js fits the graph).
            page.wait_for_function(
                "n => document.querySelector('.fd-dag-canvas[data-laid-out]') && [...document"
                ".querySelectorAll('img.fd-glyph')].filter(e => e.complete && e.naturalWidth"
                " && e.style.width).length === n",
                arg=glyphs,
            )
            if args.charts:
                page.evaluate("document.getElementById('charts-panel').open = true")
                page.wait_for_timeout(1500)
            page.wait_for_selector("path.fd-edge", state="attached")
            page.wait_for_timeout(500)  # the last frame of the fit
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print(f"wrote {args.out} ({args.run}: {analysis.n:,} samples, {len(analysis.layers)} layers)")


if __name__ == "__main__":
    main()
