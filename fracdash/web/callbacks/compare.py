"""Comparison panel: a second run beside the first ("compare with", the URL's ``vs``).

Accepted only for runs of the same samples in the same order (else one line says why,
and the second graph stays empty); the layers are paired by name, by relative depth, or
as the ``pairing`` input says (the URL's ``pair``). Nothing here loads a model: the
measures are those of the stored orders, or of a comparison ``fracdash compare``
stored (:mod:`fracdash.web.compare_data`). A run of a series gets a step slider: moving
it compares with that step's run, every other setting of the view kept.
"""

from __future__ import annotations

import math

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, no_update
from dash.exceptions import MissingCallbackContextException

from fracdash.errors import CompareError, RunError
from fracdash.web import ids
from fracdash.web.callbacks.guard import coloring_or_default, curve_or_default, run_or_none
from fracdash.web.compare_data import (
    comparison,
    series_of,
    series_qualities,
    versus_options,
)
from fracdash.web.compare_panel import (
    CKA_MISSING,
    SLIDER_BOX,
    cka_figure,
    compare_quality_figure,
    note_line,
    ok_text,
    pairs_table,
    series_figure,
    series_slider,
)
from fracdash.web.dag import dag_children, glyph_variants
from fracdash.web.loading import analysis_by_key, load_view, run_key

#: The graph area's classes, comparing or not.
GRAPHS_CLASS, GRAPHS_COMPARING = "fd-graphs", "fd-graphs fd-compare-on"


def accepted(store, run, versus, pairing):
    """(comparison or None, the refusal or "", the pairing's error or ""): None when
    not comparing (no second run, or the first not stored yet) or refused. A bad
    pairing leaves the layers paired automatically, and says why."""
    run, versus = run_or_none(run), run_or_none(versus)
    if run is None or versus is None or run_key(store, run) is None:
        return None, "", ""
    try:
        found = comparison(store, run, versus)
    except (CompareError, RunError) as err:
        return None, f"cannot compare {run} with {versus}: {err}", ""
    if not (isinstance(pairing, str) and pairing.strip()):
        return found, "", ""
    try:
        return comparison(store, run, versus, pairing), "", ""
    except (CompareError, RunError) as err:
        return found, "", f"pairing not applied: {err}"


def metrics_of(store, found) -> tuple:
    """Both runs' metrics, from their stored analyses (the page has them loaded)."""
    return tuple(analysis_by_key(store, run_key(store, name)).meta.get("metric", "euclidean")
                 for name in (found.run_a, found.run_b))  # fmt: skip


