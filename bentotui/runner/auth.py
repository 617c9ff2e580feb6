"""The runner link's shared token and the handshake that proves both ends hold it.

A runner server (``bentotui start-runner-server``) takes call frames from API servers on other
hosts, and a call frame is a pickle: whoever can send one runs code in the runner server, and a
runner server that answers with pickles runs code in the API server.  So before any pickle
crosses, both ends prove they hold the same token, without sending it:

1. runner server -> ``HELLO``   ``[server_nonce]``
2. API server    -> ``AUTH``    ``[proof(token, CLIENT, server_nonce), client_nonce]``
3. runner server -> ``WELCOME`` ``[proof(token, SERVER, client_nonce), info]``

``proof`` is HMAC-SHA256 keyed with the token over a role byte-string and the other end's fresh
32-byte nonce, so a recorded proof is worth nothing on another connection and neither end can
reflect the other's proof back (the roles differ).  ``info`` is JSON (never a pickle) naming the
runner and its worker count: the API server checks it is wired to the runner it expects and opens
one connection per worker.  Until it is authenticated a peer may send only frames of
:data:`PREAUTH_MAX_BODY` bytes, must finish within :data:`AUTH_TIMEOUT_S`, and any other frame
closes the connection before it is decoded.

The token comes from ``--token-file`` or ``BENTOTUI_RUNNER_TOKEN`` (the file wins).  With none,
the handshake still runs with an empty key: that only proves both ends speak the protocol, which
is why a runner server bound to a non-loopback address refuses to start without a token, and an
API server refuses to send calls to a non-loopback runner server without one.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import secrets
from pathlib import Path
from typing import Any

from bentotui.exceptions import InvalidArgument

TOKEN_ENV = "BENTOTUI_RUNNER_TOKEN"
MIN_TOKEN_CHARS = 16
NONCE_BYTES = 32
PREAUTH_MAX_BODY = 4096
AUTH_TIMEOUT_S = 5.0
CLIENT, SERVER = b"bentotui-runner-client", b"bentotui-runner-server"
_MAX_INFO = 1024


def load_token(token_file: Path | None = None) -> bytes:
    """The runner link's token: the file's content (stripped), else ``$BENTOTUI_RUNNER_TOKEN``,
    else ``b""`` (loopback only)."""
    if token_file is not None:
        try:
            text = Path(token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidArgument(f"--token-file {token_file}: cannot read it ({exc})") from None
        if not text:
            raise InvalidArgument(f"--token-file {token_file} is empty")
        source = f"--token-file {token_file}"
    else:
        text = os.environ.get(TOKEN_ENV, "").strip()
        source = TOKEN_ENV
    if text and len(text) < MIN_TOKEN_CHARS:
        raise InvalidArgument(
            f"{source}: the runner token must be at least {MIN_TOKEN_CHARS} characters "
            "(`python -c 'import secrets; print(secrets.token_urlsafe(32))'` makes one)"
        )
    return text.encode()


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) only reaches this machine."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


def require_token(host: str, token: bytes, what: str) -> None:
    """Refuse a link to or from a non-loopback ``host`` without a token."""
    if not token and not is_loopback(host):
        raise InvalidArgument(
            f"{what} {host} is not a loopback address: set {TOKEN_ENV} (or --token-file) on both "
            "the runner server and the API server, so that no unauthenticated peer can send calls"
        )


def nonce() -> bytes:
    return secrets.token_bytes(NONCE_BYTES)


def proof(token: bytes, role: bytes, peer_nonce: bytes | memoryview) -> bytes:
    return hmac.new(token, role + bytes(peer_nonce), hashlib.sha256).digest()


def verify(token: bytes, role: bytes, peer_nonce: bytes, claimed: bytes | memoryview) -> bool:
    return hmac.compare_digest(proof(token, role, peer_nonce), bytes(claimed))


def encode_info(info: dict[str, Any]) -> bytes:
    return json.dumps(info, separators=(",", ":")).encode()


def decode_info(raw: bytes | memoryview) -> dict[str, Any]:
    """The runner server's ``WELCOME`` info; ``ValueError`` for anything but a small JSON object
    with a runner name and a worker count."""
    if len(raw) > _MAX_INFO:
        raise ValueError("runner server info too large")
    info = json.loads(bytes(raw))
    if not isinstance(info, dict) or not isinstance(info.get("runner"), str):
        raise ValueError("runner server info names no runner")
    workers = info.get("workers")
    if not isinstance(workers, int) or not 1 <= workers <= 1024:
        raise ValueError("runner server info has no valid worker count")
    return info
