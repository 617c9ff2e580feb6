"""BentoML 1.2+ front-end: ``@service`` classes with typed ``@api`` methods, compiled onto the 1.x runtime.

``@service`` returns the class itself (with its configuration attached) so that
``bentotui serve module:ClassName`` can import it and a runner worker can rebuild it by reference.
:func:`to_service` compiles it: the class instance (whose ``__init__`` loads its models) lives in a
runner worker (:func:`class_runnable`), every ``@api`` method is a runner method -- batchable ones
go through the adaptive dispatcher -- and the API side decodes the request with a pydantic model
built from the method's signature, so a bad value is a 400 naming the parameter
(``body.input: ...``).  The request JSON maps parameter names to values, as in BentoML 1.2:
``{"input": [[5.1, 3.5, 1.4, 0.2]]}`` for ``def predict(self, input: np.ndarray)``.

A method parameter named ``ctx`` or ``context`` (BentoML's rule) is no request field: it receives
a :class:`~bentotui.service.context.Context`, whose request snapshot travels to the worker with the
call and whose response changes travel back (see :mod:`bentotui.service.hosting`).  The hook
decorators (:func:`on_startup`, :func:`on_shutdown`, :func:`on_deployment`) and :func:`asgi_app`
only mark the class; :func:`to_service` carries them onto the compiled service.

A method that is a generator or async generator function streams (BentoML's ``is_stream``): it
runs in the worker like any method, its items reach the HTTP response as they are produced
(``RunnerMethod.async_stream``), and the response's Content-Type is the ``ContentType`` of its
return annotation, else BentoML's default for streams, ``text/event-stream``.

A ``@task`` method compiles like an ``@api`` one, marked ``is_task``: the server adds its task
routes (:mod:`bentotui.server.tasks`); a task cannot stream, as in BentoML.
"""

from __future__ import annotations

import atexit
import inspect
import signal
import sys
import threading
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, TypeVar

from bentotui.exceptions import BuildError
from bentotui.runner.spec import import_ref
from bentotui.runner.stream import is_stream_function
from bentotui.service.class_views import bind_class_views
from bentotui.service.context import Context, context_param, takes_context
from bentotui.service.current import ServiceProxy, set_current_service
from bentotui.service.decorators import APIConfig, api_methods
from bentotui.service.hosting import Hosted, instance_runnable
from bentotui.store.tags import validate_part

if TYPE_CHECKING:
    from bentotui.runner.runner import RunnerMethod
    from bentotui.service.service import ASGIApp, Service

ATTR = "__bentotui_service__"
STARTUP = "__bentotui_startup_hook__"
SHUTDOWN = "__bentotui_shutdown_hook__"
DEPLOYMENT = "__bentotui_deployment_hook__"
MOUNTS = "__bentotui_mounted_apps__"
#: BentoML 1.2's Content-Type of a streaming method without a ``ContentType``
DEFAULT_STREAM_MEDIA_TYPE = "text/event-stream"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ServiceConfig:
    """What ``@service`` recorded."""

    name: str
    workers: int | None = None
    resources: dict[str, Any] = field(default_factory=dict)
    traffic: dict[str, Any] = field(default_factory=dict)


def service(
    cls: type | None = None,
    /,
    *,
    name: str | None = None,
    workers: int | None = None,
    resources: dict[str, Any] | None = None,
    traffic: dict[str, Any] | None = None,
) -> Any:
    """Mark a class as a service (``@service`` or ``@service(name=..., workers=..., traffic={"timeout": 30})``)."""
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise BuildError(f"@bentotui.service workers must be a positive integer, got {workers!r}")
    timeout = (traffic or {}).get("timeout")
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
        raise BuildError(
            f"@bentotui.service traffic timeout must be a positive number of seconds, got {timeout!r}"
        )

    def decorate(target: type) -> type:
        if not isinstance(target, type):
            raise BuildError(f"@bentotui.service decorates a class, not {target!r}")
        config = ServiceConfig(
            name=validate_part(name or target.__name__.lower(), "service name"),
            workers=workers,
            resources=dict(resources or {}),
            traffic=dict(traffic or {}),
        )
        setattr(target, ATTR, config)
        # refuse 0.x-style methods right away; a class may serve only a mounted app (to_service checks)
        api_methods(target, "class", allow_none=True)
        return target

    return decorate if cls is None else decorate(cls)


def is_service_class(obj: Any) -> bool:
    return isinstance(obj, type) and isinstance(obj.__dict__.get(ATTR), ServiceConfig)


