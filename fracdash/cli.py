"""Command line: ``fracdash precompute SCENARIO``, ``fracdash analyze``, ``fracdash serve``.

TensorFlow's import-time log lines are silenced (TF_CPP_MIN_LOG_LEVEL) so that users
see fracdash's own messages; errors are one line on stderr with exit code 2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import click  # noqa: E402

from fracdash.cache import Store, default_cache_dir  # noqa: E402


def quiet_keras_import() -> None:
    """Import keras with file descriptor 2 pointed at /dev/null: TensorFlow's C++
    start-up lines (oneDNN, absl) ignore TF_CPP_MIN_LOG_LEVEL. Python errors still
    surface, as exceptions."""
    if "keras" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class ProgressBars:
    """tqdm bars fed by the pipeline's ``progress(stage, done, total, detail)``."""

    LABELS = {"train": "training", "forward": "forward pass", "order": "ordering layers"}

    def __init__(self):
        self._bars = {}

    def __call__(self, stage: str, done: int, total: int, detail: str) -> None:
        from tqdm import tqdm

        bar = self._bars.get(stage)
        if bar is None:
            unit = {"forward": "batch", "train": "epoch"}.get(stage, "step")
            # Orders are counted in work (layers weigh their width): a percentage and ETA.
            fmt = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]"
            bar = tqdm(
                total=total,
                desc=self.LABELS.get(stage, stage),
                unit=unit,
                file=sys.stderr,
                bar_format=fmt if stage == "order" else None,
            )
            self._bars[stage] = bar
        bar.set_postfix_str(detail, refresh=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()


def _write_glyphs(analysis, out: Path) -> None:
    from fracdash.glyphs import absolute_png, relative_png

    out.mkdir(parents=True, exist_ok=True)
    for i, layer in enumerate(analysis.layers):
        stem = f"{i:02d}-{layer.name.replace('/', '_')}"
        (out / f"{stem}-absolute.png").write_bytes(absolute_png(analysis, layer.name))
        (out / f"{stem}-relative.png").write_bytes(relative_png(analysis, layer.name))


def _print_summary(analysis) -> None:
    click.echo(f"accuracy {100 * analysis.accuracy:.2f}% on {analysis.n} test samples")
    width = max(len(g.name) for g in analysis.layers)
    for i, g in enumerate(analysis.layers):
        click.echo(f"  {i:02d} {g.name:<{width}}  {g.kind:<14} quality {g.quality:.3f}")


@click.group()
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.pass_context
def main(ctx, debug):
    """fracdash: how every layer of a classifier sorts a whole labelled test set."""
    ctx.obj = {"debug": debug}


@main.command()
@click.argument("scenario")
@click.option("--samples", type=click.IntRange(min=2), help="Test samples (default: all 10,000).")
@click.option(
    "--epochs", type=click.IntRange(min=1), help="Training epochs (default: the scenario's)."
)
@click.option(
    "--train-samples", type=click.IntRange(min=10), help="Training samples (default: all)."
)
@click.option("--metric", type=click.Choice(["euclidean", "cosine"]), default="euclidean")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Cache location (default: $FRACDASH_CACHE or ~/.cache/fracdash).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write glyph PNGs (default: <cache>/glyphs/<run>).",
)
@click.pass_context
def precompute(ctx, scenario, samples, epochs, train_samples, metric, cache_dir, out):
    """Train (once) and analyze a built-in SCENARIO: easy, generalization,
    problematic, simplification or realistic."""
    from fracdash.runs import precompute_scenario, run_name

    store = Store(cache_dir or default_cache_dir())
    quiet_keras_import()
    try:
        analysis = precompute_scenario(
            store,
            scenario,
            samples=samples,
            epochs=epochs,
            train_samples=train_samples,
            metric=metric,
            progress=ProgressBars(),
        )
    except (ValueError, OSError) as err:
        _fail(ctx, str(err), err)
    _print_summary(analysis)
    click.echo(f"model: {analysis.meta.get('note', '')}")
    out = out or store.directory / "glyphs" / run_name(scenario, samples)
    _write_glyphs(analysis, out)
    click.echo(f"glyphs (absolute and relative coloring, one PNG per layer): {out}")


def _fail(ctx, message: str, err: BaseException | None = None):
    """One line on stderr, exit code 2 (the traceback with ``--debug``)."""
    if ctx.obj["debug"] and err is not None:
        raise err
    click.echo(f"fracdash: error: {message}", err=True)
    sys.exit(2)


