"""The authorisation matrix: every route under ``/v1/``, ``/staff/`` and ``/taxii2/`` has a row below,
and every route that touches personal data is tried by each of the six roles with a session and by API
keys with and without the scope. Allowed requests succeed; denied ones are answered 403 problem+json
and leave an ``access_denied`` or ``reveal_denied`` entry in the access log.

Adding a route means adding one row to ``TABLE`` (the first test fails until it is there):
``("GET", "/v1/thing"): staff("dpo")`` for a staff page or API, ``system("scope")`` for an API-key
route, ``people("courier")`` for a staff-session API that refuses API keys, ``either("scope", "hub")``
for both, ``public(...)`` for a citizen-facing route open to everyone (rate limited; with a scope, a
key without it is refused), ``subject()`` for a data subject's route (only a proof of the person's own
phone number opens it: staff sessions, API keys, no proof or a proof made for another purpose are
answered 401, and a proof of another number sees nothing of the person's), or
``NOT_PERSONAL("why")`` for a route that touches no personal data.
Path parameters come from ``tests/world.py`` (``{alert_id}`` is a new alert for every request).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from postguard.access.models import ROLES
from postguard.api.privacy import PROOF_COOKIE, PROOF_PURPOSE
from postguard.app import create_app
from postguard.audit.models import AuditEntry
from postguard.db.base import utcnow
from postguard.http.auth import SESSION_COOKIE
from postguard.intel.feed import COLLECTION_ID
from postguard.orgs.service import SCOPES
from postguard.platform import Platform
from postguard.synthetic import Faker
from tests.api.test_api import assert_problem
from tests.conftest import csv_bytes
from tests.world import (
    ORG,
    ORG_OF,
    PASSWORD,
    USERNAMES,
    World,
    add_leaks_and_intel,
    add_privacy_and_calls,
    build_world,
    prebuilt_world,
)

DENIALS = ("access_denied", "reveal_denied")
UNCLASSIFIED_OK = {("GET", "/staff/login"), ("POST", "/staff/login"), ("POST", "/staff/logout"), ("GET", "/staff")}
PREFIXES = ("/v1/", "/staff", "/taxii2/")


@dataclass(frozen=True)
class Case:
    """Who may use a route: ``roles`` with a staff session (None: sessions are not accepted, 401), and
    ``key``: an API-key scope that allows it, ``"refused"`` (any key: 403, logged), ``"ignored"``
    (pages: a key alone is no session, 401) or ``"any"`` (public routes: any key is fine).
    ``public``: a request with no credentials at all is allowed too. ``without``: scopes that also
    allow the route, left out of the key that must be refused. A request body may depend on the world."""

    roles: frozenset[str] | None
    key: str
    ok: int = 200
    json: Any = None
    form: Any = None
    csv: Any = None
    params: Any = None
    note: str = ""
    path_params: Any = None  # path parameters from the world besides ``w.ids``: ``path_params(w) -> dict``
    public: bool = False
    without: tuple[str, ...] = ()
    subject: bool = False  # the data subject's proof token opens it (``subject()``)
    stranger: int = 200  # the answer to a proof of another number
    shows: Any = None  # ``shows(w) -> str``: found in the data subject's answer

    def body(self, w: World) -> dict:
        out = {}
        for name in ("json", "form", "params"):
            value = getattr(self, name)
            if value is not None:
                out["data" if name == "form" else name] = value(w) if callable(value) else value
        if self.csv is not None:
            out["content"] = self.csv(w)
            out["headers"] = {"Content-Type": "text/csv"}
        return out


@dataclass(frozen=True)
class NOT_PERSONAL:
    why: str


def staff(*roles, ok=200, **body) -> Case:
    return Case(frozenset(roles), "ignored", ok, **body)


def people(*roles, ok=200, **body) -> Case:
    return Case(frozenset(roles), "refused", ok, **body)


def system(scope, ok=200, **body) -> Case:
    return Case(None, scope, ok, **body)


def either(scope, *roles, ok=200, **body) -> Case:
    return Case(frozenset(roles), scope, ok, **body)


def public(scope="any", ok=200, **body) -> Case:
    """Open to the public (and to every member of staff, whose session plays no part); API keys
    need ``scope`` when one is given."""
    return Case(frozenset(ROLES), scope, ok, public=True, **body)


def subject(ok=200, stranger=200, **body) -> Case:
    """The data subject's own routes (``/v1/me``): a proof token of their phone number, nothing else."""
    return Case(None, "ignored", ok, subject=True, stranger=stranger, **body)


