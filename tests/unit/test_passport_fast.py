"""The fast paths of PASSporT signing and verification give exactly what the slow ones gave:
canonical JSON written directly equals RFC 8785, base64url equals the standard library's, and the
parsed-certificate and validated-path caches never change a verdict."""

from __future__ import annotations

import base64
import json

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from postguard.callerid.stir import jose, sip
from postguard.callerid.stir import passport as pp
from postguard.crypto import x509 as vx
from postguard.crypto.es256 import SigningKey
from postguard.errors import InvalidInput, PassportChainError, PassportFormatError
from tests.unit.test_passport import DAY, NOW, X5U, _pem, make_cert, tn_range

texts = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40).filter(str.strip)
tns = st.from_regex(r"\+?[0-9]{1,15}", fullmatch=True)


@pytest.fixture(scope="module")
def key():
    return SigningKey.generate()


def _segments(token: str) -> tuple[bytes, bytes]:
    h, p, _ = token.split(".")
    return (base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)), base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


@settings(max_examples=300, deadline=None)
@given(orig=tns, dest=st.lists(tns, min_size=1, max_size=4), iat=st.integers(0, 2**53 - 1),
       attest=st.sampled_from("ABC"), name=st.none() | texts, crn=st.none() | texts,
       x5u=st.sampled_from([X5U, "https://cr.example.vn/a b", "https://cr.example.vn/é\"\\\x7f"]))
def test_signed_header_and_payload_are_rfc8785(key, orig, dest, iat, attest, name, crn, x5u):
    try:
        token = pp.sign(key=key, x5u=x5u, orig_tn=orig, dest_tns=dest, iat=iat, attest=attest, rcd_name=name,
                        crn=crn)
    except InvalidInput:
        assert " " in x5u  # not an https URL
        return
    header, payload = _segments(token)
    assert header == rfc8785.dumps(json.loads(header))
    assert payload == rfc8785.dumps(json.loads(payload))
    claims = json.loads(payload)
    assert claims["orig"]["tn"] == sip.canonical_tn(orig) and claims["iat"] == iat
    assert claims.get("rcd", {}).get("nam") == name and claims.get("crn") == crn
    assert jose.jcs_simple(claims) == payload == jose.canonical_json(claims)


def test_refusals_that_rfc8785_would_make_are_input_errors(key):
    for kw in ({"rcd_name": "a\ud800b"}, {"crn": "\udfff"}, {"iat": 2**53}):
        args = {"key": key, "x5u": X5U, "orig_tn": "84912340123", "dest_tns": ["84987654321"], "iat": NOW,
                "attest": "A", **kw}
        with pytest.raises(InvalidInput) as err:
            pp.sign(**args)
        assert {e.field for e in err.value.errors} == {next(iter(kw)).replace("rcd_name", "rcd_name")}


def test_origid_is_a_fresh_version_4_uuid():
    import uuid

    seen = {pp._uuid4() for _ in range(2000)}
    assert len(seen) == 2000
    for s in list(seen)[:200]:
        u = uuid.UUID(s)
        assert str(u) == s and u.version == 4 and u.variant == uuid.RFC_4122


@given(st.binary(max_size=200))
def test_b64url_round_trip(data):
    enc = jose.b64url_encode(data)
    assert enc == base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    if enc:
        assert jose.b64url_decode(enc, "x") == data


@given(st.binary(min_size=1, max_size=60), st.integers(1, 15))
def test_b64url_second_spellings_are_refused(data, flip):
    enc = jose.b64url_encode(data)
    rem = len(enc) % 4
    if rem == 0:
        return
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    value = alphabet.index(enc[-1]) ^ (flip & (0x0F if rem == 2 else 0x03))
    other = enc[:-1] + alphabet[value]
    if other == enc:
        return
    with pytest.raises(PassportFormatError, match="canonical"):
        jose.b64url_decode(other, "x")
    for bad in (enc + "=", enc[:-1] + "+", enc[:-1] + "/", "A" * (4 * len(enc) + 1)):
        with pytest.raises(PassportFormatError):
            jose.b64url_decode(bad, "x")


