"""The signed blocklist, public: ``/v1/blocklist.rpz`` (a DNS response policy zone),
``/v1/blocklist.hosts`` and ``/v1/blocklist.json``, each with its Ed25519 signature in the
``X-Blocklist-Signature`` header and at ``<url>.sig`` (the 64 raw bytes), and the public key at
``/v1/blocklist/key``. An ``ETag`` names each version (``If-None-Match`` → 304). Rate limited per
client (an API key's organisation, or the address)."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from postguard.api.deps import client_key, optional_principal, platform
from postguard.blocklist.service import Rendered, key_id
from postguard.orgs.service import Principal
from postguard.platform import Platform

router = APIRouter(prefix="/v1", tags=["blocklist"], responses={
    429: {"description": "Too many downloads from this client address (or, with a key, this organisation)"}})


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header[:2000].split(",")]
    return "*" in tags or etag in tags


def _serve(request: Request, who: Principal | None, p: Platform, fmt: str, *, signature: bool) -> Response:
    r: Rendered = p.blocklist.get(fmt, client=client_key(request.scope, who))
    etag = r.etag[:-1] + '-sig"' if signature else r.etag
    headers = {"ETag": etag, "Cache-Control": "public, max-age=60", "X-Blocklist-Version": str(r.serial),
               "X-Blocklist-Key-Id": key_id(p.blocklist.public_key())}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if signature:
        return Response(r.signature, media_type="application/octet-stream", headers=headers)
    headers["X-Blocklist-Signature"] = base64.b64encode(r.signature).decode()
    return Response(r.body, media_type=r.media_type, headers=headers)


def _route(fmt: str, signature: bool):
    def serve(request: Request, who: Principal | None = Depends(optional_principal),
              p: Platform = Depends(platform)) -> Response:
        return _serve(request, who, p, fmt, signature=signature)

    what = {"rpz": "a DNS response policy zone (RPZ)", "hosts": "a hosts file",
            "json": "JSON (version, generated_at, entries)"}[fmt]
    serve.__doc__ = (f"The Ed25519 signature (64 bytes) of /v1/blocklist.{fmt}." if signature else
                     f"Confirmed scam domains{' and links' if fmt == 'json' else ''} as {what}, signed "
                     "(X-Blocklist-Signature); If-None-Match with the ETag answers 304.")
    serve.__name__ = f"blocklist_{fmt}{'_sig' if signature else ''}"
    return serve


for _fmt in ("rpz", "hosts", "json"):
    router.add_api_route(f"/blocklist.{_fmt}", _route(_fmt, False), methods=["GET"], response_class=Response)
    router.add_api_route(f"/blocklist.{_fmt}.sig", _route(_fmt, True), methods=["GET"], response_class=Response)


@router.get("/blocklist/key")
def key(request: Request, who: Principal | None = Depends(optional_principal), p: Platform = Depends(platform)) -> dict:
    """The Ed25519 public key that signs the blocklist: raw (base64), PEM (for OpenSSL) and its id."""
    p.blocklist.hit(client_key(request.scope, who))
    return p.blocklist.key_info()
