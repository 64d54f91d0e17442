"""The terminating side of STIR/SHAKEN: is a call's Identity header good for the call's numbers?

A telephony system (an operator's or a telco's SIP server) hands over the SIP ``Identity`` header value
it received, the call's From and To numbers and, optionally, when the INVITE arrived. It gets back the
verification status it forwards in the ``verstat`` parameter (ATIS-1000074 §5.3.1, 3GPP TS 24.229):

* ``TN-Validation-Passed``: the PASSporT verifies, with its attestation (A, B or C) and ``origid``;
* ``TN-Validation-Failed``: with the RFC 8224 §6.2.2 response a verifier gives, ``code`` and ``text``:
  403 Stale Date, 436 Bad Identity Info, 437 Unsupported Credential or 438 Invalid Identity Header
  (``SIP_CODES`` maps each ``PassportError`` onto one), and the reason in words;
* ``No-TN-Validation``: no Identity header (428 Use Identity Header, for a server whose policy is to
  demand one).

What is trusted: the signer's certificate comes only from the PASSporT's ``x5u`` through the
platform's ``CertificateFetcher`` (allow-listed hosts, HTTPS, no redirects, a size and a time budget,
a bounded cache keyed by URL) and must chain to the configured STI certification authorities
(``POSTGUARD_STIR_TRUSTED_CA_FILE``). The PASSporT's ``orig`` must be the From number and every To
number must be among its ``dest`` numbers, compared in the RFC 8224 §8.3 canonical form (a Vietnamese
national number such as ``0912 345 678`` is read as ``84912345678`` first).

A failed verification whose From is a registered courier's number (or a proxy number of masked
calling) is answered with ``spoofed_courier: true`` when the failure shows that the header does not
vouch for that number: a signature that does not verify, numbers that do not match the call, a number
the signer's certificate does not cover, a stale or malformed PASSporT. A certificate that could not
be fetched (436) or is not trusted or not usable (``PassportChainError``, ``PassportCertificateError``:
437, as for the masked-call service's own self-signed certificates) says nothing about who called and
is not flagged.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol
from datetime import datetime
from urllib.parse import urlsplit

from postguard.callerid.stir.fetch import verify_fetched
from postguard.callerid.stir.passport import Passport
from postguard.callerid.stir.sip import MAX_TOKEN_CHARS, canonical_tn
from postguard.errors import (
    FieldError,
    InvalidInput,
    PassportCertificateError,
    PassportChainError,
    PassportClaimsError,
    PassportError,
    PassportFetchError,
    PassportFutureError,
    PassportStaleError,
    PassportTNError,
)
from postguard.logging import get_logger
from postguard.phones import InvalidPhone, normalize_phone
from postguard.vault.masking import mask_phone

if TYPE_CHECKING:
    from postguard.callerid.check import Caller
    from postguard.callerid.stir.fetch import CertificateFetcher

__all__ = ["PASSED", "FAILED", "NO_VALIDATION", "REASONS", "SIP_CODES", "sip_code", "VerificationService"]

log = get_logger("postguard.callerid")

PASSED = "TN-Validation-Passed"
FAILED = "TN-Validation-Failed"
NO_VALIDATION = "No-TN-Validation"

# RFC 8224 §6.2.2 (and §6.2.1 for 403): the responses of a verifier, by code.
REASONS = {
    403: "Stale Date",
    428: "Use Identity Header",
    436: "Bad Identity Info",
    437: "Unsupported Credential",
    438: "Invalid Identity Header",
}
# Each PassportError, by kind, onto one response; anything else (format, alg, typ/ppt, signature,
# claims, numbers that do not match the call) is 438.
SIP_CODES: tuple[tuple[tuple[type[PassportError], ...], int], ...] = (
    ((PassportFetchError,), 436),  # the x5u cannot be dereferenced: host not allowed, redirect, time, size...
    ((PassportStaleError, PassportFutureError), 403),  # iat outside the freshness window
    ((PassportCertificateError, PassportChainError, PassportTNError), 437),  # credential not usable or trusted
)

# Failures that say nothing about who called: the certificate could not be had, or not trusted.
NOT_SPOOFING = (PassportFetchError, PassportChainError, PassportCertificateError)

MAX_NUMBER_CHARS = 40  # one From or To number, as written
MAX_DEST = 10  # To numbers in one request
FRESH_SECONDS = 60  # RFC 8224 §6.2.1: iat at most this old when the INVITE arrived
FUTURE_SKEW = 5
RECEIVED_PAST = 600  # received_at at most ten minutes ago...
RECEIVED_FUTURE = 60  # ...and at most a minute ahead of this server's clock


def sip_code(error: PassportError) -> int:
    """The RFC 8224 §6.2.2 response code for a verification failure."""
    for kinds, code in SIP_CODES:
        if isinstance(error, kinds):
            return code
    return 438


def tn_key(value: str) -> str:
    """The form numbers are compared in: RFC 8224 §8.3 canonical (digits, no ``+``). A number dialled
    from Viet Nam (a leading 0: the trunk prefix, or 00 for abroad) is first read as Viet Nam reads it,
    so ``0912 345 678`` and ``0084 912 345 678`` are both ``84912345678``. ``ValueError``."""
    digits = canonical_tn(value)
    if digits.startswith("0"):
        try:
            return normalize_phone(value)[1:]
        except InvalidPhone:
            raise ValueError("not a telephone number") from None
    return digits


def _instant(value: datetime | int | str | None, now: int) -> tuple[int | None, str | None]:
    """``(Unix seconds, None)`` or ``(None, what is wrong)`` for ``received_at``."""
    if value is None:
        return now, None
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 12:
            value = int(text)
        else:
            try:
                value = datetime.fromisoformat(text) if len(text) <= 40 else None
            except ValueError:
                value = None
            if value is None:
                return None, "must be an ISO 8601 date-time with an offset, or Unix seconds"
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return None, "must carry a time zone offset (e.g. 2026-03-01T08:30:00+07:00)"
        value = int(value.timestamp())
    if type(value) is not int:
        return None, "must be an ISO 8601 date-time with an offset, or Unix seconds"
    if not now - RECEIVED_PAST <= value <= now + RECEIVED_FUTURE:
        return None, f"must lie within the last {RECEIVED_PAST // 60} minutes (and not ahead of now)"
    return value, None


def _checked(identity, orig, dest, received_at, now: int) -> tuple[str, tuple[str, ...], int]:
    """The request's fields checked together: ``InvalidInput`` naming each bad one."""
    errors: list[FieldError] = []
    if identity is not None:
        if not isinstance(identity, str):
            errors.append(FieldError("identity", "must be the Identity header value as text"))
        elif len(identity) > MAX_TOKEN_CHARS:
            errors.append(FieldError("identity", f"at most {MAX_TOKEN_CHARS} characters", code="too_long"))
    orig_key = ""
    if not isinstance(orig, str) or not orig.strip():
        errors.append(FieldError("from", "required: the call's From number", code="required"))
    elif len(orig) > MAX_NUMBER_CHARS:
        errors.append(FieldError("from", f"at most {MAX_NUMBER_CHARS} characters", code="too_long"))
    else:
        try:
            orig_key = tn_key(orig)
        except ValueError:
            errors.append(FieldError("from", "not a telephone number", code="invalid_phone"))
    numbers = [dest] if isinstance(dest, str) else dest
    dest_keys: list[str] = []
    if not isinstance(numbers, Sequence) or isinstance(numbers, bytes) or not numbers:
        errors.append(FieldError("to", "required: the call's To number (or a list of them)", code="required"))
    elif len(numbers) > MAX_DEST:
        errors.append(FieldError("to", f"at most {MAX_DEST} numbers", code="too_many"))
    else:
        for i, n in enumerate(numbers):
            where = "to" if isinstance(dest, str) else f"to.{i}"
            if not isinstance(n, str) or len(n) > MAX_NUMBER_CHARS:
                errors.append(FieldError(where, f"a number of at most {MAX_NUMBER_CHARS} characters"))
                continue
            try:
                dest_keys.append(tn_key(n))
            except ValueError:
                errors.append(FieldError(where, "not a telephone number", code="invalid_phone"))
    at, problem = _instant(received_at, now)
    if problem:
        errors.append(FieldError("received_at", problem))
    if errors or at is None:  # at is None exactly when received_at was refused
        raise InvalidInput("The verification request is not valid.", errors)
    return orig_key, tuple(dest_keys), at


