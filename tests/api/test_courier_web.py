"""The courier's deliveries and reveals, the customer-service and break-glass forms, assigning
parcels (pages and JSON API), and the label QR flow."""

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from postguard.app import create_app
from postguard.audit.models import AuditEntry
from postguard.db.base import utcnow
from postguard.http.auth import SESSION_COOKIE
from postguard.phones import normalize_phone
from postguard.platform import Platform
from postguard.shipments.models import LabelToken, Shipment
from tests.api.test_api import assert_problem
from tests.world import ORG, PASSWORD, World, build_world, prebuilt_world

HTML = {"Accept": "text/html"}


def _world(p: Platform, faker) -> World:
    return build_world(p, faker, keys=False)


@pytest.fixture
def env(prebuilt, faker):
    w = prebuilt_world(prebuilt, _world, faker=faker, password_time_cost=1, password_memory_kib=1024)
    yield TestClient(create_app(w.platform.settings, platform=w.platform)), w
    w.platform.close()


def login(client, w, username):
    """Sign in through the service and hand the cookie to the client; returns the CSRF token."""
    signed = w.platform.staff.sign_in(org_code=ORG, username=username, password=PASSWORD)
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, signed.token)
    return signed.csrf


def entries(p, action=None):
    with p.db.read_session() as s:
        q = select(AuditEntry.entry).order_by(AuditEntry.idx)
        if action:
            q = q.where(AuditEntry.action == action)
        return [json.loads(e) for e in s.execute(q).scalars()]


def test_the_delivery_list_is_masked_and_offers_a_reveal_only_when_possible(env):
    client, w = env
    login(client, w, "an")
    page = client.get("/staff/deliveries")
    assert page.status_code == 200 and "no-store" in page.headers["cache-control"]
    a, waiting = w.assigned, w.waiting
    assert a["waybill"] in page.text and waiting["waybill"] in page.text and w.other["waybill"] not in page.text
    for row in (a, waiting):  # nothing personal in plaintext on the list
        assert normalize_phone(row["recipient_phone"])[3:] not in page.text.replace(" ", "")
        assert row["recipient_address"] not in page.text and row["recipient_name"] not in page.text
    assert f'action="/staff/deliveries/{a["waybill"]}/reveal"' in page.text
    assert f'action="/staff/deliveries/{waiting["waybill"]}/reveal"' not in page.text
    assert "Xem thông tin giao hàng" in page.text
    assert "Show delivery details" in client.get("/staff/deliveries?lang=en").text


def test_the_assigned_courier_reveals_phone_as_a_tel_link_and_the_view_is_logged(env):
    client, w = env
    csrf = login(client, w, "an")
    a = w.assigned
    assert_problem(client.post(f"/staff/deliveries/{a['waybill']}/reveal"), 403)  # no CSRF token: refused
    before = len(entries(w.platform, "reveal"))
    page = client.post(f"/staff/deliveries/{a['waybill']}/reveal", data={"csrf": csrf}, headers=HTML)
    phone = normalize_phone(a["recipient_phone"])
    assert page.status_code == 200
    assert f'href="tel:{phone}"' in page.text and a["recipient_address"] in page.text
    assert a["recipient_name"] in page.text and "nhật ký" in page.text
    assert normalize_phone(a["sender_phone"]) not in page.text  # delivery covers the recipient only
    logged = entries(w.platform, "reveal")
    assert len(logged) == before + 1 and logged[-1]["subject"] == a["waybill"]
    assert logged[-1]["actor"] == w.staff["an"].actor and logged[-1]["purpose"] == "delivery"


