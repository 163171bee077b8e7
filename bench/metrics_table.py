"""The paper's five scenarios under every metric, every layer: the figures behind
docs/metrics.md. Writes bench/results/metrics-table-<date>.json and prints one markdown
table per scenario.

For each scenario (in the order given), at ``--samples`` test images:

  precompute  the stored Euclidean run, as ``fracdash precompute SCENARIO`` makes it
              (trained once, stored by content; found again when already there);
  orders      the run ordered under each other metric, stored as the sibling run
              ``RUN-METRIC`` as ``fracdash metrics`` stores it (relu-hamming: only the
              ReLU layers, ordered here and not stored);
  measures    per layer and metric, :func:`fracdash.core.comparison.compare_metrics`
              (leave-one-out kNN accuracy, hubness, trustworthiness, agreement with the
              Euclidean order) and the glyph's quality (8-neighbour, compact curve);
              per metric, the onset and degraded layers of :mod:`fracdash.readings`.

The store: ``--store``, else ``$FRACDASH_STORE``, else ``~/.cache/fracdash``. The JSON is
rewritten after each scenario, so a run cut short keeps what it finished.

    nice python bench/metrics_table.py [--scenarios easy,generalization,...]
        [--samples 10000] [--reduced simplification=2000,...] [--k 10] [--store DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from metrics import machine  # noqa: E402

from fracdash.core.metrics import METRICS, relu_family  # noqa: E402

SCENARIO_ORDER = ("easy", "generalization", "problematic", "realistic", "simplification")
ALL_METRICS = ("euclidean", "cosine", "correlation", "standardized", "manhattan",
               "local-scaling", "relu-hamming")  # fmt: skip


def _reduced(text: str) -> dict[str, int]:
    """``"simplification=2000,realistic=5000"`` -> {scenario: samples}."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, n = part.partition("=")
        if name not in SCENARIO_ORDER or not n.isdigit():
            sys.exit(f"metrics_table: bad --reduced entry {part!r}; write SCENARIO=SAMPLES")
        out[name] = int(n)
    return out


def _stored_run(store, scenario: str, samples: int):
    """The scenario's Euclidean run on ``samples`` test images, computed if missing."""
    from fracdash.runs import load_run, precompute_scenario, run_name

    name = run_name(scenario, None if samples == 10_000 else samples)
    found = load_run(store, name)
    if found is not None and found.n == samples:
        return name, found, False
    analysis = precompute_scenario(store, scenario, samples=None if samples == 10_000 else samples)
    return name, analysis, True


def _sibling_orders(store, name, base, metrics, times):
    """Each row metric's analysis of the scenario's model and data (the Euclidean one
    found again in the store), the others registered as ``NAME-METRIC``."""
    from fracdash.models.training import trained_model
    from fracdash.pipeline import analyze
    from fracdash.runs import register
    from fracdash.scenarios import SCENARIOS, test_data

    spec = SCENARIOS[base.meta["scenario"]]
    model, _ = trained_model(spec, store.directory / "models")
    x, y, names = test_data(spec, base.n)
    meta = {k: base.meta[k] for k in ("scenario", "note", "paper", "network", "split")
            if k in base.meta}  # fmt: skip
    analyses = {}
    for metric in metrics:
        if metric == "relu-hamming":
            continue
        t = time.perf_counter()
        analyses[metric] = analyze(model, x, y, names, metric=metric, store=store, meta=meta)
        times[metric] = round(time.perf_counter() - t, 1)
        if metric != "euclidean":
            register(store, f"{name}-{metric}", analyses[metric], model=spec.network,
                     data=spec.test_on)  # fmt: skip
        print(f"  {metric}: ordered in {times[metric]:.1f} s", flush=True)
    return model, x, y, analyses


def _layer_rows(store, model, x, y, analyses, metrics, k, times) -> list[dict]:
    """Per layer: its width, and per metric the quality and the comparison figures (a
    metric's stored measures and tree, from its analysis, taken as they are)."""
    from fracdash.analysis import make_glyph
    from fracdash.cli_metrics import own_order_layers
    from fracdash.core import vat_order
    from fracdash.core.comparison import compare_metrics
    from fracdash.measuring import known_figures

    known = known_figures(store, analyses, k)
    rows = []
    for node, xa in own_order_layers(model, x):
        t = time.perf_counter()
        glyphs = {m: a.layer(node.name) for m, a in analyses.items()}
        orders = {m: g.order for m, g in glyphs.items()}
        quality = {m: float(g.quality) for m, g in glyphs.items()}
        relu = relu_family(node.kind, node.relu)
        if "relu-hamming" in metrics and relu:
            t0 = time.perf_counter()
            orders["relu-hamming"] = vat_order(xa, "relu-hamming")
            times["relu-hamming"] = round(times.get("relu-hamming", 0)
                                          + time.perf_counter() - t0, 1)  # fmt: skip
            g = glyphs["euclidean"]
            quality["relu-hamming"] = float(make_glyph(
                g.name, g.kind, g.inputs, g.output_shape, orders["relu-hamming"], y,
                g.curve).quality)  # fmt: skip
        figures = {}
        for r in compare_metrics(xa, y, orders, k=k, known=known.get(node.name)):
            figures[r.metric] = {"quality": round(quality[r.metric], 4),
                                 "knn_accuracy": round(r.knn_accuracy, 4),
                                 "hubness": round(r.hubness, 3),
                                 "trustworthiness": round(r.trustworthiness, 4),
                                 "tree_edges": round(r.tree_edges, 4),
                                 "curve_kept": round(r.curve_kept, 4)}  # fmt: skip
        seconds = round(time.perf_counter() - t, 1)
        rows.append({"layer": node.name, "kind": node.kind, "width": int(xa.shape[1]),
                     "relu": relu, "measures_s": seconds, "metrics": figures})  # fmt: skip
        print(f"  {node.name} ({xa.shape[1]} wide): measured in {seconds:.1f} s", flush=True)
    return rows


