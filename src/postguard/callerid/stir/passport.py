"""STIR/SHAKEN PASSporTs: the claims, signing and verification.

RFC 8225 (PASSporT), RFC 8588 (the ``shaken`` extension), RFC 8226 (the certificate's TNAuthList) and
RFC 9795 (Rich Call Data: ``rcd`` and ``crn``). The rooms beside this one: ``jose`` (base64url,
canonical JSON, the signing input), ``sip`` (the RFC 8224 Identity header, canonical numbers),
``fetch`` (the x5u certificate fetcher and the trusted CAs), ``verification`` (the terminating-side
verification service).

``sign`` builds a compact JWS: header and payload each serialised as canonical JSON (RFC 8225 §9: keys
sorted, no whitespace — RFC 8785 here), an ES256 signature as 64 raw bytes ``R||S``, all base64url
without padding. ``verify`` is strict and raises exactly one ``PassportError`` subclass per reason, in
this order:

1. ``PassportFormatError``    not a compact JWS / Identity header value; bad base64url or JSON
2. ``PassportAlgorithmError`` ``alg`` is not ES256 (``none``, RS256, HS256, missing)
3. ``PassportTypeError``      ``typ`` is not ``passport``; ``ppt`` missing, unsupported or mismatched
4. ``PassportSignatureError`` the signature is not 64 bytes (a DER ECDSA signature is refused)
5. ``PassportCertificateError`` certificate unreadable, serial not positive, or outside its validity
   period at ``now``
6. ``PassportChainError``     (with ``trusted_cas``) no valid path to a trusted CA
7. ``PassportCertificateError`` the certificate's key is not EC P-256
8. ``PassportSignatureError`` the signature does not verify with the certificate's key
9. ``PassportCertificateError`` the certificate's TNAuthList extension is malformed (RFC 8226 ASN.1)
10. ``PassportClaimsError``   a claim (or ``x5u``) missing, of the wrong JSON type, or a bad value
11. ``PassportStaleError`` / ``PassportFutureError``  ``iat`` outside ``[now - max_age, now + future_skew]``
12. ``PassportTNError``       ``orig.tn`` not covered by the TNAuthList numbers/ranges

Claims are checked only once the signature holds, so an error never reflects unauthenticated content
beyond the header. Telephone numbers are compared in the RFC 8224 §8.3 canonical form.

The cryptography is ``postguard.crypto``'s: this module calls ``crypto.es256`` and ``crypto.x509``.
Nothing here fetches anything: ``fetch.verify_fetched`` does, through an allow-listed
``CertificateFetcher``.
"""

from __future__ import annotations

import binascii
import os
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from postguard.callerid.stir.jose import (
    ALG,
    MAX_JSON_INT,
    TO_URLSAFE,
    b64url_decode,
    b64url_encode,
    https_url,
    jcs_simple,
    json_object,
    json_string,
)
from postguard.callerid.stir.sip import MAX_TOKEN_CHARS, canonical_tn, split_identity
from postguard.crypto import x509 as _x509
from postguard.crypto.es256 import SIGNATURE_SIZE, SigningKey
from postguard.crypto.x509 import TNAuthList
from postguard.errors import (
    FieldError,
    InvalidInput,
    PassportAlgorithmError,
    PassportCertificateError,
    PassportChainError,
    PassportClaimsError,
    PassportFormatError,
    PassportFutureError,
    PassportSignatureError,
    PassportStaleError,
    PassportTNError,
    PassportTypeError,
)

__all__ = ["TYP", "PPT_SHAKEN", "ATTESTATIONS", "Passport", "sign", "verify", "check_fresh", "unverified_x5u"]