def _spoken(w: World) -> str:
    """Today's spoken code of the assigned parcel, as courier An's call view shows it."""
    return w.platform.calls.courier_view(w.role("courier"))["parcels"][0]["spoken_code"]


def _notifications(w: World) -> dict:
    """One notification on a verified template of the world's organisation (registered once per world)."""
    p = w.platform
    wording = "Buu dien: Buu gui {waybill} se duoc giao truoc {time} hom nay."
    found = [t for t in p.senders.template_list(org_code=ORG) if t["text"] == wording]
    if not found:
        admin = p.intel.cli_principal()
        t = p.senders.template_add(admin, text=wording, org_code=ORG)
        found = [p.senders.template_set_status(admin, t["id"], status="verified")]
    return {"items": [{"template_id": found[0]["id"], "phone": "0912 000 555", "waybill": "DM000000042",
                       "sent_at": utcnow().isoformat(), "values": {"time": "10:42"}}]}


def _pending_template(w: World) -> dict:
    """A new pending template of the world's organisation, for every request."""
    p = w.platform
    w.templates_made = getattr(w, "templates_made", 0) + 1
    t = p.senders.template_add(p.intel.cli_principal(), org_code=ORG,
                               text=f"Buu dien: Buu gui {{waybill}} san sang tai quay so {w.templates_made}.")
    return {"template_id": t["id"]}


def _report(w: World) -> dict:
    return {"indicators": [w.ids["scam_phone"]], "category": "fake_courier", "contact": "0912 000 444",
            "description": "Gọi báo bưu phẩm bị giữ, đòi phí."}


TRANSFER = {"payee": {"bank": "970436", "account": "0123456789"}, "amount": 5_000_000,
            "payer": {"ip": "203.0.113.5", "account_type": "personal", "new_payee": True}}
WARNING = {"category": "courier-impersonation", "title_vi": "Cảnh báo giả danh shipper",
           "title_en": "Courier impersonation warning", "body_vi": "Không chuyển khoản cho người lạ.",
           "body_en": "Never transfer money to strangers."}
TAXII = "/taxii2/api/collections/{collection_id}"


def _window(w: World, **extra) -> dict:
    now = utcnow()
    return {"waybill": w.other["waybill"], "courier": "an", "window_start": (now - timedelta(minutes=1)).isoformat(),
            "window_end": (now + timedelta(hours=2)).isoformat(), **extra}


def _new_row(w: World) -> dict:
    return next(iter(Faker(7).rows(1, prefix="NW")))


def _intel(w: World) -> dict:
    """A reported phone number with an open appeal, and a pending official channel (made once per world)."""
    if not hasattr(w, "intel_ids"):
        from postguard.intel.models import Report, ReportIndicator
        from postguard.orgs.service import Principal

        p = w.platform
        rep = p.intel.report(indicators=["0912 345 678"], category="fake_courier", client="203.0.113.50",
                             description="synthetic report")
        appeal = p.intel.appeal(value="0912 345 678", statement="synthetic appeal", contact="a@example.vn",
                                client="203.0.113.51")
        vnp = Principal(org_id=p.orgs.get(ORG).id, org_code=ORG, actor="test", scopes=frozenset({"intel:official"}))
        channel = p.intel.official_add(vnp, kind="hotline", value="1900 54 54 81")
        with p.db.read_session() as s:
            ind = s.execute(select(ReportIndicator.indicator_id).join(Report, Report.id == ReportIndicator.report_id)
                            .where(Report.public_id == rep["report"])).scalar_one()
        w.intel_ids = {"indicator_id": ind, "report_id": rep["report"], "appeal_id": appeal["appeal"],
                       "channel_id": channel["id"]}
    return w.intel_ids


def _takedown(w: World) -> dict:
    """A confirmed scam site with evidence and its draft takedown requests (made once per world)."""
    if not hasattr(w, "takedown_ids"):
        from postguard.intel.models import Indicator
        from postguard.intel.service import Upload
        from postguard.takedown.service import ContactIn

        p = w.platform
        p.intel.report(indicators=["xac-nhan-phat-lai.com"], category="fake_courier", client="203.0.113.60",
                       evidence=[Upload(b"\x89PNG\r\n\x1a\n synthetic screenshot", "image/png")])
        with p.db.read_session() as s:
            ind = s.execute(select(Indicator.id).where(Indicator.value == "xac-nhan-phat-lai.com")).scalar_one()
        cli = p.intel.cli_principal()
        p.intel.decide(cli, ind, action="confirm")
        out = p.takedowns.create(cli, indicator_id=ind, hosting=ContactIn(email="abuse@hosting.example"))
        ref = next(r["ref"] for r in out["requests"] if r["recipient"]["kind"] == "hosting")
        w.takedown_ids = {"indicator": ind, "ref": ref}
    return w.takedown_ids


