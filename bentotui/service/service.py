"""The 1.x ``Service``: a name, runners and APIs, the one spec every service style compiles to.

``bentotui.Service(name, runners=[...])`` with ``@svc.api(input=..., output=...)`` is BentoML
1.x's API.  The 0.x ``BentoService`` and 1.2 ``@service`` classes build the same object through
:meth:`Service.add_api`, so the server, ``/docs.json`` and bento builds know only this one.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from bentotui.exceptions import BuildError, InvalidArgument
from bentotui.io.base import IODescriptor
from bentotui.routes import INFRA_ROUTES
from bentotui.store.tags import validate_part

if TYPE_CHECKING:
    from bentotui.runner.runner import Runner

F = TypeVar("F", bound=Callable[..., Any])

# An API may not take a route the server answers itself.
RESERVED_ROUTES = INFRA_ROUTES
# The server serves Swagger UI's files under this prefix.
STATIC_PREFIX = "/static"
_ROUTE = re.compile(r"(/[A-Za-z0-9._~-]+)+")


@dataclass
class APISpec:
    """One ``POST <route>`` of a service; ``call`` is all the server needs besides the descriptors."""

    name: str
    route: str
    input: IODescriptor
    output: IODescriptor
    func: Callable[..., Any]
    is_async: bool
    doc: str | None = None

    async def call(self, value: Any) -> Any:
        """Run the API function on a decoded input; sync functions go to a thread so the event
        loop keeps serving other requests (and batching their runner calls) meanwhile."""
        if self.is_async:
            return await self.func(value)
        return await asyncio.to_thread(self.func, value)


Hook = Callable[[], Any]


class Service:
    """A named set of runners and APIs, plus optional startup/shutdown hooks.

    ``models`` is recorded for bento builds (BentoML 1.x users pass models a service loads
    itself); the runners are what the server starts worker processes for.  ``default_port`` is
    the port a server of this service takes when none is given (None: BentoML's 3000; a 0.x
    ``BentoService`` sets 5000, where BentoML 0.x served); bento builds record it.
    """

    default_port: int | None = None

    def __init__(self, name: str, runners: Iterable[Runner] = (), models: Iterable[Any] = ()) -> None:
        self.name = _check_name(name)
        self.runners = list(runners)
        self.models = list(models)
        self.apis: dict[str, APISpec] = {}
        self.startup_hooks: list[Hook] = []
        self.shutdown_hooks: list[Hook] = []
        _check_runners(self.runners)

    def api(
        self,
        func: Callable[..., Any] | None = None,
        *,
        input: IODescriptor,
        output: IODescriptor,
        route: str | None = None,
        name: str | None = None,
        doc: str | None = None,
    ) -> Any:
        """Decorator: expose ``func`` as ``POST /<route>`` (route and name default to its name).

        The function is returned unchanged, so it stays callable in tests and scripts.
        """

        def register(fn: F) -> F:
            self.add_api(fn, input=input, output=output, route=route, name=name, doc=doc)
            return fn

        return register if func is None else register(func)

    def add_api(
        self,
        func: Callable[..., Any],
        *,
        input: IODescriptor,
        output: IODescriptor,
        route: str | None = None,
        name: str | None = None,
        doc: str | None = None,
    ) -> APISpec:
        """Register an API; every mistake is a ``BuildError`` raised at import, not at request time."""
        func_name: str = getattr(func, "__name__", "")
        name = name or func_name
        if not name.isidentifier():
            raise BuildError(f"API name {name!r} must be a valid Python identifier")
        if name in self.apis:
            raise BuildError(f"service {self.name!r} already has an API named {name!r}")
        if not callable(func):
            raise BuildError(f"API {name!r}: {func!r} is not callable")
        for role, descriptor in (("input", input), ("output", output)):
            if not isinstance(descriptor, IODescriptor):
                hint = f"; did you mean {descriptor.__name__}()?" if isinstance(descriptor, type) else ""
                raise BuildError(
                    f"API {name!r}: {role} must be an IO descriptor such as bentotui.io.JSON(){hint}"
                )
        route = _check_route(route if route is not None else name, name)
        taken = next((api.name for api in self.apis.values() if api.route == route), None)
        if taken is not None:
            raise BuildError(f"API {name!r}: route {route} is already used by API {taken!r}")
        spec = APISpec(
            name=name,
            route=route,
            input=input,
            output=output,
            func=func,
            is_async=inspect.iscoroutinefunction(func),
            doc=doc if doc is not None else inspect.getdoc(func),
        )
        self.apis[name] = spec
        return spec

    def on_startup(self, func: F) -> F:
        """Decorator: run ``func()`` (sync or async) once the runners are up, before serving."""
        self.startup_hooks.append(func)
        return func

    def on_shutdown(self, func: F) -> F:
        """Decorator: run ``func()`` (sync or async) when the server stops."""
        self.shutdown_hooks.append(func)
        return func

    async def startup(self) -> None:
        """Run the startup hooks in registration order (the server calls this)."""
        await _run_hooks(self.startup_hooks)

    async def shutdown(self) -> None:
        """Run the shutdown hooks in reverse order, like a stack of context managers."""
        await _run_hooks(reversed(self.shutdown_hooks))

    def __repr__(self) -> str:
        runners = ", ".join(str(getattr(r, "name", r)) for r in self.runners)
        return f"Service(name={self.name!r}, runners=[{runners}], apis=[{', '.join(self.apis)}])"


async def _run_hooks(hooks: Iterable[Hook]) -> None:
    for hook in hooks:
        if inspect.iscoroutinefunction(hook):
            await hook()
        else:
            await asyncio.to_thread(hook)


def _check_name(name: str) -> str:
    """Service names become bento tags, so they follow the tag rules (lower-cased like BentoML)."""
    try:
        return validate_part(name.lower() if isinstance(name, str) else name, "service name")
    except InvalidArgument as exc:
        raise BuildError(exc.message) from None


def _check_runners(runners: list[Runner]) -> None:
    """Refuse what is not a runner at build time (the annotation is not checked when it runs)."""
    seen: set[str] = set()
    for runner in runners:
        runner_name = getattr(runner, "name", None)
        if not isinstance(runner_name, str):
            raise BuildError(f"runners must be bentotui runners (e.g. model.to_runner()), got {runner!r}")
        if runner_name in seen:
            raise BuildError(f"two runners are named {runner_name!r}; give one a different name=")
        seen.add(runner_name)


def _check_route(route: str, api_name: str) -> str:
    route = "/" + route.strip().strip("/")
    if route in RESERVED_ROUTES or route == STATIC_PREFIX or route.startswith(STATIC_PREFIX + "/"):
        raise BuildError(f"API {api_name!r}: route {route} is reserved for the server")
    if not _ROUTE.fullmatch(route):
        raise BuildError(
            f"API {api_name!r}: invalid route {route!r}: use letters, digits and . _ ~ - between slashes"
        )
    return route
