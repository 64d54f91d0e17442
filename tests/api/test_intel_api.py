"""Scam intelligence over HTTP: check (never "safe", never a value in the URL), reports with
evidence uploads and their limits, appeals, official channels and the analysts' routes."""

import json
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from postguard.app import create_app
from postguard.intel.models import Indicator
from postguard.intel.kept import GRADE_CACHE_SECONDS, KEPT_BODY_BYTES
from postguard.platform import Platform
from tests.conftest import needs_redis

PNG = b"\x89PNG\r\n\x1a\n" + b"synthetic" * 8


@pytest.fixture
def ip(make_settings):
    p = Platform(make_settings(intel_check_rate="5/minute", intel_evidence_max_bytes=2048,
                               intel_evidence_max_files=2, metrics_token="m" * 32))
    yield p
    p.close()


@pytest.fixture
def client(ip):
    return TestClient(create_app(ip.settings, platform=ip))


@pytest.fixture
def key(ip, org):
    def make(*scopes):
        return {"Authorization": f"Bearer {ip.orgs.create_api_key(org_code=org.code, scopes=list(scopes)).token}"}

    return make


def test_check_unknown_is_never_safe(client):
    r = client.post("/v1/check", json={"value": "0912 345 678"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["verdict"] == "unknown" and "safe" not in body and body["score"] == 0
    assert "does not mean it is safe" in body["headline"]
    assert not re.search(r"\b(is|looks) safe\b", json.dumps(body).replace("does not mean it is safe", ""))
    assert client.get("/v1/check", params={"value": "0912345678"}).status_code == 405


def test_check_errors_and_rate_limit(client):
    r = client.post("/v1/check", json={"value": "!!!"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "value"
    for _ in range(4):  # 5 per minute, the refused lookup included
        assert client.post("/v1/check", json={"value": "0912345678"}).status_code == 200
    r = client.post("/v1/check", json={"value": "0912345678"})
    assert r.status_code == 429 and "retry-after" in r.headers


@pytest.mark.parametrize("limits", ["memory://", pytest.param("redis://127.0.0.1:6379", marks=needs_redis)])
def test_a_repeated_lookup_is_answered_from_memory_yet_follows_every_change(make_settings, monkeypatch, limits):
    """The same body asked again is answered from the worker's memory: a report changes its answer
    at the next lookup, every lookup counts against the client's limit (and, when it found
    something, as a hit), a long body is never kept, and a kept body leaves memory once old."""
    p = Platform(make_settings(intel_check_rate="8/minute", rate_limit_storage=limits))
    try:
        run = uuid.uuid4().hex  # the Redis limiter outlives the test: addresses of this run alone
        client = TestClient(create_app(p.settings, platform=p), client=(f"checker-{run}", 50000))
        body = b'{"value": "0912 345 678"}'
        post = lambda raw=body: client.post("/v1/check", content=raw, headers={"Content-Type": "application/json"})
        first, again = post(), post()
        assert first.status_code == again.status_code == 200 and first.content == again.content
        assert first.json()["verdict"] == "unknown" and p.intel.checks.is_kept(body)
        p.intel.report(indicators=["0912345678"], category="fake_courier", client=f"reporter-{run}")
        reported, kept = post(), post()
        assert reported.json()["verdict"] == "reported" and kept.content == reported.content
        p.intel.flush_lookups()
        with p.db.read_session() as s:
            assert s.execute(select(Indicator.lookups)).scalar_one() == 2  # the graded answer and the kept one
        long = json.dumps({"value": "https://giao-hang.example.com/" + "x" * KEPT_BODY_BYTES}).encode()
        assert post(long).json()["verdict"] == "unknown" and not p.intel.checks.is_kept(long)
        assert [post().status_code for _ in range(4)] == [200, 200, 200, 429]  # eight a minute, kept or not
        later = time.monotonic() + GRADE_CACHE_SECONDS
        monkeypatch.setattr("postguard.intel.check.time.monotonic", lambda: later)
        p.intel.forget_kept()
        assert not p.intel.checks.is_kept(body) and p.intel.checks.kept_bodies() == 0
    finally:
        p.close()


def test_report_json_and_multipart(client, ip):
    r = client.post("/v1/reports", json={"indicators": ["0988 111 222", {"value": "VNPOST", "type": "sms_brand"}],
                                         "category": "fake_courier", "amount_lost_vnd": 500000})
    assert r.status_code == 201, r.text
    assert r.json()["reporter_kind"] == "anonymous" and len(r.json()["indicators"]) == 2
    files = [("evidence", ("a.png", PNG, "image/png")), ("evidence", ("b.bin", b"%PDF-1.4 synthetic", "application/pdf"))]
    r = client.post("/v1/reports", data={"report": json.dumps({"indicators": ["0988111333"], "category": "fake_bank",
                                                               "contact": "x@example.org"})}, files=files)
    assert r.status_code == 201, r.text
    assert r.json()["evidence"] == 2 and r.json()["reporter_kind"] == "citizen"


@pytest.mark.parametrize("files,status,code", [
    ([("evidence", ("x.png", b"MZ\x90\x00 not an image", "image/png"))], 422, "unsupported_type"),
    ([("evidence", ("x.jpg", PNG, "image/jpeg"))], 422, "type_mismatch"),
    ([("evidence", ("x.png", PNG + b"\0" * 4096, "image/png"))], 413, None),
    ([("evidence", ("x.png", PNG, "image/png"))] * 3, 422, "too_many"),
])
def test_evidence_limits(client, ip, files, status, code):
    r = client.post("/v1/reports", data={"report": json.dumps({"indicators": ["0988111444"], "category": "other"})},
                    files=files)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    if code:
        assert r.json()["errors"][0]["code"] == code
    assert client.post("/v1/check", json={"value": "0988111444"}).json()["verdict"] == "unknown"


def test_report_validation_problem(client):
    r = client.post("/v1/reports", json={"indicators": [], "category": "fake_courier"})
    assert r.status_code == 422
    r = client.post("/v1/reports", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "report"


def test_official_and_analyst_routes(client, key, ip, org):
    official = key("intel:official")
    r = client.post("/v1/intel/official", json={"kind": "domain", "value": "vnpost.vn"}, headers=official)
    assert r.status_code == 201 and r.json()["status"] == "pending"
    cid = r.json()["id"]
    assert client.post(f"/v1/intel/official/{cid}/verify", headers=official).status_code == 403
    assert client.post("/v1/intel/official", json={"kind": "domain", "value": "shopee.vn", "org": "OTHER"},
                       headers=official).status_code == 403
    admin = key("intel:admin")
    assert client.post(f"/v1/intel/official/{cid}/verify", headers=admin).json()["status"] == "verified"
    assert [c["display"] for c in client.get("/v1/intel/official").json()["items"]] == ["vnpost.vn"]
    assert client.post("/v1/check", json={"value": "https://vnpost.vn/x"}).json()["verdict"] == "official"

    reporter = key("intel:report")
    r = client.post("/v1/reports", json={"indicators": ["zalo.me/0977555666"], "category": "romance"}, headers=reporter)
    assert r.json()["reporter_kind"] == "org"
    assert client.get("/v1/intel/queue", headers=reporter).status_code == 403
    analyst = key("intel:analyst")
    assert client.get("/v1/intel/queue", headers=analyst).json()["items"] == []
    client.post("/v1/reports", json={"indicators": ["https://zalo.me/0977555666"], "category": "romance",
                                     "contact": "c@example.org"})
    item = client.get("/v1/intel/queue", headers=analyst).json()["items"][0]
    assert item["verdict"] == "corroborated"
    r = client.post(f"/v1/intel/indicators/{item['indicator']}/decision", json={"action": "confirm"}, headers=analyst)
    assert r.json()["verdict"] == "confirmed"
    detail = client.get(f"/v1/intel/indicators/{item['indicator']}", headers=analyst).json()
    assert detail["history"][-1]["action"] == "confirm" and "contact" not in detail["reports_detail"][0]
    a = client.post("/v1/appeals", json={"value": "zalo.me/0977555666", "statement": "trang của tôi",
                                         "contact": "o@example.org"})
    assert a.status_code == 201 and a.json()["verdict"] == "disputed"
    r = client.post(f"/v1/intel/appeals/{a.json()['appeal']}/decision", json={"uphold": False}, headers=analyst)
    assert r.json()["verdict"] == "confirmed"


def test_openapi_lists_intel_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/check", "/v1/reports", "/v1/appeals", "/v1/intel/queue"} <= paths.keys()


def test_lean_check_route_refuses_bad_bodies_like_the_schema(client):
    cases = [({"value": 1, "x": 2}, {"value", "x"}), ({}, {"value"}), ({"value": "0912345678", "type": 3}, {"type"}),
             ([1], {"body"})]
    for body, fields in cases:
        r = client.post("/v1/check", json=body)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert {e["field"] for e in r.json()["errors"]} == fields
    r = client.post("/v1/check", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
    assert client.post("/v1/check", content=b'{"value": "' + b"9" * 20000 + b'"}').status_code == 413
    ok = client.post("/v1/check", json={"value": "0912345678", "type": "phone"})
    assert ok.status_code == 200 and ok.headers["x-content-type-options"] == "nosniff"
    assert 'route="/v1/check",status="200"' in client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32}).text


@pytest.fixture
def lp(make_settings):
    p = Platform(make_settings(intel_check_rate="100/minute"))
    yield p
    p.close()


def _verified_vnpost(client, lp, org):
    def key(*scopes):
        return {"Authorization": f"Bearer {lp.orgs.create_api_key(org_code=org.code, scopes=list(scopes)).token}"}

    cid = client.post("/v1/intel/official", json={"kind": "domain", "value": "vnpost.vn"},
                      headers=key("intel:official")).json()["id"]
    assert client.post(f"/v1/intel/official/{cid}/verify", headers=key("intel:admin")).json()["status"] == "verified"


def test_disguised_link_to_another_host_is_never_official(lp, org):
    """``https://evil-pay.com\\@vnpost.vn/…``: a browser reads the backslash as "/" and opens
    evil-pay.com; the old reading (RFC 3986, ``urllib``) took vnpost.vn as the host and answered
    "official". Reports of it are stored under evil-pay.com, accepted, never held as official."""
    client = TestClient(create_app(lp.settings, platform=lp))
    _verified_vnpost(client, lp, org)
    assert client.post("/v1/check", json={"value": "https://vnpost.vn/phi-luu-kho"}).json()["verdict"] == "official"
    scam = "https://evil-pay.com\\@vnpost.vn/phi-luu-kho"
    for _ in range(2):  # the second answer is the one kept for the body
        body = client.post("/v1/check", json={"value": scam}).json()
        assert body["verdict"] == "suspicious" and body["official"] is None
        assert body["display"].startswith("evil-pay.com/") and body["link"]["host"] == "evil-pay.com"
        assert "evil-pay.com" in body["headline"] and "evil-pay.com" in body["headline_vi"]
        codes = [r["code"] for r in body["reasons"]]
        assert {"link_host_mismatch", "link_backslash"} <= set(codes)
        first = body["reasons"][0]
        assert "The real address is evil-pay.com" in first["text"] and "Địa chỉ thật" in first["text_vi"]
        assert not any(r["code"] == "official_channel" for r in body["reasons"])
        assert not any(d["display"] == "vnpost.vn" for d in body["related"])
    # the same normal form, written honestly, is answered without the warnings (nothing kept across forms)
    honest = client.post("/v1/check", json={"value": "https://evil-pay.com/@vnpost.vn/phi-luu-kho"}).json()
    assert honest["verdict"] == "unknown" and honest["link"]["warnings"] == []
    # user info in front of the official host itself: the browser does visit vnpost.vn, but the
    # link is written to deceive, so it is not vouched for
    body = client.post("/v1/check", json={"value": "https://evil-pay.com@vnpost.vn/phi-luu-kho"}).json()
    assert body["verdict"] == "suspicious" and body["official"] is None
    assert body["reasons"][0]["code"] == "link_userinfo"

    r = client.post("/v1/reports", json={"indicators": [scam], "category": "fake_courier"})
    assert r.status_code == 201 and r.json()["status"] == "accepted"
    assert r.json()["indicators"][0]["display"] == "evil-pay.com/@vnpost.vn/phi-luu-kho"
    with lp.db.session() as s:
        stored = {(i.type, i.value) for i in s.execute(select(Indicator)).scalars()}
        assert ("url", "evil-pay.com/@vnpost.vn/phi-luu-kho") in stored
        assert not any(t == "url" and v.startswith("vnpost.vn") for t, v in stored)
        held = s.execute(select(Indicator).where(Indicator.needs_review.is_(True))).scalars().all()
        assert held == []
    reported = client.post("/v1/check", json={"value": scam}).json()
    assert reported["verdict"] == "reported" and reported["official"] is None
    assert client.post("/v1/check", json={"value": "https://vnpost.vn/phi-luu-kho"}).json()["verdict"] == "official"


@pytest.mark.parametrize("raw,host,code", [
    ("http://0x7f.1/", "127.0.0.1", "link_ip_address"),
    ("https://vnp\u043est.vn/", "xn--vnpst-lye.vn", "link_lookalike_letters"),
    ("vnpost.vn.evil-pay.com/phi-luu-kho", "vnpost.vn.evil-pay.com", "link_embedded_domain"),
    ("https://vnpost.vn\t.evil-pay.com/", "vnpost.vn.evil-pay.com", "link_hidden_characters"),
    ("https://%65vil-pay.com/", "evil-pay.com", "link_encoded_host"),
])
def test_deceptive_links_are_explained_in_both_languages(lp, raw, host, code):
    client = TestClient(create_app(lp.settings, platform=lp))
    body = client.post("/v1/check", json={"value": raw}).json()
    assert body["verdict"] == "suspicious" and body["link"]["host"] == host and body["link"]["deceptive"]
    reason = next(r for r in body["reasons"] if r["code"] == code)
    assert reason["text"] and reason["text_vi"] and reason["text"] != reason["text_vi"]
    if host.startswith("xn--"):  # both forms of the host, so look-alike letters cannot hide
        assert host in body["display"] and "vnp\u043est.vn" in body["display"]
        assert body["link"]["host_unicode"] == "vnp\u043est.vn"
        assert any(n["code"] == "idn_host" for n in body["notes"])


def test_code_links_are_refused_clearly(lp):
    client = TestClient(create_app(lp.settings, platform=lp))
    for raw in ("javascript:alert(1)", "java\tscript:alert(1)", "data:text/html,<b>hi</b>"):
        r = client.post("/v1/check", json={"value": raw})
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"][0]["code"] == "invalid_url"


def test_a_deceptive_name_cannot_be_registered_as_official(lp, org):
    client = TestClient(create_app(lp.settings, platform=lp))
    key = {"Authorization": f"Bearer {lp.orgs.create_api_key(org_code=org.code, scopes=['intel:official']).token}"}
    r = client.post("/v1/intel/official", json={"kind": "domain", "value": "vnp\u043est.vn"}, headers=key)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "deceptive"


@pytest.mark.both_databases
def test_first_reports_from_one_client_at_once_are_all_accepted(client):
    """Five first reports from one client posted at the same moment: five 201s, never a 500."""
    barrier = threading.Barrier(5)

    def post(i):
        barrier.wait()
        return client.post("/v1/reports", json={"indicators": [f"0977 222 {i:03d}"], "category": "fake_courier"})

    with ThreadPoolExecutor(5) as pool:
        assert [r.status_code for r in pool.map(post, range(5))] == [201] * 5
