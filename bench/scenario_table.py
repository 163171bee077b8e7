"""Print the README's scenario table (markdown) from the stored full-size runs.

    .venv/bin/python bench/scenario_table.py [--curve compact|paper]

Run after ``fracdash precompute <scenario>`` for each of the five scenarios; the
store is ``$FRACDASH_STORE`` (or ``~/.cache/fracdash``). Qualities are those of the
chosen curve's grid (the page's default: compact).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fracdash.runs import load_run  # noqa: E402
from fracdash.scenarios import SCENARIOS  # noqa: E402
from fracdash.store import Store  # noqa: E402


def main() -> None:
    curve = sys.argv[sys.argv.index("--curve") + 1] if "--curve" in sys.argv else "compact"
    store = Store()
    print("| scenario | network | trained → tested on | accuracy (paper) | quality by layer |")
    print("| --- | --- | --- | --- | --- |")
    for name, spec in SCENARIOS.items():
        a = load_run(store, name)
        if a is None:
            print(f"| {name} | {spec.network} | | not computed | |")
            continue
        shown = a.on_curve(curve).simplified().layers
        layers = ", ".join(f"{g.name} {g.quality:.3f}" for g in shown)
        data = f"{spec.train_on} → {spec.test_on}"
        accuracy = f"{100 * a.accuracy:.2f}% ({spec.paper})"
        print(f"| {name} | {spec.network} | {data} | {accuracy} | {layers} |")


if __name__ == "__main__":
    main()
