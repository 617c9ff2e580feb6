"""Runner-server addresses given by host name: one slot per address the name resolves to.

``--remote-runner NAME=tcp://HOST:PORT`` may name a runner server by IP address or by host name.
A name can stand for several runner servers: a Kubernetes headless Service
(``clusterIP: None``, which ``deploy k8s --split-runners`` writes) resolves to the IP of every
ready pod.  Connecting to the name once would pin every call to whichever pod the first lookup
returned, and kube-proxy balances connections, not calls; so each name is resolved now and every
:data:`RESOLVE_EVERY_S` seconds, and the pool keeps connections to each address it currently
stands for, dropping those it no longer does (a pod scaled away) and adding new ones (scaled up).
``localhost`` and IP literals are used as given.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable

from bentotui.runner.transport import parse_address

log = logging.getLogger("bentotui.runner")

RESOLVE_EVERY_S = 10.0


def is_name(address: str) -> bool:
    """Whether ``address`` names its host (to be resolved) rather than giving an IP or localhost."""
    _, host, _ = parse_address(address)
    if host.lower() == "localhost":
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True
    return False


async def resolve(address: str) -> set[str]:
    """The ``tcp://IP:PORT`` addresses ``address``'s host name stands for now."""
    _, host, port = parse_address(address)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found = set()
    for family, _, _, _, sockaddr in infos:
        ip = str(sockaddr[0])
        found.add(f"tcp://[{ip}]:{port}" if family == socket.AF_INET6 else f"tcp://{ip}:{port}")
    return found


class NameWatcher:
    """Resolves host-name addresses periodically; ``on_change(name, addresses)`` gets each name's
    current set whenever it differs from the last (a failed lookup keeps the last set)."""

    def __init__(self, names: Iterable[str], on_change: Callable[[str, set[str]], None]) -> None:
        self.names = list(names)
        self.on_change = on_change
        self.current: dict[str, set[str]] = {}
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> None:
        for name in self.names:
            try:
                found = await resolve(name)
            except OSError as exc:
                if name not in self.current:  # logged once, while it has never resolved
                    log.warning("runner server %s does not resolve yet: %s", name, exc)
                continue
            if found != self.current.get(name):
                log.info("runner server %s resolves to %s", name, ", ".join(sorted(found)))
                self.current[name] = found
                self.on_change(name, found)

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(RESOLVE_EVERY_S)
            await self.refresh()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