class _Dependency:
    """``depends(OtherService)``: a class attribute giving an in-process instance of the other
    service, behind BentoML's handle (:class:`~bentotui.service.dependency.DependencyHandle`).

    BentoML runs dependencies as separate services; here the dependency lives in the same runner
    worker as its user, which keeps ``self.other.method(...)`` calls cheap and needs no networking.
    A dependency given a ``url`` (or served elsewhere: ``start-http-server --depends NAME=URL``)
    is called over HTTP instead (:class:`~bentotui.service.remote.RemoteService`).
    """

    def __init__(self, target: type | None, url: str | None) -> None:
        if target is not None and not is_service_class(target):
            raise BuildError(f"bentotui.depends expects a @bentotui.service class, got {target!r}")
        if target is None and url is None:
            raise BuildError("bentotui.depends needs a @bentotui.service class or url=")
        if url is not None:
            from bentotui.service.remote import check_url

            url = check_url(url, "bentotui.depends(url=...)")
        self.target = target
        self.url = url
        self.attr = ""

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = f"_depends_{attr}"

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self
        if self.attr not in instance.__dict__:
            instance.__dict__[self.attr] = self._resolve()
        return instance.__dict__[self.attr]

    def _resolve(self) -> Any:
        url = self.url
        if url is None and self.target is not None:
            from bentotui.service.remote import remote_urls

            urls = remote_urls()
            url = urls.get(service_config(self.target).name) or urls.get(self.target.__name__)
        if url is not None:
            from bentotui.service.remote import RemoteService

            return RemoteService(url, self.target)
        from bentotui.service.dependency import DependencyHandle

        assert self.target is not None  # __init__ refused neither
        return DependencyHandle(self.target())


def depends(
    on: type | None = None, *, url: str | None = None, deployment: str | None = None, cluster: str | None = None
) -> Any:
    """Use another ``@service`` class from this one, in process, or at ``url`` over HTTP (see
    :class:`_Dependency`); BentoCloud's ``deployment=``/``cluster=`` have no meaning here."""
    if deployment is not None or cluster is not None:
        raise BuildError(
            "bentotui.depends(deployment=...) names a BentoCloud deployment, which bentotui does not reach: "
            "give the deployment's address as url=..."
        )
    return _Dependency(on, url)


def service_config(cls: type) -> ServiceConfig:
    """What ``@service`` recorded on ``cls``."""
    config: ServiceConfig = cls.__dict__[ATTR]
    return config


# --- lifecycle hooks and mounted apps ------------------------------------------------------------


def on_startup(func: F) -> F:
    """Mark a method to run once the instance exists, in the worker hosting it (sync or async;
    ``def warmup(self, ctx)`` gets the instance's context)."""
    setattr(func, STARTUP, True)
    return func


def on_shutdown(func: F) -> F:
    """Mark a method to run when the worker hosting the instance stops."""
    setattr(func, SHUTDOWN, True)
    return func


def on_deployment(func: Any) -> staticmethod[Any, Any]:
    """Mark a function to run once per server before any worker starts; it becomes a
    ``staticmethod`` (there is no instance yet), as in BentoML."""
    inner = func.__func__ if isinstance(func, staticmethod) else func
    setattr(inner, DEPLOYMENT, True)
    return func if isinstance(func, staticmethod) else staticmethod(func)


def asgi_app(app: ASGIApp, *, path: str = "/", name: str | None = None) -> Callable[[type], type]:
    """Class decorator: serve an ASGI app (FastAPI, Starlette, ...) under ``path`` next to the APIs."""

    def decorate(cls: type) -> type:
        if not isinstance(cls, type):
            raise BuildError(f"@bentotui.asgi_app decorates a @bentotui.service class, not {cls!r}")
        setattr(cls, MOUNTS, [*cls.__dict__.get(MOUNTS, ()), (app, path, name)])
        return cls

    return decorate


#: BentoML 1.2's name, kept (deprecated there in favour of ``asgi_app``)
mount_asgi_app = asgi_app


def _marked(cls: type, marker: str) -> list[str]:
    """Names of the members of ``cls`` carrying ``marker``, base classes first, in definition order."""
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            fn = value.__func__ if isinstance(value, staticmethod) else value
            if (getattr(value, marker, False) or getattr(fn, marker, False)) and name not in names:
                names.append(name)
    return names


def _hooks(cls: type, marker: str, where: str) -> list[str]:
    """The instance hook methods marked ``marker``, each checked to take at most a context."""
    names = _marked(cls, marker)
    for name in names:
        fn = inspect.getattr_static(cls, name)
        if not inspect.isfunction(fn):  # a staticmethod has no instance to run on
            raise BuildError(f"{cls.__name__}.{name}: @bentotui.{where} marks a plain method")
        takes_context(fn.__get__(object()), f"{cls.__name__}.{name}: {where}")
    return names