def _lookalike(w: World) -> dict:
    """A hit of the lookalike scanner (made once per world)."""
    if not hasattr(w, "lookalike_id"):
        from postguard.intel.models import LookalikeHit

        p = w.platform
        p.intel.scanner.ingest(p.orgs.platform_principal(actor="test"), [_hit("vnpost-tracking-vn.com")])
        with p.db.read_session() as s:
            w.lookalike_id = s.execute(select(LookalikeHit.id).where(LookalikeHit.host == "vnpost-tracking-vn.com")
                                       ).scalar_one()
    return {"hit_id": w.lookalike_id}


def _hit(host: str) -> dict:
    return {"host": host, "domain": host, "brand": "Vietnam Post", "official": ["vnpost.vn"],
            "technique": "combosquat", "score": 80, "reasons": [], "campaign": None}


FEEDBACK_TEXT = ("Chào cả nhà, tối nay tổ dân phố họp lúc 7 giờ ở nhà văn hoá, ai bận thì báo trước nhé.")


def _feedback(w: World) -> dict:
    """A message marked wrongly judged, sent with consent (made once per world)."""
    if not hasattr(w, "feedback_id"):
        w.feedback_id = w.platform.message_feedback.submit(
            text=FEEDBACK_TEXT, label="legit", expected="scam", consent=True, client="203.0.113.70")["case"]
    return {"case_id": w.feedback_id}


def _blocklist() -> dict:
    why = "confirmed scam domains and links, published on purpose; rate limited"
    return {("GET", f"/v1/blocklist.{f}{sig}"): NOT_PERSONAL(why) for f in ("rpz", "hosts", "json")
            for sig in ("", ".sig")} | {("GET", "/v1/blocklist/key"): NOT_PERSONAL("a public key")}


