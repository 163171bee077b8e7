"""fracdash as a new user gets it: a wheel built from this tree, installed into a fresh venv.

The wheel must carry the page (scripts, stylesheet, the vendored plotly bundle) and no
test or test tool. Installed with ``--no-deps`` into a venv that sees this interpreter's
dependencies through a ``.pth`` line (no download; the line adds a folder, so the
checkout's editable-install hook in it never runs), from a temporary folder: its
``fracdash serve`` gives a page whose graph is laid out and whose legend recolours the
glyphs in Chromium, and its ``fracdash export --html`` inlines the page's script.
The tree is copied first, so that building writes nothing into the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import pytest
from helpers import GLYPH_COLORS_JS, LAYERS, free_port, store_toy

from fracdash.glyphs import ABSOLUTE_EMPTY, FOCUS_DIM, class_color

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "fracdash" / "web" / "assets"
#: What the page cannot do without (the vendored plotly bundle is matched by pattern).
PAGE_FILES = ["fracdash.js", "dag_fit.js", "fracdash.css", "standalone/standalone.js"]
PLOTLY = "fracdash/web/assets/vendor/plotly-*.min.js"
#: Left out of the copy: what is not the source, or is this machine's own.
NOT_SOURCE = {".venv", ".git", "build", "dist", "test-artifacts", "node_modules",
              ".pytest_cache", ".ruff_cache", "__pycache__"}  # fmt: skip
TOY_LAYERS = [name for name, _, _ in LAYERS]


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    """Run a command; fail the test with its output if it fails."""
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """``pip wheel --no-deps`` of a copy of this tree (this interpreter's setuptools)."""
    work = tmp_path_factory.mktemp("wheel")
    tree = work / "tree"
    shutil.copytree(
        ROOT, tree,
        ignore=lambda _, names: [n for n in names if n in NOT_SOURCE or n.endswith(".egg-info")],
    )  # fmt: skip
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "--no-index", "-q", tree, "-w", work / "dist")  # fmt: skip
    (built,) = (work / "dist").glob("fracdash-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> dict:
    """A fresh venv holding the wheel; {"bin", "site", "env", "cwd", "deps"}."""
    work = tmp_path_factory.mktemp("venv")
    env_dir = work / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", env_dir)
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
        "-q", wheel)  # fmt: skip
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    own_site = Path(purelib.stdout.strip())
    here = sysconfig.get_paths()
    deps = dict.fromkeys([*site.getsitepackages(), here["purelib"], here["platlib"]])
    (own_site / "zz-fracdash-test-deps.pth").write_text(
        "".join(f"{d}\n" for d in deps if Path(d).is_dir()), encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "FRACDASH_ASSETS", "VIRTUAL_ENV")}  # fmt: skip
    env.update(PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}", TF_CPP_MIN_LOG_LEVEL="3")
    cwd = work / "cwd"
    cwd.mkdir()
    return {"bin": python.parent, "site": own_site, "env": env, "cwd": cwd, "deps": list(deps)}


