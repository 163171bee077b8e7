"""The page skeleton: controls, note and links on top, the DAG filling the window, the
legend beside it and the charts folded under the legend (opened: a column of their own
beside it, :mod:`fracdash.web.chart_panel`).

Empty panels only: the callbacks fill them (the DAG view itself is :mod:`fracdash.web.dag`).
Built per page load (``app.layout`` is a function), so runs computed since the server
started appear in the scenario dropdown.
"""

from __future__ import annotations

from dash import dcc, html

from fracdash.web import ids
from fracdash.web.chart_panel import charts_panel
from fracdash.web.compare_data import versus_options
from fracdash.web.compare_panel import compare_panel, note_line
from fracdash.web.context import AppContext
from fracdash.web.loading import run_options


def controls(context: AppContext) -> html.Div:
    """Title, run dropdown (the app's default run selected if offered), coloring, simplify.

    One line from 1580 px wide (assets/fracdash.css): the run lists and the selection
    line narrow first, their whole texts on hover (an option's ``title`` here; the
    closed list's, refreshed options' and the selection line's from
    assets/fracdash.js). The view's links are beside them (:func:`header`)."""
    options = [
        {**o, "title": str(o["label"])}
        for o in run_options(context.store, context.samples, context.compute)
    ]
    values = {o["value"] for o in options}
    default = context.default_run
    value = default if default in values else options[0]["value"]
    return html.Div(
        [
            html.H1("fracdash", className="fd-title"),
            html.Label("network", htmlFor=ids.SCENARIO, className="fd-control-label"),
            dcc.Dropdown(
                id=ids.SCENARIO,
                options=options,
                value=value,
                clearable=False,
                searchable=False,
                className="fd-scenario",
            ),
            html.Label("vs", htmlFor=ids.VERSUS, className="fd-control-label",
                       title="compare with another run of the same samples"),  # fmt: skip
            dcc.Dropdown(
                id=ids.VERSUS,
                options=versus_options(context.store, value),
                value=None,
                clearable=True,
                searchable=False,
                placeholder="compare with…",
                className="fd-versus",
            ),
            dcc.RadioItems(
                id=ids.COLORING,
                options=[
                    {"label": "absolute coloring", "value": "absolute"},
                    {"label": "relative coloring", "value": "relative"},
                ],
                value="absolute",
                inline=True,
                className="fd-coloring",
            ),
            dcc.Checklist(
                id=ids.SIMPLIFY,
                options=[{"label": "simplified network", "value": "on"}],
                value=[],
                inline=True,
                className="fd-simplify",
            ),
            dcc.RadioItems(
                id=ids.CURVE,
                options=[
                    {"label": "compact", "value": "compact"},
                    {"label": "paper curve", "value": "paper"},
                ],
                value="compact",
                inline=True,
                className="fd-curve",
            ),
            sample_controls(),
        ],
        className="fd-controls",
    )


def sample_controls() -> html.Div:
    """Which labels color the glyphs (truth / predicted), the misclassified samples as
    a selection, and what is selected: all handled in the browser
    (assets/sample_view.js), with no request."""

    def labels(value: str, text: str) -> html.Button:
        pressed = str(value == "truth").lower()
        return html.Button(
            text,
            className="fd-labels",
            title=f"color pixels by the {text} class",
            **{"data-labels": value, "aria-pressed": pressed},
        )

    def shown_comparing(button: html.Button, key: str, title: str) -> html.Button:
        button.id, button.title, button.hidden = key, title, True  # shown while comparing
        return button

    return html.Div(
        [
            html.Span("labels", className="fd-control-label"),
            labels("truth", "true"),
            labels("predicted", "predicted"),
            shown_comparing(labels("correctness", "right in A / B"), ids.LABELS_CORRECTNESS,
                            "color pixels: right in both, only in A, only in B, wrong in "
                            "both"),  # fmt: skip
            html.Button(
                "misclassified",
                className="fd-wrong-toggle",
                title="select the samples the model gets wrong (again: clear)",
                **{"aria-pressed": "false"},
            ),
            *(
                shown_comparing(html.Button(text, className=name, **{"aria-pressed": "false"}),
                                key, title)  # fmt: skip
                for text, name, key, title in (
                    ("classified differently", "fd-diff-toggle", ids.DIFF_TOGGLE,
                     "select the samples the two runs classify differently (again: clear)"),
                    ("changed most", "fd-moved-toggle", ids.MOVED_TOGGLE,
                     "select the samples whose neighbourhood changed most: the 1% (at least "
                     "10) of lowest curve agreement (again: clear)"),
                )  # fmt: skip
            ),
            html.Span(className="fd-selection-info", role="status"),
        ],
        className="fd-samples",
        title="hover a glyph: a sample · click: pin it · shift-drag: select · Esc: clear",
    )


