"""Courier call identification on SQLite and PostgreSQL: the registry, the citizen check's outcomes,
revocation at once, the enumeration defences, spoken codes, call intents and masked calling."""

from __future__ import annotations

import base64
import contextlib
import json
import time
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import select, text, update

from postguard.access.models import Assignment, Staff
from postguard.audit.models import AuditEntry
from postguard.callerid.check import KEPT_BODY_BYTES
from postguard.callerid.codes import spoken_code, vn_today
from postguard.callerid.directory import _NOTIFY_SQL, MISSING
from postguard.callerid.models import CallIntent, CourierPhone, MaskedCall, ScamReport
from postguard.db.base import utcnow
from postguard.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    RateLimited,
    Shredded,
    Unauthenticated,
)
from postguard.platform import Platform
from postguard.shipments.models import Shipment
from postguard.vault.models import VaultKey
from tests.callerid_world import (
    COURIER_PHONE,
    OTHER_COURIER_PHONE,
    PROXY,
    RIVAL_COURIER_PHONE,
    build,
    prebuilt_world,
    window,
)

STRANGER = "+84933444555"


@pytest.fixture
def world(prebuilt, faker):
    w = prebuilt_world(prebuilt, faker, password_time_cost=1, password_memory_kib=1024, notifier="memory",
                       callcheck_rate_limit="1000/minute", callcheck_probe_limit="50/hour")
    yield w
    w.p.close()


def entries(p, action=None):
    with p.db.session() as s:
        rows = [json.loads(e) for e in s.execute(select(AuditEntry.entry).order_by(AuditEntry.idx)).scalars()]
    return [r for r in rows if action is None or r["action"] == action]


def proof_for(p, phone):
    sent = p.callcheck.send_code(phone=phone, client="1.2.3.4")
    return p.callcheck.confirm_code(phone=phone, code=p.notifier.last_code(phone), challenge=sent["challenge"],
                                    client="1.2.3.4")


def check(w, **kw):
    kw.setdefault("client", "10.0.0.1")
    return w.p.callcheck.check(**kw)


# -- the three outcomes (and the unproven one) ------------------------------------------------------
def test_unknown_number_is_not_a_courier_with_hotlines_and_advice(world):
    got = check(world, caller=STRANGER, asked=["otp", "transfer"])
    assert got["outcome"] == "not_courier" and got["can_report"]
    assert {h["code"]: h["hotline"] for h in got["hotlines"]} == {"VNP": "1900 1234", "GHX": "1900 5678"}
    # "not of these N operators", never "of no operator": the operators that take part, by name
    assert [o["code"] for o in got["participants"]] == ["VNP", "GHX"]
    assert [f["code"] for f in got["flags"]] == ["transfer", "otp"]
    assert set(got["never_asks"]) == {"transfer", "otp", "app", "fee"}


def test_courier_number_without_proof_says_only_which_operator(world):
    got = check(world, caller="0912 000 111", phone=world.recipient)
    assert got["outcome"] == "courier" and got["operator"]["code"] == "VNP" and got["proof_needed"]
    assert "shipment" not in got
    # the same answer for a citizen with no parcel: nothing distinguishes them without proof
    other = check(world, caller="0912 000 111", phone=STRANGER)
    assert other == got


def test_a_waybill_alone_is_not_proof(world):
    """The waybill is printed on every label: with it and no proof, the answer says no more than
    "courier of operator Y" and asks for the proof: no COD, window, courier name or spoken code."""
    got = check(world, caller=COURIER_PHONE, waybill=world.waybill, amount_vnd="350.000", asked=["fee"])
    assert got == check(world, caller=COURIER_PHONE, amount_vnd="350.000", asked=["fee"])
    assert got["outcome"] == "courier" and got["proof_needed"] and "shipment" not in got
    assert check(world, caller=OTHER_COURIER_PHONE, waybill=world.waybill)["outcome"] == "courier"
    assert entries(world.p, "call_check") == [] and entries(world.p, "reveal") == []


def test_verified_with_a_proven_phone_and_the_waybill(world):
    proof = proof_for(world.p, world.recipient)
    got = check(world, caller=COURIER_PHONE, proof=proof, waybill=world.waybill.lower(), amount_vnd="350.000",
                asked=["fee"])
    assert got["outcome"] == "verified" and got["operator"]["name"] == "Bưu điện Mẫu"
    sh = got["shipment"]
    assert sh["waybill_suffix"] == world.waybill[-4:] and sh["cod_amount_vnd"] == 350000
    assert sh["courier_given_name"] == "An"
    with world.p.db.session() as s:
        sid = s.execute(select(Shipment.id).where(Shipment.waybill == world.waybill)).scalar_one()
    assert sh["spoken_code"] == spoken_code(world.p.callerid_keys.code_key, shipment_id=sid, day=vn_today())
    assert [f["code"] for f in got["flags"]] == ["fee"]  # the amount matches the COD: no amount flag
    entry = entries(world.p, "call_check")[-1]
    assert entry["subject"] == world.waybill and entry["details"]["outcome"] == "verified"
    assert entry["details"]["caller"] == "…111" and entry["details"]["proof"] == "phone_proof"
    # another waybill narrows the proven check to nothing
    assert check(world, caller=COURIER_PHONE, proof=proof, waybill=world.rows[1]["waybill"])["outcome"] \
        == "courier_no_delivery"


def test_verified_with_a_proven_phone_and_the_amount_flagged(world):
    proof = proof_for(world.p, world.recipient)
    got = check(world, caller=COURIER_PHONE, proof=proof, amount_vnd=500000)
    assert got["outcome"] == "verified"
    assert {"code": "amount_differs", "severity": "danger", "cod_amount_vnd": 350000} in got["flags"]
    reveal = entries(world.p, "reveal")[-1]  # the door logged the comparison before decrypting
    assert reveal["purpose"] == "call_check" and reveal["actor"].startswith("citizen:")
    assert world.recipient not in json.dumps(entries(world.p))


