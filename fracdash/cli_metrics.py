"""``fracdash metrics RUN --metrics euclidean,correlation,manhattan``: a built-in
scenario's run ordered under several metrics, each stored as a sibling run of the same
model and data (``RUN-METRIC``), and a table per layer and metric of the measures of
:mod:`fracdash.core.comparison`.

The scenario's model is found again from the run (its file in the store's ``models``
folder, named in the run's note) and its data from the scenario, the split and the
sample count; the run's own orders are then found in the store, not recomputed.
``relu-hamming`` orders only the ReLU layers (no run of all layers exists under it):
its figures are printed for those layers, and no sibling run is stored.
"""

from __future__ import annotations

import json
import re
import zipfile
from functools import partial

import click
import numpy as np

from fracdash.cli_options import _cache_option, _fail
from fracdash.core.metrics import METRICS, relu_family
from fracdash.errors import FracdashError, RunError
from fracdash.progress import ProgressBars
from fracdash.store import Store, default_store_dir

_COLUMNS = ("layer", "metric", "kNN acc.", "hubness", "trust.", "tree=eucl.", "curve kept")


def _metric_list(ctx, names: str) -> list[str]:
    wanted = [m.strip() for m in names.split(",") if m.strip()]
    unknown = [m for m in wanted if m not in METRICS]
    if unknown:
        _fail(ctx, f"unknown metric {unknown[0]!r} in --metrics; choose from {', '.join(METRICS)}")
    return ["euclidean", *dict.fromkeys(m for m in wanted if m != "euclidean")]


def _scenario_inputs(store: Store, run: str):
    """(the run's analysis, its catalog entry, its model, x, y, class names)."""
    from fracdash.models.loading import load_keras_file, quiet_keras_import
    from fracdash.runs import catalog, load_run
    from fracdash.scenarios import SCENARIOS, test_data

    entry = catalog(store).get(run)
    analysis = load_run(store, run) if entry else None
    if analysis is None:
        known = ", ".join(sorted(catalog(store))) or "none"
        raise RunError(f"no run named {run!r}; stored runs: {known}")
    scenario = analysis.meta.get("scenario")
    found = re.search(r"[\w.-]+\.keras", str(analysis.meta.get("note", "")))
    if scenario not in SCENARIOS or found is None:
        raise RunError(f"run {run!r} is not a built-in scenario's run, whose model and data "
                       "fracdash can find again; compare metrics on one (fracdash precompute "
                       "easy, then fracdash metrics easy)")  # fmt: skip
    path = store.directory / "models" / found[0]
    if not path.is_file():
        raise RunError(f"the model of run {run!r} ({found[0]}) is not in the store; run "
                       f"fracdash precompute {scenario} again")  # fmt: skip
    quiet_keras_import()
    model = load_keras_file(path)
    # As training stored it, compiled: the model's digest, and so the run's stored
    # orders' keys, include its compile configuration.
    with zipfile.ZipFile(path) as archive:
        compiled = json.loads(archive.read("config.json")).get("compile_config")
    if compiled:
        model.compile_from_config(compiled)
    x, y, names = test_data(SCENARIOS[scenario], analysis.n, analysis.meta.get("split", "test"))
    return analysis, entry, model, x, y, names


def _sibling_runs(store, run, metrics, inputs, bars) -> dict:
    """Each metric's analysis, stored and registered as ``RUN-METRIC`` (the run itself
    under its own metric, which must be found again unchanged)."""
    from fracdash.pipeline import analyze
    from fracdash.runs import register

    base, entry, model, x, y, names = inputs
    own = base.meta.get("metric", "euclidean")
    meta = {k: base.meta[k] for k in ("scenario", "note", "paper", "network", "split")
            if k in base.meta}  # fmt: skip
    analyses = {}
    for metric in metrics:
        if metric == "relu-hamming":
            continue
        analyses[metric] = analyze(model, x, y, names, metric=metric, store=store, meta=meta,
                                   progress=bars)  # fmt: skip
        if metric == own:
            if analyses[metric].meta["key"] != entry["key"]:
                raise RunError(f"run {run!r} was not found again (its model or data "
                               "changed); run fracdash precompute again")  # fmt: skip
            continue
        register(store, f"{run}-{metric}", analyses[metric], model=entry.get("model", "?"),
                 data=entry.get("data", "?"))  # fmt: skip
    return analyses


