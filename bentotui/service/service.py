"""The 1.x ``Service``: a name, runners and APIs, the one spec every service style compiles to.

``bentotui.Service(name, runners=[...])`` with ``@svc.api(input=..., output=...)`` is BentoML
1.x's API.  The 0.x ``BentoService`` and 1.2 ``@service`` classes build the same object through
:meth:`Service.add_api`, so the server, ``/docs.json`` and bento builds know only this one.

An API streams (:attr:`APISpec.stream_type`) when its function is a generator or async generator
function, or is annotated to return one (``-> AsyncGenerator[str, None]``, e.g. an ``async def``
that returns ``runner.generate.async_stream(text)``); that is decided here, once, so the server's
path for every other API does no per-request check of what came back.
"""

from __future__ import annotations

import asyncio
import collections.abc
import inspect
import re
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from bentotui.exceptions import BuildError, InvalidArgument
from bentotui.io.base import IODescriptor
from bentotui.io.multipart import Multipart
from bentotui.routes import INFRA_ROUTES
from bentotui.runner.stream import is_stream_function
from bentotui.service.context import CONTEXT_NAMES, Context, is_context_annotation, takes_context
from bentotui.store.tags import validate_part

if TYPE_CHECKING:
    from bentotui.runner.runner import Runner

F = TypeVar("F", bound=Callable[..., Any])

# An API may not take a route the server answers itself.
RESERVED_ROUTES = INFRA_ROUTES
# The server serves Swagger UI's files under this prefix.
STATIC_PREFIX = "/static"
_ROUTE = re.compile(r"(/[A-Za-z0-9._~-]+)+")
#: what a task's routes end in, with their HTTP methods, as BentoML 1.4's server routes them
TASK_ACTIONS = {"submit": "POST", "status": "GET", "get": "GET", "cancel": "PUT", "retry": "POST"}


def task_routes(route: str) -> dict[str, str]:
    """The routes of the task at ``route``: ``{"/<route>/submit": "submit", ...}``."""
    return {f"{route}/{action}": action for action in TASK_ACTIONS}


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
    #: the service's context when the function takes one (``def classify(text, ctx)``); the
    #: server then runs the call inside the request (:meth:`Context.in_request`)
    context: Context | None = None
    #: a ``Multipart`` input: the function takes one keyword argument per part (and the context
    #: under ``context_param``), as BentoML 1.x calls multi-input APIs
    multi_input: bool = False
    context_param: str | None = None
    #: a 1.2 ``@api(batchable=True)`` method: the request body is a batch (``/schema.json`` says so)
    batchable: bool = False
    #: the Content-Type of a streaming API's response, whose body is its items as they come
    #: (:mod:`bentotui.server.streaming`); None for an API that answers one body
    stream_type: str | None = None
    #: a 1.2 ``@task`` method: besides ``POST <route>``, the server answers its task routes
    #: (:func:`task_routes`) and runs submitted calls in the background
    is_task: bool = False

    async def call(self, value: Any) -> Any:
        """Run the API function on a decoded input; sync functions go to a thread so the event
        loop keeps serving other requests (and batching their runner calls) meanwhile."""
        args: tuple[Any, ...] = (value,) if self.context is None else (value, self.context)
        kwargs: dict[str, Any] = {}
        if self.multi_input:
            args, kwargs = (), dict(value)
            if self.context is not None and self.context_param is not None:
                kwargs[self.context_param] = self.context
        if self.is_async:
            return await self.func(*args, **kwargs)
        return await asyncio.to_thread(self.func, *args, **kwargs)


#: a lifecycle hook: no parameter, or one that receives the service's :class:`Context`
Hook = Callable[..., Any]
#: an ASGI application (mounted apps, middleware-wrapped apps)
ASGIApp = Callable[..., Any]
MetricsStyle = Literal["1.x", "1.2"]


