"""Writing an export: the target checked first, then written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fracdash.errors import ExportError


def check_target(path) -> Path:
    """``path`` as a :class:`~pathlib.Path` if a file can be written there, else
    :class:`ExportError`: its folder must exist and be writable, and ``path`` must not
    be a folder. Checked before any rendering, so that a typo fails at once."""
    path = Path(path).expanduser()
    folder = path.parent
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder; name a file")
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write {path}: folder {folder} is not writable")
    return path


def _umask() -> int:
    # The only portable way to read the umask is to set it; the CLI is single-threaded.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all.

    The bytes go to a temporary file in the target's folder, which then replaces
    ``path`` (:func:`os.replace`, atomic on one file system): a reader never sees a
    half-written file, and a failure leaves any earlier file as it was.

    Raises
    ------
    OSError
        The folder is missing or not writable, the disk is full, ...; the temporary
        file is removed.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp creates 0600; an export is an ordinary file, readable as the umask allows.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
