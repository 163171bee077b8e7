"""A Keras callback that records a model's checkpoints during training; built by
``fracdash.keras.Checkpoints``, which gives it the recorder
(:func:`fracdash.series.record_checkpoint`)."""

from __future__ import annotations

from collections.abc import Callable

import keras


class Checkpoints(keras.callbacks.Callback):
    """Hand the model to ``record(model, step)`` at the end of every ``every``-th epoch.

    Parameters
    ----------
    record : callable(keras.Model, int)
        What records a checkpoint; ``step`` is the epoch, counted from 1.
    every : int
        Record every this many epochs (1: each epoch).
    """

    def __init__(self, record: Callable, every: int = 1):
        super().__init__()
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every={every!r} must be a whole number of epochs, 1 or more")
        self.record, self.every = record, every
        self.steps: list[int] = []

    def on_epoch_end(self, epoch, logs=None):
        step = epoch + 1
        if step % self.every == 0:
            self.record(self.model, step)
            self.steps.append(step)
