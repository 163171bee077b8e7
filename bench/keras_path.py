"""The Keras path beside its ONNX export, end to end through ``fracdash analyze``.

    .venv/bin/python bench/keras_path.py [--repeats 3] [--samples 2000]
        [--easy-samples 10000] [--easy-epochs 1] [--skip-easy] [--work DIR] [--before TREE]

1. *cnn*: LeNet5 (two conv layers) trained one epoch on 2,000 MNIST training images (as
   tests/test_onnx.py), saved as ``.keras`` and exported with Keras's own
   ``model.export(format="onnx")``; analyzed on the first ``--samples`` MNIST test images.
2. *easy*: the easy scenario's LeNet5 trained by fracdash's own scenario training
   (``--easy-epochs``, 1 by default instead of the scenario's 15: the analysis' cost does
   not depend on how well the weights are trained), the same two files, analyzed on
   ``--easy-samples`` test images.
3. Each file goes through ``fracdash analyze`` in a fresh process, ``--repeats`` times
   (after one untimed warm-up run; fracdash imported from a snapshot of the tree taken at
   the start, with a numba cache of the bench's own: others' edits change nothing),
   the Keras and ONNX runs interleaved (the machine's load drifts), each into a fresh
   store (nothing cached). The child runs ``fracdash.cli.main`` as the console script
   does, with timestamps taken around the stage functions (an import hook wraps them as
   their modules load; no code of fracdash is changed): python start, imports, argument
   and file checks, TensorFlow's import, model load, the data checks (probe), graph,
   digest, forward pass, ordering, storing, and exit.
4. The Keras file's first run with an empty numba cache (``NUMBA_CACHE_DIR`` a fresh
   folder), the kernels compiled in the background as fracdash does by default, and
   with ``FRACDASH_BACKGROUND_COMPILE=0`` (compiled in the run itself), against a
   second run on the filled cache (``--numba-only``: this part alone).
5. A shape error (x of 27x27 images for a 28x28 model) through the console script:
   ``fracdash analyze --model m.keras --data bad.npz`` until its one-line refusal.
6. With ``--before TREE`` (a folder holding another ``fracdash/``, say a checkout of the
   last commit), its Keras runs and shape errors interleaved with this tree's: a change's
   before and after measured under the same load.

Prints medians and ratios; writes ``bench/results/keras-path-*.json`` with the machine
(CPU model, cores, load average before and after). Ratios are measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The instrumented child process (bench/keras_path_child.py).
CHILD = Path(__file__).with_name("keras_path_child.py")
PYTHON = sys.executable
FRACDASH = str(Path(sys.executable).with_name("fracdash"))
#: The stages reported, in the order a run meets them.
STAGES = ("python_start", "imports", "checks", "tensorflow_import", "model_load", "check_data",
          "graph", "digest", "forward", "order", "storing", "exit")  # fmt: skip


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), "?")  # fmt: skip
    return {"cpu": model, "cores": os.cpu_count(), "load_average": list(os.getloadavg())}


def prepare(work: Path, samples: int, easy_samples: int, easy_epochs: int, easy: bool) -> dict:
    """The model files and data sets (made once per ``work`` folder)."""
    cases = {"cnn": {"keras": work / "cnn.keras", "onnx": work / "cnn.onnx",
                     "data": work / f"cnn-{samples}.npz"}}  # fmt: skip
    if easy:
        cases["easy"] = {"keras": work / "easy.keras", "onnx": work / "easy.onnx",
                         "data": work / f"easy-{easy_samples}.npz"}  # fmt: skip
    bad = work / "bad.npz"
    made = all(p.exists() for case in cases.values() for p in case.values()) and bad.exists()
    if made:
        return cases
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, str(ROOT))
    import keras
    import numpy as np

    from fracdash.datasets import load_dataset
    from fracdash.models.training import build_lenet5, trained_model
    from fracdash.scenarios import SCENARIOS, prepare_images

    x_test, y_test = load_dataset("mnist", "test")

    def save(model, case, n):
        x, y = prepare_images(x_test[:n], "lenet5"), y_test[:n].astype(np.int64)
        model(x[:1])  # a loaded model must have been called once before export
        model.save(case["keras"])
        model.export(str(case["onnx"]), format="onnx", verbose=False)
        np.savez(case["data"], x=x, y=y)

    keras.utils.set_random_seed(0)
    x_train, y_train = load_dataset("mnist", "train")
    model = build_lenet5()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(prepare_images(x_train[:2000], "lenet5"), y_train[:2000].astype(np.int64),
              epochs=1, batch_size=64, verbose=0)  # fmt: skip
    save(model, cases["cnn"], samples)
    if easy:
        model, _ = trained_model(SCENARIOS["easy"], work / "models", epochs=easy_epochs)
        save(model, cases["easy"], easy_samples)  # the scenario's test set: MNIST's first n
    x = prepare_images(x_test[:200], "lenet5")[:, :27, :27]  # 27x27: a shape error
    np.savez(bad, x=x, y=y_test[:200].astype(np.int64))
    return cases


def isolated_env(scratch: Path, tree: Path = ROOT, tag: str = "src") -> dict:
    """The children's environment: fracdash imported from a snapshot of ``tree`` taken
    now, and a numba cache of their own, so that edits made to the tree while the bench
    runs neither change the code measured nor invalidate the compiled functions."""
    src = scratch / tag
    shutil.copytree(tree / "fracdash", src / "fracdash",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    (scratch / f"numba-{tag}").mkdir()
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(src),
            "NUMBA_CACHE_DIR": str(scratch / f"numba-{tag}")}  # fmt: skip


def timed_run(model: Path, data: Path, store: Path, env: dict) -> dict:
    """One ``fracdash analyze`` in a fresh, instrumented process: seconds per stage, of
    wall-clock time and of CPU time (the process's, all threads)."""
    events_path = store.with_suffix(".events.json")
    args = [PYTHON, str(CHILD), str(events_path), "analyze", "--model", str(model),
            "--data", str(data), "--store", str(store), "--name", "bench"]  # fmt: skip
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.time()
    proc = subprocess.run(args, env=env, capture_output=True, text=True)
    end = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"fracdash analyze failed: {proc.stderr[-2000:]}")
    record = json.loads(events_path.read_text())
    events = record["events"]
    wall = stages([e[:3] for e in events], start, end)
    cpu_s = stages([(e[0], *e[3:]) for e in events], 0.0, cpu)
    # numba's compilations happen inside the stages (ordering, mostly): shown apart.
    wall["numba_compile"] = round(sum(c[1] for c in record["compiles"]), 3)
    cpu_s["numba_compile"] = round(sum(c[2] for c in record["compiles"]), 3)
    by_function: dict[str, float] = {}
    for name, _, c in record["compiles"]:
        by_function[name] = round(by_function.get(name, 0.0) + c, 3)
    return {"wall": wall, "cpu": cpu_s, "compiled_cpu_s": by_function}


