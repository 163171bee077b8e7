"""DAG panel: glyph nodes and the graph as data (the browser fits, places and draws them,
assets/dag_view.js); recoloring and class focus on the client."""

from __future__ import annotations

from dash import ALL, ClientsideFunction, Input, Output, State, html
from dash.exceptions import PreventUpdate

from fracdash.web import ids
from fracdash.web.callbacks.guard import coloring_or_default, curve_or_default, run_or_none
from fracdash.web.computing import read_partial
from fracdash.web.dag import dag_children, dag_view, glyph_variants
from fracdash.web.loading import load_view

#: The graph is cleared in the browser the moment another run is chosen, before the
#: server answers: a run's glyphs are never on screen under another run's name. (What
#: the graph shows is forgotten too: the chosen run's graph is then drawn afresh.)
CLEAR_ON_CHOICE = """
function (chosen, shown) {
  var skip = window.dash_clientside.no_update;
  if (chosen === shown) { return [skip, skip]; }
  return [{namespace: "dash_html_components", type: "P",
           props: {children: "opening " + chosen, className: "fd-empty"}}, null];
}
"""


def register(app, context) -> dict:
    """Declare the DAG callbacks on ``app``, reading ``context``'s store."""

    @app.callback(
        Output(ids.DAG, "children"),
        Output(ids.GLYPH_VARIANTS, "data"),
        Output(ids.PARTIAL_SHOWN, "data"),
        Input(ids.RUN, "data"),
        Input(ids.SIMPLIFY, "value"),
        Input(ids.CURVE, "value"),
        Input(ids.PARTIAL_TICK, "data"),
        State(ids.COLORING, "value"),
        State(ids.COMPUTE, "data"),
        State(ids.PARTIAL_SHOWN, "data"),
    )
    def render_dag(run, simplify, curve, _tick=None, coloring=None, computing=None, shown=None):
        curve = curve_or_default(curve)
        run = run_or_none(run)
        if run is None and run_or_none(computing):
            return partial_dag(computing, bool(simplify), curve, coloring, shown)
        view = load_view(context.store, run, bool(simplify), curve)
        if view is None:
            empty = "no analysis to show yet (a run being computed appears when it is done)"
            return html.P(empty, className="fd-empty"), None, None
        children = dag_children(view, coloring_or_default(coloring), run, curve)
        return children, glyph_variants(view), None

    def partial_dag(computing, simplify, curve, coloring, shown):
        """While a run is computed, its graph as soon as its model is known, each
        layer's glyph as soon as it is ordered (the others as placeholders); until then
        a line saying so, never the previous run's glyphs. Redrawn only when a layer
        was added."""
        analysis = read_partial(context.store, computing)
        pending = tuple(analysis.meta.get("pending", ())) if analysis is not None else None
        state = f"{computing}|{'-' if pending is None else len(pending)}|{simplify}|{curve}"
        if state == shown:
            raise PreventUpdate
        if analysis is None:
            text = f"computing {computing}: its layers appear once its model is built"
            return html.P(text, className="fd-empty"), None, state
        analysis = analysis.on_curve(curve)
        view = dag_view(analysis.simplified() if simplify else analysis)
        children = dag_children(
            view, coloring_or_default(coloring), None, curve, pending=frozenset(pending)
        )
        return children, glyph_variants(view), state

    # Coloring swaps every glyph's src between precomputed PNGs, in the browser
    # (assets/fracdash.js); class focus is drawn over them (assets/sample_view.js).
    app.clientside_callback(
        ClientsideFunction(namespace="fracdash", function_name="paint"),
        Output({"type": ids.GLYPH, "layer": ALL}, "src"),
        Input(ids.COLORING, "value"),
        State(ids.GLYPH_VARIANTS, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        CLEAR_ON_CHOICE,
        Output(ids.DAG, "children", allow_duplicate=True),
        Output(ids.PARTIAL_SHOWN, "data", allow_duplicate=True),
        Input(ids.SCENARIO, "value"),
        State(ids.RUN, "data"),
        prevent_initial_call=True,
    )
    return {"render_dag": render_dag}
