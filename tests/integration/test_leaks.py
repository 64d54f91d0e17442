"""Leak detection on both backends: break-glass and canary alerts raised through the door, canary
contacts, acknowledgement rules, leak triangulation, and the anomaly scan over a synthetic log."""

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from postguard.access.models import Assignment
from postguard.audit.models import AuditEntry
from postguard.db import migrate
from postguard.db.base import utcnow
from postguard.errors import Conflict, Forbidden, InvalidInput, NotFound
from postguard.leaks.models import Alert, Canary, CanaryNumber
from postguard.models import metadata
from postguard.orgs.service import Principal
from postguard.phones import normalize_phone
from postguard.platform import Platform
from postguard.shipments.models import Shipment
from tests.conftest import csv_bytes

PASSWORD = "correct horse battery"


@pytest.fixture
def world(make_settings, faker):
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024))
    p.orgs.create(code="VNP", name="Bưu điện")
    system = p.orgs.principal("VNP", actor="test")
    people = {u: p.staff.create(org_code="VNP", username=u, display_name=u.title(), role=r, password=PASSWORD)
              for u, r in [("hub", "hub"), ("an", "courier"), ("binh", "courier"), ("cs", "cs"), ("boss", "admin"),
                           ("kiem", "auditor"), ("dpo", "dpo")]}
    rows = list(faker.rows(4))
    p.shipments.import_csv(system, io.BytesIO(csv_bytes(rows)))
    yield p, system, people, rows
    p.close()


def window():
    now = utcnow()
    return {"window_start": now - timedelta(hours=1), "window_end": now + timedelta(hours=1)}


def to_delivery(p, system, waybill):
    for status in ("picked_up", "in_transit", "out_for_delivery"):
        p.shipments.set_status(system, waybill, status)


def alerts(p, **kw):
    return p.access_alerts.list(p.orgs.principal("VNP", actor="test"), status="all", **kw)["items"]


@pytest.mark.both_databases
def test_schema_matches_the_models(world):
    p, *_ = world
    assert migrate.pending_changes(p.db.engine, metadata) == []


@pytest.mark.both_databases
def test_break_glass_alert_is_logged_and_only_someone_else_acknowledges_it(world):
    p, _, people, rows = world
    w = rows[0]["waybill"]
    p.access.reveal(people["boss"], waybill=w, purpose="break_glass", justification="police request 2026/117")
    (a,) = alerts(p)
    assert (a["kind"], a["severity"], a["subject"], a["actor"]) == ("break_glass", "high", w, people["boss"].actor)
    assert "police request 2026/117" in a["reason"] and a["acknowledged_at"] is None
    with p.db.session() as s:
        logged = json.loads(s.execute(select(AuditEntry.entry).where(AuditEntry.idx == a["log_index"])).scalar_one())
    assert logged["action"] == "alert" and logged["details"]["kind"] == "break_glass"

    with pytest.raises(Forbidden):  # administrators read alerts but do not close them
        p.access_alerts.acknowledge(people["boss"], a["id"])
    with pytest.raises(Forbidden):
        p.access_alerts.list(people["an"])
    assert p.access_alerts.list(people["boss"])["items"][0]["id"] == a["id"]
    done = p.access_alerts.acknowledge(people["kiem"], a["id"], note="checked with the police liaison")
    assert done["acknowledged_by"] == people["kiem"].actor and done["ack_note"] == "checked with the police liaison"
    with pytest.raises(Conflict):
        p.access_alerts.acknowledge(people["dpo"], a["id"])
    assert p.access_alerts.list(people["kiem"])["items"] == []  # open only, by default
    assert p.access_alerts.list(people["kiem"], status="acknowledged")["items"][0]["id"] == a["id"]
    with pytest.raises(InvalidInput) as e:
        p.access_alerts.list(people["kiem"], kind="nope", status="later")
    assert {x.field for x in e.value.errors} == {"kind", "status"}
    with pytest.raises(NotFound):
        p.access_alerts.acknowledge(people["kiem"], a["id"] + 100)
    assert p.audit.verify().ok


@pytest.mark.both_databases
def test_nobody_acknowledges_an_alert_they_triggered(world):
    p, _, people, _ = world
    alert_id = p.access_alerts.raise_alert(org_id=people["kiem"].org_id, kind="anomaly", severity="medium",
                                    reason="synthetic", subject=people["kiem"].actor, actor=people["kiem"].actor)
    with pytest.raises(Forbidden):
        p.access_alerts.acknowledge(people["kiem"], alert_id)
    p.access_alerts.acknowledge(people["dpo"], alert_id)


