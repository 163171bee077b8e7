"""Command line: ``fracdash precompute SCENARIO``, ``analyze``, ``serve``, ``runs``, ``export``,
``metrics`` (:mod:`fracdash.cli_metrics`), ``compare`` (:mod:`fracdash.cli_compare`).

TensorFlow's import-time log lines are silenced (TF_CPP_MIN_LOG_LEVEL) so that users
see fracdash's own messages; errors are one line on stderr with exit code 2. Every
argument and file is checked before TensorFlow is imported (seconds), so a mistyped
path fails at once.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import click  # noqa: E402

from fracdash.cli_compare import compare_command  # noqa: E402
from fracdash.cli_metrics import metrics_command  # noqa: E402
from fracdash.cli_options import (  # noqa: E402
    _cache_option,
    _cluster_options,
    _fail,
    _marking_options,
    _metric_option,
    _orderer,
    _user_options,
    _versus_options,
)
from fracdash.errors import FracdashError  # noqa: E402
from fracdash.progress import ProgressBars  # noqa: E402
from fracdash.store import Store, default_store_dir  # noqa: E402
from fracdash.version import __version__  # noqa: E402


def _write_glyphs(analysis, out: Path) -> None:
    from fracdash.glyphs import absolute_png, relative_png

    out.mkdir(parents=True, exist_ok=True)
    for i, layer in enumerate(analysis.layers):
        stem = f"{i:02d}-{layer.name.replace('/', '_')}"
        (out / f"{stem}-absolute.png").write_bytes(absolute_png(analysis, layer.name))
        (out / f"{stem}-relative.png").write_bytes(relative_png(analysis, layer.name))


def _print_summary(analysis) -> None:
    split = analysis.meta.get("split", "test")
    what = "test samples" if split == "test" else f"samples ({split} split)"
    click.echo(f"accuracy {100 * analysis.accuracy:.2f}% on {analysis.n} {what}")
    if "preprocessing" in analysis.meta:  # a user's run: what the model was given
        click.echo(f"preprocessing: {analysis.meta['preprocessing']}; "
                   f"output: {analysis.meta.get('output_kind', '?')}")  # fmt: skip
    width = max(len(g.name) for g in analysis.layers)
    if "measures_k" in analysis.meta:  # (runs from before the measures have none)
        click.echo(f"  kNN accuracy, hubness, trustworthiness: k = {analysis.meta['measures_k']}")
    for i, g in enumerate(analysis.layers):
        measures = "" if g.knn_accuracy is None else (
            f"  kNN {g.knn_accuracy:.3f}  hubness {g.hubness:+.2f}  "
            + ("" if g.trustworthiness is None else f"trust {g.trustworthiness:.3f}")
        )  # fmt: skip
        click.echo(f"  {i:02d} {g.name:<{width}}  {g.kind:<14} quality {g.quality:.3f}{measures}")


@click.group()
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(__version__, prog_name="fracdash")
@click.pass_context
def main(ctx, debug):
    """fracdash: how every layer of a classifier sorts a whole labelled test set."""
    ctx.obj = {"debug": debug}


@main.command()
@click.argument("scenario")
@click.option(
    "--samples",
    type=click.IntRange(min=2),
    help="Use the first N images of the split (default: all).",
)
@click.option(
    "--split",
    type=click.Choice(["test", "train", "all"]),
    default="test",
    show_default=True,
    help="Images to analyze: the 10,000 test, the 60,000 "
    "training, or all 70,000 (train then test); past memory the distances go "
    "to disk ($FRACDASH_MATRIX_BUDGET, $FRACDASH_TMPDIR).",
)
@click.option(
    "--epochs", type=click.IntRange(min=1), help="Training epochs (default: the scenario's)."
)
@click.option(
    "--train-samples", type=click.IntRange(min=10), help="Training samples (default: all)."
)
@_metric_option
@_cache_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write glyph PNGs (default: <store>/glyphs/<run>).",
)
@_cluster_options
@click.pass_context
def precompute(ctx, scenario, samples, split, epochs, train_samples, metric, cache_dir, out,
               **where):  # fmt: skip
    """Train (once) and analyze a built-in SCENARIO: easy, generalization,
    problematic, simplification or realistic."""
    from fracdash.models.loading import quiet_keras_import
    from fracdash.runs import precompute_scenario, run_name

    store, bars = Store(cache_dir or default_store_dir()), ProgressBars()
    with _orderer(ctx, cache_dir, **where):
        quiet_keras_import()
        try:
            analysis = precompute_scenario(
                store, scenario, samples=samples, epochs=epochs,
                train_samples=train_samples, metric=metric, progress=bars, split=split,
            )  # fmt: skip
        except (FracdashError, OSError) as err:
            bars.close()
            _fail(ctx, str(err), err)
    _print_summary(analysis)
    click.echo(f"model: {analysis.meta.get('note', '')}")
    out = out or store.directory / "glyphs" / run_name(scenario, samples, split)
    _write_glyphs(analysis, out)
    click.echo(f"glyphs (absolute and relative coloring, one PNG per layer): {out}")


def _analyze_user(ctx, opts: dict, cache_dir, series=None, start=None) -> tuple[Store, str]:
    """Check every argument and file, then load, analyze (with progress bars), store
    and register a user model's run; return ``(store, name)``. TensorFlow is imported
    only once the arguments and files have passed; nothing is written to the store
    before every check has passed (labels that look permuted are refused once the
    forward pass has given the predictions, before anything is stored). ``series``:
    ``(name, step)`` of a checkpoint's run in a series (:mod:`fracdash.series`), its
    orders begun at sample ``start`` if given."""
    from fracdash import background_compile
    from fracdash.inputs import data as userdata
    from fracdash.runs import analyze_run, check_run_name

    model_path, data_path = Path(opts["model_path"]), Path(opts["data_path"])
    name = opts["name"] if opts["name"] is not None else model_path.stem
    if series:  # the series service loads the orderer (numba): only for a series
        from fracdash.series import step_name

        name = step_name(*series)
    directory = Path(cache_dir or default_store_dir()).expanduser()
    # A store that does not exist yet holds no runs: it is created only once all passed.
    store = Store(directory) if (directory / "store").is_dir() else None
    output = opts["output"]
    try:
        check_run_name(store, name, replace=opts["replace"])
        prep = userdata.Preprocessing.parse(opts["scale"], opts["mean"], opts["std"])
        userdata.check_model_file(model_path)
        names = opts["class_names"] and userdata.load_class_names(opts["class_names"])
        notes: list[str] = []  # printed once every check has passed: a refusal is one line
        x, y, names = userdata.load_data(
            data_path, opts["samples"], warn=notes.append, first=opts["first"],
            split=opts["split"], class_names=names or None,
        )  # fmt: skip
        if model_path.suffix.lower() != ".onnx":  # an ONNX model never needs TensorFlow
            from fracdash.inputs.checks import check_before_loading
            from fracdash.models.loading import quiet_keras_import
            from fracdash.sources.keras_file import summarize

            # What the file says of its model is checked before TensorFlow's start-up.
            check_before_loading(summarize(model_path), x, y, names, output=output)
        background_compile.start()  # numba compiles while TensorFlow and the model load
        if model_path.suffix.lower() != ".onnx":
            quiet_keras_import()
        model = userdata.load_model(model_path, output)
        data = userdata.prepare_data(
            model, x, y, names, warn=notes.append, scale=prep.scale, mean=prep.mean,
            std=prep.std, logits=opts["logits"], class_groups=opts["class_groups"],
        )  # fmt: skip
    except FracdashError as err:
        _fail(ctx, str(err), err)
    for note in notes:
        click.echo(f"fracdash: warning: {note}", err=True)
    store = store or Store(directory)
    bars = ProgressBars()
    from fracdash.run_inputs import inputs_recipe

    note = f"your model {model_path.name} on {data_path.name}"
    meta = {"note": note, "inputs": inputs_recipe(model_path, data_path, opts), **data.meta()}
    common = dict(
        replace=opts["replace"], metric=opts["metric"], progress=bars, meta=meta,
        keep_labels=opts["keep_labels"], measures=not opts["no_measures"],
        about={"model": model_path.name, "data": data_path.name, **data.about()},
    )  # fmt: skip
    try:
        inputs = (store, data.model, data.x, data.y, data.class_names)
        if series:
            from fracdash.series import analyze_step

            analysis = analyze_step(*inputs, series=series[0], step=series[1], start=start,
                                    **common)  # fmt: skip
        else:
            analysis = analyze_run(*inputs, name=name, **common)
    except FracdashError as err:
        bars.close()
        _fail(ctx, str(err), err)
    except MemoryError as err:
        bars.close()
        _fail(ctx, f"out of memory for {len(y)} samples; pass a smaller --samples", err)
    _print_summary(analysis)
    click.echo(f"stored as run {name!r} in {store.directory}")
    return store, name


@main.command("analyze")
@_user_options(required=True)
@click.option("--start-sample", "start", type=click.IntRange(min=0), metavar="N",
              help="With a --model pattern of checkpoints: begin every layer's order at "
              "sample N (fixed start, not exact VAT), for layouts that hold still from "
              "checkpoint to checkpoint.")  # fmt: skip
@_cache_option
@_cluster_options
@click.pass_context
def analyze_command(ctx, cache_dir, scheduler, workers, shared_dir, start, **opts):
    """Analyze your own Keras model on your own labelled test set, and store the run
    so that the dashboard lists it. A --model pattern ('ckpt_*.keras', quoted) analyzes
    checkpoints of one network into a series of runs NAME@STEP (STEP: the number in
    each file's name)."""
    with _orderer(ctx, cache_dir, scheduler, workers, shared_dir):
        # A pattern of checkpoints ("*", "?", "[" in the name; fracdash.series.is_pattern),
        # told apart here: the series service loads the orderer, a shape error must not.
        if not any(c in Path(opts["model_path"]).name for c in "*?["):
            if start is not None:
                _fail(ctx, "--start-sample goes with a --model pattern of checkpoints; "
                      "pass one ('ckpt_*.keras'), or leave --start-sample out")  # fmt: skip
            _analyze_user(ctx, opts, cache_dir)
            return
        from fracdash.series import expand_models

        paths = expand_models(opts["model_path"])
        if not paths:
            _fail(ctx, f"no model file matches {str(opts['model_path'])!r}; check the "
                  "pattern (quoted, so that the shell leaves it alone)")  # fmt: skip
        _analyze_series(ctx, opts, cache_dir, paths, start)


def _analyze_series(ctx, opts, cache_dir, paths, start) -> None:
    from fracdash.series import checkpoint_steps, series_name, step_name

    name = opts["name"] or series_name(opts["model_path"])
    steps = checkpoint_steps(paths)
    for path, step in zip(paths, steps, strict=True):
        click.echo(f"checkpoint {path.name}: run {step_name(name, step)!r}")
        _analyze_user(ctx, {**opts, "model_path": path, "name": name}, cache_dir,
                      series=(name, step), start=start)  # fmt: skip
    click.echo(f"series {name!r}: {len(paths)} checkpoints, steps {', '.join(map(str, steps))}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8050, show_default=True)
@click.option("--dry-run", is_flag=True, help="Do everything but start the server.")
@_user_options(required=False)
@_cache_option
@click.pass_context
def serve(ctx, host, port, dry_run, cache_dir, **opts):
    """Serve the dashboard; with --model and --data, analyze them first and open
    that run."""
    from fracdash.serving import check_port

    run = "easy"
    if (opts["model_path"] is None) != (opts["data_path"] is None):
        _fail(ctx, "--model and --data go together; pass both, or neither")
    try:
        check_port(host, port, hint="--port")
    except FracdashError as err:
        _fail(ctx, str(err), err)
    if opts["model_path"] is not None:
        _, run = _analyze_user(ctx, opts, cache_dir)
    from fracdash.web import create_app

    dashboard = create_app(cache_dir, default_run=run)
    click.echo(f"fracdash: http://{host}:{port}/ (run {run!r})")
    if not dry_run:
        from fracdash.web.app import serve

        serve(dashboard, host=host, port=port)  # SIGTERM/SIGINT end its jobs first


@main.command("runs")
@click.option("--delete", "delete", metavar="NAME", help="Remove run NAME and what only it uses.")
@_cache_option
@click.pass_context
def runs_command(ctx, delete, cache_dir):
    """List the stored runs (what the dashboard offers), or delete one."""
    from fracdash.runs import catalog, delete_run

    store = Store(cache_dir or default_store_dir())
    if delete is not None:
        try:
            freed = delete_run(store, delete)
        except FracdashError as err:
            _fail(ctx, str(err), err)
        click.echo(f"deleted run {delete!r} ({_size(freed)} freed)")
        return
    entries = catalog(store)
    if not entries:
        click.echo(f"no stored runs in {store.directory}")
        return
    rows = [("name", "model", "data", "preprocessing", "n", "accuracy", "date", "size")]
    for name, e in sorted(entries.items()):
        acc = f"{100 * e['accuracy']:.2f}%" if "accuracy" in e else "?"
        # Runs stored before their data source was recorded say so, not "?".
        data = e.get("data") or ("arrays from Python" if "Python" in e.get("note", "") else "-")
        prep = e.get("preprocessing", "-").replace("no preprocessing", "none")
        rows.append((name, e.get("model", "?"), data, prep, str(e.get("n", "?")), acc,
                     e.get("created", "?"), _size(e["size"]) if "size" in e else "?"))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _size(n: float) -> str:
    if n < 1000:
        return f"{n:.0f} B"
    for unit in ("KB", "MB", "GB"):
        n /= 1000
        if n < 1000 or unit == "GB":
            return f"{n:.1f} {unit}"
    raise AssertionError("unreachable")


@main.command("export")
@click.argument("run")
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Write the run as one self-contained HTML page (legend hover, coloring "
    "switch; works offline).",
)
@click.option(
    "--png",
    "png_path",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Write the whole layer graph as a PNG, folded into columns, every glyph at "
    "least 128 px wide.",
)
@click.option(
    "--data",
    "data_path",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Write the run as data for a notebook: per sample (index, true and predicted "
    "label, pixel and rank in every layer's order) to FILE, per layer (kind, shape, "
    "quality) beside it as <stem>-layers; .csv, or .parquet with pyarrow installed.",
)
@_marking_options
@click.option(
    "--simplify",
    is_flag=True,
    help="Leave out Flatten, Reshape and Permute layers (the simplified network).",
)
@click.option(
    "--curve",
    type=click.Choice(["compact", "paper"]),
    default="compact",
    show_default=True,
    help="The curve the glyphs are laid on: the compact rectangle, or the paper's "
    "Hilbert square.",
)
@_versus_options
@_cache_option
@click.pass_context
def export_command(ctx, run, html_path, png_path, data_path, coloring, select, simplify, curve,
                   versus, pairs, cache_dir):  # fmt: skip
    """Export stored run RUN: a standalone HTML page (--html), a PNG of its layer graph
    (--png), folded into columns as on the page, and/or its data (--data); with --versus,
    its comparison with another run. Each file is written whole or not at all."""
    from fracdash.export.run import export_run

    try:
        written = export_run(
            cache_dir or default_store_dir(), run, html=html_path, png=png_path,
            data=data_path, coloring=coloring, simplify=simplify, curve=curve,
            versus=versus, pairs=list(pairs) or None, select=select,
        )  # fmt: skip
    except FracdashError as err:
        _fail(ctx, str(err), err)
    for path, size in written:
        click.echo(f"wrote {path} ({_size(size)})")


main.add_command(metrics_command)  # fracdash metrics RUN --metrics ...
main.add_command(compare_command)  # fracdash compare RUN_A RUN_B

if __name__ == "__main__":
    main()