TABLE: dict[tuple[str, str], Case | tuple[Case, ...] | NOT_PERSONAL] = {
    **_blocklist(),
    # -- the lookalike scanner's hits: public hostnames, but reporting and deciding are for the scanner
    #    and analysts --
    ("POST", "/v1/lookalikes"): system("intel:scanner", without=("intel:analyst",),
                                       json={"hits": [_hit("cskh-vnpost-vn.com")]}),
    ("GET", "/v1/lookalikes"): system("intel:analyst"),
    ("POST", "/v1/lookalikes/{hit_id}/confirm"): system("intel:analyst", path_params=_lookalike),
    ("POST", "/v1/lookalikes/{hit_id}/dismiss"): system("intel:analyst", path_params=_lookalike),
    # -- shipments (operator systems) --
    ("POST", "/v1/shipments"): system("shipments:write", ok=201, json=_new_row),
    ("POST", "/v1/shipments/import"): system("shipments:write", csv=lambda w: csv_bytes([_new_row(w)])),
    ("GET", "/v1/shipments"): system("shipments:read"),
    ("POST", "/v1/shipments/search"): system("shipments:search", json=lambda w: {"phone": w.assigned["recipient_phone"]}),
    ("GET", "/v1/shipments/{waybill}"): system("shipments:read"),
    ("POST", "/v1/shipments/{waybill}/status"): system("shipments:write", json={"status": "delivered"}),
    ("POST", "/v1/shipments/{waybill}/shred"): system("shipments:write", ok=204),
    ("GET", "/v1/shipments/{waybill}/label.pdf"): system("labels:print"),
    ("POST", "/v1/labels"): system("labels:print", json=lambda w: {"waybills": [w.assigned["waybill"]]}),
    ("GET", "/v1/stats"): NOT_PERSONAL("anonymous counts, kept after shredding"),
    ("POST", "/v1/lookup/bucket"): NOT_PERSONAL("OPRF outputs, worthless without the server key; rate limited"),
    ("POST", "/v1/lookup/evaluate"): NOT_PERSONAL("one blinded group element; rate limited"),
    ("GET", "/v1/lookup/snapshot"): NOT_PERSONAL("OPRF outputs, worthless without the server key; rate limited"),
    # -- access log --
    ("GET", "/v1/audit/checkpoint"): NOT_PERSONAL("a tree size and root hash"),
    ("GET", "/v1/audit/verifier-key"): NOT_PERSONAL("a public key"),
    # entries name actors and waybills, never personal data, but they are the organisation's own: scoped
    ("GET", "/v1/audit/inclusion"): system("audit:read", params=lambda w: {"index": w.ids["log_index"]}),
    ("GET", "/v1/audit/consistency"): system("audit:read", params={"size1": 1, "size2": 2}),
    # -- just-in-time access (API) --
    ("POST", "/v1/assignments"): either("assignments:write", "hub", "admin", ok=201, json=_window),
    ("GET", "/v1/deliveries"): people("courier"),
    ("POST", "/v1/shipments/{waybill}/reveal"): (
        people("courier", json={"purpose": "delivery"}, note="delivery"),
        people("cs", json={"purpose": "customer_service", "ticket": "CS-1", "reason": "caller asks"}, note="cs"),
        people("admin", json={"purpose": "break_glass", "justification": "court order 2026/11 for this parcel"},
               note="break_glass"),
    ),
    # -- leak detection (API): alerts name actors and waybills, canaries are numbers the operator owns,
    #    triangulation names the staff who revealed a parcel --
    ("GET", "/v1/alerts"): system("audit:read"),
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): system("alerts:ack", json={"note": "checked with the hub"}),
    ("POST", "/v1/canaries/contacts"): system("telephony", ok=202, json=lambda w: {
        "number": w.ids["canary_number"], "from": "0987 654 321", "kind": "call"}),
    ("GET", "/v1/shipments/{waybill}/triangulation"): system("audit:read"),
    # -- leak detection (pages) --
    ("GET", "/staff/audit/alerts"): staff("auditor", "dpo", "admin"),
    ("POST", "/staff/audit/alerts/{alert_id}/ack"): staff("auditor", "dpo", form={"note": "expected"}),
    ("GET", "/staff/audit/verify"): staff("auditor", "dpo", "admin"),
    ("GET", "/staff/audit/triangulation"): staff("auditor", "dpo"),
    ("POST", "/staff/audit/triangulation"): staff("auditor", "dpo", form=lambda w: {"waybill": w.assigned["waybill"]}),
    # -- scam intelligence: citizen-facing (rate limited; reports and appeals take contacts in and never
    #    give them back; a check answers only about the value asked) --
    ("POST", "/v1/check"): public(json=lambda w: {"value": w.ids["scam_phone"]}),
    ("POST", "/v1/reports"): public("intel:report", ok=201, json=_report),
    ("POST", "/v1/appeals"): public(ok=201, json=lambda w: w.fresh_appeal_body()),
    ("GET", "/v1/intel/official"): NOT_PERSONAL("verified official channels of organisations, public by design"),
    # -- message-check feedback: a person sends a message they say was judged wrongly (with consent, rate
    #    limited; nothing of others' is given back); reviewers read it through the door --
    ("POST", "/v1/check/feedback"): public(ok=201, json={"text": FEEDBACK_TEXT, "label": "legit", "expected": "scam",
                                                          "consent": True}),
    ("GET", "/v1/messages/feedback"): system("messages:review"),
    ("GET", "/v1/messages/feedback/{case_id}"): system("messages:review", path_params=_feedback),
    ("POST", "/v1/messages/feedback/{case_id}/review"): system("messages:review", path_params=_feedback,
                                                              json={"decision": "reject"}),
    # -- scam intelligence: organisations and analysts --
    ("POST", "/v1/intel/official"): system("intel:official", ok=201, without=("intel:admin",),
                                          json={"kind": "domain", "value": "vanchuyen-mau.vn"}),
    ("POST", "/v1/intel/official/{channel_id}/verify"): system("intel:admin", json={"note": "checked"}),
    ("POST", "/v1/intel/official/{channel_id}/revoke"): system("intel:admin", json={"note": "not theirs"}),
    ("GET", "/v1/intel/queue"): system("intel:analyst"),
    ("GET", "/v1/intel/losses"): system("intel:analyst"),
    ("GET", "/v1/losses"): NOT_PERSONAL("anonymous totals of reported losses; a cell of fewer than five reports is folded into other"),
    ("GET", "/v1/intel/indicators/{indicator_id}"): (
        system("intel:analyst", note="masked"),
        system("intel:analyst", params={"reveal": "true"}, note="reveal"),
    ),
    ("POST", "/v1/intel/indicators/{indicator_id}/decision"): system("intel:analyst", json={"action": "confirm"}),
    ("POST", "/v1/intel/reports/{report_id}/review"): system("intel:analyst", json={"action": "accept"}),
    ("POST", "/v1/intel/appeals/{appeal_id}/decision"): system("intel:analyst", json={"uphold": False}),
    # -- takedown requests: packs carry reports' evidence files (opened through the door) --
    ("POST", "/v1/takedowns"): system("intel:analyst", ok=201, json=lambda w: {"indicator": _takedown(w)["indicator"]}),
    ("GET", "/v1/takedowns"): system("intel:analyst"),
    ("GET", "/v1/takedowns/{ref}"): system("intel:analyst", path_params=_takedown),
    ("GET", "/v1/takedowns/{ref}/pack"): system("intel:analyst", path_params=_takedown),
    ("POST", "/v1/takedowns/{ref}/send"): system("intel:analyst", path_params=_takedown),
    ("POST", "/v1/takedowns/{ref}/status"): system("intel:analyst", path_params=_takedown, json={"status": "sent"}),
    # -- sharing: indicators include people's phone numbers and bank accounts --
    ("GET", "/v1/intel/export"): (
        system("intel:read", note="stix"),
        system("intel:read", params={"format": "misp"}, note="misp"),
    ),
    ("POST", "/v1/screen/transfer"): system("screen:transfer", json=TRANSFER),
    # -- message templates and sent notifications (kept as keyed digests only) --
    ("GET", "/v1/senders/templates"): NOT_PERSONAL("operators' verified template wordings, public by design"),
    ("POST", "/v1/senders/templates"): system("intel:official", ok=201, without=("intel:admin",),
                                              json={"text": "Buu dien: Buu gui {waybill} da den buu cuc."}),
    ("POST", "/v1/senders/templates/{template_id}/status"): (
        system("intel:admin", json={"status": "verified"}, path_params=_pending_template, note="verify"),
        system("intel:official", without=("intel:admin",), json={"status": "revoked"}, path_params=_pending_template,
               note="the owner revokes"),
    ),
    ("POST", "/v1/notifications"): system("notifications:write", json=_notifications),
    ("POST", "/v1/senders/match"): public(json={"text": "Buu dien: Buu gui DM000000042 da den buu cuc."}),
    ("POST", "/v1/senders/cod-check"): public(json={"account": "MB 0123456789", "purpose": "fee"}),
    ("POST", "/v1/warnings"): system("warnings:publish", ok=201, json=WARNING),
    ("GET", "/taxii2/"): system("intel:read"),
    ("GET", "/taxii2/api/"): system("intel:read"),
    ("GET", "/taxii2/api/collections/"): system("intel:read"),
    ("GET", TAXII + "/"): system("intel:read"),
    ("GET", TAXII + "/objects/"): system("intel:read"),
    ("GET", TAXII + "/objects/{object_id}/"): system("intel:read"),
    ("GET", TAXII + "/manifest/"): system("intel:read"),
    # -- just-in-time access (pages) --
    ("GET", "/staff/deliveries"): staff("courier"),
    ("GET", "/staff/deliveries/{waybill}"): staff("courier"),
    ("POST", "/staff/deliveries/{waybill}/reveal"): staff("courier"),
    ("GET", "/staff/cs"): staff("cs"),
    ("POST", "/staff/cs"): staff("cs", form=lambda w: {"waybill": w.assigned["waybill"], "ticket": "CS-9",
                                                       "reason": "recipient moved"}),
    ("GET", "/staff/break-glass"): staff("admin"),
    ("POST", "/staff/break-glass"): staff("admin", form=lambda w: {
        "waybill": w.assigned["waybill"], "justification": "fraud investigation 2026/5 on this parcel"}),
    ("GET", "/staff/assign"): staff("hub", "admin"),
    ("POST", "/staff/assign"): staff("hub", "admin", form=lambda w: {
        "waybill": w.other["waybill"], "courier": "an", "window_start": "2026-01-01T08:00",
        "window_end": "2026-01-01T12:00"}),
    # -- analyst console --
    # Analysts of the platform organisation only; operator staff of every role are refused. Official
    # channels are for the platform organisation's administrators, so every operator role is refused
    # there (the platform administrator's side is in tests/api/test_analyst_web.py).
    ("GET", "/staff/intel/queue"): staff("analyst"),
    ("GET", "/staff/intel/indicators/{indicator_id}"): staff("analyst", path_params=_intel),
    ("POST", "/staff/intel/indicators/{indicator_id}/reveal"): staff("analyst", path_params=_intel),
    ("POST", "/staff/intel/indicators/{indicator_id}/decision"): staff(
        "analyst", path_params=_intel, form={"action": "dispute", "note": "needs a second look"}),
    ("POST", "/staff/intel/reports/{report_id}/review"): staff(
        "analyst", path_params=_intel, form=lambda w: {"action": "reject", "note": "spam",
                                                  "indicator": _intel(w)["indicator_id"]}),
    ("GET", "/staff/intel/appeals"): staff("analyst"),
    ("POST", "/staff/intel/appeals/{appeal_id}/reveal"): staff("analyst", path_params=_intel),
    ("POST", "/staff/intel/appeals/{appeal_id}/decision"): staff(
        "analyst", path_params=_intel, form={"decision": "reject", "note": "the reports stand"}),
    ("GET", "/staff/intel/official"): staff(note="platform administrators only"),
    ("POST", "/staff/intel/official/{channel_id}/verify"): staff(
        path_params=_intel, form={"note": "checked"}, note="platform administrators only"),
    ("POST", "/staff/intel/official/{channel_id}/revoke"): staff(
        path_params=_intel, form={"note": "checked"}, note="platform administrators only"),
    ("GET", "/staff/intel/warnings"): staff("analyst"),
    ("POST", "/staff/intel/warnings"): staff("analyst", form={
        "category": "fake-fee", "title_vi": "Phí lưu kho giả", "title_en": "Fake storage fees",
        "body_vi": "Không chuyển khoản phí lưu kho.", "body_en": "Never pay storage fees by transfer."}),
    ("GET", "/staff/intel/stats"): staff("analyst"),
    # -- the data subject (``/v1/me``): a one-time code proves the number; the proof opens only that
    #    person's shipments, requests, exports and receipts --
    ("POST", "/v1/me/code"): public(ok=202, json=lambda w: {"phone": w.faker.phone_e164()}),
    ("POST", "/v1/me/verify"): public(json=lambda w: w.fresh_code(PROOF_PURPOSE)),
    ("POST", "/v1/me/sign-out"): public(ok=204, note="only clears the proof cookie"),
    ("GET", "/v1/me/shipments"): subject(shows=lambda w: w.assigned["waybill"]),
    ("GET", "/v1/me/requests"): subject(shows=lambda w: w.ids["dsr_deletion"]),
    ("POST", "/v1/me/requests"): subject(ok=201, stranger=201, json={"kind": "access", "org": ORG}),
    ("GET", "/v1/me/requests/{ref}/export"): subject(
        stranger=404, path_params=lambda w: {"ref": w.ids["dsr_access"]}, shows=lambda w: w.assigned["waybill"]),
    ("GET", "/v1/me/requests/{ref}/receipt"): subject(
        stranger=404, path_params=lambda w: {"ref": w.ids["dsr_deletion"]},
        shows=lambda w: w.ids["delivered_waybill"]),
    # -- the data-protection officer: the dpo acts, administrators read the lists (docs/security.md) --
    ("GET", "/staff/dpo/requests"): staff("dpo", "admin"),
    ("POST", "/staff/dpo/requests/{ref}/acknowledge"): staff("dpo", path_params=lambda w: {
        "ref": w.ids["dsr_received"]}),
    ("POST", "/staff/dpo/requests/{ref}/complete"): staff("dpo", path_params=lambda w: {
        "ref": w.ids["dsr_received"]}),
    ("GET", "/staff/dpo/requests/{ref}/export"): staff("dpo", path_params=lambda w: {
        "ref": w.ids["dsr_open_access"]}),
    ("GET", "/staff/dpo/incidents"): staff("dpo", "admin"),
    ("POST", "/staff/dpo/incidents"): staff("dpo", form=lambda w: {
        "detected_at": (utcnow() - timedelta(hours=1)).isoformat(), "description": "Một máy in nhãn bị mất.",
        "affected_estimate": "40"}),
    ("POST", "/staff/dpo/incidents/{ref}/notify"): staff("dpo", path_params=lambda w: {"ref": w.ids["incident"]}),
    # -- caller identification: the citizen's check (rate limited; answers only about the number or
    #    waybill asked, fuller answers need a proof of the citizen's own number) --
    ("POST", "/v1/callcheck"): public(json=lambda w: {"caller": w.ids["courier_phone"]}),
    ("POST", "/v1/callcheck/otp"): public(ok=202, json=lambda w: {"phone": w.faker.phone_e164()}),
    ("POST", "/v1/callcheck/otp/verify"): public(json=lambda w: w.fresh_code("parcel")),
    ("POST", "/v1/callcheck/code"): public(json=lambda w: {"waybill": w.assigned["waybill"], "code": _spoken(w),
                                                          "proof": w.platform.otp.issue_proof(
                                                              purpose="parcel", phone=w.subject_phone)}),
    ("POST", "/v1/callcheck/report"): public(ok=201, json=lambda w: {"number": w.ids["scam_phone"], "asked": ["fee"]}),
    ("GET", "/v1/callerid/certs/{org}/{version}.pem"): NOT_PERSONAL("an operator's public call-signing certificate"),
    # -- caller identification: masked calls (telephony systems connect a call to a real number) --
    ("POST", "/v1/calls/route"): system("calls:route", json=lambda w: {"caller": w.subject_phone,
                                                                       "dialled": w.ids["proxy"]}),
    ("POST", "/v1/calls/verify"): system("calls:route", json=lambda w: {"passport": w.fresh_passport()}),
    # -- caller identification: terminating-side STIR/SHAKEN verification (a telco's SIP server) --
    ("POST", "/v1/callerid/verify"): system("calls:verify", json=lambda w: {
        "identity": w.fresh_passport(), "from": w.ids["courier_phone"], "to": w.subject_phone}),
    # -- caller identification: the courier's call view (opens the recipient's number through the door) --
    ("GET", "/staff/calls"): staff("courier"),
    ("POST", "/staff/calls/call"): staff("courier", form=lambda w: {"waybill": w.assigned["waybill"]}),
    ("POST", "/staff/calls/phones"): staff("courier", form=lambda w: {"phone": w.faker.phone_e164()}),
    ("POST", "/staff/calls/phones/verify"): staff("courier", form=lambda w: w.fresh_courier_code()),
}