@pytest.fixture
def canary_world(world, faker):
    p, system, people, rows = world
    numbers = [faker.phone_e164() for _ in range(3)]
    assert p.canaries.pool_add(system, [faker.phone_written(n) for n in numbers]) == {"added": 3, "already_present": 0}
    assert p.canaries.pool_add(system, numbers[:1]) == {"added": 0, "already_present": 1}
    return p, system, people, rows, numbers


def test_canaries_look_like_any_shipment_and_hold_no_plaintext_number(canary_world):
    p, system, _, rows, numbers = canary_world
    c = p.canaries.create(system, channel="courier:an", phone=numbers[1])
    assert c["channel"] == "courier:an" and c["number"].endswith(numbers[1][-3:])
    normal = p.shipments.get(system, rows[0]["waybill"])
    canary = p.shipments.get(system, c["waybill"])
    assert canary.keys() == normal.keys() and canary["recipient"].keys() == normal["recipient"].keys()
    assert len(c["waybill"]) == len(rows[0]["waybill"]) and c["waybill"][:2] == rows[0]["waybill"][:2]
    listed = p.shipments.list(system, limit=500)["items"]
    assert {tuple(sorted(x)) for x in listed} == {tuple(sorted(normal))}
    with p.db.session() as s:
        stored = [(r.phone_digest, r.phone_ct, r.last3) for r in s.execute(select(CanaryNumber)).scalars()]
        stored += [(r.phone_digest, r.channel.encode()) for r in s.execute(select(Canary)).scalars()]
    blob = b"".join(b for row in stored for b in row if isinstance(b, bytes))
    for n in numbers:
        assert n.encode() not in blob and n[3:].encode() not in blob and ("0" + n[3:]).encode() not in blob
    # the pool tells channels apart, a used number cannot be given twice, and channels are checked
    assert [x["channel"] for x in p.canaries.pool(system)] == [None, "courier:an", None]
    with pytest.raises(Conflict):
        p.canaries.create(system, channel="cs:cs", phone=numbers[1])
    with pytest.raises(InvalidInput) as e:
        p.canaries.create(system, channel="courier:nobody")
    assert e.value.errors[0].field == "channel"
    with pytest.raises(InvalidInput):
        p.canaries.create(system, channel="pigeon:x")
    with pytest.raises(InvalidInput) as e:
        p.canaries.create(system, channel="export:march", phone="0912000111")  # not in the pool
    assert e.value.errors[0].field == "phone"
    p.canaries.create(system, channel="export:march")
    p.canaries.create(system, channel="hub:Hà Nội 1")
    with pytest.raises(Conflict, match="no free number"):
        p.canaries.create(system, channel="cs:cs")


@pytest.mark.both_databases
def test_a_number_taken_meanwhile_takes_the_new_canary_parcel_back(canary_world, monkeypatch):
    """Two canaries asked for the same free number at once: the one that loses the insert answers
    409 and deletes the parcel it had just created; the winner keeps its parcel and its canary."""
    p, system, _, rows, numbers = canary_world
    create, raced = p.shipments.create, []

    def create_then_race(principal, data):
        view = create(principal, data)
        if not raced:  # the other request gets the number between this one's check and its insert
            monkeypatch.setattr(p.shipments, "create", create)
            raced.append(p.canaries.create(system, channel="cs:cs", phone=numbers[1]))
        return view

    monkeypatch.setattr(p.shipments, "create", create_then_race)
    with pytest.raises(Conflict, match="just given to another canary"):
        p.canaries.create(system, channel="courier:an", phone=numbers[1])
    with p.db.session() as s:
        waybills = set(s.execute(select(Shipment.waybill)).scalars())
        canaries = s.execute(select(Canary.channel, Shipment.waybill)
                             .join(Shipment, Shipment.id == Canary.shipment_id)).all()
    assert waybills == {r["waybill"] for r in rows} | {raced[0]["waybill"]}
    assert [tuple(c) for c in canaries] == [("cs:cs", raced[0]["waybill"])]


