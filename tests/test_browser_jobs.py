"""Computing from the page, in Chromium, with real (small) computations: two pages on
one uncomputed run share one job and one progress that never goes back; choosing an
uncomputed run never leaves the previous run's glyphs on screen, and its own graph
appears before its model is trained; SIGTERM to the server leaves no process of it.

The server is ``fracdash.web.app.serve`` (what ``python app.py`` and ``fracdash serve``
run) in a subprocess on an empty store; its log is test-artifacts/jobs-server.log.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from helpers import free_port

from fracdash.web import ids

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "test-artifacts" / "jobs-server.log"
SAMPLES = 300
LENET5_ONLY = ["conv2d0", "relu0", "conv2d1", "relu1", "dense0", "relu2"]
SERVE = """
import sys
from fracdash.web import create_app
from fracdash.web.app import serve
app = create_app(sys.argv[1], default_run="easy", samples={samples},
                 compute={{"epochs": 1, "train_samples": 500}})
serve(app, host="127.0.0.1", port=int(sys.argv[2]))
"""
#: Every state the progress line and the graph go through, as the page shows them.
RECORDER = """
window.__seen = [];
new MutationObserver(() => {
  const box = document.querySelector('.fd-progress-box');
  const line = document.getElementById('PROGRESS_ID');
  const glyphs = [...document.querySelectorAll('img.fd-glyph')].map(e => e.dataset.layer);
  const entry = {text: line ? line.innerText : '', stage: box ? box.dataset.stage : null,
                 overall: box ? +box.dataset.overall : null, glyphs: glyphs.join(',')};
  const last = window.__seen[window.__seen.length - 1];
  if (!last || JSON.stringify(last) !== JSON.stringify(entry)) window.__seen.push(entry);
}).observe(document, {childList: true, subtree: true, attributes: true, characterData: true});
""".replace("PROGRESS_ID", ids.PROGRESS)
STAGES = ["queued", "start", "train", "forward", "order"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The dashboard on an empty store: every scenario is computed when asked for."""
    store = tmp_path_factory.mktemp("jobs-store")
    port = free_port()
    LOG.parent.mkdir(parents=True, exist_ok=True)
    log = open(LOG, "wb")  # noqa: SIM115 (closed below)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen([sys.executable, "-c", SERVE.format(samples=SAMPLES), str(store),
                                str(port)], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "healthz", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail(f"dashboard did not start:\n{LOG.read_text()}")
            time.sleep(0.2)
    yield process, url
    if process.poll() is None:
        process.kill()
        process.wait()
    log.close()


def open_page(browser, url):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(RECORDER)
    page.goto(url)
    page.errors = errors
    return context, page


def seen(page) -> list[dict]:
    return page.evaluate("() => window.__seen")


def assert_monotone(entries):
    boxes = [e for e in entries if e["stage"] is not None]
    assert boxes, entries
    for a, b in zip(boxes, boxes[1:], strict=False):
        assert STAGES.index(b["stage"]) >= STAGES.index(a["stage"]), (a, b)
        assert b["overall"] >= a["overall"], (a, b)


def wait_for_glyph(page, layer, timeout=240_000):
    try:
        page.wait_for_selector(f"img.fd-glyph[data-layer='{layer}']", state="attached",
                               timeout=timeout)  # fmt: skip
    except Exception as err:  # say what the page shows instead
        shown = page.evaluate("id => [document.getElementById(id).innerText,"
                              " document.querySelector('.fd-dag').innerText.slice(0, 200)]",
                              ids.PROGRESS)  # fmt: skip
        raise AssertionError(f"no glyph {layer}: the page shows {shown}; seen "
                             f"{seen(page)[-4:]}; errors {page.errors}") from err


def test_two_pages_on_one_uncomputed_run_share_one_job_and_one_progress(browser, server):
    _, url = server
    first_context, first = open_page(browser, url)
    second_context = None
    try:
        # The second page opens once the job is under way, and must show where it is.
        first.wait_for_function(
            "() => { const b = document.querySelector('.fd-progress-box');"
            " return b && !['queued', 'start'].includes(b.dataset.stage); }",
            timeout=240_000,
        )
        stage_then = first.evaluate("() => document.querySelector('.fd-progress-box')"
                                    ".dataset.stage")  # fmt: skip
        second_context, second = open_page(browser, url)
        for page in (first, second):
            wait_for_glyph(page, "conv2d1")
            page.wait_for_function(  # the last layers and every layer's measures after it
                "id => document.getElementById(id).innerText.startsWith('computed easy-300')",
                arg=ids.PROGRESS, timeout=240_000,
            )  # fmt: skip
        first_seen, second_seen = seen(first), seen(second)
        assert_monotone(first_seen)
        assert_monotone(second_seen)
        opening = next(e for e in second_seen if e["stage"] is not None)
        assert STAGES.index(opening["stage"]) >= STAGES.index(stage_then), (stage_then, opening)
        assert "loading TensorFlow" not in opening["text"]
        assert first.errors == [] and second.errors == []
    finally:
        first_context.close()
        if second_context is not None:
            second_context.close()
    started = re.findall(r"fracdash job \d+: computing (\S+)", LOG.read_text())
    assert started == ["easy-300"], started  # one job, however many pages asked


def test_an_uncomputed_run_replaces_the_previous_one_then_sigterm_ends_all(browser, server):
    process, url = server
    context, page = open_page(browser, url)
    try:
        wait_for_glyph(page, "conv2d1", timeout=60_000)  # easy-300, stored by now
        page.click(f"#{ids.SCENARIO}")
        page.locator(".dash-dropdown-option", has_text=re.compile(r"^\s*realistic —")).click()
        # The realistic network's own graph, every layer a placeholder, before training.
        page.wait_for_selector(".fd-node.fd-pending img.fd-glyph[data-layer='b_conv2d0']",
                               state="attached", timeout=240_000)  # fmt: skip
        entries = seen(page)
        chosen = next(i for i, e in enumerate(entries) if "realistic-300" in e["text"])
        after = entries[chosen:]
        stale = [e for e in after if set(e["glyphs"].split(",")) & set(LENET5_ONLY)]
        assert stale == [], stale[:2]
        first_graph = next(e for e in after if "b_conv2d0" in e["glyphs"])
        assert first_graph["stage"] in ("start", "train"), first_graph  # before training ended
        assert page.errors == []
    finally:
        context.close()
    # The realistic job runs: SIGTERM to the server ends it and every process of it.
    tree = [process.pid] + [c.pid for c in psutil.Process(process.pid).children(recursive=True)]
    assert len(tree) >= 2, "the job process is not the server's child"
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while alive := [pid for pid in tree if psutil.pid_exists(pid) and
                    psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]:  # fmt: skip
        assert time.monotonic() < deadline, f"left running after SIGTERM: {alive}"
        time.sleep(0.1)
