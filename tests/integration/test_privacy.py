"""Data-subject requests and incidents on both databases: the DPO's clocks, the access export, deletion
by crypto-shredding with a receipt in the access log, refusals by role."""

import base64
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from postguard.audit import merkle
from postguard.audit.checkpoint import open_checkpoint
from postguard.audit.models import AuditEntry
from postguard.db import migrate
from postguard.db.base import utcnow
from postguard.errors import Conflict, Forbidden, InvalidInput, NotFound, Shredded
from postguard.models import metadata
from postguard.platform import Platform
from postguard.privacy.models import DataSubjectRequest
from tests.conftest import csv_bytes

PASSWORD = "correct horse battery"
ME = "+84912345678"


@pytest.fixture
def world(make_settings, faker):
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024, notifier="memory"))
    p.orgs.create(code="VNP", name="Bưu điện")
    system = p.orgs.principal("VNP", actor="test")
    rows = list(faker.rows(5))
    rows[0]["recipient_phone"] = "0912345678"  # delivered below
    rows[1]["recipient_phone"] = "0912 345 678"  # still travelling
    rows[2]["sender_phone"] = "84912345678"  # cancelled below
    p.shipments.import_csv(system, io.BytesIO(csv_bytes(rows)))
    for status in ("picked_up", "in_transit", "out_for_delivery", "delivered"):
        p.shipments.set_status(system, rows[0]["waybill"], status)
    p.shipments.set_status(system, rows[1]["waybill"], "picked_up")
    p.shipments.set_status(system, rows[2]["waybill"], "cancelled")
    staff = {u: p.staff.create(org_code="VNP", username=u, display_name=u.title(), role=r, password=PASSWORD)
             for u, r in (("dpo", "dpo"), ("boss", "admin"), ("cs", "cs"))}
    yield p, system, staff, rows
    p.close()


def entry(p, index):
    with p.db.read_session() as s:
        return json.loads(s.get(AuditEntry, index).entry)


@pytest.mark.both_databases
def test_schema_in_step_with_migrations(world):
    p, *_ = world
    assert migrate.pending_changes(p.db.engine, metadata) == []


@pytest.mark.both_databases
def test_deletion_shreds_finished_parcels_logs_a_receipt_and_waits_for_the_rest(world):
    p, system, staff, rows = world
    dpo = staff["dpo"]
    req = p.privacy.file_request("0912345678", org_code="VNP", kind="deletion")
    first = p.privacy.complete(dpo, req["ref"])
    receipt = first["receipt"]
    assert sorted(receipt["waybills"]) == sorted([rows[0]["waybill"], rows[2]["waybill"]])
    assert len(receipt["key_ids"]) == 2 and all(len(k) == 8 for k in receipt["key_ids"])
    assert first["status"] == "acknowledged" and first["waiting_for_delivery"] == 1

    logged = entry(p, receipt["index"])
    assert logged["action"] == "dsr_deletion_receipt" and logged["subject"] == f"dsr:{req['ref']}"
    assert logged["details"]["waiting_for_delivery"] == [rows[1]["waybill"]]
    text = json.dumps(logged, ensure_ascii=False)
    for secret in ("912345678", rows[0]["recipient_name"], rows[2]["sender_name"]):
        assert secret not in text  # the receipt holds no personal data

    proof = receipt["proof"]
    body = open_checkpoint(proof["checkpoint"], verifier_key=p.audit.verifier_key())
    assert merkle.verify_inclusion(leaf_hash=base64.b64decode(proof["leaf_hash"]), index=receipt["index"],
                                   tree_size=body.size, proof=[base64.b64decode(h) for h in proof["proof"]],
                                   root=body.root)
    assert p.privacy.receipt_for_subject(ME, req["ref"])["index"] == receipt["index"]

    for w in (rows[0]["waybill"], rows[2]["waybill"]):  # gone for good, even for an administrator
        with pytest.raises(Shredded):
            p.access.reveal(staff["boss"], waybill=w, purpose="break_glass", justification="checking the deletion")
        assert p.shipments.get(system, w)["personal_data"] == "shredded"
    assert p.shipments.get(system, rows[1]["waybill"])["personal_data"] == "protected"  # still travelling

    for status in ("in_transit", "out_for_delivery", "delivered"):
        p.shipments.set_status(system, rows[1]["waybill"], status)
    second = p.privacy.complete(dpo, req["ref"])
    assert second["status"] == "completed" and second["receipt"]["waybills"] == [rows[1]["waybill"]]
    with p.db.read_session() as s:
        r = s.execute(select(DataSubjectRequest)).scalar_one()
    assert r.contact_ct is None and r.receipt_index == second["receipt"]["index"]  # the number is not kept
    assert p.privacy.my_data(ME)["shipments"] == []  # nothing left to find by this number
    assert p.audit.verify().ok
    with pytest.raises(Conflict):
        p.privacy.complete(dpo, req["ref"])