def test_certificates_are_parsed_once_per_blob():
    k = ec.generate_private_key(ec.SECP256R1())
    cert = make_cert("cache", k.public_key(), issuer_key=k, tn=tn_range())
    pem, der = _pem(cert), cert.public_bytes(serialization.Encoding.DER)
    a = vx.load_certificate(data=pem)
    assert vx.load_certificate(data=bytes(bytearray(pem))) is a  # equal bytes, another object
    assert vx.load_certificate(data=der) is not a and vx.load_certificate(data=der).der == a.der
    assert a.es256_key() is a.es256_key() and a.tn_auth_list() is a.tn_auth_list()
    broken = pem.replace(b"MII", b"MIJ", 1)
    for _ in range(2):  # a failure is raised every time, never remembered as a success
        with pytest.raises(vx.X509Error):
            vx.load_certificate(data=broken)


def test_a_cached_path_is_rechecked_against_the_time():
    ca_key, int_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = make_cert("Path CA", ca_key.public_key(), issuer_key=ca_key, ca=True, not_before=NOW - 900 * DAY,
                   not_after=NOW + 900 * DAY)
    inter = make_cert("Path ICA", int_key.public_key(), issuer=ca, issuer_key=ca_key, ca=True,
                      not_before=NOW - 10 * DAY, not_after=NOW + 10 * DAY)
    key = SigningKey.generate()
    pub = serialization.load_der_public_key(key.public_key().spki_der())
    leaf = make_cert("Path SP", pub, issuer=inter, issuer_key=int_key, tn=tn_range(),
                     not_before=NOW - 100 * DAY, not_after=NOW + 100 * DAY)
    token = pp.sign(key=key, x5u=X5U, orig_tn="84912340123", dest_tns=["84987654321"], iat=NOW, attest="A")
    later = pp.sign(key=key, x5u=X5U, orig_tn="84912340123", dest_tns=["84987654321"], iat=NOW + 20 * DAY,
                    attest="A")
    opts = {"certificate": _pem(leaf), "intermediates": [_pem(inter)], "trusted_cas": [_pem(ca)]}
    vx.clear_caches()
    assert pp.verify(token, now=NOW, **opts)
    assert pp.verify(token, now=NOW, **opts)  # from the cache
    with pytest.raises(PassportChainError, match="expired"):  # the intermediate has expired by then
        pp.verify(later, now=NOW + 20 * DAY, **opts)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = make_cert("Other CA", other_key.public_key(), issuer_key=other_key, ca=True)
    with pytest.raises(PassportChainError):  # another anchor set is another cache entry
        pp.verify(token, now=NOW, **{**opts, "trusted_cas": [_pem(other)]})
    with pytest.raises(PassportChainError):  # and so is another set of intermediates
        pp.verify(token, now=NOW, **{**opts, "intermediates": []})


@given(st.binary(min_size=64, max_size=64))
def test_der_signature_matches_encode_dss_signature(rs):
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    from postguard.crypto.es256 import _der_signature

    r, s = int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:], "big")
    assert _der_signature(rs) == (None if r == 0 or s == 0 else encode_dss_signature(r, s))


@pytest.mark.parametrize("rs", [bytes(64), bytes(32) + b"\x01" * 32, b"\x01" * 32 + bytes(32),
                                b"\x00" * 31 + b"\x80" + b"\x00" * 31 + b"\x7f", b"\xff" * 64])
def test_der_signature_edges(rs):
    test_der_signature_matches_encode_dss_signature.hypothesis.inner_test(rs)


# --------------------------------------------------------------------------------------------------
# The straight-line signing path against the fully checked one

FIXED_ORIGID = "123e4567-e89b-42d3-a456-426614174000"
anything = st.one_of(st.none(), st.integers(-3, 3), st.booleans(), st.just(""), st.just(" "), st.floats(0, 2),
                     st.text(max_size=5), st.lists(st.text(max_size=3), max_size=2))
tn_args = st.one_of(tns, st.from_regex(r"\+?[0-9() .-]{1,20}", fullmatch=True), anything)


@settings(max_examples=400, deadline=None)
@given(x5u=st.sampled_from([X5U, "http://cr.example.vn/a", "https://cr.example.vn/a b", 5]),
       orig=tn_args, dest=st.one_of(st.lists(tn_args, max_size=3), st.tuples(tns), tn_args),
       iat=st.one_of(st.integers(-1, 2**53 + 1), st.sampled_from([True, 1.0, "1"])),
       attest=st.sampled_from(["A", "B", "C", "D", "", None, 1]),
       origid=st.sampled_from([None, FIXED_ORIGID, FIXED_ORIGID.upper(), "not-a-uuid", 7]),
       name=st.one_of(st.none(), texts, st.just("a\ud800"), anything), crn=st.one_of(st.none(), texts, anything))