TYP = "passport"
PPT_SHAKEN = "shaken"
ATTESTATIONS = ("A", "B", "C")

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class Passport:
    """A verified PASSporT. Telephone numbers are canonical (digits only)."""

    header: dict[str, Any]
    claims: dict[str, Any]
    orig_tn: str
    dest_tns: tuple[str, ...]
    attest: str | None
    origid: str | None
    iat: int
    rcd_name: str | None
    crn: str | None
    x5u: str | None
    ppt: str | None = PPT_SHAKEN
    info: str | None = None  # the Identity header's info URI, when a header value was given
    tn_auth_list: TNAuthList | None = None  # the signer certificate's parsed TNAuthList
    dest_uris: tuple[str, ...] = ()


@lru_cache(maxsize=256)
def _header_segment(x5u: str) -> str:
    """base64url of the canonical SHAKEN header for ``x5u``: the same for every call signed with one
    certificate, so worked out once."""
    return b64url_encode(jcs_simple({"alg": ALG, "ppt": PPT_SHAKEN, "typ": TYP, "x5u": x5u}))


_UUID_VERSION = bytes(b & 0x0F | 0x40 for b in range(256))  # byte 6: version 4
_UUID_VARIANT = bytes(b & 0x3F | 0x80 for b in range(256))  # byte 8: RFC 9562 variant 10xx
_UUID_GROUPS = re.compile(r"(.{8})(.{4})(.{4})(.{4})(.{12})")
_UUID_BATCH = 64
_UUIDS: deque[str] = deque()  # drawn in batches: one urandom call and one hex() per 64 UUIDs
os.register_at_fork(after_in_child=_UUIDS.clear)  # a forked process must not reuse its parent's


def _uuid4() -> str:
    """A random (version 4, RFC 9562) UUID string, as ``str(uuid.uuid4())`` gives: 122 bits from
    ``os.urandom``. ``deque.popleft`` is atomic, so no two callers ever get the same one."""
    while True:
        try:
            return _UUIDS.popleft()
        except IndexError:
            raw = bytearray(os.urandom(16 * _UUID_BATCH))
            raw[6::16] = raw[6::16].translate(_UUID_VERSION)
            raw[8::16] = raw[8::16].translate(_UUID_VARIANT)
            _UUIDS.extend(map("-".join, _UUID_GROUPS.findall(raw.hex())))


def check_fresh(iat: int, *, now: int, max_age: int = 60, future_skew: int = 5) -> None:
    """Raise ``PassportStaleError`` when ``iat`` is more than ``max_age`` seconds before ``now`` and
    ``PassportFutureError`` when it is more than ``future_skew`` seconds after it."""
    if iat < now - max_age:
        raise PassportStaleError(f"The PASSporT is older than {max_age} seconds.")
    if iat > now + future_skew:
        raise PassportFutureError("The PASSporT is dated in the future.")


# --------------------------------------------------------------------------------------------------
# Signing


def sign(*, key: SigningKey, x5u: str, orig_tn: str, dest_tns: Sequence[str], iat: int, attest: str,
         origid: str | None = None, rcd_name: str | None = None, crn: str | None = None) -> str:
    """A compact ``ppt=shaken`` PASSporT signed with ``key`` (ES256).

    Numbers are put in canonical form; ``origid`` defaults to a fresh UUID; ``rcd_name`` becomes
    ``rcd.nam`` and ``crn`` the call reason (RFC 9795). Bad arguments raise ``InvalidInput``.
    """
    data = _signing_input_fast(key, x5u, orig_tn, dest_tns, iat, attest, origid, rcd_name, crn)
    if data is None:  # something unusual or wrong: the full checks, which name every bad field
        data = _signing_input_checked(key, x5u, orig_tn, dest_tns, iat, attest, origid, rcd_name, crn)
    signature = _b2a_base64(key.sign(data=data), newline=False).translate(TO_URLSAFE).rstrip(b"=")
    return (data + b"." + signature).decode("ascii")


_b2a_base64 = binascii.b2a_base64


@lru_cache(maxsize=256)
def _shaken_header(x5u: str) -> bytes | None:
    """The header segment for ``x5u`` and the "." after it, when ``x5u`` is an https URL; else ``None``."""
    return (_header_segment(x5u) + ".").encode("ascii") if https_url(x5u) else None


