"""bentotui's clients under BentoML's names (``SyncHTTPClient``, ``AsyncHTTPClient``,
``bentoml.client.Client``) and ``HTTPServer``, against real ``bentotui serve`` processes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bentotui import runs
from bentotui.client import AsyncHTTPClient, Client, ClientError
from bentotui.exceptions import InvalidArgument, NotFound
from bentotui.http_server import HTTPServer, ServerStateException

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
FLOWER = {"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}


@pytest.fixture
def services(tmp_path: Path) -> Path:
    folder = tmp_path / "services"
    shutil.copytree(Path(__file__).parent / "services", folder)
    return folder


async def _async_calls(url: str) -> tuple[list[int], str]:
    async with AsyncHTTPClient(url) as client:
        assert await client.is_ready()
        return list(await client.classify(input=np.array(ROWS))), await client.call("greet", name="a")


def test_http_server_gives_a_bentoml_style_client(services, iris_model, iris_lr):
    expected = iris_lr.predict(np.array(ROWS)).tolist()
    server = HTTPServer("class_service:IrisClassifier", port=0, working_dir=services, timeout=60)
    with server.start() as client:
        assert server.port > 0 and runs.find_run(server.run_id) is not None  # in the TUI's registry
        assert server.get_client() is client and client.is_ready()
        result = client.classify(input=np.array(ROWS))  # -> np.ndarray: an ndarray, as from BentoML
        assert isinstance(result, np.ndarray) and result.tolist() == expected
        assert client.classify(np.array(ROWS)).tolist() == expected
        assert client.describe(flower=FLOWER, note="n") == {"class": expected[1], "note": "n"}
        assert client.greet("bento") == "hello bento"
        with pytest.raises(ClientError) as bad:
            client.describe(flower={**FLOWER, "petal_width": -1})
        assert bad.value.status == 400 and "petal_width" in bad.value.message
        with pytest.raises(TypeError, match="unexpected arguments colour"):
            client.describe(flower=FLOWER, colour="red")
        with pytest.raises(TypeError, match="missing required arguments flower"):
            client.describe(note="x")
        with pytest.raises(TypeError, match="two values for argument 'name'"):
            client.greet("a", name="b")
        with pytest.raises(NotFound, match="no API 'nope'"):
            client.call("nope")
        assert not hasattr(client, "nope")
        import asyncio

        assert asyncio.run(_async_calls(server.url)) == (expected, "hello a")
    assert server.process is not None and server.process.poll() is not None
    with pytest.raises(ServerStateException, match="exited"):
        server.get_client()


def test_1x_service_through_client_from_url(services, iris_model, iris_lr):
    expected = iris_lr.predict(np.array(ROWS)).tolist()
    with HTTPServer("v1_service:svc", port=0, working_dir=services, timeout=60) as server:
        server.start()
        client = Client.from_url(server.url.removeprefix("http://"))  # BentoML's clients take host:port
        result = client.predict(np.array(ROWS))
        assert isinstance(result, np.ndarray) and result.dtype == np.int64 and result.tolist() == expected
        assert client.total({"values": [1, 2]}) == {"sum": 3} and client.shout("hi") == "HI"
        with pytest.raises(TypeError, match="one positional argument"):
            client.predict(rows=ROWS)
        with pytest.raises(ClientError) as bad:
            client.predict([[1, 2], [3]])
        assert bad.value.status == 400
        client.close()
    assert server.process is not None and server.process.poll() is not None


def test_http_server_reports_a_target_that_does_not_serve(tmp_path):
    server = HTTPServer("missing:svc", port=0, working_dir=tmp_path, timeout=60)
    with pytest.raises(ServerStateException, match="exited with code") as failed:
        server.start()
    assert "missing" in str(failed.value.detail)
    with pytest.raises(ServerStateException, match="exited"):
        server.get_client()


def test_http_server_refuses_what_it_cannot_serve():
    with pytest.raises(InvalidArgument, match="conda"):
        HTTPServer("service:svc", env="conda")
    with pytest.raises(InvalidArgument, match="serve target"):
        HTTPServer(object())
    with pytest.raises(ServerStateException, match="start"):
        HTTPServer("service:svc").get_client()
