"""Caller identification over HTTP: the citizen check and its proof, spoken codes, reports, masked-call
routing for telephony systems, certificates, our PASSporTs checked by an independent JWT library, and
the web pages (citizen check, courier call view)."""

from __future__ import annotations

import re

import jwt
import pytest
from cryptography import x509
from fastapi.testclient import TestClient

from postguard.app import API_SECURITY_HEADERS, create_app
from postguard.platform import Platform
from tests.api.test_api import assert_problem
from tests.api.test_staff_web import sign_in
from tests.callerid_world import COURIER_PHONE, PROXY, build, prebuilt_world

API_CSP = API_SECURITY_HEADERS["Content-Security-Policy"]

STRANGER = "0933 444 555"
HTML = {"Accept": "text/html"}


@pytest.fixture
def api(prebuilt, faker):
    w = prebuilt_world(prebuilt, faker, password_time_cost=1, password_memory_kib=1024, notifier="memory",
                       callcheck_rate_limit="1000/minute", callcheck_probe_limit="20/hour")
    yield TestClient(create_app(w.p.settings, platform=w.p)), w
    w.p.close()


def test_the_check_answers_each_outcome(api):
    client, w = api
    r = client.post("/v1/callcheck", json={"caller": STRANGER, "asked": ["otp"]})
    assert r.status_code == 200 and r.json()["outcome"] == "not_courier"
    assert r.headers["cache-control"] == "no-store" and r.headers["content-security-policy"] == API_CSP
    assert client.post("/v1/callcheck", json={"caller": "84912000111"}).json()["outcome"] == "courier"
    proof = api_proof(client, w)
    got = client.post("/v1/callcheck", json={"caller": "0912.000.111", "waybill": w.waybill, "proof": proof}).json()
    assert got["outcome"] == "verified" and got["shipment"]["cod_amount_vnd"] == 350000
    other = client.post("/v1/callcheck", json={"caller": "0912000222", "waybill": w.waybill, "proof": proof}).json()
    assert other["outcome"] == "courier_no_delivery"


def api_proof(client, w, phone=None):
    phone = phone or w.recipient
    sent = client.post("/v1/callcheck/otp", json={"phone": phone})
    assert sent.status_code == 202
    r = client.post("/v1/callcheck/otp/verify", json={"phone": phone, "code": w.p.notifier.last_code(phone),
                                                      "challenge": sent.json()["challenge"]})
    assert r.status_code == 200
    return r.json()["proof"]


def page_code(client, data):
    """Ask the citizen page for a code; the challenge its code form carries."""
    r = client.post("/kiem-tra-cuoc-goi/otp", data=data)
    assert 'id="cc-otp"' in r.text
    return re.search(r'name="challenge" value="([^"]+)"', r.text).group(1)


def test_a_leaked_label_gets_a_scammer_nothing(api):
    """The scammer's request from a leaked label (a courier's number and the waybill): no COD, window,
    name or spoken code, over the API and the page; the proof is asked for."""
    client, w = api
    got = client.post("/v1/callcheck", json={"caller": COURIER_PHONE, "waybill": w.waybill}).json()
    assert got["outcome"] == "courier" and got["proof_needed"] and "shipment" not in got
    code = w.p.calls.courier_view(w.people["an"])["parcels"][0]["spoken_code"]
    assert code not in client.post("/v1/callcheck", json={"caller": COURIER_PHONE, "waybill": w.waybill}).text
    assert_problem(client.post("/v1/callcheck/code", json={"waybill": w.waybill, "code": code}), 401)
    page = client.post("/kiem-tra-cuoc-goi", data={"caller": COURIER_PHONE, "waybill": w.waybill,
                                                   "csrf": page_csrf(client)})
    assert 'data-outcome="courier"' in page.text and "350.000" not in page.text
    assert 'action="/kiem-tra-cuoc-goi/otp"' in page.text  # the proof is offered


