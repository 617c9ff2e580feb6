"""Runner workers forked from a process that has imported their model libraries once.

A worker started as a new interpreter spends ~2 s importing scikit-learn (SciPy and pandas come
with it) before it loads its model, and keeps ~110 MB of module data of its own.  A server with ten
models pays that ten times, side by side on the same cores, and a crashed worker is back only
after the whole import again.  A fork server pays it once: ``bentotui _forkserver --preload MOD``
imports the libraries, freezes the garbage collector's view of them (``gc.freeze``, so that no
collection writes to their pages), and forks each worker from there.  The workers then share those
pages copy-on-write and start in the time their model takes to load.

Which libraries: :data:`~bentotui.frameworks.registry.FrameworkInfo.preload` of the frameworks of
the runners' models (:func:`preload_modules`).  Nothing of the user's is imported before the fork.

The pool's side is :class:`ForkServer`; a worker it forks is a :class:`ForkedProcess`, which the pool
handles as it does an ``asyncio.subprocess.Process`` (``pid``, ``returncode``, ``stdout``,
``terminate``, ``kill``, ``wait``).  The two talk over a ``SOCK_SEQPACKET`` socket pair, the fork
server's stdin, one JSON message per packet:

- pool -> server: ``{"id": N, "prefix": [...], "argv": [...], "env": {...}}`` with the worker's stdin and stdout
  (pipes the pool holds) passed as descriptors: the worker sees what a spawned one sees, so its
  handshake line and its exit when the server dies (``--exit-with-parent``) work unchanged;
- server -> pool: ``{"ready": [...], "failed": {...}}`` once the imports are done;
  ``{"id": N, "pid": P}`` with a pidfd of the new worker (opened by its parent before any reaping,
  so a signal sent through it cannot reach a reused pid), or ``{"id": N, "error": "..."}``; and
  ``{"exited": P, "code": C}`` when a worker has been reaped.

In the child, before the worker's ``main``: the environment the pool computed for that worker
replaces the fork server's, thread pools that were sized at import are resized to it
(``threadpoolctl``, ``torch.set_num_threads``), and NumPy's global random state is reseeded (a
forked child would otherwise repeat its siblings' numbers; ``random`` reseeds itself).

The fork server exits when its stdin reaches end of file, i.e. when the pool closes it or its
server process dies; the workers it forked have their own pipes to the server and exit with it.

``BENTOTUI_WORKER_START`` chooses: ``forkserver``, ``spawn`` (a new interpreter per worker, as
before), or ``auto`` (the default: the fork server when a pool starts two or more workers that
run in this interpreter, where it saves time and memory; a lone worker is spawned, since the fork
server would be one more process to keep).  Linux only (``os.pidfd_open``); elsewhere ``spawn``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib
import json
import logging
import os
import selectors
import signal
import socket
import sys
import traceback
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

log = logging.getLogger("bentotui.forkserver")

START_ENV = "BENTOTUI_WORKER_START"
_MODES = ("auto", "forkserver", "spawn")
_MAX_MESSAGE = 1 << 20  # a worker's argv carries its spec; environments are a few KB
#: thread-pool sizes the pool sets per worker (pool.THREAD_VARS): applied after the fork
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def supported() -> bool:
    """Whether this platform can run a fork server (Linux: fork plus pidfds)."""
    return sys.platform.startswith("linux") and hasattr(os, "pidfd_open")


def start_mode(environ: Mapping[str, str] = os.environ) -> str:
    """``BENTOTUI_WORKER_START`` checked (``auto`` when unset); ``spawn`` where unsupported."""
    from bentotui.exceptions import InvalidArgument

    mode = environ.get(START_ENV, "auto").strip().lower() or "auto"
    if mode not in _MODES:
        raise InvalidArgument(f"{START_ENV} must be one of {', '.join(_MODES)}, got {mode!r}")
    return mode if supported() else "spawn"


def preload_modules(models: Iterable[Any]) -> list[str]:
    """What a fork server imports for workers of ``models``: their frameworks' ``preload``, in
    order, without repeats (a model without store info, e.g. a tag string, adds nothing; a 1.2
    class's ``BentoModel`` reference is looked up in the store)."""
    from bentotui.frameworks.registry import framework

    modules: dict[str, None] = {"bentotui.runner.worker": None}
    for model in models:
        with contextlib.suppress(Exception):  # a missing model or framework fails in the worker
            stored = model.resolve() if hasattr(model, "resolve") else model  # a 1.2 BentoModel
            modules.update(dict.fromkeys(framework(stored.info.module).preload))
    return list(modules)


# -- the pool's side ----------------------------------------------------------------------------
class ForkServerGone(ConnectionError):
    """The fork server is not running (it died, or never started)."""


class ForkedProcess:
    """A worker forked by the fork server, with the part of ``asyncio.subprocess.Process`` that
    the pool uses."""

    def __init__(self, pid: int, pidfd: int, stdin_fd: int, stdout: asyncio.StreamReader) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.stdout = stdout
        self._pidfd = pidfd
        self._stdin_fd = stdin_fd  # held open, never written: its end of file tells the worker to go
        self._exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def send_signal(self, sig: int) -> None:
        if self.returncode is not None:
            raise ProcessLookupError(self.pid)
        signal.pidfd_send_signal(self._pidfd, sig)

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)

    def _set_exited(self, code: int) -> None:
        """Reaped (``code`` from its parent, or -1 if the fork server died before telling)."""
        if self.returncode is not None:
            return
        self.returncode = code
        for fd in (self._pidfd, self._stdin_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        if not self._exited.done():
            self._exited.set_result(code)

    def _watch_orphaned(self) -> None:
        """The fork server is gone, so nobody reports this worker's exit: learn it from the pidfd."""
        loop = self._exited.get_loop()

        def readable() -> None:
            loop.remove_reader(self._pidfd)
            self._set_exited(-1)

        loop.add_reader(self._pidfd, readable)


class ForkServer:
    """The pool's handle on one fork server process (see the module docstring)."""

    def __init__(self, proc: asyncio.subprocess.Process, sock: socket.socket, prefix: Sequence[str]) -> None:
        self.proc = proc
        #: how the fork server was started; a worker's ``ps`` line is this plus ``_worker ARGS``
        self.prefix = list(prefix)
        self._sock = sock
        self._loop = asyncio.get_running_loop()
        self._next_id = 0
        #: each fork() waiting for its reply: the future, and the pipe ends the pool keeps
        self._pending: dict[int, tuple[asyncio.Future[ForkedProcess], int, int]] = {}
        self._ready: asyncio.Future[dict[str, Any]] = self._loop.create_future()
        self._children: dict[int, ForkedProcess] = {}
        self.alive = True
        self._loop.add_reader(sock.fileno(), self._readable)

    @classmethod
    async def start(
        cls, prefix: Sequence[str], preload: Sequence[str], env: Mapping[str, str], timeout_s: float
    ) -> ForkServer:
        """Launch ``prefix + ["_forkserver", ...]`` and wait until its imports are done."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            command = [*prefix, "_forkserver", *(arg for module in preload for arg in ("--preload", module))]
            proc = await asyncio.create_subprocess_exec(
                *command, stdin=theirs.fileno(), stdout=asyncio.subprocess.DEVNULL, env=dict(env)
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.setblocking(False)
        server = cls(proc, ours, prefix)
        try:
            hello = await asyncio.wait_for(asyncio.shield(server._ready), timeout_s)
        except BaseException:
            await server.close()
            raise
        for module, error in hello.get("failed", {}).items():
            log.warning("fork server: cannot preload %s (%s); its workers import it themselves", module, error)
        log.info("fork server up (pid %d), preloaded %s", proc.pid, ", ".join(hello.get("ready", [])) or "nothing")
        return server

    async def fork(self, argv: Sequence[str], env: Mapping[str, str]) -> ForkedProcess:
        """Fork a worker running ``bentotui _worker ARGV`` with environment ``env``."""
        if not self.alive:
            raise ForkServerGone("the fork server is not running")
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        self._next_id += 1
        msg_id = self._next_id
        reply: asyncio.Future[ForkedProcess] = self._loop.create_future()
        try:
            message = json.dumps({"id": msg_id, "prefix": self.prefix, "argv": list(argv), "env": dict(env)}).encode()
            socket.send_fds(self._sock, [message], [stdin_r, stdout_w])
        except OSError as exc:
            for fd in (stdin_w, stdout_r):
                os.close(fd)
            raise ForkServerGone(f"the fork server is not running: {exc}") from None
        finally:
            os.close(stdin_r)  # the fork server has its own copies now
            os.close(stdout_w)
        self._pending[msg_id] = (reply, stdin_w, stdout_r)
        try:
            child = await reply  # cancelled before the reply: _forked closes the child's pipes
        except asyncio.CancelledError:
            if reply.done() and not reply.cancelled() and reply.exception() is None:  # forked, caller gone
                os.close(stdout_r)
                with contextlib.suppress(ProcessLookupError):
                    reply.result().kill()
            raise
        await self._loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(child.stdout), os.fdopen(stdout_r, "rb", buffering=0)
        )
        return child

    def _readable(self) -> None:
        try:
            data, fds, _flags, _addr = socket.recv_fds(self._sock, _MAX_MESSAGE, 1)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, fds = b"", []
        if not data:
            self._lost()
            return
        message = json.loads(data)
        if "exited" in message:
            child = self._children.pop(int(message["exited"]), None)
            if child is not None:
                child._set_exited(int(message["code"]))
        elif "ready" in message:
            if not self._ready.done():
                self._ready.set_result(message)
        else:
            self._forked(message, fds)

    def _forked(self, message: dict[str, Any], fds: list[int]) -> None:
        """A reply to :meth:`fork`; the child is taken in here, before any exit of it can be read."""
        reply, stdin_w, stdout_r = self._pending.pop(int(message["id"]))
        if "error" in message or reply.done():  # could not fork, or nobody waits any more
            for fd in (stdin_w, stdout_r, *fds):
                os.close(fd)  # a child forked anyway sees end of file on its stdin and exits
            if not reply.done():
                reply.set_exception(ForkServerGone(f"the fork server could not fork: {message['error']}"))
            return
        child = self._children[int(message["pid"])] = ForkedProcess(
            int(message["pid"]), fds[0], stdin_w, asyncio.StreamReader()
        )
        reply.set_result(child)

    def _lost(self) -> None:
        """End of file: the fork server is gone.  Waiting calls fail; forked workers live on."""
        if not self.alive:
            return
        self.alive = False
        self._loop.remove_reader(self._sock.fileno())
        self._sock.close()
        gone = ForkServerGone("the fork server exited")
        if not self._ready.done():
            self._ready.set_exception(gone)
        for reply, stdin_w, stdout_r in self._pending.values():
            os.close(stdin_w)
            os.close(stdout_r)
            if not reply.done():
                reply.set_exception(gone)
        self._pending.clear()
        for child in self._children.values():
            child._watch_orphaned()
        self._children.clear()

    async def close(self) -> None:
        """Stop the fork server (its end of file) and reap it; the workers it forked are the pool's
        to stop."""
        self._lost()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.proc.wait(), 5.0)
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        await self.proc.wait()


# -- the fork server process --------------------------------------------------------------------
def main(argv: list[str]) -> int:
    """Entry point of ``bentotui _forkserver``: preload, then fork workers on request."""
    parser = argparse.ArgumentParser(prog="bentotui _forkserver")
    parser.add_argument("--preload", action="append", default=[])
    args = parser.parse_args(argv)
    os.dup2(2, 1)  # what a preloaded library prints goes to the log
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the server stops its workers in order
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"%(asctime)s forkserver[{os.getpid()}] %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    control = socket.socket(fileno=os.dup(0))
    os.close(0)
    ready, failed = [], {}
    for module in args.preload:
        try:
            importlib.import_module(module)
            ready.append(module)
        except Exception as exc:  # the worker then imports it itself and reports the error
            failed[module] = f"{type(exc).__name__}: {exc}"
    gc.collect()
    gc.freeze()  # what is imported now stays shared with the workers: no collection touches it
    _send(control, {"ready": ready, "failed": failed})
    return _serve(control)


def _send(control: socket.socket, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
    socket.send_fds(control, [json.dumps(message).encode()], list(fds))


def _serve(control: socket.socket) -> int:
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so that the wakeup fd hears it
    with selectors.DefaultSelector() as selector:
        selector.register(control, selectors.EVENT_READ)
        selector.register(wake_r, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select():
                if key.fileobj == wake_r:
                    os.read(wake_r, 4096)
                    _reap(control)
                    continue
                try:
                    data, fds, _flags, _addr = socket.recv_fds(control, _MAX_MESSAGE, 2)
                except InterruptedError:
                    continue
                if not data:
                    return 0  # the pool closed its end, or the server is gone
                request = json.loads(data)
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    _child(control, (wake_r, wake_w), request, fds)  # never returns
                for fd in fds:
                    os.close(fd)
                try:
                    pidfd = os.pidfd_open(pid)
                except OSError as exc:
                    _send(control, {"id": request["id"], "error": str(exc)})
                    continue
                _send(control, {"id": request["id"], "pid": pid}, [pidfd])
                os.close(pidfd)


def _reap(control: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        with contextlib.suppress(OSError):
            _send(control, {"exited": pid, "code": os.waitstatus_to_exitcode(status)})


def _child(control: socket.socket, wake: tuple[int, int], request: dict[str, Any], fds: list[int]) -> None:
    """The forked worker: its pipes as stdin and stdout, its environment, then ``worker.main``."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        control.close()
        for fd in wake:
            os.close(fd)
        os.dup2(fds[0], 0)
        os.dup2(fds[1], 1)
        for fd in fds:
            os.close(fd)
        sys.argv = [*request["prefix"], "_worker", *request["argv"]]
        _set_title(sys.argv)
        _adopt_environment(request["env"])
        from bentotui.runner.worker import main as worker_main

        code = worker_main(request["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _set_title(argv: Sequence[str]) -> None:
    """Show the worker's command line in ``ps`` (a fork keeps the fork server's), as if spawned.

    Within the room of the fork server's own command line (``SPT_NOENV``): growing into the
    environment block would garble ``/proc/PID/environ``.  The worker's arguments put ``--name``
    first, so a long title loses only its tail.  The process name (``comm``, what ``pgrep`` and
    ``top`` show) stays the interpreter's, as a spawned worker's."""
    try:
        from setproctitle import setproctitle, setthreadtitle
    except ImportError:  # a dependency; only ps output suffers without it
        return
    with open("/proc/self/comm") as comm:
        name = comm.read().strip()  # "python": setproctitle would rename it to the title's start
    os.environ["SPT_NOENV"] = "1"
    setproctitle(" ".join(argv))
    setthreadtitle(name)


def _adopt_environment(env: Mapping[str, str]) -> None:
    """Become the worker the pool would have spawned with ``env``, as far as imports allow."""
    before = {var: os.environ.get(var) for var in _THREAD_VARS}
    os.environ.clear()
    os.environ.update(env)
    threads = next((env[var] for var in _THREAD_VARS if env.get(var) != before[var] and env.get(var)), None)
    if threads is not None and threads.isdigit():
        if "threadpoolctl" in sys.modules or "sklearn" in sys.modules:
            with contextlib.suppress(ImportError):
                from threadpoolctl import threadpool_limits

                threadpool_limits(int(threads))
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(int(threads))
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
