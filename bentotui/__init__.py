"""bentotui: a local model-serving workbench after BentoML.

``import bentotui as bentoml`` is enough to port BentoML 0.x, 1.x and 1.2+ service code.  Public
names are resolved lazily (PEP 562) so that importing the package, the CLI's ``--help`` and the
TUI never load the server stack or an ML library.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> (module, attribute or None for the module itself)
_LAZY: dict[str, tuple[str, str | None]] = {
    "models": ("bentotui.models", None),
    "bentos": ("bentotui.bentos", None),
    "io": ("bentotui.io", None),
    "adapters": ("bentotui.adapters", None),
    "frameworks": ("bentotui.frameworks", None),
    # one per row of bentotui.frameworks.registry (tests/frameworks/test_registry.py checks it)
    "sklearn": ("bentotui.frameworks.sklearn", None),
    "pytorch": ("bentotui.frameworks.pytorch", None),
    "transformers": ("bentotui.frameworks.transformers", None),
    "picklable_model": ("bentotui.frameworks.picklable_model", None),
    "client": ("bentotui.client", None),
    "SyncClient": ("bentotui.client", "SyncClient"),
    "AsyncClient": ("bentotui.client", "AsyncClient"),
    "SyncHTTPClient": ("bentotui.client", "SyncHTTPClient"),
    "AsyncHTTPClient": ("bentotui.client", "AsyncHTTPClient"),
    "HTTPServer": ("bentotui.http_server", "HTTPServer"),
    "Tag": ("bentotui.store.tags", "Tag"),
    "Model": ("bentotui.store.models", "Model"),
    "Runnable": ("bentotui.runner.runnable", "Runnable"),
    "Runner": ("bentotui.runner.runner", "Runner"),
    "Service": ("bentotui.service.service", "Service"),
    "BentoService": ("bentotui.service.legacy", "BentoService"),
    "artifacts": ("bentotui.service.legacy", "artifacts"),
    "env": ("bentotui.service.legacy", "env"),
    "web_static_content": ("bentotui.service.legacy", "web_static_content"),
    "load": ("bentotui.service.bundle", "load"),
    "api": ("bentotui.service.decorators", "api"),
    "task": ("bentotui.service.decorators", "task"),
    "service": ("bentotui.service.classes", "service"),
    "depends": ("bentotui.service.classes", "depends"),
    "Context": ("bentotui.service.context", "Context"),
    "Cookie": ("bentotui.service.context", "Cookie"),
    "on_startup": ("bentotui.service.classes", "on_startup"),
    "on_shutdown": ("bentotui.service.classes", "on_shutdown"),
    "on_deployment": ("bentotui.service.classes", "on_deployment"),
    "asgi_app": ("bentotui.service.classes", "asgi_app"),
    "mount_asgi_app": ("bentotui.service.classes", "mount_asgi_app"),
    "get_current_service": ("bentotui.service.current", "get_current_service"),
    "BentotuiError": ("bentotui.exceptions", "BentotuiError"),
    "exceptions": ("bentotui.exceptions", None),
    "validators": ("bentotui.validators", None),
    "metrics": ("bentotui.metrics", None),
    "monitoring": ("bentotui.monitoring", None),
    "monitor": ("bentotui.monitoring", "monitor"),
    "importing": ("bentotui.service.importing", "importing"),
    "Field": ("pydantic", "Field"),
    # BentoML's top-level bento functions (bentoml.build, bentoml.get, ...)
    "build": ("bentotui.bentos", "build"),
    "get": ("bentotui.bentos", "get"),
    "list": ("bentotui.bentos", "list"),
    "delete": ("bentotui.bentos", "delete"),
    "export_bento": ("bentotui.bentos", "export_bento"),
    "import_bento": ("bentotui.bentos", "import_bento"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'bentotui' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
