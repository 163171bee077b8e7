"""What the page says in one line (no Dash, no Keras): the VGG16 base's note, an older
stored note said as today's, an error in the progress line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fracdash.errors import FracdashError
from fracdash.models.training import VGG_WEIGHTS_FILE, BaseWeights
from fracdash.web.messages import MAX_ERROR, error_line, readable_note

SENTENCE = (
    "VGG16 base at a seeded random initialisation, not ImageNet weights: to use them, put "
    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 in ~/.keras/models/"
)
# What a run stored before said, Keras's failed download quoted (and cut) in it.
OLD_NOTE = (
    "trained on mnist (60000 samples, 5 epochs), vgg16-0123abcd.keras; VGG16 base frozen "
    "at a seeded random initialisation, not ImageNet weights (download failed: "
    "tps://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5: None -- [Errno -3] Temporary "
    "failure in name resolution); to use them, put "
    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 in {home}/.keras/models/"
)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A home folder of its own, Keras's folder under it (no $KERAS_HOME)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    return tmp_path


def sentences(text: str) -> list[str]:
    """``text`` cut after each ".", "!" or "?" that ends a sentence (a file name's dots
    do not)."""
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def test_the_random_base_note_is_one_sentence_naming_the_file_and_the_folder(home):
    why = "download failed: tps://storage.googleapis.com/x.h5: None -- [Errno -3] Temporary"
    note = BaseWeights(None, why).describe()
    assert note == SENTENCE
    assert len(sentences(note)) == 1
    assert VGG_WEIGHTS_FILE in note and note.endswith(" in ~/.keras/models/")
    assert "download failed" not in note and "tps://" not in note and "Errno" not in note
    # The folder is Keras's: $KERAS_HOME moves it (outside home: the whole path).
    elsewhere = home.parent / "keras-elsewhere"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_HOME", str(elsewhere))
        assert BaseWeights(None).describe().endswith(f" in {(elsewhere / 'models').as_posix()}/")
    weights = home / ".keras" / "models" / VGG_WEIGHTS_FILE
    assert (
        BaseWeights(weights).describe()
        == f"VGG16 base frozen at ImageNet weights ({VGG_WEIGHTS_FILE})"
    )


def test_an_older_note_reads_as_today(home):
    old = OLD_NOTE.format(home=Path(home).as_posix())
    assert readable_note(old) == (
        "trained on mnist (60000 samples, 5 epochs), vgg16-0123abcd.keras; " + SENTENCE
    )
    assert readable_note(old + " · more") == readable_note(old) + " · more"
    for note in ("trained on mnist (600 samples, 1 epochs), lenet5-1.keras", SENTENCE, ""):
        assert readable_note(note) == note  # nothing to say otherwise


def test_an_error_is_one_readable_line():
    trace = (
        "Traceback (most recent call last):\n"
        '  File "/x/fracdash/runs.py", line 210, in precompute_scenario\n'
        "    model, note = trained_model(\n"
        "ValueError: the scenario's data is missing"
    )
    assert error_line(trace) == "ValueError: the scenario's data is missing"
    assert error_line("could not read\n  the file x.npz:\n\tit is empty") == (
        "could not read the file x.npz: it is empty"
    )
    # fracdash's own errors say the problem and the fix: no type name in front.
    assert error_line(FracdashError("x has 3 rows, y 4; pass one label per row")) == (
        "x has 3 rows, y 4; pass one label per row"
    )
    assert error_line(KeyError("conv")) == "KeyError: 'conv'"
    assert error_line(MemoryError()) == "MemoryError"
    assert error_line("") == error_line(None) == "unknown error"
    long = error_line("word " * 100)
    assert len(long) == MAX_ERROR and long.endswith("…") and "\n" not in long