def test_fast_signing_input_is_the_checked_one(key, x5u, orig, dest, iat, attest, origid, name, crn):
    args = (key, x5u, orig, dest, iat, attest, origid, name, crn)
    fast = pp._signing_input_fast(*args)
    try:
        checked = pp._signing_input_checked(*args)
    except InvalidInput:
        assert fast is None  # the fast path never accepts what the checks refuse
        return
    if fast is not None and origid is not None:
        assert fast == checked
    elif fast is not None:  # fresh origids differ: everything else is the same
        h1, p1 = fast.split(b".")
        h2, p2 = checked.split(b".")
        c1, c2 = json.loads(base64.urlsafe_b64decode(p1 + b"==")), json.loads(base64.urlsafe_b64decode(p2 + b"=="))
        assert h1 == h2 and c1.pop("origid") != c2.pop("origid") and c1 == c2


def test_the_usual_arguments_take_the_fast_path(key):
    assert pp._signing_input_fast(key, X5U, "+84 912-340-123", ("84987654321",), NOW, "B", FIXED_ORIGID,
                                  "Bưu điện", "Giao hàng") is not None


# --------------------------------------------------------------------------------------------------
# Payloads in sign's canonical shape read by the pattern, against json + the claim checks

payload_dicts = st.fixed_dictionaries(
    {"attest": st.sampled_from("ABC"), "dest": st.fixed_dictionaries({"tn": st.lists(tns, min_size=1, max_size=3)}),
     "iat": st.integers(0, 2**60), "orig": st.fixed_dictionaries({"tn": tns}),
     "origid": st.sampled_from([FIXED_ORIGID, FIXED_ORIGID.upper()])},
    optional={"crn": st.text(max_size=20), "rcd": st.fixed_dictionaries({"nam": st.text(max_size=20)}),
              "rcdi": st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=1)},
)


def _general(raw: bytes):
    payload = jose.json_object(raw, "payload")
    return payload, [pp._payload_claims(payload, shaken) for shaken in (True, False)]