def dependencies_of(cls: type) -> list[type]:
    """The ``@service`` classes ``cls`` uses through ``depends(...)`` (inherited ones too)."""
    return [
        value.target
        for klass in cls.__mro__
        for value in vars(klass).values()
        if isinstance(value, _Dependency) and value.target is not None
    ]


# --- compile -------------------------------------------------------------------------------------


def class_runnable(cls: type) -> type:
    """The Runnable hosting one instance of the service class, one runner method per ``@api`` method."""
    apis = api_methods(cls, "class", allow_none=True).values()
    methods = {attr: (c.batchable, c.batch_dim) for attr, c in apis}
    hosted = Hosted(
        context_params={attr: param for attr, _ in apis if (param := context_param(getattr(cls, attr)))},
        startup=_hooks(cls, STARTUP, "on_startup"),
        shutdown=_hooks(cls, SHUTDOWN, "on_shutdown"),
    )
    return instance_runnable(cls.__name__, cls, methods, hosted)


def build_runnable(class_ref: str) -> Any:
    """The worker-side factory (a ``WorkerSpec`` of kind ``factory`` names it).

    The worker is stopped with SIGTERM; with shutdown hooks to run, SIGTERM becomes a normal
    exit, after which the hooks run (``atexit``), as they would after the parent went away.
    """
    cls = import_ref(class_ref)
    runnable = class_runnable(cls)()
    set_current_service(runnable.instance)
    if _marked(cls, SHUTDOWN):
        atexit.register(runnable.close)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    return runnable


def _declared_models(cls: type) -> list[Any]:
    """The store models a class declares at its scope (``BentoModel(tag)``, or a ``Model`` from
    ``bentoml.models.get``): BentoML records them as the service's, so a build packs them."""
    from bentotui.models import BentoModel
    from bentotui.store.models import Model

    return [value for value in vars(cls).values() if isinstance(value, (BentoModel, Model))]


def to_service(obj: Any) -> Service:
    """Compile a ``@service`` class into a :class:`~bentotui.service.Service` (the loader calls this)."""
    from bentotui.runner.gpus import check_request as check_gpu_request
    from bentotui.runner.runner import Runner
    from bentotui.runner.spec import WorkerSpec
    from bentotui.service.service import Service

    if not is_service_class(obj):
        raise BuildError(f"{obj!r} is not a @bentotui.service class")
    config: ServiceConfig = obj.__dict__[ATTR]
    class_ref = f"{obj.__module__}:{obj.__qualname__}"
    apis = api_methods(obj, "class", allow_none=True)
    mounts = obj.__dict__.get(MOUNTS, ())
    if not apis and not mounts:
        raise BuildError(f"{obj.__name__} has no @bentotui.api methods and no mounted app")
    # each batchable method keeps the batching limits it asks for
    method_configs = {
        attr: limits
        for attr, c in apis.values()
        if c.batchable
        and (limits := {key: value for key in ("max_batch_size", "max_latency_ms") if (value := getattr(c, key))})
    }
    declared = _declared_models(obj)
    if not apis:
        # only mounted apps: nothing to batch, so the instance lives here, made when serving starts
        svc = Service(name=config.name)
        svc.on_startup(lambda: set_current_service(obj()))
    else:
        runner = Runner(
            class_runnable(obj),
            name=config.name,
            models=declared,  # what its workers load: the fork server preloads their libraries
            workers=config.workers,
            worker_spec=WorkerSpec("factory", "bentotui.service.classes:build_runnable", {"class_ref": class_ref}),
            method_configs=method_configs or None,
        )
        if "gpu" in config.resources:  # each worker gets its share (bentotui.runner.gpus)
            runner.resources["gpu"] = check_gpu_request(config.resources["gpu"], f"@service {config.name!r} resources")
        svc = Service(name=config.name, runners=[runner])
        for api_name, (attr, api_config) in apis.items():
            _add_api(svc, obj, api_name, attr, api_config, getattr(runner, attr))
        # mounted apps run here, in the API server: get_current_service() hands them the proxy
        set_current_service(ServiceProxy(obj, runner, {attr for attr, _ in apis.values()}))
    svc.metrics_style = "1.2"
    svc.models.extend(declared)
    for name in _marked(obj, DEPLOYMENT):
        svc.on_deployment(getattr(obj, name))
    for app, path, mount_name in mounts:
        bind_class_views(obj, app)
        svc.mount_asgi_app(app, path=path, name=mount_name)
    return svc


