"""Leak-detection API: canary contacts from the telephony system, alerts, triangulation; the auditor's
web pages (alerts with CSRF acknowledgement, log verification, triangulation), both languages."""

import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from postguard.app import create_app
from postguard.audit.models import AuditEntry
from postguard.platform import Platform
from tests.api.test_api import assert_problem
from tests.api.test_staff_web import PASSWORD, sign_in
from tests.conftest import csv_bytes

HTML = {"Accept": "text/html"}


@pytest.fixture
def env(make_settings, faker):
    settings = make_settings(password_time_cost=1, password_memory_kib=1024)
    p = Platform(settings)
    p.orgs.create(code="VNP", name="Bưu điện mẫu")
    for u, role in [("kiem", "auditor"), ("boss", "admin"), ("an", "courier"), ("cs", "cs")]:
        p.staff.create(org_code="VNP", username=u, display_name=u, role=role, password=PASSWORD)
    system = p.orgs.principal("VNP", actor="test")
    rows = list(faker.rows(3))
    p.shipments.import_csv(system, io.BytesIO(csv_bytes(rows)))
    number = faker.phone_e164()
    p.canaries.pool_add(system, [number])
    canary = p.canaries.create(system, channel="courier:an")

    def key(*scopes):
        return {"Authorization": f"Bearer {p.orgs.create_api_key(org_code='VNP', scopes=list(scopes)).token}"}

    yield TestClient(create_app(settings, platform=p)), p, key, rows, number, canary
    p.close()


def test_canary_contact_endpoint(env, faker):
    client, p, key, _, number, canary = env
    tel = key("telephony")
    resp = client.post("/v1/canaries/contacts", headers=tel,
                       json={"number": "0" + number[3:], "from": "0987 654 321", "kind": "sms",
                             "at": "2026-11-20T09:15:00+07:00"})
    assert resp.status_code == 202, resp.text
    alert_id = resp.json()["alert"]
    (a,) = p.access_alerts.list(p.orgs.principal("VNP", actor="t"), kind="canary_contact")["items"]
    assert a["id"] == alert_id and a["details"]["channel"] == "courier:an" and a["subject"] == canary["waybill"]
    body = assert_problem(client.post("/v1/canaries/contacts", headers=tel,
                                      json={"number": faker.phone_e164(), "kind": "call"}), 404, "not-found")
    assert body["detail"] == "Unknown number." and "errors" not in body
    assert_problem(client.post("/v1/canaries/contacts", headers=key("audit:read"),
                               json={"number": number, "kind": "call"}), 403, "forbidden")
    assert_problem(client.post("/v1/canaries/contacts", headers=tel, json={"number": number, "kind": "fax"}), 422)
    assert_problem(client.post("/v1/canaries/contacts", json={"number": number, "kind": "call"}), 401)


def test_alerts_and_triangulation_endpoints(env):
    client, p, key, rows, _, _ = env
    boss = p.staff.sign_in(org_code="VNP", username="boss", password=PASSWORD).principal
    p.access.reveal(boss, waybill=rows[0]["waybill"], purpose="break_glass", justification="legal hold 2026-44")
    reader, acker = key("audit:read"), key("alerts:ack")
    page = client.get("/v1/alerts", headers=reader).json()
    (a,) = page["items"]
    assert a["kind"] == "break_glass" and page["next"] is None
    assert_problem(client.get("/v1/alerts", headers=key("shipments:read")), 403)
    assert_problem(client.get("/v1/alerts?kind=nope", headers=reader), 422, "invalid-input")
    assert_problem(client.post(f"/v1/alerts/{a['id']}/acknowledge", headers=reader, json={}), 403)
    done = client.post(f"/v1/alerts/{a['id']}/acknowledge", headers=acker, json={"note": "expected"})
    assert done.status_code == 200 and done.json()["ack_note"] == "expected"
    assert_problem(client.post(f"/v1/alerts/{a['id']}/acknowledge", headers=acker), 409, "conflict")
    assert client.get("/v1/alerts?status=acknowledged", headers=reader).json()["items"][0]["id"] == a["id"]

    tri = client.get(f"/v1/shipments/{rows[0]['waybill']}/triangulation", headers=reader)
    assert tri.status_code == 200
    (c,) = tri.json()["candidates"]  # the break-glass raised its alert: weighted down, the reason stated
    assert (c["username"], c["score"]) == ("boss", 8) and "already alerted" in c["why"]
    assert c["accesses"][0]["lawful_basis"].startswith(f"break-glass with its justification, already alerted "
                                                       f"(alert {a['id']}, acknowledged by apikey:")
    assert_problem(client.get(f"/v1/shipments/{rows[0]['waybill']}/triangulation", headers=key("shipments:read")), 403)
    assert_problem(client.get("/v1/shipments/NOPE0001/triangulation", headers=reader), 404)


