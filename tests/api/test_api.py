"""The HTTP API: auth, scopes, the problem+json contract, shipments, import upload, labels."""

import io

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from postguard.app import API_SECURITY_HEADERS, SECURITY_HEADERS, create_app
from postguard.platform import Platform
from tests.conftest import csv_bytes

ALL = ["shipments:read", "shipments:write", "shipments:search", "labels:print"]


METRICS_TOKEN = "metrics-" + "x" * 32


@pytest.fixture
def settings(make_settings):
    return make_settings(metrics_token=METRICS_TOKEN)


@pytest.fixture
def client(settings, platform):
    return TestClient(create_app(settings, platform=platform))


@pytest.fixture
def auth(platform, org):
    def make(*scopes):
        token = platform.orgs.create_api_key(org_code=org.code, scopes=list(scopes or ALL)).token
        return {"Authorization": f"Bearer {token}"}

    return make


def assert_problem(resp, status, slug=None):
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert {"type", "title", "status", "detail"} <= body.keys() and body["status"] == status
    if slug:
        assert body["type"].endswith("/" + slug)
    return body


def test_error_shape_is_pinned(client, auth, faker):
    body = assert_problem(client.post("/v1/shipments", json={**faker.shipment_row("BAD00001"), "sender_phone": "1"},
                                      headers=auth()), 422, "invalid-input")
    assert body == {
        "type": "https://postguard.example/problems/invalid-input",
        "title": "Invalid input",
        "status": 422,
        "detail": "The shipment was not created.",
        "instance": "/v1/shipments",
        "errors": [{"field": "sender_phone", "code": "invalid_phone",
                    "message": "phone number has the wrong number of digits for Viet Nam"}],
    }


def test_authentication_and_scopes(client, auth, platform, faker):
    assert_problem(client.get("/v1/shipments"), 401, "unauthenticated")
    assert_problem(client.get("/v1/shipments", headers={"Authorization": "Bearer pgk_nope_nope"}), 401)
    read_only = auth("shipments:read")
    assert client.get("/v1/shipments", headers=read_only).status_code == 200
    assert_problem(client.post("/v1/shipments", json=faker.shipment_row("RO000001"), headers=read_only), 403,
                   "forbidden")
    assert_problem(client.post("/v1/shipments/search", json={"phone": "0912345678"}, headers=read_only), 403)
    token = read_only["Authorization"].split()[1]
    platform.orgs.revoke_api_key(prefix=token.split("_")[1])
    assert_problem(client.get("/v1/shipments", headers=read_only), 401)


def test_failed_authentication_is_rate_limited(client):
    for _ in range(30):
        client.get("/v1/shipments", headers={"Authorization": "Bearer pgk_guess_guess"})
    body = assert_problem(client.get("/v1/shipments", headers={"Authorization": "Bearer pgk_guess_guess"}), 429)
    assert "Too many failed authentications" in body["detail"]


def test_create_get_list_search_status(client, auth, faker):
    h = auth()
    row = faker.shipment_row("VN0000001")
    created = client.post("/v1/shipments", json=row, headers=h)
    assert created.status_code == 201
    view = created.json()
    assert view["recipient"]["phone"].startswith("*******") and row["recipient_name"] not in str(view)
    assert_problem(client.post("/v1/shipments", json=row, headers=h), 409, "conflict")
    assert client.get("/v1/shipments/VN0000001", headers=h).json() == view
    assert_problem(client.get("/v1/shipments/NOPE0000", headers=h), 404, "not-found")
    assert client.get("/v1/shipments?limit=10", headers=h).json()["items"] == [view]
    assert_problem(client.get("/v1/shipments?status=lost", headers=h), 422)
    found = client.post("/v1/shipments/search", json={"phone": row["recipient_phone"]}, headers=h).json()["items"]
    assert [(f["waybill"], f["matched_as"]) for f in found] == [("VN0000001", ["recipient"])]
    assert client.post("/v1/shipments/search", json={"phone": "0987 654 321"}, headers=h).json() == {"items": []}
    assert_problem(client.post("/v1/shipments/search", json={"phone": "hello"}, headers=h), 422)
    assert client.post("/v1/shipments/VN0000001/status", json={"status": "picked_up"}, headers=h).json()[
        "status"] == "picked_up"
    assert_problem(client.post("/v1/shipments/VN0000001/status", json={"status": "delivered"}, headers=h), 409)
    assert client.post("/v1/shipments/VN0000001/shred", headers=h).status_code == 204
    assert client.get("/v1/shipments/VN0000001", headers=h).json()["personal_data"] == "shredded"