def _signing_input_fast(key: Any, x5u: Any, orig_tn: Any, dest_tns: Any, iat: Any, attest: Any, origid: Any,
                        rcd_name: Any, crn: Any) -> bytes | None:
    """The signing input for arguments of exactly the expected types that pass every check, else
    ``None`` (nothing raised): then ``_signing_input_checked`` decides. The two give the same bytes
    for any arguments this one accepts (``tests/unit/test_passport_fast.py``)."""
    if (type(key) is not SigningKey or type(x5u) is not str or type(iat) is not int or not 0 <= iat <= MAX_JSON_INT
            or type(attest) is not str or attest not in ATTESTATIONS or type(dest_tns) not in (list, tuple)
            or not dest_tns):
        return None
    header = _shaken_header(x5u)
    if header is None:
        return None
    try:
        orig = canonical_tn(orig_tn)
        dest = '","'.join([canonical_tn(tn) for tn in dest_tns])
    except ValueError:
        return None
    if origid is None:
        origid = _uuid4()
    elif type(origid) is not str or not _UUID.fullmatch(origid):
        return None
    if crn is None:
        crn_member = ""
    elif type(crn) is str and crn.strip():
        crn_member = f'"crn":{json_string(crn)},'
    else:
        return None
    if rcd_name is None:
        rcd_member = ""
    elif type(rcd_name) is str and rcd_name.strip():
        rcd_member = f',"rcd":{{"nam":{json_string(rcd_name)}}}'
    else:
        return None
    # The canonical payload: members in RFC 8785 order (attest, crn, dest, iat, orig, origid, rcd).
    payload = (f'{{"attest":"{attest}",{crn_member}"dest":{{"tn":["{dest}"]}},"iat":{iat},'
               f'"orig":{{"tn":"{orig}"}},"origid":"{origid}"{rcd_member}}}')
    try:
        raw = payload.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: RFC 8785 refuses it, the full checks say where
        return None
    return header + _b2a_base64(raw, newline=False).translate(TO_URLSAFE).rstrip(b"=")


def _signing_input_checked(key: Any, x5u: Any, orig_tn: Any, dest_tns: Any, iat: Any, attest: Any,
                           origid: Any, rcd_name: Any, crn: Any) -> bytes:
    """The signing input after checking every argument; ``InvalidInput`` naming each bad one."""
    errors: list[FieldError] = []
    if not isinstance(key, SigningKey):
        errors.append(FieldError(field="key", message="must be an ES256 SigningKey"))
    if not (isinstance(x5u, str) and https_url(x5u)):
        errors.append(FieldError(field="x5u", message="must be an https URL"))
    try:
        orig = canonical_tn(orig_tn)
    except ValueError:
        errors.append(FieldError(field="orig_tn", message="not a telephone number"))
    dest: list[str] = []
    if not (type(dest_tns) in (list, tuple) or (isinstance(dest_tns, Sequence) and not isinstance(dest_tns, str))
            ) or not dest_tns:
        errors.append(FieldError(field="dest_tns", message="must be a non-empty list of telephone numbers"))
    else:
        for tn in dest_tns:
            try:
                dest.append(canonical_tn(tn))
            except ValueError:
                errors.append(FieldError(field="dest_tns", message="not a telephone number"))
                break
    if type(iat) is not int or not 0 <= iat <= MAX_JSON_INT:
        errors.append(FieldError(field="iat", message="must be a non-negative integer (seconds)"))
    if attest not in ATTESTATIONS:
        errors.append(FieldError(field="attest", message="must be A, B or C"))
    if origid is None:
        origid = _uuid4()
    elif not (isinstance(origid, str) and _UUID.fullmatch(origid)):
        errors.append(FieldError(field="origid", message="must be a UUID"))
    for name, text in (("rcd_name", rcd_name), ("crn", crn)):
        if text is None:
            continue
        if not (isinstance(text, str) and text.strip()):
            errors.append(FieldError(field=name, message="must be a non-empty string"))
        elif not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                errors.append(FieldError(field=name, message="must be valid Unicode text"))
    if errors:
        raise InvalidInput(detail="The PASSporT cannot be signed.", errors=errors)

    # The canonical payload, written directly: members in RFC 8785 order (attest, crn, dest, iat, orig,
    # origid, rcd); the numbers, the attestation and the origid are plain ASCII needing no escapes,
    # the free texts go through the JSON string encoder (``jose.jcs_simple`` gives the same bytes; a test
    # holds the two together).
    payload = "".join((
        '{"attest":"', attest, '",',
        '' if crn is None else f'"crn":{json_string(crn)},',
        '"dest":{"tn":["', '","'.join(dest), '"]},"iat":', str(iat), ',"orig":{"tn":"', orig,
        '"},"origid":"', origid, '"',
        '}' if rcd_name is None else f',"rcd":{{"nam":{json_string(rcd_name)}}}}}',
    ))
    return (_header_segment(x5u) + "." + b64url_encode(payload.encode("utf-8"))).encode("ascii")


