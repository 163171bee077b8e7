"""The errors a user can fix. Each message is one line, ``"<problem>; <what to do>"``,
which the command line prints as it is (exit code 2) and the Python API raises.

Library code raises these types; callers tell them apart by type, never by message.
"""

from __future__ import annotations


class FracdashError(ValueError):
    """A problem with what the user gave fracdash (message: problem; fix)."""


class RunError(FracdashError):
    """A run name that cannot be used, or a run that does not exist."""


class ActivationError(FracdashError):
    """A layer's activations cannot be ordered (NaN or inf)."""


class PortInUse(FracdashError, OSError):
    """The dashboard's port is taken (message names the port and ``port=``/``--port``)."""


class ClusterError(FracdashError):
    """A Dask cluster that cannot be reached, was lost mid-run, or whose workers cannot
    read the shared directory (message names the address or path, and the fix)."""


class UserDataError(FracdashError):
    """A user model or data set that fracdash cannot analyze (message: problem; fix)."""


class DatasetError(FracdashError):
    """A dataset is missing, unknown, or its files are malformed."""


class ExportError(FracdashError):
    """An export cannot be written where asked (the message names the path and why)."""


class ScratchSpaceError(FracdashError, OSError):
    """The scratch disk (``$FRACDASH_TMPDIR``) has too little free space for a run's
    spilled activations and out-of-core distance matrix (message: bytes needed, bytes
    free, and the fix)."""


class CompareError(FracdashError):
    """Two runs that cannot be compared (other samples, unknown layers to pair)."""
