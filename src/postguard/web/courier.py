"""Just-in-time access pages: the courier's deliveries and delivery reveals, the customer-service
reveal form, the administrator's break-glass form, and assigning parcels to couriers.

Pages only parse, call ``platform.access`` (which asks the door: decide, log, then decrypt) and
render. A refused reveal is answered 403 — a page for browsers, problem+json otherwise — and the
door has already logged it as ``reveal_denied``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Form, Request

from postguard.errors import FieldError, Forbidden, InvalidInput, NotFound
from postguard.http.auth import StaffContext, deny, staff_page, wants_html
from postguard.i18n import N_
from postguard.web.errors import field_words, said
from postguard.web.present import VN
from postguard.web.routes import page_texts
from postguard.web.staff import MENU, MenuItem, render_staff

router = APIRouter(include_in_schema=False)

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends

MENU.extend([
    MenuItem("/staff/deliveries", N_("menu_deliveries"), ("courier",)),
    MenuItem("/staff/assign", N_("menu_assign"), ("hub", "admin")),
    MenuItem("/staff/cs", N_("menu_cs"), ("cs",)),
    MenuItem("/staff/break-glass", N_("menu_break_glass"), ("admin",)),
])

# The order personal fields are shown in, and their text keys.
FIELDS = (
    ("recipient_name", N_("f_recipient_name")), ("recipient_phone", N_("f_recipient_phone")),
    ("recipient_address", N_("f_recipient_address")), ("sender_name", N_("f_sender_name")),
    ("sender_phone", N_("f_sender_phone")), ("sender_address", N_("f_sender_address")),
    ("goods_description", N_("f_goods_description")),
)


def parse_local(value: str) -> datetime | None:
    """A ``datetime-local`` value (Viet Nam time) or an ISO timestamp with an offset; None if neither."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VN)


def _reveal_page(request: Request, staff: StaffContext, values: dict, *, purpose: str):
    fields = [(key, name, values.get(name)) for name, key in FIELDS if name in values]
    return render_staff(request, "reveal.html", staff, values=values, fields=fields, purpose=purpose,
                        waybill=values["waybill"])


def _refused(request: Request, staff: StaffContext, err: Forbidden, *, waybill: str):
    """Browsers get a page saying why (the door has logged the refusal); programs get problem+json."""
    if not wants_html(request):
        raise err
    return render_staff(request, "refused.html", staff, status=403, detail=err.detail, waybill=waybill)


# -- courier ---------------------------------------------------------------------------------
@router.get("/staff/deliveries")
def deliveries(request: Request, staff: StaffContext = Depends(staff_page("courier"))):
    items = request.app.state.platform.access.deliveries(staff.principal)
    return render_staff(request, "deliveries.html", staff, items=items)


@router.get("/staff/deliveries/{waybill}")
def delivery(request: Request, waybill: str, staff: StaffContext = Depends(staff_page("courier"))):
    """One parcel the courier carries, masked, with the reveal button (where a label's QR code leads)."""
    item = request.app.state.platform.access.delivery(staff.principal, waybill=waybill)
    if item is None:
        deny(request, staff.principal, "the parcel is not assigned to this courier")
    return render_staff(request, "delivery.html", staff, item=item)


@router.post("/staff/deliveries/{waybill}/reveal")
def delivery_reveal(request: Request, waybill: str, staff: StaffContext = Depends(staff_page("courier"))):
    try:
        values = request.app.state.platform.access.reveal(staff.principal, waybill=waybill, purpose="delivery")
    except Forbidden as err:
        return _refused(request, staff, err, waybill=waybill)
    return _reveal_page(request, staff, values, purpose="delivery")


# -- customer service and break-glass -----------------------------------------------------------
def _reveal_form(request: Request, staff: StaffContext, *, purpose: str, form: dict, status: int = 200,
                 error: str | None = None, errors: dict | None = None):
    return render_staff(request, "reveal_form.html", staff, status=status, purpose=purpose, form=form,
                        error=error, errors=errors or {},
                        action="/staff/cs" if purpose == "customer_service" else "/staff/break-glass")


