"""Exports delivered: ``fracdash export`` through click's CliRunner (files written whole
or not at all, refusals before any rendering, each option: coloring, simplify, curve)
and the server's /export routes (the same bytes, unknown runs a one-line 404)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from click.testing import CliRunner
from helpers import store_toy

from fracdash.cli import main
from fracdash.export import ExportError, export_html, export_png, write_atomic
from fracdash.runs import load_run
from fracdash.store import Store

# -- files and the command line ----------------------------------------------------------


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    cache = tmp_path_factory.mktemp("export") / "cache"
    store_toy(cache)
    return cache


@pytest.fixture(scope="module")
def stored(cache):
    store = Store(cache)
    try:
        return load_run(store, "toy")
    finally:
        store.close()


def run_cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exit_code not in (0, 2):
        raise result.exception
    return result


def test_cli_exports_html_and_png(cache, stored, tmp_path):
    html_path, png_path = tmp_path / "toy.html", tmp_path / "toy.png"
    result = run_cli("export", "toy", "--store", cache, "--html", html_path, "--png", png_path)
    assert result.exit_code == 0, result.stderr
    assert html_path.read_text(encoding="utf-8") == export_html(stored, "toy")
    assert png_path.read_bytes() == export_png(stored, title="toy")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy.html", "toy.png"]  # no temp
    assert f"wrote {html_path}" in result.stdout and f"wrote {png_path}" in result.stdout
    result = run_cli("export", "toy", "--cache-dir", cache, "--png", png_path,
                     "--coloring", "relative", "--simplify")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert png_path.read_bytes() == export_png(stored.simplified(), "relative", title="toy")
    result = run_cli("export", "toy", "--store", cache, "--png", png_path, "--html", html_path,
                     "--curve", "paper")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    paper = stored.on_curve("paper")
    assert png_path.read_bytes() == export_png(paper, title="toy")
    assert png_path.read_bytes() != export_png(stored, title="toy")
    assert html_path.read_text(encoding="utf-8") == export_html(paper, "toy")


def one_line_error(result, *needles):
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fracdash: error: "), result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_cli_unknown_run_lists_the_stored_runs(cache, tmp_path):
    result = run_cli("export", "nope", "--store", cache, "--png", tmp_path / "x.png")
    one_line_error(result, "'nope'", "stored runs: toy")
    result = run_cli("export", "toy", "--store", tmp_path / "none", "--png", tmp_path / "x.png")
    one_line_error(result, "stored runs: none")
    assert not (tmp_path / "none").exists() and not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--png", "missing/out.png"], "does not exist"),
        (["--html", "missing/out.html", "--png", "ok.png"], "does not exist"),
        (["--html", "."], "is a folder"),
        (["--html", "same", "--png", "same"], "both name"),
        ([], "nothing to export"),
    ],
)
def test_cli_refuses_bad_outputs_before_writing(cache, tmp_path, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)
    one_line_error(run_cli("export", "toy", "--store", cache, *args), needle)
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_an_unknown_curve_before_writing(cache, tmp_path):
    result = run_cli("export", "toy", "--store", cache, "--png", tmp_path / "x.png",
                     "--curve", "hilbert")  # fmt: skip
    assert result.exit_code == 2
    assert "'hilbert' is not one of 'compact', 'paper'" in result.stderr
    assert list(tmp_path.iterdir()) == []
    from fracdash.export.run import export_run

    with pytest.raises(ExportError, match="unknown curve 'hilbert'; choose paper or compact"):
        export_run(cache, "toy", png=tmp_path / "x.png", curve="hilbert")


def test_write_atomic_leaves_the_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    write_atomic(target, b"old")
    assert target.read_bytes() == b"old" and target.stat().st_mode & 0o777 != 0o600

    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("fracdash.export.files.os.replace", broken)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temp file left


def test_export_run_reports_a_failed_write_as_one_line(cache, tmp_path, monkeypatch):
    from fracdash.export.run import export_run

    def broken(path, data):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr("fracdash.export.run.write_atomic", broken)
    with pytest.raises(ExportError, match=r"cannot write .*x\.png: Permission denied"):
        export_run(cache, "toy", png=tmp_path / "x.png")


# -- server routes ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(cache):
    from fracdash.web import create_app

    return create_app(cache_dir=cache, default_run="toy").server.test_client()


def test_route_png_is_the_exported_png(client, stored):
    response = client.get("/export/toy.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"] == "attachment; filename=toy.png"
    assert response.data == export_png(stored, title="toy")
    relative = client.get("/export/toy.png?coloring=relative&simplify=1")
    assert relative.data == export_png(stored.simplified(), "relative", title="toy")
    assert client.get("/export/toy.png?coloring=<bogus>").data == response.data
    paper = client.get("/export/toy.png?curve=paper&coloring=relative")
    assert paper.data == export_png(stored.on_curve("paper"), "relative", title="toy")
    assert paper.data != relative.data
    assert client.get("/export/toy.png?curve=<bogus>").data == response.data


def test_route_html_is_the_exported_page(client, stored):
    response = client.get("/export/toy.html")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Disposition"] == "attachment; filename=toy.html"
    assert response.get_data(as_text=True) == export_html(stored, "toy")
    simple = client.get("/export/toy.html?simplify=1").get_data(as_text=True)
    assert simple == export_html(stored.simplified(), "toy")
    paper = client.get("/export/toy.html?curve=paper&simplify=1").get_data(as_text=True)
    assert paper == export_html(stored.on_curve("paper").simplified(), "toy")


@pytest.mark.parametrize(
    "run",
    ["nope", "..", "~", "easy", "toy.png", "toy ", " toy", "TOY", "x" * 5000, "%2e%2e", "toy\x00"],
)
@pytest.mark.parametrize("ext", ["png", "html"])
def test_route_unknown_run_is_a_one_line_404(client, run, ext):
    response = client.get(f"/export/{quote(run, safe='')}.{ext}")
    assert response.status_code == 404
    assert response.mimetype == "text/plain" and "Content-Disposition" not in response.headers
    text = response.get_data(as_text=True)
    assert text.count("\n") == 1 and text.startswith("unknown run"), text


@pytest.mark.parametrize(
    "run", ["../../etc/passwd", "/etc/passwd", "~/.ssh/id_rsa", "file:///etc/passwd"]
)
def test_route_never_opens_a_path(client, run):
    # A slash never reaches the export route (Dash's page route may answer instead).
    response = client.get(f"/export/{quote(run, safe='')}.png")
    assert "Content-Disposition" not in response.headers
    assert response.mimetype != "image/png"
    assert "root:" not in response.get_data(as_text=True)
