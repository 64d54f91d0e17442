"""The re-verification queue for customer service and administrators (``/staff/sim``): flagged SIMs,
most urgent first, each with its reasons; a case's page opens the holder's data through the door
(customer service, with a reason, logged) and moves the case along its states."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse

from postguard.errors import Conflict, InvalidInput
from postguard.i18n import N_
from postguard.http.auth import StaffContext, staff_page
from postguard.http.params import RowId
from postguard.subscribers.checks import REASONS
from postguard.subscribers.service import MAX_NOTE, QUEUE_ROLES, STATES
from postguard.web.staff import MENU, MenuItem, render_staff

router = APIRouter(include_in_schema=False)
MENU.append(MenuItem("/staff/sim", N_("sim_menu"), QUEUE_ROLES))
FILTERS = ("open", *STATES)


@router.get("/staff/sim")
def queue_page(request: Request, state: str = Query("open", max_length=16), reason: str = Query("", max_length=40),
               staff: StaffContext = Depends(staff_page(*QUEUE_ROLES))):
    p = request.app.state.platform
    state = state if state in FILTERS else "open"
    code = reason if any(r.code == reason for r in REASONS) else None
    cases = p.subscribers.queue(staff.principal, state=state, reason=code, limit=100)
    return render_staff(request, "sim_queue.html", staff, cases=cases, summary=p.subscribers.summary(staff.principal),
                        filters=FILTERS, state=state, reason=code or "", reasons=REASONS)


def _case_page(request: Request, staff: StaffContext, case_id: int, *, holder=None, error=None, status=200):
    case = request.app.state.platform.subscribers.show(staff.principal, case_id)
    return render_staff(request, "sim_case.html", staff, status=status, case=case, holder=holder, error=error,
                        can_reveal=staff.principal.role == "cs", max_note=MAX_NOTE)


@router.get("/staff/sim/{case_id}")
def case_page(request: Request, case_id: RowId, staff: StaffContext = Depends(staff_page(*QUEUE_ROLES))):
    return _case_page(request, staff, case_id)


@router.post("/staff/sim/{case_id}/reveal")
def case_reveal(request: Request, case_id: RowId, reason: str = Form("", max_length=200),
                staff: StaffContext = Depends(staff_page(*QUEUE_ROLES))):
    try:
        shown = request.app.state.platform.subscribers.show(staff.principal, case_id, reveal=True, reason=reason)
    except InvalidInput as e:
        return _case_page(request, staff, case_id, error=e.detail, status=e.status)
    return _case_page(request, staff, case_id, holder=shown["holder"])


@router.post("/staff/sim/{case_id}/move")
def case_move(request: Request, case_id: RowId, to: str = Form("", max_length=16), version: int = Form(0),
              note: str = Form("", max_length=MAX_NOTE), staff: StaffContext = Depends(staff_page(*QUEUE_ROLES))):
    try:
        request.app.state.platform.subscribers.transition(staff.principal, case_id, to=to, version=version, note=note)
    except (Conflict, InvalidInput) as e:
        return _case_page(request, staff, case_id, error=e.detail, status=e.status)
    return RedirectResponse(f"/staff/sim/{case_id}", status_code=303)