def _app_routes(app) -> set[tuple[str, str]]:
    try:
        from fastapi.routing import iter_route_contexts

        contexts = [(c.path, c.methods) for c in iter_route_contexts(app.routes)]
    except ImportError:  # older FastAPI: routes are flat
        contexts = [(r.path, getattr(r, "methods", None)) for r in app.routes]
    return {(m, path) for path, methods in contexts for m in (methods or ()) if m != "HEAD"}


def _cases() -> list:
    out = []
    for (method, path), row in TABLE.items():
        if isinstance(row, NOT_PERSONAL):
            continue
        for case in row if isinstance(row, tuple) else (row,):
            out.append(pytest.param(method, path, case, id=f"{method} {path}" + (f" {case.note}" if case.note else "")))
    return out


def test_every_route_is_classified(tmp_path):
    from postguard.settings import Settings

    app = create_app(Settings(data_dir=tmp_path / "d"))
    routes = {r for r in _app_routes(app) if r[1].startswith(PREFIXES) and r not in UNCLASSIFIED_OK}
    missing = sorted(routes - TABLE.keys())
    assert not missing, f"add a row to TABLE for each of: {missing}"
    stale = sorted(TABLE.keys() - routes)
    assert not stale, f"TABLE rows for routes that no longer exist: {stale}"
    app.state.platform.close()


