"""Runs in a virtual environment with BentoML 1.4 (not bentotui): BentoML's own clients against
the bentotui servers whose URLs are given, asserting every answer.  Exits 0 when all pass.

    python bentoml_driver.py CLASS_URL V1_URL '{"rows": [[...], ...], "expected": [class, ...]}'
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import warnings

import bentoml
import numpy as np
from bentoml.client import Client

ROWS: list[list[float]] = []  # set by main() from the command line


def check_class_service(url: str, expected: list[int]) -> None:
    with bentoml.SyncHTTPClient(url) as client:
        assert client.is_ready()
        # a 1.2 method's -> np.ndarray result comes back as an ndarray, as from BentoML
        result = client.classify(input=np.array(ROWS))
        assert isinstance(result, np.ndarray) and result.tolist() == expected, result
        assert client.classify(np.array(ROWS)).tolist() == expected  # positionally
        flower = {"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}
        assert client.describe(flower=flower, note="x") == {"class": expected[1], "note": "x"}
        assert client.greet(name="bento") == "hello bento"
        try:
            client.describe(flower={**flower, "sepal_length": -1})
        except bentoml.exceptions.BentoMLException as exc:
            assert exc.error_code == 400 and "sepal_length" in str(exc), exc
        else:
            raise AssertionError("a negative sepal_length was accepted")
        check_task_and_stream(client)

    async def run_async() -> None:
        async with bentoml.AsyncHTTPClient(url) as client:
            result = await client.classify(input=np.array(ROWS))
            assert isinstance(result, np.ndarray) and result.tolist() == expected, result
            assert await client.greet(name="async") == "hello async"
            task = await client.count_words.submit(text="from the async client")
            deadline = time.monotonic() + 30
            while (await task.get_status()).value in ("pending", "in_progress"):
                assert time.monotonic() < deadline, "the task did not finish"
                await asyncio.sleep(0.05)
            assert await task.get() == {"words": 4}
            assert "".join([chunk async for chunk in client.spell(word="async")]) == "async"

    asyncio.run(run_async())


def submit_count_words(client: bentoml.SyncHTTPClient, text: str) -> str:
    """The id of a task submitted with ``client.count_words.submit``.

    BentoML 1.4.30 and later break ``SyncHTTPClient.submit`` itself: after the server's answer its
    ``finally`` reads ``self._opened_files``, which the client no longer has (AttributeError,
    whatever the server).  With those versions the task is submitted through the async client,
    whose ``submit`` works, and everything else still goes through the sync one.
    """
    try:
        return client.count_words.submit(text=text).id
    except AttributeError as exc:
        if "_opened_files" not in str(exc):
            raise
        print(f"bentoml {bentoml.__version__}: SyncHTTPClient.submit is broken upstream; submitting with AsyncHTTPClient")

    async def submit_async() -> str:
        async with bentoml.AsyncHTTPClient(client.url) as async_client:
            return (await async_client.count_words.submit(text=text)).id

    return asyncio.run(submit_async())


def wait_for_task(client: bentoml.SyncHTTPClient, task_id: str) -> str:
    deadline = time.monotonic() + 30
    while (status := client.count_words.get_status(task_id).value) in ("pending", "in_progress"):
        assert time.monotonic() < deadline, f"task {task_id} did not finish"
        time.sleep(0.05)
    return status


def check_task_and_stream(client: bentoml.SyncHTTPClient) -> None:
    """A ``@bentoml.task`` through BentoML's submit/status/get/retry, and a streaming API iterated
    as BentoML's client iterates one."""
    task_id = submit_count_words(client, "one two three")
    assert wait_for_task(client, task_id) == "completed"
    assert client.count_words.get(task_id) == {"words": 3}
    again = client.count_words.retry(task_id)
    assert again.id != task_id
    assert wait_for_task(client, again.id) == "completed"
    assert again.get_status().value == "completed" and again.get() == {"words": 3}
    try:
        client.count_words.get_status("0" * 32)
    except bentoml.exceptions.BentoMLException as exc:
        assert exc.error_code == 404, exc
    else:
        raise AssertionError("an unknown task id was found")
    assert client.count_words(text="a b") == {"words": 2}  # a task is a plain API too
    chunks = list(client.spell(word="bento"))
    assert all(isinstance(chunk, str) for chunk in chunks) and "".join(chunks) == "bento", chunks


def check_v1_service(url: str, expected: list[int]) -> None:
    with bentoml.SyncHTTPClient(url) as client:
        result = client.predict(np.array(ROWS))
        assert isinstance(result, np.ndarray) and result.tolist() == expected, result
        assert client.total({"values": [1, 2, 3]}) == {"sum": 6}
        assert client.shout("hi") == "HI"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        legacy = Client.from_url(url)
    result = legacy.predict(np.array(ROWS))
    assert isinstance(result, np.ndarray) and result.tolist() == expected, result
    assert legacy.total({"values": [4, 5]}) == {"sum": 9}
    assert legacy.shout("quiet") == "QUIET"
    legacy.close()


def main() -> int:
    class_url, v1_url, data = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    ROWS[:] = data["rows"]
    expected = data["expected"]
    check_class_service(class_url, expected)
    check_v1_service(v1_url, expected)
    print(f"bentoml {bentoml.__version__} clients: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
