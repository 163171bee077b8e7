"""A run, or a comparison of two runs, as data for a notebook: two tables, CSV or Parquet.

``fracdash export RUN --data FILE`` and ``fracdash compare A B --data FILE`` write the
per-sample table to FILE and the per-layer table beside it, as ``<stem>-layers<suffix>``:

- a run, per sample: ``index``, ``label`` and ``predicted`` (and their class names), and
  for every layer L its glyph pixel ``x:L``, ``y:L`` and ``rank:L``, the sample's place
  in L's order (0 first); per layer: its place in the graph, name, kind, inputs, output
  shape, glyph size, curve and quality.
- a comparison, per sample: ``index``, ``label``, both runs' predictions, the
  correctness class, ``agreement`` (the mean of the sample's curve agreements over the
  pairs: the lowest moved most), ``rank_a:L`` and ``rank_b:L`` for every layer of each
  run, and per layer pair ``curve:A~B`` (and ``knn:A~B`` with the activations): the sample's
  agreement; per pair: the measures of :class:`~fracdash.run_comparison.PairMeasures`.

Parquet needs ``pyarrow`` (not a dependency: a .parquet target without it is refused
with the install hint). Both files are written whole or not at all.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from fracdash.core.neighbours import order_ranks
from fracdash.errors import ExportError
from fracdash.export.files import check_target, write_atomic
from fracdash.run_comparison import CORRECTNESS

#: What ``--data`` writes, by the target's suffix.
FORMATS = (".csv", ".parquet")
PARQUET_HINT = "pip install pyarrow"


def run_tables(analysis) -> tuple[dict, dict]:
    """(per-sample table, per-layer table) of ``analysis``: column name -> values."""
    n, names = analysis.n, list(analysis.class_names)
    samples = {
        "index": np.arange(n),
        "label": analysis.labels,
        "label_name": [names[c] for c in analysis.labels],
        "predicted": analysis.predictions,
        "predicted_name": [names[c] for c in analysis.predictions],
    }
    for g in analysis.layers:
        samples[f"x:{g.name}"] = g.positions[:, 0]
        samples[f"y:{g.name}"] = g.positions[:, 1]
        samples[f"rank:{g.name}"] = order_ranks(g.order, n)
    layers = {
        "position": list(range(len(analysis.layers))),
        "layer": [g.name for g in analysis.layers],
        "kind": [g.kind for g in analysis.layers],
        "inputs": [";".join(g.inputs) for g in analysis.layers],
        "output_shape": ["x".join(map(str, g.output_shape)) for g in analysis.layers],
        "width": [g.width for g in analysis.layers],
        "height": [g.height for g in analysis.layers],
        "curve": [g.curve for g in analysis.layers],
        "quality": [g.quality for g in analysis.layers],
    }
    return samples, layers


def comparison_tables(comparison, a, b) -> tuple[dict, dict]:
    """(per-sample table, per-pair table) of ``comparison`` of analyses ``a`` and ``b``."""
    n = comparison.n
    samples = {
        "index": np.arange(n),
        "label": comparison.labels,
        "predicted_a": comparison.predictions_a,
        "predicted_b": comparison.predictions_b,
        "correctness": [CORRECTNESS[c] for c in comparison.correctness],
        "agreement": comparison.agreement,
    }
    for side, analysis in (("a", a), ("b", b)):
        for g in analysis.layers:
            samples[f"rank_{side}:{g.name}"] = order_ranks(g.order, n)
    for i, p in enumerate(comparison.pairs):
        samples[f"curve:{p.a}~{p.b}"] = comparison.curve_samples[i]
        if comparison.knn_samples is not None:
            samples[f"knn:{p.a}~{p.b}"] = comparison.knn_samples[i]
    fields = ("quality_a", "quality_b", "difference", "curve", "knn", "tree_edges", "cka")
    pairs = comparison.pairs
    layers = {"layer_a": [p.a for p in pairs], "layer_b": [p.b for p in pairs]}
    for name in fields:
        layers[name] = [getattr(p, name) for p in pairs]
    return samples, layers


def layers_path(path) -> Path:
    """Where the per-layer table goes beside the per-sample table ``path``."""
    path = Path(path)
    return path.with_name(f"{path.stem}-layers{path.suffix}")


def check_data_target(path) -> Path:
    """``path`` if both tables can be written there in a known format, else
    :class:`ExportError` (an unknown suffix; .parquet without pyarrow)."""
    path = check_target(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(f"cannot write data to {path}: unknown format {suffix or '(none)'!r}; "
                          "name a .csv or .parquet file")  # fmt: skip
    if suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ExportError(f"writing {path.name} needs pyarrow, which is not installed; "
                              f"{PARQUET_HINT}, or name a .csv file") from None  # fmt: skip
    return path


def _cell(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float | np.floating):
        return repr(float(v))  # round-trips exactly
    return v


def table_bytes(table: dict, suffix: str) -> bytes:
    """One table (column name -> values, all of one length) as CSV or Parquet bytes."""
    columns = {name: list(np.asarray(v).tolist()) if isinstance(v, np.ndarray) else list(v)
               for name, v in table.items()}  # fmt: skip
    if suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        buf = io.BytesIO()
        pq.write_table(pa.table(columns), buf)
        return buf.getvalue()
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(zip(*([_cell(v) for v in col] for col in columns.values()), strict=True))
    return text.getvalue().encode("utf-8")


def write_tables(path, samples: dict, layers: dict) -> list[tuple[Path, int]]:
    """Write ``samples`` to ``path`` and ``layers`` to :func:`layers_path`; return each
    file and its size. Both are made before either is written."""
    path = check_data_target(path)
    suffix = path.suffix.lower()
    outputs = [(path, table_bytes(samples, suffix)),
               (layers_path(path), table_bytes(layers, suffix))]  # fmt: skip
    for target, data in outputs:
        try:
            write_atomic(target, data)
        except OSError as err:
            raise ExportError(f"cannot write {target}: {err.strerror or err}") from err
    return [(target, len(data)) for target, data in outputs]
