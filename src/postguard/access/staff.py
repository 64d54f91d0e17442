"""Staff accounts, roles, sign-in with lockout, and browser sessions with CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from postguard.access.models import PLATFORM_ROLES, ROLES, Staff, WebSession
from postguard.db.base import utcnow
from postguard.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from postguard.orgs.models import Organisation

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12
LOCK_AFTER = 5  # failed sign-ins in a row
LOCK_FOR = timedelta(minutes=15)
SESSION_FOR = timedelta(hours=12)


@dataclass(frozen=True)
class StaffPrincipal:
    staff_id: int
    org_id: int
    org_code: str
    username: str
    role: str

    @property
    def actor(self) -> str:
        return f"staff:{self.staff_id}"


@dataclass(frozen=True)
class SignedIn:
    token: str
    csrf: str
    principal: StaffPrincipal


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class StaffService:
    def __init__(self, platform) -> None:
        self.p = platform

    @cached_property
    def _hasher(self) -> PasswordHash:
        s = self.p.settings
        return PasswordHash((Argon2Hasher(time_cost=s.password_time_cost, memory_cost=s.password_memory_kib),))

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
        if errors:
            raise InvalidInput("The staff account was not created.", errors)
        from postguard.intel.service import KEY_ORG

        if org_code.strip().upper() == KEY_ORG:
            self.p.intel.key_org_id()  # the platform organisation exists from its first use
        elif role in PLATFORM_ROLES:
            raise InvalidInput("The staff account was not created.", [FieldError(
                "role", f"{role} is a role of the platform organisation {KEY_ORG} only")])
        org = self.p.orgs.get(org_code)
        try:
            with self.p.db.session() as s:
                row = Staff(org_id=org.id, username=username, display_name=display_name.strip(), role=role,
                            password_hash=self._hasher.hash(password))
                s.add(row)
                s.flush()
                made = StaffPrincipal(row.id, org.id, org.code, username, role)
        except IntegrityError:
            raise Conflict(f"{username} already exists at {org.code}.") from None
        if actor is not None:
            self.p.audit.append(actor=actor, action="staff_created", org_id=org.id, subject=f"staff:{made.staff_id}",
                                details={"role": role})
        return made

    def set_status(self, *, org_code: str, username: str, status: str, actor: str = "cli") -> None:
        if status not in ("active", "suspended", "offboarded"):
            raise InvalidInput("Unknown status.", [FieldError("status", "active, suspended or offboarded")])
        org = self.p.orgs.get(org_code)
        with self.p.db.session() as s:
            row = s.execute(select(Staff).where(Staff.org_id == org.id, Staff.username == username)).scalar_one_or_none()
            if row is None:
                raise NotFound(f"No staff {username} at {org.code}.")
            row.status = status
            if status != "active":  # takes effect at once: every session ends
                s.execute(delete(WebSession).where(WebSession.staff_id == row.id))
            staff_id = row.id
        self.p.audit.append(actor=actor, action="staff_status", org_id=org.id, subject=f"staff:{staff_id}",
                            details={"status": status})

    def sign_in(self, *, org_code: str, username: str, password: str) -> SignedIn:
        """Check a password; five failures in a row lock the account for 15 minutes. The answer
        never says whether the account exists."""
        now = utcnow()
        signed: SignedIn | None = None
        who = outcome = None
        with self.p.db.session() as s:
            row = s.execute(
                select(Staff, Organisation.code).join(Organisation, Organisation.id == Staff.org_id)
                .where(Organisation.code == org_code.strip().upper(), Staff.username == username.strip().lower())
            ).one_or_none()
            if row is None:
                self._hasher.verify(password, self._dummy)  # same cost as a real check
            else:
                staff, code = row
                who = staff
                if staff.status != "active":
                    outcome = "inactive"
                elif staff.locked_until and staff.locked_until > now:
                    outcome = "locked"
                elif not self._hasher.verify(password, staff.password_hash):
                    staff.failed_logins += 1
                    outcome = "wrong_password"
                    if staff.failed_logins >= LOCK_AFTER:
                        staff.locked_until, staff.failed_logins, outcome = now + LOCK_FOR, 0, "locked_now"
                else:
                    staff.failed_logins, staff.locked_until = 0, None
                    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
                    s.add(WebSession(digest=_digest(token), staff_id=staff.id, csrf=csrf,
                                     expires_at=now + SESSION_FOR))
                    signed = SignedIn(token, csrf,
                                      StaffPrincipal(staff.id, staff.org_id, code, staff.username, staff.role))
        if who is not None:  # logged after the account row is committed (the log has its own transaction)
            self.p.audit.append(actor=f"staff:{who.id}", action="login" if signed else "login_failed",
                                org_id=who.org_id, details={} if signed else {"outcome": outcome})
        if signed is None:
            raise Unauthenticated("Wrong organisation, username or password, or the account is locked.")
        return signed

    @cached_property
    def _dummy(self) -> str:
        return self._hasher.hash(secrets.token_urlsafe(16))

    def session(self, token: str) -> tuple[StaffPrincipal, str]:
        """The principal and CSRF token of a live session."""
        with self.p.db.read_session() as s:
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
        with self.p.db.session() as s:
            s.execute(delete(WebSession).where(WebSession.digest == _digest(token)))
