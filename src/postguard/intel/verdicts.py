"""Graded verdicts that explain themselves (pure functions, no I/O).

The ladder: ``unknown`` (never "safe": only "nothing reported") → ``reported`` → ``corroborated`` →
``confirmed`` (by an analyst or an official source) → ``disputed`` (an open appeal or an analyst's
doubt) → ``delisted``. A verified official channel is ``official`` and is never flagged by reports.
A link written to deceive (``Normal.warnings``: user info, a host other than a naive reading shows,
look-alike letters…) is ``suspicious`` at least and never ``official`` (``judge_link``), whatever is
stored about the place it leads to: that is a property of how it is written, never stored.

The score (0-100) adds, per distinct reporter (an organisation, or one client of the public
service however many reports or contacts it sends), the points of its best report kind times its
reputation, plus points for evidence; each reporter's points halve every ``half_life_days`` since
its latest report, so verdicts decay without new reports. ``corroborated`` needs both the score and
at least two distinct identified reporters (an organisation or a citizen who left a contact):
anonymous reports alone, from however many clients, never get past ``reported``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

VERDICTS = ("unknown", "reported", "corroborated", "confirmed", "disputed", "delisted", "official", "suspicious",
            "lookalike")
# ``scanner``: the platform's lookalike-website scanner (``postguard.intel.scanner``), an identified
# source that weighs like an organisation.
REPORTER_KINDS = ("org", "citizen", "anonymous", "scanner")


@dataclass(frozen=True)
class Policy:
    half_life_days: float = 90.0
    confirmed_days: float = 365.0
    points: tuple[tuple[str, float], ...] = (("org", 40.0), ("citizen", 15.0), ("anonymous", 5.0),
                                             ("scanner", 40.0))
    evidence_points: float = 10.0
    evidence_cap: float = 30.0
    reported_min: float = 2.0
    corroborated_min: float = 50.0
    corroborated_identified: int = 2

    def points_of(self, kind: str) -> float:
        return dict(self.points)[kind]


@dataclass(frozen=True)
class ReportFact:
    """What one counted report contributes: who (an opaque identity), what kind, when, evidence."""

    reporter: str
    kind: str
    at: datetime
    evidence: int = 0
    reputation: float = 1.0


@dataclass(frozen=True)
class Standing:
    """What is known about an indicator besides its reports."""

    official: bool = False
    official_org: str | None = None
    decision: str | None = None  # "confirmed" | "disputed" | "delisted" | None
    decision_at: datetime | None = None
    decision_source: str | None = None  # "analyst" | "official_source"
    appeal_open: bool = False
    held_reports: int = 0  # reports against an official channel, waiting for review


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    value: float | int | str | None = None

    def as_dict(self) -> dict:
        out: dict = {"code": self.code, "text": self.text}
        if self.value is not None:
            out["value"] = self.value
        return out


@dataclass(frozen=True)
class Verdict:
    verdict: str
    score: int
    reasons: tuple[Reason, ...] = field(default_factory=tuple)
    reports: int = 0
    reporters: int = 0
    last_report_at: datetime | None = None

    def as_dict(self) -> dict:
        return {"verdict": self.verdict, "score": self.score, "reasons": [r.as_dict() for r in self.reasons],
                "reports": self.reports, "distinct_reporters": self.reporters,
                "last_report_at": self.last_report_at.isoformat() if self.last_report_at else None}


SEVERITY = {"unknown": 0, "delisted": 0, "official": 0, "disputed": 1, "suspicious": 2, "lookalike": 3, "reported": 3,
            "corroborated": 4, "confirmed": 5}


def judge_link(verdict: str, warnings) -> str:
    """The verdict of a lookup whose written link carries ``warnings``: at least ``suspicious``
    (so never ``official``, ``unknown`` or ``delisted``); a graver verdict stands."""
    if not warnings or SEVERITY[verdict] > SEVERITY["suspicious"]:
        return verdict
    return "suspicious"


def _days(a: datetime, b: datetime) -> float:
    return max(0.0, (a - b).total_seconds() / 86400.0)


def grade(reports: list[ReportFact], standing: Standing, *, now: datetime, policy: Policy = Policy()) -> Verdict:
    """The verdict, its score and its reasons, from the counted reports and the standing."""
    reasons: list[Reason]
    if standing.official:
        reasons = [Reason("official_channel", f"Verified official channel of {standing.official_org}.",
                          standing.official_org)]
        if standing.held_reports:
            reasons.append(Reason("reports_under_review",
                                  "Reports naming this official channel are held for review; they do not flag it.",
                                  standing.held_reports))
        return Verdict("official", 0, tuple(reasons))

    if standing.decision == "delisted" and standing.decision_at is not None:
        reports = [r for r in reports if r.at > standing.decision_at]  # only what came after delisting

    # Per distinct reporter: its best kind, its evidence, its latest report.
    by: dict[str, list[ReportFact]] = {}
    for r in reports:
        by.setdefault(r.reporter, []).append(r)
    score = 0.0
    identified = 0
    bonus = 0.0
    evidence_files = 0
    last = max((r.at for r in reports), default=None)
    for facts in by.values():
        latest = max(f.at for f in facts)
        decay = 0.5 ** (_days(now, latest) / policy.half_life_days)
        best = max(policy.points_of(f.kind) for f in facts)
        reputation = max(f.reputation for f in facts)
        score += best * reputation * decay
        if any(f.kind != "anonymous" for f in facts):
            identified += 1
        files = sum(f.evidence for f in facts)
        evidence_files += files
        if files:
            bonus += policy.evidence_points * decay
    score = min(100.0, score + min(bonus, policy.evidence_cap))

    reasons = []
    if last is not None:  # there are reports
        reasons.append(Reason("reports", f"{len(reports)} report(s).", len(reports)))
        reasons.append(Reason("distinct_reporters",
                              f"{len(by)} distinct reporter(s), {identified} identified "
                              "(an organisation or a citizen who left a contact).", len(by)))
        if evidence_files:
            reasons.append(Reason("evidence", f"{evidence_files} evidence file(s) attached.", evidence_files))
        age = int(_days(now, last))
        reasons.append(Reason("age", f"Latest report {age} day(s) ago; weight halves every "
                                     f"{policy.half_life_days:g} days without new reports.", age))

    def result(verdict: str, s: float) -> Verdict:
        return Verdict(verdict, round(s), tuple(reasons), len(reports), len(by), last)

    if standing.decision == "delisted" and not reports:
        reasons.insert(0, Reason("delisted", "Delisted after review: earlier reports no longer count."))
        return result("delisted", 0)
    if standing.appeal_open or standing.decision == "disputed":
        reasons.insert(0, Reason("disputed", "Disputed: an appeal or a review is open; be careful meanwhile."))
        return result("disputed", score)
    if standing.decision == "confirmed" and standing.decision_at is not None:
        since = max(standing.decision_at, last) if last else standing.decision_at
        if _days(now, since) <= policy.confirmed_days:
            by_whom = "an official source" if standing.decision_source == "official_source" else "an analyst"
            reasons.insert(0, Reason("confirmed", f"Confirmed as used in scams by {by_whom}.",
                                     standing.decision_source or "analyst"))
            return result("confirmed", 100)
        reasons.insert(0, Reason("confirmation_lapsed",
                                 f"A confirmation lapsed after {policy.confirmed_days:g} days without new reports."))
    if score >= policy.corroborated_min and identified >= policy.corroborated_identified:
        return result("corroborated", score)
    if reports and score >= policy.reported_min:
        if score >= policy.corroborated_min:
            reasons.append(Reason("needs_identified_reporters",
                                  f"Corroboration needs {policy.corroborated_identified} identified reporters."))
        return result("reported", score)
    if reports:
        reasons.append(Reason("decayed", "Reports are old and have decayed; nothing recent."))
    return result("unknown", score)
