"""Export a stored run to files: what ``fracdash export`` does, callable from Python."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fracdash.analysis import DEFAULT_CURVE
from fracdash.compare import compare_runs
from fracdash.core import CURVES
from fracdash.errors import ExportError, RunError
from fracdash.export.data import check_data_target, layers_path, run_tables, write_tables
from fracdash.export.files import check_target, write_atomic
from fracdash.export.marking import COLORINGS
from fracdash.export.png import export_png
from fracdash.export.selection import check_view, needs_comparison, view_marking
from fracdash.export.standalone import export_html
from fracdash.export.versus import (
    check_pair,
    comparison_data,
    export_html_pair,
    export_png_pair,
    pairing_line,
    side_titles,
)
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
    versus: str | None = None,
    pairs=None,
    select: str | None = None,
) -> list[tuple[Path, int]]:
    """Write stored run ``run`` as an HTML page, a PNG and/or data tables; with
    ``versus``, its comparison with another run.

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
    coloring : {"absolute", "relative", "correctness"}
        The PNG's coloring; "correctness" (with ``versus``) colors each sample by right
        or wrong in both runs, in the HTML too.
    simplify : bool
        Leave out reorder-only layers (``Analysis.simplified``).
    curve : {"compact", "paper"}
        The curve the glyphs are laid on (``Analysis.on_curve``), as on the page.
    versus : str, optional
        A second run of the catalog on the same samples: the HTML and PNG show both
        graphs side by side, the data are the comparison's tables
        (:mod:`fracdash.export.versus`), as ``/export/<run>.png?vs=<versus>`` answers.
    pairs : list of "A:B" strings, optional
        With ``versus``: the layer pairs instead of those matched by name or depth.
    select : str, optional
        A selection as the page's URL writes it (``sel=``: ``wrong``, ``diff``,
        ``moved``, ``cell:T-P``, ``brush:LAYER:X0,Y0,X1,Y1``, ``brush-b:…``;
        :mod:`fracdash.export.selection`), drawn in the PNG and the HTML as on the
        page: the other samples faded.

    Returns
    -------
    list of (Path, int)
        Each file written and its size in bytes.

    Raises
    ------
    ExportError
        No target, an unknown curve or coloring, a bad selection, a target that cannot
        be written (checked before any rendering), both targets the same file, or a
        failed write (disk full, ...; no half-written file is left).
    RunError
        ``run`` (or ``versus``) is not in the catalog (the message lists the stored
        runs), or its analysis is gone.
    CompareError
        ``versus`` holds other samples, or a pair names a layer its run has not.
    """
    if curve not in CURVES:
        raise ExportError(f"unknown curve {curve!r}; choose {' or '.join(CURVES)}")
    if pairs and versus is None:
        raise ExportError("--pair pairs the layers of two runs; add --versus RUN_B, or drop --pair")
    if coloring not in COLORINGS:
        raise ExportError(f"unknown coloring {coloring!r}; choose {', '.join(COLORINGS)}")
    check_view(select, coloring, versus is not None, "--select")
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
    names = (run,) if versus is None else (run, versus)
    try:
        entries = catalog(store) if store is not None else {}
        for name in names:
            if name not in entries:
                known = ", ".join(sorted(entries)) or "none"
                raise RunError(f"no run named {name!r} in {directory}; stored runs: {known}")
        full = [load_run(store, name) for name in names]
        gone = [name for name, analysis in zip(names, full, strict=True) if analysis is None]
        if gone:
            raise RunError(f"run {gone[0]!r} is listed but its analysis is gone; compute it again")
        if versus is not None:
            matched, pairing = check_pair(names, full, [entries[n] for n in names], pairs)
            tables = comparison_data(store, names, pairs) if data is not None else None
        compared = None
        if versus is not None and needs_comparison(select, coloring):
            compared = compare_runs(store, run, versus, pairs=pairs, activations=False,
                                    cka="none")  # fmt: skip
    finally:
        if store is not None:
            store.close()
    analyses = [a.on_curve(curve) for a in full]
    marking = view_marking(select, coloring, analyses, compared, where="--select")
    if simplify:
        analyses = [a.simplified() for a in analyses]
    if versus is None:
        tables = run_tables(analyses[0]) if data is not None else None
        html_text = partial(export_html, analyses[0], run, marking)
        png_bytes = partial(export_png, analyses[0], coloring, title=run, marking=marking)
    else:
        titles, line = side_titles(names, full), pairing_line(names, matched, pairing)
        html_text = partial(export_html_pair, analyses, names, titles, line, marking)
        png_bytes = partial(export_png_pair, analyses, coloring, titles, line, marking)
    # Everything rendered before anything is written: a failed render writes nothing.
    outputs = []
    if html is not None:
        outputs.append((targets[0], html_text().encode("utf-8")))
    if png is not None:
        outputs.append((targets[-1], png_bytes()))
    for path, content in outputs:
        try:
            write_atomic(path, content)
        except OSError as err:
            raise ExportError(f"cannot write {path}: {err.strerror or err}") from err
    written = [(path, len(content)) for path, content in outputs]
    if data is not None:
        written += write_tables(data, *tables)
    return written
