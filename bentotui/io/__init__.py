"""IO descriptors: how an API turns an HTTP request into a Python value and back.

``bentotui.io.Text()``, ``JSON()``, ``NumpyNdarray()``, ``PandasDataFrame()``, ``PandasSeries()``, ``File()``,
``Image()`` and ``Multipart(**fields)`` mirror ``bentoml.io`` (so does ``SSE``, an event a streaming
API yields), each with ``from_sample(sample)``
where BentoML has it.  Importing this package is cheap: numpy, pandas, Pillow and
pydantic are imported by the descriptors that need them, when they need them.
"""

from __future__ import annotations

from bentotui.io.base import HTTPRequest, HTTPResponse, IODescriptor
from bentotui.io.dataframe import PandasDataFrame
from bentotui.io.files import File, FileObject, Image
from bentotui.io.jsonbody import JSON
from bentotui.io.multipart import Multipart
from bentotui.io.ndarray import NumpyNdarray
from bentotui.io.series import PandasSeries
from bentotui.io.sse import SSE
from bentotui.io.text import Text

__all__ = [
    "File",
    "FileObject",
    "HTTPRequest",
    "HTTPResponse",
    "IODescriptor",
    "Image",
    "JSON",
    "Multipart",
    "NumpyNdarray",
    "PandasDataFrame",
    "PandasSeries",
    "SSE",
    "Text",
]
