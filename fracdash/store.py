"""The store: fracdash's one content-addressed place for results, on diskcache.

"Store" is the project's one word for it (older spellings still accepted: ``cache=``,
``--cache-dir``, ``$FRACDASH_CACHE``).

Keys are sha256 digests of ``{stage, params, parents, CACHE_VERSION}``; chaining a
stage's key into the next one means that a changed parameter recomputes only the
stages after it. Values are stored as bytes (``numpy.save`` without pickle, or JSON),
so reading the store never unpickles anything. diskcache writes each value in one
SQLite transaction: an interrupted run leaves finished entries whole and no half entry.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

#: Bump when a stage's output changes meaning; old entries are then never read.
CACHE_VERSION = 1


def default_store_dir() -> Path:
    """``$FRACDASH_STORE`` (or its older name ``$FRACDASH_CACHE``), else
    ``~/.cache/fracdash``."""
    env = os.environ.get("FRACDASH_STORE") or os.environ.get("FRACDASH_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "fracdash"


def store_argument(store, old, old_name: str, *, stacklevel: int = 3):
    """The ``store=`` argument of a public function that still takes its older name.

    ``old`` is the value given under ``old_name`` (``cache`` or ``cache_dir``), None when
    not given: it is used with a :class:`DeprecationWarning` naming ``store=``. Both
    given is a :class:`TypeError`. ``stacklevel`` points the warning at the caller's
    caller (the user's line).
    """
    if old is None:
        return store
    if store is not None:
        raise TypeError(f"both store= and {old_name}= given; pass store= only "
                        f"({old_name}= is its older name)")  # fmt: skip
    warnings.warn(f"{old_name}= is deprecated; pass store= instead", DeprecationWarning,
                  stacklevel=stacklevel)  # fmt: skip
    return old


def stage_key(stage: str, params: dict | None = None, parents: tuple[str, ...] = ()) -> str:
    """sha256 hex digest naming one stage's output."""
    doc = {"stage": stage, "params": params or {}, "parents": list(parents), "v": CACHE_VERSION}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def array_digest(*arrays) -> str:
    """sha256 of arrays' dtypes, shapes and bytes."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def array_to_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(a), allow_pickle=False)
    return buf.getvalue()


def array_from_bytes(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)


class Store:
    """Keyed bytes, arrays and JSON documents in one diskcache directory.

    Parameters
    ----------
    directory : path-like, optional
        Where the cache lives; :func:`default_store_dir` by default.
    """

    def __init__(self, directory=None):
        import diskcache

        self.directory = Path(directory).expanduser() if directory else default_store_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._cache = diskcache.Cache(str(self.directory / "store"), size_limit=2**40)

    def __contains__(self, key: str) -> bool:
        return key in self._cache

    def get_bytes(self, key: str) -> bytes | None:
        value = self._cache.get(key)
        return bytes(value) if value is not None else None

    def set_bytes(self, key: str, value: bytes) -> None:
        self._cache.set(key, bytes(value))

    def get_array(self, key: str) -> np.ndarray | None:
        data = self.get_bytes(key)
        return None if data is None else array_from_bytes(data)

    def set_array(self, key: str, value: np.ndarray) -> None:
        self.set_bytes(key, array_to_bytes(value))

    def get_json(self, key: str):
        data = self.get_bytes(key)
        return None if data is None else json.loads(data.decode())

    def set_json(self, key: str, value) -> None:
        self.set_bytes(key, json.dumps(value, sort_keys=True).encode())

    def delete(self, key: str) -> int:
        """Remove ``key``; return the bytes it held (0 if it was not stored)."""
        data = self._cache.pop(key, None)
        return len(data) if data is not None else 0

    def size_of(self, key: str) -> int:
        """Bytes stored under ``key`` (0 if absent)."""
        data = self._cache.get(key)
        return len(data) if data is not None else 0

    def keys(self) -> list[str]:
        """Every stored key."""
        return list(self._cache.iterkeys())

    @contextmanager
    def lock(self, key: str):
        """Hold an exclusive cross-process lock on ``key`` for the ``with`` block.

        ``flock`` on ``<store>/locks/<sha256 of key>.lock``, blocking: the OS releases it
        when the holder's file closes, including when the holder is killed (``kill -9``),
        so a crashed run never leaves a stale lock. Not reentrant: taking a lock that this
        process already holds waits forever. The lock files stay (a few bytes each);
        deleting one that another process is waiting on would split the lock in two.
        """
        locks = self.directory / "locks"
        locks.mkdir(exist_ok=True)
        path = locks / f"{hashlib.sha256(key.encode()).hexdigest()}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the only descriptor releases the flock

    def close(self) -> None:
        self._cache.close()
