"""STIR/SHAKEN PASSporTs: sign and verify signed call intents.

RFC 8225 (PASSporT), RFC 8588 (the ``shaken`` extension), RFC 8224 (SIP Identity header), RFC 8226
(the certificate's TNAuthList) and RFC 9795 (Rich Call Data: ``rcd`` and ``crn``).

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
Nothing here fetches anything unless a caller builds a ``CertificateFetcher`` with a host
allowlist (``POSTGUARD_X5U_ALLOWED_HOSTS``) and uses ``verify_fetched``.
"""

from __future__ import annotations

import binascii
import http.client
import json
import os
import re
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import rfc8785

from postguard.crypto import x509 as _x509
from postguard.crypto.es256 import SIGNATURE_SIZE, SigningKey
from postguard.crypto.x509 import TNAuthList, TNEntry
from postguard.errors import (
    ConfigurationError,
    FieldError,
    InvalidInput,
    PassportAlgorithmError,
    PassportCertificateError,
    PassportChainError,
    PassportClaimsError,
    PassportFetchError,
    PassportFormatError,
    PassportFutureError,
    PassportHostNotAllowed,
    PassportSignatureError,
    PassportStaleError,
    PassportTNError,
    PassportTypeError,
)
from postguard.hosts import host_allowed, normalise_host_pattern

__all__ = [
    "ALG", "TYP", "PPT_SHAKEN", "Passport", "TNAuthList", "TNEntry", "SigningKey", "CertificateFetcher",
    "sign", "verify", "verify_fetched", "identity_header", "split_identity", "canonical_json",
    "signing_input", "canonical_tn", "check_fresh", "b64url_encode", "normalise_host_pattern",
    "host_allowed", "load_trusted_cas",
]

ALG = "ES256"
TYP = "passport"
PPT_SHAKEN = "shaken"
ATTESTATIONS = ("A", "B", "C")
MAX_TOKEN_CHARS = 16 * 1024

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TN_DIGITS = re.compile(r"[0-9]{1,15}")
_VISUAL_SEPARATORS = str.maketrans("", "", "-.() \t")  # RFC 3966 visual-separator, plus whitespace
_PARAM_NAME = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+")
_PARAM_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~:\[\]/-]+")


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


# --------------------------------------------------------------------------------------------------
# Pure helpers


_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
# base64url to standard base64, with the characters that are standard-only ('+', '/') and the padding
# turned into '!', which the strict decoder refuses: what decodes is exactly the base64url alphabet.
_FROM_URLSAFE = bytes.maketrans(b"-_+/=", b"+/!!!")
_B64_VALUE = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}
_PADDING = (b"", None, b"==", b"=")  # by len % 4; a length of 1 mod 4 is never base64
_UNUSED_BITS = (0, 0, 0x0F, 0x03)  # low bits of the last character that carry no data, by len % 4


def b64url_encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=").decode("ascii")


def _b64url_decode(segment: str, what: str) -> bytes:
    rem = len(segment) % 4
    try:
        if rem == 1 or not segment:
            raise ValueError
        # strict: any character outside the alphabet (whitespace, '=', '+', '/') is an error
        data = binascii.a2b_base64(segment.encode("ascii").translate(_FROM_URLSAFE) + _PADDING[rem],
                                   strict_mode=True)
    except (ValueError, TypeError, AttributeError):  # binascii.Error and UnicodeEncodeError are ValueErrors
        raise PassportFormatError(f"The PASSporT {what} is not base64url.") from None
    if _B64_VALUE[segment[-1]] & _UNUSED_BITS[rem]:
        # unused trailing bits set: a second spelling of the same bytes
        raise PassportFormatError(f"The PASSporT {what} is not canonical base64url.")
    return data


def canonical_json(obj: dict[str, Any]) -> bytes:
    """RFC 8225 §9 serialisation: keys sorted lexicographically, no whitespace (RFC 8785 JCS)."""
    return rfc8785.dumps(obj)