def test_the_recipients_history_names_call_checks_in_words(api):
    client, w = api
    proof = api_proof(client, w)
    assert client.post("/v1/callcheck", json={"caller": COURIER_PHONE, "proof": proof}).json()["outcome"] \
        == "verified"
    sent = client.post("/v1/me/code", json={"phone": w.recipient})
    assert sent.status_code == 202
    assert client.post("/v1/me/verify", json={"phone": w.recipient, "challenge": sent.json()["challenge"],
                                              "code": w.p.notifier.last_code(w.recipient)}).status_code == 200
    page = client.get("/du-lieu-cua-toi")
    assert page.status_code == 200 and w.waybill in page.text
    assert "kiểm tra cuộc gọi từ số …111" in page.text and "call_check" not in page.text
    english = client.get("/du-lieu-cua-toi?lang=en")
    assert "check of a call from …111" in english.text and "call_check" not in english.text


@pytest.mark.both_databases
def test_a_repeated_body_is_answered_from_memory_yet_revoked_and_limited_at_once(make_settings, faker):
    """The same request body, asked again, is answered from the worker's memory: a suspension
    changes its answer at the next request, and every answer counts against the client's limit."""
    settings = make_settings(password_time_cost=1, password_memory_kib=1024, notifier="memory",
                             callcheck_rate_limit="6/minute")
    p = Platform(settings)
    try:
        build(p, faker)
        client = TestClient(create_app(settings, platform=p))
        body = b'{"caller": "0912 000 111", "asked": ["fee"]}'
        post = lambda: client.post("/v1/callcheck", content=body, headers={"Content-Type": "application/json"})
        first, again = post(), post()
        assert first.status_code == again.status_code == 200 and first.content == again.content
        assert first.json()["outcome"] == "courier" and first.headers["content-security-policy"] == API_CSP
        p.staff.set_status(org_code="VNP", username="an", status="suspended")
        assert post().json()["outcome"] == "not_courier"
        assert [post().status_code for _ in range(4)] == [200, 200, 200, 429]
    finally:
        p.close()


def test_the_one_time_code_proof_over_the_api(api):
    client, w = api
    sent = client.post("/v1/callcheck/otp", json={"phone": w.recipient})
    assert sent.status_code == 202 and set(sent.json()) == {"sent", "challenge", "expires_at"}
    answer = {"phone": w.recipient, "code": w.p.notifier.last_code(w.recipient), "challenge": sent.json()["challenge"]}
    for bad in ({k: v for k, v in answer.items() if k != "challenge"}, {**answer, "challenge": "c" * 65}):
        problem = assert_problem(client.post("/v1/callcheck/otp/verify", json=bad), 422, "invalid-input")
        assert [e["field"] for e in problem["errors"]] == ["challenge"]  # required and bounded, named
    proof = client.post("/v1/callcheck/otp/verify", json=answer).json()["proof"]
    got = client.post("/v1/callcheck", json={"caller": COURIER_PHONE, "proof": proof, "amount_vnd": 900000}).json()
    assert got["outcome"] == "verified" and "amount_differs" in [f["code"] for f in got["flags"]]
    assert_problem(client.post("/v1/callcheck/otp/verify", json=answer), 401)  # used once


@pytest.mark.parametrize("body,field", [
    ({}, "caller"), ({"caller": "12"}, "caller"), ({"caller": STRANGER, "asked": ["cash"]}, "asked"),
    ({"caller": STRANGER, "extra": 1}, "extra"), ({"caller": STRANGER, "amount_vnd": "lots"}, "amount_vnd"),
])
def test_bad_input_is_a_problem_naming_the_field(api, body, field):
    client, _ = api
    got = assert_problem(client.post("/v1/callcheck", json=body), 422, "invalid-input")
    assert field in [e["field"] for e in got["errors"]]


def test_malformed_and_oversized_bodies(api):
    client, _ = api
    assert_problem(client.post("/v1/callcheck", content=b"{not json", headers={"content-type": "application/json"}),
                   422)
    assert_problem(client.post("/v1/callcheck", content=b"x" * 40000), 413, "payload-too-large")


def test_the_check_is_rate_limited_with_retry_after(make_settings, faker):
    settings = make_settings(password_time_cost=1, password_memory_kib=1024, notifier="memory",
                             callcheck_rate_limit="2/minute")
    p = Platform(settings)
    try:
        client = TestClient(create_app(settings, platform=p))
        for _ in range(2):
            assert client.post("/v1/callcheck", json={"caller": STRANGER}).status_code == 200
        r = client.post("/v1/callcheck", json={"caller": STRANGER})
        assert_problem(r, 429, "rate-limited")
        assert int(r.headers["retry-after"]) >= 1
    finally:
        p.close()


