"""One error hierarchy for the whole product.

Each error carries what both shells need: an HTTP status and problem type for RFC 9457
``application/problem+json`` (the API), and an exit code (the CLI). Messages never contain
personal data: they name the field, the row and the reason, not the value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    """One reason a piece of input was refused: where (row, field) and why."""

    field: str
    message: str
    row: int | None = None
    code: str = "invalid"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "code": self.code, "message": self.message}
        if self.row is not None:
            out["row"] = self.row
        return out


@dataclass
class PostguardError(Exception):
    """Base of every error postguard raises on purpose."""

    detail: str = "An error occurred."
    errors: list[FieldError] = field(default_factory=list)
    # What happened as a stable name and its values (``no_shipment``, ``{"waybill": ...}``), for a page
    # to say it in its own language (the message catalogs' ``err_<code>``); ``detail`` stays English, for
    # programs. Not part of the problem document.
    code: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    exit_code: ClassVar[int] = 1

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    def __str__(self) -> str:
        return self.detail

    @property
    def type_uri(self) -> str:
        return f"https://postguard.example/problems/{self.slug}"

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
        return body


def _kind(slug: str, title: str, status: int, exit_code: int):
    def deco(cls):
        cls.slug, cls.title, cls.status, cls.exit_code = slug, title, status, exit_code
        return cls

    return deco


@_kind("invalid-input", "Invalid input", 422, 2)
class InvalidInput(PostguardError):
    """Input that does not satisfy the rules: ``errors`` says which field (and row) and why."""


@_kind("not-found", "Not found", 404, 3)
class NotFound(PostguardError):
    pass


@_kind("not-acceptable", "Not acceptable", 406, 2)
class NotAcceptable(PostguardError):
    """The client accepts no media type this endpoint can answer with."""


@_kind("conflict", "Conflict", 409, 4)
class Conflict(PostguardError):
    pass


@_kind("unauthenticated", "Authentication required", 401, 5)
class Unauthenticated(PostguardError):
    pass


@_kind("forbidden", "Forbidden", 403, 6)
class Forbidden(PostguardError):
    pass


@_kind("duty-pending", "Confidentiality policy not acknowledged", 403, 6)
class DutyPending(Forbidden):
    """A member of staff has not acknowledged the confidentiality policy in force (or not completed its
    training, or the acknowledgement has expired): personal data stays closed to them until they have."""

    def __init__(self, detail: str, version: str) -> None:
        super().__init__(detail=detail)
        self.version = version


@_kind("rate-limited", "Too many requests", 429, 7)
class RateLimited(PostguardError):
    retry_after: ClassVar[int] = 60


@_kind("payload-too-large", "Payload too large", 413, 2)
class PayloadTooLarge(PostguardError):
    pass


@_kind("unsupported-media-type", "Unsupported media type", 415, 2)
class UnsupportedMediaType(PostguardError):
    """The request body is not of a media type this endpoint reads."""


@_kind("configuration", "Configuration error", 500, 8)
class ConfigurationError(PostguardError):
    pass


@_kind("decryption-failed", "Protected data could not be read", 500, 9)
class DecryptionFailed(PostguardError):
    """The single, opaque error for every ciphertext that cannot be opened.

    It deliberately says nothing about why (wrong key, moved, tampered, shredded): telling them
    apart would help an attacker probe the vault.
    """

    def __init__(self) -> None:
        super().__init__(detail="Protected data could not be read.")


@_kind("shredded", "Personal data destroyed", 410, 10)
class Shredded(PostguardError):
    """The record's personal data was crypto-shredded and can never be read again."""


@_kind("invalid-passport", "Invalid PASSporT", 400, 2)
class PassportError(PostguardError):
    """A STIR/SHAKEN PASSporT (RFC 8224/8225/8588) was refused. Each subclass is one reason."""


class PassportFormatError(PassportError):
    """Not a compact JWS or SIP Identity header value: segments, base64url, JSON or parameters."""


class PassportAlgorithmError(PassportError):
    """The ``alg`` is not ES256 (``none``, RS256, HS256 and a missing ``alg`` are all refused)."""


class PassportTypeError(PassportError):
    """The ``typ`` is not ``passport``, or the ``ppt`` extension is missing, unsupported or mismatched."""


class PassportClaimsError(PassportError):
    """A claim (or the ``x5u`` header) is missing, has the wrong JSON type, or has a bad value."""


class PassportStaleError(PassportError):
    """The ``iat`` is older than the accepted age."""


class PassportFutureError(PassportError):
    """The ``iat`` lies further in the future than the allowed clock skew."""


class PassportSignatureError(PassportError):
    """The signature is not a 64-byte ES256 R||S value, or does not verify with the certificate."""


class PassportCertificateError(PassportError):
    """The signer's certificate cannot be loaded, is not P-256, is outside its validity period, or its
    TNAuthList extension is malformed."""


class PassportChainError(PassportError):
    """The signer's certificate does not chain to a trusted certification authority."""


class PassportTNError(PassportError):
    """The originating number is not covered by the certificate's TNAuthList."""


class PassportFetchError(PassportError):
    """The certificate at ``x5u`` could not be fetched (scheme, redirect, size, time, status, body)."""


class PassportHostNotAllowed(PassportFetchError):
    """The ``x5u`` names a host outside the configured allowlist (``POSTGUARD_X5U_ALLOWED_HOSTS``);
    nothing was resolved or connected to."""


@_kind("audit-unavailable", "Access log unavailable", 503, 11)
class AuditUnavailable(PostguardError):
    """The access log could not record an action, so the action did not happen (fail closed)."""


@_kind("audit-tampered", "Access log does not verify", 409, 12)
class AuditTampered(PostguardError):
    """``audit verify`` found an entry or checkpoint that was edited, deleted, inserted or reordered."""


# The answers of a transparency-log witness (``postguard.audit.witness``; C2SP tlog-witness).


@_kind("witness-bad-request", "Malformed witness request", 400, 2)
class WitnessBadRequest(InvalidInput):
    """An add-checkpoint request that does not follow the protocol, or a checkpoint going back."""


@_kind("witness-bad-proof", "Consistency proof does not verify", 422, 2)
class WitnessBadProof(InvalidInput):
    """The consistency proof does not lead from the witness's last co-signed checkpoint to the new one."""


@_kind("witness-unknown-log", "Unknown log", 404, 3)
class WitnessUnknownLog(NotFound):
    """The checkpoint's origin is not a log this witness follows."""


@_kind("witness-not-signed", "Checkpoint not signed by the log", 403, 6)
class WitnessNotSigned(Forbidden):
    """The checkpoint carries no valid signature by the log's key."""


@dataclass
class WitnessConflict(Conflict):
    """The request's old size is not the witness's, or the log forked at the witness's size (answered
    409 with the witness's size, ``text/x.tlog.size``, so that the log can retry from there)."""

    size: int = 0
    title: ClassVar[str] = "Witness is at another size"