def test_access_export_holds_only_the_persons_own_data_and_is_logged(world):
    p, _, staff, rows = world
    req = p.privacy.file_request(ME, org_code="VNP", kind="access")
    data = p.privacy.export(staff["dpo"], req["ref"])
    by = {s["waybill"]: s for s in data["shipments"]}
    assert set(by) == {rows[0]["waybill"], rows[1]["waybill"], rows[2]["waybill"]}
    assert by[rows[0]["waybill"]]["personal_data"] == {
        "recipient_name": rows[0]["recipient_name"], "recipient_phone": ME,
        "recipient_address": rows[0]["recipient_address"], "goods_description": rows[0]["goods_description"]}
    assert by[rows[2]["waybill"]]["you_are"] == ["sender"]
    assert "recipient_name" not in by[rows[2]["waybill"]]["personal_data"]
    assert [e["to"] for e in by[rows[0]["waybill"]]["status_history"]][-1] == "delivered"
    for other in rows[3:]:
        assert other["waybill"] not in json.dumps(data)
    with p.db.read_session() as s:
        purposes = [json.loads(e).get("purpose") for e in s.execute(select(AuditEntry.entry)).scalars()]
    assert "dsr_match" in purposes and "dsr_export" in purposes
    with pytest.raises(Conflict):  # the person downloads it once the request is completed
        p.privacy.export_for_subject(ME, req["ref"])
    p.privacy.complete(staff["dpo"], req["ref"])
    mine = p.privacy.export_for_subject("0912345678", req["ref"])
    assert {s["waybill"] for s in mine["shipments"]} == set(by)
    with pytest.raises(NotFound):
        p.privacy.export_for_subject("0987654321", req["ref"])  # another number cannot fetch it


def test_clocks_and_overdue_flags(world):
    p, _, staff, _ = world
    long_ago = utcnow() - timedelta(days=20)
    late = p.privacy.file_request(ME, org_code="VNP", kind="correction", now=long_ago)
    fresh = p.privacy.file_request(ME, org_code="VNP", kind="access")
    listed = {r["ref"]: r for r in p.privacy.list_requests(staff["dpo"])}
    assert listed[late["ref"]]["overdue"] and listed[late["ref"]]["acknowledge_clock"] == "overdue"
    assert not listed[fresh["ref"]]["overdue"] and listed[fresh["ref"]]["complete_clock"] == "open"
    p.privacy.acknowledge(staff["dpo"], late["ref"])
    again = {r["ref"]: r for r in p.privacy.list_requests(staff["boss"])}  # administrators read
    assert again[late["ref"]]["acknowledge_clock"] == "late" and again[late["ref"]]["overdue"]
    assert p.notifier.sent and "912345678" not in p.notifier.sent[-1][1]  # a notice went to the person


def test_roles_and_bad_input(world):
    p, _, staff, _ = world
    req = p.privacy.file_request(ME, org_code="VNP", kind="access")
    for who in (staff["boss"], staff["cs"]):
        with pytest.raises(Forbidden):
            p.privacy.acknowledge(who, req["ref"])
    with pytest.raises(Forbidden):
        p.privacy.list_requests(staff["cs"])
    with pytest.raises(Forbidden):
        p.privacy.dpo("VNP", "boss")
    assert p.privacy.dpo("VNP", "dpo").role == "dpo"
    with pytest.raises(InvalidInput) as e:
        p.privacy.file_request(ME, org_code="NOPE", kind="gossip")
    assert {f.field for f in e.value.errors} == {"org", "kind"}
    with pytest.raises(InvalidInput):
        p.privacy.file_request("12", org_code="VNP", kind="access")
    with pytest.raises(NotFound):
        p.privacy.acknowledge(staff["dpo"], "DSR-NOTHERE")


def test_refusals_of_the_dpo_work_are_logged(world):
    """Every refusal goes through the one logged check: other roles, API keys, a data subject, and a
    command-line user naming someone who is not the DPO."""
    p, system, staff, _ = world
    req = p.privacy.file_request(ME, org_code="VNP", kind="access")
    key = p.orgs.authenticate(p.orgs.create_api_key(org_code="VNP", scopes=["shipments:read"]).token)

    def denied():
        with p.db.read_session() as s:
            return [json.loads(e) for e in s.execute(select(AuditEntry.entry)
                                                     .where(AuditEntry.action == "access_denied")).scalars()]

    attempts = [
        (staff["cs"], lambda who: p.privacy.list_requests(who)),
        (staff["boss"], lambda who: p.privacy.acknowledge(who, req["ref"])),
        (staff["boss"], lambda who: p.privacy.export(who, req["ref"])),
        (key, lambda who: p.privacy.list_incidents(who)),
        (system, lambda who: p.privacy.create_incident(who, detected_at=utcnow(), description="x",
                                                       affected_estimate=1)),
    ]
    for who, call in attempts:
        before = len(denied())
        with pytest.raises(Forbidden):
            call(who)
        got = denied()
        assert len(got) == before + 1 and got[-1]["actor"] == who.actor
    with pytest.raises(Forbidden):
        p.privacy.dpo("VNP", "boss")
    assert denied()[-1]["actor"] == staff["boss"].actor
    with pytest.raises(Forbidden):
        p.privacy.dpo("VNP", "nobody")
    assert denied()[-1]["actor"] == "cli"
    assert p.privacy.list_requests(staff["boss"])  # administrators still read
    assert p.audit.verify().ok


