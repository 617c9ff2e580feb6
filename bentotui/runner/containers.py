"""Merge the inputs of concurrent calls into one batch and split the output back, in order.

Supported containers: numpy arrays, torch tensors (along ``batch_dim``), pandas DataFrames and
Series (along rows; each row keeps its index, so a call gets back the index it sent) and lists.
Any other positional value is one *item*: it is sent as a one-element list and the call gets
element 0 of its share of the output.  Nothing here imports numpy, pandas or torch: a value can
only be one of theirs if its library is already loaded.

Calls merge only when their *signature* is equal: per positional argument its kind and, for
arrays/tensors, dtype and shape off the batch axis, for frames the columns.  So one request with
the wrong width fails alone instead of failing the batch it would have joined.
"""

from __future__ import annotations

import sys
from itertools import accumulate
from typing import Any

from bentotui.exceptions import BadInput
from bentotui.runner.errors import RunnerError

ITEM = "item"

#: merge signature of one positional argument: its kind (a str) first, then what must match to merge
ArgSignature = tuple[Any, ...]  # `tuple[str, *tuple[object, ...]]` is 3.11+ syntax
#: merge signature of one call: one ``ArgSignature`` per positional argument
CallSignature = tuple[ArgSignature, ...]


def kind_of(value: Any) -> str:
    """``ndarray``, ``tensor``, ``dataframe``, ``series``, ``list`` or ``item``."""
    if isinstance(value, list):
        return "list"
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray):
        return "ndarray"
    pd = sys.modules.get("pandas")
    if pd is not None:
        if isinstance(value, pd.DataFrame):
            return "dataframe"
        if isinstance(value, pd.Series):
            return "series"
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return "tensor"
    return ITEM


def _off_axis_shape(shape: tuple[int, ...], dim: int) -> tuple[int, ...]:
    return shape[:dim] + shape[dim + 1 :]


def describe(value: Any, dim: int) -> tuple[int, ArgSignature]:
    """(rows along ``dim``, merge signature) of one positional argument."""
    kind = kind_of(value)
    if kind == "list":
        return len(value), (kind,)
    if kind in ("ndarray", "tensor"):
        shape = tuple(value.shape)
        if len(shape) <= dim:
            raise BadInput(f"expected an array with a batch axis {dim}, got shape {list(shape)}")
        return shape[dim], (kind, str(value.dtype), _off_axis_shape(shape, dim))
    if kind == "dataframe":
        return len(value), (kind, tuple(value.columns))
    if kind == "series":
        return len(value), (kind, value.name)
    return 1, (ITEM,)


def describe_call(args: tuple[Any, ...], dim: int) -> tuple[int, CallSignature]:
    """(rows, signature) of one call; every positional argument must have the same rows."""
    if not args:
        raise BadInput("a batchable runner method needs at least one positional argument")
    described = [describe(arg, dim) for arg in args]
    rows = {n for n, _ in described}
    if len(rows) != 1:
        raise BadInput(f"the inputs of one call have different lengths: {sorted(rows)}")
    return rows.pop(), tuple(sig for _, sig in described)


def concat(values: list[Any], kind: str, dim: int) -> Any:
    """One container holding ``values`` one after the other along ``dim``."""
    if kind == ITEM:
        return list(values)
    if len(values) == 1:
        return values[0]
    if kind == "list":
        return [item for value in values for item in value]
    if kind == "ndarray":
        return sys.modules["numpy"].concatenate(values, axis=dim)
    if kind == "tensor":
        return sys.modules["torch"].cat(values, dim=dim)
    return sys.modules["pandas"].concat(values, axis=0)


def split(value: Any, sizes: list[int], dim: int) -> list[Any]:
    """Cut a batch output into one piece per call (``sizes``: each call's rows)."""
    if isinstance(value, tuple):  # several outputs: split each, regroup per call
        return [tuple(parts) for parts in zip(*(split(v, sizes, dim) for v in value), strict=True)]
    kind = kind_of(value)
    total = sum(sizes)
    if kind == ITEM:
        raise RunnerError(f"a batchable method returned {type(value).__name__}; expected a batch of {total}")
    got = len(value) if kind in ("list", "dataframe", "series") else value.shape[dim]
    if got != total:
        raise RunnerError(f"a batchable method returned {got} rows for a batch of {total}")
    if len(sizes) == 1:
        return [value]
    bounds = [0, *accumulate(sizes)]
    if kind == "tensor":
        return list(value.split(sizes, dim=dim))
    if kind == "ndarray":
        pieces: list[Any] = sys.modules["numpy"].split(value, bounds[1:-1], axis=dim)
        return pieces
    if kind == "list":
        return [value[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    return [value.iloc[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
