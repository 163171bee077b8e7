"""A view's selection and coloring by correctness, read from the page's URL words and
resolved into what an export draws: which samples are selected, and each sample's
correctness code.

The selection is written as the page writes it in ``?sel=`` (assets/samples.js,
``formatSelection``; assets/url_state.js keeps only what matches the same rule, and a
test holds the two languages to one table of cases): ``wrong`` (run A's misclassified),
``cell:T-P`` (a cell of run A's confusion matrix), ``brush:LAYER:X0,Y0,X1,Y1`` (a
rectangle of grid cells of run A's glyph of LAYER, inclusive, clipped to the glyph),
``brush-b:…`` (the same in run B's graph), and a comparison's ``diff`` (the samples
the runs classify differently) and ``moved`` (the "changed most",
:attr:`fracdash.run_comparison.Comparison.moved`). The page shows nothing for a rule
that does not apply; an export refuses it in one line that says why and what to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from fracdash.errors import ExportError
from fracdash.export.marking import Marking

#: The rule of a selection's text; assets/url_state.js's ``READ.sel`` is the same.
SELECTION_RULE = re.compile(
    r"(wrong|diff|moved|cell:\d{1,4}-\d{1,4}|brush(-b)?:.+:\d{1,5},\d{1,5},\d{1,5},\d{1,5})",
    re.ASCII,  # digits as JavaScript's \d: 0-9 only
)
#: What a selection may be, for the refusals.
FORMS = "wrong, diff, moved, cell:T-P, brush:LAYER:X0,Y0,X1,Y1 or brush-b:LAYER:X0,Y0,X1,Y1"
#: The rules that select in a comparison only.
COMPARING = ("diff", "moved")


@dataclass(frozen=True)
class Selection:
    """One parsed selection rule.

    Attributes
    ----------
    kind : {"wrong", "diff", "moved", "cell", "brush"}
    side : {"a", "b"}
        The graph a brush was drawn in (run A's for every other rule).
    truth, predicted : int or None
        A confusion cell's row and column.
    layer : str or None
        A brush's layer.
    rect : tuple of 4 int or None
        A brush's ``(x0, y0, x1, y1)`` grid cells.
    text : str
        The rule as written in the URL.
    """

    kind: str
    text: str
    side: str = "a"
    truth: int | None = None
    predicted: int | None = None
    layer: str | None = None
    rect: tuple[int, int, int, int] | None = None

    @property
    def needs_comparison(self) -> bool:
        """Whether the rule selects only while two runs are compared."""
        return self.kind in COMPARING or self.side == "b"


def parse_selection(text, where: str = "sel") -> Selection | None:
    """The selection rule ``text`` (the URL's ``sel`` value), or None for none.

    Parameters
    ----------
    text : str or None
    where : str
        How the user gave it, named in a refusal: ``"sel"`` (the URL) or
        ``"--select"`` (the command line).

    Raises
    ------
    ExportError
        ``text`` is not one of the page's rules (one line listing them).
    """
    if text is None or text == "":
        return None
    if not isinstance(text, str) or not SELECTION_RULE.fullmatch(text):
        shown = repr(text) if len(repr(text)) <= 60 else repr(text)[:57] + "..."
        raise ExportError(f"{_said(where, shown)} is not a selection; write {FORMS}")
    if text in ("wrong", "diff", "moved"):
        return Selection(text, text)
    if text.startswith("cell:"):
        truth, predicted = text[5:].split("-")
        return Selection("cell", text, truth=int(truth), predicted=int(predicted))
    head, layer_rect = text.split(":", 1)
    layer, rect = layer_rect.rsplit(":", 1)
    corners = tuple(int(v) for v in rect.split(","))
    return Selection("brush", text, "b" if head == "brush-b" else "a", layer=layer, rect=corners)


def _said(where: str, value: str) -> str:
    return f"{where}={value}" if where.isalnum() else f"{where} {value}"


def brush_mask(analysis, layer: str, rect) -> np.ndarray:
    """(n,) bool: the samples on the grid cells ``rect`` = ``(x0, y0, x1, y1)``
    (inclusive, either corner first, clipped to the glyph) of ``analysis``' layer."""
    g = analysis.layer(layer)
    x0, y0, x1, y1 = rect
    xa, xb = max(0, min(x0, x1)), min(g.width - 1, max(x0, x1))
    ya, yb = max(0, min(y0, y1)), min(g.height - 1, max(y0, y1))
    x, y = g.positions[:, 0], g.positions[:, 1]
    return (x >= xa) & (x <= xb) & (y >= ya) & (y <= yb)


def selection_mask(sel: Selection, analyses, comparison=None, where: str = "sel") -> np.ndarray:
    """(n,) bool: the samples ``sel`` selects, as the page selects them.

    Parameters
    ----------
    sel : Selection
    analyses : sequence of one or two Analysis
        Run A (and run B while comparing), every layer, on the curve drawn: a brush's
        cells are that curve's.
    comparison : Comparison, optional
        The two runs' comparison (:class:`fracdash.run_comparison.Comparison`), for
        ``moved``.
    where : str
        As for :func:`parse_selection`.

    Raises
    ------
    ExportError
        A cell outside the classes, or a brush on a layer its run has not (one line
        each, with the fix). A comparison's rule without a second run is
        :func:`check_view`'s refusal.
    """
    a = analyses[0]
    said = _said(where, sel.text)
    if sel.needs_comparison and len(analyses) < 2:
        raise ValueError(f"{said} needs two runs; check_view refuses it first")
    if sel.kind == "wrong":
        return a.labels != a.predictions
    if sel.kind == "diff":
        return analyses[0].predictions != analyses[1].predictions
    if sel.kind == "moved":
        if comparison is None:
            raise ValueError("the 'moved' selection needs the runs' comparison")
        mask = np.zeros(a.n, dtype=bool)
        mask[comparison.moved] = True
        return mask
    if sel.kind == "cell":
        k = len(a.class_names)
        if max(sel.truth, sel.predicted) >= k:
            raise ExportError(f"{said} names a class the run has not; classes are 0 to {k - 1}")
        return (a.labels == sel.truth) & (a.predictions == sel.predicted)
    run = analyses[1] if sel.side == "b" else a
    if sel.layer not in run.layer_names:
        which = "run B" if sel.side == "b" else "the run" if len(analyses) < 2 else "run A"
        shown = ", ".join(run.layer_names)
        raise ExportError(f"{said} brushes layer {sel.layer!r}, which {which} has not; "
                          f"its layers: {shown}")  # fmt: skip
    return brush_mask(run, sel.layer, sel.rect)


def selection_note(sel: Selection, mask: np.ndarray) -> str:
    """``selection: 12 classified differently`` — the rule and its count, for a title."""
    count = f"{int(mask.sum()):,}"
    words = {"wrong": "misclassified", "diff": "classified differently", "moved": "changed most"}
    if sel.kind in words:
        return f"selection: {count} {words[sel.kind]}"
    if sel.kind == "cell":
        return f"selection: {count} of true class {sel.truth} predicted {sel.predicted}"
    graph = " in run B" if sel.side == "b" else ""
    return f"selection: {count} brushed on {sel.layer}{graph}"


def check_view(sel_text, coloring: str, comparing: bool, where: str = "sel") -> Selection | None:
    """The selection ``sel_text`` once it is known to apply, before any run is read.

    Raises
    ------
    ExportError
        ``sel_text`` is no selection (:func:`parse_selection`), or it (or the
        "correctness" coloring) needs two runs and ``comparing`` is False.
    """
    sel = parse_selection(sel_text, where)
    url = where.isalnum()
    fix = "add vs=RUN_B" if url else "add --versus RUN_B"
    if coloring == "correctness" and not comparing:
        said = "labels=correctness" if url else "--coloring correctness"
        raise ExportError(f"{said} colors each sample by right or wrong in two runs; {fix}, "
                          "or color by the true classes")  # fmt: skip
    if sel is not None and sel.needs_comparison and not comparing:
        said = _said(where, sel.text)
        raise ExportError(f"{said} selects in a comparison of two runs; {fix}, or drop it")
    return sel


def view_marking(sel_text, coloring: str, analyses, comparison=None,
                 where: str = "sel") -> Marking | None:  # fmt: skip
    """What an export draws over its glyphs for a view: the selection ``sel_text`` (the
    URL's ``sel``) and, for the "correctness" coloring, each sample's correctness code.

    Parameters
    ----------
    sel_text : str or None
    coloring : {"absolute", "relative", "correctness"}
    analyses : sequence of one or two Analysis
        As for :func:`selection_mask`.
    comparison : Comparison, optional
        Needed for the "correctness" coloring and the ``moved`` selection
        (:func:`needs_comparison`).
    where : {"sel", "--select"}
        The URL's words or the command line's, in a refusal.

    Returns
    -------
    Marking or None
        None when there is nothing to draw over the glyphs.

    Raises
    ------
    ExportError
        A bad selection (:func:`check_view`, :func:`selection_mask`), or the
        correctness coloring of one run.
    """
    sel = check_view(sel_text, coloring, len(analyses) > 1, where)
    if sel is None and coloring != "correctness":
        return None
    mask = None if sel is None else selection_mask(sel, analyses, comparison, where)
    codes = comparison.correctness if coloring == "correctness" else None
    return Marking(mask, codes, "" if sel is None else selection_note(sel, mask))


def needs_comparison(sel_text, coloring: str) -> bool:
    """Whether :func:`view_marking` needs the runs' comparison (the correctness coloring,
    or the ``moved`` selection); a bad ``sel_text`` needs none (it is refused first)."""
    return coloring == "correctness" or sel_text == "moved"
