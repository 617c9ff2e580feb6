"""Merging concurrent calls into one batch and splitting the output back, per container type."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bentotui.exceptions import BadInput
from bentotui.runner import containers
from bentotui.runner.errors import RunnerError


def roundtrip(values, dim=0):
    sizes, signatures = zip(*(containers.describe(v, dim) for v in values), strict=True)
    assert len(set(signatures)) == 1
    kind = signatures[0][0]
    batch = containers.concat(list(values), kind, dim)
    return batch, containers.split(batch, list(sizes), dim)


def test_numpy_along_axis_0_and_1():
    a, b = np.arange(8.0).reshape(2, 4), np.arange(4.0).reshape(1, 4) + 100
    batch, pieces = roundtrip([a, b])
    assert batch.shape == (3, 4)
    np.testing.assert_array_equal(pieces[0], a)
    np.testing.assert_array_equal(pieces[1], b)
    c, d = np.ones((3, 2)), np.zeros((3, 5))
    batch, pieces = roundtrip([c, d], dim=1)
    assert batch.shape == (3, 7) and pieces[1].shape == (3, 5)


def test_numpy_signature_separates_widths_and_dtypes():
    _, wide = containers.describe(np.ones((1, 4)), 0)
    _, narrow = containers.describe(np.ones((1, 2)), 0)
    _, ints = containers.describe(np.ones((1, 4), dtype=int), 0)
    assert len({wide, narrow, ints}) == 3


def test_lists():
    batch, pieces = roundtrip([[1, 2], [3], [4, 5, 6]])
    assert batch == [1, 2, 3, 4, 5, 6]
    assert pieces == [[1, 2], [3], [4, 5, 6]]


def test_dataframes_keep_each_calls_index():
    a = pd.DataFrame({"x": [1, 2], "y": [3, 4]}, index=["r1", "r2"])
    b = pd.DataFrame({"x": [5], "y": [6]})  # default RangeIndex
    batch, pieces = roundtrip([a, b])
    assert len(batch) == 3
    # values and index labels come back; mixing index types may widen the index dtype
    pd.testing.assert_frame_equal(pieces[0], a, check_index_type=False)
    pd.testing.assert_frame_equal(pieces[1], b, check_index_type=False)
    assert list(pieces[0].index) == ["r1", "r2"] and list(pieces[1].index) == [0]
    _, other = containers.describe(pd.DataFrame({"z": [1]}), 0)
    assert other != containers.describe(a, 0)[1]


def test_series():
    a, b = pd.Series([1, 2], index=[10, 11], name="s"), pd.Series([3], name="s")
    _, pieces = roundtrip([a, b])
    pd.testing.assert_series_equal(pieces[0], a)
    pd.testing.assert_series_equal(pieces[1], b)


def test_torch_tensors():
    torch = pytest.importorskip("torch")
    a, b = torch.ones(2, 3), torch.zeros(1, 3)
    batch, pieces = roundtrip([a, b])
    assert tuple(batch.shape) == (3, 3)
    assert torch.equal(pieces[0], a) and torch.equal(pieces[1], b)


def test_items_are_batched_as_a_list():
    assert containers.describe("one text", 0) == (1, (containers.ITEM,))
    assert containers.concat(["a", "b"], containers.ITEM, 0) == ["a", "b"]


def test_tuple_outputs_split_per_call():
    out = (np.arange(3), [10, 20, 30])
    pieces = containers.split(out, [1, 2], 0)
    assert pieces[0][1] == [10] and pieces[1][1] == [20, 30]
    np.testing.assert_array_equal(pieces[1][0], [1, 2])


def test_call_with_uneven_arguments_is_bad_input():
    with pytest.raises(BadInput, match="different lengths"):
        containers.describe_call((np.ones((2, 1)), [1]), 0)
    with pytest.raises(BadInput, match="at least one positional"):
        containers.describe_call((), 0)
    with pytest.raises(BadInput, match="batch axis 1"):
        containers.describe(np.ones(3), 1)


def test_output_that_is_not_a_batch_is_a_runner_error():
    with pytest.raises(RunnerError, match="returned 2 rows for a batch of 3"):
        containers.split(np.ones(2), [1, 2], 0)
    with pytest.raises(RunnerError, match="returned float"):
        containers.split(1.5, [1], 0)
