"""``ctx.response.headers``: case-insensitive, several values per name, and Starlette's ``append``.

BentoML hands APIs Starlette's ``MutableHeaders`` (``headers["x-a"] = "1"``,
``headers.append("x-a", "2")``); Werkzeug's ``Headers`` (already a dependency of the server) has
the same semantics under the name ``add``.  Its own module, so that importing the context (every
runner worker hosting a 1.2 class does) does not import Werkzeug until a response is built.
"""

from __future__ import annotations

from werkzeug.datastructures import Headers


class ResponseHeaders(Headers):
    """Werkzeug's ``Headers`` with Starlette's ``append(key, value)`` (adds one more value)."""

    def append(self, key: str, value: str) -> None:
        self.add(key, value)
