"""Computing a scenario from the page, honestly: its cost said before it starts, its
progress (bar, ETA per stage) kept in the store for every viewer, and a running job
never lost by looking elsewhere (issue 13, part 4)."""

from __future__ import annotations

import pytest
from dash import no_update
from helpers import store_toy

from fracdash.store import Store
from fracdash.web import computing, create_app
from fracdash.web.app import context_of
from fracdash.web.computing import JobProgress, eta_seconds, progress_view, read_progress
from fracdash.web.estimates import describe, estimate_seconds
from fracdash.web.loading import run_options


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "store")
    yield s
    s.close()


def test_estimates_scale_with_the_work(tmp_path):
    models = tmp_path / "models"
    full = estimate_seconds("easy", None, models)
    small = estimate_seconds("easy", 300, models, {"epochs": 1, "train_samples": 500})
    assert 150 < full < 200 and small < 15
    assert estimate_seconds("simplification", None, models) > full  # VGG16 costs more
    models.mkdir()
    (models / "lenet5-abc.keras").write_bytes(b"")
    assert estimate_seconds("easy", None, models) < 40  # trained already: orders only
    assert [describe(s) for s in (3, 44, 61, 150, 400)] == [
        "about 10 s", "about 40 s", "about 1 min", "about 2 min", "about 7 min"]  # fmt: skip


def test_job_progress_is_shared_through_the_store(store, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(computing.time, "time", lambda: clock[0])
    job = JobProgress(store, "easy")
    job("forward", 0, 40)
    clock[0] += 10
    record = job("forward", 10, 40)
    assert read_progress(store, "easy")["done"] == 10
    assert eta_seconds(record, now=clock[0]) == pytest.approx(30)  # 10 s for 10 of 40
    clock[0] += 0.1
    job("forward", 11, 40)  # too soon after the last write: not written
    assert read_progress(store, "easy")["done"] == 10
    clock[0] += computing.STALE_SECONDS + 1  # the job died: its record is ignored
    assert read_progress(store, "easy") is None
    job.clear()
    assert store.get_json(computing.progress_key("easy")) is None


def test_progress_view_names_the_run_with_a_bar_and_an_eta():
    record = {"run": "generalization", "stage": "order", "done": 310, "total": 1000,
              "detail": "relu0", "stage_started": 0.0}  # fmt: skip
    text = str(progress_view(record))
    assert "computing generalization" in text and "31%" in text and "relu0" in text
    assert "Progress" in text and "left in this stage" in text


def test_a_running_job_goes_on_and_is_listed(tmp_path):
    store_toy(tmp_path)
    app = create_app(cache_dir=tmp_path, default_run="toy")
    context = context_of(app)
    job = JobProgress(context.store, "generalization")
    job("order", 500, 1000, "dense0")
    options = {o["value"]: o["label"] for o in run_options(context.store, None)}
    assert "(computing: 50% of order)" in options["generalization"]
    assert "(not computed: about" in options["easy"]
    select = context.callbacks["select_run"]
    run, compute, message = select("easy", "generalization")
    assert (run, compute) == (no_update, no_update)  # not started: one job per page
    assert "generalization is still being computed (50%) and goes on" in message
    assert select("toy", "generalization") == ("toy", no_update, "")  # stored: opens
    options, tick_off = context.callbacks["refresh_options"](None)
    assert tick_off is False  # polls while a job runs
    job.clear()
    assert context.callbacks["refresh_options"](None)[1] is True
    run, compute, view = select("easy", "generalization")  # that job ended: start
    assert (run, compute) == (None, "easy") and "computing easy" in str(view)


def test_a_run_being_computed_shows_each_layer_as_soon_as_it_is_ordered(tmp_path):
    """The job keeps the analysis so far; the page draws it, the layers not ordered yet
    as placeholders in their place, and redraws only when a layer was added."""
    from dash.exceptions import PreventUpdate
    from helpers import toy_analysis, walk

    store = Store(tmp_path)
    context = context_of(create_app(store))
    render = context.callbacks["render_dag"]
    job = JobProgress(store, "easy")
    job("order", 1, 5, "conv")
    with pytest.raises(PreventUpdate):  # nothing ordered yet, nothing shown yet
        render(None, [], "compact", 1, "absolute", "easy", None)
    analysis = toy_analysis()
    analysis.meta["pending"] = ["dense", "prediction"]
    job.partial(analysis)
    tree, variants, shown = render(None, [], "compact", 2, "absolute", "easy", None)
    nodes = {
        n.to_plotly_json()["props"]["data-layer"]: n.className
        for n in walk(tree)
        if "fd-node" in str(getattr(n, "className", "")).split()
    }
    assert nodes == {"input": "fd-node", "conv": "fd-node", "flatten": "fd-node",
                     "dense": "fd-node fd-pending", "prediction": "fd-node fd-pending"}  # fmt: skip
    assert set(variants) == set(nodes)
    with pytest.raises(PreventUpdate):  # the same layers: no redraw
        render(None, [], "compact", 3, "absolute", "easy", shown)
    analysis.meta["pending"] = ["prediction"]
    job.partial(analysis)
    tree, _, again = render(None, [], "compact", 4, "absolute", "easy", shown)
    assert again != shown
    job.clear()  # the job ended: its partial graph goes with it
    assert computing.read_partial(store, "easy") is None


def test_the_page_polls_from_the_moment_it_asks_for_a_run_until_it_is_stored(tmp_path):
    """The job may not have written its first record yet: asking is enough to poll
    (for the progress and the layers as they are ordered); a stored run stops it."""
    store_toy(tmp_path, name="toy")
    context = context_of(create_app(Store(tmp_path)))
    refresh = context.callbacks["refresh_options"]
    assert refresh(None, None, None, "easy")[1] is False  # asked, nothing written yet
    assert refresh(None, None, None, "toy")[1] is True  # stored: nothing to wait for
    assert refresh(None, None, None, None)[1] is True
