"""The demo models: the offline tiny text pipeline, the skip/force logic, and ``bentotui demo``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bentotui
from bentotui import demo

_SCRIPT = Path(sys.executable).with_name("bentotui")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "bentotui"]


def bentotui_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.slow
def test_vocabulary_covers_the_headlines_and_any_ascii_text():
    tokenizer = demo.build_tokenizer()
    vocab = demo.vocabulary()
    assert len(vocab) == len(set(vocab)) > 300
    for texts in demo.TRAINING_TEXTS.values():
        for text in texts:
            ids = tokenizer(text)["input_ids"]
            assert tokenizer.unk_token_id not in ids
            assert len(ids) == len(text.split()) + 2  # every headline word is one whole token
    odd = tokenizer("Zyxwv qubit 2031, e-bikes & co.")["input_ids"]
    assert tokenizer.unk_token_id not in odd


@pytest.mark.slow
def test_tiny_pipeline_is_deterministic_and_learned_its_labels():
    first = demo.build_tiny_text_pipeline()
    second = demo.build_tiny_text_pipeline()
    assert first.model.config.id2label == dict(enumerate(demo.LABELS))
    headlines = {
        "sports": "The team won the final match of the season",
        "business": "Oil prices and bank shares rise as inflation cools",
        "tech": "Hackers attack cloud software used by developers",
        "world": "Troops reach the border as peace talks fail",
    }
    for label, text in headlines.items():
        (out,) = first(text)
        assert out["label"] == label, (text, out)
        assert second(text)[0]["score"] == pytest.approx(out["score"], abs=1e-6)


def _fake_demos(calls: list[str]) -> tuple[demo.DemoModel, ...]:
    def save(name: str):
        calls.append(name)
        return bentotui.picklable_model.save_model(name, len, labels={"demo": "true"})

    return (demo.DemoModel("one", "first", save), demo.DemoModel("two", "second", save))


def test_create_demo_models_keeps_existing_unless_forced(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(demo, "DEMO_MODELS", _fake_demos(calls))
    first = demo.create_demo_models()
    assert [m.tag.name for m in first] == ["one", "two"] and calls == ["one", "two"]
    assert demo.create_demo_models() == first and calls == ["one", "two"]
    forced = demo.create_demo_models(force=True)
    assert calls == ["one", "two", "one", "two"]
    assert all(new.tag.version != old.tag.version for new, old in zip(forced, first, strict=True))


@pytest.mark.slow
def test_demo_command_saves_both_models_once():
    done = bentotui_cli("demo")
    assert done.returncode == 0, done.stderr
    assert "saved iris-classifier:" in done.stdout and "saved text-classifier:" in done.stdout
    listed = bentotui_cli("models", "list", "--output", "json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {"iris-classifier", "text-classifier"}
    assert rows["iris-classifier"]["framework"] == "sklearn"
    assert rows["text-classifier"]["framework"] == "transformers"
    assert all(row["labels"]["demo"] == "true" for row in rows.values())

    again = bentotui_cli("demo")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("kept ") == 2 and "saved" not in again.stdout
    assert len(bentotui.models.list()) == 2

    iris = bentotui.models.get("iris-classifier")
    runnable = bentotui.sklearn.get_runnable(iris)(model_tag=str(iris.tag))
    assert list(runnable.predict([[5.1, 3.5, 1.4, 0.2]])) == [0]
    text = bentotui.models.get("text-classifier")
    assert text.info.signatures["__call__"]["batchable"] is True
    assert bentotui.transformers.load_model(text)("The striker scored a late goal")[0]["label"] == "sports"


def test_only_one_demo_model_and_unknown_name():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "bentotui", "demo", "--only", "nope"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2 and "no demo model 'nope'" in out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "bentotui", "demo", "--only", "iris-classifier"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0 and "saved iris-classifier" in out.stdout
    from bentotui import models

    assert [m.tag.name for m in models.list()] == ["iris-classifier"]


def test_demo_needing_a_missing_library_is_skipped_or_built_elsewhere(monkeypatch, capsys):
    """In the slim bundle torch is absent: without runner.python the text model is skipped."""
    pytest.importorskip("torch")  # the check below needs a venv that has it
    from rich.console import Console

    from bentotui.cli.demo import _build_elsewhere
    from bentotui.demo import DEMO_MODELS

    text = next(spec for spec in DEMO_MODELS if spec.name == "text-classifier")
    assert text.missing() == []  # this venv has torch and transformers
    _build_elsewhere(Console(), "text-classifier", ["torch"], force=False)
    assert "skipped text-classifier: needs torch" in capsys.readouterr().out