def csrf_of(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_auditor_pages(env):
    client, p, _, rows, _, _ = env
    boss = p.staff.sign_in(org_code="VNP", username="boss", password=PASSWORD).principal
    p.access.reveal(boss, waybill=rows[1]["waybill"], purpose="break_glass", justification="legal hold 2026-45")
    sign_in(client, "kiem")
    home = client.get("/staff")
    assert "/staff/audit/alerts" in home.text and "/staff/audit/triangulation" in home.text
    page = client.get("/staff/audit/alerts", headers=HTML)
    assert page.status_code == 200 and "Mở khẩn cấp" in page.text and "legal hold 2026-45" in page.text
    assert "Break-glass" in client.get("/staff/audit/alerts?lang=en", headers=HTML).text
    alert_id = p.access_alerts.list(boss)["items"][0]["id"]
    forged = client.post(f"/staff/audit/alerts/{alert_id}/ack", data={"note": "x", "csrf": "forged"})
    assert_problem(forged, 403)
    done = client.post(f"/staff/audit/alerts/{alert_id}/ack", data={"note": "ok", "csrf": csrf_of(page.text)},
                       follow_redirects=False)
    assert done.status_code == 303
    assert p.access_alerts.list(boss)["items"] == []
    assert "ok" in client.get("/staff/audit/alerts?status=acknowledged&lang=vi", headers=HTML).text

    verify = client.get("/staff/audit/verify", headers=HTML)
    assert verify.status_code == 200 and "Nhật ký nguyên vẹn" in verify.text and "postguard.example" in verify.text

    form = client.get("/staff/audit/triangulation", headers=HTML)
    result = client.post("/staff/audit/triangulation", headers=HTML,
                         data={"waybill": rows[1]["waybill"], "csrf": csrf_of(form.text)})
    assert result.status_code == 200 and "boss" in result.text and "sau khi giao" not in result.text
    assert "Hạng 1" in result.text and "Có căn cứ pháp lý riêng" in result.text
    missing = client.post("/staff/audit/triangulation", headers=HTML, data={"waybill": "NOPE0001",
                                                                           "csrf": csrf_of(form.text)})
    assert missing.status_code == 404 and "NOPE0001" in missing.text

    with p.db.session() as s:  # someone edits the log: the page names the first bad entry
        s.execute(update(AuditEntry).where(AuditEntry.idx == 2).values(actor="staff:999"))
    bad = client.get("/staff/audit/verify?lang=en", headers=HTML)
    assert bad.status_code == 409 and "First bad entry: 2" in bad.text
    assert "columns differ from its logged content (edited)." in bad.text
    vi = client.get("/staff/audit/verify?lang=vi", headers=HTML)  # said in the reader's language, from its code
    assert vi.status_code == 409 and "Các cột của mục 2 khác với nội dung đã ghi (đã bị sửa)." in vi.text
    assert "columns differ" not in vi.text


def test_roles_on_auditor_pages(env):
    client, *_ = env
    sign_in(client, "an")
    assert client.get("/staff/audit/alerts", headers=HTML).status_code == 403
    assert client.get("/staff/audit/verify", headers=HTML).status_code == 403
    client.cookies.clear()
    sign_in(client, "boss")  # administrators read and verify, but neither acknowledge nor triangulate
    page = client.get("/staff/audit/alerts", headers=HTML)
    assert page.status_code == 200 and "/ack" not in page.text
    assert client.get("/staff/audit/verify", headers=HTML).status_code == 200
    assert client.get("/staff/audit/triangulation", headers=HTML).status_code == 403
    assert_problem(client.post("/staff/audit/alerts/1/ack", data={"csrf": csrf_of(page.text)}), 403)