def test_courier_but_no_delivery_to_you(world):
    proof = proof_for(world.p, STRANGER)
    assert check(world, caller=COURIER_PHONE, proof=proof)["outcome"] == "courier_no_delivery"
    mine = proof_for(world.p, world.recipient)
    assert check(world, caller=OTHER_COURIER_PHONE, proof=mine, waybill=world.waybill)["outcome"] \
        == "courier_no_delivery"
    rival = check(world, caller=RIVAL_COURIER_PHONE, proof=mine)  # another operator's courier
    assert rival["outcome"] == "courier_no_delivery" and rival["operator"]["code"] == "GHX"


def test_a_proof_for_another_number_is_refused(world):
    proof = proof_for(world.p, STRANGER)
    with pytest.raises(Unauthenticated):
        check(world, caller=COURIER_PHONE, proof=proof, phone=world.recipient)
    with pytest.raises(Unauthenticated):
        check(world, caller=COURIER_PHONE, proof="forged" + proof[6:])


# -- revocation at once -----------------------------------------------------------------------------
@pytest.mark.both_databases
@pytest.mark.parametrize("status", ["suspended", "offboarded"])
def test_suspending_or_offboarding_takes_effect_at_once(world, status):
    proof = proof_for(world.p, world.recipient)
    assert check(world, caller=COURIER_PHONE, proof=proof)["outcome"] == "verified"
    world.p.staff.set_status(org_code="VNP", username="an", status=status)
    assert check(world, caller=COURIER_PHONE)["outcome"] == "not_courier"
    assert check(world, caller=COURIER_PHONE, proof=proof)["outcome"] == "not_courier"
    world.p.staff.set_status(org_code="VNP", username="an", status="active")
    assert check(world, caller=COURIER_PHONE, proof=proof)["outcome"] == "verified"


def test_delivery_reassignment_and_closed_window_end_the_verified_answer(world):
    p = world.p
    proof = proof_for(p, world.recipient)
    p.access.assign(world.people["hub"], waybill=world.waybill, courier="binh", **window())
    assert check(world, caller=COURIER_PHONE, proof=proof)["outcome"] == "courier_no_delivery"
    assert check(world, caller=OTHER_COURIER_PHONE, proof=proof)["outcome"] == "verified"
    p.access.assign(world.people["hub"], waybill=world.waybill, courier="binh", **window(-3, -1))
    assert check(world, caller=OTHER_COURIER_PHONE, proof=proof)["outcome"] == "courier_no_delivery"
    p.access.assign(world.people["hub"], waybill=world.waybill, courier="an", **window())
    p.shipments.set_status(world.system, world.waybill, "delivered")
    assert check(world, caller=COURIER_PHONE, proof=proof)["outcome"] == "courier_no_delivery"


# -- registry ---------------------------------------------------------------------------------------
def test_unverified_numbers_do_not_count_and_numbers_are_stored_as_digest_and_ciphertext(world):
    p = world.p
    added = p.couriers.add_phone(org_code="VNP", username="an", phone="0977 123 456")
    assert check(world, caller="0977123456")["outcome"] == "not_courier"
    with pytest.raises(Unauthenticated):
        p.couriers.verify_phone(org_code="VNP", username="an", phone="0977123456", code="000000",
                                challenge=added["challenge"])
    p.couriers.verify_phone(org_code="VNP", username="an", phone="+84 977.123.456",
                            code=p.notifier.last_code("+84977123456"), challenge=added["challenge"])
    assert check(world, caller="84977123456")["outcome"] == "courier"
    listed = p.couriers.list_phones(org_code="VNP", username="an")
    assert [x["phone"] for x in listed] == ["*******111", "*******456"] and all(x["status"] == "verified" for x in listed)
    assert [x["e164"] for x in p.couriers.own_phones(world.people["an"])] == [COURIER_PHONE, "+84977123456"]
    with p.db.session() as s:
        dump = repr(s.execute(text("SELECT * FROM courier_phones")).all())
    assert "977123456" not in dump and "912000111" not in dump


def test_one_number_belongs_to_one_courier_across_operators(world):
    with pytest.raises(Conflict):
        world.p.couriers.add_phone(org_code="GHX", username="cuong", phone=COURIER_PHONE)
    with pytest.raises(InvalidInput):
        world.p.couriers.add_phone(org_code="VNP", username="hub", phone="0977123456")
    with pytest.raises(InvalidInput) as e:
        world.p.couriers.add_phone(org_code="VNP", username="an", phone="028 3822 1234")  # a landline
    assert e.value.errors[0].field == "phone"


# -- enumeration defences ---------------------------------------------------------------------------
def test_repeated_probing_with_proof_is_refused(make_settings, faker):
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024, notifier="memory",
                               callcheck_rate_limit="1000/minute", callcheck_probe_limit="3/hour"))
    try:
        w = build(p, faker)
        mine, stranger = proof_for(p, w.recipient), proof_for(p, STRANGER)
        for row in w.rows[1:4]:
            assert p.callcheck.check(caller=COURIER_PHONE, proof=mine, waybill=row["waybill"],
                                     client="6.6.6.6")["outcome"] == "courier_no_delivery"
        with pytest.raises(RateLimited, match="matched nothing"):
            p.callcheck.check(caller=COURIER_PHONE, proof=stranger, client="6.6.6.6")
        # the plain check still answers, and other clients with other numbers are not affected
        assert p.callcheck.check(caller=COURIER_PHONE, client="6.6.6.6")["outcome"] == "courier"
        other = proof_for(p, "+84933444556")
        assert p.callcheck.check(caller=OTHER_COURIER_PHONE, proof=other, client="7.7.7.7")["outcome"] \
            == "courier_no_delivery"
    finally:
        p.close()


def test_probing_is_counted_per_proven_number_too(make_settings, faker):
    """One proven number probing from many addresses is refused once over the limit."""
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024, notifier="memory",
                               callcheck_rate_limit="1000/minute", callcheck_probe_limit="3/hour"))
    try:
        build(p, faker)
        proof = proof_for(p, STRANGER)
        for i in range(3):
            assert p.callcheck.check(caller=COURIER_PHONE, proof=proof, client=f"6.6.6.{i}")["outcome"] \
                == "courier_no_delivery"
        with pytest.raises(RateLimited, match="matched nothing"):
            p.callcheck.check(caller=COURIER_PHONE, proof=proof, client="6.6.6.9")
    finally:
        p.close()


