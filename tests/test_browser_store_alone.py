"""A store serves alone, in Chromium, never skipped: a scenario's run computed with its
data set, its store folder copied to another path (without the trained model), served
where no data set can be found (no $FRACDASH_DATA, no Keras cache, nothing downloaded):
hover shows the sample's own image, a brush and a confusion cell select exactly their
samples, and the page says nothing failed. A copy whose run was stored before runs kept
their images says so on the page, in one line naming the fix, and follows samples all
the same. Every expectation is computed here from the stored analysis and the data set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import ExitStack

import numpy as np
import pytest
from drawn import cell_point
from helpers import served_dashboard

from fracdash.datasets import load_dataset
from fracdash.store import Store
from fracdash.thumbnails import thumbs_key
from fracdash.web.loading import load_analysis, run_key

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SAMPLES = 300


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    """The easy scenario's run on 300 test images, computed where MNIST is at hand, then
    its store folder copied elsewhere and the original removed; the trained model is
    left out of the copy. Returns (copy, analysis, the 300 test images)."""
    from fracdash.runs import precompute_scenario

    made = tmp_path_factory.mktemp("computed")
    store = Store(made)
    precompute_scenario(store, "easy", samples=SAMPLES, epochs=1, train_samples=500)
    analysis = load_analysis(store, f"easy-{SAMPLES}")
    assert thumbs_key(run_key(store, f"easy-{SAMPLES}")) in store  # stored with the run
    store.close()
    images = load_dataset("mnist", "test")[0][:SAMPLES]
    copy = tmp_path_factory.mktemp("elsewhere") / "store"
    shutil.copytree(made, copy, ignore=shutil.ignore_patterns("models"))
    shutil.rmtree(made)
    assert not list(copy.rglob("*.keras"))
    return copy, analysis, images


def no_data_set_env(tmp_path_factory) -> dict[str, str]:
    """A child's environment in which no data set can be found: $FRACDASH_DATA, $HOME
    and $KERAS_HOME point at an empty folder (this machine has no /usr/share/datasets
    copy of MNIST: checked by :func:`assert_no_data_set`)."""
    empty = str(tmp_path_factory.mktemp("no-data"))
    return {"FRACDASH_DATA": empty, "HOME": empty, "KERAS_HOME": empty}


def assert_no_data_set(env: dict[str, str]) -> None:
    code = "from fracdash.datasets import load_dataset; load_dataset('mnist', download=False)"
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode != 0 and "DatasetError" in done.stderr, done.stderr[-2000:]


def serve(stack: ExitStack, store_dir, env: dict[str, str]) -> str:
    """Start the dashboard on ``store_dir`` in a child with ``env`` (this process's
    environment is left as it was); stopped when ``stack`` closes."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        return stack.enter_context(
            served_dashboard(store_dir, store_dir.parent / "server.log", samples=SAMPLES)
        )


@pytest.fixture(scope="module")
def alone(computed, tmp_path_factory):
    env = no_data_set_env(tmp_path_factory)
    assert_no_data_set(env)
    with ExitStack() as stack:
        yield serve(stack, computed[0], env)


@pytest.fixture(scope="module")
def older(computed, tmp_path_factory):
    """The same run as a store written before runs kept their images, served without
    the data set."""
    path = tmp_path_factory.mktemp("older") / "store"
    shutil.copytree(computed[0], path)
    store = Store(path)
    store.delete(thumbs_key(run_key(store, f"easy-{SAMPLES}")))
    store.close()
    with ExitStack() as stack:
        yield serve(stack, path, no_data_set_env(tmp_path_factory))


def open_page(browser, url, layers):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.errors, page.failed = [], []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: r.status >= 400 and page.failed.append(f"{r.status} {r.url}"))
    page.goto(url)
    page.wait_for_function(
        "n => { const s = window.fracdashSampleView && window.fracdashSampleView.state();"
        " return !!(s && s.model) && document.querySelectorAll('.fd-marks').length === n"
        " && document.querySelector('.fd-dag-canvas[data-laid-out]') !== null; }",
        arg=len(layers),
        timeout=60_000,
    )
    # The pointer entering the graph asks for the thumbnails (when the run has them).
    corner = "e => { const r = e.getBoundingClientRect(); return [r.left + 5, r.top + 5]; }"
    page.mouse.move(*page.eval_on_selector(".fd-dag", corner))
    page.wait_for_function(
        "() => { const s = window.fracdashSampleView.state();"
        " return !!s.sprite || !s.model.thumbs; }"
    )
    return context, page


