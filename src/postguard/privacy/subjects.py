"""Who: the keyed digest that stands for a person, the data-protection officer acting, and the
shipments where a person's phone number is a party (found through the door, so looking is logged)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from postguard.access.models import Staff
from postguard.orgs.models import Organisation
from postguard.phones import phone_field
from postguard.principals import DataSubject, Principal, StaffPrincipal
from postguard.shipments.models import Shipment

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.db import Database
    from postguard.orgs.service import OrgService
    from postguard.vault.service import Vault

PHONES = ("sender_phone", "recipient_phone")
DPO_READERS = ("dpo", "admin")  # administrators may read the lists; only the DPO acts
Matched = tuple[Shipment, tuple[str, ...]]  # a shipment and the sides (sender, recipient) the number is on


class Subjects:
    def __init__(self, *, db: Database, vault: Vault, orgs: OrgService, door: Door) -> None:
        self.db = db
        self.vault = vault
        self.orgs = orgs
        self.door = door

    @staticmethod
    def phone(raw: str) -> str:
        return phone_field(raw, "phone")

    def digest(self, session: Session, e164: str) -> bytes:
        return self.vault.keyed_digest(session, purpose="privacy-subject")(e164)

    def subject_digest(self, e164: str) -> bytes:
        """The keyed digest that stands for the person (in its own transaction: the first call
        creates the key, and nothing may be written before an access-log append on SQLite)."""
        with self.db.session() as s:
            return self.digest(s, e164)

    def subject_actor(self, e164: str) -> str:
        return DataSubject(0, self.subject_digest(self.phone(e164))).actor

    def dpo(self, org_code: str, username: str) -> StaffPrincipal:
        """An active DPO account (the command line acts in a named DPO's name)."""
        org = self.orgs.get(org_code)
        with self.db.read_session() as s:
            st = s.execute(select(Staff).where(Staff.org_id == org.id, Staff.username == username.strip().lower(),
                                               Staff.status == "active")).scalar_one_or_none()
        who: Principal = StaffPrincipal(st.id, org.id, org.code, st.username, st.role) if st is not None else \
            self.orgs.principal(org.code, actor="cli")
        return self.need_dpo(who, message=f"{username} is not an active data-protection officer at {org.code}.")

    def need_dpo(self, principal: Principal, *, read: bool = False, message: str | None = None) -> StaffPrincipal:
        """Only the DPO acts; administrators may also read the lists. Through the one logged check:
        API keys and data subjects are refused too."""
        message = message or "Only the data-protection officer may do this."
        allowed = self.orgs.require(principal, None, roles=DPO_READERS if read else ("dpo",), subject="privacy:dpo",
                                    message=message)
        if isinstance(allowed, StaffPrincipal):  # with no scope, only staff get through
            return allowed
        self.orgs.refuse(principal, reason="for staff only", subject="privacy:dpo", message=message)

    def match(self, session: Session, org: Organisation, principal: Principal, e164: str, purpose: str,
              request: str | None = None) -> list[Matched]:
        """``(shipment, roles)`` for the shipments of ``org`` where ``e164`` is a party: candidates by
        blind index, their phones opened through the door (logged once, naming the request answered),
        filtered here."""
        b = self.vault.blind_indexer(session, org_id=org.id, bits=org.blind_index_bits)(e164)
        candidates = session.execute(
            select(Shipment).where(Shipment.org_id == org.id,
                                   or_(Shipment.recipient_phone_bidx == b, Shipment.sender_phone_bidx == b))
            .order_by(Shipment.waybill)
        ).scalars().all()
        if not candidates:
            return []
        opened = self.door.open_shipments(session, principal=principal, shipments=candidates, columns=PHONES,
                                          purpose=purpose, details={"request": request} if request else None)
        out: list[Matched] = []
        for sh, phones in zip(candidates, opened, strict=True):
            roles = tuple(r for r in ("sender", "recipient") if phones[f"{r}_phone"] == e164)
            if roles:
                out.append((sh, roles))
        return out
