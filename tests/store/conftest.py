"""Store fixtures: models saved through ``ModelStore.create`` directly, with tiny payloads.

The framework modules are not needed here: a draft is filled with plain files, which is exactly
what a framework module does.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bentotui.store.models import Model, ModelStore

SaveFn = Callable[..., Model]


@pytest.fixture
def store() -> ModelStore:
    return ModelStore()


@pytest.fixture
def save(store: ModelStore) -> SaveFn:
    """``save(name, labels=None, payload=b"...", **create_kwargs) -> Model``."""

    def _save(
        name: str, labels: dict[str, str] | None = None, payload: bytes = b"weights", **kwargs
    ) -> Model:
        kwargs.setdefault("module", "bentotui.picklable_model")
        kwargs.setdefault("framework_version", "1.0")
        with store.create(name, labels=labels, **kwargs) as draft:
            (draft.path / "model.bin").write_bytes(payload)
            (draft.path / "extra").mkdir()
            (draft.path / "extra" / "notes.txt").write_text(f"notes for {name}")
        assert draft.model is not None
        return draft.model

    return _save
