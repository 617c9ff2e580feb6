"""The WSGI app that serves a 0.x ``@web_static_content`` folder (mounted at ``/`` of its server).

0.x served the folder's files at their paths and a folder's ``index.html`` for the folder itself
(``/`` and ``/any_path/``).  Werkzeug's ``send_from_directory`` does the serving: it refuses paths
that leave the folder, sets content types, and answers conditional requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def static_files_app(folder: Path) -> WSGIApp:
    """A WSGI app serving ``folder``; a folder path gets its ``index.html``, a miss a 404."""
    from werkzeug.exceptions import HTTPException
    from werkzeug.utils import send_from_directory
    from werkzeug.wrappers import Request

    root = folder.resolve()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        path = request.path.lstrip("/")
        if not path or path.endswith("/") or (root / path).is_dir():
            path = path.rstrip("/") + "/index.html" if path else "index.html"
        try:
            response = send_from_directory(root, path, environ)
        except HTTPException as exc:
            return exc(environ, start_response)
        return response(environ, start_response)

    return app
