"""The lookalike intake and the signed blocklist over HTTP: scopes, hostile bodies (never a 500),
the public blocklist with its ETag, signature header and ``.sig``, the key, and the rate limit."""

from __future__ import annotations

import base64

import orjson
import pytest
from fastapi.testclient import TestClient

from postguard.app import create_app
from postguard.blocklist.service import verify
from postguard.platform import Platform
from tests.api.test_api import assert_problem
from tests.integration.test_lookalikes import hit


@pytest.fixture
def bp(make_settings):
    p = Platform(make_settings(blocklist_rate="20/minute", blocklist_refresh_seconds=0, lookalike_body_bytes=2 * 1024 * 1024))
    yield p
    p.close()


@pytest.fixture
def client(bp):
    return TestClient(create_app(bp.settings, platform=bp))


@pytest.fixture
def key(bp):
    org = bp.orgs.create(code="SCANOPS", name="Scanner operations")

    def make(*scopes):
        return {"Authorization": f"Bearer {bp.orgs.create_api_key(org_code=org.code, scopes=list(scopes)).token}"}

    return make


def test_the_scanner_sends_hits_and_an_analyst_confirms_then_the_blocklist_serves_it(client, key, bp):
    scanner, analyst = key("intel:scanner"), key("intel:analyst")
    r = client.post("/v1/lookalikes", json={"hits": [hit("vnpost-vn.com"), hit("x.com", score=-1)]}, headers=scanner)
    assert r.status_code == 200, r.text
    assert r.json()["new"] == 1 and r.json()["errors"][0] == {"index": 1, "field": "score",
                                                             "message": "a whole number from 0 to 100", "code": "range"}
    assert client.get("/v1/lookalikes", headers=scanner).status_code == 403  # the scanner only sends
    listed = client.get("/v1/lookalikes", params={"campaign": "{vnpost}-<w>.com"}, headers=analyst).json()
    hit_id = listed["items"][0]["id"]
    assert listed["campaigns"] == [{"campaign": "{vnpost}-<w>.com", "hits": 1, "new": 1}]
    before = client.get("/v1/blocklist.rpz")
    assert before.status_code == 200 and b"vnpost-vn.com" not in before.content
    assert client.post(f"/v1/lookalikes/{hit_id}/confirm", json={"note": "login form"}, headers=scanner
                       ).status_code == 403
    c = client.post(f"/v1/lookalikes/{hit_id}/confirm", json={"note": "login form"}, headers=analyst)
    assert c.status_code == 200 and c.json()["status"] == "confirmed"
    assert client.post("/v1/check", json={"value": "https://vnpost-vn.com/tra-cuu"}).json()["verdict"] == "confirmed"

    pub = base64.b64decode(client.get("/v1/blocklist/key").json()["public_key"])
    for fmt in ("rpz", "hosts", "json"):
        r = client.get(f"/v1/blocklist.{fmt}")
        assert r.status_code == 200 and b"vnpost-vn.com" in r.content
        sig = base64.b64decode(r.headers["x-blocklist-signature"])
        assert verify(r.content, sig, pub) and not verify(r.content[:-1], sig, pub)
        detached = client.get(f"/v1/blocklist.{fmt}.sig")
        assert detached.content == sig and len(sig) == 64
        assert client.get(f"/v1/blocklist.{fmt}", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
        assert client.get(f"/v1/blocklist.{fmt}", headers={"If-None-Match": '"0-x", ' + r.headers["etag"]}
                          ).status_code == 304
        assert client.get(f"/v1/blocklist.{fmt}", headers={"If-None-Match": '"stale"'}).status_code == 200
    doc = orjson.loads(client.get("/v1/blocklist.json").content)
    assert doc["entries"][0]["brand"] == "Vietnam Post"
    etag = client.get("/v1/blocklist.json").headers["etag"]
    d = client.post(f"/v1/lookalikes/{hit_id}/dismiss", headers=analyst)
    assert d.status_code == 200 and d.json()["status"] == "dismissed"
    assert client.get("/v1/blocklist.json", headers={"If-None-Match": etag}).status_code == 200  # a new version
    assert client.post("/v1/check", json={"value": "vnpost-vn.com"}).json()["verdict"] == "delisted"


@pytest.mark.parametrize(("body", "status"), [
    (b"[]", 422), (b'{"hits": {}}', 422), (b'{"hits": [], "more": 1}', 422), (b"{" * 5000, 422),
    (b'{"hits": [' + b"[" * 2000 + b"]" * 2000 + b"]}", 422), (b"\xff\xfe{", 422), (b'"hits"', 422),
])
def test_hostile_bodies_are_4xx_never_500(client, key, body, status):
    r = client.post("/v1/lookalikes", content=body, headers={**key("intel:scanner"), "Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert_problem(r, status)


def test_a_body_past_the_intake_limit_and_other_hostile_requests(client, key):
    headers = {**key("intel:scanner"), "Content-Type": "application/json"}
    huge = b'{"hits": [' + b'"' + b"a" * (2100 * 1024) + b'"]}'
    assert client.post("/v1/lookalikes", content=huge, headers=headers).status_code == 413
    assert client.post("/v1/lookalikes", content=b"hits=1", headers={**key("intel:scanner"),
                       "Content-Type": "application/x-www-form-urlencoded"}).status_code == 415
    many = orjson.dumps({"hits": [{}] * 10_001})
    r = client.post("/v1/lookalikes", content=many, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "hits"
    analyst = key("intel:analyst")
    assert client.post("/v1/lookalikes/99999999/confirm", headers=analyst).status_code == 404
    assert client.post(f"/v1/lookalikes/{2**70}/confirm", headers=analyst).status_code == 422
    assert client.get("/v1/lookalikes", params={"status": "gone"}, headers=analyst).status_code == 422
    assert client.get("/v1/lookalikes", params={"cursor": "-1"}, headers=analyst).status_code == 422
    assert client.post("/v1/lookalikes", json={"hits": []}).status_code == 401


def test_public_downloads_are_rate_limited(client):
    codes = [client.get("/v1/blocklist.hosts").status_code for _ in range(21)]
    assert codes[:20] == [200] * 20 and codes[20] == 429
