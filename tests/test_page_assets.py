"""What the page ships: no way to upload to Plotly's cloud, compression on, and the
small plotly bundle pinned for lazy loading."""

from __future__ import annotations

import pytest
from dash import dcc
from helpers import store_toy, walk

from fracdash.assets import assets_folder
from fracdash.web import create_app
from fracdash.web.app import ASSETS_IGNORE


def test_no_chart_can_reach_plotlys_cloud(tmp_path):
    store_toy(tmp_path)
    app = create_app(cache_dir=tmp_path, default_run="toy")
    graphs = [c for c in walk(app.layout()) if isinstance(c, dcc.Graph)]
    assert graphs, "the page has charts"
    for graph in graphs:
        config = graph.config
        assert config["displaylogo"] is False and config["showLink"] is False
        assert config["showSendToCloud"] is False and config["showEditInChartStudio"] is False
        assert {"sendDataToCloud", "editInChartStudio"} <= set(config["modeBarButtonsToRemove"])


# Flask-Compress compresses a static file after Flask opened it and leaves that handle
# to the garbage collector: its warning, not ours.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_responses_are_compressed_and_plotly_is_not_in_the_first_load(tmp_path):
    store_toy(tmp_path)
    client = create_app(cache_dir=tmp_path, default_run="toy").server.test_client()
    page = client.get("/")  # no Accept-Encoding: plain text to read
    assert page.status_code == 200
    html = page.data.decode()
    assert "plotly-source.js" in html  # pins the small bundle, loaded by the first chart
    assert "plotly-cartesian" not in html and "plotly.min.js" not in html
    script = client.get("/assets/vendor/plotly-cartesian-4.1.1.min.js",
                        headers={"Accept-Encoding": "gzip, deflate, br"})  # fmt: skip
    try:
        assert script.status_code == 200
        assert script.headers.get("Content-Encoding") in ("br", "gzip")
        assert len(script.data) < 600_000  # 1.5 MB of JavaScript, a third of it moved
    finally:
        script.close()


def test_assets_ignore_keeps_exports_out_of_the_page_and_no_test_ships():
    import re

    pattern = re.compile(ASSETS_IGNORE)
    for name in ("plotly-cartesian-4.1.1.min.js", "standalone.js"):
        assert pattern.search(name), name
    # The scripts' own tests live in tests/js/: nothing in the package data is a test.
    assert not [p for p in assets_folder().rglob("*") if ".test." in p.name]
    for name in ("fracdash.js", "plotly-source.js", "fracdash.css"):
        assert not pattern.search(name), name
    assert (assets_folder() / "vendor" / "plotly-cartesian-4.1.1.min.js").is_file()
