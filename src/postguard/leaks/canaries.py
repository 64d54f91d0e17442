"""Canary shipments: synthetic parcels whose recipient phone is a number the operator owns, each
number given to exactly one channel (a courier, a hub, a customer-service agent, an API key, an
export). A canary is an ordinary shipment to everyone who handles it; only the ``canaries`` table
(never shown to staff or in shipment lists) knows which parcels are canaries.

- Revealing a canary through the door raises a ``canary_reveal`` alert (a subscriber of the door's
  ``Revealed`` event: after the reveal is logged, before anything is decrypted).
- A call or message received on a canary number (reported by the telephony system) raises a
  ``canary_contact`` alert naming the channel: the number was only ever given to that channel.

Numbers are stored as a keyed digest (HMAC-SHA-256, a service secret of the vault) for look-ups, and
the pool keeps each number as vault ciphertext so it can be given to a new canary.
"""

from __future__ import annotations

import builtins
import re
import secrets
import string
from datetime import datetime
from typing import TYPE_CHECKING, cast

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postguard.access.models import Staff
from postguard.errors import Conflict, FieldError, InvalidInput, NotFound
from postguard.events import Matched, Revealed
from postguard.leaks.models import Canary, CanaryNumber
from postguard.orgs.models import ApiKey
from postguard.phones import InvalidPhone, normalize_phone, phone_field
from postguard.principals import ApiKeyPrincipal, StaffPrincipal
from postguard.shipments.models import Shipment
from postguard.vault.masking import mask_phone_last3, phone_last3
from postguard.vault.service import SealedValue, versions_sealed_in

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.leaks.alerts import AlertService
    from postguard.orgs.service import OrgService
    from postguard.shipments.service import ShipmentService
    from postguard.vault.service import Vault

CHANNEL_KINDS = ("courier", "hub", "cs", "apikey", "export")
_CHANNEL = re.compile(r"^(courier|hub|cs|apikey|export):(\S(?:[^\x00-\x1f]{0,98}\S)?)$")
CONTACT_KINDS = ("call", "sms")
_POOL_TABLE = "canary_numbers"


def parse_channel(text: str) -> tuple[str, str]:
    """``courier:an`` → ``("courier", "an")``; anything else is refused naming the field."""
    m = _CHANNEL.match((text or "").strip())
    if not m:
        raise InvalidInput("Unknown channel.", [FieldError(
            "channel", "courier:<username>, hub:<name>, cs:<username>, apikey:<prefix> or export:<label>")])
    return m.group(1), m.group(2)


