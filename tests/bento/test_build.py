"""Building a bento from a bentofile with a real sklearn service."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
import yaml

from bentotui.bento.build import build_from_arguments, build_from_bentofile, collect_files
from bentotui.exceptions import Conflict


def test_steps_are_reported(iris_project: Path) -> None:
    from bentotui.bento.build import BUILD_STEPS

    steps: list[str] = []
    build_from_bentofile(iris_project / "bentofile.yaml", on_step=steps.append)
    assert len(steps) == BUILD_STEPS and steps[0] == "loading service service:svc"


def test_cli_help_is_light() -> None:
    """``bentotui --help`` (and ``build --help``) must not pay for the build machinery, the
    server stack, the TUI or any ML library: run them and look at what got imported."""
    import subprocess
    import sys

    # (pydantic is not listed: typer itself imports it to parse a command's options)
    heavy = ("yaml", "sklearn", "quart", "numpy", "torch", "textual", "bentotui.bento.build")
    code = (
        "import contextlib, io, sys\n"
        "from bentotui.cli import app\n"
        "for args in (['--help'], ['build', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):\n"
        "        app(args, prog_name='bentotui')\n"
        "    assert 'Usage' in out.getvalue(), out.getvalue()\n"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_manifest(iris_bento, iris_model) -> None:
    manifest = yaml.safe_load((iris_bento.path / "bento.yaml").read_text())
    assert manifest["name"] == "iris_classifier" and iris_bento.tag.name == "iris_classifier"
    assert manifest["service"] == "service:svc"
    assert manifest["description"] == "iris as a bento"
    assert manifest["labels"] == {"owner": "tests"}
    assert manifest["default_port"] == 3000
    assert manifest["apis"] == [{"name": "classify", "route": "/classify", "input": "NumpyNdarray", "output": "JSON"}]
    [runner] = manifest["runners"]
    assert runner["name"] == "iris" and "predict" in runner["methods"]
    assert runner["models"] == [str(iris_model.tag)]
    assert [m["tag"] for m in manifest["models"]] == [str(iris_model.tag)]
    assert manifest["models"][0]["module"] == "bentotui.sklearn"
    assert manifest["python"]["packages"] == ["tabulate>=0.9"]
    assert manifest["docker"]["system_packages"] == ["libgomp1"]
    assert manifest["creation_time"]


def test_src_follows_globs(iris_bento) -> None:
    src = iris_bento.path / "src"
    files = sorted(p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file())
    assert files == ["data/labels.csv", "service.py"]


def test_models_are_copied_with_their_manifest(iris_bento, iris_model) -> None:
    copy = iris_bento.path / "models" / iris_model.tag.name / iris_model.tag.version
    assert (copy / "model.yaml").read_text() == (iris_model.path / "model.yaml").read_text()
    for entry in yaml.safe_load((copy / "model.yaml").read_text())["files"]:
        assert (copy / entry["path"]).read_bytes() == (iris_model.path / entry["path"]).read_bytes()


def test_requirements_are_pinned(iris_bento) -> None:
    text = (iris_bento.path / "env" / "python" / "requirements.txt").read_text()
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    for dist in ("scikit-learn", "Quart", "Hypercorn", "numpy", "pydantic"):
        version = importlib.metadata.version(dist)
        assert f"{importlib.metadata.metadata(dist)['Name']}=={version}" in lines
    assert "tabulate>=0.9" in lines
    assert not any(ln.lower().startswith(("textual", "torch", "bentotui")) for ln in lines)
    assert all("==" in ln for ln in lines if ln != "tabulate>=0.9")


def test_torch_pin_drops_local_tag() -> None:
    pytest.importorskip("torch")  # not installable on every Python the suite runs on
    from bentotui.bento import requirements

    extras = requirements.model_extras("bentotui.pytorch", {})
    text = requirements.render(extras=extras, packages=[], requirements_txt=None, lock=False)
    version = importlib.metadata.version("torch")
    assert f"torch=={version.split('+')[0]}" in text.splitlines()
    if "+cpu" in version:
        assert requirements.TORCH_CPU_INDEX in text


def test_requirements_txt_is_appended(iris_project: Path) -> None:
    (iris_project / "requirements-extra.txt").write_text("# mine\nrequests==2.32.0\n\n")
    bentofile = iris_project / "bentofile.yaml"
    data = yaml.safe_load(bentofile.read_text())
    data["python"]["requirements_txt"] = "requirements-extra.txt"
    bentofile.write_text(yaml.safe_dump(data))
    bento = build_from_bentofile(bentofile)
    lines = (bento.path / "env" / "python" / "requirements.txt").read_text().splitlines()
    assert lines[-2:] == ["# mine", "requests==2.32.0"]
    assert bento.info.python.requirements_txt == "requirements-extra.txt"


def test_invalid_version(iris_project: Path) -> None:
    from bentotui.exceptions import InvalidArgument

    with pytest.raises(InvalidArgument, match="invalid version 'Not OK'"):
        build_from_bentofile(iris_project / "bentofile.yaml", version="Not OK")


def test_skops_model_needs_skops(tmp_path: Path, iris_lr) -> None:
    import bentotui
    from tests.bento.conftest import write_project

    bentotui.sklearn.save_model("iris", iris_lr, serialization="skops")
    bento = build_from_bentofile(write_project(tmp_path / "p") / "bentofile.yaml")
    text = (bento.path / "env" / "python" / "requirements.txt").read_text()
    assert f"skops=={importlib.metadata.version('skops')}" in text.splitlines()


def test_lock_packages_pins_dependencies(tmp_path: Path, iris_project: Path) -> None:
    bentofile = iris_project / "bentofile.yaml"
    data = yaml.safe_load(bentofile.read_text())
    data["python"]["lock_packages"] = True
    bentofile.write_text(yaml.safe_dump(data))
    bento = build_from_bentofile(bentofile)
    text = (bento.path / "env" / "python" / "requirements.txt").read_text()
    # scipy and threadpoolctl come only from scikit-learn's own requirements
    assert f"scipy=={importlib.metadata.version('scipy')}" in text.splitlines()
    assert f"threadpoolctl=={importlib.metadata.version('threadpoolctl')}" in text.splitlines()


def test_dockerfile_written(iris_bento) -> None:
    text = (iris_bento.path / "env" / "docker" / "Dockerfile").read_text()
    assert "libgomp1" in text and 'OMP_NUM_THREADS="1"' in text
    assert "EXPOSE 3000" in text


def test_readme(iris_bento) -> None:
    assert "POST /classify" in (iris_bento.path / "README.md").read_text()


def test_explicit_version(iris_project: Path) -> None:
    bento = build_from_bentofile(iris_project / "bentofile.yaml", version="v1")
    assert str(bento.tag) == "iris_classifier:v1"
    with pytest.raises(Conflict):
        build_from_bentofile(iris_project / "bentofile.yaml", version="v1")


def test_build_twice_in_one_process_reimports(tmp_path: Path, iris_model) -> None:
    """A second project with the same module name must not reuse the first one's module."""
    from tests.bento.conftest import write_project

    first = build_from_bentofile(write_project(tmp_path / "a") / "bentofile.yaml")
    second_dir = write_project(tmp_path / "b")
    (second_dir / "service.py").write_text(
        (second_dir / "service.py").read_text().replace('name="iris_classifier"', 'name="iris_two"')
    )
    second = build_from_bentofile(second_dir / "bentofile.yaml")
    assert (first.tag.name, second.tag.name) == ("iris_classifier", "iris_two")


