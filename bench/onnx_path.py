"""The ONNX path beside the Keras path on the easy scenario (issue 15's bench row).

    .venv/bin/python bench/onnx_path.py [--store DIR] [--samples N]

Takes the easy scenario's trained LeNet5 from the store (training it first if needed),
exports it with Keras's own ``model.export(format="onnx")``, and times
``fracdash.analyze`` end to end on the same test set through each path, each into a
fresh store (nothing cached), in one process: orders, predictions and qualities are
compared. Writes ``bench/results/onnx-*.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    from fracdash.models.training import trained_model
    from fracdash.pipeline import analyze
    from fracdash.scenarios import SCENARIOS, test_data
    from fracdash.store import Store, default_store_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--samples", type=int, default=None)
    args = parser.parse_args(argv)
    store_dir = args.store or default_store_dir()
    model, _ = trained_model(SCENARIOS["easy"], Path(store_dir) / "models")
    x, y, names = test_data(SCENARIOS["easy"], args.samples)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = Path(tmp) / "lenet5.onnx"
        start = time.perf_counter()
        model(x[:1])  # a loaded model must have been called once before export
        model.export(str(onnx_path), format="onnx", verbose=False)
        export_s = time.perf_counter() - start
        for label, source in (("keras", model), ("onnx", onnx_path)):
            store = Store(Path(tmp) / f"store-{label}")
            start = time.perf_counter()
            rows[label] = analyze(source, x, y, names, store=store)
            rows[label + "_s"] = time.perf_counter() - start
            store.close()
    keras_a, onnx_a = rows["keras"], rows["onnx"]
    same_predictions = bool(np.array_equal(keras_a.predictions, onnx_a.predictions))
    k_simple, o_simple = keras_a.simplified(), onnx_a.simplified()
    same_orders = sum(
        np.array_equal(a.order, b.order)
        for a, b in zip(k_simple.layers, o_simple.layers, strict=False)
    )
    report = {
        "n": len(y), "export_s": round(export_s, 2),
        "keras_s": round(rows["keras_s"], 2), "onnx_s": round(rows["onnx_s"], 2),
        "ratio_onnx_to_keras": round(rows["onnx_s"] / rows["keras_s"], 3),
        "same_predictions": same_predictions,
        "layers_with_the_same_order": f"{same_orders} of {len(k_simple.layers)}",
    }  # fmt: skip
    for key, value in report.items():
        print(f"{key:>28}: {value}")
    out = ROOT / "bench" / "results" / f"onnx-{time.strftime('%Y%m%d-%H%M')}.json"
    out.write_text(json.dumps(report, indent=1))
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
