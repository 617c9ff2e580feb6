"""Concurrent savers in separate processes: every save lands, none is lost or half-written."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

from bentotui.store.models import ModelStore

SAVER = textwrap.dedent(
    """
    import sys, time
    from bentotui.store.models import ModelStore

    worker, start_at = int(sys.argv[1]), float(sys.argv[2])
    store = ModelStore()
    time.sleep(max(0.0, start_at - time.time()))  # all four start saving at the same moment
    for i in range(5):
        with store.create("shared", module="bentotui.picklable_model", framework_version="1",
                          labels={"worker": str(worker)}, custom_objects={"who": (worker, i)}) as draft:
            (draft.path / "model.bin").write_bytes(f"{worker}-{i}".encode() * 1000)
    """
)


def test_four_processes_saving_the_same_name_five_times_leave_twenty_versions() -> None:
    start_at = time.time() + 2.0  # enough for four interpreters to start on two cores
    procs = [
        subprocess.Popen([sys.executable, "-c", SAVER, str(worker), str(start_at)], env=os.environ.copy())
        for worker in range(4)
    ]
    for proc in procs:
        assert proc.wait(timeout=60) == 0
    store = ModelStore()
    found, problems = store.scan("shared")
    assert problems == []
    assert len(found) == 20
    assert len({m.tag.version for m in found}) == 20
    versions = [m.tag.version for m in found]
    assert versions == sorted(versions, reverse=True)  # newest first == version order
    payloads = set()
    for model in found:
        verified = store.verify(model.tag)  # every file present with its recorded sha256
        worker, i = verified.custom_objects["who"]
        assert verified.info.labels == {"worker": str(worker)}
        assert (model.path / "model.bin").read_bytes() == f"{worker}-{i}".encode() * 1000
        payloads.add((worker, i))
    assert payloads == {(w, i) for w in range(4) for i in range(5)}
    assert not [p for p in store.items.root.iterdir() if p.name.startswith(".tmp-")]
