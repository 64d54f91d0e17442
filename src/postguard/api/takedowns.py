"""Takedown requests for confirmed scam sites (analysts: ``intel:analyst``): create them for an
indicator or a site, list and read them, download a request's evidence pack, send it, and record the
recipient's answer. See docs/api.md, "Takedown requests"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from postguard.api.deps import platform, principal
from postguard.http.params import INT64_MAX
from postguard.http.security import api_key, openapi_security
from postguard.orgs.service import Principal
from postguard.platform import Platform
from postguard.takedown.service import ContactIn

router = APIRouter(prefix="/v1/takedowns", tags=["takedowns"])
Ref = Annotated[str, Path(min_length=1, max_length=24, description="A takedown request's reference (TD-…)")]
ZIP = {"content": {"application/zip": {}}, "description": "The evidence pack"}
ANALYST = openapi_security(api_key("intel:analyst"))


class ContactBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254, description="The abuse desk's e-mail address")
    url: str | None = Field(None, max_length=500, description="Or its web form (https)")

    def contact(self) -> ContactIn:
        return ContactIn(name=self.name, email=self.email, url=self.url)


class CreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indicator: int | None = Field(None, ge=1, le=INT64_MAX, description="A confirmed domain or url indicator")
    site: str | None = Field(None, max_length=2048, description="Or the site's domain or link")
    reason: str = Field("", max_length=2000, description="The analysts' statement, written into the letter")
    registrar: ContactBody | None = None
    hosting: ContactBody | None = None
    platform: ContactBody | None = None
    include_reports: list[Annotated[str, Field(max_length=24)]] = Field(
        default_factory=list, max_length=20,
        description="Reports whose description goes into the pack (none by default; contacts never)")


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str = Field(description="sent, acknowledged, removed or refused")
    note: str = Field("", max_length=2000)
    version: int | None = Field(None, ge=1, le=2**31 - 1, description="The version you saw (409 if it changed)")


@router.post("", status_code=201, openapi_extra=ANALYST, responses={
    404: {"description": "No such site or indicator"},
    409: {"description": "The site is not confirmed as a scam"}})
def create(body: CreateIn, who: Principal = Depends(principal), p: Platform = Depends(platform)) -> dict:
    """One request per recipient (registrar or registry, hosting provider, platform); idempotent."""
    return p.takedowns.create(
        who, indicator_id=body.indicator, site=body.site, reason=body.reason,
        registrar=body.registrar.contact() if body.registrar else None,
        hosting=body.hosting.contact() if body.hosting else None,
        platform_contact=body.platform.contact() if body.platform else None, include_reports=body.include_reports)


@router.get("", openapi_extra=ANALYST)
def list_requests(status: str | None = Query(None, max_length=16), site: str | None = Query(None, max_length=253),
                  overdue: bool = False, limit: int = Query(100, ge=1, le=500), who: Principal = Depends(principal),
                  p: Platform = Depends(platform)) -> dict:
    """Takedown requests, newest first (``site``: a domain and the names below it; ``overdue``: sent
    and unanswered for longer than the configured days)."""
    return {"items": p.takedowns.list(who, status=status, site=site, overdue=overdue, limit=limit)}


@router.get("/{ref}", openapi_extra=ANALYST)
def get(ref: Ref, who: Principal = Depends(principal), p: Platform = Depends(platform)) -> dict:
    """One request: its recipient, status, dates, attempts, the pack's digest, version and history."""
    return p.takedowns.get(who, ref)


@router.get("/{ref}/pack", response_class=Response, responses={200: ZIP}, openapi_extra=ANALYST)
def pack(ref: Ref, who: Principal = Depends(principal), p: Platform = Depends(platform)) -> Response:
    """The evidence pack (ZIP); its evidence is opened through the door and logged."""
    name, data = p.takedowns.pack(who, ref)
    return Response(data, media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/{ref}/send", openapi_extra=ANALYST, responses={
    409: {"description": "Not a draft or failed request, being sent, or without an e-mail contact"},
    502: {"description": "Sending failed: the request is now `failed` and may be sent again"}})
def send(ref: Ref, who: Principal = Depends(principal), p: Platform = Depends(platform)) -> dict:
    """Send by e-mail with the pack attached; 409 if it is not a draft or failed request or another send
    is under way, 502 if sending failed (the request is then ``failed`` and may be sent again)."""
    return p.takedowns.send(who, ref)


@router.post("/{ref}/status", openapi_extra=ANALYST, responses={
    409: {"description": "Not an allowed step from the request's status, or changed since `version`"}})
def set_status(ref: Ref, body: StatusIn, who: Principal = Depends(principal), p: Platform = Depends(platform)) -> dict:
    """Record the recipient's answer: sent (by hand, through a web form), acknowledged, removed or refused."""
    return p.takedowns.set_status(who, ref, status=body.status, note=body.note, version=body.version)