def test_checks_are_rate_limited_per_client(make_settings, faker):
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024, notifier="memory",
                               callcheck_rate_limit="3/minute"))
    try:
        build(p, faker, shipments=1)
        for _ in range(3):
            p.callcheck.check(caller=STRANGER, client="9.9.9.9")
        with pytest.raises(RateLimited):
            p.callcheck.check(caller=STRANGER, client="9.9.9.9")
        p.callcheck.check(caller=STRANGER, client="9.9.9.8")
    finally:
        p.close()


@pytest.mark.parametrize("field,kw", [
    ("caller", {"caller": "12"}), ("caller", {"caller": ""}), ("phone", {"caller": STRANGER, "phone": "abc"}),
    ("waybill", {"caller": STRANGER, "waybill": "x" * 41}), ("waybill", {"caller": STRANGER, "waybill": "a b"}),
    ("amount_vnd", {"caller": STRANGER, "amount_vnd": "many"}), ("amount_vnd", {"caller": STRANGER, "amount_vnd": -5}),
    ("asked", {"caller": STRANGER, "asked": ["money"]}),
])
def test_bad_input_names_the_field(world, field, kw):
    with pytest.raises(InvalidInput) as e:
        check(world, **kw)
    assert e.value.errors[0].field == field


# -- spoken codes -----------------------------------------------------------------------------------
def test_spoken_code_check_needs_the_recipients_proof(make_settings, faker):
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024, notifier="memory",
                               callcheck_code_limit="3/day"))
    try:
        w = build(p, faker, shipments=1)
        code = p.calls.courier_view(w.people["an"])["parcels"][0]["spoken_code"]
        assert len(code) == 4 and code.isdigit()
        with pytest.raises(Unauthenticated):  # the waybill alone checks nothing
            p.callcheck.check_spoken_code(waybill=w.waybill, code=code, proof=None, client="a")
        mine = proof_for(p, w.recipient)
        wrong = f"{(int(code) + 1) % 10000:04d}"
        assert p.callcheck.check_spoken_code(waybill=w.waybill, code=wrong, proof=mine, client="a")["valid"] is False
        assert p.callcheck.check_spoken_code(waybill=w.waybill, code=f"{code[:2]} {code[2:]}", proof=mine,
                                             client="b", operator="vnp")["valid"] is True
        assert p.callcheck.check_spoken_code(waybill=w.waybill, code=code, proof=mine, client="c",
                                             operator="GHX")["valid"] is False
        with pytest.raises(RateLimited):  # per proven number, across clients: the code cannot be found by trying
            p.callcheck.check_spoken_code(waybill=w.waybill, code=code, proof=mine, client="d")
        # a stranger's proof: the right code is not confirmed for someone else's parcel
        assert p.callcheck.check_spoken_code(waybill=w.waybill, code=code, proof=proof_for(p, STRANGER),
                                             client="e")["valid"] is False
        assert entries(p, "reveal")[-1]["purpose"] == "call_check"
    finally:
        p.close()


def test_a_stranger_cannot_use_up_the_recipients_spoken_code_tries(make_settings, faker):
    """Strangers who read the label try codes from many addresses and numbers: the recipient's own
    check of the right code still answers (the limit counts per client and per proven number)."""
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024, notifier="memory",
                               callcheck_code_limit="3/day"))
    try:
        w = build(p, faker, shipments=1)
        code = p.calls.courier_view(w.people["an"])["parcels"][0]["spoken_code"]
        wrong = f"{(int(code) + 1) % 10000:04d}"
        for i in range(4):
            stranger = proof_for(p, f"+8493344455{i}")
            for j in range(3):
                with contextlib.suppress(Unauthenticated):
                    p.callcheck.check_spoken_code(waybill=w.waybill, code=wrong, proof=stranger, client=f"9.9.{i}.{j}")
        mine = proof_for(p, w.recipient)
        assert p.callcheck.check_spoken_code(waybill=w.waybill, code=code, proof=mine, client="10.0.0.1")["valid"]
    finally:
        p.close()


# -- reports ----------------------------------------------------------------------------------------
def test_a_scam_report_goes_to_scam_intelligence_at_once(world):
    got = world.p.callcheck.report(number="0933 444 555", asked=["otp", "link"], amount_vnd="2.000.000",
                                   operator="vnp", note="Gọi nói phí lưu kho", client="10.1.1.1")
    assert got["stored"] and got["verdict"] == "not_courier"
    with world.p.db.session() as s:
        r = s.get(ScamReport, got["id"])
    assert (r.asked, r.amount_vnd, r.claimed_operator) == ("otp,link", 2_000_000, "VNP")
    assert r.number != STRANGER and r.number.endswith(STRANGER[-3:]) and r.consumed_at is not None
    assert r.client_digest != b"10.1.1.1" and len(r.client_digest) == 32
    # the number is now a reported indicator: the citizen check of scam intelligence says so
    seen = world.p.intel.check("0933 444 555", client="10.9.9.9")
    assert seen["verdict"] == "reported", seen


# -- call intents and masked calling ----------------------------------------------------------------
def test_start_call_issues_an_intent_that_the_check_matches(world):
    p = world.p
    got = p.calls.start_call(world.people["an"], waybill=world.waybill)
    assert got["proxy"] is None and got["passport"].count(".") == 2
    verified = p.calls.verify_passport(got["passport"])
    assert verified["origid"] == got["origid"] and verified["attest"] == "A"
    assert verified["rcd_name"] == "Bưu điện Mẫu" and verified["orig_tn"] == COURIER_PHONE.lstrip("+")
    result = check(world, caller=COURIER_PHONE, proof=proof_for(p, world.recipient), waybill=world.waybill)
    assert result["intent"]["origid"] == got["origid"]
    assert "no_app_call" not in {f["code"] for f in result["flags"]}  # the app vouches for this call


