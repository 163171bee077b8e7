"""Where numba keeps the compiled functions of :mod:`fracdash.core` (``@njit(cache=True)``).

Numba caches next to the source (``fracdash/core/__pycache__``), else in its user-wide
folder (``$XDG_CACHE_HOME/numba`` or ``~/.cache/numba``). Where neither is writable (a
package installed by root, run by a user whose home is read-only) numba refuses to import
a module holding a cached function at all. Imported first by :mod:`fracdash.core`, this
module then points ``$NUMBA_CACHE_DIR`` at a writable folder: ``$FRACDASH_STORE/numba``,
``$XDG_CACHE_HOME/fracdash/numba``, else a private folder in the temporary directory.
Wherever numba's own choice works it is left alone.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

#: The folder of the cached functions' sources: numba's in-tree cache is its __pycache__.
CORE = Path(__file__).resolve().parent


def writable(folder) -> bool:
    """Whether ``folder`` exists or can be made and takes a new file: numba's own test
    of a cache folder (``_CacheLocator.ensure_cache_path``)."""
    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def numba_user_folder() -> Path:
    """Numba's user-wide cache folder: on Linux ``$XDG_CACHE_HOME/numba`` or
    ``~/.cache/numba``, worked out as numba's ``AppDirs`` does but without importing
    numba (every ``import fracdash`` of a read-only install asks, error paths included);
    elsewhere numba's own answer."""
    if sys.platform.startswith("linux"):
        return Path(os.getenv("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))) / "numba"
    from numba.misc.appdirs import AppDirs

    return Path(AppDirs(appname="numba", appauthor=False).user_cache_dir)


def private_temp_folder(temp: Path) -> Path | None:
    """``temp/fracdash-numba-<uid>``, made private, or None if it is not ours alone: numba's
    cache holds code that gets run, so a folder another user could write to is refused."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    folder = Path(temp) / f"fracdash-numba-{uid if uid is not None else 'user'}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or (uid is not None and info.st_uid != uid):
        return None
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    return folder if writable(folder) else None


def cache_folder(
    core: Path = CORE,
    environ: Mapping[str, str] = os.environ,
    temp: Path | None = None,
    numba_folder: Path | None = None,
) -> Path | None:
    """The folder ``$NUMBA_CACHE_DIR`` should name, or None where numba finds one itself.

    Parameters
    ----------
    core : Path
        The folder of the cached functions' sources.
    environ : mapping
        The environment (``NUMBA_CACHE_DIR``, ``FRACDASH_STORE``, ``XDG_CACHE_HOME``).
    temp : Path, optional
        The temporary directory (default: :func:`tempfile.gettempdir`).
    numba_folder : Path, optional
        Numba's user-wide cache folder (default: :func:`numba_user_folder`).

    Returns
    -------
    Path or None

    Raises
    ------
    RuntimeError
        If no folder at all is writable.
    """
    chosen = environ.get("NUMBA_CACHE_DIR")
    if (chosen and writable(chosen)) or writable(core / "__pycache__"):
        return None
    if writable(numba_folder or numba_user_folder()):
        return None
    # $FRACDASH_CACHE is the store's older name (fracdash.store.default_store_dir).
    store = environ.get("FRACDASH_STORE") or environ.get("FRACDASH_CACHE")
    xdg = environ.get("XDG_CACHE_HOME")
    for folder in (store and Path(store) / "numba", xdg and Path(xdg) / "fracdash" / "numba"):
        if folder and writable(folder.expanduser()):
            return folder.expanduser()
    try:
        temp = Path(temp or tempfile.gettempdir())
        return private_temp_folder(temp) or Path(
            tempfile.mkdtemp(prefix="fracdash-numba-", dir=temp)
        )
    except OSError:
        raise RuntimeError(
            f"fracdash: no writable folder for numba's compiled code ({core / '__pycache__'}, "
            "~/.cache, $FRACDASH_STORE and the temporary folder are read-only); set "
            "NUMBA_CACHE_DIR to a writable folder"
        ) from None


def place_numba_cache() -> Path | None:
    """Set ``$NUMBA_CACHE_DIR`` to :func:`cache_folder` where numba would find no writable
    folder (before fracdash's cached functions are compiled); returns it, else None."""
    folder = cache_folder()
    if folder is None:
        return None
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    if "numba" in sys.modules:  # numba reads its environment once, at import
        from numba.core import config

        config.reload_config()
    return folder


place_numba_cache()
