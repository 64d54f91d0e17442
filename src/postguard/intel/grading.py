"""Grading: the verdict of a stored indicator, from its accepted reports, its reporters'
reputations, the decisions on it and the official channels covering it (the policy itself is
``postguard.intel.verdicts``); and the verdicts stored on indicator rows (``regrade``), which
sharing and the lookup index read."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from postguard.db.base import utcnow
from postguard.errors import InvalidInput
from postguard.intel.models import Appeal, Evidence, Indicator, OfficialChannel, Report, Reporter, ReportIndicator
from postguard.intel.normalize import Normal, norm_domain
from postguard.intel.store import IntelStore
from postguard.intel.verdicts import Policy, ReportFact, Standing, Verdict, grade
from postguard.orgs.models import Organisation

if TYPE_CHECKING:
    from postguard.db import Database
    from postguard.settings import Settings


class Official(NamedTuple):
    """A verified official channel and the organisation it belongs to."""
    channel: OfficialChannel
    org: Organisation


class Grader:
    def __init__(self, *, db: Database, settings: Settings, store: IntelStore) -> None:
        self.db = db
        self.settings = settings
        self.store = store
        s = settings
        self.policy = Policy(half_life_days=s.intel_half_life_days, confirmed_days=s.intel_confirmed_days)

    # -- official channels ---------------------------------------------------------------------
    def official(self, s: Session, indicator_id: int) -> Official | None:
        """The verified official channel that this indicator itself is."""
        row = s.execute(
            select(OfficialChannel, Organisation)
            .join(Organisation, Organisation.id == OfficialChannel.org_id)
            .where(OfficialChannel.indicator_id == indicator_id, OfficialChannel.status == "verified")
        ).one_or_none()
        return Official(row[0], row[1]) if row else None

    def official_for(self, s: Session, n: Normal, ind: Indicator | None) -> Official | None:
        """The verified official channel covering ``n``: itself, or for a link or domain, the
        official domain it lies under."""
        if ind is not None and (found := self.official(s, ind.id)) is not None:
            return found
        if n.type in ("url", "domain") and n.domain:
            for host in dict.fromkeys([n.host, n.domain]):
                if host is None or (n.type == "domain" and host == n.value):
                    continue
                try:
                    other = self.store.find(s, norm_domain(host))
                except InvalidInput:
                    continue
                if other is not None and (found := self.official(s, other.id)) is not None:
                    return found
        return None

    def official_covering(self, s: Session, ind: Indicator) -> Official | None:
        """The verified channel covering a stored indicator: itself, or the official registrable
        domain a link or domain lies under (official domains are registered as registrable domains)."""
        found = self.official(s, ind.id)
        if found is None and ind.type in ("url", "domain") and ind.domain:
            other = s.execute(select(Indicator.id).where(
                Indicator.digest == self.store.digest(f"domain\0{ind.domain}"))).scalar_one_or_none()
            if other is not None and other != ind.id:
                found = self.official(s, other)
        return found

    # -- verdicts --------------------------------------------------------------------------------
    def _facts(self, s: Session, indicator_id: int) -> list[ReportFact]:
        evidence = (select(Evidence.report_id, func.count().label("n")).group_by(Evidence.report_id).subquery())
        rows = s.execute(
            select(Report.created_at, Report.reporter_kind, Reporter.key, Reporter.upheld, Reporter.rejected,
                   func.coalesce(evidence.c.n, 0))
            .join(ReportIndicator, ReportIndicator.report_id == Report.id)
            .join(Reporter, Reporter.id == Report.reporter_id)
            .outerjoin(evidence, evidence.c.report_id == Report.id)
            .where(ReportIndicator.indicator_id == indicator_id, Report.status == "accepted")
        ).all()
        return [ReportFact(reporter=key.hex(), kind=kind, at=at, evidence=int(n),
                           reputation=reputation(upheld, rejected))
                for at, kind, key, upheld, rejected, n in rows]

    def _standing(self, s: Session, ind: Indicator) -> Standing:
        official = self.official_covering(s, ind)
        appeal_open = s.execute(
            select(func.count()).select_from(Appeal).where(Appeal.indicator_id == ind.id, Appeal.status == "open")
        ).scalar_one() > 0
        held = 0
        if official:
            held = s.execute(
                select(func.count()).select_from(Report)
                .join(ReportIndicator, ReportIndicator.report_id == Report.id)
                .where(ReportIndicator.indicator_id == ind.id, Report.status == "held")
            ).scalar_one()
        return Standing(official=official is not None, official_org=official.org.name if official else None,
                        decision=ind.decision, decision_at=ind.decision_at, decision_source=ind.decision_source,
                        appeal_open=appeal_open, held_reports=held)

    def grade(self, s: Session, ind: Indicator, *, now: datetime | None = None) -> Verdict:
        """The indicator's verdict now (or at ``now``), from what is stored; nothing is written."""
        return grade(self._facts(s, ind.id), self._standing(s, ind), now=now or utcnow(), policy=self.policy)

    def regrade(self, s: Session, ind: Indicator, v: Verdict | None = None) -> Verdict:
        """Grade (or take ``v``) and store the verdict on the row, stamping it: what this worker and
        others keep about the indicator is stale from here on."""
        v = v or self.grade(s, ind)
        ind.verdict, ind.score, ind.graded_at, ind.updated_at = v.verdict, v.score, utcnow(), utcnow()
        self.store.known.changed()
        if v.verdict == "corroborated" and not ind.needs_review:
            ind.needs_review, ind.review_reason = True, "corroborated"
        return v

    def regrade_all(self) -> dict[str, int]:
        """Grade every reported indicator afresh (verdicts decay with time; lookups always grade
        afresh, the stored verdict used by sharing and the lookup index is refreshed here)."""
        self.store.ready()
        changed = total = 0
        with self.db.session() as s:
            for ind in s.execute(select(Indicator).where(Indicator.verdict != "unknown")).scalars():
                total += 1
                v = self.grade(s, ind)
                if (v.verdict, v.score) != (ind.verdict, ind.score):  # unchanged rows keep their stamp
                    changed += 1
                    self.regrade(s, ind, v)
        return {"graded": total, "changed": changed}


def reputation(upheld: int, rejected: int) -> float:
    """A reporter's weight: 1.0 for a newcomer, up to 1.5 with confirmed reports, down towards 0.1
    with rejected ones."""
    base = (1 + upheld) / (1 + upheld + 2 * rejected)
    return max(0.1, min(1.5, base + min(0.5, 0.05 * upheld)))