def test_a_courier_number_without_a_recent_app_call_may_be_spoofed(world):
    from datetime import timedelta

    from sqlalchemy import select, update

    from postguard.callerid.models import CallIntent

    p = world.p
    proof = proof_for(p, world.recipient)
    # an operator whose app has never recorded a call: nothing to compare, no flag
    assert "no_app_call" not in {f["code"] for f in check(world, caller=COURIER_PHONE, proof=proof)["flags"]}
    p.calls.start_call(world.people["an"], waybill=world.waybill)
    with p.db.session() as s:  # the app's call was 20 minutes ago
        for iid, at in s.execute(select(CallIntent.id, CallIntent.created_at)).all():
            s.execute(update(CallIntent).where(CallIntent.id == iid).values(created_at=at - timedelta(minutes=20)))
    flags = check(world, caller=COURIER_PHONE, proof=proof, waybill=world.waybill)["flags"]
    assert flags[0] == {"code": "no_app_call", "severity": "warning"}
    # ... but a call that came 18 minutes ago, when it was checked later, is the app's call
    from postguard.db.base import utcnow

    at = (utcnow() - timedelta(minutes=18)).isoformat()
    flags = check(world, caller=COURIER_PHONE, proof=proof, waybill=world.waybill, called_at=at)["flags"]
    assert "no_app_call" not in {f["code"] for f in flags}
    # and one 40 minutes ago (the app's call came 20 minutes after it) was not
    at = (utcnow() - timedelta(minutes=40)).isoformat()
    assert check(world, caller=COURIER_PHONE, proof=proof, waybill=world.waybill, called_at=at)["flags"][0][
        "code"] == "no_app_call"


@pytest.mark.parametrize(("value", "code"), [
    ("yesterday", "invalid"), (12, "invalid"), ("2026-13-01T10:00", "invalid"), ("x" * 41, "invalid"),
    ("2999-01-01T10:00:00+07:00", "in_future"), ("2001-01-01T10:00:00", "too_old"),
])
def test_the_time_of_a_call_is_checked(world, value, code):
    with pytest.raises(InvalidInput) as e:
        check(world, caller=COURIER_PHONE, called_at=value)
    assert (e.value.errors[0].field, e.value.errors[0].code) == ("called_at", code)


def test_only_the_assigned_courier_in_the_window_starts_a_call(world):
    p = world.p
    with pytest.raises(Forbidden):
        p.calls.start_call(world.people["binh"], waybill=world.waybill)
    assert entries(p, "reveal_denied")[-1]["actor"] == world.people["binh"].actor
    with pytest.raises(Forbidden):
        p.calls.start_call(world.people["hub"], waybill=world.waybill)
    refused = entries(p, "access_denied")[-1]  # not a courier: refused by the one logged check
    assert refused["actor"] == world.people["hub"].actor and refused["subject"] == world.waybill


def test_masked_call_session_routes_both_ways_and_ends_with_the_delivery(world):
    p = world.p
    p.calls.proxy_add(org_code="VNP", number=PROXY)
    got = p.calls.start_call(world.people["an"], waybill=world.waybill)
    assert got["proxy"] == "02838001001" and got["dial"] == "02838001001"
    there = p.calls.route(caller="0912000111", dialled="028 3800 1001")
    assert there["action"] == "connect" and there["target"] == world.recipient and there["to"] == "recipient"
    back = p.calls.route(caller=world.recipient, dialled=PROXY)
    assert back["action"] == "connect" and back["target"] == COURIER_PHONE
    assert p.calls.route(caller=STRANGER, dialled=PROXY)["reason"] == "no_active_delivery"
    assert p.calls.route(caller=COURIER_PHONE, dialled="+842838001009")["reason"] == "not_a_proxy_number"
    # the citizen sees the proxy number: the check recognises it
    assert check(world, caller=PROXY)["outcome"] == "courier"
    assert check(world, caller=PROXY, proof=proof_for(p, world.recipient))["outcome"] == "verified"
    assert check(world, caller=PROXY, proof=proof_for(p, STRANGER))["outcome"] == "courier_no_delivery"
    assert entries(p, "call_route")[-1]["details"]["to"] == "courier"
    with p.db.session() as s:
        dump = repr(s.execute(text("SELECT * FROM masked_calls")).all())
    assert world.recipient[3:] not in dump and COURIER_PHONE[3:] not in dump
    p.shipments.set_status(world.system, world.waybill, "delivered")
    assert p.calls.route(caller=COURIER_PHONE, dialled=PROXY)["action"] == "refuse"
    assert p.calls.route(caller=world.recipient, dialled=PROXY)["reason"] == "no_active_delivery"
    assert p.calls.end_expired() == 1


def test_expired_window_refuses_the_route(world):
    p = world.p
    p.calls.proxy_add(org_code="VNP", number=PROXY)
    p.calls.start_call(world.people["an"], waybill=world.waybill)
    with p.db.session() as s:
        s.execute(update(MaskedCall).values(ends_at=utcnow() - timedelta(minutes=1)))
    assert p.calls.route(caller=COURIER_PHONE, dialled=PROXY) == {
        "action": "refuse", "reason": "no_active_delivery", "announcement": p.calls.route(
            caller=STRANGER, dialled=PROXY)["announcement"]}


def test_proxy_numbers_are_shared_without_ambiguity(world):
    p = world.p
    p.calls.proxy_add(org_code="VNP", number=PROXY)
    w2 = world.rows[1]["waybill"]
    for status in ("picked_up", "in_transit", "out_for_delivery"):
        p.shipments.set_status(world.system, w2, status)
    p.access.assign(world.people["hub"], waybill=w2, courier="an", **window())
    p.calls.start_call(world.people["an"], waybill=world.waybill)
    again = p.calls.start_call(world.people["an"], waybill=world.waybill)  # same session reused
    assert again["proxy"] == "02838001001"
    with pytest.raises(Conflict, match="busy"):  # the only proxy already carries a session of this courier
        p.calls.start_call(world.people["an"], waybill=w2)
    p.calls.proxy_add(org_code="VNP", number="+842838001002")
    assert p.calls.start_call(world.people["an"], waybill=w2)["proxy"] == "02838001002"
    assert [x["live_sessions"] for x in p.calls.proxy_list(org_code="VNP")] == [1, 1]


