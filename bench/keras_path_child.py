"""The child of bench/keras_path.py: ``fracdash <argv>`` run in this process with its
stages timed (an import hook wraps the stage functions as their modules load; no code of
fracdash is changed).

    python bench/keras_path_child.py EVENTS_JSON analyze --model ... --data ...
"""

from __future__ import annotations

import sys
import time

#: A child's first moment (wall clock, CPU): python's start-up ends here.
_CHILD_START = (time.time(), time.process_time())


def child(events_path: str, argv: list[str]) -> None:
    """Run ``fracdash <argv>`` in this process with the stages timed: each event is
    ``(label, wall start, wall end, CPU start, CPU end)``."""
    import importlib.abc
    import importlib.util
    import json

    events = [("python_start", 0.0, _CHILD_START[0], 0.0, _CHILD_START[1])]

    def now():
        return time.time(), time.process_time()

    def timed(label, fn):
        def wrapper(*args, **kwargs):
            t0, c0 = now()
            try:
                return fn(*args, **kwargs)
            finally:
                t1, c1 = now()
                events.append((label, t0, t1, c0, c1))

        wrapper.__wrapped__ = fn
        return wrapper

    def patch_class(module, cls, pairs):
        owner = getattr(module, cls)
        for attr, label in pairs:
            setattr(owner, attr, timed(label, getattr(owner, attr)))

    patches = {
        "fracdash.inputs.data": lambda m: [
            setattr(m, a, timed(label, getattr(m, a)))
            for a, label in (("load_data", "load_data"), ("check_data", "check_data"),
                             ("prepare_data", "check_data"), ("load_model", "model_load"))
            if hasattr(m, a)
        ],  # fmt: skip
        "fracdash.models.loading": lambda m: setattr(
            m, "quiet_keras_import", timed("tensorflow_import", m.quiet_keras_import)
        ),
        "fracdash.sources.keras_source": lambda m: patch_class(
            m, "KerasSource", [("network", "graph"), ("digest", "digest")]
        ),
        "fracdash.sources.onnx_source": lambda m: patch_class(
            m, "OnnxSource", [("network", "graph"), ("digest", "digest")]
        ),
        "fracdash.models.activations": lambda m: setattr(m, "forward", timed("forward", m.forward)),
        "fracdash.pipeline": lambda m: setattr(m, "_order_stage", timed("order", m._order_stage)),
        "fracdash.runs": lambda m: setattr(m, "analyze_run", timed("analyze_run", m.analyze_run)),
    }

    compiles: list[tuple[str, float, float]] = []  # numba's compilations (not cache loads)

    def record_compiles(numba):
        from numba.core import event

        class Compiles(event.Listener):
            depth, start = 0, (0.0, 0.0)

            def on_start(self, ev):
                self.depth += 1
                if self.depth == 1:
                    self.start = now()

            def on_end(self, ev):
                self.depth -= 1
                if self.depth == 0:
                    func = ev.data["dispatcher"].py_func
                    t1, c1 = now()
                    name = f"{func.__module__}.{func.__qualname__}"
                    compiles.append((name, t1 - self.start[0], c1 - self.start[1]))

        event.register("numba:compile", Compiles())

    patches["numba"] = record_compiles

    class Hook(importlib.abc.MetaPathFinder):
        """Wraps a module's stage functions right after the module has run."""

        def find_spec(self, name, path, target=None):
            if name not in patches:
                return None
            sys.meta_path.remove(self)
            try:
                spec = importlib.util.find_spec(name)
            finally:
                sys.meta_path.insert(0, self)
            run = spec.loader.exec_module

            def exec_module(module):
                run(module)
                patches[name](module)

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, Hook())
    code = 0
    try:
        t0, c0 = now()
        from fracdash.cli import main as cli_main

        events.append(("imports", t0, time.time(), c0, time.process_time()))
        cli_main(argv, prog_name="fracdash")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        t0, c0 = now()
        events.append(("done", t0, t0, c0, c0))
        with open(events_path, "w") as f:
            json.dump({"code": code, "events": events, "compiles": compiles}, f)
    sys.exit(code)


if __name__ == "__main__":
    child(sys.argv[1], sys.argv[2:])
