"""The Keras path's start-up: a data error answers before scipy, numba and TensorFlow
are imported; TensorFlow's import leaves the garbage collector as it found it, with
what the import made frozen (bench/keras_path.py has the timings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numba", "scipy", "tensorflow", "keras", "onnxruntime", "torch", "dask")


def run_python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)  # fmt: skip


def test_a_shape_error_answers_before_the_heavy_imports(toy_sequential, tmp_path):
    toy_sequential.save(tmp_path / "m.keras")
    x = np.zeros((20, 4, 4, 1), np.float32)  # the model takes 5x5x1
    np.savez(tmp_path / "bad.npz", x=x, y=np.arange(20) % 4)
    code = (
        "import sys\nfrom fracdash.cli import main\n"
        "try:\n    main(sys.argv[1:])\n"
        f"finally:\n    print('heavy:', sorted(set({HEAVY!r}) & set(sys.modules)))"
    )
    proc = run_python(code, "analyze", "--model", str(tmp_path / "m.keras"), "--data",
                      str(tmp_path / "bad.npz"), "--store", str(tmp_path / "store"))  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "(4, 4, 1)" in proc.stderr and "(5, 5, 1)" in proc.stderr, proc.stderr
    assert "heavy: []" in proc.stdout, proc.stdout
    assert not (tmp_path / "store").exists()


def test_the_package_imports_its_core_on_first_use():
    code = (
        "import sys\nimport fracdash, fracdash.core, fracdash.cli\n"
        "before = sorted({'numba', 'scipy'} & set(sys.modules))\n"
        "from fracdash import vat_order\nfrom fracdash.core import quality\n"
        "import fracdash.core.vat as vat\n"
        "print(before, vat_order is vat.vat_order, 'numba' in sys.modules)"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["[]", "True", "True"], proc.stdout


def test_quiet_keras_import_freezes_what_it_made_and_restores_the_collector():
    code = (
        "import gc\nfrom fracdash.models.loading import quiet_keras_import\n"
        "for enabled in (True, False):\n"
        "    gc.enable() if enabled else gc.disable()\n"
        "    quiet_keras_import()\n"
        "    print(gc.isenabled() == enabled, gc.get_freeze_count() > 100_000)"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    # The second call finds keras imported: nothing frozen again, the collector untouched.
    assert proc.stdout.split() == ["True", "True", "True", "True"], proc.stdout
