"""What computing a scenario will cost on this machine, from this machine's measurements.

A computation runs in stages: *start* (TensorFlow, the model's graph), *train* (only when
no model of the scenario's recipe is stored), *forward* (the activations) and *order*
(every layer's VAT order). Each stage's seconds grow with its units of work:

========  ==========================================  ==============================
stage     units                                       per
========  ==========================================  ==============================
start     1                                           any scenario
train     epochs x training samples                   network
forward   test samples                                network
order     ordering work x samples² (work: the layers'  any network (the Gram's cost)
          widths, :data:`fracdash.pipeline.LAYER_WORK` each)
========  ==========================================  ==============================

Every finished job adds what each of its stages took (:func:`record_run`) to the
machine's measurements, kept in the store under the host's name. A stage measured on
this machine is predicted from a line fitted to its measurements (a fixed cost plus a
rate); one not measured yet from the reference machine's figures (:data:`PRIOR_RATE`),
scaled by how much slower or faster this machine has been on the stages it did measure.
"""

from __future__ import annotations

import socket
import statistics
from dataclasses import dataclass

from fracdash.progress import about
from fracdash.store import Store, stage_key

#: The stages of a computation, in the order they run.
STAGES = ("start", "train", "forward", "order")
#: Ordering work of each network's shown layers (widths + LAYER_WORK each, a reorder-only
#: layer counted once with its predecessor); a test holds it to the built networks.
WORK = {"lenet5": 36_604, "double_lenet5": 70_660, "vgg16": 352_188}
#: Reference machine (AMD EPYC, 2 cores, load average about 3 from other work; README
#: "Estimates of a computation"): seconds per unit of each stage. train: 550 s for
#: LeNet5's 15 epochs x 60,000 samples; forward: 9 s for LeNet5 at n = 10,000; order
#: (the orders and the per-layer measures): 270 s for LeNet5 at n = 10,000, which holds
#: for the other networks within 15%. The other networks' train and forward keep their
#: ratios to LeNet5's of the earlier reference.
PRIOR_RATE = {
    ("train", "lenet5"): 550.0 / 900_000,
    ("train", "double_lenet5"): 1100.0 / 900_000,
    ("train", "vgg16"): 880.0 / 200_000,
    ("forward", "lenet5"): 9.0 / 10_000,
    ("forward", "double_lenet5"): 18.0 / 10_000,
    ("forward", "vgg16"): 135.0 / 10_000,
    ("order", None): 270.0 / (WORK["lenet5"] * 10_000**2),
}
#: Fixed seconds of each stage on the reference machine (imports, loading, saving).
PRIOR_FIXED = {"start": 8.0, "train": 3.0, "forward": 2.0, "order": 1.0}
#: Measurements kept per stage (the latest): the machine's present speed.
KEEP = 8
FULL_TEST = 10_000
FULL_TRAIN = 60_000


def rates_key(host: str | None = None) -> str:
    """Store key of the measurements of ``host`` (this machine by default)."""
    return stage_key("machine-rates", {"host": host or socket.gethostname()})


def measurements(store: Store) -> dict:
    """This machine's measurements: ``{"stages": {"train:lenet5": [[units, seconds],
    ...], ...}, "trained": [recipe, ...]}``."""
    return store.get_json(rates_key()) or {"stages": {}, "trained": []}


def stage_name(stage: str, network: str) -> str:
    """Key of a stage's measurements: ordering and start-up do not depend on the network."""
    return stage if stage in ("start", "order") else f"{stage}:{network}"


def recipe(scenario: str, compute: dict | None = None) -> str:
    """What determines a scenario's trained model, as far as the page knows it."""
    from fracdash.scenarios import SCENARIOS

    spec, compute = SCENARIOS[scenario], compute or {}
    epochs = compute.get("epochs") or spec.epochs
    train = compute.get("train_samples") or spec.train_samples or FULL_TRAIN
    return f"{spec.network}|{spec.train_on}|{epochs}|{train}"


def units(stage: str, scenario: str, samples: int | None, compute: dict | None = None,
          work: int | None = None) -> float:  # fmt: skip
    """Units of work of ``stage`` for ``scenario`` (see the module's table)."""
    from fracdash.scenarios import SCENARIOS

    spec, compute = SCENARIOS[scenario], compute or {}
    n = samples or FULL_TEST
    if stage == "train":
        epochs = compute.get("epochs") or spec.epochs
        return float(epochs * (compute.get("train_samples") or spec.train_samples or FULL_TRAIN))
    if stage == "forward":
        return float(n)
    if stage == "order":
        return float((work or WORK[spec.network]) * n * n)
    return 1.0


