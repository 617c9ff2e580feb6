"""``bentotui models ...`` through the real console script (a subprocess per command)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bentotui.store.models import Model, ModelStore

_SCRIPT = Path(sys.executable).with_name("bentotui")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "bentotui"]


def bentotui(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, input=input, timeout=60, env=env)


def assert_user_error(result: subprocess.CompletedProcess, message: str) -> None:
    """Exit code 2 and one red ``error:`` line naming the problem, no traceback."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def save(name: str, labels: dict[str, str] | None = None) -> Model:
    with ModelStore().create(
        name, module="bentotui.sklearn", framework_version="1.9.1", labels=labels
    ) as draft:
        (draft.path / "model.bin").write_bytes(b"x" * 2048)
    assert draft.model is not None
    return draft.model


def test_list_empty_table_json_yaml_and_labels() -> None:
    assert "no models yet" in bentotui("models", "list").stdout
    old = save("iris", {"stage": "prod"})
    new = save("bert", {"stage": "dev"})
    table = bentotui("models", "list")
    assert table.returncode == 0
    body = table.stdout.splitlines()
    assert body[0].split() == ["Tag", "Framework", "Trust", "Size", "Created", "Labels"]
    assert str(new.tag) in body[1] and str(old.tag) in body[2]  # newest first
    assert body[1].split()[1:4] == ["sklearn", "local", "2.0"]
    assert "2.0 KiB" in body[1] and "just now" in body[1] and "stage=dev" in body[1]

    rows = json.loads(bentotui("models", "list", "--output", "json").stdout)
    assert [r["tag"] for r in rows] == [str(new.tag), str(old.tag)]
    for key in ("tag", "name", "version", "framework", "size_bytes", "creation_time", "labels", "trust"):
        assert key in rows[0]
    assert rows[0]["trust"] == "local"
    assert rows[1]["labels"] == {"stage": "prod"} and rows[1]["size_bytes"] == 2048

    as_yaml = yaml.safe_load(bentotui("models", "list", "-o", "yaml").stdout)
    assert as_yaml == rows
    only = json.loads(bentotui("models", "list", "-o", "json", "--label", "stage=prod").stdout)
    assert [r["tag"] for r in only] == [str(old.tag)]
    by_name = json.loads(bentotui("models", "list", "bert", "-o", "json").stdout)
    assert [r["tag"] for r in by_name] == [str(new.tag)]


def test_list_reports_corrupt_entries_and_goes_on() -> None:
    good = save("iris")
    bad = save("broken")
    (bad.path / "model.yaml").write_text("name: [unclosed")
    result = bentotui("models", "list", "-o", "json")
    assert result.returncode == 0
    assert [r["tag"] for r in json.loads(result.stdout)] == [str(good.tag)]
    assert "warning: skipped a corrupt entry" in result.stderr and str(bad.path) in result.stderr
    assert_user_error(bentotui("models", "get", str(bad.tag)), "model.yaml is not valid YAML")


def test_get_yaml_and_json() -> None:
    model = save("iris", {"team": "ml"})
    data = yaml.safe_load(bentotui("models", "get", "iris").stdout)
    assert data["tag"] == str(model.tag) and data["path"] == str(model.path)
    assert data["labels"] == {"team": "ml"} and data["files"][0]["path"] == "model.bin"
    as_json = json.loads(bentotui("models", "get", str(model.tag), "-o", "json").stdout)
    assert as_json == data


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("models", "get", "nope"), "model 'nope' not found"),
        (("models", "get", "Iris"), "invalid name 'Iris'"),
        (("models", "get", "iris:"), "empty version"),
        (("models", "delete", "nope:123", "-y"), "model 'nope:123' not found"),
        (("models", "list", "--label", "stage"), "invalid label 'stage': use key=value"),
        (("models", "export", "nope", "."), "model 'nope' not found"),
        (("models", "import", "/no/such/file.bentomodel"), "does not exist"),
    ],
)
def test_user_errors_are_one_red_line_with_exit_2(args: tuple[str, ...], message: str) -> None:
    assert_user_error(bentotui(*args), message)


