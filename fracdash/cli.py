"""Command line: ``fracdash precompute SCENARIO``.

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
            unit = {"forward": "batch", "train": "epoch"}.get(stage, "layer")
            bar = tqdm(total=total, desc=self.LABELS.get(stage, stage), unit=unit, file=sys.stderr)
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
        if ctx.obj["debug"]:
            raise
        click.echo(f"fracdash: error: {err}", err=True)
        sys.exit(2)
    _print_summary(analysis)
    out = out or store.directory / "glyphs" / run_name(scenario, samples)
    _write_glyphs(analysis, out)
    click.echo(f"glyphs (absolute and relative coloring, one PNG per layer): {out}")


if __name__ == "__main__":
    main()
