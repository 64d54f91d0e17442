"""The lookalike scanner's hits: the scanner sends them (``intel:scanner``, or an analyst), analysts
list, confirm and dismiss them (``intel:analyst``). Hosts are public names (certificate-transparency
logs, zone feeds); nothing personal travels here."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from postguard.api.deps import platform, principal
from postguard.api.limits import loads_json
from postguard.errors import FieldError, InvalidInput
from postguard.http.params import INT64_MAX, RowId, require_json
from postguard.http.security import api_key, openapi_security
from postguard.intel.scanner import MAX_BATCH, MAX_LIST
from postguard.orgs.service import Principal
from postguard.platform import Platform

router = APIRouter(prefix="/v1", tags=["lookalike websites"])


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=2000)


HITS_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["hits"], "additionalProperties": False,
    "properties": {"hits": {"type": "array", "maxItems": MAX_BATCH, "items": {"type": "object"},
                            "description": "The scanner's hits (host, domain, brand, official, technique, score, "
                                           "reasons, campaign, seen), as it writes them one per line"}}}}}}}


ANALYST = openapi_security(api_key("intel:analyst"))


@router.post("/lookalikes", openapi_extra={**HITS_BODY, **openapi_security(api_key("intel:scanner"),
                                                                         api_key("intel:analyst"))},
             responses={415: {"description": "The body is not JSON"}})
async def ingest(request: Request, who: Principal = Depends(principal), p: Platform = Depends(platform)) -> dict:
    """Take in up to 10,000 hits (the body up to ``POSTGUARD_LOOKALIKE_BODY_BYTES``, 16 MiB). Each is checked field by field; a bad one is listed in ``errors``
    with its ``index`` and ``field`` and the others still land. Answers the counts ``new``,
    ``updated``, ``skipped_dismissed`` and ``invalid``."""
    require_json(request.scope, "hits")
    body = loads_json(await request.body(), "body")
    if not isinstance(body, dict) or set(body) != {"hits"} or not isinstance(body["hits"], list):
        raise InvalidInput("The request is not valid.", [FieldError("hits", "send {\"hits\": [...]}", code="type")])
    return await run_in_threadpool(p.intel.scanner.ingest, who, body["hits"])


@router.get("/lookalikes", openapi_extra=ANALYST)
def hits(status: str | None = Query(None, description="new, confirmed or dismissed"),
         brand: str | None = Query(None, max_length=100), campaign: str | None = Query(None, max_length=200),
         limit: int = Query(100, ge=1, le=MAX_LIST), cursor: int | None = Query(None, ge=1, le=INT64_MAX),
         who: Principal = Depends(principal), p: Platform = Depends(platform)) -> dict:
    """Hits, newest first, with the campaigns among them; ``next`` is the ``cursor`` of the next page."""
    return p.intel.scanner.hits(who, status=status, brand=brand, campaign=campaign, limit=limit, cursor=cursor)


@router.post("/lookalikes/{hit_id}/confirm", openapi_extra=ANALYST)
def confirm(hit_id: RowId, body: NoteIn | None = None, who: Principal = Depends(principal),
            p: Platform = Depends(platform)) -> dict:
    """Confirm the hit's domain as a scam (the analyst decision ``confirm``): it is published in the blocklist."""
    return p.intel.scanner.confirm(who, hit_id, note=body.note if body else "")


@router.post("/lookalikes/{hit_id}/dismiss", openapi_extra=ANALYST)
def dismiss(hit_id: RowId, body: NoteIn | None = None, who: Principal = Depends(principal),
            p: Platform = Depends(platform)) -> dict:
    """Dismiss the hit (the decision ``delist``): the scanner's later hits on the host are skipped."""
    return p.intel.scanner.dismiss(who, hit_id, note=body.note if body else "")