def test_spoken_code_and_report_endpoints(api):
    client, w = api
    code = w.p.calls.courier_view(w.people["an"])["parcels"][0]["spoken_code"]
    proof = api_proof(client, w)
    assert client.post("/v1/callcheck/code", json={"waybill": w.waybill, "code": code, "proof": proof}).json() \
        == {"valid": True}
    assert client.post("/v1/callcheck/code", json={"waybill": w.waybill, "code": "12345", "proof": proof}).json() \
        == {"valid": False}
    assert_problem(client.post("/v1/callcheck/code", json={"waybill": w.waybill, "code": code}), 401)
    r = client.post("/v1/callcheck/report", json={"number": STRANGER, "asked": ["fee"], "note": "phí lưu kho"})
    assert r.status_code == 201 and r.json()["verdict"] == "not_courier"


def test_routing_needs_the_scope_and_stays_within_the_operator(api):
    client, w = api
    p = w.p
    p.calls.proxy_add(org_code="VNP", number=PROXY)
    p.calls.start_call(w.people["an"], waybill=w.waybill)
    body = {"caller": COURIER_PHONE, "dialled": PROXY}
    assert_problem(client.post("/v1/calls/route", json=body), 401)
    weak = p.orgs.create_api_key(org_code="VNP", scopes=["shipments:read"]).token
    assert_problem(client.post("/v1/calls/route", json=body, headers={"Authorization": f"Bearer {weak}"}), 403)
    key = p.orgs.create_api_key(org_code="VNP", scopes=["calls:route"]).token
    got = client.post("/v1/calls/route", json=body, headers={"Authorization": f"Bearer {key}"}).json()
    assert got["action"] == "connect" and got["target"] == w.recipient
    rival = p.orgs.create_api_key(org_code="GHX", scopes=["calls:route"]).token
    got = client.post("/v1/calls/route", json=body, headers={"Authorization": f"Bearer {rival}"}).json()
    assert got == {**got, "action": "refuse", "reason": "not_a_proxy_number"}


def test_our_passports_verify_with_an_independent_jwt_library(api):
    client, w = api
    started = w.p.calls.start_call(w.people["an"], waybill=w.waybill)
    token = started["passport"]
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": header["x5u"]}
    path = header["x5u"].split("/v1/", 1)[1]
    pem = client.get("/v1/" + path)
    assert pem.status_code == 200 and pem.headers["content-type"] == "application/x-pem-file"
    public_key = x509.load_pem_x509_certificate(pem.content).public_key()
    claims = jwt.decode(token, public_key, algorithms=["ES256"], options={"verify_aud": False})
    assert claims["attest"] == "A" and claims["origid"] == started["origid"]
    assert claims["orig"] == {"tn": COURIER_PHONE.lstrip("+")} and claims["dest"] == {"tn": [w.recipient.lstrip("+")]}
    assert claims["rcd"] == {"nam": "Bưu điện Mẫu"} and claims["crn"].endswith("Parcel delivery")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered, public_key, algorithms=["ES256"])
    key = w.p.orgs.create_api_key(org_code="VNP", scopes=["calls:route"]).token
    got = client.post("/v1/calls/verify", json={"passport": token}, headers={"Authorization": f"Bearer {key}"}).json()
    assert got["origid"] == started["origid"] and "dest_tns" not in got
    assert started["identity"].startswith(token + ";info=<")


# -- the web pages ------------------------------------------------------------------------------------
def page_csrf(client, path="/kiem-tra-cuoc-goi"):
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


def test_citizen_page_is_vietnamese_first_with_an_english_switch(api):
    client, _ = api
    vi = client.get("/kiem-tra-cuoc-goi")
    assert vi.status_code == 200 and "Kiểm tra cuộc gọi shipper" in vi.text and 'lang="vi"' in vi.text
    assert 'name="viewport"' in vi.text and "<script" not in vi.text
    en = client.get("/kiem-tra-cuoc-goi?lang=en")
    assert "Check a courier&#39;s call" in en.text and "Check" in en.text