def own_order_layers(model, x):
    """Each layer of ``model`` that holds an order of its own (not a reshape of its
    input's), with its activations on ``x`` as (n, d): ``(node, array)``, one forward
    pass for all."""
    from fracdash.core import shares_input_order
    from fracdash.models.activations import DEFAULT_BATCH, forward
    from fracdash.sources import as_source

    source = as_source(model, example=x)
    net = source.network(x[:1])
    nodes = [n for n in net.nodes if not shares_input_order(n.kind, n.inputs)]
    with forward(net, [x], [n.name for n in nodes], batch_size=source.batch_size or DEFAULT_BATCH,
                 outputs=partial(source.layer_outputs, net)) as acts:  # fmt: skip
        for node in nodes:
            yield node, np.asarray(acts.array(node.name)).reshape(len(x), -1)


def _table(store, analyses, metrics, inputs, k) -> list[tuple]:
    """One row per layer with its own order and metric: the figures of
    :func:`fracdash.core.comparison.compare_metrics` on the layer's activations (the
    figures each analysis stored when it measured its layers taken as they are)."""
    from fracdash.core import vat_order
    from fracdash.core.comparison import compare_metrics
    from fracdash.measuring import known_figures

    _, _, model, x, y, _ = inputs
    known = known_figures(store, analyses, k)
    rows = []
    for node, xa in own_order_layers(model, x):
        orders = {m: a.layers[a.layer_names.index(node.name)].order
                  for m, a in analyses.items()}  # fmt: skip
        if "relu-hamming" in metrics and relu_family(node.kind, node.relu):
            orders["relu-hamming"] = vat_order(xa, "relu-hamming")
        for r in compare_metrics(xa, y, orders, k=k, known=known.get(node.name)):
            rows.append((node.name, r.metric, f"{r.knn_accuracy:.3f}", f"{r.hubness:.2f}",
                         f"{r.trustworthiness:.3f}", f"{r.tree_edges:.3f}",
                         f"{r.curve_kept:.3f}"))  # fmt: skip
    return rows


@click.command("metrics")
@click.argument("run")
@click.option("--metrics", "names", default="euclidean,cosine,correlation", show_default=True,
              help=f"Comma-separated, from: {', '.join(METRICS)} (euclidean is always "
              "included: the others are compared with it).")
@click.option("--k", type=click.IntRange(min=1), default=10, show_default=True,
              help="Neighbours per sample for the measures and the agreement.")
@_cache_option
@click.pass_context
def metrics_command(ctx, run, names, k, cache_dir):
    """Order built-in scenario run RUN under several metrics (each stored as a sibling
    run RUN-METRIC) and print, per layer and metric, the leave-one-out kNN accuracy,
    hubness and trustworthiness in that metric, and how far its order agrees with the
    Euclidean one (shared spanning-tree edges, curve neighbours kept)."""
    metrics = _metric_list(ctx, names)
    store, bars = Store(cache_dir or default_store_dir()), ProgressBars()
    try:
        inputs = _scenario_inputs(store, run)
        if not 1 <= k < len(inputs[4]) / 2:
            raise RunError(f"--k {k} must be below half the run's {len(inputs[4])} samples; "
                           "pass a smaller --k")  # fmt: skip
        analyses = _sibling_runs(store, run, metrics, inputs, bars)
        bars.close()
        rows = [_COLUMNS, *_table(store, analyses, metrics, inputs, k)]
    except FracdashError as err:
        bars.close()
        _fail(ctx, str(err), err)
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    for row in rows:
        cells = zip(row, widths, strict=True)
        click.echo("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(cells)))
    siblings = [f"{run}-{m}" for m in analyses if m != inputs[0].meta.get("metric", "euclidean")]
    if siblings:
        click.echo(f"sibling runs stored: {', '.join(siblings)} (fracdash serve lists them)")
