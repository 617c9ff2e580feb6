"""Payload codec: out-of-band buffers and errors that keep their meaning."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from bentotui.exceptions import BadInput, BentotuiError, ServiceUnavailable
from bentotui.runner import codec
from bentotui.runner.errors import RunnerError


def received(parts):
    """What the transport hands to decode: views on one writable bytearray per frame."""
    body = bytearray(b"".join(bytes(memoryview(p)) for p in parts))
    view, out, offset = memoryview(body), [], 0
    for part in parts:
        n = memoryview(part).nbytes
        out.append(view[offset : offset + n])
        offset += n
    return out


def test_numpy_buffers_travel_out_of_band():
    array = np.arange(100_000, dtype=np.float64).reshape(-1, 4)
    parts = codec.encode(("predict", (array,), {}))
    assert len(parts) == 2
    assert len(parts[0]) < 1000  # the pickle stream holds no array data
    assert memoryview(parts[1]).nbytes == array.nbytes
    method, (back,), kwargs = codec.decode(received(parts))
    np.testing.assert_array_equal(back, array)
    back[0, 0] = -1  # writable: built on the frame's own buffer, no copy needed
    assert method == "predict" and kwargs == {}


def test_torch_tensors_travel_out_of_band():
    torch = pytest.importorskip("torch")
    tensor = torch.arange(50_000, dtype=torch.float32)
    parts = codec.encode(tensor)
    assert len(parts) == 2 and len(parts[0]) < 1000
    back = codec.decode(received(parts))
    assert isinstance(back, torch.Tensor) and torch.equal(back, tensor)


def test_plain_objects_round_trip():
    value = {"a": [1, 2.5, "x"], "b": None}
    assert codec.decode(received(codec.encode(value))) == value


def test_bentotui_errors_keep_type_message_and_detail():
    error = codec.decode_error(codec.encode_error(BadInput("expected 4 features, got 2", {"got": 2})))
    assert type(error) is BadInput and error.http_status == 400
    assert error.message == "expected 4 features, got 2" and error.detail == {"got": 2}


def test_unpicklable_detail_degrades_to_its_repr():
    class Weird:
        def __reduce__(self):
            raise TypeError("no")

        def __repr__(self):
            return "<weird>"

    error = codec.decode_error(codec.encode_error(ServiceUnavailable("busy", Weird())))
    assert type(error) is ServiceUnavailable and error.detail == "<weird>"


def test_other_exceptions_become_runner_error_with_one_short_line():
    error = codec.decode_error(codec.encode_error(ValueError("boom\n" + "x" * 1000)))
    assert type(error) is RunnerError and isinstance(error, BentotuiError)
    assert error.message.startswith("ValueError: boom x") and len(error.message) <= 500
    assert "\n" not in error.message


def test_undecodable_error_reply_is_a_runner_error():
    parts = [pickle.dumps(("not", "three"))]
    assert type(codec.decode_error(parts)) is RunnerError