def prior_seconds(stage: str, network: str, amount: float) -> float:
    rate = PRIOR_RATE.get((stage, None if stage == "order" else network), 0.0)
    return PRIOR_FIXED[stage] + rate * amount


def fit(points: list, prior_fixed: float) -> tuple[float, float]:
    """``(fixed, rate)`` of ``seconds = fixed + rate * units`` through ``points``
    ([units, seconds] pairs): least squares when their units differ enough to tell a
    fixed cost from a rate, else the reference fixed cost (at most half the time)."""
    us = [u for u, _ in points]
    if len(points) >= 2 and max(us) >= 2 * min(us):
        mu, ms = statistics.fmean(us), statistics.fmean(s for _, s in points)
        var = sum((u - mu) ** 2 for u in us)
        rate = sum((u - mu) * (s - ms) for u, s in points) / var
        fixed = ms - rate * mu
        if rate > 0 and fixed >= 0:
            return fixed, rate
        if rate > 0:  # no fixed cost to see: a line through the origin
            return 0.0, sum(u * s for u, s in points) / sum(u * u for u in us)
    fixed = min(prior_fixed, 0.5 * min(s for _, s in points))
    rate = statistics.fmean(max(0.0, s - fixed) / u for u, s in points if u > 0)
    return fixed, rate


@dataclass(frozen=True)
class StagePlan:
    stage: str
    seconds: float
    #: Whether the stage was measured on this machine (else: the reference, scaled).
    measured: bool


def machine_factor(data: dict) -> float:
    """How this machine's measured stages compare to the reference machine's (median
    ratio; 1 before any measurement)."""
    ratios = []
    for name, points in data.get("stages", {}).items():
        stage, _, network = name.partition(":")
        for amount, seconds in points:
            ratios.append(seconds / prior_seconds(stage, network, amount))
    return statistics.median(ratios) if ratios else 1.0


def plan(store: Store, scenario: str, samples: int | None, compute: dict | None = None,
         trained: bool | None = None) -> list[StagePlan]:  # fmt: skip
    """The stages computing ``scenario`` will run, each with its predicted seconds.

    ``trained`` says whether a model of the scenario's recipe is stored (None: as the
    measurements and the store's models folder say)."""
    from fracdash.scenarios import SCENARIOS

    network = SCENARIOS[scenario].network
    data = measurements(store)
    if trained is None:
        stored = any((store.directory / "models").glob(f"{network}-*.keras"))
        trained = stored and recipe(scenario, compute) in data.get("trained", [])
    factor = machine_factor(data)
    plans = []
    for stage in STAGES:
        if stage == "train" and trained:
            continue
        amount = units(stage, scenario, samples, compute)
        points = data.get("stages", {}).get(stage_name(stage, network))
        if points:
            fixed, rate = fit(points, PRIOR_FIXED[stage])
            plans.append(StagePlan(stage, fixed + rate * amount, True))
        else:
            plans.append(StagePlan(stage, factor * prior_seconds(stage, network, amount), False))
    return plans


def estimate_seconds(store: Store, scenario: str, samples: int | None,
                     compute: dict | None = None) -> float:  # fmt: skip
    """Seconds to compute built-in ``scenario`` on this machine, all stages."""
    return sum(p.seconds for p in plan(store, scenario, samples, compute))


def record_run(store: Store, network: str, observed: dict[str, tuple[float, float]],
               trained_recipe: str | None = None) -> None:  # fmt: skip
    """Add a finished job's stages (``{stage: (units, seconds)}``) to this machine's
    measurements, keeping the latest :data:`KEEP` of each, and note that a model of
    ``trained_recipe`` is stored."""
    key = rates_key()
    with store.lock(key):
        data = measurements(store)
        for stage, (amount, seconds) in observed.items():
            if amount > 0 and seconds > 0:
                points = data["stages"].setdefault(stage_name(stage, network), [])
                points.append([float(amount), float(seconds)])
                del points[:-KEEP]
        if trained_recipe and trained_recipe not in data["trained"]:
            data["trained"].append(trained_recipe)
        store.set_json(key, data)


def describe(seconds: float) -> str:
    """``"about 40 s"``, ``"about 4 min"``: rounded as an estimate should be."""
    return about(seconds)
