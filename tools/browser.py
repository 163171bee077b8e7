"""Find a headless Chromium for the browser tests and the screenshot script.

The order (the same for ``make test``, the tests and ``docs/make_screenshot.py``):

1. ``$FRACDASH_CHROMIUM``, when set, must name an executable;
2. Debian's ``/usr/bin/chromium``;
3. with ``install=True``, running as root where ``apt-get`` exists: Debian's ``chromium``
   package is installed, then step 2 again;
4. Playwright's own Chromium (``playwright install chromium``, which downloads it: this
   works for a user online, not on a machine that reaches only package registries),
   installed first with ``install=True`` when it is missing.

``python tools/browser.py [--install]`` prints the executable's path, or one line on
stderr saying what to install (exit 1). Standard library only. A tool of the
repository (tests, benches, docs scripts), not part of the installed package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ENV_VAR = "FRACDASH_CHROMIUM"
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
#: Flags for a headless Chromium on a machine with a closed network, possibly as root.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HINT = (
    "no Chromium found: install Debian's chromium (apt-get install chromium), or run "
    ".venv/bin/playwright install chromium, or set FRACDASH_CHROMIUM to a Chromium executable"
)


class BrowserNotFound(RuntimeError):
    """No Chromium could be found or installed (the message says what to install)."""


def _executable(path: str | os.PathLike[str]) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def _playwright_chromium() -> Path | None:
    """Playwright's own Chromium if it has been downloaded (None without playwright)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as playwright:
        path = Path(playwright.chromium.executable_path)
    return path if _executable(path) else None


def _run_quietly(command: list[str], env: dict[str, str] | None = None) -> bool:
    print(f"fracdash: installing a browser: {' '.join(command)}", file=sys.stderr, flush=True)
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=False)
    return done.returncode == 0


def _apt_install() -> bool:
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return _run_quietly(["apt-get", "update", "-qq"], env) and _run_quietly(
        ["apt-get", "install", "-y", "-qq", "chromium"], env
    )


def find_chromium(install: bool = False) -> Path:
    """The Chromium executable to drive, found (and with ``install``, installed) in the
    order of the module docstring.

    Raises
    ------
    BrowserNotFound
        ``$FRACDASH_CHROMIUM`` names no executable, or no step found a Chromium.
    """
    named = os.environ.get(ENV_VAR, "").strip()
    if named:
        if not _executable(named):
            raise BrowserNotFound(f"{ENV_VAR}={named} is not an executable; fix or unset it")
        return Path(named)
    if _executable(DEBIAN_CHROMIUM):
        return DEBIAN_CHROMIUM
    if install and _apt_install() and _executable(DEBIAN_CHROMIUM):
        return DEBIAN_CHROMIUM
    found = _playwright_chromium()
    if found is None and install:
        _run_quietly([sys.executable, "-m", "playwright", "install", "chromium"])
        found = _playwright_chromium()
    if found is None:
        raise BrowserNotFound(HINT)
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        print(find_chromium(install="--install" in args))
    except BrowserNotFound as err:
        print(f"fracdash: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