def test_unknown_fields_and_bad_json_are_clear_errors(client, auth, faker):
    h = auth()
    body = assert_problem(client.post("/v1/shipments", json={**faker.shipment_row("XX000001"), "ssn": "1"},
                                      headers=h), 422)
    assert body["errors"][0]["field"] == "ssn"
    assert_problem(client.post("/v1/shipments", content=b"{not json", headers={**h, "content-type": "application/json"}),
                   422)


def test_csv_upload_reports_rows(client, auth, faker, settings):
    h = {**auth(), "content-type": "text/csv"}
    rows = list(faker.rows(30))
    rows[4]["recipient_ward"] = "Nowhere"
    report = client.post("/v1/shipments/import", content=csv_bytes(rows, bom=True), headers=h).json()
    assert (report["imported"], report["invalid"]) == (29, 1)
    assert report["errors"] == [{"row": 6, "field": "recipient_ward", "code": "unknown_place",
                                 "message": "no ward of this name in the given province, in the 2025 units or before them"}]
    again = client.post("/v1/shipments/import", content=csv_bytes(rows), headers=h).json()
    assert (again["imported"], again["already_present"]) == (0, 29)


def test_upload_size_is_capped(make_settings, faker, tmp_path):
    from postguard.platform import Platform

    s = make_settings(max_upload_bytes=2048)
    p = Platform(s)
    try:
        p.orgs.create(code="CAP", name="Cap")
        token = p.orgs.create_api_key(org_code="CAP", scopes=ALL).token
        c = TestClient(create_app(s, platform=p))
        body = assert_problem(c.post("/v1/shipments/import", content=csv_bytes(list(faker.rows(40))),
                                     headers={"Authorization": f"Bearer {token}"}), 413)
        assert "2048" in body["detail"]
    finally:
        p.close()


def test_labels_pdf(client, auth, faker):
    h = auth()
    rows = list(faker.rows(3))
    client.post("/v1/shipments/import", content=csv_bytes(rows), headers={**h, "content-type": "text/csv"})
    pdf = client.post("/v1/labels", json={"waybills": [r["waybill"] for r in rows]}, headers=h)
    assert pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) == 3
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (100, 150)
    one = client.get(f"/v1/shipments/{rows[0]['waybill']}/label.pdf", headers=h)
    assert one.status_code == 200 and len(PdfReader(io.BytesIO(one.content)).pages) == 1
    assert_problem(client.post("/v1/labels", json={"waybills": ["NOPE0000"]}, headers=h), 404)
    assert_problem(client.post("/v1/labels", json={"waybills": []}, headers=h), 422)


def test_health_metrics_and_headers(client):
    r = client.get("/healthz")
    assert r.json()["status"] == "ok"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    # API answers, served ahead of the router or through it, success or error: the API set; pages: the page set.
    api = {k.lower(): v for k, v in API_SECURITY_HEADERS.items()}
    for r in (client.post("/v1/check", json={"value": "0912345678"}), client.post("/v1/check", content=b"{"),
              client.post("/v1/callcheck", json={"caller": "x"}), client.get("/v1/shipments/ABCD1234"),
              client.get("/taxii2/")):
        assert {k: r.headers.get(k) for k in api} == api, r.request.url
        assert "referrer-policy" not in r.headers and "permissions-policy" not in r.headers
    page = client.get("/kiem-tra")
    assert page.status_code == 200
    assert {k: page.headers.get(k.lower()) for k in SECURITY_HEADERS} == SECURITY_HEADERS
    client.get("/v1/shipments/ABCD1234")
    metrics = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    assert 'route="/v1/shipments/{waybill}"' in metrics and "ABCD1234" not in metrics


def test_openapi_documents_every_route(client):
    spec = client.get("/openapi.json").json()
    assert {"/v1/shipments", "/v1/shipments/import", "/v1/shipments/search", "/v1/labels", "/healthz"} <= set(
        spec["paths"])


def test_pages_vietnamese_first_with_english_switch(client):
    vi = client.get("/")
    assert vi.status_code == 200 and '<html lang="vi">' in vi.text and "Shipper thật" in vi.text
    en = client.get("/?lang=en")
    assert '<html lang="en">' in en.text and "genuine courier" in en.text
    assert '<html lang="en">' in client.get("/").text  # the cookie keeps the choice
    assert client.get("/q/not-a-token").status_code == 404


def test_metrics_need_the_metrics_token(client, make_settings, platform):
    """/metrics says what the platform does and for whom: a scraper must hold the token, and without
    one configured the route is not served at all."""
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer " + "y" * 40}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {METRICS_TOKEN}"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert ok.status_code == 200 and "postguard_http_requests_total" in ok.text
    unset = make_settings()
    assert unset.metrics_token is None
    with TestClient(create_app(unset, platform=Platform(unset))) as c:
        r = c.get("/metrics")
        assert r.status_code == 404 and "postguard_http" not in r.text
        c.app.state.platform.close()
