"""Auditors' alerts (``Platform.access_alerts``): raised on a break-glass reveal and a canary reveal
(subscribers of the door's ``Revealed`` event), by the canary contact endpoint and the anomaly scan;
listed and acknowledged by auditors. (Scam warnings are ``postguard.alerts``.)

Raising an alert first appends an ``alert`` entry to the access log and then stores the row that
points at it, so an alert exists in the tamper-evident log even if its row were deleted. Both happen
in their own transactions: callers must not hold an open write transaction (SQLite).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from postguard.db.base import utcnow
from postguard.errors import Conflict, FieldError, InvalidInput, NotFound
from postguard.events import Revealed
from postguard.leaks.models import KINDS, SEVERITIES, Alert
from postguard.metrics import Meter

if TYPE_CHECKING:
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.orgs.service import OrgService

STATUSES = ("open", "acknowledged", "all")
# who may do what with alerts (staff roles; API keys need audit:read / alerts:ack)
LIST_ROLES = ("auditor", "dpo", "admin")
ACK_ROLES = ("auditor", "dpo")


@dataclass(frozen=True)
class AlertView:
    id: int
    kind: str
    severity: str
    subject: str | None
    reason: str
    actor: str | None
    details: dict
    log_index: int
    created_at: str
    acknowledged_at: str | None
    acknowledged_by: str | None
    ack_note: str | None

    @classmethod
    def of(cls, a: Alert) -> AlertView:
        return cls(a.id, a.kind, a.severity, a.subject, a.reason, a.actor, json.loads(a.details or "{}"),
                   a.log_index, a.created_at.isoformat(), a.acknowledged_at.isoformat() if a.acknowledged_at else None,
                   a.acknowledged_by, a.ack_note)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class AlertService:
    def __init__(self, *, db: Database, audit: AuditLog, orgs: OrgService, meter: Meter | None = None) -> None:
        """``meter``: counts alerts raised by kind and severity (``postguard_leaks_alerts_total``)."""
        self._raised = (meter or Meter()).counter(
            "postguard_leaks_alerts", "Auditors' alerts raised (break-glass, canaries, anomalies), by kind and severity",
            ("kind", "severity"))
        self.db = db
        self.audit = audit
        self.orgs = orgs

    def raise_alert(self, *, org_id: int, kind: str, severity: str, reason: str, subject: str | None = None,
                    actor: str | None = None, details: dict | None = None) -> int:
        """Log the alert, then store it; returns the alert id. Raises ``AuditUnavailable`` when the log
        cannot take it (then nothing is stored and the caller must not go on)."""
        if kind not in KINDS or severity not in SEVERITIES:
            raise ValueError(f"bad alert kind or severity: {kind}/{severity}")
        details = details or {}
        index = self.audit.append(
            actor="postguard:alerts", action="alert", org_id=org_id, subject=subject,
            details={"kind": kind, "severity": severity, "reason": reason, "triggered_by": actor, **details},
        )
        with self.db.session() as s:
            row = Alert(org_id=org_id, kind=kind, severity=severity, subject=subject, reason=reason[:2000],
                        actor=actor, details=json.dumps(details, ensure_ascii=False, sort_keys=True),
                        log_index=index, created_at=utcnow())
            s.add(row)
            s.flush()
            alert_id = row.id
        self._raised.inc(kind, severity)
        return alert_id

    def on_revealed(self, event: Revealed) -> int | None:
        """A break-glass reveal raises a high-severity alert (the reveal is logged, nothing is decrypted
        yet; if the alert cannot be recorded, the reveal stops)."""
        if event.purpose != "break_glass":
            return None
        waybills = list(event.subjects)
        shown = ", ".join(waybills[:10]) + (" …" if len(waybills) > 10 else "")
        return self.raise_alert(
            org_id=event.org_id, kind="break_glass", severity="high",
            subject=waybills[0] if len(waybills) == 1 else None, actor=event.principal.actor,
            reason=f"Break-glass reveal of {shown} by {event.principal.actor}: "
                   f"{(event.details.get('justification') or '').strip()[:500]}",
            details={"log_index": event.log_index, "waybills": waybills,
                     "justification": (event.details.get("justification") or "").strip()[:500]},
        )

    def list(self, principal, *, kind: str | None = None, status: str = "open", limit: int = 50,
             before: int | None = None) -> dict:
        """Newest first; ``before`` is the cursor (the last id seen)."""
        self.orgs.require(principal, "audit:read", roles=LIST_ROLES, subject="alerts",
                            message="Only auditors, data-protection officers and administrators see alerts.")
        errors = []
        if kind is not None and kind not in KINDS:
            errors.append(FieldError("kind", f"one of {', '.join(KINDS)}"))
        if status not in STATUSES:
            errors.append(FieldError("status", f"one of {', '.join(STATUSES)}"))
        if not 1 <= limit <= 500:
            errors.append(FieldError("limit", "between 1 and 500"))
        if errors:
            raise InvalidInput("Bad alert filter.", errors)
        q = select(Alert).where(Alert.org_id == principal.org_id)
        if kind:
            q = q.where(Alert.kind == kind)
        if status == "open":
            q = q.where(Alert.acknowledged_at.is_(None))
        elif status == "acknowledged":
            q = q.where(Alert.acknowledged_at.is_not(None))
        if before is not None:
            q = q.where(Alert.id < before)
        with self.db.read_session() as s:
            items = [AlertView.of(a) for a in s.execute(q.order_by(Alert.id.desc()).limit(limit)).scalars()]
        return {"items": [i.as_dict() for i in items], "next": items[-1].id if len(items) == limit else None}

    def open_count(self, org_id: int) -> int:
        from sqlalchemy import func

        with self.db.read_session() as s:
            return s.execute(select(func.count()).where(Alert.org_id == org_id,
                                                        Alert.acknowledged_at.is_(None))).scalar_one()

    def acknowledge(self, principal, alert_id: int, *, note: str | None = None) -> dict:
        """Close an alert. Nobody acknowledges an alert they triggered themselves."""
        self.orgs.require(principal, "alerts:ack", roles=ACK_ROLES, subject=f"alert:{alert_id}",
                            message="Only auditors and data-protection officers acknowledge alerts.")
        note = (note or "").strip() or None
        if note and len(note) > 500:
            raise InvalidInput("The note is too long.", [FieldError("note", "at most 500 characters")])
        with self.db.read_session() as s:  # refused outside the write transaction, so it can be logged
            own = s.execute(select(Alert.id).where(Alert.id == alert_id, Alert.org_id == principal.org_id,
                                                   Alert.actor == principal.actor)).scalar_one_or_none()
        if own is not None:
            self.orgs.refuse(principal, reason="an alert cannot be acknowledged by who triggered it",
                               subject=f"alert:{alert_id}",
                               message="An alert cannot be acknowledged by the person who triggered it.")
        with self.db.session() as s:
            row = s.execute(select(Alert).where(Alert.id == alert_id, Alert.org_id == principal.org_id)
                            .with_for_update()).scalar_one_or_none()
            if row is None:
                raise NotFound(f"No alert {alert_id}.")
            if row.acknowledged_at is not None:
                raise Conflict(f"Alert {alert_id} was already acknowledged.")
            row.acknowledged_at, row.acknowledged_by, row.ack_note = utcnow(), principal.actor, note
            s.flush()
            view = AlertView.of(row)
        self.audit.append(actor=principal.actor, action="alert_ack", org_id=principal.org_id,
                            subject=f"alert:{alert_id}", details={"note": note} if note else {})
        return view.as_dict()
