"""The client's address, as the rate limits and the access log see it (behind a trusted proxy,
uvicorn has already put the forwarded address in the scope), and the address the request came on."""

from __future__ import annotations

import re

from starlette.requests import Request


def scope_ip(scope) -> str:
    """The client address of an ASGI request scope."""
    client = scope.get("client")
    return client[0] if client else "unknown"


def client_ip(request: Request) -> str:
    return scope_ip(request.scope)


_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def served_url(request: Request) -> str | None:
    """The address this request came on (``http://127.0.0.1:8001``): its scheme (``https`` behind a
    trusted proxy that says so) and its Host header, when that is a plain host and port; else None."""
    host = request.headers.get("host", "")
    if not _HOST.match(host) or request.url.scheme not in ("http", "https"):
        return None
    return f"{request.url.scheme}://{host}"
