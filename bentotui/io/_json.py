"""JSON in and out of the serving path.

The stdlib ``json`` (C accelerated) is fast enough for one-row requests and adds no dependency.
Encoding knows the values model code returns (numpy arrays and scalars, pandas objects, pydantic
models, dataclasses, dates) without importing numpy or pandas itself: it duck-types on
``tolist``/``to_dict`` so that a JSON API whose function returns plain lists never loads them.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import sys
from typing import Any

from bentotui.exceptions import BadInput


def decode(body: bytes, content_type: str = "") -> Any:
    """Parse a request body; a 400 that says where the JSON broke (and what was sent instead)."""
    if not body:
        raise BadInput("request body is empty; expected JSON")
    try:
        return json.loads(body)
    except RecursionError:
        raise BadInput("request body is not valid JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        sent = f" (content type {content_type!r})" if content_type and "json" not in content_type else ""
        raise BadInput(f"request body is not valid JSON{sent}: {exc}") from None


def encode(value: Any) -> bytes:
    """Serialise an API result to compact UTF-8 JSON."""
    return _encoder.encode(value).encode()


def to_jsonable(o: Any) -> Any:
    """The JSON-native stand-in for one value ``json`` cannot encode (it recurses on the result)."""
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(o, pandas.DataFrame):
        return json.loads(o.to_json(orient="records", date_format="iso"))
    if hasattr(o, "model_dump"):  # pydantic v2
        return o.model_dump(mode="json")
    if hasattr(o, "tolist"):  # numpy arrays and scalars, pandas Series/Index, torch tensors
        return o.tolist()
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if isinstance(o, (datetime.datetime, datetime.date, datetime.time)):
        return o.isoformat()
    if isinstance(o, (set, frozenset)):
        return list(o)
    raise TypeError(f"cannot encode a {type(o).__module__}.{type(o).__qualname__} as JSON")


_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=to_jsonable)
