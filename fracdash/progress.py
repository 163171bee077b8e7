"""One vocabulary for the pipeline's progress: stage names, their labels and units,
used by the command line's bars and the dashboard's progress line alike.

The pipeline reports ``progress(stage, done, total, detail)`` (see
:data:`fracdash.pipeline.Progress`); :class:`ProgressBars` draws it as tqdm bars on
stderr. This module imports neither the CLI nor the web code.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    """How a stage is named to people, and what its counter counts."""

    label: str
    unit: str
    #: Counted in work (layers weigh their width), so shown as a percentage, not k of n.
    percent: bool = False


STAGES = {
    "queued": Stage("queued", "step"),
    "start": Stage("starting", "step"),
    "train": Stage("training the model", "epoch"),
    "forward": Stage("forward pass", "batch"),
    "order": Stage("ordering layers", "step", percent=True),
}


def stage(name: str) -> Stage:
    """The stage called ``name`` (an unknown name is shown as it is)."""
    return STAGES.get(name, Stage(name, "step"))


def progress_line(stage_name: str, done: int, total: int, detail: str = "") -> str:
    """``forward pass: batch 3 of 40``, or for the orders ``ordering layers: 31% (relu0)``."""
    s = stage(stage_name)
    text = s.label
    if total and s.percent:
        text += f": {100 * done // total}%"
    elif total:
        text += f": {s.unit} {done} of {total}"
    if detail:
        text += f" ({detail})"
    return text


class ProgressBars:
    """tqdm bars on stderr fed by the pipeline's ``progress(stage, done, total, detail)``.
    The order stage's detail (the layer being ordered) is kept in :attr:`layer`, so that
    an error can name the layer it happened in."""

    def __init__(self):
        self._bars = {}
        self.layer: str | None = None

    def __call__(self, stage_name: str, done: int, total: int, detail: str) -> None:
        from tqdm import tqdm

        if stage_name == "order" and detail:
            self.layer = detail
        bar = self._bars.get(stage_name)
        if bar is None:
            s = stage(stage_name)
            # Orders are counted in work (layers weigh their width): a percentage and ETA.
            fmt = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]"
            bar = tqdm(
                total=total,
                desc=s.label,
                unit=s.unit,
                file=sys.stderr,
                bar_format=fmt if s.percent else None,
            )
            self._bars[stage_name] = bar
        bar.set_postfix_str(detail, refresh=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    def close(self) -> None:
        """Close every bar (an error line then starts on a line of its own)."""
        for bar in self._bars.values():
            bar.close()