# --------------------------------------------------------------------------------------------------
# Verification


# The payload's claims as ``verify`` reports them (the x5u is the header's): orig_tn, dest_tns,
# dest_uris, iat, attest, origid, rcd_name, crn. A plain tuple: built on every verification.
_Claims = tuple[str, tuple[str, ...], tuple[str, ...], int, str | None, str | None, str | None, str | None]


@lru_cache(maxsize=256)
def _decoded_header(segment: str) -> dict[str, Any]:
    # Every PASSporT a signer makes with one certificate has the same header segment: decoded once.
    # Pure (errors are raised, never cached); the checks on its content run on every call.
    return json_object(b64url_decode(segment, "header"), "header")


@lru_cache(maxsize=256)
def _checked_header(segment: str, ppt: str | None) -> dict[str, Any]:
    """The decoded header of a bare token (no Identity header parameters) after the checks ``_parse``
    makes on it, in the same order. Pure, so worked out once per segment and ``ppt``; errors are
    raised, never cached. The dict is shared: callers copy it before handing it out."""
    header = _decoded_header(segment)
    _check_header(header, {}, ppt)
    return header


def _check_header(header: dict[str, Any], params: dict[str, str], ppt: str | None) -> None:
    alg = header.get("alg")
    if alg != ALG:
        raise PassportAlgorithmError("The PASSporT algorithm must be ES256.")
    if "alg" in params and params["alg"] != ALG:
        raise PassportAlgorithmError("The Identity header alg parameter must be ES256.")
    if "crit" in header:
        raise PassportFormatError("The PASSporT header lists critical extensions this verifier lacks.")
    if header.get("typ") != TYP:
        raise PassportTypeError("The PASSporT typ must be 'passport'.")
    header_ppt = header.get("ppt")
    if header_ppt != ppt:
        if ppt is None:
            raise PassportTypeError("A base PASSporT was expected, without a ppt extension.")
        raise PassportTypeError(f"The PASSporT ppt must be '{ppt}'.")
    if "ppt" in params and params["ppt"] != header_ppt:
        raise PassportTypeError("The Identity header ppt parameter does not match the PASSporT.")
    if "info" in params and "x5u" in header and params["info"] != header["x5u"]:
        raise PassportFormatError("The Identity header info URI differs from the PASSporT x5u.")