def test_revealing_a_canary_raises_an_alert_naming_its_channel(canary_world):
    p, system, people, _, numbers = canary_world
    c = p.canaries.create(system, channel="courier:an", phone=numbers[0])
    to_delivery(p, system, c["waybill"])
    p.access.assign(people["hub"], waybill=c["waybill"], courier="an", **window())
    got = p.access.reveal(people["an"], waybill=c["waybill"], purpose="delivery")
    assert got["recipient_phone"] == numbers[0]  # the reveal itself goes on: the leaker must not notice
    (own,) = alerts(p, kind="canary_reveal")
    assert own["severity"] == "medium" and "courier:an" in own["reason"] and "its own channel" in own["reason"]
    p.access.reveal(people["cs"], waybill=c["waybill"], purpose="customer_service", ticket="T-9", reason="complaint")
    other = alerts(p, kind="canary_reveal")[0]
    assert other["severity"] == "high" and other["actor"] == people["cs"].actor and "outside" in other["reason"]
    # a phone search that finds the canary number is a reveal of it; one that does not, is not
    key = Principal(org_id=system.org_id, org_code="VNP", actor="apikey:search1", scopes=frozenset({"shipments:search"}))
    assert p.shipments.search_by_phone(key, numbers[0])[0]["waybill"] == c["waybill"]
    assert alerts(p, kind="canary_reveal")[0]["details"]["purpose"] == "phone_search"
    before = len(alerts(p))
    assert p.shipments.search_by_phone(key, numbers[2]) == []
    assert len(alerts(p)) == before
    # no alert for a normal parcel
    assert len(alerts(p, kind="canary_reveal")) == 3


def test_a_contact_on_a_canary_number_is_a_leak_alert_unknown_numbers_say_nothing(canary_world):
    p, system, _, _, numbers = canary_world
    c = p.canaries.create(system, channel="cs:cs", phone=numbers[2])
    tel = Principal(org_id=system.org_id, org_code="VNP", actor="apikey:tel1", scopes=frozenset({"telephony"}))
    scam = "0987654321"
    alert_id = p.canaries.contact(tel, number="0" + numbers[2][3:], caller=scam, kind="call", at=utcnow())
    (a,) = alerts(p, kind="canary_contact")
    assert a["id"] == alert_id and a["severity"] == "critical" and a["subject"] == c["waybill"]
    assert "cs:cs" in a["reason"] and a["details"]["channel"] == "cs:cs" and a["details"]["contact"] == "call"
    assert a["details"]["from"].endswith("321") and normalize_phone(scam) not in json.dumps(a)
    with pytest.raises(NotFound) as e:
        p.canaries.contact(tel, number=numbers[0], caller=None, kind="sms", at=None)  # in the pool, not a canary
    assert e.value.detail == "Unknown number."
    with pytest.raises(InvalidInput) as e:
        p.canaries.contact(tel, number="12", caller=None, kind="fax", at=None)
    assert {x.field for x in e.value.errors} == {"number", "kind"}
    with pytest.raises(Forbidden):
        p.canaries.contact(Principal(system.org_id, "VNP", "apikey:x", frozenset({"audit:read"})),
                           number=numbers[2], caller=None, kind="call", at=None)


def test_key_rotation_keeps_the_pool_readable(canary_world):
    p, system, _, _, numbers = canary_world
    p.orgs.rotate_data_key("VNP")
    p.shipments.rewrap(system)
    c = p.canaries.create(system, channel="export:q1", phone=numbers[0])
    with p.db.session() as s:
        sh = s.execute(select(Shipment).where(Shipment.waybill == c["waybill"])).scalar_one()
        assert sh.recipient_phone_last3 == numbers[0][-3:]