@settings(max_examples=400, deadline=None)
@given(claims=payload_dicts, spelling=st.sampled_from(["jcs", "ascii", "spaced", "unsorted"]))
def test_canonical_payload_pattern_matches_the_general_parser(claims, spelling):
    if spelling == "jcs":
        try:
            raw = rfc8785.dumps(claims)
        except rfc8785.IntegerDomainError:
            raw = json.dumps(claims, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    elif spelling == "ascii":
        raw = json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()
    elif spelling == "spaced":
        raw = json.dumps(claims, sort_keys=True).encode()
    else:
        raw = json.dumps(dict(reversed(claims.items())), separators=(",", ":"), ensure_ascii=False).encode()
    payload, fast = pp._payload(raw)
    try:
        general, (shaken, base) = _general(raw)
    except Exception as exc:  # whatever the general path raises, the fast one did not match
        assert fast is None, exc
        return
    assert payload == general
    if fast is not None:
        assert fast == shaken == base
        assert fast[0] == claims["orig"]["tn"] and list(fast[1]) == claims["dest"]["tn"]


@pytest.mark.parametrize("text", [
    '{"attest":"A","attest":"B","dest":{"tn":["1"]},"iat":1,"orig":{"tn":"2"},"origid":"%s"}',  # repeated
    '{"attest":"A","dest":{"tn":["1"]},"iat":1,"orig":{"tn":"2","tn":"3"},"origid":"%s"}',
    '{"attest":"A","dest":{"tn":["1"]},"iat":01,"orig":{"tn":"2"},"origid":"%s"}',  # not JSON
    '{"attest":"A","dest":{"tn":["1"]},"iat":1,"orig":{"tn":"2"},"origid":"%s"} ',  # whitespace
    '{"attest":"A","crn":"a\\"b","dest":{"tn":["1"]},"iat":1,"orig":{"tn":"2"},"origid":"%s"}',  # escape
    '{"attest":"A","crn":"a\tb","dest":{"tn":["1"]},"iat":1,"orig":{"tn":"2"},"origid":"%s"}',  # control
    '{"attest":"A","dest":{"tn":["1234567890123456"]},"iat":1,"orig":{"tn":"2"},"origid":"%s"}',  # 16 digits
    '{"attest":"A","dest":{"tn":["1"]},"iat":-1,"orig":{"tn":"2"},"origid":"%s"}',
    '{"attest":"A","dest":{"tn":["1"]},"iat":1.0,"orig":{"tn":"2"},"origid":"%s"}',
])
def test_payloads_outside_the_canonical_shape_take_the_general_path(text):
    raw = (text % FIXED_ORIGID).encode()
    assert pp._CANONICAL_PAYLOAD.fullmatch(raw.decode()) is None
    try:
        general = jose.json_object(raw, "payload")
    except PassportFormatError:
        with pytest.raises(PassportFormatError):
            pp._payload(raw)
        return
    assert pp._payload(raw) == (general, None)


def test_canonical_payload_with_invalid_utf8_is_refused():
    raw = (f'{{"attest":"A","dest":{{"tn":["1"]}},"iat":1,"orig":{{"tn":"2"}},"origid":"{FIXED_ORIGID}",'
           '"rcd":{"nam":"').encode() + b'\xc3("}}'
    with pytest.raises(PassportFormatError):
        pp._payload(raw)


# --------------------------------------------------------------------------------------------------
# The Passport built field by field, TNAuthList lookups, the DER reader, base64url strictness


def test_verified_passport_equals_the_constructed_one(key):
    import dataclasses

    k = serialization.load_der_public_key(key.public_key().spki_der())
    cert = make_cert("fields", k, issuer_key=ec.generate_private_key(ec.SECP256R1()), tn=tn_range())
    token = pp.sign(key=key, x5u=X5U, orig_tn="84912340123", dest_tns=["84987654321"], iat=NOW, attest="A",
                    rcd_name="Bưu điện", crn="Giao hàng")
    got = pp.verify(token, certificate=_pem(cert), now=NOW)
    fields = {f.name: getattr(got, f.name) for f in dataclasses.fields(pp.Passport)}
    assert set(vars(got)) == set(fields)  # every field set, nothing else
    assert got == pp.Passport(**fields) and hash(repr(got)) == hash(repr(pp.Passport(**fields)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.orig_tn = "1"  # type: ignore[misc]
    got.header["alg"] = "none"  # the caller's copy: the cached header is untouched
    assert pp.verify(token, certificate=_pem(cert), now=NOW).header["alg"] == "ES256"


entries = st.lists(st.one_of(
    st.builds(vx.TNEntry, kind=st.just("one"), value=st.from_regex(r"[0-9]{1,4}", fullmatch=True)),
    st.builds(vx.TNEntry, kind=st.just("range"), value=st.from_regex(r"[0-9]{1,4}", fullmatch=True),
              count=st.integers(1, 300)),
    st.builds(vx.TNEntry, kind=st.just("spc"), value=st.from_regex(r"[0-9]{1,4}", fullmatch=True)),
), max_size=4)


@given(entries, st.lists(st.from_regex(r"[0-9]{1,5}", fullmatch=True), min_size=1, max_size=10))
def test_tn_auth_list_index_agrees_with_the_entries(items, numbers):
    tl = vx.TNAuthList(entries=tuple(items))
    assert tl.has_numbers == any(e.kind in ("range", "one") for e in items)
    for tn in numbers:
        assert tl.covers(tn) == any(e.covers(tn) for e in items)


@given(st.integers(1, 2**256 - 1), st.integers(1, 2**256 - 1))
def test_der_to_rs_matches_decode_dss_signature(r, s):
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    from postguard.crypto.es256 import _rs_from_der

    assert _rs_from_der(encode_dss_signature(r, s)) == r.to_bytes(32, "big") + s.to_bytes(32, "big")


def test_signatures_from_openssl_round_trip(key):
    data = b"header.payload"
    for _ in range(200):
        assert key.public_key().verify(data=data, signature=key.sign(data=data))


@pytest.mark.parametrize("bad", ["QUJD\nQUJD", "QUJD QUJD", "QU JD", "QUJD\t", "éééé", "QUJD====", "=QUJ", ""])
def test_b64url_refuses_whitespace_padding_and_non_ascii(bad):
    with pytest.raises(PassportFormatError):
        jose.b64url_decode(bad, "x")
