"""STIR/SHAKEN PASSporT: sign, verify, certificates, TNAuthList, conformance vectors, interop.

Keys and certificates are generated here, at test time (tests may use ``cryptography`` directly).
The public conformance data is read in place from ../shared/testdata/stir and never copied.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
import warnings
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from postguard.callerid.stir import jose, sip
from postguard.callerid.stir import passport as pp
from postguard.crypto import x509 as vx
from postguard.crypto.es256 import SigningKey, VerifyingKey
from postguard.errors import (
    InvalidInput,
    PassportAlgorithmError,
    PassportCertificateError,
    PassportChainError,
    PassportClaimsError,
    PassportError,
    PassportFormatError,
    PassportFutureError,
    PassportSignatureError,
    PassportStaleError,
    PassportTNError,
    PassportTypeError,
    PostguardError,
)

STIR = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "stir"
NOW = 1_800_000_000  # 2027-01-15
DAY = 86_400
X5U = "https://cert.postguard.example/sti/leaf.pem"
TN_OID = x509.ObjectIdentifier(vx.TN_AUTH_LIST_OID)
RANGE_START = "84912340000"  # covers 84912340000 .. 84912340999
ORIG = "84912340123"
DEST = ["84987654321"]


# --------------------------------------------------------------------------------------------------
# Test PKI


def _ts(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_cert(cn, public_key, *, issuer=None, issuer_key=None, ca=False, path_length=None,
              tn: bytes | None = None, not_before=NOW - 30 * DAY, not_after=NOW + 365 * DAY,
              key_usage=True, serial=None):
    """A certificate for ``public_key``; self-signed when no issuer is given."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer is not None else name)
        .public_key(public_key)
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(_ts(not_before))
        .not_valid_after(_ts(not_after))
    )
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        if key_usage:
            b = b.add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                              key_encipherment=False, data_encipherment=False,
                                              key_agreement=False, key_cert_sign=True, crl_sign=True,
                                              encipher_only=False, decipher_only=False), critical=True)
    if tn is not None:
        b = b.add_extension(x509.UnrecognizedExtension(TN_OID, tn), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def tn_range(start=RANGE_START, count=1000) -> bytes:
    return vx.encode_tn_auth_list(entries=[vx.TNEntry(kind="range", value=start, count=count)])


def tn_spc(code="VNPOST1") -> bytes:
    return vx.encode_tn_auth_list(entries=[vx.TNEntry(kind="spc", value=code)])


class PKI:
    def __init__(self) -> None:
        p256 = lambda: ec.generate_private_key(ec.SECP256R1())
        self.ca_key = p256()
        self.ca = make_cert("Test STI-CA", self.ca_key.public_key(), issuer_key=self.ca_key, ca=True,
                            not_before=NOW - 3650 * DAY, not_after=NOW + 3650 * DAY)
        self.int_key = p256()
        self.inter = make_cert("Test STI-Intermediate", self.int_key.public_key(), issuer=self.ca,
                               issuer_key=self.ca_key, ca=True, path_length=0,
                               not_before=NOW - 365 * DAY, not_after=NOW + 3 * 365 * DAY)
        # Leaf signing key: made by the vault, certified here.
        self.key = SigningKey.generate()
        self.pub = serialization.load_der_public_key(self.key.public_key().spki_der())
        self.leaf = make_cert("Test STI-SP", self.pub, issuer=self.inter, issuer_key=self.int_key,
                              tn=tn_range())
        self.leaf_direct = make_cert("Test STI-SP direct", self.pub, issuer=self.ca,
                                     issuer_key=self.ca_key, tn=tn_range())
        self.leaf_spc = make_cert("Test STI-SP spc", self.pub, issuer=self.ca, issuer_key=self.ca_key,
                                  tn=tn_spc())
        self.leaf_none = make_cert("Test STI-SP no tn", self.pub, issuer=self.ca, issuer_key=self.ca_key)
        self.leaf_expired = make_cert("Test STI-SP expired", self.pub, issuer=self.ca,
                                      issuer_key=self.ca_key, tn=tn_range(),
                                      not_before=NOW - 400 * DAY, not_after=NOW - 30 * DAY)
        # A certificate valid across the old RFC and vector dates (2015 - 2040), SPC only.
        self.leaf_old = make_cert("Test STI-SP long", self.pub, issuer=self.ca, issuer_key=self.ca_key,
                                  tn=tn_spc(), not_before=1_400_000_000, not_after=2_200_000_000)
        # Valid 2000 - 2100, SPC only: for properties over any iat.
        self.leaf_any = make_cert("Test STI-SP any time", self.pub, issuer=self.ca, issuer_key=self.ca_key,
                                  tn=tn_spc(), not_before=946_684_800, not_after=4_102_444_800)
        self.other_ca_key = p256()
        self.other_ca = make_cert("Unrelated CA", self.other_ca_key.public_key(),
                                  issuer_key=self.other_ca_key, ca=True)
        self.other_key = SigningKey.generate()
        self.other_leaf = make_cert(
            "Unrelated SP", serialization.load_der_public_key(self.other_key.public_key().spki_der()),
            issuer=self.other_ca, issuer_key=self.other_ca_key, tn=tn_range())
        # Same key, unrelated CA (chain failure with a good signature).
        self.leaf_from_other_ca = make_cert("Same key, other CA", self.pub, issuer=self.other_ca,
                                            issuer_key=self.other_ca_key, tn=tn_range())

    def sign(self, **kw) -> str:
        args = dict(key=self.key, x5u=X5U, orig_tn=ORIG, dest_tns=DEST, iat=NOW, attest="A")
        args.update(kw)
        return pp.sign(**args)

    def verify(self, token, **kw):
        args = dict(certificate=_pem(self.leaf), now=NOW, trusted_cas=[_pem(self.ca)],
                    intermediates=[_pem(self.inter)])
        args.update(kw)
        return pp.verify(token, **args)

    def raw_sign(self, header: dict | bytes, payload: dict | bytes, *, key=None) -> str:
        """A token over arbitrary header/payload (JSON bytes taken verbatim)."""
        h = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
        p = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
        data = jose.b64url_encode(h) + "." + jose.b64url_encode(p)
        return data + "." + jose.b64url_encode((key or self.key).sign(data=data.encode()))


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI()


HEADER = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": X5U}


def payload(**kw):
    base = {"attest": "A", "dest": {"tn": list(DEST)}, "iat": NOW, "orig": {"tn": ORIG},
            "origid": "123e4567-e89b-12d3-a456-426655440000"}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not _DROP}