def test_triangulation_ranks_by_stage_and_purpose_and_weighs_alerted_break_glass_down(world):
    p, system, people, rows = world
    w = rows[1]["waybill"]
    p.shipments.set_status(system, w, "picked_up")
    p.access.reveal(people["cs"], waybill=w, purpose="customer_service", ticket="T-1", reason="address check")
    p.shipments.set_status(system, w, "in_transit")
    p.shipments.set_status(system, w, "out_for_delivery")
    p.access.assign(people["hub"], waybill=w, courier="binh", **window())
    p.access.reveal(people["binh"], waybill=w, purpose="delivery")
    p.access.reveal(people["binh"], waybill=w, purpose="delivery")
    with pytest.raises(Forbidden):
        p.access.reveal(people["an"], waybill=w, purpose="delivery")
    p.shipments.set_status(system, w, "delivered")
    p.access.reveal(people["boss"], waybill=w, purpose="break_glass", justification="customer dispute 8812")
    p.access.reveal(people["boss"], waybill=rows[2]["waybill"], purpose="break_glass", justification="other parcel")

    out = p.leaks.triangulate(people["kiem"], w)
    order = [(c["username"], c["stages"], c["score"]) for c in out["candidates"]]
    # the break-glass after delivery already raised its alert: listed, weighted down, with the reason
    assert order == [("cs", ["in_hub"], 20), ("binh", ["out_for_delivery"], 11), ("boss", ["after_delivery"], 8),
                     ("an", ["out_for_delivery"], 2)]
    (bg,) = out["candidates"][2]["accesses"]
    (alert,) = [a for a in alerts(p, kind="break_glass") if a["subject"] == w]
    assert bg["lawful_basis"] == f"break-glass with its justification, already alerted (alert {alert['id']}, open)"
    assert bg["why"] == f"break-glass after delivery, already alerted (alert {alert['id']}, open); weighted down"
    assert out["candidates"][0]["why"] == "customer-service reveal"
    assert out["candidates"][0]["accesses"][0]["lawful_basis"] is None
    assert len(out["candidates"][1]["accesses"]) == 2 and out["stage_now"] == "after_delivery"
    # with no alert on record (its row gone), the same break-glass after delivery is blamed first again
    with p.db.session() as s:
        s.execute(Alert.__table__.delete().where(Alert.id == alert["id"]))
    top = p.leaks.triangulate(people["kiem"], w)["candidates"][0]
    assert (top["username"], top["score"], top["why"]) == ("boss", 50, "revealed after delivery")
    with p.db.session() as s:
        last = s.execute(select(AuditEntry).order_by(AuditEntry.idx.desc()).limit(1)).scalar_one()
    assert (last.action, last.actor, last.subject) == ("triangulate", people["kiem"].actor, w)
    with pytest.raises(Forbidden):
        p.leaks.triangulate(people["an"], w)
    with pytest.raises(NotFound):
        p.leaks.triangulate(people["kiem"], "NOPE0001")
    assert p.leaks.triangulate("VNP", rows[3]["waybill"])["candidates"] == []


def test_a_deletion_request_lookup_after_delivery_ranks_below_ordinary_reveals(world):
    """The data-protection officer answering a deletion request reads the phones of the person's
    parcels, delivered ones included: listed, but weighted below every ordinary reveal, with its basis."""
    p, system, people, rows = world
    w = rows[1]["waybill"]
    to_delivery(p, system, w)
    p.access.assign(people["hub"], waybill=w, courier="binh", **window())
    p.access.reveal(people["binh"], waybill=w, purpose="delivery")
    p.shipments.set_status(system, w, "delivered")
    req = p.privacy.file_request(rows[1]["recipient_phone"], org_code="VNP", kind="deletion")
    done = p.privacy.complete(people["dpo"], req["ref"])
    assert w in done["receipt"]["waybills"]

    out = p.leaks.triangulate(people["kiem"], w)
    order = [(c["username"], c["stages"]) for c in out["candidates"]]
    assert order == [("binh", ["out_for_delivery"]), ("dpo", ["after_delivery"])]
    dpo = out["candidates"][1]
    (lookup,) = dpo["accesses"]
    assert (lookup["purpose"], lookup["stage"], lookup["weight"]) == ("dsr_match", "after_delivery", 3)
    basis = f"data-subject request: the data-protection officer finding the person's shipments (request {req['ref']})"
    assert lookup["lawful_basis"] == basis
    assert dpo["why"] == lookup["why"] == f"lawful after delivery: {basis}; weighted down"
    assert dpo["score"] < out["candidates"][0]["score"] == 10

    # answering the request again adds nothing; an ordinary reveal after delivery still ranks first
    p.privacy.complete(people["dpo"], p.privacy.file_request(rows[1]["recipient_phone"], org_code="VNP",
                                                              kind="deletion")["ref"])
    again = p.leaks.triangulate(people["kiem"], w)["candidates"]
    assert [(c["username"], c["score"]) for c in again] == [("binh", 10), ("dpo", 3)]


def test_an_ordinary_reveal_after_delivery_still_ranks_above_a_deletion_lookup(world):
    p, system, people, rows = world
    w = rows[2]["waybill"]
    to_delivery(p, system, w)
    p.shipments.set_status(system, w, "delivered")
    p.access.reveal(people["cs"], waybill=w, purpose="customer_service", ticket="T-9", reason="complaint")
    req = p.privacy.file_request(rows[2]["recipient_phone"], org_code="VNP", kind="deletion")
    p.privacy.complete(people["dpo"], req["ref"])
    out = p.leaks.triangulate(people["kiem"], w)["candidates"]
    assert [c["username"] for c in out] == ["cs", "dpo"]
    assert (out[0]["score"], out[0]["why"], out[0]["accesses"][0]["lawful_basis"]) == (50, "revealed after delivery",
                                                                                        None)
    assert (out[1]["score"], out[1]["accesses"][0]["purpose"]) == (3, "dsr_match") and out[1]["why"].startswith(
        "lawful after delivery: data-subject request")


