"""One door for every secret: each purpose of ``postguard.access.door`` beyond shipments opens for its
principal and is logged with its purpose before anything is decrypted; the wrong principal type, role
or organisation is refused and the refusal logged; a log that cannot be written, or a ``Revealed``
subscriber that raises, leaves everything sealed."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from postguard.access.door import PURPOSES, SHIPMENTS, Owned
from postguard.audit.models import AuditEntry
from postguard.callerid.models import CallIntent, CourierPhone, MaskedCall
from postguard.errors import AuditUnavailable, Forbidden, InvalidInput
from postguard.events import Revealed
from postguard.intel.models import Appeal, Indicator, Report
from postguard.leaks.models import CanaryNumber
from postguard.principals import ApiKeyPrincipal, DataSubject, ProvenCitizen, StaffPrincipal, SystemActor
from postguard.privacy.models import DataSubjectRequest
from postguard.vault.service import SealedValue, VaultOpener
from tests.callerid_world import COURIER_PHONE, PASSWORD, PROXY, prebuilt_world

POOL_NUMBER = "+84939000111"
REQUESTER = "+84908765432"
REPORTED = "+84912345678"


@pytest.fixture
def world(prebuilt, faker):
    w = prebuilt_world(prebuilt, faker, password_time_cost=1, password_memory_kib=1024, notifier="memory",
                       callcheck_rate_limit="1000/minute")
    yield w
    w.p.close()


def last_entry(p) -> dict:
    with p.db.read_session() as s:
        return json.loads(s.execute(select(AuditEntry.entry).order_by(AuditEntry.idx.desc()).limit(1)).scalar_one())


def key(org_id: int, code: str, *scopes: str) -> ApiKeyPrincipal:
    return ApiKeyPrincipal(org_id=org_id, org_code=code, actor=f"apikey:{code.lower()}{len(scopes)}",
                           scopes=frozenset(scopes))


def staff(p, org: str, username: str, role: str) -> StaffPrincipal:
    return p.staff.create(org_code=org, username=username, display_name=username.title(), role=role,
                          password=PASSWORD)


@dataclass
class Case:
    secrets: list
    allowed: object
    plain: str
    refused: dict  # what is wrong with it -> principal
    files: bool = False  # opened as bytes (``Door.open_files``)


def _courier_number(w, purpose):
    p, an = w.p, w.people["an"]
    with p.db.read_session() as s:
        row = s.execute(select(CourierPhone).where(CourierPhone.staff_id == an.staff_id)).scalar_one()
    secret = Owned(SealedValue(org_id=row.org_id, table="courier_phones", column="phone", record_id=str(row.id),
                               blob=row.phone_ct), owner=row.staff_id)
    return Case([secret], an, COURIER_PHONE, {
        "another courier's number": w.people["binh"],
        "not a courier": w.people["hub"],
        "an API key": w.system,
        "another operator's courier": w.people["cuong"],
        "a citizen": ProvenCitizen(org_id=an.org_id, digest_hex="00" * 16),
    })


def _masked_call(w, purpose):
    p = w.p
    p.calls.proxy_add(org_code="VNP", number=PROXY)
    p.calls.start_call(w.people["an"], waybill=w.waybill)
    with p.db.read_session() as s:
        row = s.execute(select(MaskedCall)).scalar_one()
        ghx = p.orgs.get("GHX").id
    secret = SealedValue(org_id=row.org_id, table="masked_calls", column="recipient_phone", record_id=str(row.id),
                         blob=row.recipient_phone_ct)
    return Case([secret], key(row.org_id, "VNP", "calls:route"), w.recipient, {
        "a key without calls:route": key(row.org_id, "VNP", "calls:verify", "shipments:search"),
        "the courier": w.people["an"],
        "another operator's telephony": key(ghx, "GHX", "calls:route"),
        "another operator's bridge": SystemActor(org_id=ghx, actor="telephony"),
    })


def _passport(w, purpose):
    p = w.p
    started = p.calls.start_call(w.people["an"], waybill=w.waybill)
    with p.db.read_session() as s:
        row = s.execute(select(CallIntent).where(CallIntent.origid == started["origid"])).scalar_one()
    secret = SealedValue(org_id=row.org_id, table="call_intents", column="passport", record_id=row.origid,
                         blob=base64.b64decode(row.passport))
    return Case([secret], staff(p, "VNP", "kiem", "auditor"), started["passport"], {
        "a key without audit:read": key(row.org_id, "VNP", "calls:route"),
        "the courier": w.people["an"],
        "another operator's auditor": staff(p, "GHX", "kiem", "auditor"),
    })


def _canary_number(w, purpose):
    p = w.p
    p.canaries.pool_add(w.system, [POOL_NUMBER])
    with p.db.read_session() as s:
        row = s.execute(select(CanaryNumber)).scalar_one()
        ghx = p.orgs.get("GHX").id
    secret = SealedValue(org_id=row.org_id, table="canary_numbers", column="phone", record_id=row.phone_digest.hex(),
                         blob=row.phone_ct)
    return Case([secret], SystemActor(org_id=row.org_id, actor="cli"), POOL_NUMBER, {
        "a courier": w.people["an"],
        "a key without audit:read": key(row.org_id, "VNP", "telephony"),
        "another operator": key(ghx, "GHX", "audit:read"),
    })


def _dsr_contact(w, purpose):
    p = w.p
    req = p.privacy.file_request(REQUESTER, org_code="VNP", kind="access")
    with p.db.read_session() as s:
        row = s.execute(select(DataSubjectRequest).where(DataSubjectRequest.ref == req["ref"])).scalar_one()
    secret = SealedValue(org_id=row.org_id, table="data_subject_requests", column="contact", record_id=row.ref,
                         blob=row.contact_ct, service="dsr-contact")
    return Case([secret], staff(p, "VNP", "dpo", "dpo"), REQUESTER, {
        "an administrator": staff(p, "VNP", "boss", "admin"),
        "the person themself": DataSubject(org_id=row.org_id, digest=b"\0" * 32),
        "another operator's DPO": staff(p, "GHX", "dpo", "dpo"),
        "an API key": w.system,
    })


def _intel(w, purpose):
    p = w.p
    p.intel.report(indicators=[REPORTED], category="fake_courier", description="gọi báo đơn hàng",
                   contact="a@example.org", client="c1")
    p.intel.appeal(value=REPORTED, statement="Số này của tôi", contact="b@example.org", client="c2")
    platform_org = p.orgs.platform_org_id()
    with p.db.read_session() as s:
        ind = s.execute(select(Indicator).where(Indicator.type == "phone")).scalar_one()
        rep = s.execute(select(Report)).scalar_one()
        app = s.execute(select(Appeal)).scalar_one()
    analyst = p.intel.cli_principal()
    bystanders = {"a key without intel:analyst": key(w.system.org_id, "VNP", "intel:read", "intel:report"),
                  "a member of staff (not through the console)": w.people["hub"]}
    if purpose in ("indicator_review", "evidence_bundle", "indicator_share", "lookup_index", "blocklist_publish"):
        secret = SealedValue(org_id=platform_org, table="intel_indicators", column="value", record_id=str(ind.id),
                             blob=ind.value_ct)
        if purpose == "blocklist_publish":  # the platform publishing a confirmation (an analyst of it may)
            return Case([secret], SystemActor(org_id=platform_org, actor="postguard:intel"), REPORTED, {
                **bystanders, "an operator's system": SystemActor(org_id=w.system.org_id, actor="x"),
                "another organisation's analyst": key(w.system.org_id, "VNP", "intel:analyst")})
        if purpose not in ("indicator_review", "evidence_bundle"):
            return Case([secret], SystemActor(org_id=platform_org, actor="postguard:intel"), REPORTED, {
                "an analyst": analyst, "an operator's system": SystemActor(org_id=w.system.org_id, actor="x")})
        return Case([secret], analyst, REPORTED, bystanders)
    if purpose == "report_review":
        secret = SealedValue(org_id=platform_org, table="intel_reports", column="contact", record_id=str(rep.id),
                             blob=rep.contact_ct)
        return Case([secret], analyst, "a@example.org", bystanders)
    secret = SealedValue(org_id=platform_org, table="intel_appeals", column="statement", record_id=str(app.id),
                         blob=app.statement_ct)
    return Case([secret], analyst, "Số này của tôi", bystanders)


EVIDENCE = b"\x89PNG\r\n\x1a\n synthetic screenshot of a scam page"


def _takedown(w, purpose):
    p = w.p
    from postguard.intel.models import Evidence
    from postguard.intel.service import Upload

    p.intel.report(indicators=["xac-nhan-don-hang.com"], category="fake_courier", description="trang thu OTP",
                   contact="c@example.org", evidence=[Upload(EVIDENCE, "image/png")], client="c3")
    platform_org = p.orgs.platform_org_id()
    with p.db.read_session() as s:
        rep = s.execute(select(Report)).scalar_one()
        ev = s.execute(select(Evidence)).scalar_one()
    bystanders = {"a key without intel:analyst": key(w.system.org_id, "VNP", "intel:read", "intel:report"),
                  "a member of staff (not through the console)": w.people["hub"],
                  "the platform itself": SystemActor(org_id=platform_org, actor="postguard:intel")}
    if purpose in ("takedown_evidence", "evidence_files"):
        secret = SealedValue(org_id=platform_org, table="intel_evidence", column="content", record_id=str(ev.id),
                             blob=ev.content_ct)
        return Case([secret], p.intel.cli_principal(), EVIDENCE, bystanders, files=True)
    secret = SealedValue(org_id=platform_org, table="intel_reports", column="description", record_id=str(rep.id),
                         blob=rep.description_ct)
    return Case([secret], p.intel.cli_principal(), "trang thu OTP", bystanders)


FEEDBACK = "Chào cả nhà, tối nay tổ dân phố họp lúc 7 giờ ở nhà văn hoá, ai bận thì báo trước nhé."


def _feedback(w, purpose):
    from postguard.messages.models import FeedbackCase

    p = w.p
    case = p.message_feedback.submit(text=FEEDBACK, label="legit", expected="scam", consent=True, client="c4")["case"]
    platform_org = p.orgs.platform_org_id()
    with p.db.read_session() as s:
        row = s.execute(select(FeedbackCase).where(FeedbackCase.public_id == case)).scalar_one()
    secret = SealedValue(org_id=platform_org, table="message_feedback", column="text", record_id=case,
                         blob=row.text_ct)
    # A reviewer of any organisation (as analysts are); an intelligence analyst is not one.
    return Case([secret], key(w.system.org_id, "VNP", "messages:review"), FEEDBACK, {
        "an intelligence analyst": key(w.system.org_id, "VNP", "intel:analyst"),
        "a member of staff": w.people["hub"],
        "the platform itself": SystemActor(org_id=platform_org, actor="postguard:intel"),
        "a citizen": ProvenCitizen(org_id=w.system.org_id, digest_hex="00" * 16),
    })


def _lawful(w, purpose):
    import json

    from postguard.db.base import utcnow
    from postguard.privacy.lawful import SCOPE_KEY
    from postguard.privacy.models import LawfulRequest

    p = w.p
    dpo = staff(p, "VNP", "dpo", "dpo")
    req = p.privacy.lawful.record(dpo, authority_kind="police", authority_name="Công an tỉnh Thử",
                                  legal_basis="Điều 88 Bộ luật Tố tụng hình sự 2015", case_number="12/CSĐT",
                                  deadline_at=utcnow(), phones=[REQUESTER])
    with p.db.read_session() as s:
        row = s.execute(select(LawfulRequest).where(LawfulRequest.ref == req["ref"])).scalar_one()
    secret = SealedValue(org_id=row.org_id, table="lawful_requests", column="scope_phones", record_id=row.ref,
                         blob=row.scope_phones_ct, service=SCOPE_KEY)
    return Case([secret], dpo, json.dumps([REQUESTER]), {
        "an administrator": staff(p, "VNP", "boss", "admin"),
        "another operator's DPO": staff(p, "GHX", "dpo", "dpo"),
        "an API key": w.system,
        "a courier": w.people["an"],
    })


# Subscriber records are sealed under a record key of their own and opened with ``Door.open_records``, as
# shipments are with ``open_shipments``: tests/integration/test_subscribers.py tries their purposes.
OPENED_AS_RECORDS = {"subscriber_reverify", "subscriber_scam_match", "subscriber_suspend"}

BUILD = {
    "evidence_bundle": _intel, "evidence_files": _takedown, "lawful_scope": _lawful,
    "courier_own_numbers": _courier_number, "call_setup": _courier_number, "masked_call": _masked_call,
    "passport_record": _passport, "canary_issue": _canary_number, "dsr_contact": _dsr_contact,
    "dsr_notice": _dsr_contact, "indicator_review": _intel, "report_review": _intel, "appeal_review": _intel,
    "indicator_share": _intel, "lookup_index": _intel, "takedown_evidence": _takedown,
    "takedown_report_text": _takedown, "blocklist_publish": _intel,
    "message_feedback_review": _feedback, "message_feedback_export": _feedback,
}


def test_every_purpose_beyond_shipments_is_tested_here():
    assert set(BUILD) == {name for name, rule in PURPOSES.items() if rule.kind != SHIPMENTS} - OPENED_AS_RECORDS


@pytest.fixture
def opened(monkeypatch):
    """Every value the vault opener opens (patched on the class: the door's opener is the only one)."""
    seen = []
    real, real_bytes = VaultOpener.open_value, VaultOpener.open_bytes
    monkeypatch.setattr(VaultOpener, "open_value", lambda self, s, v: seen.append(v) or real(self, s, v))
    monkeypatch.setattr(VaultOpener, "open_bytes", lambda self, s, v: seen.append(v) or real_bytes(self, s, v))
    return seen


@pytest.mark.both_databases
@pytest.mark.parametrize("purpose", sorted(BUILD))
def test_the_door_opens_for_its_principal_and_refuses_and_logs_the_others(world, purpose, opened):
    p = world.p
    case = BUILD[purpose](world, purpose)
    opened.clear()
    open_ = p.door.open_files if case.files else p.door.open
    for why, who in case.refused.items():
        with p.db.read_session() as s, pytest.raises(Forbidden):
            open_(s, who, purpose, case.secrets, subject="test")
        entry = last_entry(p)
        assert (entry["action"], entry["actor"], entry["purpose"]) == ("reveal_denied", who.actor, purpose), why
    assert opened == []  # nothing was decrypted for any refused principal
    with p.db.read_session() as s:
        assert open_(s, case.allowed, purpose, case.secrets, subject="test") == [case.plain]
    entry = last_entry(p)
    assert entry["actor"] == case.allowed.actor and entry["purpose"] == purpose
    assert entry["action"] == PURPOSES[purpose].action != "reveal_denied"
    assert len(opened) == 1


@pytest.mark.both_databases
@pytest.mark.parametrize("purpose", ["courier_own_numbers", "masked_call", "dsr_contact", "report_review"])
def test_a_log_that_cannot_be_written_leaves_everything_sealed(world, purpose, opened, monkeypatch):
    p = world.p
    case = BUILD[purpose](world, purpose)
    opened.clear()

    def broken(**kw):
        raise AuditUnavailable("The access log is unavailable.")

    monkeypatch.setattr(p.audit, "append", broken)
    with p.db.read_session() as s, pytest.raises(AuditUnavailable):
        p.door.open(s, case.allowed, purpose, case.secrets)
    assert opened == []


def test_a_subscriber_that_raises_stops_the_reveal_after_it_is_logged(world, opened):
    p = world.p
    events = []

    def boom(event):
        events.append(event)
        raise AuditUnavailable("The alert could not be recorded.")

    p.events.subscribe(Revealed, boom)
    before = last_entry(p)
    with pytest.raises(AuditUnavailable):
        p.couriers.own_phones(world.people["an"])
    assert opened == []
    entry = last_entry(p)  # the decision was logged first
    assert entry != before and entry["purpose"] == "courier_own_numbers"
    (event,) = events
    assert (event.principal, event.purpose, event.kind) == (world.people["an"], "courier_own_numbers", "courier_phones")
    with p.db.read_session() as s:
        assert event.log_index == s.execute(select(AuditEntry.idx).order_by(AuditEntry.idx.desc()).limit(1)).scalar_one()


def test_an_unknown_purpose_or_a_purpose_for_other_data_is_refused(world, opened):
    p = world.p
    case = _courier_number(world, "courier_own_numbers")

    with p.db.read_session() as s, pytest.raises(InvalidInput):
        p.door.open(s, world.people["an"], "curiosity", case.secrets)
    with p.db.read_session() as s, pytest.raises(Forbidden, match="does not cover"):
        p.door.open(s, world.people["an"], "delivery", case.secrets)  # a shipments purpose
    with p.db.read_session() as s, pytest.raises(Forbidden, match="does not cover"):
        # a purpose's own kind, another column: a courier's purpose cannot name a masked call
        p.door.open(s, world.people["an"], "courier_own_numbers",
                    [Owned(SealedValue(org_id=world.people["an"].org_id, table="masked_calls",
                                       column="recipient_phone", record_id="1", blob=b"x"),
                           owner=world.people["an"].staff_id)])
    assert opened == []


@pytest.mark.both_databases
def test_the_services_log_their_openings(world):
    """Behaviour that changed: a courier reading their numbers, a call being routed, a DPO's notice,
    an analyst reading reports are each one entry with the purpose."""
    p = world.p
    assert [x["e164"] for x in p.couriers.own_phones(world.people["an"])] == [COURIER_PHONE]
    assert last_entry(p)["purpose"] == "courier_own_numbers"
    p.calls.proxy_add(org_code="VNP", number=PROXY)
    p.calls.start_call(world.people["an"], waybill=world.waybill)
    assert p.calls.route(caller=COURIER_PHONE, dialled=PROXY)["target"] == world.recipient
    entry = last_entry(p)
    assert (entry["action"], entry["purpose"], entry["actor"]) == ("call_route", "masked_call", "telephony")
    assert entry["details"]["to"] == "recipient" and entry["subject"] == world.waybill


def test_a_takedown_pack_opens_a_report_s_text_and_never_its_contact(world, opened):
    p = world.p
    case = _takedown(world, "takedown_report_text")
    contact = SealedValue(org_id=case.secrets[0].org_id, table="intel_reports", column="contact",
                          record_id=case.secrets[0].record_id, blob=b"x")
    with p.db.read_session() as s, pytest.raises(Forbidden, match="does not cover"):
        p.door.open(s, case.allowed, "takedown_report_text", [contact])
    with p.db.read_session() as s, pytest.raises(Forbidden, match="does not cover"):
        p.door.open_files(s, case.allowed, "takedown_evidence", case.secrets)  # a report is not a file
    assert opened == []
