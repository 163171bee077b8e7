"""The errors a user can fix. Each message is one line, ``"<problem>; <what to do>"``,
which the command line prints as it is (exit code 2) and the Python API raises.

Library code raises these types; callers tell them apart by type, never by message.
"""

from __future__ import annotations

import re


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


# -- one message, two audiences ----------------------------------------------------------
# Messages name the command-line flag and, where Python differs, its keyword beside it:
# "--logits (Python: logits=True)". Each boundary keeps its own words.


def command_line_message(message: str) -> str:
    """A refusal's message for the command line: without the words for Python callers."""
    return _FOR_PYTHON.sub("", message)


def python_message(message: str) -> str:
    """A refusal's message as a Python caller needs it: each command-line flag as its
    keyword (``--logits`` -> ``logits=True``, ``--samples 300`` -> ``samples=300``,
    ``--mean 0.5,0.5,0.5`` -> ``mean=(0.5, 0.5, 0.5)``, ``--replace`` ->
    ``replace=True``), without the parentheses that said the keyword for Python
    (``--logits (Python: logits=True)`` says it once)."""
    return _FLAG.sub(_keyword, _FOR_PYTHON.sub("", message))


#: A flag, and the value written after it (a number, a fraction, a quoted or bracketed
#: value, a comma list, a placeholder such as N or NAME).
_FLAG = re.compile(
    r"--([a-z][a-z-]*)(?: ('[^']*'|\([^()]*\)|\[[^\[\]]*\]|\d[\d./,]*|[A-Z]+)(?![\w']))?"
)
#: A parenthesis saying the keyword beside a flag: "(Python: logits=True)", "(keep_labels=True)".
_FOR_PYTHON = re.compile(r" \((?:Python: )?[a-z_]+=[^()]*\)")
#: Flags that take no value: True in Python.
_SWITCHES = {"logits", "keep-labels", "replace", "first"}


def _keyword(match: re.Match) -> str:
    flag, value = match.group(1), match.group(2)
    keyword = "store" if flag == "cache-dir" else flag.replace("-", "_")
    if flag in _SWITCHES:
        return f"{keyword}=True"
    if value is None:
        return f"{keyword}="
    if "," in value and value[0].isdigit():
        value = f"({', '.join(value.split(','))})"
    return f"{keyword}={value}"
