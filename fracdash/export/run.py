"""Export a stored run to files: what ``fracdash export`` does, callable from Python."""

from __future__ import annotations

from pathlib import Path

from fracdash.analysis import DEFAULT_CURVE
from fracdash.core import CURVES
from fracdash.errors import ExportError, RunError
from fracdash.export.data import check_data_target, layers_path, run_tables, write_tables
from fracdash.export.files import check_target, write_atomic
from fracdash.export.png import export_png
from fracdash.export.standalone import export_html
from fracdash.runs import catalog, load_run
from fracdash.store import Store


def export_run(
    directory,
    run: str,
    *,
    html=None,
    png=None,
    data=None,
    coloring: str = "absolute",
    simplify: bool = False,
    curve: str = DEFAULT_CURVE,
) -> list[tuple[Path, int]]:
    """Write stored run ``run`` as an HTML page, a PNG and/or data tables.

    Parameters
    ----------
    directory : path-like
        The store's folder; one that does not exist holds no runs (it is not created).
    run : str
        A run name of the store's catalog.
    html, png : path-like, optional
        Where to write the standalone page (:func:`export_html`) and the picture
        (:func:`export_png`).
    data : path-like, optional
        Where to write the per-sample table (.csv, or .parquet with pyarrow); the
        per-layer table goes beside it (:mod:`fracdash.export.data`). At least one of
        ``html``, ``png`` and ``data``.
    coloring : {"absolute", "relative"}
        The PNG's coloring.
    simplify : bool
        Leave out reorder-only layers (``Analysis.simplified``).
    curve : {"compact", "paper"}
        The curve the glyphs are laid on (``Analysis.on_curve``), as on the page.

    Returns
    -------
    list of (Path, int)
        Each file written and its size in bytes.

    Raises
    ------
    ExportError
        No target, an unknown curve, a target that cannot be written (checked before any
        rendering), both targets the same file, or a failed write (disk full, ...; no
        half-written file is left).
    RunError
        ``run`` is not in the catalog (the message lists the stored runs), or its
        analysis is gone.
    """
    if curve not in CURVES:
        raise ExportError(f"unknown curve {curve!r}; choose {' or '.join(CURVES)}")
    targets = [check_target(p) for p in (html, png) if p is not None]
    if data is not None:
        data = check_data_target(data)
    if not targets and data is None:
        raise ExportError("nothing to export; pass --html FILE, --png FILE or --data FILE")
    everything = [*targets, *((data, layers_path(data)) if data is not None else ())]
    resolved = [t.resolve() for t in everything]
    if len(set(resolved)) < len(resolved):
        twice = next(t for t, r in zip(everything, resolved, strict=True) if resolved.count(r) > 1)
        raise ExportError(f"two targets both name {twice}; give each export its own file")
    directory = Path(directory).expanduser()
    store = Store(directory) if (directory / "store").is_dir() else None
    try:
        entries = catalog(store) if store is not None else {}
        if run not in entries:
            known = ", ".join(sorted(entries)) or "none"
            raise RunError(f"no run named {run!r} in {directory}; stored runs: {known}")
        analysis = load_run(store, run)
    finally:
        if store is not None:
            store.close()
    if analysis is None:
        raise RunError(f"run {run!r} is listed but its analysis is gone; compute it again")
    analysis = analysis.on_curve(curve)
    if simplify:
        analysis = analysis.simplified()
    # Everything rendered before anything is written: a failed render writes nothing.
    outputs = []
    if html is not None:
        outputs.append((targets[0], export_html(analysis, run).encode("utf-8")))
    if png is not None:
        outputs.append((targets[-1], export_png(analysis, coloring, title=run)))
    for path, content in outputs:
        try:
            write_atomic(path, content)
        except OSError as err:
            raise ExportError(f"cannot write {path}: {err.strerror or err}") from err
    written = [(path, len(content)) for path, content in outputs]
    if data is not None:
        written += write_tables(data, *run_tables(analysis))
    return written
