"""Row data as column chunks, in memory or on disk (numpy only).

The ordering stage reads a layer's activations twice, chunk of columns by chunk of
columns, and a few whole rows for exact re-checks. :class:`ChunkedMatrix` keeps a
large layer on disk in that layout (each chunk an ``(n, w)`` row-major block) and
reads it with plain file reads, so that a 65,536-wide layer of 10,000 samples never
has to sit in memory whole. :class:`ArrayChunks` gives an in-memory array the same
interface.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

#: Bytes of float64 per chunk while centring (the chunk width follows from it).
CHUNK_BYTES = 512 * 2**20


def chunk_width(n: int, d: int) -> int:
    """Columns per chunk for n rows: at most CHUNK_BYTES of float64, a multiple of 256
    (at least 256). A chunk is the depth of one BLAS call of the distance pass: at
    n = 60,000 this gives 1,024 columns, where sgemm ran 10% faster per feature than
    on the 559 that a width not rounded gave."""
    return int(min(d, max(1, CHUNK_BYTES // (8 * max(n, 1)) // 256) * 256))


class ArrayChunks:
    """An in-memory (n, d) array seen as column chunks."""

    def __init__(self, x: np.ndarray):
        self.x = x
        self.shape = x.shape
        self.width = chunk_width(*x.shape)

    def column_chunks(self, start: int = 0) -> Iterator[tuple[int, int, np.ndarray]]:
        """Chunks of rows ``start .. n``."""
        for f0 in range(0, self.shape[1], self.width):
            f1 = min(self.shape[1], f0 + self.width)
            yield f0, f1, self.x[start:, f0:f1]


class ChunkedMatrix:
    """An (n, d) float32 matrix in a file, stored as consecutive column chunks.

    Parameters
    ----------
    path : path-like
        File to create (truncated); removed by :meth:`remove`.
    n, d : int
        Shape.
    """

    dtype = np.dtype(np.float32)
    #: True for a view whose values are ``max(x, 0)`` of the file's (see relu_view).
    relu = False

    def __init__(self, path, n: int, d: int):
        self.path = os.fspath(path)
        self.shape = (n, d)
        self.width = chunk_width(n, d)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        self._buf = None  # the chunks' read buffer, made at the first read
        os.ftruncate(self._fd, n * d * self.dtype.itemsize)

    def _chunks(self):
        n, d = self.shape
        for f0 in range(0, d, self.width):
            f1 = min(d, f0 + self.width)
            yield f0, f1, n * f0 * self.dtype.itemsize  # chunk offset in bytes

    def write_rows(self, start: int, block: np.ndarray) -> None:
        """Store rows ``start .. start + len(block)`` (block: (m, d))."""
        block = np.asarray(block, dtype=self.dtype)
        for f0, f1, offset in self._chunks():
            data = memoryview(np.ascontiguousarray(block[:, f0:f1])).cast("B")
            at, done = offset + start * (f1 - f0) * self.dtype.itemsize, 0
            while done < data.nbytes:  # straight from the array: no bytes copy
                done += os.pwritev(self._fd, [data[done:]], at + done)

    def column_chunks(self, start: int = 0) -> Iterator[tuple[int, int, np.ndarray]]:
        """Each chunk's rows ``start .. n`` as an (n - start, w) array, read into one
        buffer reused from chunk to chunk (fresh memory costs page faults: measured
        1.5 s per GB on a cold VM), and from call to call (out of core a layer is read
        once per row panel), so a chunk is valid until the next one is read."""
        n = self.shape[0] - start
        if self._buf is None:
            self._buf = np.empty(self.shape[0] * self.width, dtype=self.dtype)
        buf = self._buf
        for f0, f1, offset in self._chunks():
            offset += start * (f1 - f0) * self.dtype.itemsize  # chunks are row-major
            view = buf[: n * (f1 - f0)]
            done, target = 0, memoryview(view).cast("B")
            while done < target.nbytes:  # preadv may return short counts
                got = os.preadv(self._fd, [target[done:]], offset + done)
                if got <= 0:
                    raise OSError(f"{self.path}: unexpected end of file")
                done += got
            if self.relu:
                np.maximum(view, 0, out=view)
            yield f0, f1, view.reshape(n, f1 - f0)

    def relu_view(self) -> ChunkedMatrix:
        """The same file read as ``max(x, 0)``: a ReLU layer without a file of its own.
        It shares the descriptor; whichever of the two is removed removes the file."""
        view = object.__new__(ChunkedMatrix)
        view.__dict__.update(self.__dict__)
        view.relu, view._buf = True, None
        return view

    def file_layout(self) -> tuple[int, np.ndarray, np.ndarray]:
        """(open descriptor, each chunk's byte offset, each chunk's width): row r of
        chunk k is ``width[k]`` float32 values at ``offset[k] + r * width[k] * 4``."""
        chunks = list(self._chunks())
        offsets = np.array([off for _, _, off in chunks], dtype=np.int64)
        widths = np.array([f1 - f0 for f0, f1, _ in chunks], dtype=np.int64)
        return self._fd, offsets, widths

    def to_array(self) -> np.ndarray:
        out = np.empty(self.shape, dtype=self.dtype)
        for f0, f1, chunk in self.column_chunks():
            out[:, f0:f1] = chunk
        return out

    def remove(self) -> None:
        self._buf = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
            os.unlink(self.path)