def test_delete_asks_unless_yes() -> None:
    old, new = save("iris"), save("iris")
    declined = bentotui("models", "delete", "iris", input="n\n")
    assert declined.returncode == 1 and f"Delete model {new.tag}?" in declined.stdout
    assert ModelStore().get("iris") == new
    accepted = bentotui("models", "delete", "iris", input="y\n")
    assert accepted.returncode == 0 and f"deleted {new.tag}" in accepted.stdout
    assert bentotui("models", "delete", str(old.tag), "-y").returncode == 0
    assert ModelStore().list() == []


def test_export_import_round_trip_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = save("iris")
    exported = bentotui("models", "export", "iris", str(tmp_path))
    archive = tmp_path / f"iris-{model.tag.version}.bentomodel"
    assert exported.returncode == 0 and str(archive) in exported.stdout
    assert_user_error(bentotui("models", "export", "iris", str(archive)), "already exists (use --force")
    assert bentotui("models", "export", "iris", str(archive), "--force").returncode == 0
    assert_user_error(
        bentotui("models", "import", str(archive)), "already exists (use --force to replace it)"
    )
    assert bentotui("models", "import", str(archive), "--force").returncode == 0

    monkeypatch.setenv("BENTOTUI_HOME", str(tmp_path / "fresh"))
    imported = bentotui("models", "import", str(archive))
    assert imported.returncode == 0 and f"imported {model.tag}" in imported.stdout
    assert ModelStore().verify(model.tag).info == model.info

    junk = tmp_path / "junk.bentomodel"
    junk.write_text("definitely not a tar file\n" * 100)
    assert_user_error(bentotui("models", "import", str(junk)), "is not a bentotui model archive")


def test_models_group_help() -> None:
    result = bentotui("models", "--help")
    assert result.returncode == 0
    for command in ("list", "get", "delete", "export", "import", "trust"):
        assert command in result.stdout


def test_usage_errors_have_no_traceback() -> None:
    result = bentotui("models", "list", "--output", "xml")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "'xml' is not one of" in result.stderr


def test_export_import_with_progress_bar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process (typer's CliRunner) with the progress threshold lowered to exercise the bar."""
    from typer.testing import CliRunner

    from bentotui.cli import _output
    from bentotui.cli import models as models_cli

    monkeypatch.setattr(_output, "PROGRESS_MIN_BYTES", 1)
    model = save("iris")
    runner = CliRunner()
    exported = runner.invoke(models_cli.app, ["export", "iris", str(tmp_path / "iris.bentomodel")])
    assert exported.exit_code == 0, exported.output
    monkeypatch.setenv("BENTOTUI_HOME", str(tmp_path / "fresh"))
    imported = runner.invoke(models_cli.app, ["import", str(tmp_path / "iris.bentomodel")])
    assert imported.exit_code == 0 and f"imported {model.tag}" in imported.output


def _retar(archive: Path, dest: Path, manifest: bytes, claimed: dict[str, int] | None = None) -> Path:
    """``archive``'s files with ``manifest`` as model.yaml (first); ``claimed`` members are only a
    tar header claiming that size, never its data (a bomb that costs nothing to build)."""
    import io
    import tarfile

    with tarfile.open(archive) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar if m.isfile() and m.name != "model.yaml"}
    out = io.BytesIO()
    for name, data in {"model.yaml": manifest, **files}.items():
        info = tarfile.TarInfo(name)
        info.size = (claimed or {}).get(name, len(data))
        out.write(info.tobuf(format=tarfile.GNU_FORMAT))
        if name not in (claimed or {}):
            out.write(data + bytes(-len(data) % 512))
    dest.write_bytes(out.getvalue() + bytes(1024))
    return dest