def _cache_option(fn):
    return click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Cache location (default: $FRACDASH_CACHE or ~/.cache/fracdash).",
    )(fn)


def _user_options(required: bool):
    """--model, --data and the options of a user model's analysis."""
    options = [
        click.option(
            "--model",
            "model_path",
            type=click.Path(path_type=Path),
            required=required,
            help="A Keras model file (.keras or .h5).",
        ),
        click.option(
            "--data",
            "data_path",
            type=click.Path(path_type=Path),
            required=required,
            help="Test set: .npz (x, y), IDX images file or folder, or image folder.",
        ),
        click.option(
            "--class-names",
            type=click.Path(path_type=Path),
            help="Text file, one class name per line.",
        ),
        click.option(
            "--samples", type=click.IntRange(min=1), help="Use only the first N test samples."
        ),
        click.option("--name", help="Run name in the dashboard (default: the model file's stem)."),
        click.option("--metric", type=click.Choice(["euclidean", "cosine"]), default="euclidean"),
    ]

    def decorate(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


def _analyze_user(ctx, model_path, data_path, class_names, samples, name, cache_dir, metric):
    """Load, check, analyze (with progress bars), store and register a user model's
    run; return ``(store, name)``. Nothing is written to the store before every check
    has passed."""
    from fracdash import userdata

    name = name if name is not None else Path(model_path).stem
    try:
        if not name.strip():
            raise userdata.UserDataError("the run name is empty; pass --name NAME")
        quiet_keras_import()
        from fracdash.models.scenarios import SCENARIOS

        if name in SCENARIOS:
            raise userdata.UserDataError(
                f"run name {name!r} is a built-in scenario; pass another --name"
            )
        model = userdata.load_model(model_path)
        x, y, names = userdata.load_data(data_path, samples)
        if class_names is not None:
            names = userdata.load_class_names(class_names)
        x, y, names = userdata.check_data(model, x, y, names)
    except userdata.UserDataError as err:
        _fail(ctx, str(err), err)
    from fracdash.pipeline import analyze
    from fracdash.runs import register

    store = Store(cache_dir or default_cache_dir())
    meta = {
        "network": model.name,
        "note": f"your model {Path(model_path).name} on {Path(data_path).name}",
        "source": "user",
    }
    bars, layer = ProgressBars(), [None]

    def progress(stage, done, total, detail):
        if stage == "order" and detail:
            layer[0] = detail
        bars(stage, done, total, detail)

    try:
        analysis = analyze(
            model, x, y, names, metric=metric, cache=store, progress=progress, meta=meta
        )
    except ValueError as err:
        for bar in bars._bars.values():
            bar.close()  # the error line starts on a line of its own
        message = str(err)
        if "finite values" in message:
            message = (
                f"layer activations hold NaN or inf (layer {layer[0]!r}); check the model's "
                "weights and the input scaling"
            )
        elif ";" not in message:
            message += "; run with --debug for the details"
        _fail(ctx, message, err)
    except MemoryError as err:
        _fail(ctx, f"out of memory for {len(y)} samples; pass a smaller --samples", err)
    register(store, name, analysis)
    _print_summary(analysis)
    click.echo(f"stored as run {name!r} in {store.directory}")
    return store, name


@main.command("analyze")
@_user_options(required=True)
@_cache_option
@click.pass_context
def analyze_command(ctx, model_path, data_path, class_names, samples, name, cache_dir, metric):
    """Analyze your own Keras model on your own labelled test set, and store the run
    so that the dashboard lists it."""
    _analyze_user(ctx, model_path, data_path, class_names, samples, name, cache_dir, metric)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8050, show_default=True)
@click.option("--dry-run", is_flag=True, help="Do everything but start the server.")
@_user_options(required=False)
@_cache_option
@click.pass_context
def serve(
    ctx, model_path, data_path, class_names, samples, name, cache_dir, metric, host, port, dry_run
):
    """Serve the dashboard; with --model and --data, analyze them first and open
    that run."""
    run = "easy"
    if (model_path is None) != (data_path is None):
        _fail(ctx, "--model and --data go together; pass both, or neither")
    if model_path is not None:
        _, run = _analyze_user(
            ctx, model_path, data_path, class_names, samples, name, cache_dir, metric
        )
    from fracdash.web import create_app

    dashboard = create_app(cache_dir=cache_dir, default_run=run)
    click.echo(f"fracdash: http://{host}:{port}/ (run {run!r})")
    if not dry_run:
        dashboard.run(host=host, port=port, debug=False)


if __name__ == "__main__":
    main()
