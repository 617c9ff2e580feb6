"""``/docs.json``: the OpenAPI 3.1 document of a service.

Besides Swagger UI, ``bentotui.client.read_apis`` reads it: the client finds APIs by name
(``operationId``, also written as ``x-bentotui-api-name``) and route, and the TUI, through the
same reader, pre-fills its request panel from the first media type of each ``requestBody`` and its
``example``.  BentoML 1.x's ``bentoml.client.Client.from_url`` reads it too, so each API carries
what that client looks for: the ``Service APIs`` tag, ``x-bentoml-name``, a ``description`` and
the ``x-bentoml-io-descriptor`` of its request body and 200 response.  An API whose schema cannot
be built is documented as taking any body (``schema.described``), never a 500 for the document.
A task (``@bentoml.task``) also has its five task routes, as BentoML 1.4 lists them.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import bentotui
from bentotui.service.schema import described, io_descriptor_spec, stream_media_type, stream_schema
from bentotui.service.service import TASK_ACTIONS, APISpec, Service, task_routes

# BentoML 1.x's tag name: its client takes only the operations tagged so for APIs
API_TAG = "Service APIs"
INFRA_TAG = "infrastructure"

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_TASK_STATUS_REF = {"$ref": "#/components/schemas/TaskStatus"}
_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "one line saying what went wrong"},
        "detail": {"description": "context: the offending fields, the request id, ..."},
    },
    "required": ["error"],
}
# Status codes every API can answer besides 200, and why.
_API_ERRORS = {
    "400": "Bad input: malformed or wrong-typed body",
    "413": "Request body over the server's limit",
    "500": "The API function failed (traceback in the server log)",
    "503": "Overloaded, or a runner has no live worker",
    "504": "Took longer than the server's --timeout",
}
_TASK_STATUS_SCHEMA = {
    "type": "object",
    "properties": {
        "task_id": {"type": "string"},
        "status": {"type": "string", "enum": ["pending", "in_progress", "completed", "failed", "canceled"]},
        "created_at": {"type": "string", "format": "date-time"},
        "executed_at": {"type": ["string", "null"], "format": "date-time"},
    },
    "required": ["task_id", "status", "created_at", "executed_at"],
}
_TASK_ID_PARAM = {"name": "task_id", "in": "query", "required": True, "schema": {"type": "string", "title": "Task ID"}}
# per task route: summary, BentoML's x-bentoml-name suffix
_TASK_OPERATIONS = {
    "submit": ("Submit a task of {}", "submit"),
    "status": ("Status of a task of {}", "status"),
    "get": ("Result of a task of {}: the response its API would have given", "result"),
    "cancel": ("Cancel an in-progress task of {}", "cancel"),
    "retry": ("Run a finished task of {} again, as a new task", "retry"),
}
_TASK_ERRORS = {
    "400": "No task_id, or the task has not completed (get, retry), or is not in progress (cancel)",
    "404": "No task with that id",
    "503": "The task queue is full (submit, retry)",
}
_INFRA_ROUTES = {
    "/healthz": ("Health check: 200 while the process serves", "text/plain"),
    "/livez": ("Liveness: 200 while the process serves", "text/plain"),
    "/readyz": ("Readiness: 200 once every runner has a live worker, else 503", "text/plain"),
    "/metrics": ("Prometheus metrics", "text/plain"),
    "/runners.json": (
        "Runner workers and their fork server (pid, CPU, RSS and PSS, calls in flight) and each batchable method's batching: "
        "its fitted cost line, batch sizes, queue wait and the last refusals with their reasons",
        "application/json",
    ),
}


def openapi_spec(service: Service) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``service`` (JSON-serialisable; the server caches it)."""
    components: dict[str, Any] = {"Error": _ERROR_SCHEMA}
    paths: dict[str, Any] = {}
    for api in service.apis.values():
        fallback: tuple[dict[str, Any], dict[str, Any]] = (_permissive_operation(api), {})
        operation, schemas = described(service, api, partial(_documented, api), fallback)
        paths[api.route] = {"post": operation}
        components.update(schemas)
        if api.is_task:
            paths.update(_task_paths(api, operation))
            components["TaskStatus"] = _TASK_STATUS_SCHEMA
    for route, (summary, media_type) in _INFRA_ROUTES.items():
        paths[route] = {"get": _infra_operation(route, summary, media_type)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": service.name,
            "version": bentotui.__version__,
            "description": f"APIs of the bentotui service {service.name!r}.",
        },
        "tags": [
            {"name": API_TAG, "description": "the service's own endpoints"},
            {"name": INFRA_TAG, "description": "health, readiness and metrics"},
        ],
        "paths": paths,
        "components": {"schemas": components},
    }


