"""Just-in-time access over HTTP: assigning parcels, a courier's deliveries, and reveals.

Operator systems may assign parcels with an API key (scope ``assignments:write``); hub staff and
administrators may too, with their session. Deliveries and reveals are for people only: a staff
session cookie plus the session's CSRF token in ``X-CSRF-Token``; an API key is refused (403) and the
refusal logged. Which staff may reveal for which purpose is the door's decision (it logs refusals as
``reveal_denied``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from postguard.api.deps import principal as key_principal
from postguard.http.auth import staff_page
from postguard.http.security import api_key, declares, staff_session
from postguard.orgs.service import Principal

router = APIRouter(prefix="/v1", tags=["access"])


def _has_key(request: Request) -> bool:
    return "authorization" in request.headers


def _refuse_key(request: Request, who: Principal, reason: str) -> None:
    request.app.state.platform.orgs.refuse(
        who, reason=reason, subject=request.url.path, details={"method": request.method},
        message="Reveals and deliveries are for staff signed in as people, not API keys.")


def people_only(*roles: str):
    """A staff session (any of ``roles``; any role when empty). API keys are refused and logged."""
    session = staff_page(*roles)

    async def dependency(request: Request):
        if _has_key(request):
            _refuse_key(request, key_principal(request), "API keys cannot reveal or list deliveries")
        return (await session(request)).principal

    return declares(staff_session(*roles))(dependency)


_assigning_staff = staff_page("hub", "admin")


@declares(api_key("assignments:write"), staff_session("hub", "admin"))
async def assigner(request: Request):
    """An API key (its scope is checked by the service, which logs refusals) or a hub/admin session."""
    if _has_key(request):
        return key_principal(request)
    return (await _assigning_staff(request)).principal


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    waybill: str = Field(min_length=1, max_length=64)
    courier: str = Field(min_length=1, max_length=64, description="The courier's username")
    window_start: datetime = Field(description="ISO 8601 with a time-zone offset")
    window_end: datetime = Field(description="ISO 8601 with a time-zone offset; at most 24 hours after the start")


class RevealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: Literal["delivery", "customer_service", "break_glass"]
    ticket: str | None = Field(None, max_length=64, description="customer_service: the ticket reference")
    reason: str | None = Field(None, max_length=500, description="customer_service: why")
    justification: str | None = Field(None, max_length=1000, description="break_glass: why (10+ characters)")


@router.post("/assignments", status_code=201)
def create_assignment(body: AssignmentIn, request: Request, who=Depends(assigner)) -> dict:
    """Give a parcel to a courier for a delivery window (any earlier assignment of it ends)."""
    assignment_id = request.app.state.platform.access.assign(
        who, waybill=body.waybill, courier=body.courier, window_start=body.window_start, window_end=body.window_end)
    return {"assignment_id": assignment_id, "waybill": body.waybill, "courier": body.courier.strip().lower(),
            "window_start": body.window_start.isoformat(), "window_end": body.window_end.isoformat()}


@router.get("/deliveries")
def list_deliveries(request: Request, who=Depends(people_only("courier"))) -> dict:
    """The signed-in courier's active assignments, masked, with whether a reveal is possible now."""
    return {"items": request.app.state.platform.access.deliveries(who)}


@router.post("/shipments/{waybill}/reveal", responses={
    410: {"description": "The shipment's personal data was crypto-shredded"},
    503: {"description": "The access log could not record the reveal, so nothing was revealed"}})
def reveal(waybill: str, body: RevealIn, request: Request, who=Depends(people_only())) -> dict:
    """The personal data the purpose covers, after the door has decided and logged the reveal."""
    return request.app.state.platform.access.reveal(
        who, waybill=waybill, purpose=body.purpose, ticket=body.ticket, reason=body.reason,
        justification=body.justification)
