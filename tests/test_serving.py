"""A taken port: an ordinary exception naming the fix (``port=`` in Python, ``--port``
on the command line), raised before any analysis, never ``SystemExit``."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from click.testing import CliRunner

from fracdash.errors import PortInUse
from fracdash.serving import check_port


@pytest.fixture
def taken_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def test_free_port_passes():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    check_port("127.0.0.1", port)  # released: free again


def test_taken_port_raises_an_ordinary_exception(taken_port):
    with pytest.raises(PortInUse) as info:
        check_port("127.0.0.1", taken_port)
    assert isinstance(info.value, Exception)
    assert f"port {taken_port} on 127.0.0.1 is in use" in str(info.value)
    assert f"pass another port={taken_port + 1}" in str(info.value)


def test_show_on_a_taken_port_fails_before_analyzing(toy_sequential, taken_port, tmp_path):
    import fracdash
    from fracdash.runs import catalog
    from fracdash.store import Store

    x = np.random.default_rng(0).random((12, 5, 5, 1), dtype=np.float32)
    y = np.arange(12) % 4
    try:
        fracdash.show(toy_sequential, x, y, name="busy", port=taken_port, cache_dir=tmp_path,
                      block=False)  # fmt: skip
    except Exception as err:  # what a script can catch: SystemExit would not be caught
        assert isinstance(err, PortInUse) and "port=" in str(err)
    else:
        pytest.fail("show() on a taken port did not raise")
    store = Store(tmp_path)
    assert catalog(store) == {}  # nothing analyzed or stored
    store.close()


def test_serve_on_a_taken_port_is_one_line_exit_2(taken_port, tmp_path):
    from fracdash.cli import main

    result = CliRunner().invoke(
        main, ["serve", "--port", str(taken_port), "--cache-dir", str(tmp_path), "--dry-run"]
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fracdash: error: port ")
    assert f"--port {taken_port + 1}" in lines[0]
