"""Organisations and their API keys."""

from __future__ import annotations

import builtins
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from postguard.db.base import utcnow
from postguard.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    PostguardError,
    Unauthenticated,
)
from postguard.logging import get_logger
from postguard.orgs.models import ApiKey, Organisation

log = get_logger("postguard.authz")

SCOPES = {
    "shipments:read": "list and get shipments (masked)",
    "shipments:write": "create, import and update shipments",
    "shipments:search": "search shipments by phone (candidates filtered server-side)",
    "labels:print": "print privacy labels",
    "keys:admin": "rotate data keys",
    "intel:read": "read shared scam indicators (TAXII, STIX and MISP exports; TLP:CLEAR and TLP:GREEN)",
    "intel:amber": "also read TLP:AMBER indicators (with intel:read)",
    "screen:transfer": "screen bank transfers for scam risk",
    "warnings:publish": "publish scam warnings (sent to webhook subscribers)",
    "audit:read": "read access-log proofs, alerts and leak triangulations",
    "alerts:ack": "acknowledge alerts",
    "telephony": "report calls and messages received on canary numbers",
    "intel:report": "report scams as an organisation (reports weigh more than the public's)",
    "intel:official": "register the organisation's own official channels (verified by an administrator)",
    "intel:analyst": "moderate: the review queue, confirm, dispute or delist indicators, decide appeals",
    "intel:admin": "platform administrators: verify and revoke official channels of any organisation",
    "assignments:write": "assign parcels to couriers for a delivery window (reveals are for staff only)",
    "calls:route": "route masked calls (telephony systems)",
    "calls:verify": "verify the STIR/SHAKEN Identity header of incoming calls (telephony systems)",
}
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
KEY_PREFIX = "pgk"


@dataclass(frozen=True)
class Principal:
    """Who is acting: an organisation and what it may do. The CLI acts with every scope."""

    org_id: int
    org_code: str
    actor: str
    scopes: frozenset[str] = field(default_factory=lambda: frozenset(SCOPES))

    def can(self, scope: str) -> bool:
        return scope in self.scopes


