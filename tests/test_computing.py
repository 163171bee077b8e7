"""Computing a scenario from the page, honestly: its cost predicted from this machine's
measurements, its progress (one record per job, never going back; an ETA only once it
can be predicted) shown to every page, the page showing only the run it names, and
polling driven by the jobs running, never by a label's text."""

from __future__ import annotations

import io
import time

import pytest
from dash import no_update
from dash.exceptions import PreventUpdate
from helpers import store_toy, toy_analysis, walk
from job_fakes import fake_env

from fracdash import progress
from fracdash.runs import register
from fracdash.store import Store, stage_key
from fracdash.web import create_app, estimates, job_process
from fracdash.web.app import context_of
from fracdash.web.computing import progress_view, read_partial
from fracdash.web.estimates import (
    describe,
    estimate_seconds,
    fit,
    machine_factor,
    plan,
    recipe,
    record_run,
)
from fracdash.web.jobs import jobs_folder, read_record, write_record


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "store")
    yield s
    s.close()


def seconds_of(plans) -> dict[str, float]:
    return {p.stage: p.seconds for p in plans}


# -- estimates --------------------------------------------------------------------------


def test_a_line_is_fitted_to_a_stages_measurements():
    assert fit([[1000, 12.0], [4000, 42.0]], 3.0) == pytest.approx((2.0, 0.01))
    assert fit([[1000, 12.0], [2000, 22.0], [4000, 42.0]], 3.0) == pytest.approx((2.0, 0.01))
    # One size only: the reference fixed cost, at most half the time, and the rest a rate.
    assert fit([[1000, 10.0]], 3.0) == pytest.approx((3.0, 0.007))
    assert fit([[1000, 4.0]], 3.0) == pytest.approx((2.0, 0.002))
    assert fit([[1000, 20.0], [4000, 8.0]], 3.0)[1] >= 0  # noisy: never a negative rate


def test_estimates_come_from_this_machines_measurements(store):
    empty = seconds_of(plan(store, "easy", None))
    assert list(empty) == ["start", "train", "forward", "order"]
    assert 600 < sum(empty.values()) < 1100  # the reference machine's figures (README)
    quick = estimate_seconds(store, "easy", 300, {"epochs": 1, "train_samples": 500})
    assert quick < 20
    assert estimate_seconds(store, "simplification", None) > sum(empty.values())
    # Two LeNet5 trainings measured here: a fixed 2 s plus 0.01 s per sample-epoch.
    record_run(store, "lenet5", {"train": (1000, 12.0)})
    record_run(store, "lenet5", {"train": (4000, 42.0)})
    measured = plan(store, "easy", None, {"epochs": 1, "train_samples": 10_000})
    train = next(p for p in measured if p.stage == "train")
    assert train.measured and train.seconds == pytest.approx(2.0 + 0.01 * 10_000)
    # Generalization trains the same network: the same measurements predict it.
    other = next(p for p in plan(store, "generalization", None) if p.stage == "train")
    assert other.seconds == pytest.approx(2.0 + 0.01 * 15 * 60_000)


def test_training_is_skipped_only_for_a_stored_model_of_the_same_recipe(store):
    record_run(store, "lenet5", {}, trained_recipe=recipe("easy"))
    assert "train" in seconds_of(plan(store, "easy", None))  # the model file is gone
    models = store.directory / "models"
    models.mkdir()
    (models / "lenet5-0123.keras").write_bytes(b"")
    assert "train" not in seconds_of(plan(store, "easy", None))
    assert "train" not in seconds_of(plan(store, "problematic", None))  # easy's model
    assert "train" in seconds_of(plan(store, "generalization", None))  # trains its own
    assert "train" in seconds_of(plan(store, "easy", None, {"epochs": 1}))  # another recipe


def test_stages_not_measured_here_scale_with_this_machines_speed(store):
    assert machine_factor(estimates.measurements(store)) == 1.0
    slow = 2 * estimates.prior_seconds("forward", "lenet5", 10_000)
    record_run(store, "lenet5", {"forward": (10_000, slow)})
    assert machine_factor(estimates.measurements(store)) == pytest.approx(2.0)
    vgg = next(p for p in plan(store, "simplification", None) if p.stage == "forward")
    assert not vgg.measured
    assert vgg.seconds == pytest.approx(2 * estimates.prior_seconds("forward", "vgg16", 10_000))