# The payload exactly as ``sign`` writes it (RFC 8785: members in order, no whitespace, integers in
# plain decimal), with strings that need no escape. Such a text is valid JSON without repeated
# members whose claims all pass ``_payload_claims`` for either ``ppt``; the values are read straight
# from the groups. Any other payload is parsed and checked in full. ``tests/unit/test_passport_fast.py``
# holds the two paths to the same result.
_STR = r'([^"\\\x00-\x1f]*)'  # a JSON string's content when it has no escape: the value itself
_TN = "[0-9]{1,15}"
_CANONICAL_PAYLOAD = re.compile(
    r'\{"attest":"([ABC])",(?:"crn":"' + _STR + r'",)?'
    r'"dest":\{"tn":\["(' + _TN + r'(?:","' + _TN + r')*)"\]\},"iat":(0|[1-9][0-9]{0,15}),'
    r'"orig":\{"tn":"(' + _TN + r')"\},"origid":"(' + _UUID.pattern + r')"'
    r'(?:,"rcd":\{"nam":"' + _STR + r'"\})?\}')


def _payload(raw: bytes) -> tuple[dict[str, Any], _Claims | None]:
    """The decoded payload, and its claims when it has the canonical shape (see above)."""
    try:
        m = _CANONICAL_PAYLOAD.fullmatch(raw.decode("utf-8"))
    except UnicodeDecodeError:
        m = None
    if m is None:
        return json_object(raw, "payload"), None
    attest, crn, dest, iat_text, orig, origid, nam = m.groups()
    tns = dest.split('","')
    iat = int(iat_text)
    if crn is None:
        payload = {"attest": attest, "dest": {"tn": tns}, "iat": iat, "orig": {"tn": orig}, "origid": origid}
    else:
        payload = {"attest": attest, "crn": crn, "dest": {"tn": tns}, "iat": iat, "orig": {"tn": orig},
                   "origid": origid}
    if nam is not None:
        payload["rcd"] = {"nam": nam}
    return payload, (orig, tuple(tns), (), iat, attest, origid, nam, crn)


def _parse(value: str, *, ppt: str | None
           ) -> tuple[dict[str, Any], dict[str, Any], _Claims | None, bytes, bytes, dict[str, str]]:
    """``(header, payload, claims or None, signing input, signature, Identity header parameters)``."""
    if type(value) is str and ";" not in value and len(value) <= MAX_TOKEN_CHARS:
        token, params = value.strip(" \t"), dict[str, str]()  # a bare token: what split_identity gives for it
    else:
        token, params = split_identity(value)
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise PassportFormatError("The PASSporT is not a compact JWS (header.payload.signature).")
    if params:
        header = dict(_decoded_header(parts[0]))  # a copy: the cached one is never handed out
        _check_header(header, params, ppt)
    else:
        header = _checked_header(parts[0], ppt)  # shared: copied into the Passport

    payload, claims = _payload(b64url_decode(parts[1], "payload"))
    signature = b64url_decode(parts[2], "signature")
    if len(signature) != SIGNATURE_SIZE:
        raise PassportSignatureError("The ES256 signature must be 64 bytes (R||S), not DER.")
    return header, payload, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature, params


def _claim_tn(value: Any, where: str) -> str:
    if type(value) is str and len(value) <= 15 and value.isascii() and value.isdigit():
        return value  # canonical_tn's fast path, without the call
    if not isinstance(value, str):
        raise PassportClaimsError(f"The {where} claim must be a string telephone number.")
    try:
        return canonical_tn(value)
    except ValueError:
        raise PassportClaimsError(f"The {where} claim is not a telephone number.") from None


def _str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise PassportClaimsError(f"The {where} claim must be a non-empty array of strings.")
    return value


def _x5u_claim(header: dict[str, Any], shaken: bool, allow_http_x5u: bool) -> str | None:
    x5u = header.get("x5u")
    if x5u is None and shaken:
        raise PassportClaimsError("The SHAKEN PASSporT has no x5u.")
    if x5u is not None and not (isinstance(x5u, str) and https_url(x5u, allow_http_x5u)):
        raise PassportClaimsError("The PASSporT x5u must be an https URL.")
    return x5u


