"""The person's side over HTTP: a one-time code, then their own shipments and who accessed them with
proofs (API and page), requests and downloads; and the DPO's pages with CSRF and role checks."""

import base64
import io
import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from postguard.app import create_app
from postguard.audit import merkle
from postguard.audit.checkpoint import open_checkpoint
from postguard.audit.models import AuditEntry
from postguard.db.base import utcnow
from postguard.platform import Platform
from tests.api.test_api import assert_problem
from tests.api.test_staff_web import PASSWORD, sign_in
from tests.conftest import csv_bytes

ME = "+84912345678"
OTHER = "+84987654321"
HTML = {"Accept": "text/html"}


@pytest.fixture
def world(make_settings, faker):
    settings = make_settings(password_time_cost=1, password_memory_kib=1024, notifier="memory")
    p = Platform(settings)
    p.orgs.create(code="VNP", name="Bưu điện mẫu")
    p.orgs.create(code="GHN", name="Giao hàng mẫu")
    vnp, ghn = p.orgs.principal("VNP", actor="test"), p.orgs.principal("GHN", actor="test")
    rows = list(faker.rows(4, prefix="VN"))
    rows[0]["recipient_phone"] = "0912 345 678"
    rows[1]["sender_phone"] = "84912345678"
    rows[2]["recipient_phone"] = "0987654321"
    p.shipments.import_csv(vnp, io.BytesIO(csv_bytes(rows)))
    other = list(faker.rows(1, prefix="GH"))
    other[0]["recipient_phone"] = "+84 912.345.678"
    p.shipments.import_csv(ghn, io.BytesIO(csv_bytes(other)))
    for user, role in (("hub", "hub"), ("an", "courier"), ("dpo", "dpo"), ("boss", "admin")):
        p.staff.create(org_code="VNP", username=user, display_name=f"Nguyễn Văn {user.title()}", role=role,
                       password=PASSWORD)
    yield TestClient(create_app(settings, platform=p)), p, rows, other
    p.close()


def prove(client, p, phone=ME):
    sent = client.post("/v1/me/code", json={"phone": phone})
    assert sent.status_code == 202
    resp = client.post("/v1/me/verify", json={"phone": phone, "code": p.notifier.last_code(phone),
                                              "challenge": sent.json()["challenge"]})
    assert resp.status_code == 200
    return resp


def deliver_with_courier(p, waybill):
    system = p.orgs.principal("VNP", actor="test")
    for status in ("picked_up", "in_transit", "out_for_delivery"):
        p.shipments.set_status(system, waybill, status)
    staff = {s: p.staff.sign_in(org_code="VNP", username=s, password=PASSWORD).principal for s in ("hub", "an")}
    now = utcnow()
    p.access.assign(staff["hub"], waybill=waybill, courier="an", window_start=now - timedelta(hours=1),
                    window_end=now + timedelta(hours=1))
    p.access.reveal(staff["an"], waybill=waybill, purpose="delivery")


def test_code_then_own_shipments_at_every_operator_with_verified_proofs(world):
    client, p, rows, other = world
    deliver_with_courier(p, rows[0]["waybill"])
    assert_problem(client.get("/v1/me/shipments"), 401, "unauthenticated")
    resp = prove(client, p)
    cookie = resp.headers["set-cookie"]
    assert "pg_me=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    token = resp.json()["token"]
    assert ME not in token

    client.cookies.clear()
    data = client.get("/v1/me/shipments", headers={"Authorization": f"Bearer {token}"}).json()
    got = {s["waybill"]: s for s in data["shipments"]}
    assert set(got) == {rows[0]["waybill"], rows[1]["waybill"], other[0]["waybill"]}
    assert got[rows[0]["waybill"]]["matched_as"] == ["recipient"] and got[rows[1]["waybill"]]["matched_as"] == ["sender"]
    assert got[other[0]["waybill"]]["organisation"]["code"] == "GHN"
    # the courier's reveal is shown as role + masked name, with a proof that verifies independently
    reveal = next(a for a in got[rows[0]["waybill"]]["accesses"] if a["purpose"] == "delivery")
    assert reveal["actor"] == {"kind": "staff", "role": "courier", "name": "N.V. An"}
    body = open_checkpoint(data["checkpoint"], verifier_key=data["verifier_key"])
    proof = reveal["proof"]
    leaf = merkle.leaf_hash(json.dumps(proof["entry"], ensure_ascii=False, separators=(",", ":"),
                                       sort_keys=True).encode())
    assert base64.b64encode(leaf).decode() == proof["leaf_hash"]
    assert merkle.verify_inclusion(leaf_hash=leaf, index=proof["index"], tree_size=body.size,
                                   proof=[base64.b64decode(h) for h in proof["proof"]], root=body.root)
    assert data["all_verified"] and proof["verified"]
    # the person's own view was logged, and appears as "you" in the next view
    again = client.get("/v1/me/shipments", headers={"Authorization": f"Bearer {token}"}).json()
    mine = [a for s in again["shipments"] for a in s["accesses"] if a["actor"] == {"kind": "you"}]
    assert mine and all(a["purpose"] == "data_subject" for a in mine)