def _world(p: Platform, faker) -> World:
    """The world every row starts from, built once per process and backend (``prebuilt_world``): each
    row works on its own copy, since many of them change it (shred, reveal, complete a request…)."""
    return add_privacy_and_calls(add_leaks_and_intel(build_world(p, faker, keys=False), Faker(43)), Faker(44))


@pytest.fixture
def env(prebuilt):
    w = prebuilt_world(prebuilt, _world, password_time_cost=1, password_memory_kib=1024,
                       intel_report_rate="100/minute", intel_appeal_rate="100/minute", intel_check_rate="100/minute",
                       notifier="memory", callcheck_code_limit="100/day", callcheck_report_limit="100/hour")
    yield TestClient(create_app(w.platform.settings, platform=w.platform)), w
    w.platform.close()


def _denials(p: Platform, actor: str) -> int:
    with p.db.read_session() as s:
        return s.execute(select(func.count()).select_from(AuditEntry)
                         .where(AuditEntry.actor == actor, AuditEntry.action.in_(DENIALS))).scalar_one()


def _key(p: Platform, scopes: list[str]) -> tuple[str, str]:
    issued = p.orgs.create_api_key(org_code=ORG, scopes=scopes, label="matrix")
    return issued.token, f"apikey:{issued.prefix}"