_DROP = object()


# --------------------------------------------------------------------------------------------------
# Round trip, API shape


def test_sign_verify_round_trip_through_a_chain(pki):
    token = pki.sign(rcd_name="Bưu điện Việt Nam", crn="Giao hàng hôm nay",
                     origid="0f8fad5b-d9cb-469f-a165-70867728950e")
    got = pki.verify(token)
    assert isinstance(got, pp.Passport)
    assert got.orig_tn == ORIG and got.dest_tns == tuple(DEST)
    assert got.attest == "A" and got.iat == NOW and got.x5u == X5U
    assert got.origid == "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert got.rcd_name == "Bưu điện Việt Nam" and got.crn == "Giao hàng hôm nay"
    assert got.header == HEADER
    assert got.claims["rcd"] == {"nam": "Bưu điện Việt Nam"}
    assert got.tn_auth_list.entries == (vx.TNEntry(kind="range", value=RANGE_START, count=1000),)


def test_token_is_canonical_compact_jws(pki):
    token = pki.sign(origid="0f8fad5b-d9cb-469f-a165-70867728950e", crn="Giao hàng")
    h, p, s = token.split(".")
    assert "=" not in token
    assert base64.urlsafe_b64decode(h + "==") == (
        b'{"alg":"ES256","ppt":"shaken","typ":"passport","x5u":"' + X5U.encode() + b'"}')
    assert base64.urlsafe_b64decode(p + "==") == (
        '{"attest":"A","crn":"Giao hàng","dest":{"tn":["84987654321"]},"iat":1800000000,'
        '"orig":{"tn":"84912340123"},"origid":"0f8fad5b-d9cb-469f-a165-70867728950e"}').encode()
    assert len(base64.urlsafe_b64decode(s + "==")) == 64


def test_sign_defaults_origid_to_a_fresh_uuid_and_canonicalises_numbers(pki):
    a, b = pki.sign(orig_tn="+84 (91) 234-0123"), pki.sign()
    pa, pb = pki.verify(a), pki.verify(b)
    assert pa.origid != pb.origid
    assert pa.orig_tn == ORIG and pa.claims["orig"] == {"tn": ORIG}


def test_identity_header_value_and_its_verification(pki):
    token = pki.sign()
    value = sip.identity_header(token, info_url=X5U)
    assert value == f"{token};info=<{X5U}>;alg=ES256;ppt=shaken"
    got = pki.verify(value)
    assert got.info == X5U
    # parameters in any order, SIP whitespace around ';' and '=', names case-insensitive
    assert pki.verify(f"{token} ; ppt=shaken;ALG = ES256; info=<{X5U}>").orig_tn == ORIG
    assert pki.verify(f"{token};info=<{X5U}>").orig_tn == ORIG


@pytest.mark.parametrize("suffix, error", [
    (";info=<{x5u}>;alg=RS256;ppt=shaken", PassportAlgorithmError),
    (";info=<{x5u}>;alg=ES256;ppt=div", PassportTypeError),
    (";alg=ES256;ppt=shaken", PassportFormatError),  # info is mandatory (RFC 8224 §4.1)
    (";info={x5u};alg=ES256", PassportFormatError),  # info must be <URI>
    (";info=<{x5u}>;info=<{x5u}>", PassportFormatError),
    (";info=<{x5u}>alg=ES256;ppt=shaken", PassportFormatError),
    (";info=<https://elsewhere.example/x.pem>", PassportFormatError),  # info differs from x5u
    (";info=<{x5u}", PassportFormatError),
    (";;info=<{x5u}>", PassportFormatError),
    (";info=<{x5u}>;", PassportFormatError),
])
def test_identity_header_parameter_errors(pki, suffix, error):
    with pytest.raises(error):
        pki.verify(pki.sign() + suffix.format(x5u=X5U))


def test_identity_header_refuses_a_bad_info_url(pki):
    with pytest.raises(InvalidInput):
        sip.identity_header(pki.sign(), info_url="not a url")


def test_errors_are_one_family_with_one_problem_type():
    for cls in (PassportFormatError, PassportAlgorithmError, PassportTypeError, PassportClaimsError,
                PassportStaleError, PassportFutureError, PassportSignatureError,
                PassportCertificateError, PassportChainError, PassportTNError):
        e = cls("why")
        assert isinstance(e, PassportError) and isinstance(e, PostguardError)
        assert (e.slug, e.title, e.status, e.exit_code) == ("invalid-passport", "Invalid PASSporT", 400, 2)
        assert e.problem()["type"].endswith("/invalid-passport")


def test_sign_rejects_bad_arguments_naming_each_field(pki):
    with pytest.raises(InvalidInput) as err:
        pp.sign(key=pki.key, x5u="http://insecure.example/c.pem", orig_tn="call me", dest_tns="849",
                iat="now", attest="D", origid="ref", rcd_name="", crn=" ")
    fields = {e.field for e in err.value.errors}
    assert fields == {"x5u", "orig_tn", "dest_tns", "iat", "attest", "origid", "rcd_name", "crn"}
    with pytest.raises(InvalidInput):
        pp.sign(key="not a key", x5u=X5U, orig_tn=ORIG, dest_tns=DEST, iat=NOW, attest="A")
    with pytest.raises(TypeError):  # keyword-only
        pp.sign(pki.key, X5U, ORIG, DEST, NOW, "A")  # type: ignore[misc]


# --------------------------------------------------------------------------------------------------
# Header rules


@pytest.mark.parametrize("alg", ["none", "RS256", "HS256", "es256", "ES384", None, 1])
def test_only_es256_is_accepted(pki, alg):
    header = dict(HEADER)
    if alg is None:
        del header["alg"]
    else:
        header["alg"] = alg
    with pytest.raises(PassportAlgorithmError):
        pki.verify(pki.raw_sign(header, payload()))


def test_alg_none_with_an_empty_signature_is_refused(pki):
    h = jose.b64url_encode(json.dumps(dict(HEADER, alg="none")).encode())
    p = jose.b64url_encode(json.dumps(payload()).encode())
    with pytest.raises(PassportFormatError):  # empty third segment
        pki.verify(f"{h}.{p}.")
    with pytest.raises(PassportAlgorithmError):
        pki.verify(f"{h}.{p}.AAAA")


