"""What the page says in one line: an error for the progress line, a run's note.

Pure text in, text out (no Dash): the progress line shows an error as one readable
line, never a traceback or a wall of text; a stored run's note is shown whole, so an
older note that quoted a failed download is said as the one sentence notes say today.
"""

from __future__ import annotations

import re

#: Characters an error line keeps (the line ends with "…" past that).
MAX_ERROR = 200

# An older note's VGG16 sentence, with the raw text of Keras's failed download in it;
# group 1: the folder it named.
_OLD_VGG_NOTE = re.compile(
    r"VGG16 base frozen at a seeded random initialisation, not ImageNet weights "
    r"\(download failed:.*?\); to use them, put \S+ in (\S+?)/?(?=$|;|\s·)",
    re.DOTALL,
)
# Lines of a traceback that say nothing to the page's reader.
_TRACE = re.compile(r"^\s*(Traceback \(most recent call last\):|File \".*\", line \d+)")


def error_line(error) -> str:
    """One readable line for an error: an exception or its text.

    A traceback is said by its last line (the error itself); any other text by all its
    lines joined, whitespace collapsed. An exception is its message, after its type's
    name unless it is one of fracdash's own (:mod:`fracdash.errors`: their messages say
    the problem and the fix). At most :data:`MAX_ERROR` characters, cut with "…".

    Parameters
    ----------
    error : BaseException or str
        What went wrong.

    Returns
    -------
    str
        One line, never empty.
    """
    from fracdash.errors import FracdashError

    if isinstance(error, BaseException):
        message = " ".join(str(error).split())
        if isinstance(error, FracdashError) and message:
            text = message
        else:
            text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    else:
        text = "" if error is None else str(error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if any(_TRACE.match(line) for line in lines):
        lines = lines[-1:]
    line = " ".join(" ".join(lines).split()) or "unknown error"
    if len(line) > MAX_ERROR:
        line = line[: MAX_ERROR - 1].rstrip() + "…"
    return line


def readable_note(note: str) -> str:
    """``note`` with an older VGG16 sentence (which quoted Keras's failed download)
    replaced by today's (:func:`fracdash.models.training.random_base_sentence`): which
    file to put in which folder for the ImageNet weights.

    Parameters
    ----------
    note : str
        A run's note (``analysis.meta["note"]``).

    Returns
    -------
    str
        The same note when it has no such sentence.
    """
    from fracdash.models.training import random_base_sentence

    return _OLD_VGG_NOTE.sub(lambda m: random_base_sentence(m.group(1)), str(note))