def test_citizen_page_three_outcomes_report_and_csrf(api):
    client, w = api
    csrf = page_csrf(client)
    r = client.post("/kiem-tra-cuoc-goi", data={"caller": STRANGER, "csrf": csrf, "asked": ["otp", "fee"]})
    assert 'data-outcome="not_courier"' in r.text and "1900 5678" in r.text and "đọc mã OTP cho bất kỳ ai" in r.text
    assert "không thuộc shipper đang hoạt động của 2 hãng đang tham gia: Bưu điện Mẫu, Giao Hàng Mẫu" in r.text
    assert "hãng nào" not in r.text
    r = client.post("/kiem-tra-cuoc-goi", data={"caller": COURIER_PHONE, "waybill": w.waybill, "csrf": csrf})
    assert 'data-outcome="courier"' in r.text and "350.000 đ" not in r.text
    challenge = page_code(client, {"caller": COURIER_PHONE, "phone": w.recipient, "csrf": csrf})
    r = client.post("/kiem-tra-cuoc-goi/otp/verify", data={"caller": COURIER_PHONE, "phone": w.recipient,
                                                          "waybill": w.waybill, "csrf": csrf, "challenge": challenge,
                                                          "code": w.p.notifier.last_code(w.recipient)})
    assert 'data-outcome="verified"' in r.text and "350.000 đ" in r.text and "An" in r.text
    r = client.post("/kiem-tra-cuoc-goi", data={"caller": "0912000222", "waybill": w.waybill, "csrf": csrf})
    assert 'data-outcome="courier_no_delivery"' in r.text  # the proof cookie counts
    r = client.post("/kiem-tra-cuoc-goi/report", data={"number": STRANGER, "csrf": csrf, "note": "giả shipper"})
    assert r.status_code == 200 and "Báo cáo đã được ghi nhận" in r.text
    forged = client.post("/kiem-tra-cuoc-goi", data={"caller": STRANGER, "csrf": "made-up"}, headers=HTML)
    assert forged.status_code == 403
    bad = client.post("/kiem-tra-cuoc-goi", data={"caller": "12", "csrf": csrf})
    assert bad.status_code == 422 and "số đã gọi" in bad.text


def test_a_forged_citizen_form_is_refused_logged_and_limited(api):
    """The public's forms are refused like any other (403, ``access_denied`` by ``public``); anonymous
    refusals are rate limited per client, so they cannot fill the access log."""
    from sqlalchemy import func, select

    from postguard.audit.models import AuditEntry
    from postguard.http.auth import ANONYMOUS_REFUSALS

    client, w = api

    def logged():
        with w.p.db.read_session() as s:
            return s.execute(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "access_denied", AuditEntry.actor == "public")).scalar_one()

    limit = int(ANONYMOUS_REFUSALS.split("/")[0])
    page_csrf(client)  # the cookie is set; the forms below send another token or none
    for i in range(limit):
        data = {"caller": STRANGER, **({"csrf": "made-up"} if i % 2 else {})}
        assert_problem(client.post(["/kiem-tra-cuoc-goi", "/kiem-tra-cuoc-goi/report"][i % 2], data=data), 403)
        assert logged() == i + 1
    assert_problem(client.post("/kiem-tra-cuoc-goi", data={"caller": STRANGER, "csrf": "x"}), 429, "rate-limited")
    assert logged() == limit
    assert w.p.audit.verify().ok


def test_citizen_page_proof_by_one_time_code(api):
    client, w = api
    csrf = page_csrf(client)
    challenge = page_code(client, {"caller": COURIER_PHONE, "phone": w.recipient, "csrf": csrf})
    code = w.p.notifier.last_code(w.recipient)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    r = client.post("/kiem-tra-cuoc-goi/otp/verify", data={"caller": COURIER_PHONE, "phone": w.recipient,
                                                          "code": wrong, "challenge": challenge, "csrf": csrf})
    assert r.status_code == 401 and f'name="challenge" value="{challenge}"' in r.text  # kept for the next try
    r = client.post("/kiem-tra-cuoc-goi/otp/verify", data={"caller": COURIER_PHONE, "phone": w.recipient,
                                                          "code": code, "challenge": challenge, "csrf": csrf})
    assert 'data-outcome="verified"' in r.text and "pg_parcel_proof" in r.headers["set-cookie"]
    assert "HttpOnly" in r.headers["set-cookie"]


