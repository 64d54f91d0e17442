"""Leak-detection routes: alerts (list, acknowledge), canary contacts from the telephony system, and
leak triangulation."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from postguard.api.deps import platform, principal
from postguard.http.params import INT64_MAX, RowId
from postguard.http.security import api_key, openapi_security
from postguard.orgs.service import Principal
from postguard.platform import Platform

router = APIRouter(prefix="/v1", tags=["leak detection"])


class ContactIn(BaseModel):
    """A call or message that reached one of the operator's canary numbers."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    number: str = Field(description="The canary number that was called or messaged", max_length=32)
    from_: str | None = Field(None, alias="from", description="The caller's number, if known", max_length=32)
    kind: Literal["call", "sms"]
    at: datetime | None = Field(None, description="When it happened (RFC 3339)")


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=500)


AUDITOR = openapi_security(api_key("audit:read"))


@router.get("/alerts", openapi_extra=AUDITOR)
def list_alerts(
    kind: str | None = None,
    status: str = Query("open", description="open, acknowledged or all"),
    limit: int = Query(50, ge=1, le=500),
    before: int | None = Query(None, ge=1, le=INT64_MAX, description="Cursor: the last id of the previous page"),
    who: Principal = Depends(principal), p: Platform = Depends(platform),
) -> dict:
    """Alerts of the key's organisation, newest first (scope ``audit:read``)."""
    return p.access_alerts.list(who, kind=kind, status=status, limit=limit, before=before)


@router.post("/alerts/{alert_id}/acknowledge", openapi_extra=openapi_security(api_key("alerts:ack")),
             responses={409: {"description": "The alert was already acknowledged"}})
def acknowledge_alert(alert_id: RowId, body: AckIn | None = None, who: Principal = Depends(principal),
                      p: Platform = Depends(platform)) -> dict:
    """Acknowledge an open alert (scope ``alerts:ack``); logged."""
    return p.access_alerts.acknowledge(who, alert_id, note=body.note if body else None)


@router.post("/canaries/contacts", status_code=202, openapi_extra=openapi_security(api_key("telephony")),
             responses={404: {"description": "The number is no canary of the organisation"}})
def canary_contact(body: ContactIn, who: Principal = Depends(principal), p: Platform = Depends(platform)):
    """The telephony system reports a call or SMS received on a canary number (scope ``telephony``).
    202 and a leak alert naming the channel; an unknown number is 404 with nothing else said."""
    alert = p.canaries.contact(who, number=body.number, caller=body.from_, kind=body.kind, at=body.at)
    return JSONResponse({"accepted": True, "alert": alert}, status_code=202)


@router.get("/shipments/{waybill}/triangulation", openapi_extra=AUDITOR)
def triangulation(waybill: str, who: Principal = Depends(principal), p: Platform = Depends(platform)) -> dict:
    """Who revealed this shipment's personal data, at which stage, ranked (scope ``audit:read``)."""
    return p.leaks.triangulate(who, waybill)