class CanaryService:
    def __init__(self, *, db: Database, vault: Vault, audit: AuditLog, orgs: OrgService, door: Door,
                 shipments: ShipmentService, access_alerts: AlertService) -> None:
        self.db = db
        self.vault = vault
        self.audit = audit
        self.orgs = orgs
        self.door = door
        self.shipments = shipments
        self.access_alerts = access_alerts

    # -- digests ---------------------------------------------------------------------------------
    def _digest(self, session: Session, e164: str) -> bytes:
        return self.vault.keyed_digest(session, purpose="canary-phone")(e164)

    @staticmethod
    def _phone(raw: str, field: str) -> str:
        return phone_field(raw, field)

    # -- the pool --------------------------------------------------------------------------------
    def pool_add(self, principal, phones: list[str]) -> dict:
        """Register numbers the operator owns. Numbers already in the pool are counted, not added."""
        if not phones:
            raise InvalidInput("No numbers given.", [FieldError("phones", "at least one number")])
        numbers = [self._phone(raw, f"phones[{i}]") for i, raw in enumerate(phones)]
        added = present = 0
        with self.db.session() as s:
            known = set(s.execute(select(CanaryNumber.phone_digest).where(
                CanaryNumber.org_id == principal.org_id)).scalars())
            for e164 in dict.fromkeys(numbers):
                d = self._digest(s, e164)
                if d in known:
                    present += 1
                    continue
                ct = self.vault.encrypt(e164.encode("ascii"), session=s, org_id=principal.org_id,
                                          table=_POOL_TABLE, column="phone", record_id=d.hex())
                s.add(CanaryNumber(org_id=principal.org_id, phone_digest=d, phone_ct=ct, last3=phone_last3(e164)))
                known.add(d)
                added += 1
        self.audit.append(actor=principal.actor, action="canary_pool_add", org_id=principal.org_id,
                            details={"added": added, "already_present": present})
        return {"added": added, "already_present": present}

    def pool(self, principal) -> list[dict]:
        with self.db.read_session() as s:
            used = dict(s.execute(select(Canary.phone_digest, Canary.channel).where(
                Canary.org_id == principal.org_id)).all())
            rows = s.execute(select(CanaryNumber).where(CanaryNumber.org_id == principal.org_id)
                             .order_by(CanaryNumber.id)).scalars().all()
        return [{"number": mask_phone_last3(r.last3), "channel": used.get(r.phone_digest)} for r in rows]

    @staticmethod
    def key_versions_in_use(session: Session, *, org_id: int) -> set[int]:
        """Data-key versions the pool's ciphertexts need (a key rotation must not destroy them)."""
        return versions_sealed_in(session, CanaryNumber.phone_ct, CanaryNumber.org_id == org_id)

    # -- canaries --------------------------------------------------------------------------------
    def _check_channel(self, session: Session, org_id: int, kind: str, name: str) -> None:
        if kind in ("courier", "cs"):
            found = session.execute(select(Staff.id).where(
                Staff.org_id == org_id, Staff.username == name, Staff.role == kind)).scalar_one_or_none()
            if found is None:
                raise InvalidInput("Unknown channel.", [FieldError("channel", f"no {kind} staff named {name}")])
        elif kind == "apikey":
            found = session.execute(select(ApiKey.id).where(ApiKey.org_id == org_id, ApiKey.prefix == name)
                                    ).scalar_one_or_none()
            if found is None:
                raise InvalidInput("Unknown channel.", [FieldError("channel", f"no API key with prefix {name}")])

    @staticmethod
    def _waybill_like(session: Session, org_id: int) -> str:
        """A fresh waybill shaped like the operator's latest ones (same letters, same number of digits),
        so a canary does not stand out in a list."""
        sample = session.execute(select(Shipment.waybill).where(Shipment.org_id == org_id)
                                 .order_by(Shipment.id.desc()).limit(1)).scalar_one_or_none() or "PG000000000"
        head = sample.rstrip(string.digits) or "PG"
        width = max(len(sample) - len(head), 6)
        return head + "".join(secrets.choice(string.digits) for _ in range(width))

    def create(self, principal, *, channel: str, phone: str | None = None, waybill: str | None = None) -> dict:
        """A canary shipment for ``channel`` whose recipient phone is a free pool number (``phone``
        picks one). The shipment is created like any other (synthetic name and address)."""
        from postguard.synthetic import Faker

        kind, name = parse_channel(channel)
        channel = f"{kind}:{name}"
        with self.db.session() as s:
            self._check_channel(s, principal.org_id, kind, name)
            taken = set(s.execute(select(Canary.phone_digest).where(Canary.org_id == principal.org_id)).scalars())
            if phone is not None:
                want = self._digest(s, self._phone(phone, "phone"))
                row = s.execute(select(CanaryNumber).where(CanaryNumber.org_id == principal.org_id,
                                                           CanaryNumber.phone_digest == want)).scalar_one_or_none()
                if row is None:
                    raise InvalidInput("That number is not in the canary pool.",
                                       [FieldError("phone", "add it first with `postguard canaries pool add`")])
                if want in taken:
                    raise Conflict("That number already belongs to another canary.")
            else:
                row = next((r for r in s.execute(select(CanaryNumber).where(
                    CanaryNumber.org_id == principal.org_id).order_by(CanaryNumber.id)).scalars()
                    if r.phone_digest not in taken), None)
                if row is None:
                    raise Conflict("The canary pool has no free number; add numbers the operator owns first.")
            digest, number = row.phone_digest, SealedValue(org_id=row.org_id, table=_POOL_TABLE, column="phone",
                                                           record_id=row.phone_digest.hex(), blob=row.phone_ct)
            waybill = waybill or self._waybill_like(s, principal.org_id)
        with self.db.read_session() as s:  # opened through the door (logged), in no write transaction
            (e164,) = self.door.open(s, principal, "canary_issue", [number], subject=f"canary:{channel}"[:80])
        data = Faker(secrets.randbits(64)).shipment_row(waybill)
        data["recipient_phone"] = cast(str, e164)  # a pool number is sealed text
        view = self.shipments.create(principal, data)
        try:
            with self.db.session() as s:
                sid = s.execute(select(Shipment.id).where(Shipment.org_id == principal.org_id,
                                                          Shipment.waybill == view["waybill"])).scalar_one()
                c = Canary(org_id=principal.org_id, phone_digest=digest, channel=channel, shipment_id=sid,
                           created_by=principal.actor)
                s.add(c)
                s.flush()
                canary_id = c.id
        except IntegrityError:  # another canary took the number meanwhile: take the parcel back
            with self.db.session() as s:
                s.execute(delete(Shipment).where(Shipment.org_id == principal.org_id,
                                                 Shipment.waybill == view["waybill"])
                          .execution_options(synchronize_session=False))
            raise Conflict("That number was just given to another canary; try again.") from None
        self.audit.append(actor=principal.actor, action="canary_create", org_id=principal.org_id,
                            subject=f"canary:{canary_id}", details={"channel": channel})
        return {"id": canary_id, "waybill": view["waybill"], "channel": channel, "number": mask_phone_last3(row.last3)}

    def list(self, principal) -> list[dict]:
        with self.db.read_session() as s:
            rows = s.execute(
                select(Canary, Shipment.waybill, Shipment.status, CanaryNumber.last3)
                .join(Shipment, Shipment.id == Canary.shipment_id)
                .join(CanaryNumber, (CanaryNumber.org_id == Canary.org_id)
                      & (CanaryNumber.phone_digest == Canary.phone_digest))
                .where(Canary.org_id == principal.org_id).order_by(Canary.id)
            ).all()
        return [{"id": c.id, "channel": c.channel, "waybill": w, "status": st, "number": mask_phone_last3(l3),
                 "created_at": c.created_at.isoformat()} for c, w, st, l3 in rows]

    # -- detection -------------------------------------------------------------------------------
    def on_revealed(self, event: Revealed) -> builtins.list[int]:  # `list` is a method here
        """Raise a ``canary_reveal`` alert for every canary among the revealed shipments (the reveal is
        already logged; nothing is decrypted yet). Phone searches are left out: their candidates are
        only matched (the hits it shows come as ``Matched``, see ``on_matched``). Returns the alert ids."""
        if event.kind != "shipments" or event.purpose == "phone_search":
            return []
        return self.alert_reveal(event.session, event.principal, org_id=event.org_id, waybills=event.subjects,
                                 purpose=event.purpose)

    def on_matched(self, event: Matched) -> builtins.list[int]:
        """A phone search about to show shipments: a ``canary_reveal`` alert for every canary among
        them (its candidates were only matched, see ``on_revealed``). Returns the alert ids."""
        return self.alert_reveal(event.session, event.principal, org_id=event.org_id, waybills=event.waybills,
                                 purpose=event.purpose)

    def alert_reveal(self, session: Session, principal, *, org_id: int, waybills, purpose: str) -> builtins.list[int]:
        """A ``canary_reveal`` alert for every canary among the shipments ``waybills`` of ``org_id``
        (also what a phone search calls for the hits it shows), found with the revealer's ``session``.
        Returns the alert ids."""
        if not waybills:
            return []
        hits = session.execute(
            select(Canary, Shipment.waybill).join(Shipment, Shipment.id == Canary.shipment_id)
            .where(Shipment.org_id == org_id, Shipment.waybill.in_(list(waybills)))
            .order_by(Canary.id)).all()
        alerts = []
        for c, waybill in hits:
            own = self._is_channel(principal, c.channel)
            reason = (f"Canary parcel {waybill} (given only to {c.channel}) was revealed by {principal.actor} "
                      f"for {purpose}" + (" — its own channel" if own else " — outside its channel") + ".")
            alerts.append(self.access_alerts.raise_alert(
                org_id=c.org_id, kind="canary_reveal", severity="medium" if own else "high", subject=waybill,
                actor=principal.actor, reason=reason, details={"channel": c.channel, "purpose": purpose,
                                                               "canary": c.id}))
        return alerts

    @staticmethod
    def _is_channel(principal, channel: str) -> bool:
        kind, _, name = channel.partition(":")
        match principal:
            case ApiKeyPrincipal(actor=actor):
                return kind == "apikey" and actor == f"apikey:{name}"
            case StaffPrincipal(role=role, username=username):
                return role == kind and username == name
        return False

    def contact(self, principal, *, number: str, caller: str | None, kind: str, at: datetime | None) -> int:
        """A call or SMS received on a canary number → a ``canary_contact`` alert naming the channel.
        Unknown numbers are ``NotFound`` with nothing else said."""
        self.orgs.require(principal, "telephony")
        errors = []
        if kind not in CONTACT_KINDS:
            errors.append(FieldError("kind", "call or sms"))
        try:
            e164 = normalize_phone(number)
        except (InvalidPhone, TypeError):
            errors.append(FieldError("number", "not a phone number", None, "invalid_phone"))
        from_e164 = None
        if caller:
            try:
                from_e164 = normalize_phone(caller)
            except InvalidPhone:
                from_e164 = None  # withheld or foreign formats: kept as unknown, not refused
        if errors:
            raise InvalidInput("The contact report was refused.", errors)
        with self.db.read_session() as s:
            d = self._digest(s, e164)
            row = s.execute(select(Canary, Shipment.waybill).join(Shipment, Shipment.id == Canary.shipment_id)
                            .where(Canary.org_id == principal.org_id, Canary.phone_digest == d)).one_or_none()
            from_digest = self._digest(s, from_e164).hex() if from_e164 else None
        if row is None:
            raise NotFound("Unknown number.")
        c, waybill = row
        noun = "A call" if kind == "call" else "A message"
        reason = (f"{noun} reached the number of canary parcel {waybill}, which was given only to {c.channel}: "
                  f"personal data leaked through that channel.")
        return self.access_alerts.raise_alert(
            org_id=c.org_id, kind="canary_contact", severity="critical", subject=waybill, actor=principal.actor,
            reason=reason,
            details={"channel": c.channel, "canary": c.id, "contact": kind,
                     "at": at.isoformat() if at else None,
                     "from": mask_phone_last3(phone_last3(from_e164)) if from_e164 else None,
                     "from_digest": from_digest},
        )
