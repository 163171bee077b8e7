"""The paper's five networks, built and trained with a seed, and stored (the table of
scenarios is :mod:`fracdash.scenarios`).

A trained model is stored as ``<cache>/models/<recipe digest>.keras``, where the
recipe covers everything that determines the weights (architecture version, training
data digest, seed, epochs, sample count). Training therefore happens once per recipe;
the problematic scenario reuses the easy scenario's model because its recipe is equal.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fracdash.datasets import load_dataset
from fracdash.scenarios import Scenario, prepare_images
from fracdash.store import array_digest

# Bumped per network when its architecture or initialisation changes.
ARCH_VERSION = {"lenet5": 1, "double_lenet5": 1, "vgg16": 2}
SEED = 1234
VGG_WEIGHTS_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG_WEIGHTS_MD5 = "6d6bbae143d832006294945121d1f1fc"  # Keras's own check for that file


def _lenet5_branch(x, prefix: str = ""):
    from keras import layers

    x = layers.Conv2D(6, 3, name=f"{prefix}conv2d0")(x)
    x = layers.Activation("relu", name=f"{prefix}relu0")(x)
    x = layers.Conv2D(16, 3, name=f"{prefix}conv2d1")(x)
    x = layers.Activation("relu", name=f"{prefix}relu1")(x)
    x = layers.Flatten(name=f"{prefix}flatten")(x)
    x = layers.Dense(128, name=f"{prefix}dense0")(x)
    x = layers.Activation("relu", name=f"{prefix}relu2")(x)
    return layers.Dropout(0.5, name=f"{prefix}dropout")(x)


def build_lenet5():
    """LeNet5 as the paper's authors built it (1,182,006 parameters)."""
    import keras
    from keras import layers

    inp = keras.Input((28, 28, 1), name="input")
    x = _lenet5_branch(inp)
    x = layers.Dense(10, name="dense1")(x)
    out = layers.Activation("softmax", name="prediction")(x)
    return keras.Model(inp, out, name="lenet5")


def build_double_lenet5():
    """Two LeNet5 branches, one on the input as-is and one on the input transposed by a
    built-in Permute layer (a 90° rotation composed with a mirror; no Lambda), joined."""
    import keras
    from keras import layers

    inp = keras.Input((28, 28, 1), name="input")
    rotated = layers.Permute((2, 1, 3), name="rotate")(inp)
    a = _lenet5_branch(inp, "a_")
    b = _lenet5_branch(rotated, "b_")
    x = layers.Concatenate(name="concatenate")([a, b])
    x = layers.Dense(10, name="dense1")(x)
    out = layers.Activation("softmax", name="prediction")(x)
    return keras.Model(inp, out, name="double_lenet5")


