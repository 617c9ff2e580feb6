"""``ServeOptions``: everything ``bentotui serve`` accepts, and the one place it is checked.

The CLI only fills this in (its flags' defaults come from here too), so a bad combination gets the
same one-line error whether the server is started from the CLI, the TUI or Python.  This module is
light on purpose: the CLI imports it to build ``--help``.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from bentotui.exceptions import InvalidArgument
from bentotui.tracing import check_endpoint

DEFAULT_HOST = "127.0.0.1"
DEFAULT_TIMEOUT_S = 60.0
#: how long a request body may take to arrive (408 past it), apart from the handler's --timeout:
#: a client that trickles its body must not hold a connection for the whole --timeout
DEFAULT_READ_TIMEOUT_S = 15.0
#: open files kept for the process itself (logs, worker sockets, metrics files, imports) when the
#: default connection cap is derived from the open-file limit
_FD_RESERVE = 128
DEFAULT_MAX_BODY = 20 * 1024 * 1024
LOG_FORMATS = ("text", "json")


@dataclass
class ServeOptions:
    """What to serve (``target``, by default ``.``: the working folder's bentofile, or ``model``) and how; ``port`` None takes the target's default
    (the bento's, 5000 for a 0.x service, else 3000); ``python`` is the interpreter for every
    runner worker (``--python``)."""

    target: str | None = None
    model: str | None = None
    host: str = DEFAULT_HOST
    port: int | None = None
    working_dir: Path = field(default_factory=Path.cwd)
    runner_workers: int | None = None
    #: GPUs for each runner that supports them and asks for none (``--gpus``; bentotui.runner.gpus)
    gpus: float = 0
    timeout: float = DEFAULT_TIMEOUT_S
    max_concurrency: int | None = None
    max_body: int = DEFAULT_MAX_BODY
    read_timeout: float = DEFAULT_READ_TIMEOUT_S
    max_connections: int | None = None
    log_format: str = "text"
    run_id: str | None = None
    python: str | None = None
    #: Host names served besides localhost, loopback and the bound address (``--allowed-host``)
    allowed_hosts: tuple[str, ...] = ()
    #: origins whose web pages may call the server, with CORS headers (``--cors-origin``)
    cors_origins: tuple[str, ...] = ()
    #: the OTLP/HTTP collector to send traces to (``--otel-endpoint``); None leaves tracing to the
    #: ``OTEL_*`` environment (off without it)
    otel_endpoint: str | None = None
    #: runners served by runner servers instead of local workers: name -> ``tcp://HOST:PORT``s
    #: (``--remote-runner``, ``--runner-map``), called least-loaded first
    remote_runners: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: the runner link's token file (``--token-file``; else ``$BENTOTUI_RUNNER_TOKEN``)
    token_file: Path | None = None
    #: ``depends(Other)`` served elsewhere: service name -> http(s) URL (``--depends NAME=URL``)
    depends: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.log_format not in LOG_FORMATS:
            raise InvalidArgument(f"--log-format must be text or json, not {self.log_format!r}")
        if self.target is not None and self.model is not None:
            raise InvalidArgument("give a TARGET (module:attr) or --model TAG, not both")
        if self.target is None and self.model is None:
            self.target = "."  # as BentoML: the working folder, served from its bentofile.yaml
        self.working_dir = Path(self.working_dir).expanduser().resolve()
        if not self.working_dir.is_dir():
            raise InvalidArgument(f"--working-dir {self.working_dir} is not a folder")
        if self.python is not None and not Path(self.python).is_file():
            raise InvalidArgument(f"--python {self.python} is not a file")
        self.allowed_hosts = tuple(dict.fromkeys(_allowed_host(h) for h in self.allowed_hosts))
        self.cors_origins = tuple(dict.fromkeys(_cors_origin(o) for o in self.cors_origins))
        # here, not at the top: importing bentotui.runner loads the runner stack (asyncio, the
        # codec: ~0.1 s), which every CLI command would pay since the CLI imports this module
        from bentotui.runner.gpus import check_request as check_gpu_request

        self.gpus = check_gpu_request(self.gpus, "--gpus")
        if self.otel_endpoint is not None:
            self.otel_endpoint = check_endpoint(self.otel_endpoint)
        if not self.read_timeout > 0:
            raise InvalidArgument(f"--read-timeout must be a positive number of seconds, not {self.read_timeout!r}")
        if self.max_connections is None:
            self.max_connections = default_max_connections()
        elif self.max_connections < 1:
            raise InvalidArgument(f"--max-connections must be at least 1, not {self.max_connections}")


def depends(flags: list[str]) -> tuple[list[str], dict[str, str]]:
    """BentoML 1.4's ``--depends NAME=ADDRESS`` (repeatable): a ``tcp://`` address names a runner
    server (as ``--remote-runner``), an ``http(s)://`` URL the deployment of the service NAME that
    ``depends(...)`` refers to.  Returns the runner flags and the services' URLs."""
    from bentotui.service.remote import check_url

    runners, services = [], {}
    for flag in flags:
        name, sep, address = (part.strip() for part in flag.partition("="))
        if not sep or not name or not address:
            raise InvalidArgument(f"--depends takes NAME=http://HOST:PORT or NAME=tcp://HOST:PORT, not {flag!r}")
        if address.startswith("tcp://"):
            runners.append(f"{name}={address}")
        else:
            services[name] = check_url(address, f"--depends {name}")
    return runners, services


def remote_runners(flags: list[str], runner_map: str | None) -> dict[str, tuple[str, ...]]:
    """``--remote-runner NAME=tcp://a:1[,tcp://b:2]`` (repeatable) and BentoML's ``--runner-map``
    JSON (``{"NAME": "tcp://a:1"}``, a list of addresses allowed too) as one mapping."""
    found: dict[str, list[str]] = {}
    pairs: list[tuple[str, object]] = []
    for flag in flags:
        name, sep, addresses = flag.partition("=")
        if not sep or not name.strip() or not addresses.strip():
            raise InvalidArgument(f"--remote-runner takes NAME=tcp://HOST:PORT[,tcp://HOST:PORT...], not {flag!r}")
        pairs.append((name.strip(), addresses.split(",")))  # a list of strings, checked below
    if runner_map:
        try:
            mapping = json.loads(runner_map)
        except ValueError as exc:
            raise InvalidArgument(f"--runner-map is not JSON: {exc}") from None
        if not isinstance(mapping, dict):
            raise InvalidArgument('--runner-map takes a JSON object: {"runner_name": "tcp://HOST:PORT"}')
        pairs += [(str(name), value) for name, value in mapping.items()]
    for name, value in pairs:
        given = [value] if isinstance(value, str) else value
        if not isinstance(given, list) or not all(isinstance(a, str) and a.strip() for a in given):
            raise InvalidArgument(f"runner {name!r}: addresses must be tcp://HOST:PORT strings, not {value!r}")
        for address in given:
            _tcp_address(f"runner {name!r}", address.strip())
            found.setdefault(name, []).append(address.strip())
    return {name: tuple(dict.fromkeys(addresses)) for name, addresses in found.items()}


def _tcp_address(what: str, address: str, *, port_zero: bool = False) -> None:
    scheme, _, rest = address.partition("://")
    host, _, port = rest.rpartition(":")
    if scheme != "tcp" or not host or not port.isdigit() or not (0 if port_zero else 1) <= int(port) < 65536:
        raise InvalidArgument(f"{what}: {address!r} is not a tcp://HOST:PORT address")


@dataclass
class RunnerServerOptions:
    """What ``bentotui start-runner-server`` accepts: which runner of TARGET to serve, where."""

    target: str
    runner_name: str
    bind: str = "tcp://127.0.0.1:0"
    working_dir: Path = field(default_factory=Path.cwd)
    workers: int | None = None
    python: str | None = None
    gpus: float = 0
    token_file: Path | None = None
    log_format: str = "text"

    def __post_init__(self) -> None:
        _tcp_address("--bind", self.bind, port_zero=True)
        self.working_dir = self.serve_options().working_dir  # checks the rest as serve does

    def serve_options(self) -> ServeOptions:
        """The same target as ``serve`` would load it."""
        return ServeOptions(target=self.target, working_dir=self.working_dir, python=self.python,
                            gpus=self.gpus, log_format=self.log_format, runner_workers=self.workers)


def default_max_connections() -> int:
    """Requests in progress before new ones get 503: the open-file limit less a reserve.

    Past the limit ``accept()`` fails and asyncio stops accepting for a second, so every new
    client waits or times out; answering 503 below it keeps the server's answer fast and clear.
    """
    try:
        import resource
    except ImportError:  # Windows has no open-file limit of this kind
        return 1024
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 65536
    return max(16, soft - _FD_RESERVE)


_HOST_NAME = re.compile(r"(\*\.)?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?")
_ORIGIN = re.compile(r"(https?)://([a-z0-9_.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?")
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def _allowed_host(value: str) -> str:
    """An ``--allowed-host`` value as the guard compares it: lower-case, no port, no IPv6 brackets."""
    host = value.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "*" or _HOST_NAME.fullmatch(host):
        return host
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    raise InvalidArgument(
        f"--allowed-host takes a host name or IP address without scheme or port (api.example.com, *.example.com, "
        f"10.0.0.5, or * for any), not {value!r}"
    )


def _cors_origin(value: str) -> str:
    """A ``--cors-origin`` value as browsers send ``Origin``: ``scheme://host[:port]``, lower-case,
    without a default port or a trailing slash; ``*`` (any) and ``null`` (pages opened from files)."""
    origin = value.strip().lower().rstrip("/")
    if origin in ("*", "null"):
        return origin
    match = _ORIGIN.fullmatch(origin)
    if match is None:
        raise InvalidArgument(
            f"--cors-origin takes an origin as browsers send it (http://localhost:8080, https://app.example.com; "
            f"scheme, host and port, no path), * for any, or null, not {value!r}"
        )
    scheme, _, port = match.groups()
    return origin.removesuffix(port) if port == _DEFAULT_PORTS[scheme] else origin
