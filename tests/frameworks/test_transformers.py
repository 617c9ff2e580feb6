"""bentotui.transformers: pipeline round trips and per-call pipeline semantics, batched or not."""

from __future__ import annotations

import pytest

from bentotui.exceptions import InvalidArgument, StoreCorrupted
from bentotui.frameworks import transformers as btf

pytestmark = pytest.mark.slow

TEXTS = [
    "The striker scored twice in the cup final",
    "Stocks fell as investors feared higher interest rates",
    "A new smartphone chip was launched with a faster processor",
]


@pytest.fixture(scope="module")
def pipe():
    from bentotui.demo import build_tiny_text_pipeline

    return build_tiny_text_pipeline()


def assert_same(got, expected):
    """Pipeline outputs equal up to float noise (a padded batch may round differently)."""
    if isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            assert_same(g, e)
    else:
        assert got["label"] == expected["label"]
        assert got["score"] == pytest.approx(expected["score"], rel=1e-4)


def test_round_trip_gives_the_same_pipeline(pipe, capfd):
    model = btf.save_model("news", pipe, labels={"demo": "true"})
    assert model.info.options == {"task": "text-classification", "tokenizer": True}
    assert model.info.signatures == {"__call__": {"batchable": False, "batch_dim": 0}}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {f.name for f in model.path.iterdir()}
    capfd.readouterr()
    loaded = btf.load_model(model.tag)
    captured = capfd.readouterr()
    assert "%|" not in captured.err + captured.out  # no progress bars (they would draw over the TUI)
    assert type(loaded) is type(pipe) and loaded.task == "text-classification"
    for text in TEXTS:
        assert_same(loaded(text), pipe(text))
    assert loaded.model.config.id2label == pipe.model.config.id2label


def test_unbatched_runnable_keeps_pipeline_semantics(pipe):
    model = btf.save_model("news", pipe)
    runnable_class = btf.get_runnable(model)
    assert not runnable_class.runnable_methods()["__call__"].batchable
    runnable = runnable_class(model_tag=str(model.tag))
    assert_same(runnable(TEXTS[0]), pipe(TEXTS[0]))
    assert_same(
        runnable(TEXTS[0], max_length=512, truncation=True), pipe(TEXTS[0], max_length=512, truncation=True)
    )
    assert_same(runnable(TEXTS), pipe(TEXTS))  # a list is the pipeline's own list call here


def test_batched_runnable_splits_one_pipeline_call_per_input(pipe):
    model = btf.save_model("news", pipe, signatures={"__call__": {"batchable": True}})
    runnable = btf.get_runnable(model)(model_tag=str(model.tag))
    batch = runnable(TEXTS, max_length=512, truncation=True)
    assert len(batch) == len(TEXTS)
    for text, out in zip(TEXTS, batch, strict=True):
        assert_same(out, pipe(text))  # each entry is what the pipeline returns for that text alone
    for text, out in zip(TEXTS, runnable(TEXTS, top_k=2), strict=True):
        assert len(out) == 2
        assert_same(out, pipe(text, top_k=2))
    assert_same(runnable(TEXTS[1]), pipe(TEXTS[1]))  # one text, called in-process without batching


def forward_passes(runnable) -> list[int]:
    """Rows of each forward pass the runnable's model runs from now on."""
    rows: list[int] = []
    runnable.model.model.register_forward_hook(lambda _m, args, kwargs, _out: rows.append(
        len(kwargs["input_ids"] if "input_ids" in kwargs else args[0])), with_kwargs=True)
    return rows


def test_batched_runnable_runs_the_batch_as_one_padded_forward_pass(pipe):
    model = btf.save_model("news", pipe, signatures={"__call__": {"batchable": True}})
    runnable = btf.get_runnable(model)(model_tag=str(model.tag))
    rows = forward_passes(runnable)
    batch = runnable(TEXTS, max_length=512, truncation=True)
    assert rows == [len(TEXTS)]  # texts of different lengths, padded into one pass
    for text, out in zip(TEXTS, batch, strict=True):
        assert_same(out, pipe(text))
    rows.clear()
    runnable(TEXTS, batch_size=2)  # the caller's batch_size wins
    assert rows == [2, 1]
    rows.clear()
    runnable.model.tokenizer.pad_token = None  # nothing to pad with: the pipeline would refuse
    assert not btf.can_pad(runnable.model)
    for text, out in zip(TEXTS, runnable(TEXTS), strict=True):
        assert_same(out, pipe(text))
    assert rows == [1, 1, 1]


def test_seed_style_runner_call(pipe):
    model = btf.save_model("bert_news_classification", pipe, signatures={"__call__": {"batchable": True}})
    runner = model.to_runner()
    runner.init_local()
    output = runner.run(TEXTS[0], max_length=512)
    assert_same(output, pipe(TEXTS[0], max_length=512))
    assert set(output[0]) == {"label", "score"}


def test_errors(pipe):
    with pytest.raises(InvalidArgument, match="saves transformers pipelines, got dict"):
        btf.save_model("bad", {"task": "text-classification"})
    model = btf.save_model("news", pipe)
    manifest = model.path / "model.yaml"
    manifest.write_text(manifest.read_text().replace("task: text-classification", "task: null"))
    with pytest.raises(StoreCorrupted, match="has no pipeline task"):
        btf.load_model(model.tag)
