"""Just-in-time reveals: the assigned courier while out for delivery inside the window, customer
service with a ticket, administrators with a justification; everything else refused and logged."""

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from postguard.audit.models import AuditEntry
from postguard.db.base import utcnow
from postguard.orgs.service import OrgService
from postguard.errors import Forbidden, InvalidInput, NotFound
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
              for u, r in [("hub", "hub"), ("an", "courier"), ("binh", "courier"), ("cs", "cs"), ("boss", "admin")]}
    rows = list(faker.rows(3))
    p.shipments.import_csv(system, io.BytesIO(csv_bytes(rows)))
    for status in ("picked_up", "in_transit", "out_for_delivery"):
        p.shipments.set_status(system, rows[0]["waybill"], status)
    yield p, system, people, rows
    p.close()


def last_entry(p):
    with p.db.session() as s:
        return json.loads(s.execute(select(AuditEntry.entry).order_by(AuditEntry.idx.desc()).limit(1)).scalar_one())


def window(hours_from=-1, hours_to=1):
    now = utcnow()
    return dict(window_start=now + timedelta(hours=hours_from), window_end=now + timedelta(hours=hours_to))


def test_only_the_assigned_courier_reveals_and_only_while_delivering(world):
    p, system, people, rows = world
    w = rows[0]["waybill"]
    p.access.assign(people["hub"], waybill=w, courier="an", **window())
    got = p.access.reveal(people["an"], waybill=w, purpose="delivery")
    assert got["recipient_phone"] == normalize_phone(rows[0]["recipient_phone"])
    assert got["recipient_address"] == rows[0]["recipient_address"] and "sender_phone" not in got
    assert last_entry(p)["action"] == "reveal" and last_entry(p)["actor"] == people["an"].actor

    with pytest.raises(Forbidden, match="not assigned to you"):
        p.access.reveal(people["binh"], waybill=w, purpose="delivery")
    entry = last_entry(p)
    assert (entry["action"], entry["actor"], entry["subject"]) == ("reveal_denied", people["binh"].actor, w)

    p.access.assign(people["hub"], waybill=rows[1]["waybill"], courier="an", **window())
    with pytest.raises(Forbidden, match="not out for delivery"):  # assigned, but still in the hub
        p.access.reveal(people["an"], waybill=rows[1]["waybill"], purpose="delivery")

    p.access.assign(people["hub"], waybill=w, courier="binh", **window())  # reassignment ends An's access
    with pytest.raises(Forbidden):
        p.access.reveal(people["an"], waybill=w, purpose="delivery")
    assert p.access.reveal(people["binh"], waybill=w, purpose="delivery")["recipient_name"] == rows[0]["recipient_name"]

    p.shipments.set_status(system, w, "delivered")  # delivery ends every access
    with pytest.raises(Forbidden):
        p.access.reveal(people["binh"], waybill=w, purpose="delivery")


def test_closed_window_and_wrong_roles_are_refused(world):
    p, _, people, rows = world
    w = rows[0]["waybill"]
    p.access.assign(people["hub"], waybill=w, courier="an", **window(-3, -1))
    with pytest.raises(Forbidden, match="window is closed"):
        p.access.reveal(people["an"], waybill=w, purpose="delivery")
    with pytest.raises(Forbidden):
        p.access.reveal(people["an"], waybill=w, purpose="customer_service", ticket="T-1", reason="call")
    with pytest.raises(Forbidden):
        p.access.assign(people["an"], waybill=w, courier="an", **window())


def test_customer_service_needs_a_ticket_and_break_glass_a_justification(world):
    p, _, people, rows = world
    w = rows[2]["waybill"]
    with pytest.raises(InvalidInput) as e:
        p.access.reveal(people["cs"], waybill=w, purpose="customer_service")
    assert {x.field for x in e.value.errors} == {"ticket", "reason"}
    got = p.access.reveal(people["cs"], waybill=w, purpose="customer_service", ticket="CS-2041",
                          reason="recipient asks to change the delivery time")
    assert got["sender_name"] == rows[2]["sender_name"] and "goods_description" not in got
    assert last_entry(p)["details"]["ticket"] == "CS-2041"
    with pytest.raises(InvalidInput):
        p.access.reveal(people["boss"], waybill=w, purpose="break_glass", justification="because")
    got = p.access.reveal(people["boss"], waybill=w, purpose="break_glass",
                          justification="police request 2026/117 about this parcel")
    assert got["goods_description"] == rows[2]["goods_description"]
    alert = last_entry(p)  # the break-glass reveal is logged, then its alert
    assert (alert["action"], alert["details"]["kind"], alert["details"]["triggered_by"]) == (
        "alert", "break_glass", people["boss"].actor)
    with p.db.session() as s:
        previous = json.loads(s.execute(select(AuditEntry.entry).where(AuditEntry.idx == alert["i"] - 1)).scalar_one())
    assert previous["action"] == "break_glass" and previous["subject"] == w
    assert p.audit.verify().ok


def test_a_justification_must_be_text_of_ten_characters_after_trimming(world):
    p, _, people, rows = world
    with p.db.read_session() as s:
        sh = s.execute(select(Shipment).where(Shipment.waybill == rows[2]["waybill"])).scalar_one()
        for justification in ("  because  ", ["police request 2026/117"], 12345678901):
            with pytest.raises(InvalidInput) as e:
                p.door.open_shipments(s, principal=people["boss"], shipments=[sh], columns=("recipient_name",),
                                      purpose="break_glass", details={"justification": justification})
            assert [x.field for x in e.value.errors] == ["justification"]


def test_a_vanished_organisation_is_not_found(world):
    p, *_ = world
    with p.db.read_session() as s:
        assert OrgService.by_id(s, p.orgs.get("VNP").id).code == "VNP"
        with pytest.raises(NotFound):
            OrgService.by_id(s, 987654321)
