"""Settings file: get/set/unset, env override, and clear errors for unknown keys or bad YAML."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bentotui import config, paths
from bentotui.exceptions import InvalidArgument


def test_set_get_unset_round_trip() -> None:
    config.set_value("runner.python", "/usr/bin/python3")
    config.set_value("keymap.logs", "l,L")
    assert config.get("runner.python") == "/usr/bin/python3"
    assert config.load()["keymap"] == {"logs": "l,L"}
    config.set_value("runner.python", None)
    assert config.get("runner.python") is None
    assert "runner" not in config.load()


def test_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    config.set_value("runner.python", "/from/file")
    monkeypatch.setenv("BENTOTUI_RUNNER_PYTHON", "/from/env")
    assert config.get("runner.python") == "/from/env"


def test_unknown_key_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="unknown setting 'runner.pyton'"):
        config.set_value("runner.pyton", "x")


def test_bad_yaml_names_the_file() -> None:
    paths.config_file().write_text("runner: [unclosed\n")
    with pytest.raises(InvalidArgument, match="config.yaml is not valid YAML"):
        config.load()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bentotui", *args], capture_output=True, text=True, timeout=60)


def test_cli_set_and_get() -> None:
    assert _cli("config", "set", "tui.theme", "textual-light").returncode == 0
    out = _cli("config", "get", "tui.theme")
    assert out.returncode == 0 and out.stdout.strip() == "textual-light"


def test_cli_unknown_key_is_one_red_line_exit_2() -> None:
    out = _cli("config", "set", "nope", "1")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [out.stderr.strip()]
    assert "unknown setting 'nope'" in out.stderr and "Traceback" not in out.stderr


def test_cli_runner_python_must_exist(tmp_path) -> None:
    out = _cli("config", "set", "runner.python", str(tmp_path / "missing"))
    assert out.returncode == 2 and "is not a file" in out.stderr
