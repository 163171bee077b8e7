"""The comparison view's series controls, server side: the step slider and the layers x
steps heatmap of a run that belongs to a checkpoint series, on hand-made runs."""

# ruff: noqa: F811  (the fixture cb is imported from web_compare_runs and taken as an argument)
from __future__ import annotations

from contextvars import copy_context

import numpy as np
from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict
from helpers import LAYERS
from web_compare_runs import cb, props, triggered  # noqa: F401  (cb: the fixture)

from fracdash.web import ids
from fracdash.web.callbacks.compare import slider_step, snapped


def series_step(cb, trigger, value, run, versus, step=None, click=None, shown=(True,)):
    """step_series as if ``trigger`` had fired (``shown``: the series box's hidden, then
    the slider's min, max and marks): (what "compare with" was set to or no_update, the
    callback's outputs)."""
    prop = {ids.RUN: "data", ids.SERIES_HEATMAP: "clickData"}.get(trigger, "value")
    changed: dict = {}
    got = triggered(f"{trigger}.{prop}", value, cb.step_series, run, versus, step, click,
                    *shown, changed=changed)  # fmt: skip
    return (changed.pop(ids.VERSUS, {}).get("value", no_update), *got)


def slider_props(box) -> dict:
    assert type(box).__name__ == "Slider", box
    keep = ("id", "min", "max", "marks", "value", "step")
    return {k: v for k, v in props(box).items() if k in keep}


#: The slider ser@3's series shows (the page sends the marks' keys as text).
SHOWN = (False, 1, 3, {"1": "1", "2": "2"})


def test_a_run_of_a_series_steps_through_it_keeping_the_view(cb):
    versus, hidden, box, value, figure = series_step(cb, ids.RUN, "ser@3", "ser@3", None)
    assert hidden is False and value is no_update and versus is no_update
    assert slider_props(box) == {"id": ids.SERIES_STEP, "min": 1, "max": 3, "step": 1,
                                 "marks": {1: "1", 2: "2"}, "value": None}  # fmt: skip
    heat = figure.to_plotly_json()["data"][0]
    names = [name for name, _, _ in LAYERS]
    assert list(heat["x"]) == ["1", "2", "3"] and list(heat["y"]) == names
    want = [[cb.runs[f"ser@{s}"].layer(n).quality for s in (1, 2, 3)] for n in names]
    np.testing.assert_allclose(np.array(heat["z"], float), want)
    # The slider to step 1: compare with ser@1 (nothing else of the view changes).
    versus, _, box, value, _ = series_step(cb, ids.SERIES_STEP, 1, "ser@3", None, 1, shown=SHOWN)
    assert (versus, box, value) == ("ser@1", no_update, no_update)  # the slider is there
    # Chosen from the list: the slider is built again at that step.
    versus, _, box, value, _ = series_step(cb, ids.VERSUS, "ser@2", "ser@3", "ser@2", 1,
                                           shown=SHOWN)  # fmt: skip
    assert versus is no_update and value is no_update and slider_props(box)["value"] == 2
    # The slider at that step already (the user moved it there): kept as it is.
    got = series_step(cb, ids.VERSUS, "ser@2", "ser@3", "ser@2", 2, shown=SHOWN)
    assert got[0] is no_update and got[2] is no_update and got[3] is no_update
    # Onto run A's own step, the end of the slider: it stays where it was.
    got = series_step(cb, ids.SERIES_STEP, 3, "ser@3", "ser@2", 3, shown=SHOWN)
    assert got[3] == 2 and all(v is no_update for i, v in enumerate(got) if i != 3)
    # Past run A's own step: on to the next step in the direction moved.
    assert series_step(cb, ids.SERIES_STEP, 2, "ser@2", "ser@1", 2)[0] == "ser@3"
    assert series_step(cb, ids.SERIES_STEP, 2, "ser@2", "ser@3", 2)[0] == "ser@1"
    # Onto the step compared already: "compare with" is not set again.
    assert series_step(cb, ids.SERIES_STEP, 2, "ser@3", "ser@2", 2, shown=SHOWN)[0] is no_update
    # A click on a step's column of the heatmap.
    click = {"points": [{"x": "2", "y": "conv"}]}
    assert series_step(cb, ids.SERIES_HEATMAP, click, "ser@3", None, None, click)[0] == "ser@2"
    # A run of no series: no slider.
    assert series_step(cb, ids.RUN, "a", "a", "b")[1] is True
    # "compare with" is no declared output: the URL's writer never waits for this.
    assert not any(f"{ids.VERSUS}.value" in s["output"] for s in cb.app._callback_list)


def test_the_slider_shows_built_with_its_value_and_a_press_is_kept(cb):
    """Shown, or for another series, the slider is built anew, its value in it (the page
    draws no frame with an old thumb a key could move); a slider moved while "compare
    with" changed too in the same call is what the call follows."""
    for shown in ((True,), (True, 1, 3, {"1": "1", "2": "2"}), (False, 1, 3, {"2": "2"})):
        _, hidden, box, value, _ = series_step(cb, ids.VERSUS, "ser@2", "ser@3", "ser@2", 2,
                                               shown=shown)  # fmt: skip
        assert hidden is False and value is no_update and slider_props(box)["value"] == 2, shown
    fired = [{"prop_id": f"{ids.VERSUS}.value", "value": "ser@1"},
             {"prop_id": f"{ids.SERIES_STEP}.value", "value": 2}]  # fmt: skip
    changed: dict = {}

    def run():
        context_value.set(AttributeDict(triggered_inputs=fired, updated_props={}))
        try:
            return cb.step_series("ser@3", "ser@1", 2, None, *SHOWN)
        finally:
            changed.update(context_value.get().updated_props)

    got = copy_context().run(run)
    assert changed.get(ids.VERSUS) == {"value": "ser@2"}, changed
    assert got[1] is no_update and got[2] is no_update, got  # the slider, kept at step 2


def test_the_slider_reaches_every_step_and_only_steps():
    assert [slider_step(s) for s in ([1, 2, 3], [5, 10, 20], [1, 5, 10], [4])] == [1, 5, 1, 1]
    steps = [1, 5, 10]
    assert snapped(2, 1, 10, steps) == 5 and snapped(9, 5, 10, steps) is None
    assert snapped(4, 5, 10, steps) == 1 and snapped(5, 1, 10, steps) == 5
    assert snapped(6, None, 10, steps) == 5 and snapped(None, 1, 10, steps) is None