class Service:
    """A named set of runners and APIs, plus optional startup/shutdown hooks.

    ``models`` is recorded for bento builds (BentoML 1.x users pass models a service loads
    itself); the runners are what the server starts worker processes for.  ``default_port`` is
    the port a server of this service takes when none is given (None: BentoML's 3000; a 0.x
    ``BentoService`` sets 5000, where BentoML 0.x served); bento builds record it.
    """

    default_port: int | None = None
    #: which BentoML's metric names its server exports: a 1.x ``Service`` (and a 0.x
    #: ``BentoService``) those of BentoML's 1.x API server, ``bentoml_api_server_*`` (BentoML 1.4
    #: still serves a 1.x service with them), so dashboards built for it keep working; a 1.2
    #: ``@service`` class and a served model, 1.4's ``bentoml_service_*``
    metrics_style: MetricsStyle = "1.x"

    def __init__(self, name: str, runners: Iterable[Runner] = (), models: Iterable[Any] = ()) -> None:
        self.name = _check_name(name)
        self.runners = list(runners)
        self.models = list(models)
        self.apis: dict[str, APISpec] = {}
        self.startup_hooks: list[Hook] = []
        self.shutdown_hooks: list[Hook] = []
        self.deployment_hooks: list[Callable[[], Any]] = []
        #: ``(app, path, name)`` per mounted ASGI app, as BentoML keeps them
        self.mount_apps: list[tuple[ASGIApp, str, str | None]] = []
        #: ``(middleware_cls, options)``, outermost first
        self.middlewares: list[tuple[Callable[..., ASGIApp], dict[str, Any]]] = []
        #: ``bentoml.Context``: its ``state`` is shared by the hooks and APIs of this process
        self.context = Context()
        self._deployed = False
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
        is_task: bool = False,
    ) -> APISpec:
        """Register an API (``is_task``: also a task); every mistake is a ``BuildError`` raised at
        import, not at request time."""
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
        own = task_routes(route) if is_task else {}
        clash = next(
            (api for api in self.apis.values() if api.route in own or (api.is_task and route in task_routes(api.route))),
            None,
        )
        if clash is not None:
            raise BuildError(f"API {name!r}: route {route} clashes with the task routes of API {clash.name!r}")
        mount = next((path for _, path, _ in self.mount_apps if _covers(path, route)), None)
        if mount is not None:
            raise BuildError(f"API {name!r}: route {route} is inside the app mounted at {mount}")
        multi = isinstance(input, Multipart)
        context_param = _multipart_context(func, name, list(input.fields)) if isinstance(input, Multipart) else None
        wants_context = bool(context_param) or (not multi and _wants_context(func, name))
        stream_type = text_media_type(output.media_type) if _streams(func) else None
        if stream_type is not None and wants_context:
            raise BuildError(f"API {name!r}: a streaming API cannot take a bentoml.Context in bentotui")
        if stream_type is not None and is_task:
            raise BuildError(f"API {name!r}: a task cannot return a stream (as in BentoML)")
        spec = APISpec(
            name=name,
            route=route,
            input=input,
            output=output,
            func=func,
            is_async=inspect.iscoroutinefunction(func),
            doc=doc if doc is not None else inspect.getdoc(func),
            context=self.context if wants_context else None,
            multi_input=multi,
            context_param=context_param,
            stream_type=stream_type,
            is_task=is_task,
        )
        self.apis[name] = spec
        return spec

    def on_startup(self, func: F) -> F:
        """Decorator: run ``func(ctx)`` or ``func()`` (sync or async) once the runners are up,
        before serving; ``ctx`` is :attr:`context`, whose ``state`` the APIs see too."""
        takes_context(func, "startup")
        self.startup_hooks.append(func)
        return func

    def on_shutdown(self, func: F) -> F:
        """Decorator: run ``func(ctx)`` or ``func()`` (sync or async) when the server stops."""
        takes_context(func, "shutdown")
        self.shutdown_hooks.append(func)
        return func

    def on_deployment(self, func: F) -> F:
        """Decorator: run ``func()`` once per server, before the runner workers start (download
        weights, prepare files), as BentoML runs it once per deployment."""
        if takes_context(func, "deployment"):
            raise BuildError(f"deployment hook {func.__qualname__} takes no parameters (it runs before any context)")
        self.deployment_hooks.append(func)
        return func

    def mount_asgi_app(self, app: ASGIApp, path: str = "/", name: str | None = None) -> None:
        """Serve another ASGI app (FastAPI, Starlette, ...) under ``path``, next to the APIs.

        ``path="/"`` (BentoML's default) serves every path the server does not answer itself.
        """
        if not callable(app):
            raise BuildError(f"mount_asgi_app: {app!r} is not an ASGI application")
        self.mount_apps.append((app, self._check_mount_path(path), name))

    def mount_wsgi_app(self, app: Callable[..., Any], path: str = "/", name: str | None = None) -> None:
        """Serve a WSGI app (Flask, Django, ...) under ``path``, run in threads by a2wsgi."""
        if not callable(app):
            raise BuildError(f"mount_wsgi_app: {app!r} is not a WSGI application")
        from a2wsgi import WSGIMiddleware

        self.mount_apps.append((WSGIMiddleware(app), self._check_mount_path(path), name))

    def add_asgi_middleware(self, middleware_cls: Callable[..., ASGIApp], **options: Any) -> None:
        """Wrap the server's ASGI app in ``middleware_cls(app, **options)`` (Starlette's convention)."""
        if not callable(middleware_cls):
            raise BuildError(f"add_asgi_middleware: {middleware_cls!r} is not a middleware class")
        self.middlewares.append((middleware_cls, options))

    async def deploy(self) -> None:
        """Run the deployment hooks, once (the server calls this before starting runners)."""
        if self._deployed:
            return
        self._deployed = True
        await _run_hooks(self.deployment_hooks, None)

    async def startup(self) -> None:
        """Run the deployment hooks if not done yet, then the startup hooks in registration order."""
        await self.deploy()
        await _run_hooks(self.startup_hooks, self.context)

    async def shutdown(self) -> None:
        """Run the shutdown hooks in reverse order, like a stack of context managers."""
        await _run_hooks(reversed(self.shutdown_hooks), self.context)

    def _check_mount_path(self, path: str) -> str:
        if not isinstance(path, str):
            raise BuildError(f"mount path must be a string such as '/v1', got {path!r}")
        path = "/" + path.strip().strip("/")
        if path != "/" and not _ROUTE.fullmatch(path):
            raise BuildError(f"invalid mount path {path!r}: use letters, digits and . _ ~ - between slashes")
        if any(mounted == path for _, mounted, _ in self.mount_apps):
            raise BuildError(f"an app is already mounted at {path}")
        if path == "/":  # the fallback mount: everything the server and the APIs leave unanswered
            return path
        reserved = next((r for r in (*RESERVED_ROUTES, STATIC_PREFIX) if _covers(path, r)), None)
        if reserved is not None or path.startswith(STATIC_PREFIX + "/"):
            raise BuildError(f"mount path {path} would cover {reserved or STATIC_PREFIX}, which the server answers")
        api = next((api for api in self.apis.values() if _covers(path, api.route)), None)
        if api is not None:
            raise BuildError(f"mount path {path} would cover route {api.route} of API {api.name!r}")
        return path

    def __repr__(self) -> str:
        runners = ", ".join(str(getattr(r, "name", r)) for r in self.runners)
        return f"Service(name={self.name!r}, runners=[{runners}], apis=[{', '.join(self.apis)}])"