def stages(events: list, start: float, end: float) -> dict:
    """Seconds per stage from ``(label, t0, t1)`` events on one clock, the process
    having started at ``start`` and ended at ``end`` on that clock."""
    spans: dict[str, list[tuple[float, float]]] = {}
    for label, t0, t1 in events:
        spans.setdefault(label, []).append((t0, t1))
    sum_of = {label: sum(t1 - t0 for t0, t1 in spans[label]) for label in spans}
    seconds = {"python_start": spans["python_start"][0][1] - start}
    (i0, i1), (l0, _) = spans["imports"][0], spans["model_load"][0]
    seconds["imports"] = i1 - i0
    seconds["tensorflow_import"] = sum_of.get("tensorflow_import", 0.0)
    # Checks: from the imports to the model's load, TensorFlow's import left out.
    seconds["checks"] = l0 - i1 - seconds["tensorflow_import"]
    seconds["model_load"] = sum_of["model_load"]
    seconds["check_data"] = sum_of.get("check_data", 0.0)  # its probes run the model
    for label in ("graph", "digest", "forward", "order"):
        seconds[label] = sum_of.get(label, 0.0)
    run0, run1 = spans["analyze_run"][0]
    inside = sum(seconds[label] for label in ("graph", "digest", "forward", "order"))
    seconds["storing"] = (run1 - run0) - inside  # glyphs, the analysis and the run's entry
    seconds["exit"] = end - spans["done"][0][0]  # summary, interpreter and TF teardown
    seconds["total"] = end - start
    seconds["other"] = seconds["total"] - sum(seconds[s] for s in STAGES)
    return {key: round(value, 3) for key, value in seconds.items()}


def medians(rows: list[dict]) -> dict:
    """Per clock, per stage: the median over runs."""
    return {clock: {key: round(statistics.median(r[clock][key] for r in rows), 3)
                    for key in rows[0][clock]} for clock in ("wall", "cpu")}  # fmt: skip


def ratio(a: dict, b: dict) -> dict:
    return {clock: round(a[clock]["total"] / b[clock]["total"], 3) for clock in ("wall", "cpu")}