def header(context: AppContext) -> html.Header:
    """The controls, the run's note (filled by the legend callback) and the view's links:
    beside the controls' second line in a narrower window, beside the note where the
    controls take one line (assets/fracdash.css)."""
    return html.Header(
        [
            controls(context),
            html.Div(id=ids.NOTE, className="fd-note"),
            share_links(),
            # One line while two runs are compared: refused (why), or what is compared.
            html.Div(note_line(), id=ids.COMPARE_NOTE, className="fd-compare-line"),
        ],
        className="fd-header",
    )


def share_links() -> html.Div:
    """Copy the view's link (the URL holds every setting); download the run as a PNG
    at 1 px per sample or as one standalone HTML file (hrefs set in the browser)."""
    return html.Div(
        [
            dcc.Clipboard(
                id=ids.COPY_LINK, title="copy link to this view", className="fd-copy-link"
            ),  # fmt: skip
            html.Span("copy link", className="fd-share-label"),
            *(
                html.A(label, id=key, download="", className="fd-download", title=title)
                for label, key, title in (
                    ("PNG", ids.DOWNLOAD_PNG, "the whole network at 1 px per sample"),
                    ("HTML", ids.DOWNLOAD_HTML, "this run as one file that works offline"),
                    ("data", ids.DOWNLOAD_DATA, "per sample and per layer, as CSV for a "
                     "notebook (the comparison too, while comparing)"),
                )
            ),
        ],
        className="fd-share",
    )


def zoom_panel() -> html.Div:
    """The glyph zoom modal, hidden until a glyph is clicked."""
    return html.Div(
        html.Div(
            [
                html.Button("×", id=ids.GLYPH_ZOOM_CLOSE, className="fd-zoom-close", n_clicks=0),
                html.Div(id=ids.GLYPH_ZOOM_BODY, className="fd-zoom-body"),
            ],
            className="fd-zoom-card",
        ),
        id=ids.GLYPH_ZOOM,
        className="fd-zoom",
        hidden=True,
    )


def page(context: AppContext) -> html.Div:
    """The whole page of the app with ``context``; panels are filled by the callbacks."""
    side = html.Aside(
        [
            html.H2("classes", className="fd-panel-title"),
            html.Div(id=ids.LEGEND, className="fd-legend"),
            charts_panel(compare_panel()),
        ],
        className="fd-side",
    )
    graphs = html.Div(
        [html.Div(id=ids.DAG, className="fd-dag"),
         html.Div(id=ids.DAG_B, className="fd-dag fd-dag-b")],
        id=ids.GRAPHS,
        className="fd-graphs",
    )  # fmt: skip
    return html.Div(
        [
            header(context),
            html.Div(id=ids.PROGRESS, className="fd-progress", role="status"),
            # Written by the browser only (assets/load_errors.js), as the progress line
            # looks: what of the run's data could not be loaded, and the fix.
            html.Div(id=ids.LOAD_ERROR, className="fd-progress fd-load-error", role="alert",
                     hidden=True),  # fmt: skip
            html.Main([graphs, side], className="fd-main"),
            zoom_panel(),
            dcc.Store(id=ids.RUN),
            dcc.Store(id=ids.COMPUTE),
            dcc.Store(id=ids.COMPUTED),
            dcc.Interval(id=ids.JOBS_TICK, interval=2000, disabled=True),
            dcc.Store(id=ids.PARTIAL_SHOWN),
            dcc.Store(id=ids.PARTIAL_TICK),
            dcc.Store(id=ids.GLYPH_VARIANTS),
            dcc.Store(id=ids.GLYPH_VARIANTS_B),
        ],
        className="fd-page",
    )
