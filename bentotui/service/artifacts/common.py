"""BentoML 0.x's ``bentoml.service.artifacts.common``: the artifacts that hold plain Python data.

0.x examples import ``PickleArtifact`` from here (``from bentoml.service.artifacts.common import
PickleArtifact``), so the module keeps that path; the text and JSON variants are pickled like any
other object but refuse at ``pack`` what 0.x could not have written to its text or JSON file.
"""

from __future__ import annotations

import json
from typing import Any

from bentotui.exceptions import InvalidArgument
from bentotui.service.artifacts import PickleArtifact

__all__ = ["JSONArtifact", "PickleArtifact", "TextFileArtifact"]


class TextFileArtifact(PickleArtifact):
    """A string (a vocabulary, a prompt template)."""

    def check(self, obj: Any) -> None:
        if not isinstance(obj, str):
            raise InvalidArgument(f"artifact {self.name!r} expects a str, got {type(obj).__name__}")


class JSONArtifact(PickleArtifact):
    """A JSON-serializable value (a dict of labels, a config)."""

    def check(self, obj: Any) -> None:
        try:
            json.dumps(obj)
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(f"artifact {self.name!r} expects a JSON-serializable value: {exc}") from None
