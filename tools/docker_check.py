"""``make docker-check``: the Dockerfile built and run for real, with podman.

Steps, each timed (docs/deploy.md, "Docker", has the last results):

1. ``podman``, ``runc`` and ``debootstrap`` (installed with apt-get when root and missing);
2. the base: a Debian bookworm made by ``debootstrap --variant=minbase`` with Debian's
   ``python3`` and ``python3-venv``, imported as ``localhost/fracdash-bookworm`` (kept and
   reused; ``--rebuild-base`` makes it again). Where a registry is reachable,
   ``--base python:3.11-slim-bookworm`` builds on the Dockerfile's default instead;
3. ``podman build --build-arg BASE=...`` of the project's Dockerfile, and the image's size;
4. the installed image as its user: uid 10001, the package read-only and from the wheel
   (no checkout in ``/app``, no ``$FRACDASH_ASSETS``), the store volume writable;
5. a computed run in the container: ``fracdash precompute easy --samples 500 --epochs 1``
   on the store volume, the data sets mounted read-only;
6. the image's own command (gunicorn) on that volume: ``/healthz`` answers ok with the run,
   and the image's ``HEALTHCHECK`` passes;
7. the page in Chromium (Playwright): the run opens and every layer of it has its glyph,
   decoded and placed on the graph, with no console error.

Writes ``test-artifacts/docker-check.json`` (the steps, their seconds, the image size) and
a screenshot beside it; exits 1 on the first step that fails, saying which and why.
Needs root (debootstrap, rootful podman) and the checkout's ``.venv`` (Playwright).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
# What these machines need to run containers at all: runc (crun is not there), cgroupfs
# (no systemd), and ulimits within the host's (podman's defaults exceed them).
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs"]
LIMITS = ["--ulimit", "nproc=4096:4096", "--ulimit", "nofile=4096:4096"]
BASE = "localhost/fracdash-bookworm"
TAG = "localhost/fracdash:check"
NAME = "fracdash-check"
VOLUME = "fracdash-check-data"
MIRROR = "http://deb.debian.org/debian"
#: One check at a time on a machine: the container, volume and image names are fixed.
LOCK = Path("/var/tmp/fracdash-docker-check.lock")
# The environment of Debian's own bookworm image, which a bare imported root lacks.
BASE_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SAMPLES = 500
# Run in the container as its user: what the installed image holds (step 4).
PROBE = """
import json, os, fracdash, fracdash.assets
package = os.path.dirname(fracdash.__file__)
assets = fracdash.assets.assets_folder()
print(json.dumps({"uid": os.getuid(), "package": package,
    "package_writable": os.access(package, os.W_OK),
    "fracdash_js": (assets / "fracdash.js").is_file(), "assets": str(assets),
    "FRACDASH_ASSETS": os.environ.get("FRACDASH_ASSETS"), "app": sorted(os.listdir("/app")),
    "store_writable": os.access("/data", os.W_OK),
    "numba_cache": os.environ.get("NUMBA_CACHE_DIR")}))
"""
# Every glyph of the page: its layer, placed (a width set by dag_view.js), decoded.
GLYPHS_JS = """() => [...document.querySelectorAll('img.fd-glyph')].map(e => ({
    layer: e.dataset.layer, width: e.style.width, decoded: e.naturalWidth > 0}))"""
PLACED_JS = """n => { const got = [...document.querySelectorAll('img.fd-glyph')];
    return got.length === n && got.every(e => e.style.width && e.naturalWidth > 0)
        && !!document.querySelector('.fd-dag-canvas[data-laid-out]'); }"""


class CheckFailed(RuntimeError):
    """A step of the check failed; the message says which and why."""


def run(command: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """``command``, its output captured; a failure raises :class:`CheckFailed` with the
    tail of what it printed."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired as err:
        raise CheckFailed(f"{' '.join(command[:6])} ... ran past {timeout:.0f} s") from err
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise CheckFailed(f"{' '.join(command[:6])} ... exited {done.returncode}:\n{tail}")
    return done