def test_another_persons_data_is_never_shown(world):
    client, p, rows, _ = world
    prove(client, p)
    text = client.get("/v1/me/shipments").text  # the cookie this time
    for secret in (rows[2]["waybill"], rows[2]["recipient_name"], rows[0]["sender_name"], rows[0]["recipient_address"],
                   rows[1]["recipient_name"], "987654321"):
        assert secret not in text
    # an entry naming someone else's parcel too is shown without its content
    p.audit.append(actor="apikey:abcd", action="reveal", org_id=p.orgs.get("VNP").id, purpose="phone_search",
                   details={"waybills": [rows[0]["waybill"], rows[2]["waybill"]]})
    data = client.get("/v1/me/shipments").json()
    withheld = [a for s in data["shipments"] for a in s["accesses"] if a["proof"]["entry_withheld"]]
    assert len(withheld) == 1 and withheld[0]["proof"]["entry"] is None and withheld[0]["proof"]["verified"]
    assert rows[2]["waybill"] not in json.dumps(data)


def test_wrong_codes_and_forged_proofs_are_refused(world):
    client, p, _, _ = world
    challenge = client.post("/v1/me/code", json={"phone": ME}).json()["challenge"]
    code = p.notifier.last_code(ME)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert_problem(client.post("/v1/me/verify", json={"phone": ME, "code": wrong, "challenge": challenge}), 401)
    # the challenge is required and bounded: a clear 422 naming it, never a 500
    for body in ({"phone": ME, "code": code}, {"phone": ME, "code": code, "challenge": "x" * 65},
                 {"phone": ME, "code": code, "challenge": ""}):
        problem = assert_problem(client.post("/v1/me/verify", json=body), 422, "invalid-input")
        assert [e["field"] for e in problem["errors"]] == ["challenge"]
    assert_problem(client.get("/v1/me/shipments", headers={"Authorization": "Bearer forged"}), 401)
    assert_problem(client.post("/v1/me/code", json={"phone": "12"}), 422, "invalid-input")
    for _ in range(2):
        client.post("/v1/me/code", json={"phone": ME})
    assert_problem(client.post("/v1/me/code", json={"phone": ME}), 429, "rate-limited")


