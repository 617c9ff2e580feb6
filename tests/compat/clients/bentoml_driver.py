"""Runs in a virtual environment with BentoML 1.4 (not bentotui): BentoML's own clients against
the bentotui servers whose URLs are given, asserting every answer.  Exits 0 when all pass.

    python bentoml_driver.py CLASS_URL V1_URL '{"rows": [[...], ...], "expected": [class, ...]}'
"""

from __future__ import annotations

import asyncio
import json
import sys
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

    async def run_async() -> None:
        async with bentoml.AsyncHTTPClient(url) as client:
            result = await client.classify(input=np.array(ROWS))
            assert isinstance(result, np.ndarray) and result.tolist() == expected, result
            assert await client.greet(name="async") == "hello async"

    asyncio.run(run_async())


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