def _expect_denied(resp, p: Platform, actor: str, before: int, who: str) -> None:
    assert resp.status_code == 403, f"{who}: expected 403, got {resp.status_code} {resp.text[:200]}"
    assert_problem(resp, 403, "forbidden")
    assert _denials(p, actor) == before + 1, f"{who}: the refusal was not logged"


@pytest.mark.parametrize(("method", "path", "case"), _cases())
def test_matrix(env, method, path, case: Case):
    client, w = env
    p = w.platform

    def send(headers=None):
        ids = {"waybill": w.assigned["waybill"], "collection_id": COLLECTION_ID, **w.ids,
               **(case.path_params(w) if case.path_params else {})}
        if "{alert_id}" in path:
            ids["alert_id"] = w.fresh_alert()
        kw = case.body(w)
        kw["headers"] = {**kw.get("headers", {}), **(headers or {})}
        return client.request(method, path.format(**ids), **kw)

    if case.public:
        client.cookies.clear()
        resp = send()
        assert resp.status_code == case.ok, f"the public: {resp.status_code} {resp.text[:300]}"

    for role in ROLES:
        signed = p.staff.sign_in(org_code=ORG_OF.get(role, ORG), username=USERNAMES[role], password=PASSWORD)
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, signed.token)
        actor, before = signed.principal.actor, _denials(p, signed.principal.actor)
        resp = send({"X-CSRF-Token": signed.csrf})
        if case.roles is None:
            assert_problem(resp, 401)  # an API-key route: a session is not a key
        elif role in case.roles:
            assert resp.status_code == case.ok, f"{role}: {resp.status_code} {resp.text[:300]}"
        else:
            _expect_denied(resp, p, actor, before, role)
    client.cookies.clear()

    if case.subject:
        _as_subject(send, client, w, case, method)

    every = sorted(SCOPES)
    if case.key == "any":
        token, _ = _key(p, every)
        resp = send({"Authorization": f"Bearer {token}"})
        assert resp.status_code == case.ok, f"any key: {resp.status_code} {resp.text[:300]}"
    elif case.key == "ignored":
        token, _ = _key(p, every)
        assert_problem(send({"Authorization": f"Bearer {token}"}), 401)
    elif case.key == "refused":
        token, actor = _key(p, every)
        before = _denials(p, actor)
        _expect_denied(send({"Authorization": f"Bearer {token}"}), p, actor, before, "key")
    else:
        token, actor = _key(p, [s for s in every if s != case.key and s not in case.without])
        before = _denials(p, actor)
        _expect_denied(send({"Authorization": f"Bearer {token}"}), p, actor, before, f"key without {case.key}")
        token, _ = _key(p, [case.key])
        resp = send({"Authorization": f"Bearer {token}"})
        assert resp.status_code == case.ok, f"key with {case.key}: {resp.status_code} {resp.text[:300]}"
    assert p.audit.verify().ok


