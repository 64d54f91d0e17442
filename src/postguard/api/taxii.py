"""Read-only TAXII 2.1: discovery, the API root, one collection of scam indicators, its objects
(``added_after``, ``limit``, ``next``, ``match[type]``, ``match[id]``) and manifest. Every request
needs an API key with the ``intel:read`` scope (refusals are logged)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from postguard.api.deps import platform, scoped
from postguard.errors import (
    FieldError,
    InvalidInput,
    NotAcceptable,
    NotFound,
)
from postguard.http.params import INT64_MAX
from postguard.intel.feed import COLLECTION_ID, STIX_MEDIA, collection_info
from postguard.intel.sharing import stix_time
from postguard.orgs.service import Principal
from postguard.platform import Platform

TAXII = "application/taxii+json;version=2.1"
router = APIRouter(prefix="/taxii2", tags=["TAXII 2.1"], responses={
    406: {"description": f"The `Accept` header excludes {TAXII}"}})


def _accepts(request: Request) -> None:
    accept = request.headers.get("accept", "")
    if accept and not any(part.split(";")[0].strip() in ("application/taxii+json", "application/*", "*/*")
                          for part in accept.split(",")):
        raise NotAcceptable(f"This server answers with {TAXII}.")


reader = scoped("intel:read")


def _taxii(body: dict, headers: dict | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), media_type=TAXII, headers=headers)


def _collection(collection_id: str) -> None:
    if collection_id != COLLECTION_ID:
        raise NotFound("No such collection.")


@router.get("/", response_class=Response)
def discovery(request: Request, who: Principal = Depends(reader), p: Platform = Depends(platform)) -> Response:
    """TAXII 2.1 discovery: the server's one API root."""
    _accepts(request)
    base = str(request.base_url).rstrip("/")
    return _taxii({"title": f"{p.settings.intel_identity_name} TAXII", "description": "Scam indicators, read only.",
                   "default": f"{base}/taxii2/api/", "api_roots": [f"{base}/taxii2/api/"]})


@router.get("/api/", response_class=Response)
def api_root(request: Request, who: Principal = Depends(reader), p: Platform = Depends(platform)) -> Response:
    """The API root's information: its title, the TAXII version it speaks."""
    _accepts(request)
    return _taxii({"title": "Scam intelligence", "versions": [TAXII], "max_content_length": 0})


@router.get("/api/collections/", response_class=Response)
def collections(request: Request, who: Principal = Depends(reader)) -> Response:
    """The collections: one, of scam indicators, readable and not writable."""
    _accepts(request)
    return _taxii({"collections": [collection_info()]})


@router.get("/api/collections/{collection_id}/", response_class=Response)
def collection(collection_id: str, request: Request, who: Principal = Depends(reader)) -> Response:
    """The collection of scam indicators."""
    _accepts(request)
    _collection(collection_id)
    return _taxii(collection_info())


def _page(request, who, p, collection_id, added_after, limit, next_token, ids=None):
    _accepts(request)
    _collection(collection_id)
    types = request.query_params.getlist("match[type]")
    ids = ids or [i for v in request.query_params.getlist("match[id]") for i in v.split(",") if i]
    types = [t for v in types for t in v.split(",") if t]
    page = p.sharing.page(who, added_after=added_after, limit=limit, next_token=next_token, types=types, ids=ids)
    headers = {}
    if page.first is not None:
        headers = {"X-TAXII-Date-Added-First": stix_time(page.first), "X-TAXII-Date-Added-Last": stix_time(page.last)}
    return page, headers


@router.get("/api/collections/{collection_id}/objects/", response_class=Response)
def objects(
    collection_id: str, request: Request,
    added_after: str | None = Query(None, description="Only objects added after this time"),
    limit: int | None = Query(None, ge=1, le=INT64_MAX, description="Objects per page (capped by the server)"),
    next: str | None = Query(None, description="The `next` token of the previous page"),
    who: Principal = Depends(reader), p: Platform = Depends(platform),
) -> Response:
    """The collection's STIX objects in the order they were added (an envelope; ``next`` pages on),
    filtered by ``added_after``, ``match[type]`` and ``match[id]``. Each page is written to the access
    log before personal values are decrypted."""
    page, headers = _page(request, who, p, collection_id, added_after, limit, next)
    body = {"more": page.more, "objects": page.objects}
    if page.next:
        body["next"] = page.next
    return _taxii(body, headers)


@router.get("/api/collections/{collection_id}/objects/{object_id}/", response_class=Response)
def object_by_id(collection_id: str, object_id: str, request: Request, who: Principal = Depends(reader),
                 p: Platform = Depends(platform)) -> Response:
    """One STIX object of the collection, by its id."""
    if "--" not in object_id:
        raise InvalidInput("The request is not valid.", [FieldError("object_id", "a STIX id")])
    page, headers = _page(request, who, p, collection_id, None, None, None, ids=[object_id])
    if not page.objects:
        raise NotFound("No such object in this collection.")
    return _taxii({"more": False, "objects": page.objects}, headers)


@router.get("/api/collections/{collection_id}/manifest/", response_class=Response)
def manifest(
    collection_id: str, request: Request,
    added_after: str | None = Query(None), limit: int | None = Query(None, ge=1, le=INT64_MAX),
    next: str | None = Query(None),
    who: Principal = Depends(reader), p: Platform = Depends(platform),
) -> Response:
    """The collection's manifest: ids, dates added, versions and media types, paged like the objects."""
    page, headers = _page(request, who, p, collection_id, added_after, limit, next)
    body = {"more": page.more, "objects": [
        {"id": o["id"], "date_added": stix_time(d), "version": o.get("modified", stix_time(d)), "media_type": STIX_MEDIA}
        for o, d in zip(page.objects, page.dates, strict=True)]}
    if page.next:
        body["next"] = page.next
    return _taxii(body, headers)
