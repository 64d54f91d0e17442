"""The intelligence store's side of sharing: the indicators this platform shares, as
``SharedIndicator`` (for the STIX / MISP exports and TAXII of ``postguard.intel.feed``, and
screening), and partners' indicators imported as their organisations' reports.
``postguard.intel.exchange`` decides what is shared, at which TLP."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from postguard.db.base import utcnow
from postguard.errors import FieldError, InvalidInput
from postguard.intel.exchange import SHARED_VERDICTS, category_of, to_shared
from postguard.intel.grading import Grader
from postguard.intel.models import Indicator, Report, ReportIndicator, Reporter
from postguard.intel.normalize import Normal, detect
from postguard.intel.sharing import TYPES as SHARED_TYPES
from postguard.intel.sharing import SharedIndicator
from postguard.intel.store import IntelStore
from postguard.orgs.service import Principal

if TYPE_CHECKING:
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.orgs.service import OrgService


@dataclass(frozen=True)
class ReportStats:
    """An indicator's accepted reports: how many, and their categories."""
    count: int
    categories: frozenset[str]


NO_ACCEPTED = ReportStats(0, frozenset())


class SharedFeed:
    def __init__(self, *, db: Database, audit: AuditLog, orgs: OrgService, store: IntelStore, grader: Grader) -> None:
        self.db = db
        self.audit = audit
        self.orgs = orgs
        self.store = store
        self.grader = grader

    @staticmethod
    def _report_stats(s: Session, ids: list[int]) -> dict[int, ReportStats]:
        """The accepted reports of each of these indicators (those with any)."""
        out: dict[int, ReportStats] = {}
        for start in range(0, len(ids), 500):
            rows = s.execute(
                select(ReportIndicator.indicator_id, Report.category, func.count())
                .join(Report, Report.id == ReportIndicator.report_id)
                .where(ReportIndicator.indicator_id.in_(ids[start:start + 500]), Report.status == "accepted")
                .group_by(ReportIndicator.indicator_id, Report.category)).all()
            for iid, category, n in rows:
                before = out.get(iid, NO_ACCEPTED)
                out[iid] = ReportStats(before.count + n, before.categories | {category})
        return out

    @staticmethod
    def _is_shared(ind: Indicator, verdict: str) -> bool:
        return verdict in SHARED_VERDICTS and ind.type in SHARED_TYPES

    def _shared(self, ind: Indicator, value: str, verdict: str, score: int,
                stats: dict[int, ReportStats]) -> SharedIndicator | None:
        if not self._is_shared(ind, verdict):
            return None
        found = stats.get(ind.id, NO_ACCEPTED)
        return to_shared(type_=ind.type, value=value, verdict=verdict, score=score,
                         reports=found.count, categories=found.categories, first_seen=ind.first_seen_at,
                         last_seen=max(d for d in (ind.first_seen_at, ind.last_report_at, ind.decision_at) if d))

    def shared_feed(self) -> list[SharedIndicator]:
        """Every indicator this platform shares (``postguard.intel.exchange`` decides which and at
        what TLP), with its verdict as last graded, accepted reports and their categories. Values of
        personal types are opened through the door (purpose ``indicator_share``, one entry for the lot);
        callers log the export itself too."""
        self.store.ready()
        with self.db.read_session() as s:
            inds = s.execute(select(Indicator).where(Indicator.verdict.in_(SHARED_VERDICTS))
                             .order_by(Indicator.id)).scalars().all()
            inds = [i for i in inds if self._is_shared(i, i.verdict)]
            stats = self._report_stats(s, [i.id for i in inds])
            values = self.store.values_of(s, inds, purpose="indicator_share")
            out = [self._shared(i, value, i.verdict, i.score, stats) for i, value in zip(inds, values, strict=True)]
        return [x for x in out if x is not None]

    def shared_lookup(self, type_: str, value: str) -> SharedIndicator | None:
        """The shared view of one normal form, graded now; None when it is not flagged (unknown,
        official) or not shared."""
        self.store.ready()
        with self.db.read_session() as s:
            ind = s.execute(select(Indicator).where(Indicator.digest == self.store.digest(f"{type_}\0{value}"))
                            ).scalar_one_or_none()
            if ind is None:
                return None
            v = self.grader.grade(s, ind)  # the asker knows the value: nothing is decrypted
            return self._shared(ind, value, v.verdict, v.score, self._report_stats(s, [ind.id]))

    @staticmethod
    def _reports_by(s: Session, ind: Indicator, reporter: Reporter) -> Sequence[Report]:
        """``reporter``'s reports on ``ind`` that count (accepted, or held for review)."""
        return s.execute(
            select(Report).join(ReportIndicator, ReportIndicator.report_id == Report.id)
            .where(ReportIndicator.indicator_id == ind.id, Report.reporter_id == reporter.id,
                   Report.status.in_(("accepted", "held")))).scalars().all()

    def import_shared(self, principal: Principal, indicators: list[SharedIndicator], *,
                      source: str = "") -> dict[str, int]:
        """A partner's indicators (from its STIX bundle) become reports by the partner organisation
        (``principal``), all or nothing: one organisation's report each, graded like any other, dated
        at the partner's last sighting; a newer sighting adds a newer report; a partner's ``delisted``
        withdraws its earlier reports. Partners' verdicts and scores are not copied."""
        self.orgs.require(principal, "intel:report")
        prepared: list[tuple[Normal, SharedIndicator]] = []
        errors: list[FieldError] = []
        for i, si in enumerate(indicators):
            try:
                prepared.append((detect(si.value, si.type), si))
            except InvalidInput as e:
                errors += [FieldError(f"indicators[{i}]", fe.message, code=fe.code) for fe in e.errors]
        if errors:
            raise InvalidInput("Some indicators could not be read; nothing was imported.", errors)
        self.store.ready()
        now = utcnow()
        counts = {"added": 0, "updated": 0, "unchanged": 0, "withdrawn": 0}
        with self.db.session() as s:
            reporter = self.store.reporter(s, principal=principal, client="")
            for n, si in prepared:
                if si.verdict == "delisted":
                    found = self.store.find(s, n)
                    mine = [] if found is None else self._reports_by(s, found, reporter)
                    if found is None or not mine:
                        counts["unchanged"] += 1
                        continue
                    for r in mine:
                        r.status = "withdrawn"
                    s.flush()
                    self.grader.regrade(s, found)
                    counts["withdrawn"] += 1
                    continue
                ind = self.store.get_or_create(s, n)
                mine = self._reports_by(s, ind, reporter)
                at = min(si.last_seen, now)
                if mine and max(r.created_at for r in mine) >= at:
                    counts["unchanged"] += 1
                    continue
                official = self.grader.official_for(s, n, ind) is not None
                category = category_of(si.categories)
                rep = Report(public_id=secrets.token_urlsafe(12), reporter_id=reporter.id, reporter_kind="org",
                             org_id=principal.org_id, category=category, status="held" if official else "accepted",
                             fingerprint=self.store.digest(f"fp\0{reporter.key.hex()}\0{category}\0{ind.id}"),
                             duplicates=0, created_at=at)
                s.add(rep)
                s.flush()
                s.add(ReportIndicator(report_id=rep.id, indicator_id=ind.id))
                self.store.count_report(s, reporter)
                ind.last_report_at = max(ind.last_report_at or at, at)
                ind.first_seen_at = min(ind.first_seen_at or now, si.first_seen, at)
                if official:
                    ind.needs_review, ind.review_reason = True, "official_reported"
                s.flush()
                self.grader.regrade(s, ind)
                counts["updated" if mine else "added"] += 1
        self.audit.append(actor=principal.actor, action="intel_import", org_id=principal.org_id,
                            subject="intel_reports", details={**counts, "source": source[:200]})
        return counts

