"""The routes a bentotui server answers itself, whatever the service: Swagger UI, health, metrics, docs.

``/docs.json`` is the OpenAPI document (Swagger UI, our client, BentoML 1.x's client) and
``/schema.json`` the service schema BentoML 1.4's HTTP clients read; ``/runners.json`` (bentotui's
own) the runner workers' CPU and memory and what adaptive batching did, for the TUI.

Three layers need the same list: the service layer refuses an API on these routes, the server
serves them, and the TUI leaves their traffic (its own poller's, mostly) out of the request
statistics.  It lives here, at the bottom of the package and importing nothing, so the TUI can
read it without loading the service layer.
"""

from __future__ import annotations

INFRA_ROUTES: frozenset[str] = frozenset(
    {"/", "/healthz", "/livez", "/readyz", "/metrics", "/docs.json", "/schema.json", "/runners.json"}
)