def podman(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return run([*PODMAN, *args], timeout, **kwargs)


def container_log() -> str:
    """The end of the served container's output (gunicorn's log, tracebacks included)."""
    logs = subprocess.run([*PODMAN, "logs", NAME], capture_output=True, text=True, check=False)
    return (logs.stdout + logs.stderr)[-3000:]


def ensure_tools() -> str:
    missing = [t for t in ("podman", "runc", "debootstrap") if shutil.which(t) is None]
    if not missing:
        return "podman, runc and debootstrap present"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise CheckFailed(f"missing {', '.join(missing)}: apt-get install podman runc debootstrap")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], 600, env=env)
    run(["apt-get", "install", "-y", "-qq", "podman", "runc", "debootstrap"], 900, env=env)
    return f"installed {', '.join(missing)} with apt-get"


def ensure_base(base: str, rebuild: bool) -> str:
    if base != BASE:
        return f"{base} (pulled by the build where missing)"
    exists = subprocess.run([*PODMAN, "image", "exists", base], check=False).returncode == 0
    if exists and not rebuild:
        return f"{base} reused (--rebuild-base makes it again)"
    if os.geteuid() != 0:
        raise CheckFailed("debootstrap needs root: run make docker-check as root")
    with tempfile.TemporaryDirectory(dir="/var/tmp", prefix="fracdash-bookworm-") as tmp:
        root = Path(tmp) / "root"
        run(["debootstrap", "--variant=minbase", "--include=python3,python3-venv",
             "bookworm", str(root), MIRROR], 1800)  # fmt: skip
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        try:
            podman("import", "--change", f"ENV {BASE_ENV}", "--change", 'CMD ["bash"]',
                   "-", base, stdin=tar.stdout, timeout=600)  # fmt: skip
        finally:
            tar.stdout.close()
            tar.wait()
    return f"{base} made by debootstrap (minbase + python3, python3-venv)"


def build(base: str, ca_file: Path | None) -> str:
    """The Dockerfile built on ``base``; its output goes to test-artifacts/docker-build.log."""
    extra = []
    if ca_file is not None:  # pip in the build trusts the host's authorities
        extra = ["-v", f"{ca_file}:/run/host-ca.crt:ro", "--build-arg", "PIP_CERT=/run/host-ca.crt"]
    command = [*PODMAN, "build", "--format", "docker", *LIMITS, *extra, "--build-arg",
               f"BASE={base}", "-t", TAG, "-f", str(ROOT / "Dockerfile"), str(ROOT)]  # fmt: skip
    before = subprocess.run([*PODMAN, "image", "inspect", "--format", "{{.Id}}", TAG],
                            capture_output=True, text=True, check=False).stdout.strip()  # fmt: skip
    log = ARTIFACTS / "docker-build.log"
    with log.open("w") as out:
        try:
            done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=5400)
        except subprocess.TimeoutExpired as err:
            raise CheckFailed(f"podman build ran past 5400 s (its output: {log})") from err
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise CheckFailed(f"podman build exited {done.returncode} (all of it: {log}):\n{tail}")
    if before and before != podman("image", "inspect", "--format", "{{.Id}}", TAG).stdout.strip():
        # The previous check's image, now untagged (its layers the new one shares stay).
        subprocess.run([*PODMAN, "rmi", before], capture_output=True, check=False)
    return f"{TAG} on {base}"


def image_size(image: str) -> int:
    return int(podman("image", "inspect", "--format", "{{.Size}}", image).stdout.strip())


