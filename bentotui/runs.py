"""The registry of running servers: one JSON file per server under ``$BENTOTUI_HOME/runs/``.

A server started headless (``bentotui serve``) or from the TUI writes its entry as soon as its port
is bound and removes it on exit, so the CLI and the TUI find every server the same way.  A server
that was killed cannot remove its entry: readers check the pid *and* the process start time (pids
are reused) and sweep entries whose process is gone.

A server that has exited but whose parent has not waited for it is a zombie: it counts as gone
everywhere here.  The servers this process started (``start_run``, the TUI's way) are its children,
so it reaps them whenever it reads the registry; otherwise they would stay zombies until it exits.
Their exit status is kept (:func:`exit_codes`) so the TUI can tell a crash from a clean stop; for
a server started elsewhere the only sign is an entry left behind by a dead pid (:func:`scan_runs`).

This module is on the TUI's side of the layers: it must not import the server stack.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import subprocess
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psutil

from bentotui import paths
from bentotui._process import self_command
from bentotui.exceptions import BentotuiError, InvalidArgument, NotFound

STARTING, SERVING, STOPPING = "starting", "serving", "stopping"

# How far a live server's start time, read back by another process, may sit from the one it
# recorded.  On Linux psutil adds ``btime`` from /proc/stat, which the kernel recomputes on every
# read as wall clock minus uptime, in whole seconds: a clock slew between the two reads moves it by
# one (psutil issues #2526, #2541).  A strict 1 s slack then called a live server dead, and the
# sweep deleted its registry entry (a TUI test lost its server that way on CI).  Another process
# reusing the pid within seconds of the first one's start is the only thing a wider slack admits.
_CREATE_TIME_SLACK_S = 2.5

# The servers start_run spawned from this process, by pid (with their run id), until they are reaped.
_children: dict[int, tuple[str, subprocess.Popen[bytes]]] = {}
# Run id -> exit status (negative: killed by that signal) of the children reaped so far.
_exit_codes: dict[str, int] = {}


@dataclass
class RunInfo:
    """One running server, as recorded in its registry file."""

    id: str
    pid: int
    host: str
    port: int
    target: str
    log_path: str
    started_at: str
    working_dir: str
    state: str = STARTING
    create_time: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """Base URL of the server (IPv6 hosts bracketed; a wildcard bind reached on loopback)."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def path(self) -> Path:
        return paths.runs_dir() / f"{self.id}.json"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunInfo:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def new_run_id() -> str:
    """A short, sortable, unique id: start time plus random hex (prefixes are enough to name a run)."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def log_path_for(run_id: str) -> Path:
    return paths.logs_dir() / f"{run_id}.log"


def write_run(info: RunInfo) -> None:
    """Write (or replace) a registry entry atomically: readers never see half a file."""
    target = info.path
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(info.to_dict(), indent=2), encoding="utf-8")
    os.replace(tmp, target)


def remove_run(run_id: str) -> None:
    (paths.runs_dir() / f"{run_id}.json").unlink(missing_ok=True)


def process_create_time(pid: int) -> float:
    return psutil.Process(pid).create_time()


def is_alive(info: RunInfo) -> bool:
    """True when the recorded process still runs (same pid and same start time, not a zombie)."""
    try:
        proc = psutil.Process(info.pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        created = proc.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return not info.create_time or abs(created - info.create_time) < _CREATE_TIME_SLACK_S


def _read(path: Path) -> RunInfo | None:
    try:
        return RunInfo.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError):
        path.unlink(missing_ok=True)  # unreadable entries can only come from a foreign writer
        return None


def _reap(pid: int) -> bool:
    """Reap ``pid`` if it is an exited child of this process, keeping its exit status."""
    child = _children.get(pid)
    if child is None:
        return False
    run_id, proc = child
    code = proc.poll()
    if code is None:
        return False
    _children.pop(pid, None)
    _exit_codes[run_id] = code
    return True


def reap_children() -> None:
    """Collect the exit status of the servers this process started that have exited."""
    for pid in list(_children):
        _reap(pid)


def exit_codes() -> dict[str, int]:
    """Run id -> exit status of the servers this process started that have exited (a negative
    status is the signal that killed it, as :attr:`subprocess.Popen.returncode` has it)."""
    reap_children()
    return dict(_exit_codes)


def _exited(proc: psutil.Process) -> bool:
    """True once ``proc`` is gone or a zombie (a zombie child of this process is reaped)."""
    if _reap(proc.pid):
        return True
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_exited(proc: psutil.Process, timeout: float) -> bool:
    """Poll until ``proc`` has exited (zombies included: psutil.wait_procs counts them as alive)."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while not _exited(proc):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.1)
    return True


@dataclass
class Scan:
    """One read of the registry: the live servers, and the entries swept because their process
    was gone.  A server removes its own entry on any exit it lives through, so a swept entry
    means it did not stop cleanly (killed, or crashed past its cleanup)."""

    live: list[RunInfo]
    dead: list[RunInfo]


