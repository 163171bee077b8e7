"""One vocabulary for the pipeline's progress: stage names, their labels and units,
used by the command line's bars and the dashboard's progress box
(:func:`fracdash.web.computing.progress_view`) alike.

The pipeline reports ``progress(stage, done, total, detail)`` (see
:data:`fracdash.pipeline.Progress`); :class:`ProgressBars` draws it as tqdm bars on
stderr. This module imports neither the CLI nor the web code.
"""

from __future__ import annotations

import sys
import time
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


#: An ETA is said only once a stage has done this share of its work...
ETA_MIN_SHARE = 0.05
#: ...over at least this many seconds: a pace measured over less predicts nothing.
ETA_MIN_SECONDS = 2.0


def eta_seconds(done: float, total: float, elapsed: float) -> float | None:
    """Seconds left in a stage at its pace so far, or None until it has progressed
    enough to predict it (:data:`ETA_MIN_SHARE` of its work, :data:`ETA_MIN_SECONDS`)."""
    if total <= 0 or done <= 0 or done >= total:
        return None
    if done / total < ETA_MIN_SHARE or elapsed < ETA_MIN_SECONDS:
        return None
    return elapsed / done * (total - done)


def about(seconds: float) -> str:
    """``"about 40 s"``, ``"about 4 min"``, ``"about 2 h"``: rounded as an estimate
    should be."""
    if seconds < 60:
        return f"about {max(10, round(seconds, -1)):.0f} s"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60):.0f} min"
    return f"about {seconds / 3600:.1f} h".replace(".0 h", " h")


class ProgressBars:
    """tqdm bars on stderr fed by the pipeline's ``progress(stage, done, total, detail)``.
    The order stage's detail (the layer being ordered) is kept in :attr:`layer`, so that
    an error can name the layer it happened in. A stage's ETA is shown once it has
    progressed enough to predict it (:func:`eta_seconds`), from the stage's start: the
    previous report (a stage's first report comes after its first step)."""

    def __init__(self):
        self._bars = {}
        self._started: dict[str, float] = {}
        self._last = time.monotonic()
        self.layer: str | None = None

    def __call__(self, stage_name: str, done: int, total: int, detail: str) -> None:
        from tqdm import tqdm

        now = time.monotonic()
        if stage_name == "order" and detail:
            self.layer = detail
        bar = self._bars.get(stage_name)
        if bar is None:
            s = stage(stage_name)
            # Orders are counted in work (layers weigh their width): a percentage. No
            # tqdm {remaining}: its pace from the first steps can say hours at 0%.
            count = "{percentage:3.0f}%" if s.percent else "{n_fmt}/{total_fmt} {unit}"
            bar = tqdm(total=total, desc=s.label, unit=s.unit, file=sys.stderr,
                       bar_format="{desc}: " + count + "|{bar}| [{elapsed}{postfix}]")  # fmt: skip
            self._bars[stage_name] = bar
            self._started[stage_name] = self._last
        left = eta_seconds(done, total, now - self._started[stage_name])
        postfix = [detail, f"{about(left)} left" if left is not None else ""]
        bar.set_postfix_str(", ".join(p for p in postfix if p), refresh=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
        self._last = now

    def close(self) -> None:
        """Close every bar (an error line then starts on a line of its own)."""
        for bar in self._bars.values():
            bar.close()