# What ``sign`` serialises is only objects with ASCII member names, arrays, strings and integers of
# at most 2^53 - 1. For those, the standard library's C encoder with sorted keys, no whitespace and
# UTF-8 output writes exactly the RFC 8785 bytes: JCS sorts names by UTF-16 code units (the same
# order as code points for ASCII names), escapes only '"', '\\' and U+0000..U+001F (\b \t \n \f \r
# short, the others as lower-case \u00xx) as ``json`` does, and writes integers in decimal. A string
# with a lone surrogate cannot be encoded as UTF-8 and is refused, as RFC 8785 refuses it.
# ``tests/unit/test_passport_fast.py`` checks the equivalence property-wise.
_JCS_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                                allow_nan=False, check_circular=False)
_MAX_JSON_INT = 2**53 - 1
_json_string = json.encoder.encode_basestring  # the C string encoder behind ensure_ascii=False


def _jcs_simple(obj: dict[str, Any]) -> bytes:
    """``canonical_json`` for the header and payload objects ``sign`` builds (see above)."""
    return _JCS_ENCODER.encode(obj).encode("utf-8")


@lru_cache(maxsize=256)
def _header_segment(x5u: str) -> str:
    """base64url of the canonical SHAKEN header for ``x5u``: the same for every call signed with one
    certificate, so worked out once."""
    return b64url_encode(_jcs_simple({"alg": ALG, "ppt": PPT_SHAKEN, "typ": TYP, "x5u": x5u}))


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


def signing_input(header: dict[str, Any], payload: dict[str, Any]) -> str:
    """``base64url(canonical header) "." base64url(canonical payload)``."""
    return b64url_encode(canonical_json(header)) + "." + b64url_encode(canonical_json(payload))


def canonical_tn(value: str) -> str:
    """RFC 8224 §8.3: drop visual separators (``-.()`` and spaces) and a leading ``+``; what remains
    must be 1 to 15 digits. ``ValueError`` otherwise."""
    if type(value) is str and len(value) <= 15 and value.isascii() and value.isdigit():
        return value  # already canonical (isdigit is False for ""; ASCII digits are 0-9 only)
    if not isinstance(value, str):
        raise ValueError("telephone number must be a string")
    s = value.translate(_VISUAL_SEPARATORS)
    if s.startswith("+"):
        s = s[1:]
    if not _TN_DIGITS.fullmatch(s):
        raise ValueError("not a telephone number")
    return s


def check_fresh(iat: int, *, now: int, max_age: int = 60, future_skew: int = 5) -> None:
    """Raise ``PassportStaleError`` when ``iat`` is more than ``max_age`` seconds before ``now`` and
    ``PassportFutureError`` when it is more than ``future_skew`` seconds after it."""
    if iat < now - max_age:
        raise PassportStaleError(f"The PASSporT is older than {max_age} seconds.")
    if iat > now + future_skew:
        raise PassportFutureError("The PASSporT is dated in the future.")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Strict JSON: a repeated member name or NaN/Infinity is refused. One decoder serves every call.
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
_SCAN = _DECODER.scan_once  # the (C) scanner behind ``_DECODER.decode``, without its whitespace handling


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
        if text[:1] == "{":  # the usual case: an object and nothing around it, scanned directly
            obj, end = _SCAN(text, 0)
            if end == len(text):
                return obj
        obj = _DECODER.decode(text)  # surrounding whitespace, or an error to report
    except (ValueError, RecursionError, StopIteration):  # UnicodeDecodeError is a ValueError
        raise PassportFormatError(f"The PASSporT {what} is not a JSON object.") from None
    if not isinstance(obj, dict):
        raise PassportFormatError(f"The PASSporT {what} is not a JSON object.")
    return obj


# --------------------------------------------------------------------------------------------------
# SIP Identity header (RFC 8224 §4.1)


