"""The SIP side of STIR: the Identity header (RFC 8224 §4.1) and telephone numbers in canonical form
(RFC 8224 §8.3).

``split_identity`` reads an Identity header value (``token;info=<https://…>;alg=ES256;ppt=shaken``,
or a bare compact token) into the token and its parameters; ``identity_header`` writes one.
``canonical_tn`` is the form in which numbers are compared: digits only, no ``+``. Pure.
"""

from __future__ import annotations

import re

from postguard.callerid.stir.jose import ALG, b64url_decode, json_object
from postguard.errors import FieldError, InvalidInput, PassportFormatError

__all__ = ["MAX_TOKEN_CHARS", "split_identity", "identity_header", "canonical_tn"]

MAX_TOKEN_CHARS = 16 * 1024  # the longest Identity header value (or bare token) read

_TN_DIGITS = re.compile(r"[0-9]{1,15}")
_VISUAL_SEPARATORS = str.maketrans("", "", "-.() \t")  # RFC 3966 visual-separator, plus whitespace
_PARAM_NAME = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+")
_PARAM_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~:\[\]/-]+")


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
    header = json_object(b64url_decode(parts[0], "header"), "header")
    out = f"{token};info=<{info_url}>;alg={ALG}"
    ppt = header.get("ppt")
    if isinstance(ppt, str) and ppt:
        out += f";ppt={ppt}"
    return out