def test_an_unassigned_parcel_is_refused_with_a_page_and_logged(env):
    client, w = env
    csrf = login(client, w, "an")
    o = w.other
    page = client.post(f"/staff/deliveries/{o['waybill']}/reveal", data={"csrf": csrf}, headers=HTML)
    assert page.status_code == 403 and "text/html" in page.headers["content-type"]
    assert "Không được xem thông tin" in page.text and normalize_phone(o["recipient_phone"]) not in page.text
    vi, en = page.text.split('<section lang="en"')  # the door's English reason only beside the English text
    assert "Not allowed" not in vi and "Details not shown" in en and "Reason: Not allowed" in en
    assert_problem(client.post(f"/staff/deliveries/{o['waybill']}/reveal", headers={"X-CSRF-Token": csrf}), 403)
    denied = [e for e in entries(w.platform, "reveal_denied") if e["subject"] == o["waybill"]]
    assert len(denied) == 2 and "not assigned" in denied[0]["details"]["reason"]
    # the parcel's own page is refused and logged too (a scanned label of someone else's parcel)
    assert client.get(f"/staff/deliveries/{o['waybill']}", headers=HTML).status_code == 403
    assert entries(w.platform, "access_denied")[-1]["subject"] == f"/staff/deliveries/{o['waybill']}"
    # assigned but not out for delivery: refused by the door
    waiting = client.post(f"/staff/deliveries/{w.waiting['waybill']}/reveal", headers={"X-CSRF-Token": csrf})
    assert_problem(waiting, 403)
    assert "not out for delivery" in entries(w.platform, "reveal_denied")[-1]["details"]["reason"]
    # another courier cannot reveal An's parcel
    csrf_b = login(client, w, "binh")
    assert_problem(client.post(f"/staff/deliveries/{w.assigned['waybill']}/reveal", headers={"X-CSRF-Token": csrf_b}), 403)
    assert w.platform.audit.verify().ok


def _token(p, waybill):
    system = p.orgs.principal(ORG, actor="test")
    p.labels.render(system, [waybill])
    with p.db.read_session() as s:
        return s.execute(select(LabelToken.token).join(Shipment, Shipment.id == LabelToken.shipment_id)
                         .where(Shipment.waybill == waybill)).scalar_one()


