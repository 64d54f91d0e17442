"""Organisations and their API keys."""

from __future__ import annotations

import builtins
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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
from postguard.phones import InvalidPhone, org_number
from postguard.principals import SCOPES, ApiKeyPrincipal, DataSubject, ProvenCitizen, StaffPrincipal, SystemActor

if TYPE_CHECKING:
    from postguard.db import Database
    from postguard.settings import Settings

# The API-key principal under its former name (the shells' annotations).
Principal = ApiKeyPrincipal

log = get_logger("postguard.authz")

PLATFORM_ORG = "PG-INTEL"  # the platform's own organisation: its staff (analysts) and its vault keys
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
KEY_PREFIX = "pgk"


@dataclass(frozen=True)
class IssuedKey:
    token: str
    prefix: str
    scopes: list[str]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class AccessLog(Protocol):
    """What organisations need of the access log (``postguard.audit.log.AuditLog``, a peer)."""

    def append(self, *, actor: str, action: str, org_id: int | None = None, subject: str | None = None,
               purpose: str | None = None, details: dict[str, Any] | None = None) -> int: ...


class OrgKeys(Protocol):
    """What organisations need of the vault (``postguard.vault.service.Vault``, a peer): their keys."""

    def create_org_keys(self, session: Session, *, org_id: int) -> None: ...

    def rotate(self, session: Session, *, org_id: int) -> int: ...


