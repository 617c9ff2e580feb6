"""The Models view model without Textual: what a bento row shows, who still uses a model, and
the store stamp that tells the screen's timer whether to reload."""

from __future__ import annotations

from pathlib import Path

import bentotui
from bentotui import paths
from bentotui.tui.store_view import detail_text, in_use, matches, model_row, refers_to, store_stamp
from tests.tui import snapshot_data as data

NEWEST_IRIS = "iris-classifier:20261101-120000-a1b2c3"
OLDER_IRIS = "iris-classifier:20261031-090000-d4e5f6"
BENTO = "iris_service:20261101-121500-abcdef"


def row(tag: str, kind: str = "model"):
    return next(r for r in data.store_rows() if r.tag == tag and r.kind == kind)


def test_a_bento_row_has_no_framework_and_its_detail_names_the_service():
    """Before: the service (``service:svc``) sat in the framework column, labelled "framework"."""
    bento = row(BENTO, "bento")
    assert bento.cells()[3] == ""
    text = detail_text(bento)
    assert "framework" not in text and "service    service:svc" in text
    assert matches(bento, "service:svc")  # still found by its service


def test_the_cli_and_the_tui_print_the_same_size(iris_model):
    """Before: ``bentotui models list`` printed decimal kB where the TUI shows KiB."""
    from tests.cli.test_models_cli import bentotui as cli

    shown = model_row(iris_model).cells()[5]
    assert shown.endswith(("B", "KiB")) and shown in cli("models", "list").stdout


def test_references_resolve_latest_to_the_newest_version():
    rows = data.store_rows()
    newest, older = row(NEWEST_IRIS), row(OLDER_IRIS)
    assert refers_to("iris-classifier:latest", newest, rows)
    assert refers_to("iris-classifier", newest, rows)
    assert not refers_to("iris-classifier:latest", older, rows)
    assert refers_to(OLDER_IRIS, older, rows)
    assert not refers_to("text-classifier:latest", newest, rows)


def test_in_use_counts_the_bentos_and_the_servers_that_need_a_model():
    """Before: nothing in the delete dialog said a model was packed or served."""
    rows = data.store_rows()
    servers = [
        (None, "iris-classifier:latest"),  # serves the newest iris
        (BENTO, None),  # serves the bento that packs it
        ("service:svc", None),  # a service file: needs no stored bento
        (None, "text-classifier:latest"),
    ]
    assert in_use(row(NEWEST_IRIS), rows, servers) == f"used by bento {BENTO} and 2 running servers"
    assert in_use(row(OLDER_IRIS), rows, servers) == ""
    assert in_use(row(OLDER_IRIS), rows, [(None, OLDER_IRIS)]) == "used by 1 running server"
    assert in_use(row(BENTO, "bento"), rows, servers) == "used by 1 running server"


def test_the_store_stamp_changes_only_when_the_store_does(iris_lr):
    """Before: no stamp, so the only ways to see a change were ctrl+r or a full reload each tick."""
    roots = [paths.models_dir(), paths.bentos_dir()]
    empty = store_stamp(roots)
    assert store_stamp(roots) == empty
    model = bentotui.sklearn.save_model("iris", iris_lr)
    saved = store_stamp(roots)
    assert saved != empty and store_stamp(roots) == saved
    bentotui.models.delete(str(model.tag))
    assert store_stamp(roots) != saved


def test_the_store_stamp_of_a_missing_folder_is_empty(tmp_path: Path):
    assert store_stamp([tmp_path / "nowhere"]) == ()
