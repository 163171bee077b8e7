"""What computing a scenario from the page will cost, said before it starts.

Figures measured on the development machine (2 cores, README "Performance"): training
each network once at its scenario's settings, and ordering every layer at n = 10,000.
They scale with the work: training with epochs x training samples, ordering with n²
(the Gram matrices), plus TensorFlow's start-up. An estimate, labelled as one.
"""

from __future__ import annotations

from pathlib import Path

#: Seconds to train each network at its scenario's default epochs and training samples.
TRAIN_SECONDS = {"lenet5": 150.0, "double_lenet5": 300.0, "vgg16": 240.0}
#: Seconds to order every layer of each scenario at n = 10,000 (bench, training excluded).
ORDER_SECONDS = {
    "easy": 22.0,
    "generalization": 22.0,
    "problematic": 21.0,
    "simplification": 216.0,
    "realistic": 37.0,
}
#: Importing TensorFlow and loading the data, whatever the size.
START_SECONDS = 6.0
FULL_TEST = 10_000
FULL_TRAIN = 60_000


def model_stored(models_dir: Path, network: str) -> bool:
    """A trained model of ``network`` is in the store (then training is skipped; the
    recipe may still differ, so this leans towards the shorter estimate)."""
    return any(Path(models_dir).glob(f"{network}-*.keras"))


def estimate_seconds(
    scenario: str, samples: int | None, models_dir: Path, compute: dict | None = None
) -> float:
    """Seconds to compute built-in ``scenario`` from the page on this kind of machine."""
    from fracdash.scenarios import SCENARIOS

    spec = SCENARIOS[scenario]
    compute = compute or {}
    seconds = START_SECONDS + ORDER_SECONDS[scenario] * ((samples or FULL_TEST) / FULL_TEST) ** 2
    if not model_stored(models_dir, spec.network):
        default_train = spec.train_samples or FULL_TRAIN
        train = compute.get("train_samples") or default_train
        epochs = compute.get("epochs") or spec.epochs
        share = (train / default_train) * (epochs / spec.epochs)
        seconds += TRAIN_SECONDS[spec.network] * share
    return seconds


def describe(seconds: float) -> str:
    """``"about 40 s"``, ``"about 4 min"``: rounded as an estimate should be."""
    if seconds < 60:
        return f"about {max(10, round(seconds, -1)):.0f} s"
    return f"about {round(seconds / 60):.0f} min"