@pytest.mark.parametrize("change, error", [
    ({"typ": "JWT"}, PassportTypeError),
    ({"typ": None}, PassportTypeError),
    ({"ppt": None}, PassportTypeError),
    ({"ppt": "div"}, PassportTypeError),
    ({"ppt": "rcd"}, PassportTypeError),
    ({"crit": ["ppt"]}, PassportFormatError),
    ({"x5u": "http://cert.postguard.example/leaf.pem"}, PassportClaimsError),
    ({"x5u": None}, PassportClaimsError),
    ({"x5u": 42}, PassportClaimsError),
])
def test_header_rules(pki, change, error):
    header = {k: v for k, v in {**HEADER, **change}.items() if v is not None}
    with pytest.raises(error):
        pki.verify(pki.raw_sign(header, payload()))


# --------------------------------------------------------------------------------------------------
# Claims: strict JSON types


@pytest.mark.parametrize("claims", [
    {"iat": str(NOW)},
    {"iat": True},
    {"iat": float(NOW) + 0.5},
    {"iat": _DROP},
    {"orig": _DROP},
    {"orig": json.dumps({"tn": ORIG})},  # libstirshaken style: a JSON-encoded string
    {"orig": {"tn": int(ORIG)}},
    {"orig": {"tn": [ORIG]}},
    {"orig": {"uri": "sip:a@example.com"}},
    {"orig": {"tn": "84-91x"}},
    {"dest": _DROP},
    {"dest": json.dumps({"tn": DEST})},
    {"dest": {"tn": DEST[0]}},  # a string, not an array
    {"dest": {"tn": []}},
    {"dest": {"tn": [int(DEST[0])]}},
    {"dest": {"uri": ["sip:alice@example.com"]}},  # SHAKEN needs dest.tn
    {"attest": "D"},
    {"attest": "a"},
    {"attest": _DROP},
    {"origid": _DROP},
    {"origid": "ref"},
    {"origid": 7},
    {"rcd": "Bưu điện"},
    {"rcd": {"nam": 5}},
    {"crn": 5},
    {"rcdi": ["sha256-x"]},
])
def test_nonconformant_claims_are_refused(pki, claims):
    with pytest.raises(PassportClaimsError):
        pki.verify(pki.raw_sign(HEADER, payload(**claims)))


def test_unknown_and_rich_call_data_claims_are_accepted(pki):
    got = pki.verify(pki.raw_sign(HEADER, payload(
        rcd={"nam": "Giao Hàng Nhanh", "icn": "https://example.com/logo.png"}, crn="Giao hàng",
        rcdi={"/icn": "sha256-abc"}, div={"tn": "1"})))
    assert got.rcd_name == "Giao Hàng Nhanh" and got.crn == "Giao hàng"


@pytest.mark.parametrize("raw, canonical", [
    ("84912340123", "84912340123"),
    ("+84912340123", "84912340123"),
    ("+84 (91) 234-0123", "84912340123"),
    ("1.215.555.1212", "12155551212"),
])
def test_canonical_tn(raw, canonical):
    assert sip.canonical_tn(raw) == canonical


@pytest.mark.parametrize("raw", ["", "+", "++849", "84 91x", "12#34", "*67", "1234567890123456", "８４９"])
def test_canonical_tn_refuses_non_numbers(raw):
    with pytest.raises(ValueError):
        sip.canonical_tn(raw)


@given(digits=st.from_regex(r"[0-9]{1,15}", fullmatch=True),
       seps=st.lists(st.sampled_from(["-", ".", " ", "(", ")"]), max_size=6), plus=st.booleans())
def test_canonical_tn_property(digits, seps, plus):
    s = list(digits)
    for i, sep in enumerate(seps):
        s.insert((i * 7) % (len(s) + 1), sep)
    assert sip.canonical_tn(("+" if plus else "") + "".join(s)) == digits


# --------------------------------------------------------------------------------------------------
# Freshness


def test_freshness_window(pki):
    token = pki.sign()
    assert pki.verify(token, now=NOW + 60).iat == NOW
    with pytest.raises(PassportStaleError):
        pki.verify(token, now=NOW + 61)
    assert pki.verify(token, now=NOW + 300, max_age=300).iat == NOW
    assert pki.verify(token, now=NOW - 5).iat == NOW
    with pytest.raises(PassportFutureError):
        pki.verify(token, now=NOW - 6)
    with pytest.raises(PassportFutureError):
        pki.verify(token, now=NOW - 2, future_skew=1)


# --------------------------------------------------------------------------------------------------
# Signatures and certificates


def test_tampered_payload_fails_the_signature(pki):
    h, p, s = pki.sign().split(".")
    forged = jose.b64url_encode(json.dumps(payload(orig={"tn": "84912340999"})).encode())
    with pytest.raises(PassportSignatureError):
        pki.verify(f"{h}.{forged}.{s}")


def test_der_signature_is_refused_even_though_it_verifies(pki):
    data = jose.signing_input(HEADER, payload())
    priv = ec.generate_private_key(ec.SECP256R1())
    der = priv.sign(data.encode(), ec.ECDSA(hashes.SHA256()))
    priv.public_key().verify(der, data.encode(), ec.ECDSA(hashes.SHA256()))  # it is a valid signature
    cert = make_cert("DER signer", priv.public_key(), issuer=pki.ca, issuer_key=pki.ca_key, tn=tn_range())
    with pytest.raises(PassportSignatureError):
        pp.verify(f"{data}.{jose.b64url_encode(der)}", certificate=_pem(cert), now=NOW)


@pytest.mark.parametrize("size", [0, 32, 63, 65, 72, 128])
def test_signature_of_the_wrong_size_is_refused(pki, size):
    data = jose.signing_input(HEADER, payload())
    sig = pki.key.sign(data=data.encode())
    sig = (sig * 3)[:size]
    if size == 0:
        with pytest.raises(PassportFormatError):
            pki.verify(f"{data}.")
        return
    with pytest.raises(PassportSignatureError):
        pki.verify(f"{data}.{jose.b64url_encode(sig)}")