def test_start_call_needs_a_verified_number(world):
    p = world.p
    with p.db.session() as s:
        s.execute(update(CourierPhone).where(CourierPhone.staff_id == world.people["an"].staff_id)
                  .values(status="pending"))
    with pytest.raises(Conflict, match="verify your phone"):
        p.calls.start_call(world.people["an"], waybill=world.waybill)


def test_revoked_courier_sessions_stop_routing(world):
    p = world.p
    p.calls.proxy_add(org_code="VNP", number=PROXY)
    p.calls.start_call(world.people["an"], waybill=world.waybill)
    p.staff.set_status(org_code="VNP", username="an", status="suspended")
    assert p.calls.route(caller=world.recipient, dialled=PROXY)["action"] == "refuse"
    assert check(world, caller=PROXY, proof=proof_for(p, world.recipient))["outcome"] == "courier_no_delivery"


def test_assignment_ended_stops_sessions(world):
    p = world.p
    p.calls.proxy_add(org_code="VNP", number=PROXY)
    p.calls.start_call(world.people["an"], waybill=world.waybill)
    with p.db.session() as s:
        s.execute(update(Assignment).values(ended_at=utcnow(), ended_reason="test"))
    assert p.calls.route(caller=COURIER_PHONE, dialled=PROXY)["action"] == "refuse"


def test_verifying_an_already_verified_number_needs_no_code(world):
    assert world.p.couriers.verify_phone(org_code="VNP", username="an", phone=COURIER_PHONE, code="x",
                                         challenge=None)["status"] == "verified"


@pytest.mark.parametrize("written", ["0912000111", "0912 000 111", "0912.000.111", "0912-000-111", "+84912000111",
                                     "+84 912 000 111", "84912000111", "0084912000111", "912000111"])
def test_the_check_finds_the_courier_in_every_written_form(world, written):
    assert check(world, caller=written)["outcome"] == "courier"


def test_a_pre_2018_number_is_the_same_courier(world):
    from tests.callerid_world import register

    register(world.p, "VNP", "binh", "0322 000 111")  # 0162 200 0111 before 2018
    assert check(world, caller="01622000111")["outcome"] == "courier"
    assert check(world, caller="+84 162 200 0111")["outcome"] == "courier"


@pytest.mark.both_databases
def test_a_change_on_one_worker_counts_at_the_next_check_on_another(world, settings):
    """Two workers on one database: the second answers from its directory until the first suspends
    the courier. SQLite: at once (the shared counter); PostgreSQL: when the NOTIFY arrives."""
    other = Platform(world.p.settings)
    try:
        sig = other.registry_signal
        deadline = time.monotonic() + 10
        while sig.current() is None and time.monotonic() < deadline:  # PostgreSQL: until it listens
            time.sleep(0.02)
        assert sig.current() is not None
        digest = other.callerid_keys.phone_digest(COURIER_PHONE)
        assert other.callcheck.check(caller=COURIER_PHONE, client="10.0.0.2")["outcome"] == "courier"
        assert other.callcheck.directory.peek(digest).status == "active"  # kept in memory
        world.p.staff.set_status(org_code="VNP", username="an", status="suspended")
        if world.p.db.dialect == "postgresql":
            while other.callcheck.directory.peek(digest) is not MISSING and time.monotonic() < deadline:
                time.sleep(0.005)
        assert other.callcheck.directory.peek(digest) is MISSING
        assert other.callcheck.check(caller=COURIER_PHONE, client="10.0.0.2")["outcome"] == "not_courier"
        # A change that is rolled back, or to what the check does not read, keeps what is known.
        kept = other.callcheck.directory.peek(digest)
        assert kept is not MISSING and kept.status == "suspended"
        with pytest.raises(RuntimeError), world.p.db.session() as s:
            s.execute(update(CourierPhone).values(status="pending"))  # bulk: not through the ORM, rolled back
            s.get(Staff, kept.ref).status = "active"
            s.flush()
            raise RuntimeError("rolled back")
        with world.p.db.session() as s:
            s.get(Staff, kept.ref).failed_logins = 1
        time.sleep(0.2 if world.p.db.dialect == "postgresql" else 0)
        assert other.callcheck.directory.peek(digest) is kept
    finally:
        other.close()


@pytest.mark.both_databases
def test_notifications_of_other_schemas_do_not_empty_the_directory(world):
    """Notifications are per database: another deployment's changes (another schema of the same
    database), or a stray notification on the bare channel name, leave this one's memory alone; a
    change in its own schema still counts."""
    if world.p.db.dialect != "postgresql":
        pytest.skip("PostgreSQL notifications")
    sig = world.p.registry_signal
    deadline = time.monotonic() + 10
    while sig.current() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    before = sig.current()
    assert before is not None
    with world.p.db.engine.connect() as c:
        c.exec_driver_sql("SET LOCAL search_path TO elsewhere")
        c.exec_driver_sql(_NOTIFY_SQL)  # the same deployment in another schema
        c.exec_driver_sql("NOTIFY postguard_registry")
        c.commit()
    time.sleep(0.3)
    assert sig.current() == before
    world.p.staff.set_status(org_code="VNP", username="an", status="suspended")  # +1 at commit, +1 when heard
    with world.p.db.engine.connect() as c:  # as another worker of this deployment would: +1 when heard
        c.exec_driver_sql(_NOTIFY_SQL)
        c.commit()
    while sig.current() < before + 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.1)
    assert sig.current() == before + 3