def _payload_claims(payload: dict[str, Any], shaken: bool) -> _Claims:
    orig = payload.get("orig")
    if not isinstance(orig, dict):
        raise PassportClaimsError("The orig claim must be a JSON object.")
    orig_tn = _claim_tn(orig.get("tn"), "orig.tn")

    dest = payload.get("dest")
    if not isinstance(dest, dict):
        raise PassportClaimsError("The dest claim must be a JSON object.")
    dest_tns: tuple[str, ...] = ()
    dest_uris: tuple[str, ...] = ()
    if "tn" in dest:
        tns = dest["tn"]
        try:  # the usual case in one pass; anything wrong is looked at again below for the right error
            dest_tns = tuple([canonical_tn(t) for t in tns]) if type(tns) is list else ()
        except ValueError:
            dest_tns = ()
        if not dest_tns:
            dest_tns = tuple(_claim_tn(t, "dest.tn") for t in _str_list(tns, "dest.tn"))
    if "uri" in dest:
        dest_uris = tuple(_str_list(dest["uri"], "dest.uri"))
    if shaken and not dest_tns:
        raise PassportClaimsError("The SHAKEN dest claim must hold a tn array.")
    if not dest_tns and not dest_uris:
        raise PassportClaimsError("The dest claim names no destination.")

    iat = payload.get("iat")
    if type(iat) is not int:  # a JSON number: not a string, a boolean or a fraction
        raise PassportClaimsError("The iat claim must be a JSON integer (NumericDate).")

    attest = origid = None
    if shaken or "attest" in payload:
        attest = payload.get("attest")
        if attest not in ATTESTATIONS:
            raise PassportClaimsError("The attest claim must be 'A', 'B' or 'C'.")
    if shaken or "origid" in payload:
        origid = payload.get("origid")
        if not (isinstance(origid, str) and _UUID.fullmatch(origid)):
            raise PassportClaimsError("The origid claim must be a UUID string.")

    rcd_name = None
    if "rcd" in payload:
        rcd = payload["rcd"]
        if not isinstance(rcd, dict):
            raise PassportClaimsError("The rcd claim must be a JSON object.")
        for k in ("nam", "apn", "icn", "jcl"):
            if k in rcd and not isinstance(rcd[k], str):
                raise PassportClaimsError(f"The rcd.{k} claim must be a string.")
        if "jcd" in rcd and not isinstance(rcd["jcd"], list):
            raise PassportClaimsError("The rcd.jcd claim must be a jCard array.")
        rcd_name = rcd.get("nam")
    if "rcdi" in payload:
        rcdi = payload["rcdi"]
        if not (isinstance(rcdi, dict) and all(isinstance(v, str) for v in rcdi.values())):
            raise PassportClaimsError("The rcdi claim must be an object of digest strings.")
    crn = payload.get("crn")
    if crn is not None and not isinstance(crn, str):
        raise PassportClaimsError("The crn claim must be a string.")
    return orig_tn, dest_tns, dest_uris, iat, attest, origid, rcd_name, crn


def _load_leaf(certificate: bytes, now: int) -> _x509.Certificate:
    try:
        leaf = _x509.load_certificate(data=certificate)
    except _x509.X509Error as exc:
        raise PassportCertificateError(f"The signer's certificate cannot be used: {exc}.") from None
    if not leaf.valid_at(now):
        raise PassportCertificateError("The signer's certificate is expired or not yet valid.")
    return leaf


def _validate_chain(leaf: _x509.Certificate, intermediates: Sequence[bytes],
                    trusted_cas: Sequence[bytes], now: int) -> None:
    try:
        anchors = [c for blob in trusted_cas for c in _x509.load_certificates(data=blob)]
        inter = [c for blob in intermediates for c in _x509.load_certificates(data=blob)]
    except _x509.X509Error as exc:
        raise PassportChainError(f"A CA or intermediate certificate cannot be loaded: {exc}.") from None
    try:
        _x509.validate_chain(leaf=leaf, intermediates=inter, anchors=anchors, now=now)
    except _x509.ChainError as exc:
        raise PassportChainError(f"The signer's certificate is not trusted: {exc}.") from None