def test_wheel_holds_the_page_and_no_test(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        shipped = {p.relative_to(ASSETS).as_posix(): p for p in ASSETS.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts}  # fmt: skip
        assert set(PAGE_FILES) <= set(shipped)
        for rel, path in shipped.items():  # every asset of the tree, byte for byte
            name = f"fracdash/web/assets/{rel}"
            assert name in names, f"the wheel lacks {name}"
            assert z.read(name) == path.read_bytes(), name
    assert [n for n in names if fnmatch(n, PLOTLY)], "the wheel lacks the vendored plotly"
    for name in names:
        path = PurePosixPath(name)
        assert path.parts[0] not in ("tests", "tools", "bench"), name
        assert not path.name.startswith("test_") and path.name != "conftest.py", name
        assert path.name not in ("browser.py", "ports.py", "helpers.py"), name


def test_installed_fracdash_is_the_wheel_not_the_checkout(venv):
    probe = ("import json, sys, fracdash, fracdash.assets; print(json.dumps({"
             "'file': fracdash.__file__, 'assets': str(fracdash.assets.assets_folder()),"
             "'finders': [getattr(f, '__name__', type(f).__name__) for f in sys.meta_path],"
             "'path': sys.path}))")  # fmt: skip
    found = json.loads(run(venv["bin"] / "python", "-c", probe, env=venv["env"],
                           cwd=venv["cwd"]).stdout)  # fmt: skip
    assert found["file"] == str(venv["site"] / "fracdash" / "__init__.py")
    assert found["assets"] == str(venv["site"] / "fracdash" / "web" / "assets")
    assert not [f for f in found["finders"] if "editable" in f.lower()], found["finders"]
    checkout = [p for p in found["path"] if p and Path(p).resolve() in (ROOT, ROOT / "fracdash")]
    assert checkout == [], found["path"]
    first = found["path"].index(str(venv["site"]))  # before the dependencies' folders
    assert all(first < i for i, p in enumerate(found["path"]) if p in venv["deps"])


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("store") / "store"
    store_toy(folder)
    return folder


@pytest.fixture(scope="module")
def served(venv, store, tmp_path_factory):
    """The installed ``fracdash serve`` on ``store``, in its own process group; its URL."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [venv["bin"] / "fracdash", "serve", "--store", store, "--port", str(port)],
            cwd=venv["cwd"], env=venv["env"], stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"fracdash serve never answered:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=20)


def glyph_colors(page, accept, timeout_s: float = 15.0) -> dict:
    """Poll the glyphs' rendered colors ({layer: set}) until ``accept`` takes them."""
    deadline = time.monotonic() + timeout_s
    while True:
        colors = {k: set(v) for k, v in (page.evaluate(GLYPH_COLORS_JS) or {}).items()}
        if colors and accept(colors):
            return colors
        assert time.monotonic() < deadline, f"glyph colors never matched: {colors}"
        page.wait_for_timeout(100)


def test_installed_serve_lays_out_the_graph_and_the_legend_recolours(browser, served, venv):
    with urllib.request.urlopen(served + "assets/dag_fit.js", timeout=10) as answer:
        assert answer.read() == (venv["site"] / "fracdash/web/assets/dag_fit.js").read_bytes()
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(served + "?run=toy")
        page.wait_for_function(  # every glyph placed once the page has fitted the graph
            "names => { const got = [...document.querySelectorAll('img.fd-glyph')];"
            " return JSON.stringify(got.map(e => e.dataset.layer)) === JSON.stringify(names)"
            " && got.every(e => e.style.width)"
            " && !!document.querySelector('.fd-dag-canvas[data-laid-out]'); }",
            arg=TOY_LAYERS,
            timeout=60_000,
        )
        every = {class_color(k) for k in range(3)}
        before = glyph_colors(page, lambda cs: all(c - {ABSOLUTE_EMPTY} == every
                                                   for c in cs.values()))  # fmt: skip
        page.hover(".fd-legend-item[data-class='1']")
        glyph_colors(page, lambda cs: all(c - {ABSOLUTE_EMPTY} == {class_color(1), FOCUS_DIM}
                                          for c in cs.values()))  # fmt: skip
        page.mouse.move(2, 2)
        glyph_colors(page, lambda cs: cs == before)
    finally:
        context.close()
    assert errors == []


def test_installed_export_inlines_the_page_script(venv, store, browser):
    out = venv["cwd"] / "toy.html"
    run(venv["bin"] / "fracdash", "export", "toy", "--html", out, "--store", store,
        env=venv["env"], cwd=venv["cwd"])  # fmt: skip
    html = out.read_text(encoding="utf-8")
    script = (ASSETS / "standalone" / "standalone.js").read_text(encoding="utf-8")
    assert f"<script>\n{script}\n</script>" in html
    assert "<script src" not in html
    context = browser.new_context(offline=True)
    try:
        page = context.new_page()
        page.goto(out.as_uri())
        page.wait_for_selector("body[data-fd-ready=true]", timeout=10_000)
        layers = page.eval_on_selector_all("img.fd-glyph", "els => els.map(e => e.dataset.layer)")
        assert layers == TOY_LAYERS
    finally:
        context.close()