async def _run_hooks(hooks: Iterable[Hook], context: Context | None) -> None:
    for hook in hooks:
        args = (context,) if context is not None and takes_context(hook, "lifecycle") else ()
        if inspect.iscoroutinefunction(hook):
            await hook(*args)
        else:
            await asyncio.to_thread(hook, *args)


_ITERATORS = frozenset(
    {
        collections.abc.Iterator,
        collections.abc.Generator,
        collections.abc.AsyncIterator,
        collections.abc.AsyncGenerator,
    }
)


def returns_iterator(annotation: Any) -> bool:
    """``Generator[...]``, ``AsyncGenerator[...]``, ``Iterator[...]`` or ``AsyncIterator[...]``
    (BentoML's ``is_iterator_type``)."""
    return typing.get_origin(annotation) in _ITERATORS


def _streams(func: Callable[..., Any]) -> bool:
    """A 1.x API streams when its function yields or says it returns an iterator."""
    if is_stream_function(func):
        return True
    try:
        annotation = typing.get_type_hints(func).get("return")
    except Exception:  # an annotation that does not resolve here: it says nothing we can use
        return False
    return returns_iterator(annotation)


def text_media_type(media_type: str) -> str:
    """A ``text/*`` type with its charset (``text/event-stream; charset=utf-8``), as Starlette's
    responses, and so BentoML's, write it."""
    if media_type.startswith("text/") and "charset" not in media_type:
        return f"{media_type}; charset=utf-8"
    return media_type


def _covers(mount: str, route: str) -> bool:
    """Whether a request for ``route`` would reach the app mounted at ``mount`` (not "/": the
    fallback mount gets only what nothing else answers)."""
    return mount != "/" and (route == mount or route.startswith(mount + "/"))


def _multipart_context(func: Callable[..., Any], api_name: str, fields: list[str]) -> str | None:
    """BentoML 1.x's rule for a Multipart input: one parameter per part, by name, plus optionally
    the context (named ``ctx``/``context`` or annotated ``bentoml.Context``), whose name is returned."""
    parameters = inspect.signature(func).parameters
    extra = [p for name, p in parameters.items() if name not in fields]
    context = [
        p.name for p in extra
        if p.name in CONTEXT_NAMES or is_context_annotation(p.annotation, getattr(func, "__globals__", {}))
    ]
    if any(f not in parameters for f in fields) or len(extra) > len(context) or len(context) > 1:
        raise BuildError(
            f"API {api_name!r} takes ({', '.join(parameters)}): its Multipart input passes "
            f"{', '.join(fields)} by name, and optionally a bentoml.Context"
        )
    return context[0] if context else None


def _wants_context(func: Callable[..., Any], api_name: str) -> bool:
    """BentoML 1.x's rule: an API function with a second parameter receives the context there,
    which must be unannotated or annotated ``bentoml.Context``; parameters with defaults are left
    alone (they are not inputs either)."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: one input, as before
        return False
    required = [
        p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if len(required) > 2:
        names = ", ".join(p.name for p in required)
        raise BuildError(f"API {api_name!r} takes ({names}): an API takes one input and optionally a bentoml.Context")
    if len(required) < 2:
        return False
    second = required[1]
    if second.annotation is not second.empty and not is_context_annotation(
        second.annotation, getattr(func, "__globals__", {})
    ):
        raise BuildError(
            f"API {api_name!r}: its second parameter {second.name!r} receives the bentoml.Context, "
            f"but is annotated {second.annotation!r}"
        )
    return True


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