def compare(case: dict, repeats: int, scratch: Path, env: dict, before: dict | None) -> dict:
    """Keras and ONNX runs interleaved (and the Keras file through the ``--before``
    tree); medians, ratios of medians and paired ratios."""
    kinds = {"keras": ("keras", env), "onnx": ("onnx", env)}
    if before is not None:
        kinds["keras_before"] = ("keras", before)
    rows: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for r in range(repeats):
        for kind, (fmt, kind_env) in kinds.items():
            store = scratch / f"store-{kind}-{r}"
            rows[kind].append(timed_run(case[fmt], case["data"], store, kind_env))
            shutil.rmtree(store, ignore_errors=True)
            row = rows[kind][-1]
            print(f"  {kind:>12} run {r + 1}: {row['wall']['total']:.2f} s "
                  f"({row['cpu']['total']:.2f} s CPU)", flush=True)  # fmt: skip
    result = {kind: medians(kind_rows) for kind, kind_rows in rows.items()}
    result["ratio_keras_to_onnx"] = ratio(result["keras"], result["onnx"])
    result["paired_wall_ratios"] = [ratio(k, o)["wall"] for k, o in
                                    zip(rows["keras"], rows["onnx"], strict=True)]  # fmt: skip
    if before is not None:
        result["ratio_keras_before_to_onnx"] = ratio(result["keras_before"], result["onnx"])
        result["ratio_keras_before_to_keras"] = ratio(result["keras_before"], result["keras"])
    result["runs"] = rows
    return result


def cold_numba(case: dict, repeats: int, scratch: Path, env: dict) -> dict:
    """The Keras file's run with an empty numba cache, the kernels compiled in the
    background while the model loads (fracdash.background_compile, the default) and in
    the run itself (``FRACDASH_BACKGROUND_COMPILE=0``), then a run on a filled cache;
    interleaved. CPU time counts the compiling process too (reaped by the run)."""
    variants = {"cold": {}, "cold_inline": {"FRACDASH_BACKGROUND_COMPILE": "0"}, "warm": {}}
    rows: dict[str, list[dict]] = {tag: [] for tag in variants}
    for r in range(repeats):
        for tag, extra in variants.items():
            cache = scratch / f"numba-{r}-{'warm' if tag == 'warm' else tag}"
            if tag == "warm":  # the cache the first variant filled
                cache = scratch / f"numba-{r}-cold"
            else:
                cache.mkdir()
            numba_env = {**env, "NUMBA_CACHE_DIR": str(cache), **extra}
            store = scratch / f"store-numba-{tag}-{r}"
            rows[tag].append(timed_run(case["keras"], case["data"], store, numba_env))
            shutil.rmtree(store, ignore_errors=True)
            print(f"  numba {tag} run {r + 1}: {rows[tag][-1]['wall']['total']:.2f} s "
                  f"({rows[tag][-1]['cpu']['total']:.2f} s CPU)", flush=True)  # fmt: skip
        for tag in ("cold", "cold_inline"):
            shutil.rmtree(scratch / f"numba-{r}-{tag}", ignore_errors=True)
    found = {tag: medians(tag_rows) for tag, tag_rows in rows.items()}
    compiled = sorted(rows["cold_inline"][0]["compiled_cpu_s"].items(), key=lambda i: -i[1])
    return {**found, "ratio_cold_to_warm": ratio(found["cold"], found["warm"]),
            "ratio_cold_inline_to_warm": ratio(found["cold_inline"], found["warm"]),
            "compiled_cpu_s_first_cold_inline_run": dict(compiled),
            "compiled_cpu_s_in_run_first_cold_run": rows["cold"][0]["compiled_cpu_s"],
            "runs": rows}  # fmt: skip


