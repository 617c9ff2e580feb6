"""``bentotui bentos|build|containerize`` through the real console script (a subprocess per command)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import yaml

from tests.bento.conftest import iris_bento, iris_project
from tests.cli.test_models_cli import assert_user_error, bentotui

#: re-exported for tests/bento; the fixtures come from tests/bento/conftest.py
__all__ = ["assert_user_error", "bentotui", "iris_bento", "iris_project"]


def test_build_list_get_delete(iris_project: Path) -> None:
    built = bentotui("build", "-f", str(iris_project / "bentofile.yaml"))
    assert built.returncode == 0, built.stderr
    tag = built.stdout.split()[2]
    assert tag.startswith("iris_classifier:")

    listed = bentotui("bentos", "list", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert row["tag"] == tag and row["service"] == "service:svc"
    table = bentotui("bentos", "list")
    assert tag in table.stdout

    got = bentotui("bentos", "get", "iris_classifier")
    info = yaml.safe_load(got.stdout)
    assert info["tag"] == tag and info["apis"][0]["route"] == "/classify"

    deleted = bentotui("bentos", "delete", tag, "--yes")
    assert deleted.returncode == 0 and f"deleted {tag}" in deleted.stdout
    assert json.loads(bentotui("bentos", "list", "-o", "json").stdout) == []


def test_build_defaults_to_bentofile_in_cwd(iris_project: Path) -> None:
    import os
    import subprocess

    from tests.cli.test_models_cli import COMMAND

    result = subprocess.run([*COMMAND, "build"], cwd=iris_project, capture_output=True, text=True,
                            env={**os.environ, "NO_COLOR": "1"}, timeout=60)
    assert result.returncode == 0, result.stderr


def test_build_errors_are_one_line(tmp_path: Path) -> None:
    assert_user_error(bentotui("build", "-f", str(tmp_path / "none.yaml")), "not found")
    bad = tmp_path / "bad.yaml"
    bad.write_text("service: service:svc\nexclude: 3\n")
    assert_user_error(bentotui("build", "-f", str(bad)), "field 'exclude'")
    bad.write_text("service: [")
    assert_user_error(bentotui("build", "-f", str(bad)), "is not valid YAML")
    bad.write_text("service: service:svc\nmodelz: []\n")
    assert_user_error(bentotui("build", "-f", str(bad)), "unknown field 'modelz'")


def test_store_errors(tmp_path: Path) -> None:
    assert_user_error(bentotui("bentos", "get", "nosuch"), "bento 'nosuch' not found")
    assert_user_error(bentotui("bentos", "delete", "nosuch:1", "-y"), "not found")
    assert_user_error(bentotui("bentos", "export", "nosuch", str(tmp_path)), "not found")
    assert_user_error(bentotui("bentos", "import", str(tmp_path / "none.bento")), "does not exist")
    assert_user_error(bentotui("containerize", "nosuch"), "not found")


def test_export_import_round_trip(tmp_path: Path, iris_bento) -> None:
    exported = bentotui("bentos", "export", str(iris_bento.tag), str(tmp_path))
    assert exported.returncode == 0, exported.stderr
    archive = tmp_path / f"{iris_bento.tag.name}-{iris_bento.tag.version}.bento"
    assert archive.is_file()
    assert_user_error(bentotui("bentos", "export", str(iris_bento.tag), str(tmp_path)), "already exists")
    assert_user_error(bentotui("bentos", "import", str(archive)), "already exists")
    assert bentotui("bentos", "delete", str(iris_bento.tag), "-y").returncode == 0
    imported = bentotui("bentos", "import", str(archive))
    assert imported.returncode == 0, imported.stderr
    assert f"imported {iris_bento.tag}" in imported.stdout
    # the imported bento carries its model and source, byte for byte
    from bentotui.store.bentos import BentoStore

    again = BentoStore().verify(iris_bento.tag)
    assert (again.path / "src" / "service.py").read_text() == (iris_bento.path / "src" / "service.py").read_text()
    assert any((again.path / "models").rglob("model.yaml"))


def test_hostile_archive_is_refused(tmp_path: Path, iris_bento) -> None:
    """A bento archive with a path that escapes the store is refused and leaves nothing behind."""
    archive = tmp_path / "evil.bento"
    with tarfile.open(archive, "w") as tar:
        manifest = (iris_bento.path / "bento.yaml").read_bytes()
        for name, data in (("bento.yaml", manifest), ("../../escaped.py", b"print('pwned')\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    result = bentotui("bentos", "import", str(archive), "--force")
    assert_user_error(result, "points outside the archive")
    assert not (tmp_path / "escaped.py").exists()
    from bentotui import paths

    leftovers = [p.name for p in paths.bentos_dir().iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == []


def test_corrupt_bento_is_listed_as_warning_and_deletable(iris_bento) -> None:
    (iris_bento.path / "bento.yaml").write_text("not: [valid")
    listed = bentotui("bentos", "list", "-o", "json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    assert "skipped a corrupt entry" in listed.stderr
    deleted = bentotui("bentos", "delete", str(iris_bento.tag), "-y")
    assert deleted.returncode == 0, deleted.stderr
    assert not iris_bento.path.exists()


def test_bentomls_top_level_bento_commands_work_hidden(iris_bento) -> None:
    """``bentoml list``/``get``/``delete`` are bento commands at the top, as in BentoML's CLI."""
    tag = str(iris_bento.tag)
    assert tag in bentotui("list").stdout
    assert yaml.safe_load(bentotui("get", tag).stdout)["tag"] == tag
    assert bentotui("delete", tag, "--yes").returncode == 0
    assert json.loads(bentotui("list", "-o", "json").stdout) == []
    assert "│ list" not in bentotui("--help").stdout  # `bentos list` is the documented name


def test_a_deeply_nested_bento_yaml_is_one_error_line() -> None:
    """``bentos get -o yaml|json`` of a manifest nested 950 levels deep: one red line, not a
    RecursionError traceback; listing reports it and goes on."""
    from bentotui.store.bentos import BentoStore

    with BentoStore().items.create("deep") as draft:
        (draft.path / "service.py").write_text("svc = None")
        draft.info = {"service": "service:svc"}
    manifest = draft.item.path / "bento.yaml"
    deep = "deep:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(949)) + " " * 950 + "end: 1\n"
    manifest.write_text(manifest.read_text() + deep)
    for output in ("yaml", "json"):
        assert_user_error(bentotui("bentos", "get", "deep", "-o", output), "bento.yaml is nested deeper than")
    listed = bentotui("bentos", "list", "-o", "json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    assert "nested deeper than" in listed.stderr