def test_a_scanned_label_leads_the_signed_in_courier_to_the_parcel(env):
    client, w = env
    token, other = _token(w.platform, w.assigned["waybill"]), _token(w.platform, w.other["waybill"])
    anon = client.get(f"/q/{token}")
    assert anon.status_code == 200 and w.assigned["waybill"] not in anon.text
    login(client, w, "an")
    resp = client.get(f"/q/{token}", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/staff/deliveries/{w.assigned['waybill']}"
    page = client.get(resp.headers["location"])
    assert page.status_code == 200 and "Xem thông tin giao hàng" in page.text
    assert normalize_phone(w.assigned["recipient_phone"]) not in page.text  # still masked until the reveal
    resp = client.get(f"/q/{other}", headers=HTML)  # someone else's parcel: refused, logged
    assert resp.status_code == 403 and "Không được phép" in resp.text
    assert client.get("/q/not-a-token").status_code == 404
    login(client, w, "cs")  # other staff get the ordinary landing page
    assert client.get(f"/q/{token}", follow_redirects=False).status_code == 200


def test_customer_service_needs_a_ticket_and_a_reason(env):
    client, w = env
    csrf = login(client, w, "cs")
    o = w.other
    assert client.get("/staff/cs").status_code == 200
    page = client.post("/staff/cs", data={"csrf": csrf, "waybill": o["waybill"], "ticket": "", "reason": ""},
                       headers=HTML)
    assert page.status_code == 422 and page.text.count('class="error"') >= 2
    page = client.post("/staff/cs", data={"csrf": csrf, "waybill": "NOPE123", "ticket": "CS-1", "reason": "call"})
    assert page.status_code == 404
    page = client.post("/staff/cs", data={"csrf": csrf, "waybill": o["waybill"], "ticket": "CS-2041",
                                          "reason": "recipient asks to change the delivery time"})
    assert page.status_code == 200 and f'href="tel:{normalize_phone(o["sender_phone"])}"' in page.text
    assert o["goods_description"] not in page.text
    last = entries(w.platform, "reveal")[-1]
    assert last["purpose"] == "customer_service" and last["details"]["ticket"] == "CS-2041"


def test_break_glass_needs_a_justification_and_is_logged_as_such(env):
    client, w = env
    csrf = login(client, w, "admin")
    o = w.other
    page = client.post("/staff/break-glass", data={"csrf": csrf, "waybill": o["waybill"], "justification": "vì"})
    assert page.status_code == 422 and "justification" not in entries(w.platform)[-1]["details"]
    page = client.post("/staff/break-glass", data={"csrf": csrf, "waybill": o["waybill"],
                                                   "justification": "police request 2026/117 about this parcel"})
    assert page.status_code == 200 and o["goods_description"] in page.text
    assert entries(w.platform, "break_glass")[-1]["subject"] == o["waybill"]


def test_hub_assigns_a_parcel_from_the_form_and_the_courier_sees_it(env):
    client, w = env
    csrf = login(client, w, "hub")
    page = client.get("/staff/assign")
    assert page.status_code == 200 and 'value="an"' in page.text and 'value="binh"' in page.text
    o = w.other["waybill"]
    bad = client.post("/staff/assign", data={"csrf": csrf, "waybill": o, "courier": "binh",
                                             "window_start": "2026-06-02T14:00", "window_end": "2026-06-02T13:00"})
    assert bad.status_code == 422
    bad = client.post("/staff/assign", data={"csrf": csrf, "waybill": o, "courier": "binh",
                                             "window_start": "hôm nay", "window_end": ""})
    assert bad.status_code == 422 and bad.text.count('class="error"') >= 3
    assert client.post("/staff/assign", data={"csrf": csrf, "waybill": o, "courier": "cs", "window_start":
                                              "2026-06-02T14:00", "window_end": "2026-06-02T16:00"}).status_code == 404
    now = utcnow()
    local = lambda d: (d + timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M")
    ok = client.post("/staff/assign", data={"csrf": csrf, "waybill": o, "courier": "binh",
                                            "window_start": local(now - timedelta(minutes=5)),
                                            "window_end": local(now + timedelta(hours=2))})
    assert ok.status_code == 200 and f"{o}</td><td>binh" in ok.text.replace("\n", "")
    csrf_b = login(client, w, "binh")
    assert o in client.get("/staff/deliveries").text
    revealed = client.post(f"/staff/deliveries/{o}/reveal", headers={"X-CSRF-Token": csrf_b})
    assert revealed.status_code == 200 and w.other["recipient_address"] in revealed.text


def test_json_api_assign_list_and_reveal(env):
    client, w = env
    p = w.platform
    key = p.orgs.create_api_key(org_code=ORG, scopes=["assignments:write"]).token
    weak = p.orgs.create_api_key(org_code=ORG, scopes=["shipments:read"]).token
    now = utcnow()
    body = {"waybill": w.other["waybill"], "courier": "an", "window_start": (now - timedelta(minutes=1)).isoformat(),
            "window_end": (now + timedelta(hours=1)).isoformat()}
    resp = client.post("/v1/assignments", json=body, headers={"Authorization": f"Bearer {key}"})
    assert resp.status_code == 201 and resp.json()["courier"] == "an"
    assert_problem(client.post("/v1/assignments", json=body, headers={"Authorization": f"Bearer {weak}"}), 403)
    assert entries(p, "access_denied")[-1]["details"]["reason"] == "needs the assignments:write scope"
    naive = {**body, "window_start": "2026-06-02T14:00:00"}
    err = assert_problem(client.post("/v1/assignments", json=naive, headers={"Authorization": f"Bearer {key}"}), 422)
    assert err["errors"][0]["field"] == "window_start"
    too_long = {**body, "window_end": (now + timedelta(days=3)).isoformat()}
    assert_problem(client.post("/v1/assignments", json=too_long, headers={"Authorization": f"Bearer {key}"}), 422)

    csrf = login(client, w, "hub")
    assert_problem(client.post("/v1/assignments", json=body), 403)  # a session needs the CSRF header
    assert client.post("/v1/assignments", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201

    csrf = login(client, w, "an")
    items = client.get("/v1/deliveries").json()["items"]
    assert {i["waybill"] for i in items} == {w.assigned["waybill"], w.other["waybill"], w.waiting["waybill"]}
    assert {i["waybill"] for i in items if i["can_reveal"]} == {w.assigned["waybill"], w.other["waybill"]}
    got = client.post(f"/v1/shipments/{w.assigned['waybill']}/reveal", json={"purpose": "delivery"},
                      headers={"X-CSRF-Token": csrf})
    assert got.status_code == 200 and got.json()["recipient_phone"] == normalize_phone(w.assigned["recipient_phone"])
    assert_problem(client.post(f"/v1/shipments/{w.assigned['waybill']}/reveal", json={"purpose": "customer_service",
                   "ticket": "T", "reason": "r"}, headers={"X-CSRF-Token": csrf}), 403)
    assert_problem(client.post(f"/v1/shipments/{w.assigned['waybill']}/reveal", json={"purpose": "peek"},
                               headers={"X-CSRF-Token": csrf}), 422)

    client.cookies.clear()  # reveals are for people: an API key is refused, and that is logged
    assert_problem(client.post(f"/v1/shipments/{w.assigned['waybill']}/reveal", json={"purpose": "delivery"},
                               headers={"Authorization": f"Bearer {key}"}), 403)
    assert entries(p, "access_denied")[-1]["actor"].startswith("apikey:")
    assert_problem(client.get("/v1/deliveries", headers={"Authorization": "Bearer pgk_bad_key"}), 401)
    assert_problem(client.get("/v1/deliveries"), 401)
