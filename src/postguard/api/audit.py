"""Access-log routes: the signed checkpoint (public: it reveals only a size and a hash) and proofs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse

from postguard.api.deps import platform, scoped
from postguard.http.params import INT64_MAX
from postguard.orgs.service import Principal
from postguard.platform import Platform

router = APIRouter(prefix="/v1/audit", tags=["access log"])
auditor = scoped("audit:read")


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(p: Platform = Depends(platform)) -> PlainTextResponse:
    """The latest signed checkpoint (C2SP tlog-checkpoint as an Ed25519 signed note), with the
    cosignatures witnesses have given it so far."""
    return PlainTextResponse(p.witnessing.cosigned_note(p.audit.latest_checkpoint()))


@router.get("/verifier-key", response_class=PlainTextResponse)
def verifier_key(p: Platform = Depends(platform)) -> PlainTextResponse:
    """The verifier key (a C2SP signed-note key) that checks the access log's checkpoints."""
    return PlainTextResponse(p.audit.verifier_key() + "\n")


@router.get("/inclusion")
def inclusion(index: int = Query(..., ge=0, le=INT64_MAX), size: int | None = Query(None, ge=1, le=INT64_MAX),
              who: Principal = Depends(auditor), p: Platform = Depends(platform)) -> dict:
    """An entry of your organisation and its RFC 9162 inclusion proof against the checkpoint of ``size``
    (default: the latest)."""
    return p.audit.inclusion(index, size=size, org_id=who.org_id)


@router.get("/consistency")
def consistency(size1: int = Query(..., ge=0, le=INT64_MAX), size2: int = Query(..., ge=0, le=INT64_MAX),
                who: Principal = Depends(auditor), p: Platform = Depends(platform)) -> dict:
    """An RFC 9162 consistency proof between two tree sizes of the access log."""
    return p.audit.consistency(size1, size2)