class OrgService:
    def __init__(self, *, db: Database, settings: Settings, vault: OrgKeys, audit: AccessLog) -> None:
        self.db = db
        self.settings = settings
        self.vault = vault
        self.audit = audit
        self._platform_org_id: int | None = None

    def create(self, *, code: str, name: str, hotline: str | None = None) -> Organisation:
        code = code.strip().upper()
        errors = []
        if not _CODE.match(code):
            errors.append(FieldError("code", "2-32 characters: letters, digits, '-' or '_'"))
        if not name.strip() or len(name) > 200:
            errors.append(FieldError("name", "required, at most 200 characters"))
        hotline = (hotline or "").strip() or None
        if hotline is not None:  # kept as written ("1900 54 54 81"), once it reads as a number
            try:
                org_number(hotline)
            except InvalidPhone as e:
                errors.append(FieldError("hotline", f"{e} (a 1800/1900 hotline, a landline or a mobile)",
                                         code="invalid_phone"))
            if len(hotline) > 32:
                errors.append(FieldError("hotline", "at most 32 characters", code="too_long"))
        if errors:
            raise InvalidInput("The organisation could not be created.", errors)
        try:
            with self.db.session() as s:
                org = Organisation(code=code, name=name.strip(), hotline=hotline,
                                   blind_index_bits=self.settings.blind_index_bits)
                s.add(org)
                s.flush()
                self.vault.create_org_keys(s, org_id=org.id)
                return org
        except IntegrityError:
            raise Conflict(f"An organisation with code {code} already exists.") from None

    @staticmethod
    def by_id(session: Session, org_id: int) -> Organisation:
        """The organisation ``org_id``, in ``session``; NotFound when it was deleted since the caller read
        its id."""
        org = session.get(Organisation, org_id)
        if org is None:
            raise NotFound("No such organisation.")
        return org

    def get(self, code: str) -> Organisation:
        with self.db.read_session() as s:
            org = s.execute(select(Organisation).where(Organisation.code == code.strip().upper())).scalar_one_or_none()
        if org is None:
            raise NotFound(f"No organisation with code {code}.")
        return org

    def list(self) -> list[Organisation]:
        with self.db.read_session() as s:
            return list(s.execute(select(Organisation).order_by(Organisation.code)).scalars())

    def principal(self, code: str, *, actor: str) -> ApiKeyPrincipal:
        org = self.get(code)
        return ApiKeyPrincipal(org_id=org.id, org_code=org.code, actor=actor)

    def platform_org_id(self) -> int:
        """The platform's own organisation (``PLATFORM_ORG``): its staff are the platform's analysts and
        administrators, and its vault keys protect intelligence data. Created on first use."""
        if self._platform_org_id is None:
            try:
                org = self.get(PLATFORM_ORG)
            except NotFound:
                try:
                    org = self.create(code=PLATFORM_ORG, name="Nền tảng postguard (khoá tra cứu lừa đảo)")
                except Conflict:
                    org = self.get(PLATFORM_ORG)
            self._platform_org_id = org.id
        return self._platform_org_id

    def platform_principal(self, *, actor: str = "cli") -> ApiKeyPrincipal:
        """The command line acting as the platform organisation, with every scope."""
        return ApiKeyPrincipal(org_id=self.platform_org_id(), org_code=PLATFORM_ORG, actor=actor,
                               scopes=frozenset(SCOPES))

    # -- authorisation -------------------------------------------------------------------------
    def refuse(self, principal, *, reason: str, subject: str | None = None, message: str | None = None,
               details: dict | None = None) -> NoReturn:
        """Append an ``access_denied`` entry to the access log, then raise ``Forbidden``.

        Every refusal of the platform goes through here (API keys, staff sessions, the public). A
        refusal that cannot be logged still refuses. Callers must not hold an open write transaction
        (on SQLite the append would wait on the database lock)."""
        org_id: int | None
        match principal:
            case ApiKeyPrincipal() | StaffPrincipal() | DataSubject() | ProvenCitizen() | SystemActor():
                actor, org_id = principal.actor, principal.org_id
            case _:
                actor, org_id = "public", None
        try:
            self.audit.append(actor=actor, action="access_denied", org_id=org_id,
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
        roles = tuple(roles)
        what = f"scope:{scope}" if scope else "roles:" + ",".join(roles)
        match principal:
            case StaffPrincipal(role=role) if role in roles:
                return principal
            case StaffPrincipal(role=role):
                self.refuse(principal, reason=f"role {role} may not do this", subject=subject or what,
                            message=message or "Your role does not allow this.")
            case ApiKeyPrincipal() if scope is not None and principal.can(scope):
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
        with self.db.session() as s:
            s.add(ApiKey(org_id=org.id, prefix=prefix, digest=_digest(token),
                         scopes=" ".join(sorted(set(scopes))), label=label))
        self.audit.append(actor=actor, action="api_key_create", org_id=org.id, subject=f"apikey:{prefix}",
                            details={"scopes": sorted(set(scopes))})
        return IssuedKey(token=token, prefix=prefix, scopes=sorted(set(scopes)))

    def api_key_prefixes(self, code: str, *, label: str) -> builtins.list[str]:
        """The prefixes of the organisation's unrevoked API keys labelled ``label``."""
        org = self.get(code)
        with self.db.session() as s:
            return list(s.execute(select(ApiKey.prefix).where(
                ApiKey.org_id == org.id, ApiKey.label == label, ApiKey.revoked_at.is_(None))).scalars())

    def revoke_api_key(self, *, prefix: str, actor: str = "cli") -> None:
        with self.db.session() as s:
            key = s.execute(select(ApiKey).where(ApiKey.prefix == prefix)).scalar_one_or_none()
            if key is None:
                raise NotFound(f"No API key with prefix {prefix}.")
            key.revoked_at = utcnow()
            org_id = key.org_id
        self.audit.append(actor=actor, action="api_key_revoke", org_id=org_id, subject=f"apikey:{prefix}")

    def rotate_data_key(self, code: str, *, actor: str = "cli") -> int:
        """Make a new data-key version active (existing record keys are re-wrapped separately)."""
        org = self.get(code)
        with self.db.session() as s:
            version = self.vault.rotate(s, org_id=org.id)
        self.audit.append(actor=actor, action="key_rotate", org_id=org.id, details={"version": version})
        return version

    def authenticate(self, token: str) -> ApiKeyPrincipal:
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            raise Unauthenticated("Malformed API key.")
        with self.db.read_session() as s:
            row = s.execute(
                select(ApiKey, Organisation.code)
                .join(Organisation, Organisation.id == ApiKey.org_id)
                .where(ApiKey.prefix == parts[1])
            ).one_or_none()
        if row is None or row[0].revoked_at is not None or not hmac.compare_digest(row[0].digest, _digest(token)):
            raise Unauthenticated("Invalid or revoked API key.")
        key, code = row
        return ApiKeyPrincipal(org_id=key.org_id, org_code=code, actor=f"apikey:{key.prefix}",
                         scopes=frozenset(key.scopes.split()))
