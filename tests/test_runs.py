"""The runs registry: atomic entries, liveness by pid + start time, sweeping, prefixes, stopping."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import psutil
import pytest

from bentotui import paths, runs
from bentotui.exceptions import BentotuiError, InvalidArgument, NotFound


def _entry(run_id: str, pid: int, create_time: float | None = None) -> runs.RunInfo:
    info = runs.RunInfo(
        id=run_id,
        pid=pid,
        host="127.0.0.1",
        port=1234,
        target="service:svc",
        log_path="/nonexistent.log",
        started_at=runs.now_iso(),
        working_dir="/tmp",
        create_time=runs.process_create_time(pid) if create_time is None else create_time,
    )
    runs.write_run(info)
    return info


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_live_entry_listed_and_found_by_prefix():
    info = _entry("20260101-000000-abcdef", os.getpid())
    listed = runs.list_runs()
    assert [r.id for r in listed] == [info.id]
    assert listed[0].url == "http://127.0.0.1:1234"
    assert runs.get_run("20260101-000000-ab").pid == os.getpid()
    assert not list(paths.runs_dir().glob(".*.tmp"))  # atomic write leaves no temp file


def test_dead_pid_entry_is_swept():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    create_time = runs.process_create_time(proc.pid)
    proc.wait()
    _entry("dead-run", proc.pid, create_time=create_time)
    assert runs.list_runs() == []
    assert not (paths.runs_dir() / "dead-run.json").exists()


def test_reused_pid_is_not_alive():
    """Same pid but another start time: a different process, so the entry is stale."""
    _entry("reused", os.getpid(), create_time=runs.process_create_time(os.getpid()) - 3600)
    assert runs.list_runs() == []


@pytest.mark.parametrize("step", [-1.0, 1.0])
def test_a_boot_time_step_does_not_make_a_live_server_dead(step):
    """psutil adds /proc/stat's ``btime``, which the kernel recomputes on every read in whole
    seconds: a server's recorded start and another process's reading can sit one second apart.
    The old 1 s slack called that server dead and deleted its entry."""
    info = _entry("stepped", os.getpid(), create_time=runs.process_create_time(os.getpid()) + step)
    assert [r.id for r in runs.list_runs()] == [info.id]
    assert (paths.runs_dir() / "stepped.json").exists()


def test_corrupt_entry_is_swept():
    (paths.runs_dir() / "broken.json").write_text("{not json")
    assert runs.list_runs() == []
    assert not (paths.runs_dir() / "broken.json").exists()


def test_get_run_errors():
    _entry("abc-1", os.getpid())
    _entry("abc-2", os.getpid())
    with pytest.raises(NotFound, match="no running server"):
        runs.get_run("zzz")
    with pytest.raises(InvalidArgument, match="ambiguous"):
        runs.get_run("abc")
    with pytest.raises(InvalidArgument):
        runs.get_run("")


def test_stop_run_terminates_only_that_pid():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _entry("sleeper", proc.pid)
        runs.stop_run("sleeper", timeout=5)
        proc.wait(timeout=5)  # already reaped by stop_run (our child): only check that it is gone
        assert not _running(proc.pid)
        assert runs.list_runs() == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_stop_run_kills_after_timeout():
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        proc.stdout.readline()
        _entry("stubborn", proc.pid)
        started = time.monotonic()
        runs.stop_run("stubborn", timeout=0.5)
        proc.wait(timeout=5)
        assert not _running(proc.pid)
        assert time.monotonic() - started < 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_stop_run_takes_a_zombie_whose_parent_does_not_reap_it_for_stopped(monkeypatch):
    """The TUI's case seen from another process: the server exits on SIGTERM at once but stays a
    zombie child of the TUI; stopping must neither wait out the timeout nor send SIGKILL."""
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"  # never waits for the child
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        _entry("zombie", child)
        killed: list[int] = []
        monkeypatch.setattr(psutil.Process, "kill", lambda self: killed.append(self.pid))
        runs.stop_run("zombie", timeout=120)  # the test's own timeout (300 s) is the bound
        assert psutil.Process(child).status() == psutil.STATUS_ZOMBIE  # the case under test
        assert killed == []
        assert runs.list_runs() == []
    finally:
        parent.kill()
        parent.wait()


def test_start_run_reports_startup_error(tmp_path):
    (tmp_path / "service.py").write_text("raise RuntimeError('boom at import')\n")
    with pytest.raises(BentotuiError, match="boom at import"):
        runs.start_run("service:svc", working_dir=tmp_path, timeout=30)
    assert runs.list_runs() == []


def test_start_run_needs_exactly_one_of_target_and_model():
    with pytest.raises(InvalidArgument):
        runs.start_run(None)
    with pytest.raises(InvalidArgument):
        runs.start_run("a:b", model="iris:latest")


def test_entry_round_trips_unknown_keys():
    info = _entry("keys", os.getpid())
    data = json.loads(info.path.read_text())
    data["future_field"] = 1
    info.path.write_text(json.dumps(data))
    assert runs.get_run("keys").target == "service:svc"