def test_archive_bombs_and_alias_bombs_are_one_red_line(tmp_path: Path) -> None:
    model = save("iris")
    archive = Path(bentotui("models", "export", "iris", str(tmp_path)).stdout.split(" to ", 1)[1].strip())
    manifest = (model.path / "model.yaml").read_bytes()
    bomb = _retar(archive, tmp_path / "bomb.bentomodel", manifest, {"model.bin": 2 << 30})
    refused = bentotui("models", "import", str(bomb), "--force")
    assert_user_error(refused, "'model.bin' is 2147483648 bytes, but")
    lol = manifest + b'l0: &l0 ["lol","lol"]\nl1: [*l0, *l0]\n'
    assert_user_error(
        bentotui("models", "import", str(_retar(archive, tmp_path / "lol.bentomodel", lol)), "--force"),
        "model.yaml uses YAML aliases",
    )
    other = save("bert")
    (model.path / "model.yaml").write_bytes(lol)  # as if an older bentotui had let it in
    listed = bentotui("models", "list", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    assert [row["tag"] for row in json.loads(listed.stdout)] == [str(other.tag)]
    assert "skipped a corrupt entry" in listed.stderr and "uses YAML aliases" in listed.stderr
    assert_user_error(bentotui("models", "get", str(model.tag), "-o", "json"), "uses YAML aliases")


def test_latest_is_the_newest_after_importing_an_old_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = save("iris")
    archive = Path(bentotui("models", "export", "iris", str(tmp_path)).stdout.split(" to ", 1)[1].strip())
    data = yaml.safe_load((old.path / "model.yaml").read_text())
    data.update(version="zzzz-imported", creation_time="2001-01-01T00:00:00+00:00")
    forged = _retar(archive, tmp_path / "forged.bentomodel", yaml.safe_dump(data, sort_keys=False).encode())
    monkeypatch.setenv("BENTOTUI_HOME", str(tmp_path / "victim"))
    local = save("iris")
    assert bentotui("models", "import", str(forged)).returncode == 0
    got = bentotui("models", "get", "iris:latest", "-o", "json")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["tag"] == str(local.tag)
    listed = json.loads(bentotui("models", "list", "iris", "-o", "json").stdout)
    assert [row["version"] for row in listed] == [local.tag.version, "zzzz-imported"]


def test_an_imported_pickle_model_shows_untrusted_and_is_refused_until_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, iris_lr
) -> None:
    import bentotui as bt

    model = bt.sklearn.save_model("iris", iris_lr)
    archive = bt.models.export_model(model.tag, tmp_path)
    monkeypatch.setenv("BENTOTUI_HOME", str(tmp_path / "victim"))
    imported = bentotui("models", "import", str(archive))
    assert imported.returncode == 0, imported.stderr
    assert f"imported {model.tag} (untrusted: run `bentotui models trust {model.tag}`" in imported.stdout
    assert bentotui("models", "list").stdout.splitlines()[1].split()[:3] == [str(model.tag), "sklearn", "untrusted"]
    got = json.loads(bentotui("models", "get", "iris", "-o", "json").stdout)["trust"]
    assert (got["state"], got["origin"], got["source"], got["trusted"]) == ("untrusted", "imported", archive.name, False)

    refused = bentotui("serve", "--model", "iris:latest", "--port", "0")
    assert_user_error(refused, f"model {model.tag} is not trusted (imported from {archive.name} on ")
    assert f"unpickles model.joblib, which can run any code; if you trust its author, run `bentotui models trust {model.tag}`" in refused.stderr

    trusted = bentotui("models", "trust", "iris")
    assert trusted.returncode == 0 and f"trusted {model.tag} (imported from {archive.name} on " in trusted.stdout
    assert json.loads(bentotui("models", "list", "-o", "json").stdout)[0]["trust"] == "trusted"
    assert_user_error(bentotui("models", "trust", "nope"), "model 'nope' not found")

    again = bentotui("models", "import", "--trust", "--force", str(archive))
    assert again.returncode == 0 and f"imported {model.tag} (trusted)" in again.stdout
    assert yaml.safe_load(bentotui("models", "get", "iris").stdout)["trust"]["state"] == "trusted"
