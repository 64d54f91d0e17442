"""The auditor's pages: alerts (list, filter, acknowledge), access-log verification, leak triangulation.

Auditors and data-protection officers use all three; administrators may read alerts and verify the
log but neither acknowledge alerts (they are the ones break-glass alerts are about) nor triangulate.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse

from postguard.errors import FieldError, InvalidInput, NotFound
from postguard.http.auth import StaffContext, staff_page
from postguard.http.params import INT64_MAX, RowId
from postguard.i18n import N_, Texts
from postguard.leaks.alerts import ACK_ROLES, LIST_ROLES, STATUSES
from postguard.leaks.models import KINDS
from postguard.leaks.service import TRIANGULATE_ROLES
from postguard.web.errors import said
from postguard.web.present import actor_words
from postguard.web.routes import page_texts
from postguard.web.staff import MENU, MenuItem, render_staff

router = APIRouter(include_in_schema=False)
VERIFY_ROLES = ("auditor", "dpo", "admin")

MENU.extend([
    MenuItem("/staff/audit/alerts", N_("menu_alerts"), LIST_ROLES),
    MenuItem("/staff/audit/verify", N_("menu_verify"), VERIFY_ROLES),
    MenuItem("/staff/audit/triangulation", N_("menu_triangulation"), TRIANGULATE_ROLES),
])


ALERT_TEXTS = {"break_glass": N_("alert_text_break_glass"), "canary_reveal": N_("alert_text_canary_reveal"),
               "canary_contact": N_("alert_text_canary_contact"), "anomaly": N_("alert_text_anomaly")}
CONTACTS = {"call": N_("alert_contact_call"), "sms": N_("alert_contact_sms")}
CHANNELS = {"courier": N_("channel_courier"), "hub": N_("channel_hub"), "cs": N_("channel_cs"),
            "apikey": N_("channel_apikey"), "export": N_("channel_export")}


def channel_words(_: Texts, channel: str) -> str:
    """A canary's channel (``courier:an``) in words: ``shipper an``."""
    kind, _sep, name = channel.partition(":")
    return _(CHANNELS[kind]).format(name=name) if kind in CHANNELS else channel


def alert_text(_: Texts, a: dict) -> str:
    """What an alert says, in the page's language, from its kind and details (its ``reason`` is
    English, for programs and the access log); the reason itself when its details are incomplete."""
    d, actor = a.get("details") or {}, actor_words(a.get("actor"), _)
    try:
        if a["kind"] == "break_glass":
            return _(ALERT_TEXTS["break_glass"]).format(waybills=", ".join(d["waybills"][:10]), actor=actor,
                                                        justification=d["justification"])
        if a["kind"] == "canary_reveal":
            where = _("alert_own_channel") if a["severity"] == "medium" else _("alert_outside_channel")
            return _(ALERT_TEXTS["canary_reveal"]).format(
                waybill=a["subject"], channel=channel_words(_, d["channel"]), actor=actor,
                purpose=_.get(f"purpose_{d['purpose']}", d["purpose"]), where=where)
        if a["kind"] == "canary_contact":
            return _(ALERT_TEXTS["canary_contact"]).format(contact=_(CONTACTS[d["contact"]]), waybill=a["subject"],
                                                           channel=channel_words(_, d["channel"]))
        if a["kind"] == "anomaly":
            return _(ALERT_TEXTS["anomaly"]).format(actor=actor, value=d["value"], peers=d["peers"],
                                                    median=d["peer_median"],
                                                    feature=_(ANOMALY_FEATURES[d["feature"]]))
    except (KeyError, TypeError):
        pass
    return a["reason"]


ANOMALY_FEATURES = {"reveals_per_hour": N_("anomaly_reveals_per_hour"),
                    "outside_assignment": N_("anomaly_outside_assignment"),
                    "after_delivery": N_("anomaly_after_delivery"), "phone_searches": N_("anomaly_phone_searches"),
                    "exports": N_("anomaly_exports"), "refusals": N_("anomaly_refusals")}


WHY = {"refused": N_("tri_why_refused"), "lawful": N_("tri_why_lawful"),
       "break_glass_alerted": N_("tri_why_break_glass_alerted"), "after_delivery": N_("tri_why_after_delivery"),
       "outside_assignment": N_("tri_why_outside_assignment"), "break_glass": N_("tri_why_break_glass"),
       "export": N_("tri_why_export"), "customer_service": N_("tri_why_customer_service"),
       "delivery": N_("tri_why_delivery"), "phone_search": N_("tri_why_phone_search"), "reveal": N_("tri_why_reveal")}
LAWFUL = {"dsr_match": N_("tri_lawful_dsr_match"), "dsr_export": N_("tri_lawful_dsr_export"),
          "data_subject": N_("tri_lawful_data_subject"), "call_check": N_("tri_lawful_call_check")}


def access_why(_: Texts, a: dict) -> str:
    """Why a triangulation weighed an access as it did, in the page's language (``why`` is English)."""
    r = a.get("reason") or {}
    if r.get("code") not in WHY:
        return a["why"]
    basis = _.get(LAWFUL.get(r.get("purpose") or "", ""), r.get("purpose") or "")
    if r.get("request"):
        basis += " " + _("tri_request").format(ref=r["request"])
    state = _("tri_alert_acked").format(who=actor_words(r["acknowledged_by"], _)) if r.get("acknowledged_by") \
        else _("tri_alert_open")
    return _(WHY[r["code"]]).format(when=_("tri_after_delivery") if r.get("after_delivery") else "", basis=basis,
                                    alert=r.get("alert"), state=state)


@router.get("/staff/audit/alerts")
def alerts_page(request: Request, kind: str = "", status: str = "open",
                before: int | None = Query(None, ge=1, le=INT64_MAX),
                done: int | None = Query(None, ge=1, le=INT64_MAX),
                staff: StaffContext = Depends(staff_page(*LIST_ROLES))):
    platform = request.app.state.platform
    kind_ = kind if kind in KINDS else None
    status = status if status in STATUSES else "open"
    page = platform.access_alerts.list(staff.principal, kind=kind_, status=status, before=before, limit=50)
    _ = page_texts(request)
    alerts = [{**a, "text": alert_text(_, a)} for a in page["items"]]
    return render_staff(request, "audit_alerts.html", staff, alerts=alerts, next=page["next"],
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
            raise InvalidInput("A waybill is required.", [FieldError("waybill", "required", code="missing")])
        result = request.app.state.platform.leaks.triangulate(staff.principal, waybill)
    except (InvalidInput, NotFound) as e:
        return render_staff(request, "audit_triangulation.html", staff, status=e.status, result=None,
                            waybill=waybill, error=said(page_texts(request), e))
    _ = page_texts(request)
    for c in result["candidates"]:
        for access in c["accesses"]:
            access["why_text"] = access_why(_, access)
    return render_staff(request, "audit_triangulation.html", staff, result=result, waybill=waybill, error=None)
