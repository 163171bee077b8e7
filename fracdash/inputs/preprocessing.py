"""The user's preprocessing: ``--scale``, ``--mean``, ``--std`` (and the Python keywords of
the same names), in torchvision's convention: ``(x * scale - mean) / std`` per channel."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fracdash.errors import UserDataError


def parse_scale(text) -> float:
    """The factor of ``--scale``: a positive finite number (``0.00392``, ``255``) or
    fraction (``1/255``).

    Parameters
    ----------
    text : str or float

    Returns
    -------
    float

    Raises
    ------
    UserDataError
        Anything else (``0``, ``-1``, ``inf``, ``1/0``, ``abc``).
    """
    number, slash, denominator = str(text).strip().partition("/")
    try:
        value = float(number) / float(denominator) if slash else float(number)
    except (ValueError, ZeroDivisionError, OverflowError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise UserDataError(
            f"--scale {str(text)!r} is not a positive number or fraction; "
            "give e.g. --scale 1/255 for a model trained on [0, 1]"
        )
    return value


def scaled(x: np.ndarray, scale, model_float: bool) -> np.ndarray:
    """x times ``scale`` (float32 unless x is a wider float); integers for a float model
    become float32 with their values unchanged (no implicit /255)."""
    if scale is not None:
        factor = parse_scale(scale)
        if np.issubdtype(x.dtype, np.floating) and x.dtype.itemsize > 4:
            return x * factor  # float64 stays float64
        return x.astype(np.float32) * np.float32(factor)
    if model_float and not np.issubdtype(x.dtype, np.floating):
        return x.astype(np.float32)
    return x


@dataclass(frozen=True)
class Preprocessing:
    """What is done to x before the model sees it: ``(x * scale - mean) / std``, per
    channel (torchvision's ``ToTensor`` is ``scale=1/255``; its ``Normalize(mean, std)``
    is ``mean``, ``std``), each part optional.

    Attributes
    ----------
    scale : float or None
    mean, std : tuple of float or None
        One value, or one per channel of the model's input.
    """

    scale: float | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None

    @classmethod
    def parse(cls, scale=None, mean=None, std=None) -> Preprocessing:
        """From the command line's text or the Python keywords' numbers."""
        return cls(
            scale=None if scale is None else parse_scale(scale),
            mean=None if mean is None else parse_values(mean, "mean", positive=False),
            std=None if std is None else parse_values(std, "std", positive=True),
        )

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.scale, self.mean, self.std))

    def describe(self) -> str:
        """One line for the run's header: ``x * 0.00392, then (x - 0.1307) / 0.3081``."""
        if not self:
            return "none (x as given)"
        parts = []
        if self.scale is not None:
            parts.append(f"x * {self.scale:.6g}")
        shown = lambda v: ", ".join(f"{e:g}" for e in v)  # noqa: E731
        if self.mean is not None or self.std is not None:
            mean = shown(self.mean) if self.mean is not None else "0"
            std = shown(self.std) if self.std is not None else "1"
            parts.append(f"(x - ({mean})) / ({std}) per channel")
        return ", then ".join(parts)

    def flags(self) -> str:
        """The command-line flags that say the same (Python: the same keywords)."""
        shown = lambda v: ",".join(f"{e:g}" for e in v)  # noqa: E731
        parts = [] if self.scale is None else [f"--scale {_fraction(self.scale)}"]
        parts += [] if self.mean is None else [f"--mean {shown(self.mean)}"]
        parts += [] if self.std is None else [f"--std {shown(self.std)}"]
        return " ".join(parts) or "no preprocessing"

    def as_dict(self) -> dict:
        return {"scale": self.scale, "mean": self.mean and list(self.mean),
                "std": self.std and list(self.std)}  # fmt: skip

    def apply(self, x: np.ndarray, channel_axis: int | None, model_float: bool) -> np.ndarray:
        """``x`` preprocessed; ``channel_axis``: where the model's channels are (None:
        no channel axis, one value of mean and std allowed)."""
        x = scaled(x, self.scale, model_float)
        if self.mean is None and self.std is None:
            return x
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(np.float32)
        channels = 1 if channel_axis is None else x.shape[channel_axis]
        shape = [1] * x.ndim
        if channel_axis is not None:
            shape[channel_axis] = channels
        out = x
        for values, what in ((self.mean, "mean"), (self.std, "std")):
            if values is None:
                continue
            if len(values) not in (1, channels):
                raise UserDataError(
                    f"--{what} gives {len(values)} values, the model's input has {channels} "
                    f"channel{'s' if channels > 1 else ''}; give 1 value or {channels}"
                )
            v = np.asarray(values, dtype=x.dtype)
            v = v.reshape(shape) if len(values) == channels and channels > 1 else v[0]
            out = out - v if what == "mean" else out / v
        return out.astype(x.dtype, copy=False)