def test_build_from_arguments(tmp_path: Path, iris_model) -> None:
    """The entry point BentoService.save() and bentos.build use: no bentofile, its keys as arguments."""
    from tests.bento.conftest import IRIS_SERVICE

    (tmp_path / "service.py").write_text(IRIS_SERVICE)
    bento = build_from_arguments(
        tmp_path, service="service:svc", name="saved", labels={"a": "b"}, include=["*.py"], exclude=None,
        python={"packages": ["x==1"]}, models=[str(iris_model.tag)],
    )
    assert bento.tag.name == "saved" and bento.info.labels == {"a": "b"}
    assert "x==1" in bento.info.python.packages
    assert [str(m.tag) for m in bento.info.models] == [str(iris_model.tag)]


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        (["**/*.py"], [], ["a.py", "pkg/b.py", "pkg/sub/c.py"]),
        (["*.py"], ["pkg"], ["a.py"]),
        (["pkg/*.py"], ["sub/"], ["pkg/b.py"]),
        (["*"], ["*.py"], ["pkg/data.txt"]),
    ],
)
def test_collect_files(tmp_path: Path, include, exclude, expected) -> None:
    for rel in ("a.py", "pkg/b.py", "pkg/sub/c.py", "pkg/data.txt", ".git/x.py", "venv/lib/y.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("#\n")
    assert sorted(collect_files(tmp_path, include, exclude)) == expected
