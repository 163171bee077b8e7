"""tools/browser.py: the order in which a Chromium is found or installed, on fake
executables in tmp_path (the lookup is tested here; the real browser in test_browser)."""

from __future__ import annotations

import browser
import pytest
from browser import BrowserNotFound, find_chromium


def executable(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def nothing(tmp_path, monkeypatch):
    """A machine with no Chromium anywhere; records every install attempted."""
    attempts = []
    monkeypatch.delenv(browser.ENV_VAR, raising=False)
    monkeypatch.setattr(browser, "DEBIAN_CHROMIUM", tmp_path / "usr" / "bin" / "chromium")
    monkeypatch.setattr(browser, "_apt_install", lambda: attempts.append("apt") or False)
    monkeypatch.setattr(browser, "_playwright_chromium", lambda: None)
    monkeypatch.setattr(browser, "_run_quietly", lambda cmd, env=None: attempts.append(cmd[-3:]))
    return attempts


def test_env_var_first(tmp_path, monkeypatch, nothing):
    executable(browser.DEBIAN_CHROMIUM)
    mine = executable(tmp_path / "mine" / "chrome")
    monkeypatch.setenv(browser.ENV_VAR, str(mine))
    assert find_chromium(install=True) == mine
    assert nothing == []


def test_env_var_not_executable(tmp_path, monkeypatch, nothing):
    monkeypatch.setenv(browser.ENV_VAR, str(tmp_path / "absent"))
    with pytest.raises(BrowserNotFound, match="FRACDASH_CHROMIUM=.*absent.*not an executable"):
        find_chromium()


def test_empty_env_var_is_unset(monkeypatch, nothing):
    executable(browser.DEBIAN_CHROMIUM)
    monkeypatch.setenv(browser.ENV_VAR, "")  # what `make test` passes when none was found
    assert find_chromium() == browser.DEBIAN_CHROMIUM


def test_debian_before_installing(nothing):
    executable(browser.DEBIAN_CHROMIUM)
    assert find_chromium(install=True) == browser.DEBIAN_CHROMIUM
    assert nothing == []


def test_apt_install_then_debian(monkeypatch, nothing):
    def apt():
        nothing.append("apt")
        executable(browser.DEBIAN_CHROMIUM)
        return True

    monkeypatch.setattr(browser, "_apt_install", apt)
    assert find_chromium(install=True) == browser.DEBIAN_CHROMIUM
    assert nothing == ["apt"]


def test_playwright_after_apt(tmp_path, monkeypatch, nothing):
    own = tmp_path / "ms-playwright" / "chrome"
    monkeypatch.setattr(browser, "_playwright_chromium", lambda: own if own.is_file() else None)

    def run(cmd, env=None):
        nothing.append(cmd[-3:])
        executable(own)
        return True

    monkeypatch.setattr(browser, "_run_quietly", run)
    assert find_chromium(install=True) == own
    assert nothing == ["apt", ["playwright", "install", "chromium"]]


def test_nothing_found_says_what_to_install(nothing, capsys):
    with pytest.raises(BrowserNotFound) as info:
        find_chromium()
    assert nothing == []  # without install=True nothing is installed
    message = str(info.value)
    assert "\n" not in message
    for needle in ("apt-get install chromium", "playwright install chromium", "FRACDASH_CHROMIUM"):
        assert needle in message
    assert browser.main(["--install"]) == 1
    assert nothing == ["apt", ["playwright", "install", "chromium"]]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apt-get install chromium" in err


def test_main_prints_the_path(nothing, capsys):
    executable(browser.DEBIAN_CHROMIUM)
    assert browser.main([]) == 0
    assert capsys.readouterr().out.strip() == str(browser.DEBIAN_CHROMIUM)