def test_citizen_page_checks_a_spoken_code_after_proof(api):
    client, w = api
    csrf = page_csrf(client)
    code = w.p.calls.courier_view(w.people["an"])["parcels"][0]["spoken_code"]
    r = client.post("/kiem-tra-cuoc-goi/ma-xac-minh", data={"waybill": w.waybill, "code": code, "csrf": csrf})
    assert r.status_code == 401 and "cc-spoken-result" not in r.text  # no proof yet
    assert 'id="cc-spoken"' not in client.get("/kiem-tra-cuoc-goi").text
    challenge = page_code(client, {"caller": COURIER_PHONE, "phone": w.recipient, "csrf": csrf})
    client.post("/kiem-tra-cuoc-goi/otp/verify", data={"caller": COURIER_PHONE, "phone": w.recipient, "csrf": csrf,
                                                      "challenge": challenge,
                                                      "code": w.p.notifier.last_code(w.recipient)})
    assert 'id="cc-spoken"' in client.get("/kiem-tra-cuoc-goi").text
    r = client.post("/kiem-tra-cuoc-goi/ma-xac-minh", data={"waybill": w.waybill, "code": code, "csrf": csrf})
    assert r.status_code == 200 and 'data-valid="true"' in r.text and "Mã đúng" in r.text
    wrong = f"{(int(code) + 1) % 10000:04d}"
    r = client.post("/kiem-tra-cuoc-goi/ma-xac-minh", data={"waybill": w.waybill, "code": wrong, "csrf": csrf})
    assert 'data-valid="false"' in r.text and "Mã không đúng" in r.text
    assert_problem(client.post("/kiem-tra-cuoc-goi/ma-xac-minh", data={"waybill": w.waybill, "code": code}), 403)


def test_courier_call_view_shows_codes_and_starts_a_call(api):
    client, w = api
    w.p.calls.proxy_add(org_code="VNP", number=PROXY)
    assert sign_in(client, "an").status_code == 303
    page = client.get("/staff/calls")
    code = w.p.calls.courier_view(w.people["an"])["parcels"][0]["spoken_code"]
    assert page.status_code == 200 and w.waybill in page.text and code in page.text and "0912000111" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/staff/calls/call", data={"waybill": w.waybill, "csrf": csrf})
    assert r.status_code == 200 and 'id="call-proxy">02838001001<' in r.text
    assert_problem(client.post("/staff/calls/call", data={"waybill": w.waybill}), 403)  # no CSRF


def test_masked_only_delivery_reveal_page_dials_the_proxy(api):
    client, w = api
    w.p.calls.proxy_add(org_code="VNP", number=PROXY)
    w.p.calls.set_masked_only(org_code="VNP", enabled=True)
    assert sign_in(client, "an").status_code == 303
    page = client.get(f"/staff/deliveries/{w.waybill}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post(f"/staff/deliveries/{w.waybill}/reveal", data={"csrf": csrf}, headers=HTML)
    assert r.status_code == 200 and 'href="tel:02838001001"' in r.text and "số ẩn danh" in r.text
    assert w.recipient[3:] not in r.text and "0" + w.recipient[3:] not in r.text
    assert f"*******{w.recipient[-3:]}" in r.text
    assert w.p.calls.route(caller=COURIER_PHONE, dialled=PROXY)["target"] == w.recipient


def test_other_roles_are_refused_the_call_view(api):
    client, _ = api
    assert sign_in(client, "hub").status_code == 303
    assert_problem(client.get("/staff/calls"), 403, "forbidden")


def test_citizen_page_shows_what_the_scam_database_says_of_the_caller(api):
    client, w = api
    for i in range(2):
        w.p.intel.report(indicators=["0977 654 321"], category="fake_courier", client=f"10.8.0.{i}")
    csrf = page_csrf(client)
    r = client.post("/kiem-tra-cuoc-goi", data={"caller": "0977 654 321", "csrf": csrf})
    assert 'data-outcome="not_courier"' in r.text
    assert "Số này đã bị báo cáo lừa đảo (2 báo cáo, mức: đã bị báo cáo)" in r.text
    r = client.post("/kiem-tra-cuoc-goi?lang=en", data={"caller": "+44 20 7946 0000", "csrf": csrf})
    assert "A foreign number" in r.text
