"""Breach incidents and their 72-hour notification clock (the data-protection officer records and
notifies; administrators read the list)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from postguard.db.base import utcnow
from postguard.errors import Conflict, FieldError, InvalidInput, NotFound
from postguard.principals import Principal
from postguard.privacy import deadlines
from postguard.privacy.formats import iso, new_ref
from postguard.privacy.models import BreachIncident

if TYPE_CHECKING:
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.privacy.subjects import Subjects

INCIDENT_STATUSES = ("open", "notified")
MAX_DESCRIPTION = 2000


class Incidents:
    def __init__(self, *, db: Database, audit: AuditLog, subjects: Subjects) -> None:
        self.db = db
        self.audit = audit
        self.subjects = subjects

    def view(self, i: BreachIncident, now: datetime) -> dict[str, Any]:
        due = deadlines.breach_notify_due(i.detected_at)
        c = deadlines.clock(due, i.notified_at, now)
        return {"ref": i.ref, "status": i.status, "detected_at": iso(i.detected_at),
                "recorded_at": iso(i.recorded_at), "description": i.description,
                "affected_estimate": i.affected_estimate, "notify_due": iso(due), "notified_at": iso(i.notified_at),
                "clock": c, "overdue": c in ("overdue", "late"),
                "hours_left": round((due - now).total_seconds() / 3600, 1) if i.notified_at is None else None}

    def create_incident(self, principal: Principal, *, detected_at: datetime | str, description: str,
                        affected_estimate: int | str, now: datetime | None = None) -> dict[str, Any]:
        self.subjects.need_dpo(principal)
        now = now or utcnow()
        errors: list[FieldError] = []
        when: datetime | None = None
        if isinstance(detected_at, str):
            try:
                when = datetime.fromisoformat(detected_at.strip())
            except ValueError:
                errors.append(FieldError("detected_at", "an ISO 8601 date and time, e.g. 2026-11-23T08:30+07:00"))
        else:
            when = detected_at
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=deadlines.VN)  # a local time typed by the DPO
            if when > now:
                errors.append(FieldError("detected_at", "cannot be in the future", code="in_future"))
        description = (description or "").strip()
        if not description or len(description) > MAX_DESCRIPTION:
            errors.append(FieldError("description", f"required, at most {MAX_DESCRIPTION} characters"))
        try:
            affected = int(affected_estimate)
            if affected < 0:
                raise ValueError
        except (TypeError, ValueError):
            errors.append(FieldError("affected_estimate", "a whole number, 0 or more"))
            affected = 0
        if errors or when is None:  # no time: its error is among them
            raise InvalidInput("The incident was not recorded.", errors)
        with self.db.session() as s:
            inc = BreachIncident(ref=new_ref("INC"), org_id=principal.org_id, detected_at=when, recorded_at=now,
                                 recorded_by=principal.actor, description=description, affected_estimate=affected,
                                 status="open")
            s.add(inc)
            s.flush()
            view = self.view(inc, now)
        self.audit.append(actor=principal.actor, action="incident_recorded", org_id=principal.org_id,
                            subject=f"incident:{view['ref']}",
                            details={"detected_at": view["detected_at"], "affected_estimate": affected})
        return view

    def list_incidents(self, principal: Principal, *, now: datetime | None = None) -> list[dict[str, Any]]:
        self.subjects.need_dpo(principal, read=True)
        now = now or utcnow()
        with self.db.read_session() as s:
            rows = s.execute(select(BreachIncident).where(BreachIncident.org_id == principal.org_id)
                             .order_by(BreachIncident.detected_at.desc())).scalars().all()
            return [self.view(i, now) for i in rows]

    def notify_incident(self, principal: Principal, ref: str) -> dict[str, Any]:
        """Record that the authority was notified (now)."""
        self.subjects.need_dpo(principal)
        now = utcnow()
        with self.db.session() as s:
            inc = s.execute(select(BreachIncident).where(
                BreachIncident.ref == (ref or "").strip().upper(),
                BreachIncident.org_id == principal.org_id)).scalar_one_or_none()
            if inc is None:
                raise NotFound(f"No incident {ref}.")
            if inc.notified_at is not None:
                raise Conflict(f"Incident {inc.ref} was already notified.")
            inc.status, inc.notified_at, inc.notified_by = "notified", now, principal.actor
            s.flush()
            view = self.view(inc, now)
        self.audit.append(actor=principal.actor, action="incident_notified", org_id=principal.org_id,
                            subject=f"incident:{view['ref']}", details={"on_time": not view["overdue"]})
        return view