def test_phone_search_candidates_show_up_in_triangulation(world):
    p, system, _, rows = world
    key = Principal(org_id=system.org_id, org_code="VNP", actor="apikey:srch", scopes=frozenset({"shipments:search"}))
    p.shipments.search_by_phone(key, rows[0]["recipient_phone"])
    (c,) = p.leaks.triangulate("VNP", rows[0]["waybill"])["candidates"]
    assert (c["actor"], c["role"], c["accesses"][0]["purpose"]) == ("apikey:srch", "apikey", "phone_search")


# -- anomaly scan over a synthetic log ----------------------------------------------------------------
@pytest.fixture
def couriers(make_settings, faker):
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024))
    p.orgs.create(code="VNP", name="Bưu điện")
    system = p.orgs.principal("VNP", actor="test")
    staff = [p.staff.create(org_code="VNP", username=f"c{i:02d}", display_name=f"C {i}", role="courier",
                            password=PASSWORD) for i in range(21)]
    rows = list(faker.rows(60))
    p.shipments.import_csv(system, io.BytesIO(csv_bytes(rows)))
    waybills = [r["waybill"] for r in rows]
    for w in waybills[40:]:
        for status in ("picked_up", "in_transit", "out_for_delivery", "delivered"):
            p.shipments.set_status(system, w, status)
    start = utcnow() - timedelta(hours=2)
    with p.db.session() as s:
        ids = dict(s.execute(select(Shipment.waybill, Shipment.id)).all())
        for i, st in enumerate(staff):  # each courier carries two parcels
            for w in waybills[2 * i: 2 * i + 2]:
                s.add(Assignment(shipment_id=ids[w], courier_id=st.staff_id, window_start=start,
                                 window_end=start + timedelta(hours=8), created_at=start))
    yield p, staff, waybills
    p.close()


def reveal(p, who, w, action="reveal"):
    p.audit.append(actor=who.actor, action=action, org_id=who.org_id, subject=w, purpose="delivery",
                   details={"waybills": [w]} if action == "reveal" else {"reason": "synthetic", "waybills": [w]})


def test_the_scan_catches_the_courier_who_reveals_parcels_not_theirs(couriers):
    p, staff, waybills = couriers
    for i, st in enumerate(staff[:20]):  # normal: their own parcels, and now and then a slip
        for w in waybills[2 * i: 2 * i + 2]:
            reveal(p, st, w)
        if i % 4 == 0:
            reveal(p, st, waybills[(2 * i + 7) % 40], "reveal_denied")
    bad = staff[20]
    for k in range(12):
        reveal(p, bad, waybills[k], "reveal_denied")  # others' parcels
        reveal(p, bad, waybills[40 + k], "reveal_denied")  # delivered ones
    found = p.leaks.scan_anomalies("VNP")
    assert {(f["actor"], f["feature"]) for f in found} == {(bad.actor, "outside_assignment"),
                                                            (bad.actor, "after_delivery"),
                                                            (bad.actor, "refusals")}
    out = next(f for f in found if f["feature"] == "outside_assignment")
    # 24 attempts, but two of the delivered parcels (40, 41) were its own assignments
    assert out["value"] == 22 and out["peer_median"] == 0 and "not assigned to them" in out["reason"]
    assert all(f["alert"] for f in found)
    anomaly = alerts(p, kind="anomaly")
    assert len(anomaly) == 3 and {a["subject"] for a in anomaly} == {bad.actor}
    assert all(f["alert"] is None for f in p.leaks.scan_anomalies("VNP"))  # still open: not raised twice
    assert len(alerts(p, kind="anomaly")) == 3
    # a span that ends before everything happened sees nothing
    assert p.leaks.scan_anomalies("VNP", since=utcnow() - timedelta(days=3),
                                  until=utcnow() - timedelta(days=2)) == []
    with pytest.raises(InvalidInput):
        p.leaks.scan_anomalies("VNP", since=utcnow() + timedelta(hours=1))
    with p.db.session() as s:
        assert s.execute(select(Alert.log_index).where(Alert.kind == "anomaly")).scalars().all()
    assert p.audit.verify().ok


def test_the_scan_does_not_flag_normal_couriers(couriers):
    p, staff, waybills = couriers
    for i, st in enumerate(staff):
        for w in waybills[2 * i: 2 * i + 2]:
            for _ in range(1 + i % 3):
                reveal(p, st, w)
    assert p.leaks.scan_anomalies("VNP") == []
