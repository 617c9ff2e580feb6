"""What the runs registry tells the Servers area about a death: the exit status of the servers this
process started, and the entries a dead pid left behind (real ``bentotui serve`` processes)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from bentotui import runs
from tests.tui.test_server_flows import CRASHY_SERVICE, ECHO_SERVICE


def exit_code(run_id: str, timeout: float = 60.0) -> int:
    """The exit status of a server this process started, once it has exited (bounded poll)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (code := runs.exit_codes().get(run_id)) is not None:
            return code
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not exit within {timeout}s")


def test_exit_status_of_a_started_server_is_kept(tmp_path: Path):
    """Before, reaping dropped the status, so a startup crash (exit 2) looked like a clean stop."""
    (tmp_path / "service.py").write_text(CRASHY_SERVICE)
    info = runs.start_run("service:svc", working_dir=tmp_path, timeout=30)  # it registered: 'started'
    assert exit_code(info.id) == 2
    assert runs.list_runs() == []


def test_a_killed_server_leaves_its_entry_and_its_signal(tmp_path: Path):
    (tmp_path / "service.py").write_text(ECHO_SERVICE)
    info = runs.start_run("service:svc", working_dir=tmp_path, timeout=30)
    psutil.Process(info.pid).kill()
    assert exit_code(info.id) == -signal.SIGKILL
    scan = runs.scan_runs()
    assert scan.live == [] and [r.id for r in scan.dead] == [info.id]  # it could not remove its entry
    assert runs.scan_runs().dead == []  # swept once


def test_entry_of_a_foreign_dead_pid_is_reported_as_dead():
    """A server started elsewhere: no exit status here, only the entry it left behind."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    create_time = runs.process_create_time(proc.pid)
    proc.wait()
    runs.write_run(
        runs.RunInfo(
            id="gone",
            pid=proc.pid,
            host="127.0.0.1",
            port=1234,
            target="service:svc",
            log_path="/nonexistent.log",
            started_at=runs.now_iso(),
            working_dir="/tmp",
            create_time=create_time,
        )
    )
    scan = runs.scan_runs()
    assert scan.live == [] and [r.id for r in scan.dead] == ["gone"]
    assert "gone" not in runs.exit_codes()
