"""Appeals: the owner of a flagged indicator asks for review (shown as disputed until an analyst
decides, by a deadline); analysts list them, read a statement and contact (logged first) and
uphold or reject them."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from postguard.db.base import utcnow
from postguard.errors import Conflict, FieldError, InvalidInput, NotFound
from postguard.events import EventBus, IndicatorDecided
from postguard.intel.grading import Grader
from postguard.intel.models import Appeal, Decision, Indicator
from postguard.intel.normalize import detect
from postguard.intel.reports import MAX_TEXT
from postguard.intel.review import follow_hits
from postguard.intel.store import IntelStore, bad_field
from postguard.orgs.service import Principal

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.orgs.service import OrgService
    from postguard.ratelimit import RateLimiter
    from postguard.settings import Settings


class AppealDesk:
    def __init__(self, *, db: Database, settings: Settings, audit: AuditLog, orgs: OrgService, door: Door,
                 limiter: RateLimiter, store: IntelStore, grader: Grader, bus: EventBus) -> None:
        """``bus``: where an upheld appeal's delisting is published (``IndicatorDecided``)."""
        self.bus = bus
        self.db = db
        self.settings = settings
        self.audit = audit
        self.orgs = orgs
        self.door = door
        self.limiter = limiter
        self.store = store
        self.grader = grader

    def appeal(self, *, value: str, type: str | None = None, statement: str, contact: str,
               principal: Principal | None = None, client: str) -> dict:
        """The owner of a flagged indicator asks for review. It is shown as disputed until an analyst
        decides, which they must do by the deadline (``POSTGUARD_INTEL_APPEAL_DAYS``)."""
        errors = []
        if not statement or not statement.strip() or len(statement) > MAX_TEXT:
            errors.append(FieldError("statement", f"required, at most {MAX_TEXT} characters"))
        if not contact or not contact.strip() or len(contact) > 200:
            errors.append(FieldError("contact", "required (how analysts reach you), at most 200 characters"))
        if errors:
            raise InvalidInput("The appeal was not accepted.", errors)
        n = detect(value, type)
        self.limiter.hit(self.settings.intel_appeal_rate, "intel-appeal",
                           f"org:{principal.org_id}" if principal else client,
                           message="Too many appeals from this client; try again later.")
        self.store.ready()
        with self.db.session() as s:
            ind = self.store.find(s, n)
            if ind is None or self.grader.grade(s, ind).verdict in ("unknown", "delisted", "official"):
                raise Conflict("Only a reported indicator can be appealed.")
            if s.execute(select(func.count()).select_from(Appeal)
                         .where(Appeal.indicator_id == ind.id, Appeal.status == "open")).scalar_one():
                raise Conflict("An appeal for this indicator is already open.")
            a = Appeal(public_id=secrets.token_urlsafe(12), indicator_id=ind.id, status="open",
                       org_id=principal.org_id if principal else None,
                       deadline_at=utcnow() + timedelta(days=self.settings.intel_appeal_days))
            s.add(a)
            s.flush()
            a.statement_ct = self.store.seal(s, statement.strip(), table="intel_appeals", column="statement",
                                        record_id=a.id)
            a.contact_ct = self.store.seal(s, contact.strip(), table="intel_appeals", column="contact", record_id=a.id)
            ind.needs_review, ind.review_reason = True, "appeal"
            s.flush()
            v = self.grader.regrade(s, ind)
            out = {"appeal": a.public_id, "status": "open", "deadline_at": a.deadline_at.isoformat(),
                   "verdict": v.verdict, "indicator": ind.id}
        self.audit.append(actor=principal.actor if principal else "public", action="intel_appeal_open",
                            org_id=principal.org_id if principal else None, subject=f"indicator:{out['indicator']}",
                            details={"appeal": out["appeal"]})
        return out

    def decide_appeal(self, principal: Principal, appeal_id: str, *, uphold: bool, note: str = "") -> dict:
        """Uphold (the indicator is delisted: earlier reports stop counting) or reject (the verdict
        returns to what the reports say)."""
        self.orgs.require(principal, "intel:analyst", subject=f"appeal:{appeal_id}")
        with self.db.session() as s:
            a = s.execute(select(Appeal).where(Appeal.public_id == appeal_id)).scalar_one_or_none()
            if a is None:
                raise NotFound("No such appeal.")
            if a.status != "open":
                raise Conflict(f"This appeal was already decided ({a.status}).")
            ind = self.store.indicator(s, a.indicator_id)
            before = self.grader.grade(s, ind).verdict
            a.status, a.decided_by, a.decided_at = ("upheld" if uphold else "rejected"), principal.actor, utcnow()
            if uphold:
                ind.decision, ind.decision_source, ind.decision_at = "delisted", "analyst", utcnow()
            elif ind.decision == "disputed":
                ind.decision = ind.decision_source = ind.decision_at = None
            ind.needs_review, ind.review_reason = False, None
            s.flush()
            after = self.grader.regrade(s, ind).verdict
            s.add(Decision(indicator_id=ind.id, appeal_id=a.id, actor=principal.actor,
                           action="appeal_upheld" if uphold else "appeal_rejected", from_verdict=before,
                           to_verdict=after, note=note[:2000]))
            if uphold:
                follow_hits(s, ind.id, action="appeal_upheld", actor=principal.actor)
            overdue = a.decided_at > a.deadline_at
            iid, type_ = ind.id, ind.type
        self.audit.append(actor=principal.actor, action="intel_appeal_" + ("upheld" if uphold else "rejected"),
                            org_id=principal.org_id, subject=f"indicator:{iid}",
                            details={"appeal": appeal_id, "from": before, "to": after, "overdue": overdue})
        self.bus.publish(IndicatorDecided(indicator_id=iid, type=type_,
                                          action="appeal_upheld" if uphold else "appeal_rejected",
                                          actor=principal.actor))
        return {"appeal": appeal_id, "status": "upheld" if uphold else "rejected", "verdict": after,
                "decided_after_deadline": overdue}

    # -- sharing -----------------------------------------------------------------------------
    def appeals(self, principal: Principal, *, status: str = "open", limit: int = 100) -> list[dict]:
        """Appeals by status (open ones soonest deadline first) with their indicator's verdict."""
        self.orgs.require(principal, "intel:analyst")
        if status not in ("open", "upheld", "rejected"):
            raise bad_field("status", "open, upheld or rejected")
        now = utcnow()
        with self.db.read_session() as s:
            order = Appeal.deadline_at.asc() if status == "open" else Appeal.decided_at.desc()
            rows = s.execute(select(Appeal, Indicator).join(Indicator, Indicator.id == Appeal.indicator_id)
                             .where(Appeal.status == status).order_by(order, Appeal.id).limit(limit)).all()
            return [{"id": a.public_id, "status": a.status, "indicator": ind.id, "type": ind.type,
                     "display": ind.display, "verdict": self.grader.grade(s, ind, now=now).verdict,
                     "created_at": a.created_at.isoformat(), "deadline_at": a.deadline_at.isoformat(),
                     "overdue": a.status == "open" and a.deadline_at < now,
                     "days_left": (a.deadline_at - now).days if a.status == "open" else None,
                     "decided_by": a.decided_by, "decided_at": a.decided_at.isoformat() if a.decided_at else None}
                    for a, ind in rows]

    def appeal_reveal(self, principal: Principal, appeal_id: str) -> dict:
        """An appeal's statement and contact (vault ciphertext), opened through the door (purpose
        ``appeal_review``): logged before they are decrypted."""
        self.orgs.require(principal, "intel:analyst")
        self.store.ready()
        with self.db.read_session() as s:
            a = s.execute(select(Appeal).where(Appeal.public_id == appeal_id)).scalar_one_or_none()
            if a is None:
                raise NotFound("No such appeal.")
            cols = ("statement", "contact")
            opened = self.door.open(
                s, principal, "appeal_review",
                [self.store.sealed(getattr(a, f"{col}_ct"), table="intel_appeals", column=col, record_id=a.id)
                 for col in cols],
                subject=f"indicator:{a.indicator_id}", details={"appeal": appeal_id})
            return {"id": appeal_id, **dict(zip(cols, opened, strict=True))}