@dataclass(frozen=True)
class IssuedKey:
    token: str
    prefix: str
    scopes: list[str]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class OrgService:
    def __init__(self, platform) -> None:
        self.p = platform

    def create(self, *, code: str, name: str, hotline: str | None = None) -> Organisation:
        code = code.strip().upper()
        errors = []
        if not _CODE.match(code):
            errors.append(FieldError("code", "2-32 characters: letters, digits, '-' or '_'"))
        if not name.strip() or len(name) > 200:
            errors.append(FieldError("name", "required, at most 200 characters"))
        if errors:
            raise InvalidInput("The organisation could not be created.", errors)
        try:
            with self.p.db.session() as s:
                org = Organisation(code=code, name=name.strip(), hotline=hotline,
                                   blind_index_bits=self.p.settings.blind_index_bits)
                s.add(org)
                s.flush()
                self.p.vault.create_org_keys(s, org_id=org.id)
                return org
        except IntegrityError:
            raise Conflict(f"An organisation with code {code} already exists.") from None

    def get(self, code: str) -> Organisation:
        with self.p.db.read_session() as s:
            org = s.execute(select(Organisation).where(Organisation.code == code.strip().upper())).scalar_one_or_none()
        if org is None:
            raise NotFound(f"No organisation with code {code}.")
        return org

    def list(self) -> list[Organisation]:
        with self.p.db.read_session() as s:
            return list(s.execute(select(Organisation).order_by(Organisation.code)).scalars())

    def principal(self, code: str, *, actor: str) -> Principal:
        org = self.get(code)
        return Principal(org_id=org.id, org_code=org.code, actor=actor)

    # -- authorisation -------------------------------------------------------------------------
    def refuse(self, principal, *, reason: str, subject: str | None = None, message: str | None = None,
               details: dict | None = None) -> NoReturn:
        """Append an ``access_denied`` entry to the access log, then raise ``Forbidden``.

        Every refusal of the platform goes through here (API keys, staff sessions, the public). A
        refusal that cannot be logged still refuses. Callers must not hold an open write transaction
        (on SQLite the append would wait on the database lock)."""
        actor = getattr(principal, "actor", None) or "public"
        try:
            self.p.audit.append(actor=actor, action="access_denied", org_id=getattr(principal, "org_id", None),
                                subject=(subject or "")[:80] or None, details={"reason": reason, **(details or {})})
        except PostguardError:
            log.error("refusal not logged", reason=reason)
        raise Forbidden(message or f"Not allowed: {reason}.")

    def require(self, principal, scope: str | None, *, roles: Iterable[str] = (), subject: str | None = None,
                message: str | None = None):
        """The one authorisation check: an API-key principal needs ``scope`` (``None``: no key may, the
        action is for staff only); a member of staff (a principal with a ``role``) needs one of
        ``roles`` (none: staff are refused). Anything else — including no principal at all, or a data
        subject — is refused. Refusals are logged, then raised as ``Forbidden``. Returns the principal."""
        role, roles = getattr(principal, "role", None), tuple(roles)
        what = f"scope:{scope}" if scope else "roles:" + ",".join(roles)
        if role is not None:
            if role in roles:
                return principal
            self.refuse(principal, reason=f"role {role} may not do this", subject=subject or what,
                        message=message or "Your role does not allow this.")
        can = getattr(principal, "can", None)
        if scope is not None and callable(can) and can(scope):
            return principal
        self.refuse(principal, reason=f"needs the {scope} scope" if scope else "for staff only",
                    subject=subject or what,
                    message=message or (f"This key lacks the {scope} scope." if scope else "Only staff may do this."))

    # -- API keys ----------------------------------------------------------------------------
    def create_api_key(self, *, org_code: str, scopes: builtins.list[str], label: str = "", actor: str = "cli") -> IssuedKey:
        bad = [s for s in scopes if s not in SCOPES]
        if not scopes or bad:
            raise InvalidInput(
                "Unknown or missing scope.",
                [FieldError("scope", f"choose from: {', '.join(sorted(SCOPES))}")],
            )
        org = self.get(org_code)
        prefix = secrets.token_hex(4)
        token = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        with self.p.db.session() as s:
            s.add(ApiKey(org_id=org.id, prefix=prefix, digest=_digest(token),
                         scopes=" ".join(sorted(set(scopes))), label=label))
        self.p.audit.append(actor=actor, action="api_key_create", org_id=org.id, subject=f"apikey:{prefix}",
                            details={"scopes": sorted(set(scopes))})
        return IssuedKey(token=token, prefix=prefix, scopes=sorted(set(scopes)))

    def api_key_prefixes(self, code: str, *, label: str) -> builtins.list[str]:
        """The prefixes of the organisation's unrevoked API keys labelled ``label``."""
        org = self.get(code)
        with self.p.db.session() as s:
            return list(s.execute(select(ApiKey.prefix).where(
                ApiKey.org_id == org.id, ApiKey.label == label, ApiKey.revoked_at.is_(None))).scalars())

    def revoke_api_key(self, *, prefix: str, actor: str = "cli") -> None:
        with self.p.db.session() as s:
            key = s.execute(select(ApiKey).where(ApiKey.prefix == prefix)).scalar_one_or_none()
            if key is None:
                raise NotFound(f"No API key with prefix {prefix}.")
            key.revoked_at = utcnow()
            org_id = key.org_id
        self.p.audit.append(actor=actor, action="api_key_revoke", org_id=org_id, subject=f"apikey:{prefix}")

    def rotate_data_key(self, code: str, *, actor: str = "cli") -> int:
        """Make a new data-key version active (existing record keys are re-wrapped separately)."""
        org = self.get(code)
        with self.p.db.session() as s:
            version = self.p.vault.rotate(s, org_id=org.id)
        self.p.audit.append(actor=actor, action="key_rotate", org_id=org.id, details={"version": version})
        return version

    def authenticate(self, token: str) -> Principal:
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            raise Unauthenticated("Malformed API key.")
        with self.p.db.read_session() as s:
            row = s.execute(
                select(ApiKey, Organisation.code)
                .join(Organisation, Organisation.id == ApiKey.org_id)
                .where(ApiKey.prefix == parts[1])
            ).one_or_none()
        if row is None or row[0].revoked_at is not None or not hmac.compare_digest(row[0].digest, _digest(token)):
            raise Unauthenticated("Invalid or revoked API key.")
        key, code = row
        return Principal(org_id=key.org_id, org_code=code, actor=f"apikey:{key.prefix}",
                         scopes=frozenset(key.scopes.split()))