def test_measurements_keep_the_latest_and_belong_to_this_machine(store, monkeypatch):
    for i in range(estimates.KEEP + 3):
        record_run(store, "lenet5", {"order": (1e9 * (i + 1), float(i + 1))})
    points = estimates.measurements(store)["stages"]["order"]
    assert len(points) == estimates.KEEP and points[-1] == [1e9 * (estimates.KEEP + 3),
                                                            estimates.KEEP + 3.0]  # fmt: skip
    monkeypatch.setattr(estimates.socket, "gethostname", lambda: "another-machine")
    assert estimates.measurements(store) == {"stages": {}, "trained": []}


def test_estimates_are_worded_as_estimates():
    said = [describe(s) for s in (3, 44, 61, 150, 400, 7200)]
    assert said == ["about 10 s", "about 40 s", "about 1 min", "about 2 min", "about 7 min",
                    "about 2 h"]  # fmt: skip


def test_the_work_table_is_the_networks_own(keras):
    """Each network's ordering work (estimates.WORK) as the pipeline counts it."""
    import numpy as np

    from fracdash.core import shares_input_order
    from fracdash.models.training import BUILDERS
    from fracdash.pipeline import LAYER_WORK
    from fracdash.sources import as_source

    for network, shape in (("lenet5", (28, 28, 1)), ("double_lenet5", (28, 28, 1)),
                           ("vgg16", (32, 32, 3))):  # fmt: skip
        x = np.zeros((1, *shape), np.float32)
        nodes = as_source(BUILDERS[network](), example=x).network(x).nodes
        own = [n for n in nodes if not shares_input_order(n.kind, n.inputs)]
        assert estimates.WORK[network] == sum(int(np.prod(n.output_shape)) + LAYER_WORK
                                              for n in own), network  # fmt: skip


def test_a_scenarios_graph_is_known_before_training(keras):
    """What a job shows first: the network built untrained, every layer pending."""
    from fracdash.datasets import CLASS_NAMES

    analysis = job_process.untrained_partial("realistic", 40)
    names = [g.name for g in analysis.layers]
    assert analysis.meta["pending"] == names and len(set(names)) == len(names) == 19
    assert {"rotate", "a_conv2d0", "b_conv2d0", "concatenate", "prediction"} <= set(names)
    assert analysis.n == 40 and list(analysis.class_names) == list(CLASS_NAMES["fashion-mnist"])
    inputs = {g.name: g.inputs for g in analysis.layers}
    assert inputs["concatenate"] == ("a_relu2", "b_relu2")  # dropout is not shown


# -- ETAs ---------------------------------------------------------------------------------


def test_an_eta_only_once_a_stage_has_progressed_enough():
    assert progress.eta_seconds(0, 100, 50.0) is None
    assert progress.eta_seconds(2, 100, 50.0) is None  # 2%: too little to say
    assert progress.eta_seconds(10, 100, 1.0) is None  # too short a time
    assert progress.eta_seconds(10, 100, 5.0) == pytest.approx(45.0)
    assert progress.eta_seconds(100, 100, 5.0) is None


