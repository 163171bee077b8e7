"""The simplification scenario's VGG16 base: Keras's ImageNet download when it works,
a seeded random base (said in the note, with the file and folder to use) when not.
The download is faked: keras.utils.get_file is replaced, and a stand-in weights file in
Keras's legacy .h5 layout (what the real file is) plays the ImageNet weights."""

from __future__ import annotations

import numpy as np
import pytest

from fracdash.models import training as scenarios
from fracdash.scenarios import SCENARIOS


@pytest.fixture(scope="module")
def stand_in(keras, tmp_path_factory):
    """A VGG16 no-top weights file with seeded weights, laid out like the real one."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(99)
    model = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    for w in model.weights:  # distinct from both Keras's and fracdash's initialisation
        w.assign(np.random.default_rng(w.shape[-1]).normal(0, 0.05, w.shape).astype("float32"))
    path = tmp_path_factory.mktemp("standin") / scenarios.VGG_WEIGHTS_FILE
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    return path, [w.numpy() for w in model.weights]


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras" / "models"


def fake_get_file(monkeypatch, keras, behaviour):
    calls = []

    def get_file(fname, origin, cache_subdir, file_hash):
        calls.append((fname, cache_subdir, file_hash))
        return behaviour()

    monkeypatch.setattr(keras.utils, "get_file", get_file)
    return calls


def base_weights(model):
    return [w.numpy() for w in model.layers[1].weights]


def test_download_gives_the_imagenet_base(keras, keras_home, stand_in, monkeypatch):
    source, expected = stand_in

    def download():
        keras_home.mkdir(parents=True)
        target = keras_home / scenarios.VGG_WEIGHTS_FILE
        target.write_bytes(source.read_bytes())
        return str(target)

    calls = fake_get_file(monkeypatch, keras, download)
    weights = scenarios.vgg16_base_weights()
    assert weights.imagenet and weights.path == keras_home / scenarios.VGG_WEIGHTS_FILE
    assert calls == [(scenarios.VGG_WEIGHTS_FILE, "models", scenarios.VGG_WEIGHTS_MD5)]
    for got, want in zip(base_weights(scenarios.build_vgg16(weights)), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    assert "ImageNet weights" in weights.describe()
    assert scenarios.vgg16_base_weights() == weights and len(calls) == 1  # cached now


def test_offline_falls_back_to_the_seeded_random_base(keras, keras_home, stand_in, monkeypatch):
    def offline():
        raise Exception("URL fetch failure: [Errno -2] Name or service not known")

    fake_get_file(monkeypatch, keras, offline)
    weights = scenarios.vgg16_base_weights()
    assert not weights.imagenet
    note = weights.describe()
    assert "seeded random" in note and "Name or service not known" in weights.why_not
    assert "Name or service not known" not in note  # the note says what to do, not why
    assert f"put {scenarios.VGG_WEIGHTS_FILE} in {keras_home}/" in note
    first = base_weights(scenarios.build_vgg16(weights))
    second = base_weights(scenarios.build_vgg16(weights))
    for a, b, real in zip(first, second, stand_in[1], strict=True):
        np.testing.assert_array_equal(a, b)  # seeded: the same base every time
        assert not np.array_equal(a, real)


def test_the_recipe_and_the_note_tell_the_bases_apart(keras, keras_home, stand_in, monkeypatch):
    """trained_model stores one model per base; its note names the base. Training is
    replaced by a tiny model (what is tested is the recipe, not VGG16's training)."""
    trained = []

    def tiny_train(scenario, x, y, epochs, progress=None, base=None):
        trained.append(base)
        return keras.Sequential([keras.Input((2,)), keras.layers.Dense(10, activation="softmax")])

    monkeypatch.setattr(scenarios, "train", tiny_train)
    spec = SCENARIOS["simplification"]
    models = keras_home.parent.parent / "store-models"

    def offline():
        raise Exception("no network")

    fake_get_file(monkeypatch, keras, offline)
    _, random_note = scenarios.trained_model(spec, models, epochs=1, train_samples=20)
    assert "seeded random" in random_note and scenarios.VGG_WEIGHTS_FILE in random_note
    keras_home.mkdir(parents=True)
    (keras_home / scenarios.VGG_WEIGHTS_FILE).write_bytes(stand_in[0].read_bytes())
    _, imagenet_note = scenarios.trained_model(spec, models, epochs=1, train_samples=20)
    assert "ImageNet weights" in imagenet_note
    assert [b.imagenet for b in trained] == [False, True]
    files = sorted(p.name for p in models.glob("vgg16-*.keras"))
    assert len(files) == 2  # two recipes, two stored models