def split_identity(value: str) -> tuple[str, dict[str, str]]:
    """``(compact token, parameters)`` from a bare token or an Identity header value such as
    ``token;info=<https://…>;alg=ES256;ppt=shaken`` (parameters in any order, names lower-cased).

    When parameters are present, ``info`` is required and must be an ``<absolute URI>``.
    """
    if not isinstance(value, str):
        raise PassportFormatError("The PASSporT must be a string.")
    if len(value) > MAX_TOKEN_CHARS:
        raise PassportFormatError("The PASSporT is too long.")
    token, sep, rest = value.partition(";")
    token = token.strip(" \t")
    params: dict[str, str] = {}
    if sep:
        pos, n = 0, len(rest)
        while True:
            while pos < n and rest[pos] in " \t":
                pos += 1
            m = _PARAM_NAME.match(rest, pos)
            if not m:
                raise PassportFormatError("The Identity header has a malformed parameter.")
            name = m.group(0).lower()
            pos = m.end()
            while pos < n and rest[pos] in " \t":
                pos += 1
            val = ""
            if pos < n and rest[pos] == "=":
                pos += 1
                while pos < n and rest[pos] in " \t":
                    pos += 1
                if pos < n and rest[pos] == "<":
                    end = rest.find(">", pos + 1)
                    if end < 0:
                        raise PassportFormatError("The Identity header info URI is not closed with '>'.")
                    val = "<" + rest[pos + 1:end] + ">"
                    pos = end + 1
                else:
                    vm = _PARAM_TOKEN.match(rest, pos)
                    if not vm:
                        raise PassportFormatError("The Identity header has a malformed parameter value.")
                    val = vm.group(0)
                    pos = vm.end()
            if name in params:
                raise PassportFormatError("The Identity header repeats a parameter.")
            params[name] = val
            while pos < n and rest[pos] in " \t":
                pos += 1
            if pos == n:
                break
            if rest[pos] != ";":
                raise PassportFormatError("The Identity header parameters are not separated by ';'.")
            pos += 1
        info = params.get("info")
        if info is None:
            raise PassportFormatError("The Identity header has no info parameter.")
        if not (info.startswith("<") and info.endswith(">")):
            raise PassportFormatError("The Identity header info parameter must be <URI>.")
        uri = info[1:-1]
        if not uri or any(c.isspace() or c in "<>\"" for c in uri) or ":" not in uri:
            raise PassportFormatError("The Identity header info URI is not an absolute URI.")
        params["info"] = uri
    return token, params


def identity_header(token: str, *, info_url: str) -> str:
    """The SIP Identity header value ``token;info=<url>;alg=ES256;ppt=shaken`` (RFC 8224, RFC 8588)."""
    if not isinstance(info_url, str) or not info_url or ":" not in info_url or any(
        c.isspace() or c in "<>\"" for c in info_url
    ):
        raise InvalidInput(detail="The info URL is not an absolute URI.",
                           errors=[FieldError(field="info_url", message="not an absolute URI")])
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise PassportFormatError("The PASSporT is not a compact JWS.")
    header = _json_object(_b64url_decode(parts[0], "header"), "header")
    out = f"{token};info=<{info_url}>;alg={ALG}"
    ppt = header.get("ppt")
    if isinstance(ppt, str) and ppt:
        out += f";ppt={ppt}"
    return out


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
    signature = _b2a_base64(key.sign(data=data), newline=False).translate(_TO_URLSAFE).rstrip(b"=")
    return (data + b"." + signature).decode("ascii")


_b2a_base64 = binascii.b2a_base64


@lru_cache(maxsize=256)
def _shaken_header(x5u: str) -> bytes | None:
    """The header segment for ``x5u`` and the "." after it, when ``x5u`` is an https URL; else ``None``."""
    return (_header_segment(x5u) + ".").encode("ascii") if _https_url(x5u) else None