def test_incidents_have_a_72_hour_clock(world):
    p, _, staff, _ = world
    dpo = staff["dpo"]
    now = utcnow()
    old = p.privacy.create_incident(dpo, detected_at=now - timedelta(hours=73), description="Mất máy tính",
                                    affected_estimate=12)
    new = p.privacy.create_incident(dpo, detected_at=(now - timedelta(hours=1)).isoformat(), description="Email nhầm",
                                    affected_estimate="3")
    listed = {i["ref"]: i for i in p.privacy.list_incidents(dpo)}
    assert listed[old["ref"]]["overdue"] and not listed[new["ref"]]["overdue"]
    assert 70 < listed[new["ref"]]["hours_left"] <= 71
    assert p.privacy.notify_incident(dpo, new["ref"])["clock"] == "done"
    with pytest.raises(Conflict):
        p.privacy.notify_incident(dpo, new["ref"])
    with pytest.raises(InvalidInput) as e:
        p.privacy.create_incident(dpo, detected_at=now + timedelta(days=1), description="", affected_estimate=-1)
    assert {f.field for f in e.value.errors} == {"detected_at", "description", "affected_estimate"}
    with pytest.raises(Forbidden):
        p.privacy.create_incident(staff["boss"], detected_at=now, description="x", affected_estimate=0)


def test_a_receipt_that_could_not_be_logged_is_logged_by_the_next_completion(world, monkeypatch):
    from postguard.errors import AuditUnavailable

    p, system, staff, rows = world
    req = p.privacy.file_request(ME, org_code="VNP", kind="deletion")
    real = p.audit.append

    def failing(**kw):
        if kw.get("action") == "dsr_deletion_receipt":
            raise AuditUnavailable("down")
        return real(**kw)

    monkeypatch.setattr(p.audit, "append", failing)
    with pytest.raises(AuditUnavailable):
        p.privacy.complete(staff["dpo"], req["ref"])
    assert p.shipments.get(system, rows[0]["waybill"])["personal_data"] == "shredded"
    monkeypatch.setattr(p.audit, "append", real)
    again = p.privacy.complete(staff["dpo"], req["ref"])
    assert sorted(again["receipt"]["waybills"]) == sorted([rows[0]["waybill"], rows[2]["waybill"]])
    assert entry(p, again["receipt"]["index"])["action"] == "dsr_deletion_receipt"


def test_the_persons_proofs_file_checks_offline_and_tampering_is_caught(world):
    from postguard.privacy.proofs import verify_bundle

    p, _, _, _ = world
    p.privacy.my_data(ME)  # a first view, so that the second one lists it
    data = json.loads(json.dumps(p.privacy.my_data(ME)))
    size, results = verify_bundle(data)
    assert size == data["tree_size"] and results and all(r.ok for r in results)
    proof = data["shipments"][0]["accesses"][0]["proof"]
    if proof["proof"]:
        first = base64.b64decode(proof["proof"][0])
        proof["proof"][0] = base64.b64encode(bytes([first[0] ^ 1]) + first[1:]).decode()
    else:
        proof["index"] += 1
    assert not verify_bundle(data)[1][0].ok
    other_key = p.audit.verifier_key().replace(p.settings.audit_origin, "other.example/log")
    with pytest.raises(InvalidInput):
        verify_bundle(data, verifier_key=other_key)
    # An index that is not a whole number fails that proof, reported as the file gives it.
    for bad in ("3", None, True, 2.0):
        proof["index"] = bad
        checked = verify_bundle(data)[1][0]
        assert not checked.ok and checked.index == bad


@pytest.mark.both_databases
def test_the_mentions_index_reads_each_entry_once_and_finds_batch_entries(world):
    from postguard.privacy.models import AuditMention

    p, _, _, rows = world
    p.privacy.index_mentions()
    assert p.privacy.index_mentions() == 0  # up to date
    org = p.orgs.get("VNP").id
    p.audit.append(actor="apikey:x", action="reveal", org_id=org, purpose="phone_search",
                   details={"waybills": [rows[3]["waybill"], rows[4]["waybill"], "not a waybill!"]})
    p.audit.append(actor="staff:1", action="access_denied", org_id=org, subject="/staff/dpo/requests")
    assert p.privacy.index_mentions(batch=1) == 2
    with p.db.read_session() as s:
        named = set(s.execute(select(AuditMention.waybill).where(AuditMention.idx == p.audit.checkpoint().size - 2))
                    .scalars())
    assert named == {rows[3]["waybill"], rows[4]["waybill"]}