def _add_api(svc: Service, cls: type, api_name: str, attr: str, config: APIConfig, method: RunnerMethod) -> None:
    from bentotui.io import File
    from bentotui.service.params import FormParams, input_descriptor, output_descriptor, remove_uploads
    from bentotui.service.service import text_media_type

    fn = getattr(cls, attr)
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except NameError as exc:
        raise BuildError(f"{cls.__name__}.{attr}: cannot resolve its type annotations: {exc}") from None
    ctx_name = context_param(fn)
    params = [p for p in inspect.signature(fn).parameters.values() if p.name not in ("self", ctx_name)]
    if config.batchable and len(params) != 1:
        raise BuildError(
            f"{cls.__name__}.{attr}: a batchable API takes exactly one parameter (the batch), got {len(params)}"
        )
    descriptor = input_descriptor(f"{cls.__name__}_{attr}_input", params, hints)
    files = descriptor.files if isinstance(descriptor, FormParams) else {}
    if is_stream_function(fn):
        if config.task:
            raise BuildError(f"{cls.__name__}.{attr}: a task cannot return a stream (as in BentoML)")
        if config.batchable or ctx_name is not None:
            raise BuildError(
                f"{cls.__name__}.{attr}: a streaming API (a generator) cannot be batchable "
                "nor take a bentoml.Context in bentotui"
            )
        item_type, media_type = stream_output(hints.get("return"))
        # bytes items go out as they are; /schema.json calls them binary strings, as BentoML does
        output = File() if item_type is bytes else output_descriptor(item_type)

        async def stream(value: Any) -> Any:
            kwargs = dict(value)
            return _streamed(method.async_stream(**kwargs), kwargs, files)

        stream.__name__ = api_name
        spec = svc.add_api(
            stream, input=descriptor, output=output, route=config.route, name=api_name, doc=config.doc
        )
        spec.stream_type = text_media_type(media_type or DEFAULT_STREAM_MEDIA_TYPE)
        return

    async def run(kwargs: dict[str, Any], ctx: Context | None) -> Any:
        if config.batchable:
            return await method.async_run(kwargs[params[0].name])
        if ctx is None or ctx_name is None:
            return await method.async_run(**kwargs)
        result, changes = await method.async_run(**kwargs, **{ctx_name: ctx.request})
        ctx.adopt_response(changes)
        return result

    async def call(kwargs: dict[str, Any], ctx: Context | None) -> Any:
        try:
            return _detached(await run(kwargs, ctx), kwargs, files)
        finally:
            remove_uploads(kwargs, files)

    handler: Callable[..., Any]
    if ctx_name is None or config.batchable:

        async def handler(value: Any) -> Any:
            return await call(dict(value), None)  # a validated request model, or FormParams' dict

    else:

        async def handler(value: Any, ctx: Context) -> Any:
            return await call(dict(value), ctx)

    handler.__name__ = api_name
    spec = svc.add_api(
        handler,
        input=descriptor,
        output=output_descriptor(hints.get("return")),
        route=config.route,
        name=api_name,
        doc=config.doc,
        is_task=config.task,
    )
    spec.batchable = config.batchable


def stream_output(annotation: Any) -> tuple[Any, str | None]:
    """The item type of a streaming method's return annotation (``Generator[str, None, None]`` ->
    ``str``) and the media type a ``ContentType`` beside it names
    (``Annotated[AsyncGenerator[str, None], ContentType("text/plain")]``)."""
    from bentotui.service.service import returns_iterator
    from bentotui.validators import ContentType

    base, metadata = annotation, []
    if typing.get_origin(annotation) is typing.Annotated:
        base, *metadata = typing.get_args(annotation)
    media_type = next((m.content_type for m in metadata if isinstance(m, ContentType)), None)
    args = typing.get_args(base) if returns_iterator(base) else ()
    return (args[0] if args else Any), media_type


async def _streamed(items: Any, kwargs: dict[str, Any], files: dict[str, str]) -> Any:
    """The worker's items, the uploads removed once the stream is over (read or closed)."""
    from bentotui.service.params import remove_uploads

    try:
        async for item in items:
            yield item
    finally:
        await items.aclose()
        remove_uploads(kwargs, files)


def _detached(result: Any, kwargs: dict[str, Any], files: dict[str, str]) -> Any:
    """A returned upload (``return document``) as its bytes: the output descriptor reads a ``Path``
    after the call, when the temporary upload is already removed."""
    if isinstance(result, PurePath) and any(
        kind == "path" and kwargs.get(name) == result for name, kind in files.items()
    ):
        with open(result, "rb") as fh:
            return fh.read()
    return result
