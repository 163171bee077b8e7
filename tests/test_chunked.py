"""ChunkedMatrix: a layer on disk as column chunks reads back exactly."""

from __future__ import annotations

import numpy as np
import pytest

from fracdash.core import chunked


# (CHUNK_BYTES, the chunk width it gives for 50 rows of 600 columns): a budget for 7
# columns is raised to the 256-column floor; one for 520 is rounded down to 512 (a
# multiple of 256); the whole width in one chunk.
@pytest.mark.parametrize(
    ("chunk_bytes", "width"), [(8 * 50 * 7, 256), (8 * 50 * 520, 512), (2**30, 600)]
)
def test_round_trip(tmp_path, monkeypatch, chunk_bytes, width):
    monkeypatch.setattr(chunked, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(50, 600)).astype(np.float32)
    m = chunked.ChunkedMatrix(tmp_path / "layer.f32", 50, 600)
    for start in range(0, 50, 16):
        m.write_rows(start, x[start : start + 16])
    np.testing.assert_array_equal(m.to_array(), x)
    # A chunk is valid until the next one is read (one buffer is reused): copy each.
    pieces = [(f0, f1, chunk.copy()) for f0, f1, chunk in m.column_chunks()]
    assert m.width == width
    assert [(f0, f1) for f0, f1, _ in pieces] == [
        (f0, min(600, f0 + width)) for f0 in range(0, 600, width)
    ]
    np.testing.assert_array_equal(np.concatenate([c for _, _, c in pieces], axis=1), x)
    m.remove()
    assert not (tmp_path / "layer.f32").exists()


def test_array_chunks_match_the_array():
    x = np.arange(5 * 700, dtype=np.float32).reshape(5, 700)
    parts = chunked.ArrayChunks(x)
    np.testing.assert_array_equal(np.concatenate([c for *_, c in parts.column_chunks()], 1), x)