def register(app, context) -> dict:
    """Declare the comparison callbacks on ``app``, reading ``context``'s store."""
    store = context.store

    @app.callback(
        Output(ids.VERSUS, "options"),
        Input(ids.RUN, "data"),
        Input(ids.COMPUTED, "data"),
        State(ids.SCENARIO, "value"),
    )
    def versus_choices(run, _computed=None, chosen=None):
        """Every stored run but the one shown."""
        return versus_options(store, run_or_none(run) or run_or_none(chosen))

    @app.callback(
        Output(ids.DAG_B, "children"),
        Output(ids.GLYPH_VARIANTS_B, "data"),
        Output(ids.GRAPHS, "className"),
        Output(ids.COMPARE_NOTE, "children"),
        Output(ids.LABELS_CORRECTNESS, "hidden"),
        Output(ids.DIFF_TOGGLE, "hidden"),
        Output(ids.MOVED_TOGGLE, "hidden"),
        Input(ids.RUN, "data"),
        Input(ids.VERSUS, "value"),
        Input(ids.PAIRING, "value"),
        Input(ids.SIMPLIFY, "value"),
        Input(ids.CURVE, "value"),
        State(ids.COLORING, "value"),
    )
    def render_versus(run, versus, pairing=None, simplify=None, curve=None, coloring=None):
        """Run B's graph beside run A's (side "b"), the note and the comparison's
        buttons; or the refusal and no second graph."""
        found, refused, _ = accepted(store, run, versus, pairing)
        off = (None, None, GRAPHS_CLASS)
        if found is None:
            return (*off, note_line("refused", refused) if refused else note_line(), True,
                    True, True)  # fmt: skip
        line = note_line("ok", ok_text(found, metrics_of(store, found)))
        if _triggered() == ids.PAIRING:  # the same graphs: run B's stays as it is laid out
            return no_update, no_update, no_update, line, *(no_update,) * 3
        curve = curve_or_default(curve)
        view = load_view(store, found.run_b, bool(simplify), curve)
        if view is None:  # deleted since
            return (*off, note_line(), True, True, True)
        graph = dag_children(view, coloring_or_default(coloring), found.run_b, curve, side="b")
        return graph, glyph_variants(view), GRAPHS_COMPARING, line, False, False, False

    @app.callback(
        Output(ids.COMPARE_PANEL, "hidden"),
        Output(ids.COMPARE_QUALITY, "figure"),
        Output(ids.COMPARE_PAIRS, "children"),
        Output(ids.PAIRING_ERROR, "children"),
        Output(ids.CKA_BOX, "hidden"),
        Output(ids.CKA_HEATMAP, "figure"),
        Output(ids.CKA_NOTE, "children"),
        Output(ids.CHARTS_PANEL, "open"),
        Input(ids.RUN, "data"),
        Input(ids.VERSUS, "value"),
        Input(ids.PAIRING, "value"),
        State(ids.CHARTS_PANEL, "open"),
    )
    def render_compare_panel(run, versus, pairing=None, opened=None):
        """The comparison's charts and table; the charts panel opens when a comparison
        is first shown (a click on its summary closes it)."""
        found, _, error = accepted(store, run, versus, pairing)
        if found is None:
            return True, {}, None, "", True, {}, "", no_update
        has_cka = found.cka is not None
        missing = "" if has_cka else CKA_MISSING.format(a=found.run_a, b=found.run_b)
        chose = dash.ctx.triggered_id == ids.VERSUS if dash.ctx.triggered else False
        return (False, compare_quality_figure(found), pairs_table(found), error, not has_cka,
                cka_figure(found) if has_cka else {}, missing,
                True if chose and not opened else no_update)  # fmt: skip

    @app.callback(
        Output(ids.SERIES, "hidden"),
        Output(SLIDER_BOX, "children"),
        Output(ids.SERIES_STEP, "value"),
        Output(ids.SERIES_HEATMAP, "figure"),
        Input(ids.RUN, "data"),
        Input(ids.VERSUS, "value"),
        Input(ids.SERIES_STEP, "value"),
        Input(ids.SERIES_HEATMAP, "clickData"),
        State(ids.SERIES, "hidden"),
        State(ids.SERIES_STEP, "min"),
        State(ids.SERIES_STEP, "max"),
        State(ids.SERIES_STEP, "marks"),
    )
    def step_series(run, versus, step=None, click=None, hidden=True, *shown):
        """A run of a series: its steps on the slider (but its own), the layers x steps
        quality heatmap; moving the slider (or clicking a step's column) compares with
        that step's run, setting "compare with" (by ``set_props``: the dropdown is no
        declared output, so nothing that reads it waits for this callback, the URL's
        writer first). Nothing for another run. The slider is built anew, its value in
        it, when it shows, its steps change (``shown``: its min, max and marks now) or
        "compare with" changes from elsewhere: a slider's value changed by a callback
        reaches its thumb a frame late, and a key pressed meanwhile moved the old thumb."""
        run = run_or_none(run)
        found = series_of(store, run) if run else None
        if found is None:
            return True, no_update, no_update, {}
        _, steps = found
        by_step = dict(steps)
        own = by_step_of(steps, run)
        before = by_step_of(steps, versus)
        moved = _moved()
        if moved is not None:
            target = (_clicked_step(click) if moved == ids.SERIES_HEATMAP
                      else snapped(step, before, own, list(by_step)))  # fmt: skip
            if target is None or target == own or target not in by_step:
                # Nowhere to go (run A's own step, the end): the slider stays where it was.
                return no_update, no_update, before, no_update
            if target != before:  # compare with that step; the panels follow
                versus = by_step[target]
                dash.set_props(ids.VERSUS, {"value": versus})
        chosen = by_step_of(steps, versus)
        value = chosen if chosen != own else None
        marks = {s: str(s) for s, r in steps if r != run}
        low, high = steps[0][0], steps[-1][0]
        layers = _layers(run)
        figure = series_figure(layers, list(by_step), series_qualities(store, steps, layers),
                               chosen, own)  # fmt: skip
        mine = moved == ids.SERIES_STEP or step == value  # the slider moved there by the user
        if hidden is False and _same_slider(shown, low, high, marks) and mine:
            # Shown, and at that step already (or onto it now): kept, focus and all.
            return False, no_update, value if step != value else no_update, figure
        slider = series_slider(low, high, marks, value, slider_step(list(by_step)))
        return len(steps) < 2, slider, no_update, figure

    def _layers(run):
        view = load_view(store, run, False)
        return [g.name for g in view.glyphs] if view is not None else []

    # Coloring swaps run B's glyphs too, from its own variants (assets/fracdash.js).
    app.clientside_callback(
        ClientsideFunction(namespace="fracdash", function_name="paint"),
        Output({"type": ids.GLYPH_B, "layer": ALL}, "src"),
        Input(ids.COLORING, "value"),
        State(ids.GLYPH_VARIANTS_B, "data"),
        prevent_initial_call=True,
    )
    return {
        "versus_choices": versus_choices,
        "render_versus": render_versus,
        "render_compare_panel": render_compare_panel,
        "step_series": step_series,
    }


