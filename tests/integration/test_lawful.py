"""Authorities' requests: nothing is disclosed before two approvals (the DPO's and an administrator's, each
once however many arrive together); the DPO discloses once, through the door, each opening logged naming the
request; the people concerned are informed or the deferral is recorded with its reason; the register lists
the year's requests. The scope's phone numbers are never stored in the clear."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from postguard.audit.models import AuditEntry
from postguard.db.base import utcnow
from postguard.errors import Conflict, Forbidden, InvalidInput
from postguard.phones import normalize_phone
from postguard.platform import Platform
from postguard.privacy.models import LawfulRequest
from tests.conftest import csv_bytes

pytestmark = pytest.mark.both_databases  # the conditional updates that claim approvals and the disclosure

PASSWORD = "correct horse battery"
BASIS = "Điều 88 Bộ luật Tố tụng hình sự 2015 (thu thập chứng cứ)"


@pytest.fixture
def office(make_settings, faker):
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024))
    p.orgs.create(code="VNP", name="Bưu điện")
    system = p.orgs.principal("VNP", actor="test")
    make = lambda u, r: p.staff.create(org_code="VNP", username=u, display_name=u, role=r, password=PASSWORD)
    people = {"dpo": make("lan", "dpo"), "admin": make("root", "admin"), "courier": make("an", "courier"),
              "admin2": make("minh", "admin")}
    rows = list(faker.rows(6))
    rows[4]["recipient_phone"] = rows[5]["sender_phone"] = "0912 345 678"
    p.shipments.import_csv(system, io.BytesIO(csv_bytes(rows)))
    yield p, people, rows
    p.close()


def _record(p, who, rows, **kw):
    return p.privacy.lawful.record(who, authority_kind="police", authority_name="Công an TP. Hà Nội, PC02",
                                   legal_basis=BASIS, case_number="123/CSĐT", deadline_at=utcnow() + timedelta(days=5),
                                   waybills=[rows[0]["waybill"].lower(), rows[1]["waybill"], "NOPE0001"],
                                   phones=["+84 912 345 678"], **kw)


def test_two_approvals_then_one_disclosure_through_the_door(office):
    p, people, rows = office
    req = _record(p, people["dpo"], rows)
    ref = req["ref"]
    with p.db.session() as s:
        sealed = s.execute(select(LawfulRequest.scope_phones_ct)).scalar_one()
    assert b"912345678" not in sealed and req["phones"] is True
    with pytest.raises(Conflict, match="only an approved request"):
        p.privacy.lawful.disclose(people["dpo"], ref)
    assert p.privacy.lawful.approve(people["dpo"], ref)["status"] == "received"
    with pytest.raises(Conflict, match="already approved by the dpo"):
        p.privacy.lawful.approve(people["dpo"], ref)
    assert p.privacy.lawful.approve(people["admin"], ref)["status"] == "approved"
    with pytest.raises(Forbidden):
        p.privacy.lawful.disclose(people["admin"], ref)  # an administrator approves; only the DPO discloses
    out = p.privacy.lawful.disclose(people["dpo"], ref)
    got = {s["waybill"]: s for s in out["shipments"]}
    assert set(got) == {rows[i]["waybill"] for i in (0, 1, 4, 5)} and out["not_found"] == ["NOPE0001"]
    assert got[rows[4]["waybill"]]["recipient_phone"] == normalize_phone("0912345678")
    assert got[rows[0]["waybill"]]["recipient_name"] == rows[0]["recipient_name"]
    assert out["request"]["status"] == "disclosed" and out["request"]["disclosed_count"] == 4
    with pytest.raises(Conflict):
        p.privacy.lawful.disclose(people["dpo"], ref)
    with p.db.session() as s:
        entries = s.execute(select(AuditEntry.action, AuditEntry.entry).where(AuditEntry.action.in_(
            ("lawful_disclosure", "lawful_recorded", "lawful_approved")))).all()
    actions = [a for a, _ in entries]
    assert actions.count("lawful_approved") == 2 and actions.count("lawful_disclosure") == 1
    assert all(ref in e for a, e in entries if a == "lawful_disclosure")
    with pytest.raises(InvalidInput, match="Nothing was recorded"):
        p.privacy.lawful.notice(people["dpo"], ref, informed=False, reason="")
    done = p.privacy.lawful.notice(people["dpo"], ref, informed=False, reason="Cơ quan điều tra yêu cầu giữ bí mật")
    assert done["notice"] == "deferred"
    with pytest.raises(Conflict):
        p.privacy.lawful.notice(people["dpo"], ref, informed=True)
    register = p.privacy.lawful.register(people["admin"], utcnow().year)
    assert register["totals"] == {"police": {"disclosed": 1}} and register["disclosed_shipments"] == 4


def test_approvals_arriving_together_count_once_and_refusals(office):
    p, people, rows = office
    ref = _record(p, people["admin"], rows)["ref"]
    results: list[object] = []
    start = threading.Barrier(6)

    def approve(who):
        start.wait()
        try:
            results.append(p.privacy.lawful.approve(who, ref)["status"])
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=approve, args=(people[k],)) for k in ("admin", "admin2", "admin", "dpo",
                                                                            "dpo", "admin2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("conflict") == 4 and "approved" in results
    with pytest.raises(Forbidden):
        p.privacy.lawful.approve(people["courier"], ref)
    with pytest.raises(InvalidInput) as e:
        p.privacy.lawful.record(people["dpo"], authority_kind="aliens", authority_name="", legal_basis="vì",
                                case_number="", deadline_at=utcnow(), waybills=["??"], phones=["12"])
    assert {f.field for f in e.value.errors} == {"authority_kind", "authority_name", "legal_basis", "case_number",
                                                  "waybills[0]", "phones[0]"}
    other = _record(p, people["dpo"], rows)["ref"]
    assert p.privacy.lawful.refuse(people["dpo"], other, reason="Không nêu căn cứ pháp lý cụ thể")["status"] == "refused"
    with pytest.raises(Conflict):
        p.privacy.lawful.approve(people["admin"], other)