def verify(token: str, *, certificate: bytes, now: int, max_age: int = 60, future_skew: int = 5,
           trusted_cas: Sequence[bytes] | None = None, intermediates: Sequence[bytes] | None = None,
           require_tn_match: bool = True, ppt: str | None = PPT_SHAKEN,
           allow_http_x5u: bool = False) -> Passport:
    """Verify a PASSporT (bare compact JWS or SIP Identity header value) signed by ``certificate``.

    ``certificate`` is the signer's end-entity certificate, PEM or DER. With ``trusted_cas`` (PEM or
    DER, bundles allowed) it must chain to one of them, through ``intermediates`` if needed, every link
    valid at ``now``. ``ppt`` is the extension required (``None`` for a base RFC 8225 PASSporT).
    ``require_tn_match`` demands a TNAuthList in the certificate and, when it lists numbers or ranges,
    that ``orig.tn`` is among them (a list of service provider codes only is accepted).
    Raises one ``PassportError`` subclass per reason; see the module docstring for the order.
    """
    header, payload, claims, signing_input, signature, params = _parse(token, ppt=ppt)
    leaf = _load_leaf(certificate, now)
    if trusted_cas is not None:
        _validate_chain(leaf, intermediates or (), trusted_cas, now)
    try:
        key = leaf.es256_key()
    except _x509.X509Error:
        raise PassportCertificateError("The signer's certificate key is not EC P-256.") from None
    if not key.verify(data=signing_input, signature=signature):
        raise PassportSignatureError("The PASSporT signature does not verify with the certificate.")
    try:
        tn_list = leaf.tn_auth_list()
    except _x509.TNAuthListError as exc:
        raise PassportCertificateError(f"The signer's certificate has a {exc}.") from None

    shaken = ppt == PPT_SHAKEN
    x5u = _x5u_claim(header, shaken, allow_http_x5u)
    orig_tn, dest_tns, dest_uris, iat, attest, origid, rcd_name, crn = (
        claims if claims is not None else _payload_claims(payload, shaken))
    if not now - max_age <= iat <= now + future_skew:
        check_fresh(iat, now=now, max_age=max_age, future_skew=future_skew)  # raises the right error
    if require_tn_match:
        if tn_list is None:
            raise PassportTNError("The signer's certificate has no TNAuthList.")
        if tn_list.has_numbers and not tn_list.covers(orig_tn):
            raise PassportTNError("The calling number is not covered by the signer's certificate.")
    # Passport(...) field by field, without the frozen dataclass's per-field object.__setattr__ calls;
    # a test holds it equal to the constructor's result and checks every field is set.
    result = _new_passport(Passport)
    result.__dict__.update({
        "header": dict(header), "claims": payload, "orig_tn": orig_tn, "dest_tns": dest_tns, "attest": attest,
        "origid": origid, "iat": iat, "rcd_name": rcd_name, "crn": crn, "x5u": x5u, "ppt": header.get("ppt"),
        "info": params.get("info"), "tn_auth_list": tn_list, "dest_uris": dest_uris,
    })
    return result


_new_passport = object.__new__


def unverified_x5u(value: str, *, ppt: str | None = PPT_SHAKEN, allow_http_x5u: bool = False) -> str:
    """The ``x5u`` of a PASSporT (bare token or Identity header value) that passes the checks made
    before any certificate is needed (steps 1 to 4 of the module docstring, then the ``x5u`` header
    parameter itself): where to fetch the signer's certificate from. Nothing is trusted yet; a
    malformed token, a wrong ``alg`` or ``typ`` is refused here, before anything is fetched."""
    header = _parse(value, ppt=ppt)[0]
    x5u = _x5u_claim(header, ppt == PPT_SHAKEN, allow_http_x5u)
    if x5u is None:
        raise PassportClaimsError("The PASSporT has no x5u.")
    return x5u
