"""Build the store behind the README's "compare two models" and "watch a network learn"
pictures: the easy scenario on the first 2,000 MNIST test images, and a series of three
checkpoints of another LeNet5 on the same images, recorded during its training by
``fracdash.keras.Checkpoints`` (as a user's training script would).

    .venv/bin/python docs/make_walkthrough_store.py --cache-dir DIR [--samples 2000]
        [--epochs 3] [--train-samples 20000]

Then ``docs/make_screenshot.py --cache-dir DIR --run easy-2000 --query 'vs=lenet@1'``.
Trains two small networks (minutes on a laptop's CPU); runs already stored are kept.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def record_series(store, samples: int, epochs: int, train_samples: int, name: str) -> list:
    """Train a LeNet5 ``epochs`` epochs on MNIST, recording each epoch on easy's test
    images as run ``name@EPOCH``."""
    import keras
    import numpy as np

    import fracdash.keras
    from fracdash.datasets import load_dataset
    from fracdash.models.training import build_lenet5
    from fracdash.scenarios import SCENARIOS, prepare_images, test_data

    x, y, names = test_data(SCENARIOS["easy"], samples)
    xt, yt = load_dataset("mnist", "train")
    xt, yt = prepare_images(xt[:train_samples], "lenet5"), yt[:train_samples].astype(np.int64)
    keras.utils.set_random_seed(11)
    model = build_lenet5()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    callback = fracdash.keras.Checkpoints(x, y, every=1, name=name, class_names=names,
                                          store=store, keep_labels=True)  # fmt: skip
    model.fit(xt, yt, epochs=epochs, batch_size=128, verbose=0, callbacks=[callback])
    return callback.steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", required=True, help="the store to fill")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-samples", type=int, default=20000)
    parser.add_argument("--series", default="lenet")
    args = parser.parse_args()

    from fracdash.runs import catalog, precompute_scenario
    from fracdash.store import Store

    store = Store(args.cache_dir)
    try:
        precompute_scenario(store, "easy", samples=args.samples, epochs=args.epochs,
                            train_samples=args.train_samples)  # fmt: skip
        if f"{args.series}@1" not in catalog(store):
            steps = record_series(store, args.samples, args.epochs, args.train_samples,
                                  args.series)  # fmt: skip
            print(f"series {args.series}: steps {steps}")
        print("stored:", ", ".join(sorted(catalog(store))))
    finally:
        store.close()


if __name__ == "__main__":
    main()
