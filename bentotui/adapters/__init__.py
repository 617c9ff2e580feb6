"""BentoML 0.x adapters (``from bentotui.adapters import DataframeInput``) as thin wrappers over :mod:`bentotui.io`.

An adapter is what a 0.x ``@api(input=..., output=...)`` names; the request decoding itself is the
1.x IO descriptor it wraps (``adapter.descriptor``), so both front-ends share one implementation
of every body format.  ``BATCH_BY_ROWS`` tells a ``batch=True`` API how requests merge: a
DataFrame's rows are concatenated (the method sees one DataFrame), every other input is one item
of a list (the method sees a list and returns one result per item).
"""

from bentotui.adapters.inputs import (
    BaseInputAdapter,
    DataframeInput,
    FileInput,
    ImageInput,
    JsonInput,
    StringInput,
)
from bentotui.adapters.outputs import BaseOutputAdapter, DataframeOutput, JsonOutput

__all__ = [
    "BaseInputAdapter",
    "BaseOutputAdapter",
    "DataframeInput",
    "DataframeOutput",
    "FileInput",
    "ImageInput",
    "JsonInput",
    "JsonOutput",
    "StringInput",
]
