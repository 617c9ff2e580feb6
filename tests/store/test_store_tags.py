"""Tags and generated versions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bentotui.exceptions import InvalidArgument
from bentotui.store import versions
from bentotui.store.tags import Tag


@pytest.mark.parametrize(
    ("text", "name", "version", "shown"),
    [
        ("iris", "iris", None, "iris:latest"),
        ("iris:latest", "iris", None, "iris:latest"),
        ("iris:1j19oq5ugqiamucf", "iris", "1j19oq5ugqiamucf", "iris:1j19oq5ugqiamucf"),
        ("my-model_2.v1:1.0.0-rc_1", "my-model_2.v1", "1.0.0-rc_1", "my-model_2.v1:1.0.0-rc_1"),
        ("9lives", "9lives", None, "9lives:latest"),
        ("a" * 63 + ":" + "b" * 63, "a" * 63, "b" * 63, "a" * 63 + ":" + "b" * 63),
    ],
)
def test_valid_tags(text: str, name: str, version: str | None, shown: str) -> None:
    tag = Tag.parse(text)
    assert (tag.name, tag.version) == (name, version)
    assert tag.is_latest is (version is None)
    assert str(tag) == shown
    assert Tag.parse(str(tag)) == tag
    assert Tag.parse(tag) is tag


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "invalid name ''"),
        ("Iris", "use lower case"),
        ("iris:V1", "invalid version 'V1'"),
        ("-iris", "starting with a letter or digit"),
        ("ir is", "invalid name 'ir is'"),
        ("iris/../x", "invalid name"),
        ("a" * 64, "longer than 63"),
        ("iris:" + "1" * 64, "invalid version"),
        ("iris:", "empty version"),
        ("a:b:c", "more than one ':'"),
        (":v1", "invalid name ''"),
    ],
)
def test_invalid_tags_name_the_bad_part(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(")):
        Tag.parse(text)


def test_non_string_tag_is_rejected() -> None:
    with pytest.raises(InvalidArgument, match="expected a string"):
        Tag.parse(42)  # type: ignore[arg-type]


def test_versions_are_unique_lowercase_and_sorted_by_creation() -> None:
    made = [versions.new_version() for _ in range(5000)]
    assert len(set(made)) == len(made)
    assert made == sorted(made)
    assert all(v == v.lower() and len(v) == versions.LENGTH for v in made)
    assert all(Tag("x", v).version == v for v in made[:50])


def test_version_time_decodes_creation_time() -> None:
    before = datetime.now(timezone.utc)
    when = versions.version_time(versions.new_version())
    assert when is not None
    assert before - timedelta(seconds=1) <= when <= datetime.now(timezone.utc) + timedelta(seconds=1)
    assert versions.version_time("1.0.0") is None