def _triggered():
    """The id of what fired the callback running, or None (called outside Dash)."""
    try:
        return dash.ctx.triggered_id
    except MissingCallbackContextException:
        return None


def _moved() -> str | None:
    """What the user moved, if this call is theirs: the slider (first: a key pressed
    while "compare with" changed too is kept), the series heatmap's click, or None."""
    try:
        fired = dash.ctx.triggered_prop_ids
    except MissingCallbackContextException:
        return None
    return next((i for i in (ids.SERIES_STEP, ids.SERIES_HEATMAP)
                 if any(p.startswith(f"{i}.") for p in fired)), None)  # fmt: skip


def _same_slider(shown, low, high, marks) -> bool:
    """Whether the slider ``shown`` (its min, max and marks, as the page sends them:
    the marks' keys as text) is the one these steps make."""
    if len(shown) != 3 or not isinstance(shown[2], dict):
        return False
    return (shown[0], shown[1]) == (low, high) and shown[2] == {str(k): v for k, v in marks.items()}


def by_step_of(steps, run) -> int | None:
    """The step of ``run`` in a series' ``(step, run)``, or None."""
    return next((s for s, r in steps if r == run), None)


def slider_step(steps) -> int:
    """The slider's increment: the greatest common divisor of the steps' gaps (1 for
    1, 2, 3; 5 for 5, 10, 20), so that the keyboard reaches every step."""
    return math.gcd(*(b - a for a, b in zip(steps, steps[1:], strict=False))) or 1


def snapped(value, previous, own, steps) -> int | None:
    """The step the slider lands on: ``value`` if it is a step other than run A's own,
    else the next such step from ``previous`` in the direction moved (None: none)."""
    if not isinstance(value, int | float):
        return None
    if value in steps and value != own:
        return int(value)
    others = [s for s in steps if s != own]
    if previous is None:  # no step compared yet: the nearest
        return min(others, key=lambda s: (abs(s - value), s), default=None)
    ahead = [s for s in others if (s - previous) * (value - previous) > 0]
    return min(ahead, key=lambda s: abs(s - previous), default=None)


def _clicked_step(click) -> int | None:
    """The step of a click on the series heatmap (its x, the step as text), or None."""
    points = click.get("points") if isinstance(click, dict) else None
    first = points[0] if isinstance(points, list) and points else None
    x = first.get("x") if isinstance(first, dict) else None
    try:
        return int(x)
    except (TypeError, ValueError):
        return None