@pytest.mark.both_databases
@pytest.mark.parametrize("kw", [{}, {"asked": ["fee", "otp"]}, {"amount_vnd": "150.000"}, {"asked": "link", "amount_vnd": 0}])
def test_the_quick_answer_from_memory_is_the_checks_answer(world, kw):
    cc = world.p.callcheck
    deadline = time.monotonic() + 10
    while cc.directory.signal.current() is None and time.monotonic() < deadline:  # PostgreSQL: until it listens
        time.sleep(0.02)
    for caller in (COURIER_PHONE, PROXY, STRANGER, "0933 444 555"):
        full = cc.check(caller=caller, client="10.0.0.3", **kw)  # reads the database, keeps the row
        body = orjson.dumps({"caller": caller, **kw})
        assert cc.quick_kept(body, "10.0.0.3") is None
        assert orjson.loads(cc.quick(caller=caller, client="10.0.0.3", body=body, **kw)) == full
        assert orjson.loads(cc.quick_kept(body, "10.0.0.3")) == full  # kept for exactly that body
        assert cc.quick_kept(body + b" ", "10.0.0.3") is None
    padded = b'{"caller": "%s"%s}' % (COURIER_PHONE.encode(), b" " * KEPT_BODY_BYTES)
    assert cc.quick(caller=COURIER_PHONE, client="10.0.0.3", body=padded, **kw) is not None
    assert cc.quick_kept(padded, "10.0.0.3") is None  # too long to keep as a key
    seen = cc.directory.signal.current()
    world.p.staff.set_status(org_code="VNP", username="an", status="suspended")
    while cc.directory.signal.current() == seen and time.monotonic() < deadline + 10:  # PostgreSQL: the NOTIFY
        time.sleep(0.005)
    assert cc.quick(caller=COURIER_PHONE, client="10.0.0.3", **kw) is None  # forgotten: needs the database
    assert cc.quick_kept(orjson.dumps({"caller": COURIER_PHONE, **kw}), "10.0.0.3") is None
    assert cc.check(caller=COURIER_PHONE, client="10.0.0.3", **kw)["outcome"] == "not_courier"
    assert orjson.loads(cc.quick(caller=COURIER_PHONE, client="10.0.0.3", **kw))["outcome"] == "not_courier"


# -- masked-only delivery ---------------------------------------------------------------------------
def test_masked_only_delivery_reveals_the_proxy_not_the_number_and_routing_connects(world):
    p = world.p
    p.calls.proxy_add(org_code="VNP", number=PROXY)
    assert p.access.reveal(world.people["an"], waybill=world.waybill, purpose="delivery")["recipient_phone"] \
        == world.recipient  # the operator has not chosen masked-only delivery
    got = p.calls.set_masked_only(org_code="vnp", enabled=True)
    assert got == {"org": "VNP", "masked_only": True, "proxy_numbers": 1}
    assert entries(p, "masked_only_set")[-1]["details"] == {"enabled": True}
    values = p.access.reveal(world.people["an"], waybill=world.waybill, purpose="delivery")
    assert values["recipient_phone"] == "*******" + world.recipient[-3:] and values["masked_only"]
    assert values["proxy"] == "02838001001" and values["recipient_name"] and values["recipient_address"]
    assert world.recipient[3:] not in json.dumps(values)
    # the call goes through the proxy: routing connects both ways
    there = p.calls.route(caller=COURIER_PHONE, dialled=PROXY)
    assert there["action"] == "connect" and there["target"] == world.recipient
    assert p.calls.route(caller=world.recipient, dialled=PROXY)["target"] == COURIER_PHONE
    again = p.access.reveal(world.people["an"], waybill=world.waybill, purpose="delivery")
    assert again["proxy"] == "02838001001"  # the same session
    assert p.calls.start_call(world.people["an"], waybill=world.waybill)["dial"] == "02838001001"
    with p.db.session() as s:
        assert len(s.execute(select(MaskedCall.id)).scalars().all()) == 1
    # other operators are not affected
    assert p.orgs.get("GHX").masked_only is False


def test_masked_only_delivery_without_a_free_proxy_never_falls_back_to_the_number(world):
    p = world.p
    p.calls.set_masked_only(org_code="VNP", enabled=True)
    values = p.access.reveal(world.people["an"], waybill=world.waybill, purpose="delivery")
    assert values["proxy"] is None and values["call_unavailable"] == "no_proxy_pool"
    assert world.recipient[3:] not in json.dumps(values)
    with pytest.raises(Conflict, match="Masked-only"):
        p.calls.start_call(world.people["an"], waybill=world.waybill)
    with p.db.session() as s:  # nothing half-written
        assert s.execute(select(CallIntent.id)).first() is None
    p.calls.set_masked_only(org_code="VNP", enabled=False)
    assert p.access.reveal(world.people["an"], waybill=world.waybill, purpose="delivery")["recipient_phone"] \
        == world.recipient


def test_a_key_rotation_keeps_what_callerid_sealed_under_the_old_key(world):
    """Couriers' phones, masked calls and recorded PASSporTs are sealed under the operator's data key;
    a rotation's rewrap used to count only shipments and canaries as users of the old version and
    destroyed it, so masked calls stopped connecting and recorded PASSporTs could not be read."""
    p = world.p
    p.calls.proxy_add(org_code="VNP", number=PROXY)
    p.calls.set_masked_only(org_code="VNP", enabled=True)
    p.access.reveal(world.people["an"], waybill=world.waybill, purpose="delivery")
    started = p.calls.start_call(world.people["an"], waybill=world.waybill)
    vnp = p.orgs.principal("VNP", actor="test")
    with p.db.session() as s:
        assert p.vault.rotate(s, org_id=vnp.org_id) == 2
    out = p.shipments.rewrap(vnp)
    assert out["rewrapped"] > 0 and out["destroyed_versions"] == []  # version 1 still seals call records
    assert p.calls.route(caller=COURIER_PHONE, dialled=PROXY)["target"] == world.recipient
    assert p.calls.recorded_passport(world.system, started["origid"]) == started["passport"]
    with p.db.session() as s:  # every blob names a version that still exists
        blobs = [b for model, col in ((CourierPhone, CourierPhone.phone_ct), (MaskedCall, MaskedCall.courier_phone_ct),
                                      (MaskedCall, MaskedCall.recipient_phone_ct))
                 for b in s.execute(select(col).where(model.org_id == vnp.org_id)).scalars() if b]
        blobs += [base64.b64decode(t) for t in s.execute(select(CallIntent.passport)).scalars() if t]
        named = {int.from_bytes(b[1:5], "big") for b in blobs}
        status = {k.version: k.status for k in s.execute(
            select(VaultKey).where(VaultKey.org_id == vnp.org_id, VaultKey.purpose == "data")).scalars()}
        assert named == {1} and status == {1: "retired", 2: "active"}


