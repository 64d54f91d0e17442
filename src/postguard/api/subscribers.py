"""Carriers' subscriber records over HTTP: the import (``subscribers:write``), the junk-SIM audit and
its aggregates (``subscribers:audit``), and the re-verification queue (``subscribers:review``, or a
customer-service or administrator session with its CSRF token). See ``postguard.subscribers``."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from postguard.api.deps import platform, principal
from postguard.api.limits import import_upload
from postguard.http.auth import staff_page
from postguard.http.params import RowId
from postguard.http.security import api_key, declares, openapi_security, staff_session
from postguard.orgs.service import Principal
from postguard.platform import Platform
from postguard.subscribers.service import MAX_NOTE, MAX_PAGE, QUEUE_ROLES, STATES

router = APIRouter(prefix="/v1/subscribers", tags=["subscribers"])
WRITE = openapi_security(api_key("subscribers:write"))
AUDIT = openapi_security(api_key("subscribers:audit"))


def _key_or_clerk(scope: str, roles: tuple[str, ...] = QUEUE_ROLES):
    """A dependency: an API key (its ``scope`` is checked by the service, which logs refusals) or a
    session of staff with one of ``roles`` (with the session's CSRF token on changes)."""
    session = staff_page(*roles)

    async def dependency(request: Request) -> Principal:
        if "authorization" in request.headers:
            return principal(request)
        return (await session(request)).principal

    dependency.__name__ = f"key_or_clerk_{scope.replace(':', '_')}_{'_'.join(roles)}"
    return declares(api_key(scope), staff_session(*roles))(dependency)


clerk = _key_or_clerk("subscribers:review")
auditor_or_clerk = _key_or_clerk("subscribers:audit")
revealer = _key_or_clerk("subscribers:review", ("cs",))  # holders are read by customer service only


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: Literal["contacted", "reverified", "suspended", "cleared"]
    version: StrictInt = Field(description="The case's version you saw (409 when it changed meanwhile)")
    note: str = Field("", max_length=MAX_NOTE, description="What was done, at most 500 characters")


class RevealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=200, description="Why you open the holder's data (logged)")


@router.post("/import", openapi_extra=WRITE)
async def import_subscribers(request: Request, who: Principal = Depends(principal),
                             p: Platform = Depends(platform)) -> dict:
    """Upload a carrier's subscriber CSV as the request body (the format of docs/cli.md); each row is
    sealed as it is stored. The answer is the import report (rows, imported, errors by line and field)."""
    report = await import_upload(request, p.settings.max_upload_bytes, lambda f: p.subscribers.import_csv(who, f))
    return report.as_dict()


@router.post("/audit", openapi_extra=AUDIT)
def run_audit(who: Principal = Depends(principal), p: Platform = Depends(platform)) -> dict:
    """Run every junk-SIM check over the organisation's SIMs and open a case for each one flagged; the
    answer holds aggregates only (by reason, by point of sale and by day), with each reason's text."""
    return p.subscribers.run_audit(who).as_dict()


@router.get("/summary")
def summary(who: Principal = Depends(auditor_or_clerk), p: Platform = Depends(platform)) -> dict:
    """The queue's aggregates: cases by state and reason, the points of sale with the most flags."""
    return p.subscribers.summary(who)


@router.get("/cases")
def cases(state: str = Query("open", max_length=16, description=f"open, or one of {', '.join(STATES)}"),
          reason: str | None = Query(None, max_length=40, description="Only cases with this reason code"),
          limit: int = Query(100, ge=1, le=MAX_PAGE), who: Principal = Depends(clerk),
          p: Platform = Depends(platform)) -> dict:
    """The re-verification queue, most urgent first (scam-database numbers on top), masked."""
    return {"items": p.subscribers.queue(who, state=state, reason=reason, limit=limit)}


@router.get("/cases/{case_id}")
def case(case_id: RowId, who: Principal = Depends(clerk), p: Platform = Depends(platform)) -> dict:
    """One case, masked, with its reasons and history."""
    return p.subscribers.show(who, case_id)


@router.post("/cases/{case_id}/reveal")
def reveal(case_id: RowId, body: RevealIn, who: Principal = Depends(revealer), p: Platform = Depends(platform)) -> dict:
    """The case with the holder's number, ID number, name and date of birth, opened through the door
    (purpose ``subscriber_reverify``, logged before anything is decrypted)."""
    return p.subscribers.show(who, case_id, reveal=True, reason=body.reason)


@router.post("/cases/{case_id}/transition", responses={409: {"description": "The case moved meanwhile, or the "
                                                                             "move is not allowed from its state"}})
def transition(case_id: RowId, body: TransitionIn, who: Principal = Depends(clerk),
               p: Platform = Depends(platform)) -> dict:
    """Move a case: flagged → contacted, suspended or cleared; contacted → re-verified, suspended or
    cleared; suspended → re-verified or cleared."""
    return p.subscribers.transition(who, case_id, to=body.to, version=body.version, note=body.note)