def scan_runs() -> Scan:
    """Every live server, oldest first, and the dead entries removed on the way."""
    reap_children()
    scan = Scan(live=[], dead=[])
    for path in sorted(paths.runs_dir().glob("*.json")):
        info = _read(path)
        if info is None:
            continue
        if is_alive(info):
            scan.live.append(info)
        else:
            path.unlink(missing_ok=True)
            scan.dead.append(info)
    return scan


def list_runs() -> list[RunInfo]:
    """Every live server, oldest first; entries of dead processes are removed on the way."""
    return scan_runs().live


def get_run(id_or_prefix: str) -> RunInfo:
    """The live run whose id is ``id_or_prefix`` or starts with it."""
    if not id_or_prefix:
        raise InvalidArgument("a run id is required")
    runs = list_runs()
    exact = [r for r in runs if r.id == id_or_prefix]
    matches = exact or [r for r in runs if r.id.startswith(id_or_prefix)]
    if not matches:
        raise NotFound(f"no running server with id {id_or_prefix!r} (see `bentotui runs list`)")
    if len(matches) > 1:
        ids = ", ".join(r.id for r in matches)
        raise InvalidArgument(f"run id prefix {id_or_prefix!r} is ambiguous: {ids}")
    return matches[0]


def find_run(id_or_prefix: str) -> RunInfo | None:
    """Like :func:`get_run`, but None when no live run matches (ambiguity is still an error)."""
    try:
        return get_run(id_or_prefix)
    except NotFound:
        return None


def find_log(id_or_prefix: str) -> Path:
    """The log file of a run, live or finished, by id or unique prefix."""
    if not id_or_prefix:
        raise InvalidArgument("a run id is required")
    matches = sorted(paths.logs_dir().glob(f"{glob.escape(id_or_prefix)}*.log"))
    if not matches:
        raise NotFound(f"no server run with id {id_or_prefix!r} (see `bentotui runs list`)")
    if len(matches) > 1:
        raise InvalidArgument(
            f"run id prefix {id_or_prefix!r} is ambiguous: {', '.join(m.stem for m in matches)}"
        )
    return matches[0]


def stop_run(id_or_prefix: str, timeout: float = 10.0) -> RunInfo:
    """SIGTERM the server, wait up to ``timeout`` for its graceful exit, then SIGKILL that pid only."""
    info = get_run(id_or_prefix)
    try:
        proc = psutil.Process(info.pid)
        proc.terminate()
        if not _wait_exited(proc, timeout):
            proc.kill()
            _wait_exited(proc, 5)
    except psutil.NoSuchProcess:
        pass
    remove_run(info.id)
    return info


def start_run(
    target: str | None,
    *,
    model: str | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
    working_dir: str | os.PathLike[str] | None = None,
    extra_args: tuple[str, ...] | list[str] = (),
    timeout: float = 60.0,
) -> RunInfo:
    """Start ``bentotui serve`` detached and return its registry entry once it is written.

    The server keeps running after the caller exits (own session, no inherited terminal).  Its
    stdout is dropped and its stderr appended to the run's log file, so a startup error is readable
    from there and is raised here as a :class:`BentotuiError` with the server's own message.
    """
    if (target is None) == (model is None):
        raise InvalidArgument("give either a serve target or a model tag, not both or neither")
    run_id = new_run_id()
    workdir = Path(working_dir or os.getcwd()).resolve()
    argv = [*self_command(), "serve"]
    if model is not None:
        argv += ["--model", model]
    else:
        assert target is not None  # exactly one of the two, checked above
        argv.append(target)
    argv += ["--port", str(port), "--host", host, "--working-dir", str(workdir), "--run-id", run_id]
    argv += list(extra_args)
    log_path = log_path_for(run_id)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            argv,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    entry = paths.runs_dir() / f"{run_id}.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = _read(entry)
        if info is not None:
            _children[proc.pid] = (run_id, proc)
            return info
        code = proc.poll()
        if code is not None:
            raise BentotuiError(_last_error_line(log_path) or f"server exited with code {code}")
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    raise BentotuiError(f"server did not start within {timeout:g}s (log: {log_path})")


def _last_error_line(log_path: Path) -> str:
    from bentotui.logs import tail_lines

    for line in reversed(tail_lines(log_path, 20)):
        line = line.strip()
        if line:
            return line.removeprefix("error: ")
    return ""


def wait_ready(run: RunInfo, timeout: float = 60.0) -> None:
    """Block until the server answers ``/readyz`` with 200; raise if it dies or the time runs out."""
    from bentotui.client import SyncClient

    deadline = time.monotonic() + timeout
    with SyncClient(run.url) as client:
        while time.monotonic() < deadline:
            if client.ready():
                return
            if not is_alive(run):
                raise BentotuiError(f"server {run.id} exited before it was ready (log: {run.log_path})")
            time.sleep(0.05)
    raise BentotuiError(f"server {run.id} not ready within {timeout:g}s")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