def test_the_recipients_own_call_check_is_not_a_leak_suspect(world):
    """Triangulating a leak lists the recipient's own proven call check (they did read the parcel's
    details) but weighs it as lawful, below the courier who delivered, with its basis."""
    p = world.p
    p.access.reveal(world.people["an"], waybill=world.waybill, purpose="delivery")
    proof = proof_for(p, world.recipient)
    got = check(world, caller=COURIER_PHONE, phone=world.recipient, proof=proof, waybill=world.waybill)
    assert got["outcome"] == "verified"
    out = p.leaks.triangulate("VNP", world.waybill)["candidates"]
    assert [c["role"] for c in out][:1] == ["courier"]
    (citizen,) = [c for c in out if c["actor"].startswith("citizen:")]
    assert citizen["score"] < out[0]["score"]
    assert all(a["lawful_basis"] and a["weight"] == 3 for a in citizen["accesses"] if a["purpose"] == "call_check")


# -- shredding while a call starts ------------------------------------------------------------------
def _call_records(p, shipment_waybill):
    with p.db.session() as s:
        sid = s.execute(select(Shipment.id).where(Shipment.waybill == shipment_waybill)).scalar_one()
        intents = s.execute(select(CallIntent.passport, CallIntent.recipient_digest)
                            .where(CallIntent.shipment_id == sid)).all()
        sessions = s.execute(select(MaskedCall.courier_phone_ct, MaskedCall.recipient_phone_ct,
                                    MaskedCall.recipient_digest).where(MaskedCall.shipment_id == sid)).all()
    return intents, sessions


@pytest.mark.both_databases
def test_a_shred_that_commits_while_a_call_starts_leaves_no_sealed_number(world, monkeypatch):
    """The door decides in one transaction and the call records are written in another: a shred that
    commits in between used to be followed by a freshly sealed PASSporT and masked-call numbers."""
    p = world.p
    p.calls.proxy_add(org_code="VNP", number=PROXY)
    real, fired = p.callerid_keys.phone_digest, []

    def shred_in_between(e164):  # first asked for once the door has decided and its session closed
        if e164 == world.recipient and not fired:
            fired.append(True)
            p.shipments.shred(world.system, world.waybill)
        return real(e164)

    monkeypatch.setattr(p.callerid_keys, "phone_digest", shred_in_between)
    with pytest.raises(Conflict, match="shredded"):
        p.calls.start_call(world.people["an"], waybill=world.waybill)
    assert fired
    intents, sessions = _call_records(p, world.waybill)
    assert intents == [] and sessions == []  # nothing half-written, nothing sealed after the shred
    assert entries(p, "call_intent") == []


@pytest.mark.both_databases
def test_a_shred_before_the_masked_line_seals_no_number(world, monkeypatch):
    p = world.p
    p.calls.proxy_add(org_code="VNP", number=PROXY)
    p.calls.set_masked_only(org_code="VNP", enabled=True)
    real = p.calls.masked_line

    def shred_first(principal, **kw):  # the door has decided and logged; the shred commits now
        p.shipments.shred(world.system, world.waybill)
        return real(principal, **kw)

    monkeypatch.setattr(p.calls, "masked_line", shred_first)
    values = p.access.reveal(world.people["an"], waybill=world.waybill, purpose="delivery")
    assert values["proxy"] is None and values["call_unavailable"] == "shredded"
    assert world.recipient[3:] not in json.dumps(values)
    assert _call_records(p, world.waybill) == ([], [])
    assert p.calls.route(caller=COURIER_PHONE, dialled=PROXY)["action"] == "refuse"


def test_shredding_overwrites_the_recipients_digest_in_call_records(world):
    """With the digest key, the recipient's digest in a shredded parcel's call records would re-link
    the person to the waybill, the courier and the times (10^9 numbers are quickly tried)."""
    p = world.p
    p.calls.proxy_add(org_code="VNP", number=PROXY)
    started = p.calls.start_call(world.people["an"], waybill=world.waybill)
    mine = p.callerid_keys.phone_digest(world.recipient)
    intents, sessions = _call_records(p, world.waybill)
    assert [i.recipient_digest for i in intents] == [mine] and [m.recipient_digest for m in sessions] == [mine]
    p.shipments.shred(world.system, world.waybill)
    intents, sessions = _call_records(p, world.waybill)
    assert len(intents) == 1 and len(sessions) == 1
    assert {i.passport for i in intents} == {""} and {(m[0], m[1]) for m in sessions} == {(b"", b"")}
    assert mine not in {i.recipient_digest for i in intents} | {m.recipient_digest for m in sessions}
    assert p.calls.recorded_passport(world.system, started["origid"]) is None
    assert p.calls.route(caller=world.recipient, dialled=PROXY)["action"] == "refuse"
    result = check(world, caller=COURIER_PHONE, proof=proof_for(p, world.recipient), waybill=world.waybill)
    assert result.get("intent") is None