def shape_error(model: Path, bad: Path, repeats: int, envs: dict) -> dict:
    """``fracdash analyze`` (the console script) on data of the wrong shape: wall and CPU
    seconds until its one-line refusal, for each environment of ``envs``, interleaved."""
    runs: dict[str, list] = {tag: [] for tag in envs}
    message = ""
    for r in range(repeats):
        for tag, env in envs.items():
            args = [FRACDASH, "analyze", "--model", str(model), "--data", str(bad),
                    "--store", str(Path(env["NUMBA_CACHE_DIR"]).parent / f"bad-{r}")]  # fmt: skip
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.time()
            proc = subprocess.run(args, env=env, capture_output=True, text=True)
            wall = time.time() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
            if proc.returncode != 2:
                raise RuntimeError(f"expected a refusal (exit 2), got {proc.returncode}: "
                                   f"{proc.stderr}")  # fmt: skip
            runs[tag].append((round(wall, 3), round(cpu, 3)))
            message = proc.stderr.strip()
    result = {tag: {"median_wall_s": statistics.median(w for w, _ in rows),
                    "median_cpu_s": statistics.median(c for _, c in rows), "runs": rows}
              for tag, rows in runs.items()}  # fmt: skip
    result["message"] = message
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--easy-samples", type=int, default=10_000)
    parser.add_argument("--easy-epochs", type=int, default=1)
    parser.add_argument("--skip-easy", action="store_true")
    parser.add_argument("--numba-only", action="store_true", help="Only the runs on an "
                        "empty numba cache against a filled one (the cnn case).")
    parser.add_argument("--work", type=Path, help="Keep the models and data here (reused).")
    parser.add_argument("--before", type=Path, help="A tree holding another fracdash/ (say, "
                        "the last commit's): its Keras runs interleaved with this tree's.")
    args = parser.parse_args(argv)
    before = machine()
    work = args.work or Path(tempfile.mkdtemp(prefix="keras-path-"))
    work.mkdir(parents=True, exist_ok=True)
    cases = prepare(work, args.samples, args.easy_samples, args.easy_epochs, not args.skip_easy)
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine_before": before,
                    "before_tree": str(args.before) if args.before else None,
                    "repeats": args.repeats, "samples": args.samples,
                    "easy_samples": None if args.skip_easy else args.easy_samples,
                    "easy_epochs": None if args.skip_easy else args.easy_epochs}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="keras-path-runs-") as tmp:
        scratch = Path(tmp)
        envs = {"this": isolated_env(scratch)}
        if args.before is not None:
            envs["before"] = isolated_env(scratch, args.before, "before")
        for tag, env in envs.items():
            print(f"warm-up run, {tag} tree (numba's cache, the page cache)", flush=True)
            store = scratch / f"store-warm-up-{tag}"
            timed_run(cases["cnn"]["keras"], cases["cnn"]["data"], store, env)
        env, before_env = envs["this"], envs.get("before")
        if not args.numba_only:
            print(f"shape error ({work / 'bad.npz'})", flush=True)
            report["shape_error"] = shape_error(
                cases["cnn"]["keras"], work / "bad.npz", 2 * args.repeats, envs
            )
        for name in () if args.numba_only else cases:
            print(f"{name}: {cases[name]['keras'].name} vs {cases[name]['onnx'].name}", flush=True)
            report[name] = compare(cases[name], args.repeats, scratch, env, before_env)
        print("numba cache: empty vs warm (cnn, .keras)", flush=True)
        report["numba_cache"] = cold_numba(cases["cnn"], args.repeats, scratch, env)
    report["machine_after"] = machine()
    print_table(report)
    out = ROOT / "bench" / "results" / f"keras-path-{time.strftime('%Y%m%d-%H%M')}.json"
    out.write_text(json.dumps(report, indent=1))
    print(f"written: {out}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def print_table(report: dict) -> None:
    columns = [(f"{name} {kind.replace('keras_before', 'before')}", report[name][kind])
               for name in ("cnn", "easy") if name in report
               for kind in ("keras", "onnx", "keras_before") if kind in report[name]]  # fmt: skip
    columns += [(f"numba {tag}", report["numba_cache"][tag])
                for tag in ("cold", "cold_inline", "warm")]  # fmt: skip
    for clock in ("wall", "cpu"):
        print(f"{'median ' + clock + ' s':>18}" + "".join(f"{label:>13}" for label, _ in columns))
        for stage in (*STAGES, "other", "total", "numba_compile"):
            print(f"{stage:>18}" + "".join(f"{row[clock][stage]:>13.2f}" for _, row in columns))
    for name in ("cnn", "easy"):
        if name in report:
            r = report[name]
            print(f"{name}: keras / onnx = {r['ratio_keras_to_onnx']} "
                  f"(paired wall {r['paired_wall_ratios']})")  # fmt: skip
            if "keras_before" in r:
                print(f"{name}: before / onnx = {r['ratio_keras_before_to_onnx']}, "
                      f"before / keras = {r['ratio_keras_before_to_keras']}")  # fmt: skip
    numba = report["numba_cache"]
    print(f"numba: empty cache / warm = {numba['ratio_cold_to_warm']} (compiled in the run "
          f"itself: {numba['ratio_cold_inline_to_warm']}); compiled in the run (CPU s): "
          + ", ".join(f"{k.rsplit('.', 1)[-1]} {v}"
                      for k, v in list(numba["compiled_cpu_s_first_cold_inline_run"].items())[:8]))
    if "shape_error" not in report:
        return
    shape = report["shape_error"]
    for tag in ("this", "before"):
        if tag in shape:
            print(f"shape error, {tag} tree: {shape[tag]['median_wall_s']:.2f} s "
                  f"({shape[tag]['median_cpu_s']:.2f} s CPU)")  # fmt: skip
    print(f"  {shape['message']}")
    print(f"load average before {report['machine_before']['load_average']}, "
          f"after {report['machine_after']['load_average']}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