def probe_image() -> dict:
    done = podman("run", "--rm", *LIMITS, "-v", f"{VOLUME}:/data", TAG, "python", "-c", PROBE)
    got = json.loads(done.stdout.strip().splitlines()[-1])
    wrong = []
    if got["uid"] != 10001:
        wrong.append(f"runs as uid {got['uid']}, not the user fracdash (10001)")
    if got["package_writable"] or "/site-packages/" not in got["package"]:
        wrong.append(f"the package {got['package']} is not the read-only installed wheel")
    if not got["fracdash_js"] or got["FRACDASH_ASSETS"] is not None:
        wrong.append(f"the page's assets ({got['assets']}) are not the package's own")
    if got["app"] != ["app.py"]:
        wrong.append(f"/app holds {got['app']}, not only app.py")
    if not got["store_writable"]:
        wrong.append("the store volume /data is not writable by the user")
    if wrong:
        raise CheckFailed("; ".join(wrong))
    return got


def computed_run(datasets: Path) -> list[str]:
    """Precompute ``easy`` at SAMPLES in the container; the layers it printed."""
    done = podman("run", "--rm", *LIMITS, "-v", f"{VOLUME}:/data",
                  "-v", f"{datasets}:/datasets:ro", "-e", "FRACDASH_DATA=/datasets", TAG,
                  "fracdash", "precompute", "easy", "--samples", str(SAMPLES), "--epochs", "1",
                  "--train-samples", "2000", timeout=1800)  # fmt: skip
    layers = re.findall(r"^  \d\d (\S+)\s", done.stdout, flags=re.MULTILINE)
    listed = podman("run", "--rm", *LIMITS, "-v", f"{VOLUME}:/data", TAG, "fracdash", "runs")
    if not layers or f"easy-{SAMPLES}" not in listed.stdout:
        raise CheckFailed(f"no run easy-{SAMPLES} stored:\n{done.stdout}\n{listed.stdout}")
    cached = podman("run", "--rm", *LIMITS, "-v", f"{VOLUME}:/data", TAG,
                    "sh", "-c", 'find "$NUMBA_CACHE_DIR" -name "*.nbi" | wc -l')  # fmt: skip
    if int(cached.stdout.strip() or 0) == 0:
        raise CheckFailed("numba cached no compiled function in $NUMBA_CACHE_DIR")
    return layers


def serve(port: int) -> dict:
    """The image's own command on the volume; ``/healthz`` once it answers."""
    podman("run", "-d", "--name", NAME, *LIMITS, "-p", f"127.0.0.1:{port}:8050",
           "-v", f"{VOLUME}:/data", TAG)  # fmt: skip
    deadline, last, health = time.monotonic() + 180, "no answer", None
    while time.monotonic() < deadline:
        state = podman("inspect", "--format", "{{.State.Status}}", NAME).stdout.strip()
        if state != "running":
            last = f"the container is {state}"
            break
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                health = json.loads(r.read())
            break
        except (OSError, ValueError) as err:
            last = str(err)
            time.sleep(2)
    if health is None:
        raise CheckFailed(
            f"/healthz never answered ({last}); the container's log:\n{container_log()}"
        )
    version = re.search(r'^version = "(.+)"', (ROOT / "pyproject.toml").read_text(), re.M)[1]
    if health.get("status") != "ok" or health.get("runs") != 1 or health.get("version") != version:
        raise CheckFailed(f"/healthz answered {health}, not ok with 1 run of version {version}")
    podman("healthcheck", "run", NAME)  # the image's HEALTHCHECK, run by podman
    return health


def page(port: int, layers: list[str]) -> list[str]:
    """The run opened in Chromium: the glyphs of ``layers``, each decoded and placed."""
    sys.path.insert(0, str(ROOT / "tools"))
    from browser import ARGS, find_chromium
    from playwright.sync_api import TimeoutError as PageTimeout
    from playwright.sync_api import sync_playwright

    errors, placed = [], False
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(find_chromium(install=True)), headless=True, args=ARGS
        )
        try:
            tab = chromium.new_page(viewport={"width": 1280, "height": 900})
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.goto(f"http://127.0.0.1:{port}/?run=easy-{SAMPLES}")
            try:
                tab.wait_for_function(PLACED_JS, arg=len(layers), timeout=60_000)
                placed = True
            except PageTimeout:
                pass
            tab.screenshot(path=str(ARTIFACTS / "docker-check.png"))
            glyphs = tab.evaluate(GLYPHS_JS)
        finally:
            chromium.close()
    shown = [g["layer"] for g in glyphs]
    if not placed or shown != layers or errors:
        raise CheckFailed(
            f"the page shows {glyphs} (all placed within 60 s: {placed}), the run has {layers}; "
            f"browser errors: {errors}; the container's log:\n{container_log()}"
        )
    return shown


