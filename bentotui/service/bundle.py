"""A saved bundle used in this process: 0.x's ``bentoml.load(path)`` and ``bentoml run``.

BentoML 0.x notebooks end with ``svc = bentoml.load(saved_path); svc.predict(df)``: the saved
service class, its artifacts loaded, called like any object -- no server, no runner workers.  A
bento written by ``BentoService.save()`` names its class and artifact models in the generated
module's ``load_saved(class_ref, model_tags)`` call, which is read here as data (never executed),
so :func:`load` rebuilds exactly the instance a runner worker would host.  Other bentos (1.x, 1.2)
load as their :class:`~bentotui.service.Service`, as 1.x's ``bentoml.load`` does.

:func:`call_api` is ``bentotui run TAG API``: the request body goes through the API's own input
descriptor and the result through its output descriptor, so a bad input is refused in the words
the server would use, and runners run in this process (their first call builds them locally).
"""

from __future__ import annotations

import ast
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import InvalidArgument, NotFound, StoreCorrupted
from bentotui.io.base import HTTPRequest, HTTPResponse
from bentotui.service.legacy import GENERATED_MODULE, load_instance

if TYPE_CHECKING:
    from bentotui.store.bentos import Bento


def _saved_call(bento: Bento) -> tuple[str, dict[str, str]] | None:
    """``(class_ref, model_tags)`` of a bento that ``BentoService.save()`` wrote, else None."""
    if bento.info.service != f"{GENERATED_MODULE}:svc":
        return None
    generated = bento.path / "src" / f"{GENERATED_MODULE}.py"
    try:
        tree = ast.parse(generated.read_text(encoding="utf-8"))
        (call,) = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "load_saved"]
        class_ref, model_tags = (ast.literal_eval(arg) for arg in call.args)
    except (OSError, SyntaxError, ValueError) as exc:
        raise StoreCorrupted(f"bento {bento.tag}: unreadable {generated.name}: {exc}") from None
    return class_ref, model_tags


def _find(bundle: str | Path) -> Bento:
    from bentotui.bento.serving import ensure_models, find_bento

    bento = find_bento(str(bundle))
    if bento is None:
        raise NotFound(f"no saved bundle {str(bundle)!r} (neither a bento folder nor a tag in the store)")
    ensure_models(bento)
    return bento


def load(bundle: str | Path) -> Any:
    """The service saved at ``bundle`` (a path ``save()`` returned, or a tag such as
    ``IrisClassifier:latest``), ready to call in this process; see the module docstring."""
    from bentotui.bento.serving import load_bento_service

    bento = _find(bundle)
    saved = _saved_call(bento)
    if saved is None:
        return load_bento_service(str(bento.path)).service
    src = str(bento.path / "src")
    if src not in sys.path:
        sys.path.insert(0, src)  # as 0.x's load: the bundle's modules become importable
    return load_instance(*saved)


def call_api(target: str, api_name: str, body: bytes, content_type: str | None) -> HTTPResponse:
    """Call one API of the bento ``target`` in process; ``content_type`` None: the input's own."""
    from bentotui.bento.serving import load_bento_service

    service = load_bento_service(str(_find(target).path)).service
    api = service.apis.get(api_name)
    if api is None:
        raise InvalidArgument(f"{service.name} has no API {api_name!r}; its APIs: {', '.join(service.apis)}")
    request = HTTPRequest(body, content_type or api.input.media_type)

    async def call() -> Any:
        return await api.call(await api.input.from_http(request))

    return api.output.to_http(asyncio.run(call()))
