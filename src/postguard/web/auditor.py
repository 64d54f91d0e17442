"""The auditor's pages: alerts (list, filter, acknowledge), access-log verification, leak triangulation.

Auditors and data-protection officers use all three; administrators may read alerts and verify the
log but neither acknowledge alerts (they are the ones break-glass alerts are about) nor triangulate.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse

from postguard.errors import InvalidInput, NotFound
from postguard.http.auth import StaffContext, staff_page
from postguard.http.params import INT64_MAX, RowId
from postguard.i18n import N_
from postguard.leaks.alerts import ACK_ROLES, LIST_ROLES, STATUSES
from postguard.leaks.models import KINDS
from postguard.leaks.service import TRIANGULATE_ROLES
from postguard.web.staff import MENU, MenuItem, render_staff

router = APIRouter(include_in_schema=False)
VERIFY_ROLES = ("auditor", "dpo", "admin")

MENU.extend([
    MenuItem("/staff/audit/alerts", N_("menu_alerts"), LIST_ROLES),
    MenuItem("/staff/audit/verify", N_("menu_verify"), VERIFY_ROLES),
    MenuItem("/staff/audit/triangulation", N_("menu_triangulation"), TRIANGULATE_ROLES),
])


@router.get("/staff/audit/alerts")
def alerts_page(request: Request, kind: str = "", status: str = "open",
                before: int | None = Query(None, ge=1, le=INT64_MAX),
                done: int | None = Query(None, ge=1, le=INT64_MAX),
                staff: StaffContext = Depends(staff_page(*LIST_ROLES))):
    platform = request.app.state.platform
    kind_ = kind if kind in KINDS else None
    status = status if status in STATUSES else "open"
    page = platform.access_alerts.list(staff.principal, kind=kind_, status=status, before=before, limit=50)
    return render_staff(request, "audit_alerts.html", staff, alerts=page["items"], next=page["next"],
                        kinds=KINDS, statuses=STATUSES, kind=kind_ or "", status_filter=status,
                        can_ack=staff.principal.role in ACK_ROLES, done=done)


@router.post("/staff/audit/alerts/{alert_id}/ack")
def alerts_ack(request: Request, alert_id: RowId, note: str = Form("", max_length=500),
               staff: StaffContext = Depends(staff_page(*ACK_ROLES))):
    request.app.state.platform.access_alerts.acknowledge(staff.principal, alert_id, note=note)
    return RedirectResponse(f"/staff/audit/alerts?done={alert_id}", status_code=303)


@router.get("/staff/audit/verify")
def verify_page(request: Request, staff: StaffContext = Depends(staff_page(*VERIFY_ROLES))):
    platform = request.app.state.platform
    report = platform.audit.verify()
    try:
        latest = platform.audit.latest_checkpoint()
    except NotFound:
        latest = None
    platform.audit.append(actor=staff.principal.actor, action="audit_verify", org_id=staff.principal.org_id,
                          details={"ok": report.ok, "entries": report.entries})
    return render_staff(request, "audit_verify.html", staff, report=report, latest=latest,
                        status=200 if report.ok else 409)


@router.get("/staff/audit/triangulation")
def triangulation_form(request: Request, staff: StaffContext = Depends(staff_page(*TRIANGULATE_ROLES))):
    return render_staff(request, "audit_triangulation.html", staff, result=None, waybill="", error=None)


@router.post("/staff/audit/triangulation")
def triangulation_run(request: Request, waybill: str = Form("", max_length=40),
                      staff: StaffContext = Depends(staff_page(*TRIANGULATE_ROLES))):
    waybill = waybill.strip()
    try:
        if not waybill:
            raise InvalidInput("A waybill is required.")
        result = request.app.state.platform.leaks.triangulate(staff.principal, waybill)
    except (InvalidInput, NotFound) as e:
        return render_staff(request, "audit_triangulation.html", staff, status=e.status, result=None,
                            waybill=waybill, error=e.detail)
    return render_staff(request, "audit_triangulation.html", staff, result=result, waybill=waybill, error=None)