def _match(passport: Passport, orig_key: str, dest_keys: tuple[str, ...]) -> None:
    """The PASSporT is for this call: its orig is the From number, every To number is a dest."""
    try:
        signed_orig = tn_key(passport.orig_tn)
        signed_dest = {tn_key(tn) for tn in passport.dest_tns}
    except ValueError:
        raise PassportClaimsError("The PASSporT's numbers cannot be compared with the call's.") from None
    if signed_orig != orig_key:
        raise PassportClaimsError("The PASSporT's orig is not the call's From number.")
    if not set(dest_keys) <= signed_dest:
        raise PassportClaimsError("The call's To number is not among the PASSporT's dest numbers.")


class Callers(Protocol):
    """The courier registry's row for a calling number, or None (``postguard.callerid.check.CallCheck``)."""

    def lookup(self, e164: str) -> Caller | None: ...


class VerificationService:
    """``Platform.stir``: verification for telephony systems (``POST /v1/callerid/verify``,
    ``postguard calls verify``)."""

    def __init__(self, *, fetcher: CertificateFetcher, trusted_cas: Sequence[bytes], callers: Callers) -> None:
        """``fetcher`` fetches the certificate chains PASSporTs name (``x5u``); ``trusted_cas``: the CAs
        a chain must end at; ``callers``: the courier registry's look-up (``postguard.callerid.check``)."""
        self.fetcher = fetcher
        self.trusted_cas = trusted_cas
        self.callers = callers

    def verify(self, *, identity: str | None, orig: str, dest: str | Sequence[str],
               received_at: datetime | int | str | None = None, actor: str = "cli") -> dict:
        """The ``verstat`` for a call: see the module docstring. ``identity`` is the Identity header
        value (None: the INVITE had none); ``orig``/``dest`` the From and To numbers; ``received_at``
        when the INVITE arrived (default: now), at most ten minutes ago. Bad input raises
        ``InvalidInput`` naming each field; a PASSporT that does not verify is an answer, not an error."""
        orig_key, dest_keys, at = _checked(identity, orig, dest, received_at, int(time.time()))
        answer: dict[str, Any]
        if identity is None:
            answer = {"verstat": NO_VALIDATION, "reason": _reason(428, "The call carries no Identity header.")}
        else:
            try:
                passport = verify_fetched(identity, fetcher=self.fetcher, trusted_cas=self.trusted_cas,
                                          now=at, max_age=FRESH_SECONDS, future_skew=FUTURE_SKEW)
                _match(passport, orig_key, dest_keys)
            except PassportError as e:
                code = sip_code(e)
                answer = {"verstat": FAILED, "reason": _reason(code, e.detail)}
                if not isinstance(e, NOT_SPOOFING) and self._courier_number(orig):
                    answer["spoofed_courier"] = True
            else:
                answer = {"verstat": PASSED, "attest": passport.attest, "origid": passport.origid,
                          "iat": passport.iat, "x5u": passport.x5u, "rcd_name": passport.rcd_name,
                          "crn": passport.crn}
        reason = answer.get("reason")
        log.info("identity verified", verstat=answer["verstat"], sip_code=reason["code"] if reason else None,
                 by=actor, orig=mask_phone(orig_key), x5u_host=_host(answer.get("x5u")),
                 spoofed_courier=answer.get("spoofed_courier", False))
        return answer

    def _courier_number(self, orig: str) -> bool:
        """Whether ``orig`` is an active courier's verified number or an active proxy number."""
        try:
            e164 = normalize_phone(orig)
        except InvalidPhone:
            return False
        row = self.callers.lookup(e164)
        return row is not None and row.status == "active"


def _reason(code: int, detail: str) -> dict:
    return {"code": code, "text": REASONS[code], "detail": detail}


def _host(url: str | None) -> str | None:
    """The host of a verified x5u, for the log."""
    try:
        return urlsplit(url).hostname if url else None
    except ValueError:
        return None
