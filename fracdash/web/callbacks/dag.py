"""DAG panel: glyph nodes and the graph as data (the browser fits, places and draws them,
assets/dag_view.js); recoloring and class focus on the client."""

from __future__ import annotations

from dash import ALL, ClientsideFunction, Input, Output, State, html

from fracdash.web import ids
from fracdash.web.callbacks.guard import coloring_or_default, curve_or_default, run_or_none
from fracdash.web.dag import dag_children, glyph_variants
from fracdash.web.loading import load_view


def register(app, context) -> dict:
    """Declare the DAG callbacks on ``app``, reading ``context``'s store."""

    @app.callback(
        Output(ids.DAG, "children"),
        Output(ids.GLYPH_VARIANTS, "data"),
        Input(ids.RUN, "data"),
        Input(ids.SIMPLIFY, "value"),
        Input(ids.CURVE, "value"),
        State(ids.COLORING, "value"),
    )
    def render_dag(run, simplify, curve, coloring):
        curve = curve_or_default(curve)
        view = load_view(context.store, run_or_none(run), bool(simplify), curve)
        if view is None:
            empty = "no analysis to show yet (a run being computed appears when it is done)"
            return html.P(empty, className="fd-empty"), None
        children = dag_children(view, coloring_or_default(coloring), run_or_none(run), curve)
        return children, glyph_variants(view)

    # Coloring and legend focus swap every glyph's src between precomputed PNGs, in the
    # browser (assets/fracdash.js): no request, no recomputation.
    app.clientside_callback(
        ClientsideFunction(namespace="fracdash", function_name="paint"),
        Output({"type": ids.GLYPH, "layer": ALL}, "src"),
        Input(ids.COLORING, "value"),
        Input(ids.FOCUS, "data"),
        State(ids.GLYPH_VARIANTS, "data"),
        prevent_initial_call=True,
    )
    return {"render_dag": render_dag}