def _readings(analyses) -> dict:
    """Per metric: onset and degraded layers of its qualities (the page's reading)."""
    from fracdash.readings import layer_readings

    return {m: layer_readings(a.simplified()) for m, a in analyses.items()}


def scenario_figures(store, scenario: str, samples: int, metrics, k: int) -> dict:
    """Everything the JSON holds for one scenario."""
    t = time.perf_counter()
    name, base, computed = _stored_run(store, scenario, samples)
    precompute_s = round(time.perf_counter() - t, 1)
    print(f"{scenario}: run {name!r} ({'computed' if computed else 'found'}, "
          f"{precompute_s:.1f} s, accuracy {base.accuracy:.4f})", flush=True)  # fmt: skip
    order_times: dict[str, float] = {}
    model, x, y, analyses = _sibling_orders(store, name, base, metrics, order_times)
    t = time.perf_counter()
    rows = _layer_rows(store, model, x, y, analyses, metrics, k, order_times)
    measures_s = round(time.perf_counter() - t, 1)
    return {"run": name, "samples": int(base.n), "full": base.n == 10_000,
            "accuracy": round(base.accuracy, 4), "note": base.meta.get("note"),
            "times": {"precompute_s": precompute_s, "precompute_computed": computed,
                      "orders_s": order_times, "measures_s": measures_s},
            "readings": _readings(analyses), "layers": rows}  # fmt: skip


MEASURES = (
    ("quality", "glyph quality (8-neighbour, compact curve)", ".3f"),
    ("knn_accuracy", "leave-one-out kNN accuracy", ".3f"),
    ("hubness", "hubness (skewness of the k-occurrence)", ".2f"),
    ("trustworthiness", "trustworthiness of the glyph", ".3f"),
    ("curve_kept", "glyph neighbours kept from the Euclidean glyph", ".2f"),
    ("tree_edges", "Prim-tree edges shared with the Euclidean order", ".2f"),
)


def markdown(name: str, figures: dict, metrics) -> str:
    """One scenario's tables, one per measure: layers down, metrics across; the onset
    and degraded layers per metric last."""
    size = f"{figures['samples']:,} test samples"
    size += "" if figures["full"] else " (REDUCED, not the full 10,000)"
    out = [f"#### {name}: {size}, accuracy {100 * figures['accuracy']:.2f}%", ""]
    for key, title, fmt in MEASURES:
        out += [f"{title}:", "", "| layer | " + " | ".join(metrics) + " |",
                "| --- |" + " ---: |" * len(metrics)]  # fmt: skip
        for row in figures["layers"]:
            cells = [format(row["metrics"][m][key], fmt) if m in row["metrics"] else "–"
                     for m in metrics]  # fmt: skip
            out.append(f"| {row['layer']} | " + " | ".join(cells) + " |")
        out.append("")
    readings = figures["readings"]
    out += ["| metric | onset layer | degraded layers |", "| --- | --- | --- |"]
    out += [f"| {m} | {r['onset'] or '–'} | {', '.join(r['degraded']) or '–'} |"
            for m, r in readings.items()]  # fmt: skip
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default=",".join(SCENARIO_ORDER))
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--reduced", default="", help="SCENARIO=SAMPLES,... run at fewer")
    parser.add_argument("--metrics", default=",".join(ALL_METRICS))
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--store", default=None)
    parser.add_argument("--out", default=None, help="the JSON (default: a dated name)")
    parser.add_argument(
        "--markdown",
        default=None,
        metavar="JSON",
        help="print the tables of a written JSON and stop",
    )
    args = parser.parse_args()
    if args.markdown:
        done = json.loads(Path(args.markdown).read_text())
        for name, figures in done["scenarios"].items():
            print(markdown(name, figures, done["args"]["metrics"]) + "\n")
        return
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    bad = [s for s in scenarios if s not in SCENARIO_ORDER]
    if bad:
        sys.exit(f"metrics_table: unknown scenario {bad[0]!r}; choose from "
                 f"{', '.join(SCENARIO_ORDER)}")  # fmt: skip
    metrics = ["euclidean", *dict.fromkeys(m.strip() for m in args.metrics.split(",")
                                           if m.strip() and m.strip() != "euclidean")]  # fmt: skip
    if any(m not in METRICS for m in metrics):
        sys.exit(f"metrics_table: unknown metric in --metrics; choose from {', '.join(METRICS)}")
    reduced = _reduced(args.reduced)

    from fracdash.store import Store, default_store_dir

    store = Store(args.store or default_store_dir())
    stamp = time.strftime("%Y%m%d-%H%M")
    out = Path(args.out) if args.out else ROOT / "bench" / "results" / f"metrics-table-{stamp}.json"
    result = {"machine": machine(), "store": str(store.directory),
              "args": {"samples": args.samples, "reduced": reduced, "metrics": metrics,
                       "k": args.k, "curve": "compact"},
              "scenarios": {}}  # fmt: skip
    for scenario in scenarios:
        samples = reduced.get(scenario, args.samples)
        t = time.perf_counter()
        figures = scenario_figures(store, scenario, samples, metrics, args.k)
        figures["times"]["total_s"] = round(time.perf_counter() - t, 1)
        figures["load_average_after"] = os.getloadavg()
        result["scenarios"][scenario] = figures
        result["machine"]["load_average_at_end"] = os.getloadavg()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1))
        print(markdown(scenario, figures, metrics), flush=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