def remove_volume() -> None:
    """The check's container and store volume, gone (whether they exist or not)."""
    subprocess.run([*PODMAN, "rm", "-f", NAME], capture_output=True, check=False)
    subprocess.run([*PODMAN, "volume", "rm", "-f", VOLUME], capture_output=True, check=False)


def run_steps(steps, report: dict) -> str | None:
    """Each step in turn, timed into ``report``, up to the first failure (its message)."""
    for name, step in steps:
        start, failed = time.monotonic(), None
        try:
            result = step()
        except CheckFailed as err:
            failed, result = f"docker-check: step {name!r} failed: {err}", str(err)
        seconds = round(time.monotonic() - start, 1)
        report["steps"].append(
            {"step": name, "seconds": seconds, "ok": failed is None, "result": result}
        )
        first = str(result).splitlines()[0][:100] if str(result) else ""
        print(
            f"{name:>13}  {seconds:7.1f} s  {'FAILED' if failed else 'ok':6}  {first}", flush=True
        )
        if failed:
            return failed
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default=BASE, help=f"the build's BASE image (default {BASE})")
    parser.add_argument("--rebuild-base", action="store_true", help="debootstrap the base again")
    default_data = os.environ.get("FRACDASH_DATA") or str(ROOT.parent / "shared" / "datasets")
    parser.add_argument(
        "--datasets",
        type=Path,
        default=Path(default_data),
        help="folder holding mnist/ (default $FRACDASH_DATA or ../shared/datasets)",
    )
    default_ca = os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt"
    parser.add_argument(
        "--ca-file",
        default=default_ca,
        help="the host's CA bundle for pip in the build ('' for none)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the container and the volume")
    args = parser.parse_args(argv)
    if not (args.datasets / "mnist").is_dir():
        parser.error(f"--datasets {args.datasets} holds no mnist/: pass the data sets' folder")
    ca_file = Path(args.ca_file) if args.ca_file and Path(args.ca_file).is_file() else None
    sys.path.insert(0, str(ROOT / "tools"))
    from ports import free_port

    lock = LOCK.open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        parser.error(f"another docker-check is running ({LOCK} is held): wait for it to end")
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    report, got = {"base": args.base, "image": TAG, "steps": []}, {}
    steps = [
        ("tools", ensure_tools),
        ("base", lambda: ensure_base(args.base, args.rebuild_base)),
        ("build", lambda: build(args.base, ca_file)),
        ("size", lambda: report.setdefault("size_bytes", image_size(TAG))),
        ("volume", lambda: podman("volume", "create", VOLUME).stdout.strip()),
        ("user", probe_image),
        ("computed run", lambda: got.setdefault("layers", computed_run(args.datasets))),
        ("healthz", lambda: serve(port)),
        ("page", lambda: page(port, got["layers"])),
    ]
    remove_volume()
    try:
        failed = run_steps(steps, report)
    finally:
        if not args.keep:
            remove_volume()
        (ARTIFACTS / "docker-check.json").write_text(json.dumps(report, indent=2) + "\n")
    if failed:
        print(failed, file=sys.stderr)
        return 1
    print(
        f"docker-check: ok, image {TAG} {report['size_bytes'] / 1e9:.2f} GB; "
        f"report in {ARTIFACTS / 'docker-check.json'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
