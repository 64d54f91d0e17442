"""Analyst review: the queue of what to look at, an indicator with its reports (texts and
contacts revealed on request, logged first), decisions on indicators and reports, and report
statistics. Staff of the platform organisation act here through ``staff_principal``."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from postguard.db.base import utcnow
from postguard.errors import Conflict, Forbidden, NotFound
from postguard.events import EventBus, IndicatorDecided
from postguard.intel.grading import Grader
from postguard.intel.models import (
    Appeal,
    Decision,
    Evidence,
    Indicator,
    LookalikeHit,
    Report,
    Reporter,
    ReportIndicator,
)
from postguard.intel.reports import CATEGORIES
from postguard.intel.store import KEY_ORG, IntelStore, bad_field, get_row
from postguard.orgs.service import Principal
from postguard.principals import StaffPrincipal

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.orgs.service import OrgService

DECISIONS = ("confirm", "dispute", "delist", "clear")
# What staff of the platform organisation may do in the analyst console (as API-key scopes).
STAFF_SCOPES = {"analyst": ("intel:analyst",), "admin": ("intel:admin",)}
VN_TIME = timezone(timedelta(hours=7), "ICT")  # Vietnam has no daylight saving
# What a decision on an indicator makes of the lookalike hits on it (a dispute leaves them as they are).
HIT_STATUS = {"confirm": "confirmed", "delist": "dismissed", "clear": "new", "appeal_upheld": "dismissed"}


def follow_hits(s: Session, indicator_id: int, *, action: str, actor: str) -> None:
    """Bring the lookalike hits on an indicator in line with a decision on it, in the decision's own
    transaction: two analysts deciding at once end with the hit of the decision that committed last."""
    status = HIT_STATUS.get(action)
    if status is None:
        return
    decided = status != "new"
    s.execute(update(LookalikeHit).where(LookalikeHit.indicator_id == indicator_id)
              .values(status=status, decided_by=actor if decided else None, decided_at=utcnow() if decided else None)
              .execution_options(synchronize_session=False))


class AnalystReview:
    def __init__(self, *, db: Database, audit: AuditLog, orgs: OrgService, door: Door, store: IntelStore,
                 grader: Grader, bus: EventBus) -> None:
        """``bus``: where a committed decision is published (``IndicatorDecided``: the blocklist follows it)."""
        self.bus = bus
        self.db = db
        self.audit = audit
        self.orgs = orgs
        self.door = door
        self.store = store
        self.grader = grader

    def queue(self, principal: Principal, *, limit: int = 50, reported: bool = False) -> list[dict]:
        """What analysts should look at: open appeals (overdue first), reports held against official
        channels, corroborated indicators awaiting confirmation; with ``reported``, then indicators
        with reports but no decision yet (newest reports first)."""
        self.orgs.require(principal, "intel:analyst")
        now = utcnow()
        with self.db.read_session() as s:
            inds = list(s.execute(select(Indicator).where(Indicator.needs_review.is_(True))).scalars())
            appeals = {a.indicator_id: a for a in s.execute(select(Appeal).where(Appeal.status == "open")).scalars()}
            if missing := appeals.keys() - {i.id for i in inds}:
                inds.extend(s.execute(select(Indicator).where(Indicator.id.in_(missing))).scalars())
            if reported:
                seen = {i.id for i in inds}
                inds.extend(i for i in s.execute(
                    select(Indicator).where(Indicator.verdict == "reported", Indicator.decision.is_(None),
                                            Indicator.needs_review.is_(False))
                    .order_by(Indicator.last_report_at.desc(), Indicator.id.desc()).limit(limit)).scalars()
                    if i.id not in seen)
            items: list[tuple[tuple[bool, bool, bool, str, int], dict]] = []
            for ind in inds:
                v = self.grader.grade(s, ind, now=now)
                a = appeals.get(ind.id)
                reason = "appeal" if a else (ind.review_reason or "new_reports")
                # overdue appeals, other appeals (soonest deadline first), flagged ones, new reports; then by score
                key = (not (a is not None and a.deadline_at < now), a is None, reason == "new_reports",
                       a.deadline_at.isoformat() if a else "", -v.score)
                items.append((key, {
                    "indicator": ind.id, "type": ind.type, "display": ind.display, "verdict": v.verdict,
                    "score": v.score, "reason": reason,
                    "reasons": [r.as_dict() for r in v.reasons], "reports": v.reports,
                    "distinct_reporters": v.reporters, "lookups": ind.lookups,
                    "last_report_at": ind.last_report_at.isoformat() if ind.last_report_at else None,
                    "appeal": {"id": a.public_id, "deadline_at": a.deadline_at.isoformat(),
                               "overdue": a.deadline_at < now} if a else None,
                }))
        items.sort(key=lambda item: item[0])
        return [item for _, item in items[:limit]]

    def staff_principal(self, staff: StaffPrincipal) -> Principal:
        """What a signed-in member of staff may do here: analysts of the platform organisation
        moderate (``intel:analyst``), its administrators verify official channels (``intel:admin``).
        Staff of any other organisation get nothing (their operator's own keys carry its scopes)."""
        scopes = STAFF_SCOPES.get(staff.role, ()) if staff.org_code == KEY_ORG else ()
        if not scopes:  # the caller logs the refusal (the console through ``web.auth.deny``)
            raise Forbidden("Only analysts and administrators of the platform organisation may do this.")
        return Principal(org_id=staff.org_id, org_code=staff.org_code, actor=staff.actor, scopes=frozenset(scopes))

    def reveal_value(self, principal: Principal, indicator_id: int, *, purpose: str = "indicator_review") -> dict:
        """The full value of an indicator. For a phone number, account or wallet this is a reveal
        through the door (purpose ``indicator_review``): appended to the access log first, and nothing
        is decrypted if the log cannot be written."""
        self.orgs.require(principal, "intel:analyst")
        self.store.ready()
        with self.db.read_session() as s:
            ind = self.store.indicator(s, indicator_id)
            personal = ind.value_ct is not None
            value = self.door.open(
                s, principal, purpose, [self.store.sealed(ind.value_ct, table="intel_indicators", column="value",
                                                          record_id=ind.id)], subject=f"indicator:{indicator_id}",
            )[0] if personal else ind.value
            return {"indicator": ind.id, "type": ind.type, "display": ind.display, "value": value,
                    "qualifier": ind.qualifier, "logged": personal}

    def stats(self, principal: Principal, *, days: int = 30, now: datetime | None = None) -> dict:
        """Reports received per day and category over the last ``days`` days (Vietnam's calendar
        days, UTC+7), merged duplicates left out. Counts only: nothing personal."""
        if not (principal.can("intel:analyst") or principal.can("intel:admin")):
            self.orgs.refuse(principal, reason="needs the intel:analyst scope", subject="intel:stats",
                               message="This needs the intel:analyst scope.")
        if not 1 <= days <= 366:
            raise bad_field("days", "between 1 and 366")
        now = now or utcnow()
        end = now.astimezone(VN_TIME).date()
        dates = [end - timedelta(days=days - 1 - i) for i in range(days)]
        start = datetime.combine(dates[0], datetime.min.time(), tzinfo=VN_TIME)
        counts: dict[str, dict[date, int]] = {}
        with self.db.read_session() as s:
            rows = s.execute(select(Report.created_at, Report.category)
                             .where(Report.created_at >= start, Report.status != "merged")).all()
        for at, category in rows:
            day = at.astimezone(VN_TIME).date()
            if dates[0] <= day <= end:
                by_day = counts.setdefault(category, {})
                by_day[day] = by_day.get(day, 0) + 1
        daily = {c: [counts[c].get(d, 0) for d in dates] for c in CATEGORIES if c in counts}
        series = [{"category": c, "counts": n, "total": sum(counts[c].values())} for c, n in daily.items()]
        totals = [sum(n[i] for n in daily.values()) for i in range(days)]
        return {"days": [d.isoformat() for d in dates], "series": series, "totals": totals, "total": sum(totals)}

    def indicator(self, principal: Principal, indicator_id: int, *, reveal: bool = False) -> dict:
        """An indicator with its verdict and reports, for analysts. ``reveal`` also decrypts report
        texts and contacts through the door (purpose ``report_review``), logged before anything is opened."""
        self.orgs.require(principal, "intel:analyst", subject=f"indicator:{indicator_id}")
        self.store.ready()
        with self.db.read_session() as s:
            ind = self.store.indicator(s, indicator_id)
            v = self.grader.grade(s, ind)
            reports = s.execute(
                select(Report).join(ReportIndicator, ReportIndicator.report_id == Report.id)
                .where(ReportIndicator.indicator_id == ind.id).order_by(Report.id)).scalars().all()
            cols = ("description", "contact")
            texts = iter(self.door.open(
                s, principal, "report_review",
                [self.store.sealed(getattr(r, f"{col}_ct"), table="intel_reports", column=col, record_id=r.id)
                 for r in reports for col in cols],
                subject=f"indicator:{indicator_id}") if reveal else ())
            out_reports = []
            for r in reports:
                files = s.execute(select(Evidence.id, Evidence.media_type, Evidence.size)
                                  .where(Evidence.report_id == r.id)).all()
                item = {"id": r.public_id, "status": r.status, "reporter_kind": r.reporter_kind,
                        "category": r.category, "amount_lost_vnd": r.amount_lost_vnd, "occurred_on": r.occurred_on,
                        "created_at": r.created_at.isoformat(), "duplicates": r.duplicates,
                        "evidence": [{"id": i, "media_type": m, "size": z} for i, m, z in files]}
                if reveal:
                    item.update({col: next(texts) for col in cols})
                out_reports.append(item)
            history = s.execute(select(Decision).where(Decision.indicator_id == ind.id).order_by(Decision.id)
                                ).scalars().all()
            return {"indicator": ind.id, "type": ind.type, "display": ind.display, **v.as_dict(),
                    "decision": ind.decision, "decision_source": ind.decision_source,
                    "review_reason": ind.review_reason, "lookups": ind.lookups, "reports_detail": out_reports,
                    "history": [{"action": d.action, "actor": d.actor, "from": d.from_verdict, "to": d.to_verdict,
                                 "at": d.at.isoformat()} for d in history]}

    def decide(self, principal: Principal, indicator_id: int, *, action: str, note: str = "",
               source: str = "analyst") -> dict:
        """confirm / dispute / delist / clear an indicator; recorded in the history and the access log."""
        self.orgs.require(principal, "intel:analyst", subject=f"indicator:{indicator_id}")
        if action not in DECISIONS:
            raise bad_field("action", f"choose from: {', '.join(DECISIONS)}")
        if source not in ("analyst", "official_source"):
            raise bad_field("source", "analyst or official_source")
        with self.db.session() as s:
            ind = self.store.indicator(s, indicator_id)
            before = self.grader.grade(s, ind).verdict
            if action == "confirm" and self.grader.official_covering(s, ind) is not None:
                raise Conflict("This is a verified official channel: it cannot be confirmed as a scam. "
                               "An administrator must revoke the channel first.")
            if action == "clear":
                ind.decision = ind.decision_source = ind.decision_at = None
            else:
                ind.decision = {"confirm": "confirmed", "dispute": "disputed", "delist": "delisted"}[action]
                ind.decision_source = source if action == "confirm" else "analyst"
                ind.decision_at = utcnow()
            if action == "confirm":
                self._credit_reporters(s, ind.id)
            ind.needs_review, ind.review_reason = (True, "disputed") if action == "dispute" else (False, None)
            after = self.grader.regrade(s, ind).verdict  # a cleared, corroborated indicator goes back to the queue
            s.add(Decision(indicator_id=ind.id, actor=principal.actor, action=action, from_verdict=before,
                           to_verdict=after, note=note[:2000]))
            follow_hits(s, ind.id, action=action, actor=principal.actor)
            type_ = ind.type
        self.audit.append(actor=principal.actor, action=f"intel_{action}", org_id=principal.org_id,
                            subject=f"indicator:{indicator_id}",
                            details={"from": before, "to": after, "source": source if action == "confirm" else "analyst"})
        self.bus.publish(IndicatorDecided(indicator_id=indicator_id, type=type_, action=action, actor=principal.actor))
        return {"indicator": indicator_id, "from": before, "verdict": after}

    def _credit_reporters(self, s: Session, indicator_id: int) -> None:
        """Reporters of a confirmed indicator gain reputation (once per report)."""
        ids = s.execute(select(Report.reporter_id).join(ReportIndicator, ReportIndicator.report_id == Report.id)
                        .where(ReportIndicator.indicator_id == indicator_id, Report.status == "accepted")).scalars()
        for rid in set(ids):
            get_row(s, Reporter, rid, "reporter").upheld += 1

    def review_report(self, principal: Principal, report_id: str, *, action: str, note: str = "") -> dict:
        """accept (a held report: it counts for its non-official indicators) or reject (spam or abuse:
        it stops counting and its reporter's reputation drops)."""
        self.orgs.require(principal, "intel:analyst", subject=f"report:{report_id}")
        if action not in ("accept", "reject"):
            raise bad_field("action", "accept or reject")
        with self.db.session() as s:
            r = s.execute(select(Report).where(Report.public_id == report_id)).scalar_one_or_none()
            if r is None:
                raise NotFound("No such report.")
            before = r.status
            if before in ("merged",):
                raise Conflict("A merged duplicate is reviewed with the report it was merged into.")
            r.status = "accepted" if action == "accept" else "rejected"
            if action == "reject" and before != "rejected":
                get_row(s, Reporter, r.reporter_id, "reporter").rejected += 1
                for m in s.execute(select(Report).where(Report.merged_into_id == r.id)).scalars():
                    m.status = "rejected"
            s.flush()
            ind_ids = s.execute(select(ReportIndicator.indicator_id).where(ReportIndicator.report_id == r.id)
                                ).scalars().all()
            for iid in ind_ids:
                ind = self.store.indicator(s, iid)
                self.grader.regrade(s, ind)
                still_held = s.execute(select(func.count()).select_from(Report)
                                       .join(ReportIndicator, ReportIndicator.report_id == Report.id)
                                       .where(ReportIndicator.indicator_id == iid, Report.status == "held")
                                       ).scalar_one()
                if ind.review_reason == "official_reported" and not still_held:
                    ind.needs_review, ind.review_reason = False, None
                s.add(Decision(indicator_id=iid, report_id=r.id, actor=principal.actor, action=f"report_{action}",
                               note=note[:2000]))
        self.audit.append(actor=principal.actor, action=f"intel_report_{action}", org_id=principal.org_id,
                            subject=f"report:{report_id}", details={"from": before, "to": r.status})
        return {"report": report_id, "from": before, "status": r.status}