def _reveal_submit(request: Request, staff: StaffContext, *, purpose: str, form: dict):
    try:
        values = request.app.state.platform.access.reveal(staff.principal, purpose=purpose, **form)
    except InvalidInput as err:
        return _reveal_form(request, staff, purpose=purpose, form=form, status=422,
                            error=said(page_texts(request), err, fields=False),
                            errors={e.field: field_words(page_texts(request), e)[1] for e in err.errors})
    except NotFound as err:
        return _reveal_form(request, staff, purpose=purpose, form=form, status=404, error=said(page_texts(request), err))
    except Forbidden as err:
        return _refused(request, staff, err, waybill=form["waybill"])
    return _reveal_page(request, staff, values, purpose=purpose)


@router.get("/staff/cs")
def cs_form(request: Request, staff: StaffContext = Depends(staff_page("cs"))):
    return _reveal_form(request, staff, purpose="customer_service", form={})


@router.post("/staff/cs")
def cs_reveal(request: Request, staff: StaffContext = Depends(staff_page("cs")),
              waybill: str = Form("", max_length=64), ticket: str = Form("", max_length=64),
              reason: str = Form("", max_length=500)):
    form = {"waybill": waybill.strip(), "ticket": ticket.strip(), "reason": reason.strip()}
    return _reveal_submit(request, staff, purpose="customer_service", form=form)


@router.get("/staff/break-glass")
def break_glass_form(request: Request, staff: StaffContext = Depends(staff_page("admin"))):
    return _reveal_form(request, staff, purpose="break_glass", form={})


@router.post("/staff/break-glass")
def break_glass(request: Request, staff: StaffContext = Depends(staff_page("admin")),
                waybill: str = Form("", max_length=64), justification: str = Form("", max_length=1000)):
    form = {"waybill": waybill.strip(), "justification": justification.strip()}
    return _reveal_submit(request, staff, purpose="break_glass", form=form)


# -- assigning parcels ------------------------------------------------------------------------
def _assign_page(request: Request, staff: StaffContext, *, form: dict | None = None, status: int = 200,
                 error: str | None = None, errors: dict | None = None, done: str | None = None):
    access = request.app.state.platform.access
    now = datetime.now(VN).replace(second=0, microsecond=0)
    form = form or {"window_start": now.strftime(LOCAL_FORMAT),
                    "window_end": (now + timedelta(hours=4)).strftime(LOCAL_FORMAT)}
    return render_staff(request, "assign.html", staff, status=status, form=form, error=error, errors=errors or {},
                        done=done, couriers=access.couriers(staff.principal),
                        items=access.active_assignments(staff.principal))


@router.get("/staff/assign")
def assign_form(request: Request, staff: StaffContext = Depends(staff_page("hub", "admin"))):
    return _assign_page(request, staff)


@router.post("/staff/assign")
def assign(request: Request, staff: StaffContext = Depends(staff_page("hub", "admin")),
           waybill: str = Form("", max_length=64), courier: str = Form("", max_length=64),
           window_start: str = Form("", max_length=40), window_end: str = Form("", max_length=40)):
    form = {"waybill": waybill.strip(), "courier": courier.strip(), "window_start": window_start,
            "window_end": window_end}
    start, end = parse_local(window_start), parse_local(window_end)
    try:
        bad = [f for f, v in (("window_start", start), ("window_end", end)) if v is None]
        if bad:
            raise InvalidInput("The delivery window is not valid.",
                               [FieldError(f, "a date and time, e.g. 2026-06-02T14:30") for f in bad])
        request.app.state.platform.access.assign(staff.principal, waybill=form["waybill"], courier=form["courier"],
                                                 window_start=start, window_end=end)
    except InvalidInput as err:
        return _assign_page(request, staff, form=form, status=422,
                            error=said(page_texts(request), err, fields=False),
                            errors={e.field: field_words(page_texts(request), e)[1] for e in err.errors})
    except NotFound as err:
        return _assign_page(request, staff, form=form, status=404, error=said(page_texts(request), err))
    return _assign_page(request, staff, done=form["waybill"])