def keras_models_dir() -> Path:
    """Where Keras keeps downloaded weights: ``$KERAS_HOME/models`` (``~/.keras/models``)."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"


def typed_folder(folder: Path | str) -> str:
    """``folder`` as a person would type it: ``~/...`` under the home folder."""
    folder = Path(folder)
    try:
        return f"~/{folder.relative_to(Path.home()).as_posix()}"
    except ValueError:
        return folder.as_posix()


def random_base_sentence(folder: Path | str) -> str:
    """The note's one sentence for the seeded random VGG16 base: which file to put in
    which folder (Keras's ``folder``) to have the ImageNet weights instead."""
    return (
        "VGG16 base at a seeded random initialisation, not ImageNet weights: to use "
        f"them, put {VGG_WEIGHTS_FILE} in {typed_folder(folder)}/"
    )


@dataclass(frozen=True)
class BaseWeights:
    """The VGG16 base's weights: the ImageNet file, or None and why not (``why_not``:
    the download's own error, for logs; the note says only what to do)."""

    path: Path | None
    why_not: str = ""

    @property
    def imagenet(self) -> bool:
        return self.path is not None

    def describe(self) -> str:
        """One sentence for the run's note: the base's weights and, for the random base,
        which file to put in which folder to get the ImageNet weights."""
        if self.imagenet:
            return f"VGG16 base frozen at ImageNet weights ({self.path.name})"
        return random_base_sentence(keras_models_dir())


def vgg16_base_weights() -> BaseWeights:
    """The ImageNet weights of the VGG16 base: Keras's cached file, else Keras's own
    download (``keras.utils.get_file``, checked against Keras's published md5); offline,
    None with the reason, and the scenario falls back to a seeded random base."""
    cached = keras_models_dir() / VGG_WEIGHTS_FILE
    if cached.is_file():
        return BaseWeights(cached)
    import keras
    from keras.src.applications import vgg16

    try:
        got = keras.utils.get_file(
            VGG_WEIGHTS_FILE,
            vgg16.WEIGHTS_PATH_NO_TOP,
            cache_subdir="models",
            file_hash=VGG_WEIGHTS_MD5,
        )
    except Exception as exc:  # no network, a proxy, a bad hash: all mean "not here"
        text = " ".join(str(exc).split())
        return BaseWeights(None, f"download failed: {text[-160:]}")
    return BaseWeights(Path(got))


def _he_reinit(model) -> None:
    """Seeded He-normal kernels, zero biases. Keras's default Glorot init shrinks the
    signal by about half at each of the 13 ReLU convolutions, leaving a frozen random
    base whose features a dense head can barely use (30% on MNIST); He scaling keeps
    the activations' magnitude, as a variance-preserving random base should."""
    import keras

    for i, layer in enumerate(model.layers):
        if hasattr(layer, "kernel") and layer.kernel is not None:
            init = keras.initializers.HeNormal(seed=SEED + i)
            layer.kernel.assign(init(layer.kernel.shape))
            layer.bias.assign(keras.ops.zeros(layer.bias.shape))


def build_vgg16(weights: BaseWeights | None = None):
    """Frozen VGG16 convolutional base (nested, expanded by the graph) + dense head.
    The base holds ``weights.path`` (ImageNet) when given, else seeded He-normal weights."""
    import keras
    from keras import layers

    path = weights.path if weights is not None else None
    base = keras.applications.VGG16(
        include_top=False, weights=str(path) if path else None, input_shape=(32, 32, 3)
    )
    if path is None:
        _he_reinit(base)
    base.trainable = False
    inp = keras.Input((32, 32, 3), name="input")
    x = base(inp)
    x = layers.Flatten(name="flatten")(x)
    for i, width in enumerate((4096, 4096)):
        x = layers.Dense(width, name=f"dense{i}")(x)
        x = layers.Activation("relu", name=f"relu{i}")(x)
    x = layers.Dense(10, name="dense2")(x)
    out = layers.Activation("softmax", name="prediction")(x)
    return keras.Model(inp, out, name="vgg16_mnist")


BUILDERS = {"lenet5": build_lenet5, "double_lenet5": build_double_lenet5, "vgg16": build_vgg16}


def _recipe_digest(
    scenario: Scenario, epochs: int, train_samples: int | None, xdig: str, imagenet: bool
) -> str:
    import keras

    recipe = {
        "network": scenario.network,
        "arch": ARCH_VERSION[scenario.network],
        "shift": MAX_SHIFT,
        "train_on": scenario.train_on,
        "data": xdig,
        "seed": SEED,
        "epochs": epochs,
        "train_samples": train_samples,
        "imagenet": imagenet,
        "keras": keras.__version__.split(".")[0],
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:32]


BATCH = 128
MAX_SHIFT = 2  # pixels of random translation for the image networks


def shifted(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image (n, h, w, c) moved by up to MAX_SHIFT pixels, zero-filled: the
    usual augmentation that lifts LeNet5 past the paper's 98.96% on MNIST."""
    n, h, w, _ = x.shape
    m = MAX_SHIFT
    padded = np.pad(x, ((0, 0), (m, m), (m, m), (0, 0)))
    dy, dx = rng.integers(0, 2 * m + 1, size=(2, n))
    rows = (dy[:, None] + np.arange(h))[:, :, None]
    cols = (dx[:, None] + np.arange(w))[:, None, :]
    return padded[np.arange(n)[:, None, None], rows, cols]


def _fit(model, x, y, epochs: int, augment: bool, progress) -> None:
    import keras

    steps = epochs * -(-len(x) // BATCH)
    # Cosine decay to zero: the last epochs settle instead of bouncing around.
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    rng = np.random.default_rng(SEED)
    for epoch in range(epochs):
        xe = shifted(x, rng) if augment else x
        hist = model.fit(xe, y, batch_size=BATCH, epochs=1, shuffle=True, verbose=0)
        if progress:
            acc = hist.history["accuracy"][-1]
            progress("train", epoch + 1, epochs, f"train accuracy {acc:.4f}")


def train(scenario: Scenario, x, y, epochs: int, progress=None, base: BaseWeights | None = None):
    """Train the scenario's network with fixed seeds. VGG16 trains its head only, on
    features of the frozen base (``base``) computed once (the same result as fitting
    the whole model with a frozen base, at a fraction of the cost)."""
    import keras

    keras.utils.set_random_seed(SEED)
    if scenario.network != "vgg16":
        model = BUILDERS[scenario.network]()
        _fit(model, x, y, epochs, True, progress)
        return model
    model = build_vgg16(base)
    base = model.layers[1]
    feats = base.predict(x, batch_size=256, verbose=0)
    head_in = keras.Input(feats.shape[1:])
    h = head_in
    for layer in model.layers[2:]:
        h = layer(h)
    _fit(keras.Model(head_in, h), feats, y, epochs, False, progress)
    return model


def trained_model(
    scenario: Scenario,
    models_dir: Path,
    *,
    epochs: int | None = None,
    train_samples: int | None = None,
    progress=None,
):
    """The scenario's trained model, trained and stored on first use.

    Returns
    -------
    model : keras.Model
    note : str
        How the model was obtained (file, and for VGG16 which base weights).
    """
    import keras

    epochs = scenario.epochs if epochs is None else epochs
    if train_samples is None:
        train_samples = scenario.train_samples
    x, y = load_dataset(scenario.train_on, "train")
    if train_samples is not None:
        x, y = x[:train_samples], y[:train_samples]
    base = vgg16_base_weights() if scenario.network == "vgg16" else None
    imagenet = base is not None and base.imagenet
    digest = _recipe_digest(scenario, epochs, train_samples, array_digest(x, y), imagenet)
    path = models_dir / f"{scenario.network}-{digest}.keras"
    if not path.is_file():
        xp = prepare_images(x, scenario.network)
        model = train(scenario, xp, y.astype(np.int64), epochs, progress, base)
        models_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.keras")
        model.save(tmp)
        os.replace(tmp, path)  # never leave a half-written model behind
    model = keras.saving.load_model(path, safe_mode=True)
    note = f"trained on {scenario.train_on} ({len(x)} samples, {epochs} epochs), {path.name}"
    if base is not None:
        note += f"; {base.describe()}"
    return model, note
