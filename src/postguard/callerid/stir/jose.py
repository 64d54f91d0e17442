"""JOSE for PASSporTs: base64url, canonical JSON, strict JSON objects, the compact JWS signing input
and the ``x5u`` URL rule.

* base64url (RFC 7515 §2) without padding; decoding is strict: only the URL-safe alphabet, no
  padding, no whitespace, and no second spelling of the same bytes (unused trailing bits set);
* canonical JSON (RFC 8225 §9: RFC 8785 JCS) for signing, and a faster encoder that writes the same
  bytes for the simple objects ``passport.sign`` builds;
* strict JSON objects on the way in: a repeated member name, NaN or Infinity is refused.

Errors are ``PassportFormatError``: this room serves the PASSporT rooms beside it (``sip``,
``passport``, ``fetch``) and nothing else. Pure: no I/O, no cryptography.
"""

from __future__ import annotations

import binascii
import json
import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import rfc8785

from postguard.errors import PassportFormatError

__all__ = [
    "ALG", "b64url_encode", "b64url_decode", "canonical_json", "jcs_simple", "json_string", "json_object",
    "signing_input", "https_url", "MAX_JSON_INT", "TO_URLSAFE",
]

ALG = "ES256"  # the only algorithm STIR/SHAKEN allows (RFC 8588 §3)


TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
# base64url to standard base64, with the characters that are standard-only ('+', '/') and the padding
# turned into '!', which the strict decoder refuses: what decodes is exactly the base64url alphabet.
_FROM_URLSAFE = bytes.maketrans(b"-_+/=", b"+/!!!")
_B64_VALUE = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}
_PADDING = (b"", b"", b"==", b"=")  # by len % 4; a length of 1 mod 4 is never base64 (refused first)
_UNUSED_BITS = (0, 0, 0x0F, 0x03)  # low bits of the last character that carry no data, by len % 4


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return binascii.b2a_base64(data, newline=False).translate(TO_URLSAFE).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str, what: str) -> bytes:
    """The bytes of one base64url segment, strictly; ``PassportFormatError`` naming ``what`` otherwise."""
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
MAX_JSON_INT = 2**53 - 1
json_string = json.encoder.encode_basestring  # the C string encoder behind ensure_ascii=False


def jcs_simple(obj: dict[str, Any]) -> bytes:
    """``canonical_json`` for the header and payload objects ``sign`` builds (see above)."""
    return _JCS_ENCODER.encode(obj).encode("utf-8")

def signing_input(header: dict[str, Any], payload: dict[str, Any]) -> str:
    """``base64url(canonical header) "." base64url(canonical payload)``."""
    return b64url_encode(canonical_json(header)) + "." + b64url_encode(canonical_json(payload))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Strict JSON: a repeated member name or NaN/Infinity is refused. One decoder serves every call.
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]  # the (C) scanner behind ``_DECODER.decode``, without its whitespace handling


def json_object(raw: bytes, what: str) -> dict[str, Any]:
    """``raw`` (UTF-8) as one JSON object, strictly; ``PassportFormatError`` naming ``what`` otherwise."""
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


_SPACE = re.compile(r"\s")


@lru_cache(maxsize=512)
def https_url(url: str, allow_http: bool = False) -> bool:
    """Whether ``url`` may be an ``x5u``: an https URL with a host and no whitespace (RFC 7515 §4.1.5
    asks for integrity-protected retrieval; plain http only with ``allow_http``, for tests and closed
    networks). Pure, and called with the same few URLs over and over: cached."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    schemes = ("https", "http") if allow_http else ("https",)
    return parts.scheme in schemes and bool(parts.hostname) and not _SPACE.search(url)
