"""The courier registry: each courier's phone numbers, verified by a one-time code.

A number is stored as a keyed digest (for the citizen check's one indexed lookup) plus vault
ciphertext (for the courier's own view and for calls, opened through the door) and its last three
digits. A number counts in a check only
once verified, and only while its courier's account is active: suspending or offboarding a courier
(``StaffService.set_status``) takes effect at the next check, because every check reads the status.
One number belongs to at most one courier across every operator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import select

from postguard.access.door import Owned
from postguard.access.models import Staff
from postguard.callerid.keys import phone_field
from postguard.callerid.models import CourierPhone
from postguard.db.base import utcnow
from postguard.errors import Conflict, FieldError, InvalidInput, NotFound
from postguard.phones import national_format
from postguard.principals import StaffPrincipal
from postguard.vault.masking import mask_phone, mask_phone_last3, phone_last3
from postguard.vault.service import SealedValue

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.callerid.keys import CallerIdKeys
    from postguard.callerid.ports import PhoneCodes
    from postguard.db import Database
    from postguard.orgs.service import OrgService
    from postguard.vault.service import Vault

TABLE = "courier_phones"


class CourierRegistry:
    def __init__(self, *, db: Database, vault: Vault, audit: AuditLog, orgs: OrgService, door: Door,
                 otp: PhoneCodes, keys: Callable[[], CallerIdKeys]) -> None:
        """``keys``: the caller-ID secrets, loaded on first use (in a write transaction of their own)."""
        self.db = db
        self.vault = vault
        self.audit = audit
        self.orgs = orgs
        self.door = door
        self.otp = otp
        self._keys = keys

    @property
    def keys(self) -> CallerIdKeys:
        return self._keys()

    def _courier(self, session, org_code: str, username: str) -> Staff:
        org = self.orgs.get(org_code)
        row = session.execute(
            select(Staff).where(Staff.org_id == org.id, Staff.username == username.strip().lower())
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"No staff {username} at {org.code}.")
        if row.role != "courier":
            raise InvalidInput("Only couriers register calling numbers.", [FieldError("username", "not a courier")])
        return row

    @staticmethod
    def _taken(session, digest: bytes, staff_id: int) -> bool:
        return session.execute(
            select(CourierPhone.id).where(CourierPhone.phone_digest == digest, CourierPhone.status == "verified",
                                          CourierPhone.staff_id != staff_id).limit(1)
        ).first() is not None

    def add_phone(self, *, org_code: str, username: str, phone: str, client: str = "cli") -> dict:
        """Register a number (pending) and send it a one-time code; the answer's ``challenge`` (None
        for a number already verified) goes back with the code to ``verify_phone`` before ``expires_at``."""
        e164 = phone_field(phone, "phone", mobile_only=True)
        digest = self.keys.phone_digest(e164)
        with self.db.session() as s:
            staff = self._courier(s, org_code, username)
            if staff.status != "active":
                raise Conflict("The courier's account is not active.")
            if self._taken(s, digest, staff.id):
                raise Conflict("This number is already registered to another courier.")
            row = s.execute(select(CourierPhone).where(CourierPhone.staff_id == staff.id,
                                                       CourierPhone.phone_digest == digest)).scalar_one_or_none()
            if row is None:
                row = CourierPhone(org_id=staff.org_id, staff_id=staff.id, phone_digest=digest,
                                   phone_last3=phone_last3(e164), status="pending",
                                   phone_ct=b"")
                s.add(row)
                s.flush()
                row.phone_ct = self.vault.encrypt(e164.encode(), session=s, org_id=staff.org_id, table=TABLE,
                                                    column="phone", record_id=str(row.id))
            status, org_id, staff_id = row.status, staff.org_id, staff.id
        challenge = expires_at = None
        if status == "pending":
            sent = self.otp.send(purpose="courier_phone", phone=e164, client=client, org_id=org_id)
            challenge, expires_at = sent.challenge, sent.expires_at.isoformat()
        self.audit.append(actor=f"staff:{staff_id}" if client != "cli" else "cli", action="courier_phone_add",
                            org_id=org_id, subject=f"staff:{staff_id}", details={"phone": mask_phone(e164)})
        return {"phone": mask_phone(e164), "status": status, "challenge": challenge, "expires_at": expires_at}

    def verify_phone(self, *, org_code: str, username: str, phone: str, code: str, challenge: str | None,
                     actor: str = "cli") -> dict:
        """Check the one-time code sent by ``add_phone`` with the challenge it returned; the number
        then counts in checks."""
        e164 = phone_field(phone, "phone", mobile_only=True)
        digest = self.keys.phone_digest(e164)
        with self.db.read_session() as s:
            staff = self._courier(s, org_code, username)
            row = s.execute(select(CourierPhone).where(CourierPhone.staff_id == staff.id,
                                                       CourierPhone.phone_digest == digest)).scalar_one_or_none()
            if row is None:
                raise NotFound("This number is not registered for the courier; add it first.")
        if row.status != "verified":
            self.otp.verify(purpose="courier_phone", phone=e164, code=code, challenge=challenge)
            with self.db.session() as s:
                if self._taken(s, digest, staff.id):
                    raise Conflict("This number is already registered to another courier.")
                fresh = s.get(CourierPhone, row.id)
                if fresh is None:  # removed since it was read
                    raise NotFound("This number is not registered for the courier; add it first.")
                fresh.status, fresh.verified_at = "verified", utcnow()
            self.audit.append(actor=actor, action="courier_phone_verified", org_id=staff.org_id,
                                subject=f"staff:{staff.id}", details={"phone": mask_phone(e164)})
        return {"phone": mask_phone(e164), "status": "verified"}

    def list_phones(self, *, org_code: str, username: str | None = None) -> list[dict]:
        """Registered numbers (masked: last three digits) with their courier and status."""
        org = self.orgs.get(org_code)
        q = (select(CourierPhone, Staff.username, Staff.status)
             .join(Staff, Staff.id == CourierPhone.staff_id).where(CourierPhone.org_id == org.id))
        if username:
            q = q.where(Staff.username == username.strip().lower())
        with self.db.read_session() as s:
            rows = s.execute(q.order_by(Staff.username, CourierPhone.id)).all()
        return [{"username": u, "courier_status": st, "phone": mask_phone_last3(cp.phone_last3), "status": cp.status,
                 "verified_at": cp.verified_at.isoformat() if cp.verified_at else None} for cp, u, st in rows]

    def own_phones(self, principal: StaffPrincipal) -> list[dict]:
        """A courier's own numbers in full (their own view), opened through the door (purpose
        ``courier_own_numbers``, logged)."""
        with self.db.read_session() as s:
            rows = s.execute(select(CourierPhone).where(CourierPhone.staff_id == principal.staff_id)
                             .order_by(CourierPhone.id)).scalars().all()
            if not rows:
                return []
            opened = self.door.open(s, principal, "courier_own_numbers", [_sealed(r) for r in rows],
                                      subject=f"staff:{principal.staff_id}")
        return [{"phone": national_format(e164), "e164": e164, "status": r.status}
                for r, e164 in zip(rows, map(opened_text, opened), strict=False)]

    def calling_number(self, session, principal: StaffPrincipal) -> tuple[str, bytes] | None:
        """The courier's first verified number (E.164) and its digest, or None; opened through the door
        (purpose ``call_setup``, logged). ``session`` must hold no write yet (the log appends in its own
        transaction)."""
        r = session.execute(select(CourierPhone).where(CourierPhone.staff_id == principal.staff_id,
                                                       CourierPhone.status == "verified")
                            .order_by(CourierPhone.id).limit(1)).scalar_one_or_none()
        if r is None:
            return None
        (e164,) = self.door.open(session, principal, "call_setup", [_sealed(r)],
                                   subject=f"staff:{principal.staff_id}")
        return opened_text(e164), r.phone_digest


def opened_text(value: str | None) -> str:
    """A stored value the door opened (a number, a token): never absent here."""
    if value is None:
        raise TypeError("expected a stored value from the door")
    return value


def _sealed(r: CourierPhone) -> Owned:
    return Owned(SealedValue(org_id=r.org_id, table=TABLE, column="phone", record_id=str(r.id), blob=r.phone_ct),
                 owner=r.staff_id)
