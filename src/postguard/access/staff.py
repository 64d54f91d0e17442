"""Staff accounts, roles, sign-in with lockout, and browser sessions with CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import case, delete, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from postguard.access.models import PLATFORM_ROLES, ROLES, Staff, WebSession
from postguard.crypto import passwords
from postguard.db.base import UTCDateTime, utcnow
from postguard.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from postguard.orgs.models import Organisation
from postguard.orgs.service import PLATFORM_ORG
from postguard.principals import StaffPrincipal
from postguard.shipments.validation import without_format_chars

if TYPE_CHECKING:
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.orgs.service import OrgService
    from postguard.settings import Settings

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12
LOCK_AFTER = 5  # failed sign-ins in a row
LOCK_FOR = timedelta(minutes=15)
SESSION_FOR = timedelta(hours=12)
_SIGN_IN_FAILED = "Wrong organisation, username or password, or the account is locked."


@dataclass(frozen=True)
class SignedIn:
    token: str
    csrf: str
    principal: StaffPrincipal


@dataclass(frozen=True)
class _Claim:
    """One claimed sign-in attempt: the failure count after it (0 when it locked the account) and the
    password hash to check."""

    failed_logins: int
    password_hash: str


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class StaffService:
    def __init__(self, *, db: Database, settings: Settings, audit: AuditLog, orgs: OrgService) -> None:
        self.db = db
        self.settings = settings
        self.audit = audit
        self.orgs = orgs

    @cached_property
    def _hasher(self) -> passwords.PasswordHasher:
        s = self.settings
        return passwords.hasher(time_cost=s.password_time_cost, memory_kib=s.password_memory_kib)

    def create(self, *, org_code: str, username: str, display_name: str, role: str, password: str,
               actor: str | None = None) -> StaffPrincipal:
        """A new staff account. With ``actor`` (an administrator's action, e.g. the CLI) the creation is
        logged (``staff_created``); seeding and tests pass none."""
        username = username.strip().lower()
        errors = []
        if not _USERNAME.match(username):
            errors.append(FieldError("username", "2-64 lower-case letters, digits, '.', '_' or '-'"))
        if role not in ROLES:
            errors.append(FieldError("role", f"one of {', '.join(ROLES)}"))
        if len(password) < MIN_PASSWORD:
            errors.append(FieldError("password", f"at least {MIN_PASSWORD} characters"))
        if not display_name.strip():
            errors.append(FieldError("display_name", "required"))
        elif without_format_chars(display_name) != display_name:  # shown to citizens (a courier's given name)
            errors.append(FieldError("display_name", "contains invisible or text-direction characters", None,
                                     "encoding"))
        if errors:
            raise InvalidInput("The staff account was not created.", errors)
        if org_code.strip().upper() == PLATFORM_ORG:
            self.orgs.platform_org_id()  # the platform organisation exists from its first use
        elif role in PLATFORM_ROLES:
            raise InvalidInput("The staff account was not created.", [FieldError(
                "role", f"{role} is a role of the platform organisation {PLATFORM_ORG} only")])
        org = self.orgs.get(org_code)
        try:
            with self.db.session() as s:
                row = Staff(org_id=org.id, username=username, display_name=display_name.strip(), role=role,
                            password_hash=self._hasher.hash(password))
                s.add(row)
                s.flush()
                made = StaffPrincipal(row.id, org.id, org.code, username, role)
        except IntegrityError:
            raise Conflict(f"{username} already exists at {org.code}.") from None
        if actor is not None:
            self.audit.append(actor=actor, action="staff_created", org_id=org.id, subject=f"staff:{made.staff_id}",
                                details={"role": role})
        return made

    def set_status(self, *, org_code: str, username: str, status: str, actor: str = "cli") -> None:
        if status not in ("active", "suspended", "offboarded"):
            raise InvalidInput("Unknown status.", [FieldError("status", "active, suspended or offboarded")])
        org = self.orgs.get(org_code)
        with self.db.session() as s:
            row = s.execute(select(Staff).where(Staff.org_id == org.id, Staff.username == username)).scalar_one_or_none()
            if row is None:
                raise NotFound(f"No staff {username} at {org.code}.")
            row.status = status
            if status != "active":  # takes effect at once: every session ends
                s.execute(delete(WebSession).where(WebSession.staff_id == row.id))
            staff_id = row.id
        self.audit.append(actor=actor, action="staff_status", org_id=org.id, subject=f"staff:{staff_id}",
                            details={"status": status})

    def sign_in(self, *, org_code: str, username: str, password: str) -> SignedIn:
        """Check a password; five failures in a row lock the account for 15 minutes. The answer
        never says whether the account exists, and every path costs one password verification.

        A guess is only checked after it has claimed one of the account's ``LOCK_AFTER`` attempts
        with a single conditional ``UPDATE ... RETURNING`` (increment and check in one row-locked
        statement); the claim that uses the last attempt also locks the account. However many guesses
        arrive at once, at most ``LOCK_AFTER`` of them are checked against the password before the
        lock, and the right password is refused after that."""
        now = utcnow()
        with self.db.session() as s:
            row = s.execute(
                select(Staff.id, Staff.org_id, Staff.status, Organisation.code)
                .join(Organisation, Organisation.id == Staff.org_id)
                .where(Organisation.code == org_code.strip().upper(), Staff.username == username.strip().lower())
            ).one_or_none()
        if row is None:
            self._hasher.verify(password, self._dummy)  # same cost as a real check
            raise Unauthenticated(_SIGN_IN_FAILED)
        staff_id, org_id, status, code = row
        claim = self._claim_attempt(staff_id, now) if status == "active" else None
        signed: SignedIn | None = None
        outcome: str | None
        if claim is None:  # inactive or locked: the same password work as any other answer
            self._hasher.verify(password, self._dummy)
            outcome = "inactive" if status != "active" else "locked"
        elif not self._hasher.verify(password, claim.password_hash):
            outcome = "locked_now" if claim.failed_logins == 0 else "wrong_password"
        else:
            signed = self._open_session(staff_id, code, now)
            outcome = None if signed else "inactive"
        # logged after the account row is committed (the log has its own transaction)
        self.audit.append(actor=f"staff:{staff_id}", action="login" if signed else "login_failed",
                            org_id=org_id, details={} if signed else {"outcome": outcome})
        if signed is None:
            raise Unauthenticated(_SIGN_IN_FAILED)
        return signed

    def _claim_attempt(self, staff_id: int, now: datetime) -> _Claim | None:
        """Claim one sign-in attempt, or None when the account is locked or not active. The counter
        is incremented and checked by the statement that returns it; the claim that reaches
        ``LOCK_AFTER`` locks the account and restarts the counter (so it returns 0)."""
        nxt = Staff.failed_logins + 1
        last = nxt >= LOCK_AFTER
        with self.db.session() as s:
            row = s.execute(
                update(Staff)
                .where(Staff.id == staff_id, Staff.status == "active",
                       or_(Staff.locked_until.is_(None), Staff.locked_until <= now))
                .values(failed_logins=case((last, 0), else_=nxt),
                        locked_until=case((last, literal(now + LOCK_FOR, UTCDateTime())),
                                          else_=Staff.locked_until))
                .returning(Staff.failed_logins, Staff.password_hash)
                .execution_options(synchronize_session=False)
            ).one_or_none()
        return None if row is None else _Claim(*row)

    def _open_session(self, staff_id: int, code: str, now: datetime) -> SignedIn | None:
        """After the right password: clear the failures and open a session (None if the account was
        suspended meanwhile)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        with self.db.session() as s:
            staff = s.execute(
                update(Staff).where(Staff.id == staff_id, Staff.status == "active")
                .values(failed_logins=0, locked_until=None)
                .returning(Staff.org_id, Staff.username, Staff.role)
                .execution_options(synchronize_session=False)
            ).one_or_none()
            if staff is None:
                return None
            s.add(WebSession(digest=_digest(token), staff_id=staff_id, csrf=csrf, expires_at=now + SESSION_FOR))
        return SignedIn(token, csrf, StaffPrincipal(staff_id, staff.org_id, code, staff.username, staff.role))

    @cached_property
    def _dummy(self) -> str:
        return self._hasher.hash(secrets.token_urlsafe(16))

    def session(self, token: str) -> tuple[StaffPrincipal, str]:
        """The principal and CSRF token of a live session."""
        with self.db.read_session() as s:
            row = s.execute(
                select(WebSession, Staff, Organisation.code)
                .join(Staff, Staff.id == WebSession.staff_id)
                .join(Organisation, Organisation.id == Staff.org_id)
                .where(WebSession.digest == _digest(token))
            ).one_or_none()
        if row is None or row[0].expires_at <= utcnow() or row[1].status != "active":
            raise Unauthenticated("Please sign in.")
        ws, st, code = row
        return StaffPrincipal(st.id, st.org_id, code, st.username, st.role), ws.csrf

    @staticmethod
    def check_csrf(expected: str, given: str | None) -> None:
        if not given or not hmac.compare_digest(expected, given):
            raise Forbidden("The form expired or did not come from this site; reload and try again.")

    def sign_out(self, token: str) -> None:
        with self.db.session() as s:
            s.execute(delete(WebSession).where(WebSession.digest == _digest(token)))
