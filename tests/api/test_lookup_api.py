"""Private lookups over HTTP on both databases: the Python client against the real app, the
bucket and evaluate endpoints, the snapshot, verdict changes, limits and bad input."""

import base64

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from postguard.app import create_app
from postguard.audit.models import AuditEntry
from postguard.intel import oprf
from postguard.intel.lookup_client import (
    TRUNCATED_SIZE,
    bucket_prefix,
    check_remote,
    lookup_input,
    make_request,
)
from postguard.intel.models import Indicator
from postguard.platform import Platform


@pytest.fixture
def ip(make_settings):
    p = Platform(make_settings(intel_lookup_rate="6/hour", intel_report_rate="1000/hour",
                               intel_snapshot_rate="1000/hour"))
    yield p
    p.close()


@pytest.fixture
def client(ip):
    return TestClient(create_app(ip.settings, platform=ip))


def via(client):
    def post(url, body, timeout):
        r = client.post(url.removeprefix("http://testserver"), json=body)
        if r.status_code != 200:
            raise RuntimeError(f"the server answered {r.status_code}")
        return r.json()

    return post


def counts(ip):
    with ip.db.read_session() as s:
        return (s.execute(select(func.count()).select_from(Indicator)).scalar_one(),
                s.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def flagged_id(ip, type_):
    with ip.db.read_session() as s:
        return s.execute(select(Indicator.id).where(Indicator.type == type_)).scalar_one()


def test_client_round_trip_follows_verdicts_and_leaves_no_trace(ip, client):
    ip.intel.report(indicators=["0912 345 678", "vnpost-phi-giao-hang.com"], category="fake_courier",
                    contact="a@example.org", client="reporter")
    before = counts(ip)
    hit = check_remote("+84 912 345 678", server="http://testserver", post=via(client))
    assert hit["flagged"] is True and hit["type"] == "phone" and hit["display"] == "*******678"
    assert check_remote("vnpost-phi-giao-hang.com", server="http://testserver", post=via(client),
                        prefix_bits=8)["flagged"]
    miss = check_remote("0987 654 321", server="http://testserver", post=via(client), prefix_bits=12)
    assert miss["flagged"] is False
    assert counts(ip) == before  # no row, no log entry: the server cannot even tell hit from miss
    ip.intel.decide(ip.intel.cli_principal(), flagged_id(ip, "phone"), action="delist")
    assert check_remote("0912345678", server="http://testserver", post=via(client))["flagged"] is False


def test_bucket_answers_only_the_named_bucket(ip, client):
    ip.intel.report(indicators=["0912 345 678"], category="fake_courier", client="r")
    state = make_request(lookup_input("phone", "+84912345678"), prefix_bits=16)
    body = {"prefix": f"{state.request.prefix:04x}", "blinded": base64.b64encode(state.request.blinded_element).decode()}
    r = client.post("/v1/lookup/bucket", json=body)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    out = r.json()
    assert out["prefix_bits"] == 16 and len(out["outputs"]) == 1 and len(out["key_id"]) == 16
    assert all(len(base64.b64decode(o)) == TRUNCATED_SIZE for o in out["outputs"])
    other = (state.request.prefix + 1) % 65536
    assert client.post("/v1/lookup/bucket", json={**body, "prefix": f"{other:04x}"}).json()["outputs"] == []


def test_snapshot_and_evaluate_decide_offline(ip, client):
    ip.intel.report(indicators=["0912 345 678", "Vietcombank 0123456789"], category="fake_courier", client="r")
    r = client.get("/v1/lookup/snapshot")
    assert r.status_code == 200
    snap = r.json()
    raw = base64.b64decode(snap["outputs"])
    outputs = {raw[i:i + TRUNCATED_SIZE] for i in range(0, len(raw), TRUNCATED_SIZE)}
    assert snap["count"] == len(outputs) == 2 and snap["truncated_size"] == TRUNCATED_SIZE
    assert client.get("/v1/lookup/snapshot", headers={"If-None-Match": r.headers["etag"]}).status_code == 304

    def offline(value_type, value):
        data = lookup_input(value_type, value)
        blind, blinded = oprf.blind(data)
        ev = client.post("/v1/lookup/evaluate", json={"blinded": base64.b64encode(blinded).decode()}).json()
        assert ev["key_id"] == snap["key_id"]
        return oprf.finalize(data, blind, base64.b64decode(ev["evaluated"]))[:TRUNCATED_SIZE] in outputs

    assert offline("phone", "+84912345678") and offline("bank_account", "970436:0123456789")
    assert not offline("phone", "+84912345679")
    # the snapshot alone tests nothing: an unkeyed hash of the number is not in it
    import hashlib

    assert hashlib.sha256(lookup_input("phone", "+84912345678")).digest()[:TRUNCATED_SIZE] not in outputs
    # a verdict change is a new version
    ip.intel.decide(ip.intel.cli_principal(), flagged_id(ip, "phone"), action="delist")
    newer = client.get("/v1/lookup/snapshot", headers={"If-None-Match": r.headers["etag"]})
    assert newer.status_code == 200 and newer.json()["count"] == 1


def test_bad_input_names_the_field_and_costs_nothing(client):
    good = base64.b64encode(make_request("phone\0+84912345678").request.blinded_element).decode()
    cases = [({"prefix": "abcg", "blinded": good}, "prefix"), ({"prefix": "a", "blinded": good}, "prefix"),
             ({"prefix": "abcde", "blinded": good}, "prefix"),  # more bits than are stored
             ({"prefix": "abcd", "blinded": base64.b64encode(b"\x01" * 32).decode()}, "blinded"),
             ({"prefix": "abcd", "blinded": "not base64 at all!!!!!!!!!!!!!!!!!!!!!!!!"}, "blinded")]
    for body, field in cases:
        r = client.post("/v1/lookup/bucket", json=body)
        assert r.status_code == 422, body
        assert r.json()["errors"][0]["field"] == field, r.json()
    assert client.post("/v1/lookup/evaluate", json={"blinded": good, "x": 1}).status_code == 422
    # malformed requests were refused before they counted: the limit (6/hour) is still whole
    for _ in range(6):
        assert client.post("/v1/lookup/bucket", json={"prefix": "abcd", "blinded": good}).status_code == 200


def test_evaluations_are_rate_limited_per_client(client):
    good = base64.b64encode(make_request("phone\0+84912345678").request.blinded_element).decode()
    for i in range(6):
        path = "/v1/lookup/bucket" if i % 2 else "/v1/lookup/evaluate"
        assert client.post(path, json={"prefix": "00", "blinded": good}
                           if i % 2 else {"blinded": good}).status_code == 200
    r = client.post("/v1/lookup/evaluate", json={"blinded": good})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert r.headers["content-type"].startswith("application/problem+json")


def test_indicators_stored_before_the_index_are_backfilled(ip, client):
    ip.intel.report(indicators=["0912 345 678"], category="fake_courier", client="r")
    with ip.db.session() as s:
        s.execute(Indicator.__table__.update().values(lookup_bucket=None, lookup_output=None))
    ip.lookups._backfilled = False
    assert check_remote("0912345678", server="http://testserver", post=via(client))["flagged"]
    with ip.db.read_session() as s:
        bucket = s.execute(select(Indicator.lookup_bucket)).scalar_one()
    assert bucket == bucket_prefix(lookup_input("phone", "+84912345678"), 16)  # 16 bits stored, no more
