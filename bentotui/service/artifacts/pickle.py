"""BentoML 0.x's ``bentoml.service.artifacts.pickle`` path of :class:`PickleArtifact`."""

from bentotui.service.artifacts import PickleArtifact

__all__ = ["PickleArtifact"]
