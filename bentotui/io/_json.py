"""JSON in and out of the serving path.

The stdlib ``json`` (C accelerated) is fast enough for one-row requests and adds no dependency.
Encoding knows the values model code returns (numpy arrays and scalars, pandas objects, pydantic
models, dataclasses, dates) without importing numpy or pandas itself: it duck-types on
``tolist``/``to_dict`` so that a JSON API whose function returns plain lists never loads them.

Non-finite floats: JSON has no NaN or Infinity, and a body holding them (Python's default) is
refused by strict parsers (JavaScript's ``JSON.parse``, Go, most OpenAPI tools).  A result's NaN,
Infinity and -Infinity are written as ``null``: what JavaScript's ``JSON.stringify``, pandas'
``to_json`` (so ``PandasDataFrame``/``PandasSeries`` outputs) and pydantic's ``model_dump_json``
(so ``JSON(pydantic_model=...)`` outputs) already write, so ``JSON`` and ``NumpyNdarray`` outputs
agree with them.  A model that produces NaN is often answering "no value" (a missing feature, an
undefined score), which ``null`` says; failing the whole request would hide the finite values.
Only a result that holds one pays for it: the encoder refuses non-finite floats, and that result
alone is walked again with them replaced.

Charsets: JSON is UTF-8 (RFC 8259; ``json.loads`` also detects UTF-16/32 by itself).  A request
that declares another charset is decoded with it (:func:`bentotui.io.text.decode_charset`), and
a charset that is not one is a 415 naming it.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import sys
from typing import Any

from bentotui.exceptions import BadInput
from bentotui.io.base import content_type_param
from bentotui.io.text import decode_charset

_UTF8 = frozenset({"utf-8", "utf8"})


def decode(body: bytes, content_type: str = "") -> Any:
    """Parse a request body; a 400 that says where the JSON broke (and what was sent instead)."""
    if not body:
        raise BadInput("request body is empty; expected JSON")
    try:
        return json.loads(text_of(body, content_type))
    except RecursionError:
        raise BadInput("request body is not valid JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        sent = f" (content type {content_type!r})" if content_type and "json" not in content_type else ""
        raise BadInput(f"request body is not valid JSON{sent}: {exc}") from None


def text_of(body: bytes, content_type: str) -> bytes | str:
    """The body as a JSON parser should read it: as sent, unless it declares a non-UTF-8 charset.

    The ``";"`` test keeps the common case (no parameters) to one substring check.
    """
    if ";" not in content_type:
        return body
    charset = content_type_param(content_type, "charset")
    if charset is None or charset.lower() in _UTF8:
        return body
    return decode_charset(body, charset)


def encode(value: Any) -> bytes:
    """Serialise an API result to compact UTF-8 JSON; non-finite floats become ``null``."""
    try:
        return _encoder.encode(value).encode()
    except ValueError as exc:
        if not str(exc).startswith("Out of range float values"):  # e.g. a circular reference
            raise
    return _encoder.encode(_finite(value)).encode()


def _finite(o: Any) -> Any:
    """``o`` as JSON-native values with NaN and the infinities replaced by None (keys too)."""
    if isinstance(o, float):  # numpy.float64 included
        return o if math.isfinite(o) else None
    if isinstance(o, str | int) or o is None:  # bool is an int
        return o
    if isinstance(o, dict):
        return {_finite(k): _finite(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_finite(v) for v in o]
    return _finite(to_jsonable(o))


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


_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=to_jsonable)