def _documented(api: APISpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """The operation of ``api`` and the component schemas it refers to."""
    return _operation(api), {**api.input.openapi_components(), **api.output.openapi_components()}


def _operation(
    api: APISpec,
    request_content: dict[str, Any] | None = None,
    response_content: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The POST operation of ``api``; the contents default to the descriptors' own."""
    if request_content is None:
        request_content = api.input.openapi_request_content()
    if response_content is None:
        response_content = _stream_content(api) if api.stream_type else api.output.openapi_response_content()
    responses: dict[str, Any] = {
        "200": {
            "description": "Success",
            "content": response_content,
            "x-bentoml-io-descriptor": io_descriptor_spec(api.output),
        }
    }
    for status, description in _API_ERRORS.items():
        responses[status] = {
            "description": description,
            "content": {"application/json": {"schema": _ERROR_REF}},
        }
    operation: dict[str, Any] = {
        "operationId": api.name,
        "x-bentotui-api-name": api.name,
        "x-bentoml-name": api.name,
        "x-bentotui-io": {"input": type(api.input).__name__, "output": type(api.output).__name__},
        "tags": [API_TAG],
        "summary": api.doc.strip().splitlines()[0] if api.doc and api.doc.strip() else api.name,
        "description": api.doc or "",
        "requestBody": {
            "required": True,
            "content": request_content,
            "x-bentoml-io-descriptor": io_descriptor_spec(api.input),
        },
        "responses": responses,
    }
    return operation


def _task_paths(api: APISpec, operation: dict[str, Any]) -> dict[str, Any]:
    """The five task routes of ``api``, as BentoML 1.4 documents them (``_bentoml_sdk/service/openapi.py``):
    submit takes the API's body, the others a ``task_id`` query parameter; ``get`` answers the
    API's response, the others the task's status.  The operation ids (``classify.submit``) are not
    identifiers, so they cannot clash with an API's name; ``x-bentotui-task`` marks them."""
    status = {"description": "The task's status", "content": {"application/json": {"schema": _TASK_STATUS_REF}}}
    errors = {
        code: {"description": text, "content": {"application/json": {"schema": _ERROR_REF}}}
        for code, text in _TASK_ERRORS.items()
    }
    paths: dict[str, Any] = {}
    for path, action in task_routes(api.route).items():
        summary, bentoml_name = _TASK_OPERATIONS[action]
        ok = operation["responses"]["200"] if action == "get" else status
        extra = {"requestBody": operation["requestBody"]} if action == "submit" else {"parameters": [_TASK_ID_PARAM]}
        paths[path] = {
            TASK_ACTIONS[action].lower(): {
                "operationId": f"{api.name}.{action}",
                "x-bentoml-name": f"{api.name}_{bentoml_name}",
                "x-bentotui-task": action,
                "tags": [API_TAG],
                "summary": summary.format(api.name),
                "responses": {"200": ok, **errors},
                **extra,
            }
        }
    return paths


def _stream_content(api: APISpec) -> dict[str, Any]:
    """A streaming API's 200 body: its items, one after another, under the stream's media type
    (the schema is one item's; ``x-bentotui-stream`` says the body is a sequence of them)."""
    schema = {key: value for key, value in stream_schema(api).items() if key not in ("is_stream", "media_type")}
    return {stream_media_type(api): {"schema": schema, "x-bentotui-stream": True}}


def _permissive_operation(api: APISpec) -> dict[str, Any]:
    """The operation of an API whose schemas could not be built: any body of its media types."""
    media_type = stream_media_type(api) if api.stream_type else api.output.media_type
    return _operation(api, {api.input.media_type: {"schema": {}}}, {media_type: {"schema": {}}})


def _infra_operation(route: str, summary: str, media_type: str) -> dict[str, Any]:
    schema = {"type": "object"} if media_type == "application/json" else {"type": "string"}
    responses: dict[str, Any] = {"200": {"description": "OK", "content": {media_type: {"schema": schema}}}}
    if route == "/readyz":
        responses["503"] = {
            "description": "A runner is not ready",
            "content": {media_type: {"schema": {"type": "string"}}},
        }
    # "infra.healthz" is not an identifier, so it cannot clash with an API name.
    return {
        "operationId": f"infra.{route.strip('/').removesuffix('.json')}",
        "tags": [INFRA_TAG],
        "summary": summary,
        "responses": responses,
    }