def test_zero_r_or_s_is_refused(pki):
    data = jose.signing_input(HEADER, payload())
    with pytest.raises(PassportSignatureError):
        pki.verify(f"{data}.{jose.b64url_encode(bytes(64))}")


def test_wrong_certificate_fails_the_signature(pki):
    token = pki.sign()
    with pytest.raises(PassportSignatureError):
        pp.verify(token, certificate=_pem(pki.other_leaf), now=NOW)
    with pytest.raises(PassportSignatureError):  # and with its own, valid chain
        pp.verify(token, certificate=_pem(pki.other_leaf), now=NOW, trusted_cas=[_pem(pki.other_ca)])


def test_certificate_as_der_and_pem(pki):
    token = pki.sign()
    der = pki.leaf_direct.public_bytes(serialization.Encoding.DER)
    assert pp.verify(token, certificate=der, now=NOW, trusted_cas=[pki.ca.public_bytes(
        serialization.Encoding.DER)]).orig_tn == ORIG


@pytest.mark.parametrize("blob", [b"", b"garbage", b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
                                  b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", b"\x30\x03\x02\x01"])
def test_unloadable_certificate_is_a_certificate_error(pki, blob):
    with pytest.raises(PassportCertificateError):
        pki.verify(pki.sign(), certificate=blob)


def test_non_bytes_certificate_is_a_certificate_error(pki):
    with pytest.raises(PassportCertificateError):
        pki.verify(pki.sign(), certificate="not bytes")  # type: ignore[arg-type]


def test_two_certificates_where_one_is_expected(pki):
    with pytest.raises(PassportCertificateError):
        pki.verify(pki.sign(), certificate=_pem(pki.leaf) + _pem(pki.inter))


def test_certificate_cryptography_refuses_is_a_certificate_error(pki, monkeypatch):
    """A future pyca/cryptography refuses some certificates at load time (serial 0): a clear error."""

    def refuse(_data, *a, **k):
        raise ValueError("error parsing asn1 value: serial number must be positive")

    monkeypatch.setattr(vx._cx509, "load_der_x509_certificate", refuse)
    vx.clear_caches()  # certificates already parsed are kept: parse afresh
    with pytest.raises(PassportCertificateError):
        pki.verify(pki.sign())


@pytest.mark.parametrize("make_key", [
    lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    lambda: ec.generate_private_key(ec.SECP384R1()),
])
def test_non_p256_certificate_is_a_certificate_error(pki, make_key):
    k = make_key()
    cert = make_cert("Not P-256", k.public_key(), issuer=pki.ca, issuer_key=pki.ca_key, tn=tn_range())
    with pytest.raises(PassportCertificateError):
        pp.verify(pki.sign(), certificate=_pem(cert), now=NOW, trusted_cas=[_pem(pki.ca)])


def test_expired_certificate_is_refused(pki):
    with pytest.raises(PassportCertificateError):
        pki.verify(pki.sign(), certificate=_pem(pki.leaf_expired), intermediates=None)
    with pytest.raises(PassportCertificateError):  # not yet valid
        pki.verify(pki.sign(iat=NOW - 40 * DAY), now=NOW - 40 * DAY)


# --------------------------------------------------------------------------------------------------
# Chain validation


def test_chain_direct_and_through_an_intermediate(pki):
    token = pki.sign()
    assert pki.verify(token).orig_tn == ORIG
    assert pki.verify(token, certificate=_pem(pki.leaf_direct), intermediates=None).orig_tn == ORIG
    # a PEM bundle of trusted CAs is fine
    assert pki.verify(token, trusted_cas=[_pem(pki.other_ca) + _pem(pki.ca)]).orig_tn == ORIG


def test_chain_errors(pki):
    token = pki.sign()
    with pytest.raises(PassportChainError):  # unrelated CA
        pki.verify(token, certificate=_pem(pki.leaf_from_other_ca))
    with pytest.raises(PassportChainError):  # intermediate missing
        pki.verify(token, intermediates=None)
    with pytest.raises(PassportChainError):  # only the other CA trusted
        pki.verify(token, trusted_cas=[_pem(pki.other_ca)])
    with pytest.raises(PassportChainError):  # empty trust list fails closed
        pki.verify(token, trusted_cas=[])
    with pytest.raises(PassportChainError):
        pki.verify(token, trusted_cas=[b"not a certificate"])
    # the intermediate as trust anchor is enough
    assert pki.verify(token, trusted_cas=[_pem(pki.inter)], intermediates=None).orig_tn == ORIG


def test_chain_refuses_expired_intermediate_and_non_ca_issuer(pki):
    token = pki.sign()
    with pytest.raises(PassportChainError):  # intermediate expires before the leaf
        pki.verify(token, now=NOW + 3 * 365 * DAY + DAY, certificate=_pem(make_cert(
            "late leaf", pki.pub, issuer=pki.inter, issuer_key=pki.int_key, tn=tn_range(),
            not_after=NOW + 4 * 365 * DAY)), max_age=10**9)
    not_ca_key = ec.generate_private_key(ec.SECP256R1())
    not_ca = make_cert("Not a CA", not_ca_key.public_key(), issuer=pki.ca, issuer_key=pki.ca_key)
    leaf = make_cert("under a non-CA", pki.pub, issuer=not_ca, issuer_key=not_ca_key, tn=tn_range())
    with pytest.raises(PassportChainError):
        pki.verify(token, certificate=_pem(leaf), intermediates=[_pem(not_ca)])


def test_chain_path_length_constraint(pki):
    sub_key = ec.generate_private_key(ec.SECP256R1())
    sub = make_cert("Sub-intermediate", sub_key.public_key(), issuer=pki.inter, issuer_key=pki.int_key,
                    ca=True)
    leaf = make_cert("deep leaf", pki.pub, issuer=sub, issuer_key=sub_key, tn=tn_range())
    with pytest.raises(PassportChainError):  # the intermediate has pathLen 0
        pki.verify(pki.sign(), certificate=_pem(leaf), intermediates=[_pem(pki.inter), _pem(sub)])


# --------------------------------------------------------------------------------------------------
# TNAuthList


def test_tn_range_coverage(pki):
    assert pki.verify(pki.sign(orig_tn=RANGE_START)).orig_tn == RANGE_START
    assert pki.verify(pki.sign(orig_tn="84912340999")).orig_tn == "84912340999"
    for outside in ("84912341000", "84912339999", "8491234012", "849123401230"):
        with pytest.raises(PassportTNError):
            pki.verify(pki.sign(orig_tn=outside))
    assert pki.verify(pki.sign(orig_tn="84912341000"), require_tn_match=False).orig_tn == "84912341000"


def test_spc_only_certificate_authorises_any_number(pki):
    got = pki.verify(pki.sign(orig_tn="12025550100"), certificate=_pem(pki.leaf_spc), intermediates=None)
    assert got.tn_auth_list.spcs == ("VNPOST1",)


def test_certificate_without_tnauthlist(pki):
    token = pki.sign()
    with pytest.raises(PassportTNError):
        pki.verify(token, certificate=_pem(pki.leaf_none), intermediates=None)
    got = pki.verify(token, certificate=_pem(pki.leaf_none), intermediates=None, require_tn_match=False)
    assert got.tn_auth_list is None


def test_one_number_and_mixed_entries(pki):
    tn = vx.encode_tn_auth_list(entries=[vx.TNEntry(kind="spc", value="X1"),
                                 vx.TNEntry(kind="one", value="84900000001")])
    cert = make_cert("one", pki.pub, issuer=pki.ca, issuer_key=pki.ca_key, tn=tn)
    kw = dict(certificate=_pem(cert), intermediates=None)
    assert pki.verify(pki.sign(orig_tn="84900000001"), **kw).orig_tn == "84900000001"
    with pytest.raises(PassportTNError):
        pki.verify(pki.sign(orig_tn="84900000002"), **kw)


def test_malformed_tnauthlist_is_a_certificate_error(pki):
    implicit = bytes.fromhex("3003800131")  # [0] IMPLICIT, not the RFC 8226 EXPLICIT tagging
    cert = make_cert("bad tn", pki.pub, issuer=pki.ca, issuer_key=pki.ca_key, tn=implicit)
    with pytest.raises(PassportCertificateError):
        pki.verify(pki.sign(), certificate=_pem(cert), intermediates=None)


@pytest.mark.parametrize("hexder", [
    "", "30", "3000", "3080a0031601310000", "3005a003160131ff", "3006a00316013100", "308105a003160131",
    "3005a403160131", "3005a003130131", "3004a0021600", "300aa1083006160131020101", "300aa1083006160131020180",
    "300ba10930071601310202007f", "3005a2031601", "3005a20316017a", "1605a003160131",
    "3005a0031601ff",
])
def test_tnauthlist_parser_is_strict(hexder):
    with pytest.raises(vx.TNAuthListError):
        vx.parse_tn_auth_list(der=bytes.fromhex(hexder))


@given(st.lists(st.one_of(
    st.builds(vx.TNEntry, kind=st.just("spc"), value=st.from_regex(r"[0-9A-Z]{1,8}", fullmatch=True)),
    st.builds(vx.TNEntry, kind=st.just("one"), value=st.from_regex(r"[0-9]{1,15}", fullmatch=True)),
    st.builds(vx.TNEntry, kind=st.just("range"), value=st.from_regex(r"[0-9]{1,15}", fullmatch=True),
              count=st.integers(min_value=2, max_value=10**12)),
), min_size=1, max_size=20))
def test_tnauthlist_encode_parse_round_trip(entries):
    assert vx.parse_tn_auth_list(der=vx.encode_tn_auth_list(entries=entries)).entries == tuple(entries)


@given(st.binary(max_size=64))
def test_tnauthlist_parser_never_crashes(blob):
    try:
        vx.parse_tn_auth_list(der=blob)
    except vx.TNAuthListError:
        pass


# --------------------------------------------------------------------------------------------------
# Format


@pytest.mark.parametrize("token", [
    "", "abc", "a.b", "a.b.c.d", "..", "a..c", "é.b.c", "a b.c.d",
    "eyJhbGciOiJFUzI1NiJ9=.e30.AAAA", "x" * (sip.MAX_TOKEN_CHARS + 1),
])
def test_malformed_tokens(pki, token):
    with pytest.raises(PassportFormatError):
        pki.verify(token)


def test_non_string_token(pki):
    with pytest.raises(PassportFormatError):
        pki.verify(b"a.b.c")  # type: ignore[arg-type]


@pytest.mark.parametrize("header", [
    b"[]", b"not json", b'{"alg":"ES256","alg":"ES256","typ":"passport"}', b'{"alg":NaN}', b"\xff\xfe",
    b'"ES256"', b"[" * 100_000,
])
def test_header_must_be_a_json_object(pki, header):
    with pytest.raises(PassportFormatError):
        pki.verify(pki.raw_sign(header, payload()))


@pytest.mark.parametrize("body", [b"[]", b"{", b'{"iat":1,"iat":2}', b'{"iat":Infinity}'])
def test_payload_must_be_a_json_object(pki, body):
    with pytest.raises(PassportFormatError):
        pki.verify(pki.raw_sign(HEADER, body))


def test_non_canonical_base64url_is_refused(pki):
    h, p, s = pki.sign().split(".")
    # The last character of a 64-byte signature carries 4 bits + 2 unused bits: set the unused ones.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = alphabet[alphabet.index(s[-1]) | 1]
    assert twin != s[-1] and base64.urlsafe_b64decode(s[:-1] + twin + "==") == \
        base64.urlsafe_b64decode(s + "==")
    with pytest.raises(PassportFormatError):
        pki.verify(f"{h}.{p}.{s[:-1]}{twin}")


# --------------------------------------------------------------------------------------------------
# Properties

VIETNAMESE = ("aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
              "AĂÂBCDĐEÊGHIKLMNOÔƠPQRSTUƯVXYÀÁẢÃẠẰẮẲẴẶẦẤẨẪẬÈÉẺẼẸỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌỒỐỔỖỘỜỚỞỠỢÙÚỦŨỤỪỨỬỮỰỲÝỶỸỴ"
              " 0123456789-&.,'\"\\/")
names = st.one_of(
    st.sampled_from(["Bưu điện Việt Nam", "Giao Hàng Nhanh", "Viettel Post – Chuyển phát nhanh",
                     "Công ty TNHH Đầu tư Ánh Dương", "J&T Express", "Ninja Van 🚚"]),
    st.text(alphabet=VIETNAMESE, min_size=1, max_size=60),
    st.text(min_size=1, max_size=40),
).filter(lambda s: s.strip())
reasons = st.one_of(st.sampled_from(["Giao hàng", "Xác nhận đơn hàng", "Upcoming Delivery",
                                     "Thu hộ COD: 150.000 ₫"]), names)
numbers = st.from_regex(r"\+?[0-9]{1,15}", fullmatch=True)


@settings(max_examples=60)
@given(orig=numbers, dest=st.lists(numbers, min_size=1, max_size=4), iat=st.integers(1_000_000_000, 4_000_000_000),
       age=st.integers(0, 60), attest=st.sampled_from("ABC"), name=st.none() | names,
       crn=st.none() | reasons, origid=st.uuids())
def test_sign_verify_round_trip_property(pki, orig, dest, iat, age, attest, name, crn, origid):
    token = pki.sign(orig_tn=orig, dest_tns=dest, iat=iat, attest=attest, rcd_name=name, crn=crn,
                     origid=str(origid))
    got = pp.verify(token, certificate=_pem(pki.leaf_any), now=iat + age)
    assert got.orig_tn == orig.lstrip("+") and got.dest_tns == tuple(d.lstrip("+") for d in dest)
    assert (got.iat, got.attest, got.rcd_name, got.crn, got.origid) == (iat, attest, name, crn, str(origid))


@settings(max_examples=200)
@given(data=st.data(), name=st.none() | names, crn=st.none() | reasons)
def test_any_single_byte_mutation_fails_with_a_passport_error(pki, data, name, crn):
    token = pki.sign(rcd_name=name, crn=crn)
    raw = bytearray(token.encode("ascii"))
    i = data.draw(st.integers(0, len(raw) - 1), label="index")
    b = data.draw(st.integers(0, 255).filter(lambda v: v != raw[i]), label="byte")
    raw[i] = b
    mutated = raw.decode("latin-1")
    with pytest.raises(PassportError):
        pki.verify(mutated)
    with pytest.raises(PassportError):
        pki.verify(sip.identity_header(token, info_url=X5U).replace(token, mutated))


@given(st.binary(max_size=200))
def test_random_bytes_as_certificate_never_crash(pki, blob):
    with pytest.raises(PassportError):
        pp.verify(pki.sign(), certificate=blob, now=NOW)


@settings(max_examples=150)
@given(data=st.data())
def test_mutated_certificate_verifies_or_fails_cleanly(pki, data):
    """A byte flipped anywhere in the DER: a PassportError or (outside what is checked) a result."""
    der = bytearray(pki.leaf_direct.public_bytes(serialization.Encoding.DER))
    i = data.draw(st.integers(0, len(der) - 1), label="index")
    der[i] = data.draw(st.integers(0, 255).filter(lambda v: v != der[i]), label="byte")
    try:
        pp.verify(pki.sign(), certificate=bytes(der), now=NOW)
    except PassportError:
        pass
    with pytest.raises(PassportError):  # with the chain checked, the CA's signature catches it
        pp.verify(pki.sign(), certificate=bytes(der), now=NOW, trusted_cas=[_pem(pki.ca)])


# --------------------------------------------------------------------------------------------------
# Interoperability with an independent JOSE library (PyJWT, cryptography backend)


def test_our_tokens_verify_with_pyjwt(pki):
    jwt = pytest.importorskip("jwt")
    token = pki.sign(rcd_name="Giao Hàng Nhanh", crn="Giao hàng")
    pub = pki.key.public_key().spki_der()
    pub_pem = serialization.load_der_public_key(pub).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert jwt.get_unverified_header(token) == HEADER
    claims = jwt.decode(token, pub_pem, algorithms=["ES256"], options={"verify_iat": False})
    assert claims == pki.verify(token).claims
    assert claims["rcd"] == {"nam": "Giao Hàng Nhanh"}


def test_pyjwt_tokens_verify_with_ours(pki):
    jwt = pytest.importorskip("jwt")
    priv_pem = pki.key.private_pem()
    claims = {"orig": {"tn": ORIG}, "iat": NOW, "dest": {"tn": DEST}, "attest": "B",
              "origid": "de305d54-75b4-431b-adb2-eb6b9e546014", "rcd": {"nam": "Bưu điện Việt Nam"},
              "crn": "Xác nhận đơn hàng"}
    token = jwt.encode(claims, priv_pem, algorithm="ES256",
                       headers={"typ": "passport", "ppt": "shaken", "x5u": X5U})
    got = pki.verify(token)
    assert got.claims == claims and got.attest == "B" and got.rcd_name == "Bưu điện Việt Nam"
    # ... and an HS256 token made with PyJWT is refused by algorithm, whatever its key
    hs = jwt.encode(claims, "a-shared-secret-that-is-long-enough-for-hs256!", algorithm="HS256",
                    headers={"typ": "passport", "ppt": "shaken", "x5u": X5U})
    with pytest.raises(PassportAlgorithmError):
        pki.verify(hs)


def test_vault_keys_round_trip_through_pem(pki):
    again = SigningKey.from_pem(pem=pki.key.private_pem())
    assert again.public_key().spki_der() == pki.key.public_key().spki_der()
    enc = SigningKey.from_pem(pem=pki.key.private_pem(password=b"pw"), password=b"pw")
    sig = enc.sign(data=b"x")
    assert len(sig) == 64 and pki.key.public_key().verify(data=b"x", signature=sig)
    assert not pki.key.public_key().verify(data=b"y", signature=sig)


# --------------------------------------------------------------------------------------------------
# Conformance vectors (read in place; skipped when the shared folder is absent)

needs_vectors = pytest.mark.skipif(not (STIR / "vectors.json").is_file(), reason="no shared STIR test data")


def _vectors() -> dict[str, dict]:
    return {v["id"]: v for v in json.loads((STIR / "vectors.json").read_text())["vectors"]}


def _token(v: dict) -> str:
    return v.get("token") or v["identity_header"]


def _b64json(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _reissue(pki, cert_bytes: bytes, *, not_before=1_500_000_000, not_after=2_400_000_000):
    """Our own certificate (positive serial, SPC TNAuthList) for a vector certificate's public key."""
    spki = vx.subject_public_key_info(certificate=cert_bytes)
    return _pem(make_cert("reissued", serialization.load_der_public_key(spki), issuer=pki.ca,
                          issuer_key=pki.ca_key, tn=tn_spc(), not_before=not_before, not_after=not_after))


@needs_vectors
@pytest.mark.parametrize("vid", ["lss_ref_passport", "lss_ref_sih"])
def test_vector_libstirshaken_signature_is_valid(vid):
    v = _vectors()[vid]
    assert v["expect"]["signature"] == "valid"
    token, _ = sip.split_identity(_token(v))
    h, p, s = token.split(".")
    key = VerifyingKey.from_spki(der=vx.subject_public_key_info(certificate=(STIR / v["cert"]).read_bytes()))
    sig = base64.urlsafe_b64decode(s + "==")
    assert key.verify(data=f"{h}.{p}".encode(), signature=sig)
    assert not key.verify(data=f"{h}.{p}x".encode(), signature=sig)


@needs_vectors
@pytest.mark.parametrize("vid", ["lss_ref_passport", "lss_ref_sih"])
def test_vector_libstirshaken_serial_zero_certificate_is_a_clear_error(vid):
    v = _vectors()[vid]
    cert = (STIR / v["cert"]).read_bytes()
    assert vx.raw_certificate(certificate=cert).serial == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused by us before cryptography warns or raises
        with pytest.raises(PassportCertificateError, match="serial"):
            pp.verify(_token(v), certificate=cert, now=1603458131, require_tn_match=False)
        with pytest.raises(vx.CertificateLoadError):
            vx.load_certificate(data=cert)


@needs_vectors
@pytest.mark.parametrize("vid", ["lss_ref_passport", "lss_ref_sih"])
def test_vector_libstirshaken_claims_are_nonconformant(pki, vid):
    """Signature valid (same key, in a certificate we can load) but dest/orig are JSON strings."""
    v = _vectors()[vid]
    assert v["id"] != "lss_ref_passport" or v["expect"]["strict_verdict"].startswith("reject (claims)")
    cert = _reissue(pki, (STIR / v["cert"]).read_bytes())
    token = _token(v)
    iat = _b64json(sip.split_identity(token)[0].split(".")[1])["iat"]
    with pytest.raises(PassportClaimsError):
        pp.verify(token, certificate=cert, now=iat, trusted_cas=[_pem(pki.ca)])
    with pytest.raises(PassportClaimsError):  # also with http x5u allowed: dest/orig are strings
        pp.verify(token, certificate=cert, now=iat, allow_http_x5u=True)
    payload_ = _b64json(sip.split_identity(token)[0].split(".")[1])
    assert isinstance(payload_["dest"], str) and isinstance(payload_["orig"], str)
    # and it is years old: not fresh now
    with pytest.raises(PassportStaleError):
        pp.check_fresh(iat, now=int(time.time()))


@needs_vectors
def test_vector_libstirshaken_sih_parameters():
    v = _vectors()["lss_ref_sih"]
    token, params = sip.split_identity(v["identity_header"])
    assert params == {"info": "http://shaken.signalwire.cloud/sp.pem", "alg": "ES256", "ppt": "shaken"}
    assert token == v["identity_header"].split(";")[0]
    # same header and payload as lss_ref_passport, a different (randomised) signature
    ref = _vectors()["lss_ref_passport"]["token"]
    assert token.rsplit(".", 1)[0] == ref.rsplit(".", 1)[0] and token != ref


@needs_vectors
def test_vector_libstirshaken_wrong_certificate(pki):
    vs = _vectors()
    token = vs["lss_ref_passport"]["token"]
    wrong = (STIR / "libstirshaken_wrongsp.pem").read_bytes()
    with pytest.raises(PassportSignatureError):
        pp.verify(token, certificate=wrong, now=1603458131, require_tn_match=False)
    with pytest.raises(PassportChainError):  # not issued by the libstirshaken CA
        pp.verify(token, certificate=wrong, now=1603458131,
                  trusted_cas=[(STIR / "libstirshaken_ca_2020-04.pem").read_bytes()])
    with pytest.raises(vx.TNAuthListError):  # its TNAuthList is the IA5String "n/a"
        vx.load_certificate(data=wrong).tn_auth_list()


@needs_vectors
def test_vector_asterisk_der_signature():
    v = _vectors()["asterisk_der_signature"]
    assert v["expect"]["verdict"] == "reject"
    header_value = v["identity_header"]
    with pytest.raises(PassportFormatError):  # "info=<...>alg=ES256": no ';' before alg
        pp.verify(header_value, certificate=b"unused", now=1620667842)
    token = header_value.split(";")[0]
    h, p, s = token.split(".")
    sig = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    assert len(sig) == 71 and sig[0] == 0x30  # DER SEQUENCE
    assert "dest" not in _b64json(p)
    for candidate in (token, header_value.replace(">alg=", ">;alg=")):
        with pytest.raises(PassportSignatureError, match="64 bytes"):
            pp.verify(candidate, certificate=b"unused", now=1620667842)


@needs_vectors
def test_vector_rfc8225_appendix_a_is_the_serialisation_oracle(pki):
    v = _vectors()["rfc8225_appendix_a"]
    header, body = json.loads(v["header_json"]), json.loads(v["payload_json"])
    oracle = v["token"].rsplit(".", 1)[0]
    assert jose.signing_input(header, body) == oracle
    assert jose.canonical_json(header) == v["header_json"].encode()
    assert jose.canonical_json(body) == v["payload_json"].encode()
    # re-ordered input serialises the same
    assert jose.signing_input(dict(reversed(list(header.items()))), dict(reversed(list(body.items())))) == oracle
    # a base PASSporT (no ppt): signed here over the oracle's signing input, it verifies
    token = oracle + "." + jose.b64url_encode(pki.key.sign(data=oracle.encode()))
    got = pp.verify(token, certificate=_pem(pki.leaf_old), now=1471375418, ppt=None)
    assert got.orig_tn == "12155551212" and got.dest_uris == ("sip:alice@example.com",)
    assert got.attest is None and got.ppt is None
    with pytest.raises(PassportTypeError):  # a SHAKEN verifier wants ppt=shaken
        pp.verify(token, certificate=_pem(pki.leaf_old), now=1471375418)
    with pytest.raises(PassportSignatureError):  # the published signature is not ours
        pp.verify(v["token"], certificate=_pem(pki.leaf_old), now=1471375418, ppt=None)


@needs_vectors
def test_vector_rfc8225_string_iat_is_refused(pki):
    v = _vectors()["rfc8225_s7_1_string_iat"]
    assert isinstance(_b64json(v["payload_b64"])["iat"], str)
    header = jose.b64url_encode(jose.canonical_json({"alg": "ES256", "typ": "passport", "x5u": X5U}))
    data = f"{header}.{v['payload_b64']}"
    token = data + "." + jose.b64url_encode(pki.key.sign(data=data.encode()))
    with pytest.raises(PassportClaimsError, match="iat"):
        pp.verify(token, certificate=_pem(pki.leaf_old), now=1443208345, ppt=None)


@needs_vectors
def test_vector_rfc8588_example(pki):
    v = _vectors()["rfc8588_s6_example"]
    header, body = json.loads(v["header_json"]), json.loads(v["payload_json"])
    data = jose.signing_input(header, body)
    assert data == f"{v['header_b64']}.{v['payload_b64']}"
    token = data + "." + jose.b64url_encode(pki.key.sign(data=data.encode()))
    got = pp.verify(token, certificate=_pem(pki.leaf_old), now=body["iat"])
    assert (got.orig_tn, got.dest_tns, got.attest, got.origid) == (
        "12155550121", ("12155550131",), "A", "123e4567-e89b-12d3-a456-426655440000")
    with pytest.raises(PassportStaleError):
        pp.verify(token, certificate=_pem(pki.leaf_old), now=body["iat"] + 61)
    with pytest.raises(PassportFutureError):
        pp.verify(token, certificate=_pem(pki.leaf_old), now=body["iat"] - 60)
    # our signer reproduces the same signing input from the same values
    ours = pp.sign(key=pki.key, x5u=header["x5u"], orig_tn="12155550121", dest_tns=["12155550131"],
                   iat=body["iat"], attest="A", origid=body["origid"])
    assert ours.rsplit(".", 1)[0] == data


@needs_vectors
def test_vector_rich_call_data_example(pki):
    v = _vectors()["bcid_rcd_delivery_example"]
    body = v["payload"]
    header = jose.canonical_json(HEADER)
    sign_ = lambda b: pki.raw_sign(header, jose.canonical_json(b))
    with pytest.raises(PassportClaimsError, match="origid"):  # as printed, origid is not a UUID
        pp.verify(sign_(body), certificate=_pem(pki.leaf_old), now=body["iat"])
    fixed = dict(body, origid="123e4567-e89b-12d3-a456-426655440000")
    got = pp.verify(sign_(fixed), certificate=_pem(pki.leaf_old), now=body["iat"])
    assert (got.rcd_name, got.crn, got.orig_tn) == ("ACME Delivery Service", "Upcoming Delivery", "12025551000")
    # our signer places rcd.nam and crn the same way
    ours = pp.sign(key=pki.key, x5u=X5U, orig_tn="12025551000", dest_tns=["12025551001"], iat=body["iat"],
                   attest="A", origid=fixed["origid"], rcd_name="ACME Delivery Service", crn="Upcoming Delivery")
    claims = pp.verify(ours, certificate=_pem(pki.leaf_old), now=body["iat"]).claims
    assert claims["rcd"] == {"nam": "ACME Delivery Service"} and claims["crn"] == "Upcoming Delivery"


@needs_vectors
def test_vector_asterisk_tnauthlist_and_chain(pki):
    v = _vectors()["asterisk_tnauthlist"]
    cert_bytes = (STIR / v["cert"]).read_bytes()
    cert = vx.load_certificate(data=cert_bytes)
    assert cert.tn_auth_list_der.hex() == v["expect"]["tnauthlist_der_hex"]
    tn = cert.tn_auth_list()
    assert tn.entries == (vx.TNEntry(kind="spc", value="1"),) and tn.spcs == ("1",) and not tn.has_numbers
    assert vx.raw_certificate(certificate=cert_bytes).extensions[v["expect"]["tnauthlist_oid"]][1] == \
        bytes.fromhex(v["expect"]["tnauthlist_der_hex"])
    not_after = int(dt.datetime.fromisoformat(v["expect"]["notAfter"].replace("Z", "+00:00")).timestamp())
    assert cert.not_after == not_after
    ca = vx.load_certificate(data=(STIR / v["ca"]).read_bytes())  # RSA CA, EC P-256 leaf
    inside = not_after - 30 * DAY
    assert vx.validate_chain(leaf=cert, anchors=[ca], now=inside)[-1].der == ca.der
    with pytest.raises(vx.ChainError):
        vx.validate_chain(leaf=cert, anchors=[vx.load_certificate(data=_pem(pki.ca))], now=inside)
    # a PASSporT checked against this certificate: after notAfter it is refused as expired
    token = pki.sign(iat=not_after + DAY)
    with pytest.raises(PassportCertificateError, match="expired"):
        pp.verify(token, certificate=cert_bytes, now=not_after + DAY)
    with pytest.raises(PassportSignatureError):  # inside its validity: it is not our key
        pp.verify(pki.sign(iat=inside), certificate=cert_bytes, now=inside,
                  trusted_cas=[(STIR / v["ca"]).read_bytes()])


@needs_vectors
def test_vector_libstirshaken_tnauthlist_is_flagged():
    v = _vectors()["libstirshaken_tnauthlist_nonconformant"]
    raw = vx.raw_certificate(certificate=(STIR / v["cert"]).read_bytes())
    assert raw.serial == 0
    crit, value = raw.extensions[vx.TN_AUTH_LIST_OID]
    assert value[0] == 0x16 and value[2:].startswith(b"http://")  # a bare IA5String URL
    with pytest.raises(vx.TNAuthListError):
        vx.parse_tn_auth_list(der=value)


@needs_vectors
def test_every_vector_is_covered():
    covered = {"lss_ref_passport", "lss_ref_sih", "asterisk_der_signature", "rfc8225_appendix_a",
               "rfc8225_s7_1_string_iat", "rfc8588_s6_example", "bcid_rcd_delivery_example",
               "asterisk_tnauthlist", "libstirshaken_tnauthlist_nonconformant"}
    assert set(_vectors()) <= covered, set(_vectors()) - covered
