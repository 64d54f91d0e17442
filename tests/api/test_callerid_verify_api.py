"""``POST /v1/callerid/verify``: a telephony system's terminating-side STIR/SHAKEN verification, end to
end over the API. Real PASSporTs (signed by ``passport.sign``, and one by the masked-call service),
their certificate chains served by a loopback HTTPS server on an allow-listed host (127.0.0.1) and
fetched by the platform's own fetcher (``SSL_CERT_FILE`` makes the test server's TLS certificate one
the default context trusts). Every ``verstat`` and every RFC 8224 failure code; hostile input answered
with a clear 4xx or a verification status, never a 5xx. SQLite and PostgreSQL (the API-key lookup)."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from postguard.app import create_app
from postguard.callerid.stir import jose
from postguard.callerid.stir import passport as pp
from postguard.callerid.stir.sip import MAX_TOKEN_CHARS, identity_header
from postguard.crypto import x509 as vx
from postguard.crypto.es256 import SigningKey
from postguard.platform import Platform
from tests.api.test_api import assert_problem
from tests.callerid_world import COURIER_PHONE, build
from tests.integration.test_passport_x5u import _cert, _name, _pem, https, site, tls  # noqa: F401  (fixtures)

ORIG = "84912340123"  # within the loopback signer's TNAuthList (84912340000, 1000 numbers)
DEST = "84987654321"
TIMEOUT = 1.0  # POSTGUARD_X5U_TIMEOUT_SECONDS of these tests; the server's /stall waits 3 s


@pytest.fixture
def api(make_settings, faker, site, https, tls, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SSL_CERT_FILE", str(tls[2]))
    ca_file = tmp_path / "sti-ca.pem"
    ca_file.write_bytes(_pem(site.ca))
    settings = make_settings(password_time_cost=1, password_memory_kib=1024, notifier="memory",
                             x5u_allowed_hosts=["127.0.0.1"], stir_trusted_ca_file=ca_file,
                             x5u_timeout_seconds=TIMEOUT, callerid_cert_base_url=https.url("/certs"))
    p = Platform(settings)
    w = build(p, faker)
    key = p.orgs.create_api_key(org_code="GHX", scopes=["calls:verify"]).token
    client = TestClient(create_app(settings, platform=p), raise_server_exceptions=False)

    def verify(body, **kw):
        return client.post("/v1/callerid/verify", json=body, headers={"Authorization": f"Bearer {key}"}, **kw)

    yield client, verify, w
    p.close()


def _sign(site, https, *, orig=ORIG, dest=(DEST,), iat=None, path="/chain.pem", key=None, **kw) -> str:  # noqa: F811
    return pp.sign(key=key or site.key, x5u=https.url(path), orig_tn=orig, dest_tns=list(dest),
                   iat=int(time.time()) if iat is None else iat, attest=kw.pop("attest", "A"), **kw)


def _reheaded(token: str, **changes) -> str:
    h, p, sig = token.split(".")
    header = {**json.loads(base64.urlsafe_b64decode(h + "==")), **changes}
    return ".".join([jose.b64url_encode(jose.canonical_json(header)), p, sig])


def test_a_good_identity_passes_and_its_chain_is_fetched_once(api, site, https):  # noqa: F811
    _, verify, _ = api
    x5u = https.url("/chain.pem")
    token = _sign(site, https, attest="B", rcd_name="Bưu điện Mẫu", crn="Giao bưu gửi / Parcel delivery")
    before = site.hits.get("/chain.pem", 0)
    r = verify({"identity": identity_header(token, info_url=x5u), "from": "+84 912 340 123", "to": DEST})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["verstat"] == "TN-Validation-Passed" and got["attest"] == "B" and got["x5u"] == x5u
    assert got["origid"] == json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["origid"]
    assert got["rcd_name"] == "Bưu điện Mẫu" and "reason" not in got
    # the bare token, the From in national form, To as a list, the INVITE's arrival given: the same
    # answer, and the chain comes from the cache (keyed by the x5u)
    again = verify({"identity": token, "from": "0912 340 123", "to": ["0987 654 321"],
                    "received_at": datetime.now(timezone(timedelta(hours=7))).isoformat()}).json()
    assert again["verstat"] == "TN-Validation-Passed"
    assert site.hits["/chain.pem"] == before + 1
    # freshness counts from the INVITE's arrival: a PASSporT 100 s old now was 10 s old then
    old = _sign(site, https, iat=int(time.time()) - 100)
    assert verify({"identity": old, "from": ORIG, "to": DEST,
                   "received_at": int(time.time()) - 90}).json()["verstat"] == "TN-Validation-Passed"


def test_every_failure_has_its_rfc_8224_code(api, site, https):  # noqa: F811
    _, verify, w = api
    now = int(time.time())
    good = _sign(site, https)
    # a provider certified by a CA nobody here trusts
    ca_key, other = ec.generate_private_key(ec.SECP256R1()), SigningKey.generate()
    stranger_ca = _cert("Stranger STI-CA", ca_key.public_key(), _name("Stranger STI-CA"), ca_key, ca=True)
    tn = vx.encode_tn_auth_list(entries=[vx.TNEntry(kind="range", value="84912340000", count=1000)])
    leaf = _cert("Stranger STI-SP", serialization.load_der_public_key(other.public_key().spki_der()),
                 stranger_ca.subject, ca_key, tn=tn)
    site.files["/stranger.pem"] = _pem(leaf) + _pem(stranger_ca)
    # the masked-call service's own PASSporT: a genuine courier's call, under the operator's self-signed
    # certificate (served at its x5u), which no STI-CA issued
    started = w.p.calls.start_call(w.people["an"], waybill=w.waybill)
    site.files["/certs/VNP/1.pem"] = w.p.calls.certificate(org_code="VNP", version=1)
    recipient = w.recipient
    cases = [
        # (what, body, verstat, code, words in the detail)
        ("no Identity header", {"from": ORIG, "to": DEST}, "No-TN-Validation", 428, "no Identity"),
        ("stale", {"identity": _sign(site, https, iat=now - 120)}, "TN-Validation-Failed", 403, "older"),
        ("from the future", {"identity": _sign(site, https, iat=now + 120)}, "TN-Validation-Failed", 403, "future"),
        ("x5u host not allowed", {"identity": pp.sign(key=site.key, x5u="https://cr.example.vn/sp.pem", orig_tn=ORIG,
                                                      dest_tns=[DEST], iat=now, attest="A")},
         "TN-Validation-Failed", 436, "allowlist"),
        ("x5u redirects", {"identity": _sign(site, https, path="/redirect")}, "TN-Validation-Failed", 436, "redirect"),
        ("x5u not found", {"identity": _sign(site, https, path="/missing")}, "TN-Validation-Failed", 436, "404"),
        ("x5u not a certificate", {"identity": _sign(site, https, path="/not-pem")}, "TN-Validation-Failed", 436,
         "PEM"),
        ("chain to no trusted CA", {"identity": _sign(site, https, key=other, path="/stranger.pem")},
         "TN-Validation-Failed", 437, "not trusted"),
        ("signed by another key", {"identity": _sign(site, https, key=other)}, "TN-Validation-Failed", 438,
         "does not verify"),
        ("self-signed operator certificate", {"identity": started["identity"], "from": COURIER_PHONE,
                                              "to": recipient}, "TN-Validation-Failed", 437, "not trusted"),
        ("number outside the certificate", {"identity": _sign(site, https, orig="84912350000"),
                                            "from": "84912350000"}, "TN-Validation-Failed", 437, "not covered"),
        ("tampered signature", {"identity": good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BBBBBB")},
         "TN-Validation-Failed", 438, "does not verify"),
        ("alg none", {"identity": _reheaded(good, alg="none")}, "TN-Validation-Failed", 438, "ES256"),
        ("malformed", {"identity": "not.a.passport"}, "TN-Validation-Failed", 438, "base64url"),
        ("empty", {"identity": ""}, "TN-Validation-Failed", 438, "compact JWS"),
        ("From is not orig", {"identity": good, "from": "84912340124"}, "TN-Validation-Failed", 438, "From"),
        ("To is not a dest", {"identity": good, "to": ["84987654321", "84987654322"]}, "TN-Validation-Failed", 438,
         "To"),
    ]
    for what, body, verstat, code, words in cases:
        r = verify({"from": ORIG, "to": DEST, **body})
        assert r.status_code == 200, f"{what}: {r.status_code} {r.text[:300]}"
        got = r.json()
        assert got["verstat"] == verstat and got["reason"]["code"] == code, f"{what}: {got}"
        assert words in got["reason"]["detail"], f"{what}: {got}"
        assert "spoofed_courier" not in got, f"{what}: {got}"  # no From here is a courier's
        assert got["reason"]["text"] == {403: "Stale Date", 428: "Use Identity Header", 436: "Bad Identity Info",
                                         437: "Unsupported Credential", 438: "Invalid Identity Header"}[code]


def test_a_courier_number_without_a_valid_identity_is_flagged_as_spoofed(api, site, https, capsys):  # noqa: F811
    _, verify, _ = api
    capsys.readouterr()
    courier = COURIER_PHONE.lstrip("+")
    # signed for the courier's number by a provider whose certificate does not cover it
    got = verify({"identity": _sign(site, https, orig=courier), "from": COURIER_PHONE, "to": DEST}).json()
    assert got == {**got, "verstat": "TN-Validation-Failed", "spoofed_courier": True} and got["reason"]["code"] == 437
    # someone else's good PASSporT replayed under the courier's number
    got = verify({"identity": _sign(site, https), "from": "0912 000 111", "to": DEST}).json()
    assert got["reason"]["code"] == 438 and got["spoofed_courier"] is True
    # the certificate could not be fetched: that says nothing about the caller
    got = verify({"identity": _sign(site, https, orig=courier, path="/missing"), "from": COURIER_PHONE,
                  "to": DEST}).json()
    assert got["reason"]["code"] == 436 and "spoofed_courier" not in got
    # no header at all is not a failure
    assert "spoofed_courier" not in verify({"from": COURIER_PHONE, "to": DEST}).json()
    logged = capsys.readouterr().err
    assert '"spoofed_courier": true' in logged and "*******111" in logged
    assert "912000111" not in logged and DEST[2:] not in logged  # numbers are logged masked, if at all


def test_a_slow_certificate_server_is_answered_436_within_the_time_budget(api, site, https):  # noqa: F811
    _, verify, _ = api
    start = time.monotonic()
    got = verify({"identity": _sign(site, https, path="/stall"), "from": ORIG, "to": DEST}).json()
    assert time.monotonic() - start < TIMEOUT + 1.5
    assert got["verstat"] == "TN-Validation-Failed" and got["reason"]["code"] == 436
    assert "too long" in got["reason"]["detail"]


def test_bad_requests_are_refused_naming_the_field(api, site, https):  # noqa: F811
    client, verify, w = api
    token = _sign(site, https)
    base = {"identity": token, "from": ORIG, "to": DEST}
    for change, field in [
        ({"identity": "x" * (MAX_TOKEN_CHARS + 1)}, "identity"),
        ({"identity": 12}, "identity"),
        ({"to": [DEST] * 11}, "to"),
        ({"to": []}, "to"),
        ({"to": "1" * 41}, "to"),
        ({"from": "12ab"}, "from"),
        ({"from": "0" * 41}, "from"),
        ({"from": None}, "from"),
        ({"to": ["84987654321", "số điện thoại"]}, "to.1"),
        ({"received_at": "2026-03-01T08:30:00"}, "received_at"),  # no offset
        ({"received_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}, "received_at"),
        ({"received_at": "yesterday"}, "received_at"),
        ({"caller": ORIG}, "caller"),
    ]:
        r = verify({**base, **change})
        body = assert_problem(r, 422, "invalid-input")
        assert any(e["field"] == field for e in body["errors"]), (change, body)
    r = client.post("/v1/callerid/verify", json=base)
    assert_problem(r, 401)
    described = client.get("/openapi.json").json()["paths"]["/v1/callerid/verify"]["post"]
    assert "TN-Validation-Passed" in described["description"] and "436 Bad Identity Info" in described["description"]
    route_only = w.p.orgs.create_api_key(org_code="VNP", scopes=["calls:route"]).token
    assert_problem(client.post("/v1/callerid/verify", json=base, headers={"Authorization": f"Bearer {route_only}"}),
                   403)
    # hostile header values are verification failures (438), not errors
    for identity in ["\x00" * 100, "é.é.é", token + ";" * 1000, token + ";info=<", ";".join([token] * 10),
                     ".".join(["a" * 5000] * 3), token.replace(".", "\n", 1)]:
        r = verify({**base, "identity": identity})
        assert r.status_code == 200 and r.json()["reason"]["code"] == 438, (identity[:40], r.text[:200])
