"""Just-in-time access: courier assignments and reveals through the door."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from postguard.access.door import reveals_for_role, shipment_columns
from postguard.access.models import Assignment, Staff
from postguard.db.base import utcnow
from postguard.errors import FieldError, Forbidden, InvalidInput, NotFound
from postguard.principals import ApiKeyPrincipal, StaffPrincipal
from postguard.shipments.models import Shipment
from postguard.shipments.service import find_shipment, masked_view

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.orgs.service import OrgService

ASSIGNERS = ("hub", "admin")
MAX_WINDOW = timedelta(days=1)


def _iso(value: datetime) -> str:
    return value.isoformat()


class MaskedLines(Protocol):
    """Masked calling (``postguard.callerid.calls.CallService``, a layer above: handed in by the wiring)."""

    def masked_line(self, principal: StaffPrincipal, *, waybill: str, recipient: str | None) -> dict[str, object]: ...


class AccessService:
    def __init__(self, *, db: Database, audit: AuditLog, orgs: OrgService, door: Door, calls: MaskedLines) -> None:
        self.db = db
        self.audit = audit
        self.orgs = orgs
        self.door = door
        self.calls = calls

    def _shipment(self, session: Session, org_id: int, waybill: str) -> Shipment:
        sh = find_shipment(session, org_id, waybill)
        if sh is None:
            raise NotFound(f"No shipment with waybill {waybill[:40]}.", code="no_shipment",
                           params={"waybill": waybill[:40]})
        return sh

    def assign(self, principal: StaffPrincipal | ApiKeyPrincipal, *, waybill: str, courier: str,
               window_start: datetime, window_end: datetime) -> int:
        """Give a parcel to a courier for a delivery window; any earlier assignment ends now.

        Hub staff and administrators assign, and so may an operator's system with an API key holding
        the ``assignments:write`` scope. Refusals are logged."""
        if isinstance(principal, StaffPrincipal) and principal.role not in ASSIGNERS:
            self.orgs.refuse(principal, subject=waybill, reason=f"role {principal.role} may not assign parcels",
                               message="Only hub staff and administrators assign parcels.")
        self.orgs.require(principal, "assignments:write", roles=ASSIGNERS, subject=waybill)
        errors = []
        if not waybill or not waybill.strip():
            errors.append(FieldError("waybill", "required", code="missing"))
        if not courier or not courier.strip():
            errors.append(FieldError("courier", "required", code="missing"))
        if window_start.tzinfo is None:
            errors.append(FieldError("window_start", "needs a time zone offset"))
        if window_end.tzinfo is None:
            errors.append(FieldError("window_end", "needs a time zone offset"))
        if not errors and window_end <= window_start:
            errors.append(FieldError("window_end", "must be after window_start", code="not_after_start"))
        if not errors and window_end - window_start > MAX_WINDOW:
            errors.append(FieldError("window_end", f"the window may last at most {MAX_WINDOW.days} day(s)"))
        if errors:
            raise InvalidInput("The parcel was not assigned.", errors)
        waybill, courier = waybill.strip(), courier.strip().lower()
        with self.db.session() as s:
            sh = self._shipment(s, principal.org_id, waybill)
            target = s.execute(select(Staff).where(Staff.org_id == principal.org_id, Staff.username == courier,
                                                   Staff.role == "courier", Staff.status == "active")).scalar_one_or_none()
            if target is None:
                raise NotFound(f"No active courier {courier}.")
            self.end_assignments(s, shipment_id=sh.id, reason="reassigned")
            a = Assignment(shipment_id=sh.id, courier_id=target.id, window_start=window_start, window_end=window_end)
            s.add(a)
            s.flush()
            assignment_id = a.id
        self.audit.append(actor=principal.actor, action="assign", org_id=principal.org_id, subject=sh.waybill,
                            details={"courier": f"staff:{target.id}"})
        return assignment_id

    @staticmethod
    def end_assignments(session: Session, *, shipment_id: int, reason: str) -> None:
        session.execute(
            update(Assignment).where(Assignment.shipment_id == shipment_id, Assignment.ended_at.is_(None))
            .values(ended_at=utcnow(), ended_reason=reason).execution_options(synchronize_session=False)
        )

    def reveal(self, principal: StaffPrincipal, *, waybill: str, purpose: str, ticket: str | None = None,
               reason: str | None = None, justification: str | None = None) -> dict[str, object]:
        """The personal data the purpose covers (see ``access.door.PURPOSES``), after the door has
        decided and logged."""
        details = {k: v for k, v in {"ticket": ticket, "reason": reason, "justification": justification}.items() if v}
        if not reveals_for_role(principal.role):
            # a role with no reveal purpose at all (an analyst, an auditor…) is refused before any
            # lookup: the same answer whether or not the waybill exists, and logged
            self.audit.append(actor=principal.actor, action="reveal_denied", org_id=principal.org_id,
                                subject=waybill[:40], purpose=purpose[:40],
                                details={"reason": f"role {principal.role} may reveal for no purpose"})
            raise Forbidden("Not allowed: your role may not reveal personal data.")
        with self.db.session() as s:
            sh = self._shipment(s, principal.org_id, waybill)
            # what the purpose covers, as the door's one table says (an unknown purpose: refused there)
            columns = shipment_columns(purpose)
            (values,) = self.door.open_shipments(s, principal=principal, shipments=[sh], columns=columns,
                                                   purpose=purpose, details=details)
            masked_only = purpose == "delivery" and self.orgs.by_id(s, sh.org_id).masked_only
        if masked_only:
            # Masked-only delivery: the courier gets the number masked and the proxy number to call.
            return {"waybill": sh.waybill, **values,
                    **self.calls.masked_line(principal, waybill=sh.waybill, recipient=values.get("recipient_phone"))}
        return {"waybill": sh.waybill, **values}

    # -- what a courier carries ---------------------------------------------------------------
    @staticmethod
    def _delivery_view(sh: Shipment, a: Assignment, now: datetime) -> dict[str, object]:
        in_window = a.window_start <= now <= a.window_end
        return {
            **masked_view(sh),
            "assignment_id": a.id,
            "window_start": _iso(a.window_start),
            "window_end": _iso(a.window_end),
            "window_open": in_window,
            # what the door will decide for a delivery reveal right now (the door still decides)
            "can_reveal": in_window and sh.status == "out_for_delivery" and sh.shredded_at is None,
        }

    def deliveries(self, principal: StaffPrincipal) -> list[dict[str, object]]:
        """The courier's active assignments, masked, in window order."""
        if not isinstance(principal, StaffPrincipal) or principal.role != "courier":
            self.orgs.refuse(principal, reason="only couriers have deliveries", subject="deliveries",
                               message="Only couriers have deliveries.")
        now = utcnow()
        with self.db.read_session() as s:
            rows = s.execute(
                select(Shipment, Assignment).join(Assignment, Assignment.shipment_id == Shipment.id)
                .where(Assignment.courier_id == principal.staff_id, Assignment.ended_at.is_(None),
                       Shipment.org_id == principal.org_id)
                .order_by(Assignment.window_start, Shipment.waybill)
            ).all()
            return [self._delivery_view(sh, a, now) for sh, a in rows]

    def delivery(self, principal: StaffPrincipal, *, waybill: str) -> dict[str, object] | None:
        """One of the courier's active assignments (masked), or None when the parcel is not theirs."""
        now = utcnow()
        with self.db.read_session() as s:
            sh = find_shipment(s, principal.org_id, waybill)
            a = None if sh is None else s.execute(select(Assignment).where(
                Assignment.shipment_id == sh.id, Assignment.courier_id == principal.staff_id,
                Assignment.ended_at.is_(None))).scalar_one_or_none()
            return None if sh is None or a is None else self._delivery_view(sh, a, now)

    def active_assignments(self, principal: StaffPrincipal, *, limit: int = 50) -> list[dict[str, object]]:
        """The organisation's active assignments, newest first (masked), for hub staff and administrators."""
        with self.db.read_session() as s:
            rows = s.execute(
                select(Shipment, Assignment, Staff.username)
                .join(Assignment, Assignment.shipment_id == Shipment.id)
                .join(Staff, Staff.id == Assignment.courier_id)
                .where(Assignment.ended_at.is_(None), Shipment.org_id == principal.org_id)
                .order_by(Assignment.id.desc()).limit(limit)
            ).all()
            now = utcnow()
            return [{**self._delivery_view(sh, a, now), "courier": username} for sh, a, username in rows]

    def couriers(self, principal: StaffPrincipal) -> list[dict[str, str]]:
        """Active couriers of the principal's organisation (username and display name)."""
        with self.db.read_session() as s:
            rows = s.execute(
                select(Staff.username, Staff.display_name)
                .where(Staff.org_id == principal.org_id, Staff.role == "courier", Staff.status == "active")
                .order_by(Staff.username)
            ).all()
        return [{"username": u, "display_name": d} for u, d in rows]