def _signing_input_fast(key: Any, x5u: Any, orig_tn: Any, dest_tns: Any, iat: Any, attest: Any, origid: Any,
                        rcd_name: Any, crn: Any) -> bytes | None:
    """The signing input for arguments of exactly the expected types that pass every check, else
    ``None`` (nothing raised): then ``_signing_input_checked`` decides. The two give the same bytes
    for any arguments this one accepts (``tests/unit/test_passport_fast.py``)."""
    if (type(key) is not SigningKey or type(x5u) is not str or type(iat) is not int or not 0 <= iat <= _MAX_JSON_INT
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
        crn_member = f'"crn":{_json_string(crn)},'
    else:
        return None
    if rcd_name is None:
        rcd_member = ""
    elif type(rcd_name) is str and rcd_name.strip():
        rcd_member = f',"rcd":{{"nam":{_json_string(rcd_name)}}}'
    else:
        return None
    # The canonical payload: members in RFC 8785 order (attest, crn, dest, iat, orig, origid, rcd).
    payload = (f'{{"attest":"{attest}",{crn_member}"dest":{{"tn":["{dest}"]}},"iat":{iat},'
               f'"orig":{{"tn":"{orig}"}},"origid":"{origid}"{rcd_member}}}')
    try:
        raw = payload.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: RFC 8785 refuses it, the full checks say where
        return None
    return header + _b2a_base64(raw, newline=False).translate(_TO_URLSAFE).rstrip(b"=")


def _signing_input_checked(key: Any, x5u: Any, orig_tn: Any, dest_tns: Any, iat: Any, attest: Any,
                           origid: Any, rcd_name: Any, crn: Any) -> bytes:
    """The signing input after checking every argument; ``InvalidInput`` naming each bad one."""
    errors: list[FieldError] = []
    if not isinstance(key, SigningKey):
        errors.append(FieldError(field="key", message="must be an ES256 SigningKey"))
    if not (isinstance(x5u, str) and _https_url(x5u)):
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
    if type(iat) is not int or not 0 <= iat <= _MAX_JSON_INT:
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
    # the free texts go through the JSON string encoder (``_jcs_simple`` gives the same bytes; a test
    # holds the two together).
    payload = "".join((
        '{"attest":"', attest, '",',
        '' if crn is None else f'"crn":{_json_string(crn)},',
        '"dest":{"tn":["', '","'.join(dest), '"]},"iat":', str(iat), ',"orig":{"tn":"', orig,
        '"},"origid":"', origid, '"',
        '}' if rcd_name is None else f',"rcd":{{"nam":{_json_string(rcd_name)}}}}}',
    ))
    return (_header_segment(x5u) + "." + b64url_encode(payload.encode("utf-8"))).encode("ascii")


# --------------------------------------------------------------------------------------------------
# Verification


# The payload's claims as ``verify`` reports them (the x5u is the header's): orig_tn, dest_tns,
# dest_uris, iat, attest, origid, rcd_name, crn. A plain tuple: built on every verification.
_Claims = tuple[str, tuple[str, ...], tuple[str, ...], int, str | None, str | None, str | None, str | None]


_SPACE = re.compile(r"\s")


@lru_cache(maxsize=512)
def _https_url(url: str, allow_http: bool = False) -> bool:
    # Pure, and called with the same few x5u URLs over and over: cached.
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    schemes = ("https", "http") if allow_http else ("https",)
    return parts.scheme in schemes and bool(parts.hostname) and not _SPACE.search(url)


@lru_cache(maxsize=256)
def _decoded_header(segment: str) -> dict[str, Any]:
    # Every PASSporT a signer makes with one certificate has the same header segment: decoded once.
    # Pure (errors are raised, never cached); the checks on its content run on every call.
    return _json_object(_b64url_decode(segment, "header"), "header")


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
        return _json_object(raw, "payload"), None
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
        token, params = value.strip(" \t"), {}  # a bare token: what split_identity gives for it
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

    payload, claims = _payload(_b64url_decode(parts[1], "payload"))
    signature = _b64url_decode(parts[2], "signature")
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
    if x5u is not None and not (isinstance(x5u, str) and _https_url(x5u, allow_http_x5u)):
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


# --------------------------------------------------------------------------------------------------
# x5u fetching (off unless a caller builds a fetcher)


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        rest = self.end - time.monotonic()
        if rest <= 0:
            raise PassportFetchError("Fetching the certificate took too long.")
        return rest


class CertificateFetcher:
    """Fetch the certificate chain at an ``x5u`` URL.

    * only hosts in ``allowed_hosts`` (see ``normalise_host_pattern``) are fetched from; any other
      host raises ``PassportHostNotAllowed`` before anything is resolved or connected to. An empty
      allowlist, the default, means fetching is off;
    * HTTPS only (plain HTTP only with ``allow_http``, for tests and closed networks), the server
      certificate checked against ``ssl_context`` (default: the system CAs) with host name checking
      on (a context that does not verify is refused);
    * no redirects, no proxy, no credentials in the URL;
    * at most ``max_bytes`` read, at most ``timeout`` seconds from connecting to the last byte;
    * the whole chain cached per URL for ``cache_ttl`` seconds (``max_entries`` URLs at most).

    ``fetch`` returns the DER of each certificate of the PEM bundle, the end-entity first. Whether
    the chain is trusted is ``verify_fetched``'s business: it needs the trusted CAs.
    """

    def __init__(self, *, allowed_hosts: Sequence[str] = (), allow_http: bool = False,
                 max_bytes: int = 64 * 1024, timeout: float = 2.0, cache_ttl: int = 3600,
                 ssl_context: ssl.SSLContext | None = None, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = 1024) -> None:
        if isinstance(allowed_hosts, str):
            raise ConfigurationError("allowed_hosts must be a list of host names, not one string.")
        try:
            self.allowed_hosts = tuple(dict.fromkeys(normalise_host_pattern(h) for h in allowed_hosts))
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"The x5u host allowlist has a bad entry: {exc}.") from None
        if ssl_context is not None and (ssl_context.verify_mode != ssl.CERT_REQUIRED
                                        or not ssl_context.check_hostname):
            raise ConfigurationError("The x5u TLS context must verify certificates and host names.")
        self.allow_http = allow_http
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.cache_ttl = cache_ttl
        self.max_entries = max_entries
        self._ssl_context = ssl_context
        self._clock = clock
        self._cache: dict[str, tuple[float, tuple[bytes, ...]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> CertificateFetcher:
        """A fetcher configured by ``POSTGUARD_X5U_*`` (``settings`` is a ``postguard.settings.Settings``)."""
        options: dict[str, Any] = {
            "allowed_hosts": settings.x5u_allowed_hosts, "max_bytes": settings.x5u_max_bytes,
            "timeout": settings.x5u_timeout_seconds, "cache_ttl": settings.x5u_cache_seconds,
        }
        options.update(overrides)
        return cls(**options)

    def check_url(self, url: str) -> None:
        """Raise unless ``url`` may be fetched: scheme, no credentials, a valid port, an allowed host.
        Pure: nothing is resolved or connected to."""
        if not isinstance(url, str) or not _https_url(url, allow_http=self.allow_http):
            raise PassportFetchError("The certificate URL must be https" +
                                     (" or http." if self.allow_http else "."))
        parts = urlsplit(url)
        if parts.username is not None or parts.password is not None:
            raise PassportFetchError("The certificate URL must not carry credentials.")
        try:
            parts.port  # noqa: B018 - raises for a bad port
        except ValueError:
            raise PassportFetchError("The certificate URL has a bad port.") from None
        if not host_allowed(parts.hostname or "", self.allowed_hosts):
            if not self.allowed_hosts:
                raise PassportHostNotAllowed("Fetching x5u certificates is off: no host is allowed "
                                             "(POSTGUARD_X5U_ALLOWED_HOSTS).")
            raise PassportHostNotAllowed("The certificate URL's host is not in the x5u allowlist.")

    def fetch(self, url: str) -> list[bytes]:
        self.check_url(url)
        with self._lock:
            hit = self._cache.get(url)
            if hit is not None and hit[0] > self._clock():
                return list(hit[1])
        chain = tuple(self._download(url))
        if self.cache_ttl > 0:
            with self._lock:
                now = self._clock()
                for k in [k for k, (exp, _) in self._cache.items() if exp <= now]:
                    del self._cache[k]
                while len(self._cache) >= self.max_entries:
                    del self._cache[next(iter(self._cache))]
                self._cache[url] = (now + self.cache_ttl, chain)
        return list(chain)

    def _download(self, url: str) -> list[bytes]:
        self.check_url(url)  # again: a subclass or a direct call must not skip it
        parts = urlsplit(url)
        port = parts.port
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        deadline = _Deadline(self.timeout)
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            ctx = self._ssl_context or ssl.create_default_context()
            conn = http.client.HTTPSConnection(parts.hostname, port, timeout=deadline.left(), context=ctx)
        else:
            conn = http.client.HTTPConnection(parts.hostname, port, timeout=deadline.left())
        body = bytearray()
        try:
            conn.request("GET", path, headers={
                "Accept": "application/pem-certificate-chain, application/x-pem-file;q=0.9, */*;q=0.1",
                "User-Agent": "postguard-stir", "Connection": "close"})
            sock = conn.sock
            if sock is not None:
                sock.settimeout(deadline.left())
            resp = conn.getresponse()
            if 300 <= resp.status < 400:
                raise PassportFetchError("The certificate URL redirects; redirects are not followed.")
            if resp.status != 200:
                raise PassportFetchError(f"The certificate URL answered HTTP {resp.status}.")
            length = resp.getheader("Content-Length")
            if length is not None and length.strip().isdigit() and int(length) > self.max_bytes:
                raise PassportFetchError("The certificate is larger than allowed.")
            while True:
                if sock is not None:
                    sock.settimeout(deadline.left())
                chunk = resp.read1(min(16384, self.max_bytes + 1 - len(body)))
                if not chunk:
                    break
                body += chunk
                if len(body) > self.max_bytes:
                    raise PassportFetchError("The certificate is larger than allowed.")
                deadline.left()
        except PassportFetchError:
            raise
        except TimeoutError:
            raise PassportFetchError("Fetching the certificate took too long.") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise PassportFetchError(f"The certificate could not be fetched ({type(exc).__name__}).") from None
        finally:
            conn.close()
        try:
            return _x509.split_pem_certificates(data=bytes(body))
        except _x509.X509Error:
            raise PassportFetchError("The certificate URL did not return a PEM certificate chain.") from None


def load_trusted_cas(data: bytes | None, *, configured: bool = True) -> list[bytes]:
    """The DER of each CA certificate of a PEM bundle, for ``verify_fetched``'s ``trusted_cas``.

    ``None`` with ``configured`` (a file was named but is missing) and a bundle holding anything but
    loadable CA certificates raise ``ConfigurationError``: a trust store that silently trusts nothing
    (or the wrong thing) is a deployment error, not a verification result.
    """
    if data is None:
        if configured:
            raise ConfigurationError("The STIR trusted CA file does not exist.")
        return []
    try:
        certs = _x509.load_certificates(data=data)
    except _x509.X509Error as exc:
        raise ConfigurationError(f"The STIR trusted CA file cannot be read: {exc}.") from None
    if not all(c.is_ca for c in certs):
        raise ConfigurationError("The STIR trusted CA file holds a certificate that is not a CA.")
    return [c.der for c in certs]


def _peek_x5u(value: str) -> str:
    token, _ = split_identity(value)
    parts = token.split(".")
    if len(parts) != 3:
        raise PassportFormatError("The PASSporT is not a compact JWS (header.payload.signature).")
    x5u = _json_object(_b64url_decode(parts[0], "header"), "header").get("x5u")
    if not isinstance(x5u, str):
        raise PassportClaimsError("The PASSporT has no x5u.")
    return x5u


def verify_fetched(token: str, *, fetcher: CertificateFetcher, trusted_cas: Sequence[bytes], now: int,
                   **options: Any) -> Passport:
    """Fetch the chain named by the (not yet trusted) ``x5u`` with ``fetcher``, then ``verify`` with
    the first certificate as signer, the rest as intermediates, and ``trusted_cas`` required: a
    certificate anyone can publish is worth nothing without a trusted CA."""
    if not trusted_cas:
        raise PassportChainError("Verifying a fetched certificate needs trusted CAs.")
    chain = fetcher.fetch(_peek_x5u(token))
    options.setdefault("allow_http_x5u", fetcher.allow_http)
    return verify(token, certificate=chain[0], intermediates=chain[1:], trusted_cas=trusted_cas,
                  now=now, **options)
