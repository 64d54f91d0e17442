"""Just-in-time access: courier assignments and reveals through the door."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from postguard.access.door import PURPOSES
from postguard.access.models import Assignment, Staff
from postguard.access.staff import StaffPrincipal
from postguard.db.base import utcnow
from postguard.errors import FieldError, Forbidden, InvalidInput, NotFound
from postguard.shipments.models import Shipment

ASSIGNERS = ("hub", "admin")


class AccessService:
    def __init__(self, platform) -> None:
        self.p = platform

    def _shipment(self, session: Session, org_id: int, waybill: str) -> Shipment:
        sh = session.execute(
            select(Shipment).where(Shipment.org_id == org_id, Shipment.waybill == waybill)
        ).scalar_one_or_none()
        if sh is None:
            raise NotFound(f"No shipment with waybill {waybill}.")
        return sh

    def assign(self, principal: StaffPrincipal, *, waybill: str, courier: str, window_start: datetime,
               window_end: datetime) -> int:
        """Give a parcel to a courier for a delivery window; any earlier assignment ends now."""
        if principal.role not in ASSIGNERS:
            raise Forbidden("Only hub staff and administrators assign parcels.")
        if window_end <= window_start:
            raise InvalidInput("The delivery window is empty.", [FieldError("window_end", "must be after window_start")])
        with self.p.db.session() as s:
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
        self.p.audit.append(actor=principal.actor, action="assign", org_id=principal.org_id, subject=waybill,
                            details={"courier": f"staff:{target.id}"})
        return assignment_id

    @staticmethod
    def end_assignments(session: Session, *, shipment_id: int, reason: str) -> None:
        session.execute(
            update(Assignment).where(Assignment.shipment_id == shipment_id, Assignment.ended_at.is_(None))
            .values(ended_at=utcnow(), ended_reason=reason).execution_options(synchronize_session=False)
        )

    def reveal(self, principal: StaffPrincipal, *, waybill: str, purpose: str, ticket: str | None = None,
               reason: str | None = None, justification: str | None = None) -> dict:
        """The personal data the purpose covers (see ``access.door.PURPOSES``), after the door has
        decided and logged."""
        details = {k: v for k, v in {"ticket": ticket, "reason": reason, "justification": justification}.items() if v}
        with self.p.db.session() as s:
            sh = self._shipment(s, principal.org_id, waybill)
            # what the purpose covers, as the door's one table says (an unknown purpose: refused there)
            columns = tuple(sorted(PURPOSES.get(purpose, ("", frozenset()))[1]))
            (values,) = self.p.door.open_shipments(s, principal=principal, shipments=[sh], columns=columns,
                                                   purpose=purpose, details=details)
        return {"waybill": waybill, **values}
