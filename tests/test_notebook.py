"""``fracdash.show``: served on a port from a script, and inline in a real Jupyter
kernel (nbclient runs the notebook; the cell's output must hold the page's frame)."""

from __future__ import annotations

import json
import sys
import textwrap
import urllib.request

import numpy as np
import pytest
from helpers import free_port

import fracdash
from fracdash.errors import FracdashError, RunError, UserDataError
from fracdash.runs import catalog
from fracdash.store import Store

TINY_MODEL = """
import keras
from keras import layers
keras.utils.set_random_seed(3)
model = keras.Sequential(
    [keras.Input((6, 6, 1)), layers.Conv2D(2, 3, name="conv"), layers.ReLU(name="relu"),
     layers.Flatten(name="flatten"), layers.Dense(3, name="dense"),
     layers.Softmax(name="prediction")],
    name="tiny_nb",
)
"""


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.read().decode()


@pytest.fixture(scope="module")
def tiny(keras):
    scope = {}
    exec(TINY_MODEL, scope)
    rng = np.random.default_rng(8)
    x = rng.integers(0, 256, (30, 6, 6), dtype=np.uint8)
    return scope["model"], x, np.arange(30) % 3


def test_show_serves_the_run_on_a_port(tiny, tmp_path):
    model, x, y = tiny
    port = free_port()
    shown = fracdash.show(
        model, x, y, ["a", "b", "c"], name="nb-run", store=tmp_path, port=port, block=False
    )
    try:
        assert shown.url == f"http://127.0.0.1:{port}/"
        status, html = get(shown.url)
        assert status == 200 and "fracdash" in html
        status, layout = get(shown.url + "_dash-layout")
        assert status == 200 and "nb-run" in layout
        assert "nb-run" in catalog(Store(tmp_path))
        # The run's predictions are the model's own (computed here independently).
        probs = model.predict(x[..., None].astype(np.float32), verbose=0)  # x as it is
        np.testing.assert_array_equal(shown.analysis.predictions, probs.argmax(axis=1))
        assert shown.analysis.class_names == ["a", "b", "c"]
        assert [layer.name for layer in shown.analysis.layers][-1] == "prediction"
    finally:
        shown.stop()
    with pytest.raises(OSError):
        get(shown.url)


def test_show_refuses_bad_input_and_modes(tiny, tmp_path):
    model, x, y = tiny
    with pytest.raises(UserDataError, match="y holds label 7"):
        fracdash.show(model, x, y + 5, store=tmp_path, block=False)
    with pytest.raises(FracdashError, match="Jupyter"):
        fracdash.show(model, x, y, store=tmp_path, mode="inline")
    with pytest.raises(FracdashError, match="unknown mode"):
        fracdash.show(model, x, y, store=tmp_path, mode="window")
    with pytest.raises(RunError, match="scenario"):
        fracdash.show(model, x, y, name="easy", store=tmp_path, block=False)
    assert catalog(Store(tmp_path)) == {}


@pytest.mark.slow
def test_show_inline_in_a_jupyter_kernel(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    # A kernel spec that runs this interpreter (the one with fracdash installed).
    spec = tmp_path / "kernels" / "fracdash-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "fracdash test", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    port = free_port()
    show = f"""
    import numpy as np, fracdash
    x = np.random.default_rng(8).integers(0, 256, (30, 6, 6), dtype=np.uint8)
    shown = fracdash.show(model, x, np.arange(30) % 3, name="nb-inline",
                          store={str(tmp_path / "store")!r}, port={port})
    """
    check = """
    import urllib.request
    page = urllib.request.urlopen(shown.url + "_dash-layout", timeout=30)
    print("served", page.status, "nb-inline" in page.read().decode())
    """
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(TINY_MODEL + textwrap.dedent(show))]
    nb.cells.append(nbformat.v4.new_code_cell(textwrap.dedent(check)))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    NotebookClient(nb, kernel_name="fracdash-test", timeout=300).execute()

    shown_outputs = nb.cells[0].outputs
    frames = [
        o["data"]["text/html"]
        for o in shown_outputs
        if o.get("output_type") == "display_data" and "text/html" in o.get("data", {})
    ]
    assert frames, f"no inline display in {shown_outputs}"
    assert "<iframe" in frames[0] and f":{port}/" in frames[0]
    printed = "".join(o.get("text", "") for o in nb.cells[1].outputs)
    assert "served 200 True" in printed
