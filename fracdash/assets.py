"""Where the page's stylesheet and scripts are: package data in ``fracdash/web/assets/``.

A plain path, so that the export (which imports nothing from :mod:`fracdash.web`) and the
page read the same files, from a checkout or an installed wheel alike.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

#: The assets shipped inside the package.
ASSETS = Path(__file__).resolve().parent / "web" / "assets"


def assets_folder() -> Path:
    """The page's assets: ``$FRACDASH_ASSETS`` if set (an override, e.g. for work on a
    copy of the scripts), else the package's own ``fracdash/web/assets/``."""
    override = os.environ.get("FRACDASH_ASSETS")
    if not override:
        return ASSETS
    folder = Path(override)
    if not (folder / "fracdash.js").is_file():
        warnings.warn(
            f"fracdash: FRACDASH_ASSETS={override} holds no fracdash.js; using {ASSETS}",
            stacklevel=2,
        )
        return ASSETS
    return folder