def _fraction(value: float) -> str:
    return "1/255" if abs(value - 1 / 255) < 1e-12 else f"{value:g}"


def parse_values(text, what: str, positive: bool) -> tuple[float, ...]:
    """``0.5`` or ``0.485,0.456,0.406`` (or numbers) as a tuple of finite floats."""
    items = text if isinstance(text, list | tuple | np.ndarray) else str(text).split(",")
    try:
        values = tuple(float(v) for v in items)
    except (TypeError, ValueError):
        values = ()
    if not values or not all(math.isfinite(v) and (v > 0 or not positive) for v in values):
        kind = "positive numbers" if positive else "numbers"
        raise UserDataError(
            f"--{what} {text!r} is not one or more {kind}; give e.g. --{what} 0.1307 or "
            f"--{what} 0.485,0.456,0.406 (one per channel)"
        )
    return values


def channel_axis(input_shape: tuple) -> int | None:
    """Where a model input's channels are: last for ``(h, w, c)``, 1 for PyTorch's
    ``(c, h, w)`` (c of 1 or 3 and a last axis that is no channel count), None for a
    flat input."""
    if len(input_shape) != 3:
        return None
    first, last = input_shape[0], input_shape[-1]
    if first in (1, 3) and last not in (1, 3):
        return 1
    return -1


#: Normalisations in common use: torchvision's MNIST tutorial, (0.5, 0.5), ImageNet's.
COMMON_NORMALIZE = (((0.1307,), (0.3081,)), ((0.5,), (0.5,)),
                    ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)))  # fmt: skip
#: A common preprocessing must beat the one given by this much accuracy to be suggested.
SUGGEST_GAIN = 0.10
PROBE = 256


def suggest_preprocessing(predict, x, y, given: Preprocessing, axis, model_float: bool) -> str:
    """A note when a common preprocessing classifies a probe of the data much better than
    the one given (a silent wrong guess costs accuracy, not an error), else "".

    Parameters
    ----------
    predict : callable
        The model's prediction on a batch of preprocessed samples.
    x, y : numpy.ndarray
        The data as the user gave them (laid out for the model), the labels.
    given : Preprocessing
    axis : int or None
        The model's channel axis (:func:`channel_axis`).
    """
    probe = np.linspace(0, len(x) - 1, min(PROBE, len(x))).astype(int)
    xs, ys = x[probe], np.asarray(y)[probe]
    raw = float(np.max(xs)) > 1.5  # 0..255 values rather than [0, 1]
    scale = 1 / 255 if raw else None
    channels = 1 if axis is None else xs.shape[axis]
    candidates = [Preprocessing(scale=scale)]
    candidates += [Preprocessing(scale, m, s) for m, s in COMMON_NORMALIZE
                   if len(m) in (1, channels)]  # fmt: skip
    if raw:
        candidates.append(Preprocessing())

    def accuracy(prep):
        try:
            out = np.asarray(predict(prep.apply(xs, axis, model_float)))
        except Exception:  # a candidate the model cannot take is no candidate
            return -1.0
        return float(np.mean(out.argmax(axis=1) == ys))

    have = accuracy(given)
    if have > 1 - SUGGEST_GAIN:  # nothing can beat it by the margin: no more probes
        return ""
    scores = {prep: accuracy(prep) for prep in candidates if prep != given}
    if not scores:
        return ""
    best = max(scores, key=scores.get)
    better = scores[best]
    if better < have + SUGGEST_GAIN:
        return ""
    return (
        f"the model classifies {have:.1%} of {len(probe)} samples right as preprocessed "
        f"({given.describe()}) but {better:.1%} with {best.flags()}: check how it was "
        "trained (README, 'Your model's preprocessing')"
    )