def test_the_command_lines_bars_say_no_eta_at_zero(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    err = io.StringIO()
    monkeypatch.setattr(progress.sys, "stderr", err)
    bars = progress.ProgressBars()

    def report(done, layer):  # drawn at once (tqdm's own pace limit reads its own clock)
        bars("order", done, 1000, layer)
        bars._bars["order"].refresh()

    clock[0] += 30  # the forward pass before: not ordering time
    report(1, "input")
    clock[0] += 60
    report(2, "conv")  # 0.2% after a minute: tqdm said "11 hours"
    assert "conv" in err.getvalue()  # drawn, and
    assert " left" not in err.getvalue() and "<" not in err.getvalue()  # no ETA yet
    clock[0] += 60
    report(500, "dense")  # half after two minutes: two more
    assert "about 2 min left" in err.getvalue()
    bars.close()


# -- the job's record -------------------------------------------------------------------


def test_the_jobs_record_never_goes_back_and_says_an_eta_once_it_can(store, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(job_process.time, "time", lambda: clock[0])
    spec = {"run": "easy", "scenario": "easy", "samples": 300, "parent": 1,
            "compute": {"epochs": 3, "train_samples": 500}}  # fmt: skip
    job = job_process.JobProgress(store, spec)
    job.begin()
    seen = []

    def report(seconds, *args):
        clock[0] += seconds
        seen.append(job(*args))

    report(8, "start", 1, 1, "model built")
    report(4, "train", 1, 3, "")
    report(4, "train", 2, 3, "")
    report(4, "train", 3, 3, "")
    report(1, "forward", 1, 2, "")
    report(1, "forward", 2, 2, "")
    report(3, "order", 100, 1000, "conv")
    report(3, "order", 1000, 1000, "")
    overall = [r["overall"] for r in seen]
    assert overall == sorted(overall) and 0 < overall[0] and overall[-1] == pytest.approx(1.0)
    assert seen[0]["eta"] is None  # starting: no pace to go by
    later = sum(p.seconds for p in plan(store, "easy", 300, spec["compute"])
                if p.stage in ("forward", "order"))  # fmt: skip
    # One epoch of three in 4 s: two more, then the stages after training.
    assert seen[1]["eta"] == pytest.approx(8.0 + later)
    assert seen[6]["eta"] == pytest.approx(27.0)  # 10% of the orders in 3 s
    assert read_record(jobs_folder(store.directory), "easy")["stage"] == "order"
    observed = job.observed()
    assert observed["start"] == (1.0, pytest.approx(8.0))
    assert observed["train"] == (3 * 500, pytest.approx(12.0))
    assert observed["forward"] == (300, pytest.approx(2.0))
    assert observed["order"] == (1000 * 300**2, pytest.approx(6.0))


def test_progress_view_names_the_run_its_stage_and_the_time_left():
    record = {"run": "generalization", "stage": "order", "done": 310, "total": 1000,
              "detail": "relu0", "overall": 0.62, "eta": 130.0, "updated": time.time()}  # fmt: skip
    view = progress_view(record)
    text = str(view)
    assert "computing generalization" in text and "31%" in text and "relu0" in text
    assert "about 2 min left" in text
    assert view.to_plotly_json()["props"]["data-overall"] == "0.6200"
    waiting = str(progress_view({"run": "easy", "stage": "train", "done": 1, "total": 15,
                                 "eta": None}))  # fmt: skip
    assert "epoch 1 of 15" in waiting and "left" not in waiting


# -- the page -----------------------------------------------------------------------------


@pytest.fixture
def app_context(tmp_path, monkeypatch):
    """A dashboard on a store holding run ``toy``, whose jobs run a stand-in."""
    monkeypatch.setenv("PYTHONPATH", fake_env())
    store_toy(tmp_path / "store")
    context = context_of(create_app(tmp_path / "store", default_run="toy",
                                    compute={"steps": 2, "delay": 0.1}))  # fmt: skip
    context.jobs.target = "job_fakes:quick"
    yield context
    context.jobs.stop()


def test_switching_to_an_uncomputed_run_never_shows_the_previous_runs_glyphs(app_context):
    cb, store = app_context.callbacks, app_context.store
    app_context.jobs.target = "job_fakes:sleepy"  # stores no graph of its own
    tree, variants, shown = cb["render_dag"]("toy", [], "compact", None, "absolute", None, None)
    assert variants and shown is None
    run, compute, _ = cb["select_run"]("easy")
    assert (run, compute) == (None, "easy")  # the graph is cleared in the same answer
    tree, variants, shown = cb["render_dag"](None, [], "compact", None, "absolute", "easy", None)
    assert variants is None and "computing easy" in str(tree)
    assert not [n for n in walk(tree) if "fd-node" in str(getattr(n, "className", ""))]
    assert cb["render_legend"](None, None, "easy") == ([], "")
    with pytest.raises(PreventUpdate):  # nothing new: no redraw
        cb["render_dag"](None, [], "compact", 1, "absolute", "easy", shown)
    # The job's graph as soon as its model is known: every layer a placeholder.
    analysis = toy_analysis()
    analysis.meta["pending"] = [g.name for g in analysis.layers]
    store.set_bytes(stage_key("page-partial", {"run": "easy"}), analysis.to_bytes())
    tree, variants, _ = cb["render_dag"](None, [], "compact", 1, "absolute", "easy", shown)
    pending = [n for n in walk(tree) if "fd-pending" in str(getattr(n, "className", ""))]
    assert len(pending) == len(analysis.layers) and set(variants) == {
        g.name for g in analysis.layers}  # fmt: skip
    legend, _ = cb["render_legend"](None, 1, "easy")
    assert legend and str(legend) == str(cb["render_legend"]("toy")[0])  # its classes


def test_a_page_opened_mid_run_shows_the_jobs_stage_and_joins_it(app_context, tmp_path):
    jobs = app_context.jobs
    jobs.target = "job_fakes:sleepy"
    first = jobs.start("easy", "easy")
    folder = jobs_folder(app_context.store.directory)
    deadline = time.monotonic() + 30
    while (read_record(folder, "easy") or {}).get("stage") != "train":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    _, compute, view = app_context.callbacks["select_run"]("easy")
    assert compute == "easy" and "training the model" in str(view)
    assert jobs.children() == {"easy": first["pid"]}  # joined, not started again
    _, text, _, _ = app_context.callbacks["watch_job"](1, "easy")
    assert "training the model" in str(text)


def test_the_page_follows_its_job_to_the_end(app_context):
    cb = app_context.callbacks
    cb["select_run"]("easy")
    deadline, tick, ticks = time.monotonic() + 60, None, []
    while (answer := cb["watch_job"](1, "easy", tick))[0] is no_update:
        assert time.monotonic() < deadline
        assert "computing easy" in str(answer[1])
        if answer[2] is not no_update:  # a new partial graph: the page redraws
            tick = answer[2]
            ticks.append(tick)
        time.sleep(0.1)
    # The stand-in stores one partial graph (redrawn once), named for its run.
    assert ticks in (["easy:0", "easy:1"], ["easy:1"])
    computed, text, _, compute = answer
    assert computed == "easy" and text.startswith("computed easy in ") and compute is None
    assert cb["show_computed"]("easy", "easy") == "easy"
    assert cb["show_computed"]("easy", "toy") is no_update  # the user looks elsewhere now
    # The job takes its partial graph with it as it ends (just after storing the run).
    deadline = time.monotonic() + 30
    while read_partial(app_context.store, "easy") is not None:
        assert time.monotonic() < deadline, "the job's partial graph outlived it"
        time.sleep(0.1)


def test_a_failed_job_is_said_and_a_stopped_one_is_started_again(app_context):
    cb, jobs = app_context.callbacks, app_context.jobs
    folder = jobs_folder(app_context.store.directory)
    error = "the MNIST files are missing; put them in X"
    write_record(folder, "easy", {"run": "easy", "ended": "failed", "stage": "start",
                                  "error": error})  # fmt: skip
    _, text, _, compute = cb["watch_job"](1, "easy")
    assert text == "could not compute easy: the MNIST files are missing; put them in X"
    assert compute is None  # the page stops waiting
    write_record(folder, "easy", {"run": "easy", "ended": "stopped", "stage": "train"})
    _, view, _, compute = cb["watch_job"](1, "easy")
    assert compute is no_update and "computing easy" in str(view)
    assert "easy" in jobs.children()


def test_the_page_polls_while_a_job_it_shows_runs_never_by_label(app_context):
    refresh, jobs = app_context.callbacks["refresh_options"], app_context.jobs
    # A stored run whose very name reads like a job's label: no reason to poll.
    analysis = toy_analysis(seed=3)
    analysis.meta["key"] = stage_key("analysis", {"test": "label"})
    app_context.store.set_bytes(analysis.meta["key"], analysis.to_bytes())
    register(app_context.store, "mine (computing: 50%)", analysis)
    assert refresh(None, None, None, None)[1] is True
    assert refresh(None, None, None, "easy")[1] is False  # this page waits for easy
    jobs.target = "job_fakes:sleepy"
    jobs.start("generalization", "generalization")
    options, off = refresh(None, None, None, None)
    assert off is False  # a job of this page's list runs: its label moves
    label = {o["value"]: o["label"] for o in options}["generalization"]
    assert "(computing: " in label or "(queued" in label
    jobs.stop()
    assert refresh(None, None, None, None)[1] is True
