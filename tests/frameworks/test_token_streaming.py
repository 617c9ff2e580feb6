"""Token streaming from a transformers ``text-generation`` pipeline: its runner's ``stream`` method,
in-process and behind a real ``bentotui serve`` (the tiny GPT-2 of ``bentotui.demo``, built here)."""

from __future__ import annotations

import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest

from bentotui.exceptions import InvalidArgument
from bentotui.frameworks import transformers as btf
from tests.helpers.server import serve

pytestmark = pytest.mark.slow

PROMPT = "the market fell"
GREEDY = {"do_sample": False}


@pytest.fixture(scope="module")
def generator():
    from bentotui.demo import build_tiny_text_generator

    return build_tiny_text_generator()


def _generated(pipe, n: int) -> str:
    (out,) = pipe(PROMPT, max_new_tokens=n, return_full_text=False, **GREEDY)
    return out["generated_text"]


def _generating_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "bentotui-generate"]


def test_a_generating_pipeline_gets_a_stream_signature_and_loads_back(generator):
    model = btf.save_model("gen", generator)
    assert model.info.signatures == {
        "__call__": {"batchable": False, "batch_dim": 0}, "stream": {"batchable": False, "batch_dim": 0},
    }
    loaded = btf.load_model(model.tag)  # generate() must not be handed the loader's local_files_only
    assert _generated(loaded, 6) == _generated(generator, 6)


def test_the_stream_yields_what_the_pipeline_generates(generator):
    runnable = btf.get_runnable(btf.save_model("gen", generator))(model_tag="gen:latest")
    pieces = list(runnable.stream(PROMPT, max_new_tokens=12, **GREEDY))
    assert len(pieces) > 1 and all(pieces)  # piece by piece, no empty chunks for skipped tokens
    assert "".join(pieces) == _generated(generator, 12)
    assert not _generating_threads()


def test_closing_the_stream_stops_generate(generator):
    runnable = btf.get_runnable(btf.save_model("gen", generator))(model_tag="gen:latest")
    stream = runnable.stream(PROMPT, max_new_tokens=2000, **GREEDY)
    assert next(stream)
    assert _generating_threads()  # still generating: the first piece came before the end
    stream.close()
    assert not _generating_threads()  # the stopping criterion ended generate at its next token


def test_an_error_in_generate_reaches_the_reader(generator):
    runnable = btf.get_runnable(btf.save_model("gen", generator))(model_tag="gen:latest")
    with pytest.raises(ValueError, match="max_new_tokens"):
        list(runnable.stream(PROMPT, max_new_tokens=-3))
    assert not _generating_threads()


def test_stream_signatures_are_checked():
    from bentotui.demo import build_tiny_text_pipeline

    classifier = build_tiny_text_pipeline(steps=1)
    assert "stream" not in btf.save_model("news", classifier).info.signatures
    with pytest.raises(InvalidArgument, match="does not generate text"):
        btf.save_model("news", classifier, signatures={"stream": {}})


def test_a_batchable_stream_is_refused(generator):
    with pytest.raises(InvalidArgument, match="cannot be batchable"):
        btf.save_model("gen", generator, signatures={"stream": {"batchable": True}})


SERVICE = textwrap.dedent("""
    import bentotui as bentoml

    runner = bentoml.transformers.get("gen:latest").to_runner()
    svc = bentoml.Service(name="generator", runners=[runner])

    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.Text())
    async def generate(body):
        seen = 0
        try:
            async for piece in runner.stream.async_stream(body["prompt"], max_new_tokens=body["n"], do_sample=False):
                seen += 1
                yield piece
        finally:
            with open(body["marker"], "w") as f:
                f.write(str(seen))
""")


@pytest.fixture(scope="module")
def server(generator, tmp_path_factory):
    root = tmp_path_factory.mktemp("tokens")
    home = root / "home"
    home.mkdir()
    with pytest.MonkeyPatch.context() as patch:  # the module's server reads this store
        patch.setenv("BENTOTUI_HOME", str(home))
        btf.save_model("gen", generator)
    (root / "service.py").write_text(SERVICE)
    with serve("service:svc", cwd=root, env={"BENTOTUI_HOME": str(home)}, timeout=120) as srv:
        yield srv


def _wait_for(path: Path, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout  # a bound, not a measurement
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"{path.name} never appeared: the API's generator was not closed"
        time.sleep(0.02)
    return path.read_text()


def test_tokens_reach_the_client_as_the_worker_generates_them(server, generator, tmp_path):
    marker = tmp_path / "marker"
    body = {"prompt": PROMPT, "n": 16, "marker": str(marker)}
    with httpx.stream("POST", f"{server.url}/generate", json=body, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        chunks = [chunk.decode() for chunk in response.iter_raw()]
    assert len(chunks) > 1 and "".join(chunks) == _generated(generator, 16)
    assert int(_wait_for(marker)) == len([p for p in chunks if p])


def test_the_first_token_comes_before_the_generation_ends_and_leaving_stops_it(server, tmp_path):
    marker = tmp_path / "marker"
    body = {"prompt": PROMPT, "n": 2000, "marker": str(marker)}
    with httpx.stream("POST", f"{server.url}/generate", json=body, timeout=60) as response:
        chunks = response.iter_raw()  # held: a dropped iterator would close the connection already
        assert next(chunks)
        assert not marker.exists()  # the API's loop over the runner stream is still running
    seen = int(_wait_for(marker))  # the client left: the stream was closed, not run to its end
    assert seen < 2000
