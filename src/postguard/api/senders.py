"""Operators' message templates and sent notifications; "did my operator really send this?"; the COD rule."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from postguard.api.deps import platform, principal, scoped
from postguard.http.address import client_ip
from postguard.http.params import RowId
from postguard.http.proof import PROOF_COOKIE
from postguard.http.security import ANONYMOUS, Responses, api_key, openapi_security
from postguard.orgs.service import Principal
from postguard.platform import Platform
from postguard.senders.service import MAX_BATCH, MAX_SENDER, ProvenPhone

router = APIRouter(prefix="/v1", tags=["senders"])
PROVEN = openapi_security(ANONYMOUS, {"subjectProofCookie": []})  # or the proof in the body
PROVEN_ERRORS: Responses = {401: {"description": "A proof (in the body or the cookie) that is not valid"},
                            429: {"description": "Too many requests from this client address"}}
recorder = scoped("notifications:write")
official = scoped("intel:official")


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=2000, description="the wording, with {waybill}, {amount}, {time}, {date}, {link}, "
                                                   "{hotline}")
    label: str = Field("", max_length=200)
    org: str | None = Field(None, max_length=32, description="another organisation (intel:admin only)")


class TemplateStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["verified", "revoked"] = Field(description="verified (platform administrators, intel:admin) or "
                                                              "revoked (also the owning organisation, intel:official)")


class NotificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    template_id: int = Field(ge=1, le=2**62)
    phone: str = Field(max_length=40)
    sent_at: str = Field(max_length=40, description="ISO 8601 with its offset")
    waybill: str | None = Field(None, max_length=40)
    values: dict[str, str] = Field(default_factory=dict, max_length=8)


class NotificationsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[NotificationIn] = Field(min_length=1, max_length=MAX_BATCH)


class MatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000, description="the message, as received")
    proof: str | None = Field(None, max_length=1000, description="a one-time-code proof of your number (optional)")
    sender: str | None = Field(None, max_length=MAX_SENDER,
                               description="the SMS brandname, number or Zalo page it came from (optional)")


class CodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: str = Field(min_length=1, max_length=100, description="MB 0123456789, or MoMo 0912345678")
    purpose: Literal["cod", "fee", "refund"] = "cod"
    proof: str | None = Field(None, max_length=1000)


def _proven(p: Platform, request: Request, proof: str | None) -> ProvenPhone | None:
    token = proof or request.cookies.get(PROOF_COOKIE)
    return p.senders.proven(token) if token else None


@router.get("/senders/templates")
def templates(org: str | None = Query(None, max_length=32), p: Platform = Depends(platform)) -> list[dict[str, Any]]:
    """The verified message templates of the operators (public wording)."""
    return p.senders.template_list(org_code=org, status="verified")


@router.post("/senders/templates", status_code=201, responses={409: {"description": "This wording is already "
                                                                                   "registered"}})
def template_add(body: TemplateIn, who: Principal = Depends(official), p: Platform = Depends(platform)) -> dict:
    """Register a message template of your organisation (pending until an administrator verifies it)."""
    return p.senders.template_add(who, text=body.text, label=body.label, org_code=body.org)


@router.post("/senders/templates/{template_id}/status",
             openapi_extra=openapi_security(api_key("intel:admin"), api_key("intel:official")),
             responses={409: {"description": "Already in that status, revoked, or changed meanwhile"}})
def template_status(template_id: RowId, body: TemplateStatusIn, who: Principal = Depends(principal),
                    p: Platform = Depends(platform)) -> dict:
    """Verify a template (``intel:admin``) or revoke it (``intel:admin``, or ``intel:official`` of the
    organisation that registered it). 409 when the template is already in that status, is revoked, or
    changed meanwhile."""
    return p.senders.template_set_status(who, template_id, status=body.status)


@router.post("/notifications", responses={429: {"description": "More than 600 requests a minute from the "
                                                                 "organisation"}})
def record(body: NotificationsIn, who: Principal = Depends(recorder), p: Platform = Depends(platform)) -> dict:
    """Record notifications your organisation sent (kept as keyed digests only), up to 1,000 at once."""
    p.limiter.hit("600/minute", "notifications", who.actor)
    return p.senders.record(who, [i.model_dump(exclude_none=True) for i in body.items])


@router.post("/senders/match", openapi_extra=PROVEN, responses=PROVEN_ERRORS)
def match(body: MatchIn, request: Request, p: Platform = Depends(platform)) -> dict:
    """Which operator's template a message is and, with a proof of your number, whether they sent it to you."""
    p.limiter.hit("60/minute", "senders-match", client_ip(request))
    return p.senders.match_message(body.text, phone=_proven(p, request, body.proof), sender=body.sender).as_dict()


@router.post("/senders/cod-check", openapi_extra=PROVEN, responses=PROVEN_ERRORS)
def cod_check(body: CodIn, request: Request, p: Platform = Depends(platform)) -> dict:
    """Whether paying COD, a fee or a refund into this account or wallet is safe."""
    p.limiter.hit("60/minute", "senders-cod", client_ip(request))
    return p.senders.cod_danger(body.account, phone=_proven(p, request, body.proof), purpose=body.purpose).as_dict()