def _as_subject(send, client, w: World, case: Case, method: str) -> None:
    """The data subject's proof opens the route, in the header or the cookie; no proof, a proof made for
    another purpose, or a proof of another number do not (the last sees nothing of the person's). A
request that files something is sent once (with the header)."""
    p = w.platform
    assert_problem(send(), 401)
    other_purpose = p.otp.issue_proof(purpose="parcel", phone=w.subject_phone)
    assert_problem(send({"Authorization": f"Bearer {other_purpose}"}), 401)
    proof = p.otp.issue_proof(purpose=PROOF_PURPOSE, phone=w.subject_phone)
    for how in ("header", "cookie") if method == "GET" else ("header",):
        if how == "cookie":
            client.cookies.set(PROOF_COOKIE, proof)
        resp = send({"Authorization": f"Bearer {proof}"} if how == "header" else None)
        client.cookies.clear()
        assert resp.status_code == case.ok, f"the subject ({how}): {resp.status_code} {resp.text[:300]}"
        if case.shows is not None:
            assert case.shows(w) in resp.text, f"the subject ({how}) does not see {case.shows(w)}"
    stranger = p.otp.issue_proof(purpose=PROOF_PURPOSE, phone=w.faker.phone_e164())
    resp = send({"Authorization": f"Bearer {stranger}"})
    assert resp.status_code == case.stranger, f"a stranger: {resp.status_code} {resp.text[:300]}"
    mine = {w.assigned["waybill"], w.ids["delivered_waybill"], w.ids["dsr_access"], w.ids["dsr_deletion"]}
    if resp.status_code < 300:
        assert not [x for x in mine if x in resp.text], "a stranger sees the data subject's parcels or requests"


@pytest.mark.parametrize("path", ["/staff/cs", "/v1/shipments/{waybill}/reveal", "/staff/audit/triangulation"])
def test_a_forged_form_is_refused_and_logged(env, path):
    """A session with a missing or wrong CSRF token is refused like a wrong role: 403 and logged."""
    client, w = env
    p = w.platform
    role = {"/staff/cs": "cs", "/staff/audit/triangulation": "auditor"}.get(path, "courier")
    signed = p.staff.sign_in(org_code=ORG, username=USERNAMES[role], password=PASSWORD)
    client.cookies.set(SESSION_COOKIE, signed.token)
    url = path.format(waybill=w.assigned["waybill"])
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        before = _denials(p, signed.principal.actor)
        resp = client.post(url, headers=headers, json={"purpose": "delivery"}) if path.startswith("/v1/") else \
            client.post(url, headers=headers, data={"waybill": w.assigned["waybill"], "csrf": "forged"})
        _expect_denied(resp, p, signed.principal.actor, before, f"{role} {headers or 'no token'}")
    client.cookies.clear()