def test_requests_over_the_api_and_the_dpo_pages(world):
    client, p, rows, _ = world
    prove(client, p)
    filed = client.post("/v1/me/requests", json={"kind": "access", "org": "vnp"})
    assert filed.status_code == 201
    ref = filed.json()["ref"]
    assert_problem(client.post("/v1/me/requests", json={"kind": "access", "org": "VNP"}), 409, "conflict")
    assert_problem(client.post("/v1/me/requests", json={"kind": "gossip", "org": "NOPE"}), 422, "invalid-input")
    assert_problem(client.get(f"/v1/me/requests/{ref}/export"), 409)  # not completed yet
    assert [r["ref"] for r in client.get("/v1/me/requests").json()["items"]] == [ref]

    dpo = TestClient(client.app)
    sign_in(dpo, "dpo")
    page = dpo.get("/staff/dpo/requests")
    assert page.status_code == 200 and ref in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert_problem(dpo.post(f"/staff/dpo/requests/{ref}/acknowledge", data={"csrf": "wrong"}), 403)
    done = dpo.post(f"/staff/dpo/requests/{ref}/acknowledge", data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303
    export = dpo.get(f"/staff/dpo/requests/{ref}/export")
    assert export.status_code == 200 and export.json()["subject"]["phone"] == ME
    dpo.post(f"/staff/dpo/requests/{ref}/complete", data={"csrf": csrf})

    mine = client.get(f"/v1/me/requests/{ref}/export")
    assert mine.status_code == 200 and "attachment" in mine.headers["content-disposition"]
    data = mine.json()
    assert {s["waybill"] for s in data["shipments"]} == {rows[0]["waybill"], rows[1]["waybill"]}
    by = {s["waybill"]: s for s in data["shipments"]}
    assert by[rows[0]["waybill"]]["personal_data"]["recipient_name"] == rows[0]["recipient_name"]
    assert "sender_name" not in by[rows[0]["waybill"]]["personal_data"]  # the other party's data is not yours
    assert by[rows[1]["waybill"]]["personal_data"]["sender_name"] == rows[1]["sender_name"]
    assert "recipient_name" not in by[rows[1]["waybill"]]["personal_data"]

    admin = TestClient(client.app)
    sign_in(admin, "boss")
    assert admin.get("/staff/dpo/requests").status_code == 200  # admins read
    csrf = re.search(r'name="csrf" value="([^"]+)"', admin.get("/staff").text).group(1)
    assert_problem(admin.post("/staff/dpo/incidents", data={"csrf": csrf, "detected_at": "2026-01-01T00:00",
                                                            "description": "x"}), 403)
    courier = TestClient(client.app)
    sign_in(courier, "an")
    assert_problem(courier.get("/staff/dpo/requests"), 403)


def test_incident_pages(world):
    client, p, _, _ = world
    sign_in(client, "dpo")
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/dpo/incidents").text).group(1)
    detected = (utcnow() - timedelta(hours=80)).isoformat()
    bad = client.post("/staff/dpo/incidents", data={"csrf": csrf, "detected_at": "yesterday", "description": "",
                                                     "affected_estimate": "-3"}, headers=HTML)
    assert bad.status_code == 422 and "detected_at" in bad.text and "affected_estimate" in bad.text
    resp = client.post("/staff/dpo/incidents", data={"csrf": csrf, "detected_at": detected,
                                                      "description": "Máy tính xách tay bị mất", "affected_estimate": "40"})
    assert resp.status_code == 200 and 'class="overdue"' in resp.text and "QUÁ HẠN" in resp.text
    ref = re.search(r"INC-[A-Z0-9]{8}", resp.text).group(0)
    page = client.post(f"/staff/dpo/incidents/{ref}/notify", data={"csrf": csrf})
    assert "trễ hạn" in page.text
    with p.db.read_session() as s:
        actions = set(s.execute(select(AuditEntry.action)).scalars())
    assert {"incident_recorded", "incident_notified"} <= actions


def test_the_page_flow_without_javascript(world):
    client, p, rows, _ = world
    page = client.get("/du-lieu-cua-toi")
    assert page.status_code == 200 and "Ai đã xem dữ liệu của tôi" in page.text
    assert page.headers["cache-control"] == "no-store"
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert_problem(client.post("/du-lieu-cua-toi/ma", data={"phone": "0912345678", "csrf": "forged"}), 403)
    step = client.post("/du-lieu-cua-toi/ma", data={"phone": "0912345678", "csrf": csrf})
    assert step.status_code == 200 and 'name="code"' in step.text
    challenge = re.search(r'name="challenge" value="([^"]+)"', step.text).group(1)  # the code's handle
    bad = f"{(int(p.notifier.last_code(ME)) + 1) % 10**6:06d}"
    wrong = client.post("/du-lieu-cua-toi/xac-minh", data={"phone": "0912345678", "code": bad, "csrf": csrf,
                                                           "challenge": challenge})
    assert wrong.status_code == 401 and "Mã không đúng" in wrong.text
    assert f'name="challenge" value="{challenge}"' in wrong.text  # kept for the next try
    done = client.post("/du-lieu-cua-toi/xac-minh", data={"csrf": csrf, "phone": "0912345678", "challenge": challenge,
                                                          "code": p.notifier.last_code(ME)}, follow_redirects=False)
    assert done.status_code == 303 and "pg_me=" in done.headers["set-cookie"]
    mine = client.get("/du-lieu-cua-toi")
    assert rows[0]["waybill"] in mine.text and rows[2]["waybill"] not in mine.text
    assert rows[0]["recipient_name"] not in mine.text  # masked even for the person
    filed = client.post("/du-lieu-cua-toi/yeu-cau", data={"csrf": csrf, "kind": "deletion", "org": "VNP"},
                        follow_redirects=False)
    assert filed.status_code == 303
    assert re.search(r"DSR-[A-Z0-9]{8}", client.get(filed.headers["location"]).text)
    english = client.get("/du-lieu-cua-toi?lang=en")
    assert "Who accessed my data" in english.text
    client.post("/du-lieu-cua-toi/thoat", data={"csrf": csrf})
    assert 'name="phone"' in client.get("/du-lieu-cua-toi").text