def hover(page, g, sample):
    x, y = (int(v) for v in g.positions[sample])
    page.mouse.move(*cell_point(page, g.name, x, y, g.width, g.height))
    page.wait_for_function(
        f"() => document.querySelector('.fd-tooltip')?.dataset.sample === '{sample}'"
    )


def selected_count(page, count):
    page.wait_for_function(
        f"() => document.querySelector('.fd-selection-info').dataset.count === '{count}'"
    )


def test_a_store_alone_serves_images_brush_and_confusion(browser, alone, computed):
    _, analysis, images = computed
    context, page = open_page(browser, alone, analysis.layer_names)
    g = analysis.layer("dense0")
    for rank in (0, 150, SAMPLES - 1):
        sample = int(g.order[rank])
        hover(page, g, sample)
        page.wait_for_function(
            "() => { const c = document.querySelector('.fd-tooltip .fd-thumb');"
            " return c && !c.hidden; }"
        )
        # The sample's own image: 28x28 drawn at 56x56, 2 px per pixel, 16 gray levels.
        shown = page.eval_on_selector(
            ".fd-tooltip .fd-thumb",
            "c => Array.from(c.getContext('2d').getImageData(0, 0, 56, 56).data)",
        )
        red = np.asarray(shown, dtype=np.int64).reshape(56, 56, 4)[1::2, 1::2, 0]
        np.testing.assert_array_equal(red, images[sample] // 16 * 17)

    x0, y0, x1, y1 = 2, 1, 7, 5
    page.keyboard.down("Shift")
    page.mouse.move(*cell_point(page, g.name, x0, y0, g.width, g.height))
    page.mouse.down()
    page.mouse.move(*cell_point(page, g.name, x1, y1, g.width, g.height), steps=4)
    page.mouse.up()
    page.keyboard.up("Shift")
    inside = [s for s in range(analysis.n)
              if x0 <= g.positions[s][0] <= x1 and y0 <= g.positions[s][1] <= y1]  # fmt: skip
    assert inside
    selected_count(page, len(inside))
    page.keyboard.press("Escape")

    page.click(".fd-charts-toggle")
    page.wait_for_function(
        "() => { const g = document.querySelector('#confusion .js-plotly-plot');"
        " return g && g._fullLayout && g._fullLayout.xaxis && g.on; }",
        timeout=30_000,
    )
    page.wait_for_timeout(500)
    counts = np.zeros((10, 10), dtype=np.int64)
    np.add.at(counts, (analysis.labels, analysis.predictions), 1)
    off = counts - np.diag(np.diag(counts))
    truth, pred = np.unravel_index(np.argmax(off if off.any() else counts), counts.shape)
    point = page.evaluate(
        "([t, p]) => { const g = document.querySelector('#confusion .js-plotly-plot');"
        " const L = g._fullLayout, r = g.querySelector('.nsewdrag').getBoundingClientRect();"
        " return [r.left + L.xaxis.l2p(p), r.top + L.yaxis.l2p(t)]; }",
        [int(truth), int(pred)],
    )
    page.mouse.click(*point)
    selected_count(page, int(counts[truth, pred]))
    assert page.eval_on_selector(".fd-load-error", "e => e.hidden") is True
    assert page.failed == [] and page.errors == []
    context.close()


def test_an_older_run_served_without_its_data_set_says_so_in_one_line(browser, older, computed):
    _, analysis, _ = computed
    context, page = open_page(browser, older, analysis.layer_names)
    page.wait_for_selector(".fd-load-error:not([hidden])")
    line = page.inner_text(".fd-load-error")
    assert line.startswith(f"run easy-{SAMPLES} shows no images on hover")
    assert "mnist" in line and "FRACDASH_DATA" in line and "\n" not in line
    g = analysis.layer("dense0")
    sample = int(g.order[42])
    hover(page, g, sample)  # sample following works: the tooltip, without an image
    assert page.eval_on_selector(".fd-tooltip .fd-thumb", "c => c.hidden") is True
    assert page.errors == [] and page.failed == []  # the thumbnails were never asked for
    context.close()