@pytest.mark.both_databases
def test_calls_started_while_the_parcel_is_shredded_leave_nothing_sealed(world):
    """Real threads: couriers' calls and a shred race; whatever the order, a shredded parcel keeps no
    sealed token, no masked-call number and no recipient digest, and a call either came first or
    was refused with a clear error (Conflict, or Shredded when the shred commits between the door's
    decision and its decryption)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    p = world.p
    p.calls.proxy_add(org_code="VNP", number=PROXY)
    p.calls.start_call(world.people["an"], waybill=world.waybill)  # the keys and certificate exist
    mine = p.callerid_keys.phone_digest(world.recipient)
    go = threading.Barrier(7)

    def call():
        go.wait()
        try:
            return p.calls.start_call(world.people["an"], waybill=world.waybill)["origid"]
        except (Conflict, Forbidden, Shredded, Unauthenticated) as e:
            return type(e).__name__

    def shred():
        go.wait()
        p.shipments.shred(world.system, world.waybill)
        return "shredded"

    with ThreadPoolExecutor(7) as pool:
        futures = [pool.submit(call) for _ in range(6)] + [pool.submit(shred)]
        outcomes = [f.result(timeout=120) for f in futures]
    assert outcomes[-1] == "shredded"
    assert all(len(o) == 36 or o in ("Conflict", "Forbidden", "Shredded") for o in outcomes[:-1]), outcomes
    intents, sessions = _call_records(p, world.waybill)
    assert intents and {i.passport for i in intents} == {""}
    assert all(m.courier_phone_ct == b"" and m.recipient_phone_ct == b"" for m in sessions)
    assert mine not in {i.recipient_digest for i in intents} | {m.recipient_digest for m in sessions}


# -- what the scam database says of the caller, and foreign numbers --------------------------------------
def test_a_reported_number_is_answered_with_its_reports_and_grade(world):
    for i in range(3):
        world.p.intel.report(indicators=["0977 123 456"], category="fake_courier", client=f"10.9.0.{i}")
    got = check(world, caller="0977123456")
    assert got["outcome"] == "not_courier"
    assert got["reported"]["verdict"] == "reported" and got["reported"]["reports"] == 3
    assert got["flags"][0] == {"code": "reported_number", "severity": "danger", "reports": 3, "verdict": "reported"}
    # the anonymous quick path leaves a number the database may know to the full check
    assert world.p.callcheck.quick(caller="0977123456", client="10.0.0.9") is None
    assert "reported" not in check(world, caller="0966000111")


def test_a_foreign_number_is_flagged(world):
    got = check(world, caller="+44 20 7946 0000")
    assert got["outcome"] == "not_courier" and got["flags"][0]["code"] == "foreign_number"
    assert check(world, caller="0966000111")["flags"] == []


# -- numbers as people write them ---------------------------------------------------------------------
@pytest.mark.parametrize("written", ["1900 54 54 81", "1900.54.54.81", "(+84) 1900 545 481", "+84 1900 545481"])
def test_call_check_takes_hotlines_and_the_trunk_zero_form_as_people_write_them(world, written):
    """Finding: in the call check "1900 54 54 81" was refused and "+84 (0) 901 234 567" rejected. A
    hotline is checked and reported like any caller; a number written "+84 (0) …" is the same caller
    as "0…"; the operator's hotline named as who the caller claimed to be reads as that operator."""
    p = world.p
    assert check(world, caller=written)["outcome"] == "not_courier"
    courier = "+84 (0) " + COURIER_PHONE.removeprefix("+84")
    assert check(world, caller=courier) == check(world, caller=COURIER_PHONE)
    assert check(world, caller="+84 (0) 933 444 555")["outcome"] == "not_courier"
    # "1900.1234" is how VNP's hotline ("1900 1234") may be typed: a claim to be VNP, a courier
    assert check(world, caller=STRANGER, operator="1900.1234")["claims"] == ["courier"]
    assert "claims" not in check(world, caller=STRANGER, operator="1900 9999")
    got = p.callcheck.report(number=written, operator="19001234", note="tự xưng bưu điện", client="10.1.1.2")
    with p.db.session() as s:
        r = s.get(ScamReport, got["id"])
    assert r.number.endswith("481") and r.claimed_operator == "VNP"
    other = p.callcheck.report(number="+84 (0) 933 444 555", operator="1900 9999", client="10.1.1.3")
    with p.db.session() as s:
        assert s.get(ScamReport, other["id"]).claimed_operator is None  # a hotline of no operator here
    for bad in ("1900 12", "Không rõ!!"):
        with pytest.raises(InvalidInput) as e:
            p.callcheck.report(number=written, operator=bad, client="10.1.1.4")
        assert [f.field for f in e.value.errors] == ["operator"]


def test_an_operator_gives_its_numbers_as_hotlines_too(world):
    """An organisation's own numbers (its hotline, a proxy number of its pool) may be 1800/1900
    hotlines in any written form; a hotline that reads as no number is refused naming the field."""
    p = world.p
    added = p.calls.proxy_add(org_code="VNP", number="1800.599.997")
    assert added["number"] == "+841800599997"
    with pytest.raises(Conflict):
        p.calls.proxy_add(org_code="VNP", number="(+84) 1800 599 997")  # the same number, written otherwise
    org = p.orgs.create(code="HOTLINE", name="Bưu chính Đường dây", hotline="1900.54.54.81")
    assert org.hotline == "1900.54.54.81"  # kept as written, once it reads as a number
    for bad in ("1900 12", "gọi tổng đài", "+84 (0)(0) 912 345 678"):
        with pytest.raises(InvalidInput) as e:
            p.orgs.create(code="BAD", name="Sai số", hotline=bad)
        assert [f.field for f in e.value.errors] == ["hotline"]
    with pytest.raises(InvalidInput) as e:
        p.calls.proxy_add(org_code="VNP", number="1900 12")
    assert [f.field for f in e.value.errors] == ["number"]


def test_call_check_spoken_code_and_courier_find_a_waybill_typed_in_lower_case_with_spaces(world):
    """Finding: a waybill typed in lower case or with spaces was not found."""
    p, w = world.p, world.waybill
    typed = " ".join(w[i : i + 3] for i in range(0, len(w), 3)).lower()  # "vnp 000 000 000"
    proof = proof_for(p, world.recipient)
    assert check(world, caller=COURIER_PHONE, proof=proof, waybill=typed)["outcome"] == "verified"
    code = p.calls.courier_view(world.people["an"])["parcels"][0]["spoken_code"]
    assert p.callcheck.check_spoken_code(waybill=typed, code=code, proof=proof, client="10.2.2.2")["valid"] is True
    assert p.access.delivery(world.people["an"], waybill=typed)["waybill"] == w
    assert p.leaks.triangulate("VNP", typed)["waybill"] == w
    assert p.calls.start_call(world.people["an"], waybill=typed)["origid"]
    assert entries(p, "call_intent")[-1]["subject"] == w  # the log names the parcel as stored
