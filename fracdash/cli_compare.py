"""``fracdash compare RUN_A RUN_B``: two stored runs on the same samples, layer pair by
layer pair (:func:`fracdash.compare.compare_runs`), as a table or JSON, for scripts and
the CI of model training. Runs of other samples are refused with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import click

from fracdash.cli_options import _cache_option, _fail
from fracdash.errors import FracdashError
from fracdash.progress import ProgressBars
from fracdash.store import Store, default_store_dir

_COLUMNS = ("layer A", "layer B", "quality A", "quality B", "B - A", "curve", "kNN", "tree",
            "CKA")  # fmt: skip


def _figure(value, digits: int = 3) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"  # NaN: "-"


def _print_table(comparison) -> None:
    c = comparison
    click.echo(f"{c.run_a} (A) against {c.run_b} (B): {c.n:,} samples, layers paired by "
               f"{c.pairing}")  # fmt: skip
    acc = [float((p == c.labels).mean()) for p in (c.predictions_a, c.predictions_b)]
    click.echo(f"accuracy A {100 * acc[0]:.2f}%, B {100 * acc[1]:.2f}%; "
               f"{c.disagreements.size:,} samples classified differently")  # fmt: skip
    click.echo("  " + ", ".join(f"{name} {count:,}" for name, count in c.counts().items()))
    rows = [_COLUMNS]
    for p in c.pairs:
        rows.append((p.a, p.b, _figure(p.quality_a), _figure(p.quality_b),
                     f"{p.difference:+.3f}", _figure(p.curve), _figure(p.knn),
                     _figure(p.tree_edges), _figure(p.cka)))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    for row in rows:
        cells = zip(row, widths, strict=True)
        click.echo("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(cells)))
    for note in c.notes:
        click.echo(f"note: {note}")


@click.command("compare")
@click.argument("run_a")
@click.argument("run_b")
@click.option("--pair", "pairs", multiple=True, metavar="A:B",
              help="Compare layer A of RUN_A with layer B of RUN_B (repeat it; given, these "
              "are the only pairs). By default layers are paired by name where the "
              "networks match, else by relative depth.")
@click.option("--k", type=click.IntRange(min=1), default=10, show_default=True,
              help="Neighbours per sample of the kNN overlap.")
@click.option("--cka", type=click.Choice(["pairs", "matrix", "none"]), default="pairs",
              show_default=True, help="Linear CKA of the paired layers (the table's "
              "column), of every layer of RUN_A with every layer of RUN_B (in --json), or "
              "none (the fastest).")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@click.option("--data", "data_path", type=click.Path(path_type=Path), metavar="FILE",
              help="Also write it as data for a notebook: per sample (labels, both "
              "predictions, ranks, agreement) to FILE, per layer pair beside it as "
              "<stem>-layers; .csv, or .parquet with pyarrow installed.")
@_cache_option
@click.pass_context
def compare_command(ctx, run_a, run_b, pairs, k, cka, as_json, data_path, cache_dir):
    """Compare stored runs RUN_A and RUN_B on their common samples: per layer pair both
    qualities and their difference, the agreement of the two layers (curve neighbours
    kept, kNN overlap, shared spanning-tree edges) and their linear CKA; per sample the
    predictions. kNN overlap and tree edges come from the neighbours each run stored
    when it was ordered (--k up to 10); CKA, and runs stored without them, need the
    layers' activations, computed again where the runs' models and data are found
    (scenario runs, runs of fracdash analyze): --cka none answers from the store alone.
    Runs of different samples exit with code 2."""
    from fracdash.compare import compare_runs, stored_run
    from fracdash.export.data import check_data_target, comparison_tables, write_tables

    directory = Path(cache_dir or default_store_dir()).expanduser()
    if not (directory / "store").is_dir():
        _fail(ctx, f"no run named {run_a!r} in {directory}; stored runs: none")
    store, bars = Store(directory), ProgressBars()
    try:
        if data_path is not None:
            check_data_target(data_path)  # before minutes of work
        comparison = compare_runs(store, run_a, run_b, pairs=list(pairs), k=k, cka=cka,
                                  progress=None if as_json else bars)  # fmt: skip
        bars.close()
        written = []
        if data_path is not None:
            analyses = [stored_run(store, name)[1] for name in (run_a, run_b)]
            written = write_tables(data_path, *comparison_tables(comparison, *analyses))
    except FracdashError as err:
        bars.close()
        _fail(ctx, str(err), err)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(comparison.to_dict(), indent=1))
    else:
        _print_table(comparison)
    for path, size in written:
        click.echo(f"wrote {path} ({size:,} bytes)", err=as_json)
