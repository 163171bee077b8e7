"""Exports of a run: the whole layer graph as a PNG at native resolution
(:func:`export_png`), and a self-contained HTML page (:func:`export_html`).

Both draw an :class:`~fracdash.analysis.Analysis` folded into columns as on the page
(:mod:`fracdash.export.layout`).
:func:`export_run` writes a stored run's files (``fracdash export``); the server's
``/export/<run>.png`` and ``/export/<run>.html`` routes (:mod:`fracdash.web.export_routes`)
answer with the same bytes.
"""

from fracdash.errors import ExportError
from fracdash.export.files import check_target, write_atomic
from fracdash.export.png import export_png, png_layout
from fracdash.export.run import export_run
from fracdash.export.standalone import export_html

__all__ = [
    "ExportError",
    "check_target",
    "export_html",
    "export_png",
    "export_run",
    "png_layout",
    "write_atomic",
]
