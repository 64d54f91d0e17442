"""The lookalike scanner's intake: its hits become domain indicators with a report each, and
analysts confirm or dismiss them.

A hit (one JSON object, see ``check_hit``) names a host imitating a brand. The first time a host
arrives it becomes a row of ``intel_lookalike_hits`` and a report of category ``fake_website`` on
the host's domain indicator, from the platform's own ``scanner`` source (one reporter identity of
kind ``system``; the report's kind ``scanner`` shows in the analyst view), so ``/v1/check`` answers
``reported`` for it. The same host again only moves ``last_seen`` and ``times_seen`` on (and takes
the scanner's latest brand, score and reasons): no second report. A host whose hit was dismissed
(its indicator delisted) is skipped for good, whatever the scanner says of it later.

Confirming or dismissing a hit is the analyst decision ``confirm`` or ``delist`` on its indicator
(``AnalystReview.decide``), which moves the hit's status in the same transaction and is published
for the blocklist.

Every field of every hit is checked; a bad hit is reported with its index and field and the good
ones still land. Hits are written in chunks of ``CHUNK`` per transaction, hosts in sorted order, the
scanner's reporter row taken first: concurrent intakes wait for each other instead of deadlocking,
and two intakes of one host end with one row and one report (``INSERT … ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, cast

import orjson
from sqlalchemy import CursorResult, case, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from postguard.db.base import UTCDateTime, utcnow
from postguard.errors import FieldError, InvalidInput, NotFound
from postguard.intel.grading import Grader
from postguard.intel.models import Indicator, LookalikeHit, Report, Reporter, ReportIndicator
from postguard.intel.normalize import Normal, norm_domain
from postguard.intel.review import AnalystReview
from postguard.intel.store import IntelStore, bad_field, table_of
from postguard.lookalike.match import MAX_OFFICIAL_SHOWN
from postguard.lookalike.score import TECHNIQUES
from postguard.orgs.service import Principal

if TYPE_CHECKING:
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.orgs.service import OrgService

STATUSES = ("new", "confirmed", "dismissed")
FIELDS = frozenset({"host", "domain", "brand", "official", "technique", "score", "reasons", "campaign", "seen"})
REQUIRED = FIELDS - {"seen"}
MAX_BATCH = 10_000  # hits per call (the command line streams a bigger file in batches)
CHUNK = 200  # hits per transaction
MAX_ERRORS = 200  # errors listed in an answer (all are counted)
MAX_REASONS = 20
MAX_BRAND = 100
MAX_CAMPAIGN = 200
MAX_REASON_TEXT = 300
MAX_CODE = 40
MAX_LIST = 500
SOURCE = "scanner"
_CODE = re.compile(r"[a-z][a-z0-9_]*\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class Checked:
    """One hit that passed every check, in the form it is stored."""

    __slots__ = ("brand", "campaign", "domain", "normal", "reasons", "score", "seen", "technique")

    def __init__(self, *, normal: Normal, domain: str, brand: str, technique: str, score: int, reasons: str,
                 campaign: str | None, seen: datetime) -> None:
        self.normal, self.domain, self.brand, self.technique = normal, domain, brand, technique
        self.score, self.reasons, self.campaign, self.seen = score, reasons, campaign, seen

    @property
    def host(self) -> str:
        return self.normal.value


def _text(value: Any, field: str, *, max_len: int, errors: list[FieldError], empty: bool = False) -> str | None:
    if not isinstance(value, str):
        errors.append(FieldError(field, "must be text", code="type"))
        return None
    if len(value) > max_len:
        errors.append(FieldError(field, f"at most {max_len} characters", code="too_long"))
        return None
    if _CONTROL.search(value):
        errors.append(FieldError(field, "control characters are not allowed", code="invalid"))
        return None
    if not empty and not value.strip():
        errors.append(FieldError(field, "must not be empty", code="required"))
        return None
    return value.strip()


def _integer(value: Any, field: str, lo: int, hi: int, errors: list[FieldError]) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        errors.append(FieldError(field, f"a whole number from {lo} to {hi}", code="range"))
        return None
    return value


def _domain(value: Any, field: str, errors: list[FieldError]) -> Normal | None:
    if not isinstance(value, str) or len(value) > 253:
        errors.append(FieldError(field, "a host name of at most 253 characters", code="invalid_domain"))
        return None
    try:
        return norm_domain(value)
    except InvalidInput as e:
        errors.extend(FieldError(field, fe.message, code=fe.code) for fe in e.errors)
        return None


def _under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def check_hit(hit: Any, *, now: datetime) -> Checked | list[FieldError]:
    """A hit's stored form, or what is wrong with it (fields named as in the hit: ``score``,
    ``reasons[3].text``). Unknown fields are refused: the format is the scanner's, and a field this
    intake does not know is a scanner it does not know."""
    if not isinstance(hit, Mapping):
        return [FieldError("hit", "must be a JSON object", code="type")]
    errors: list[FieldError] = []
    unknown = sorted((str(k)[:40] or '""') for k in hit if k not in FIELDS)
    errors.extend(FieldError(k, "unknown field", code="unknown") for k in unknown[:5])
    errors.extend(FieldError(k, "required", code="required") for k in sorted(REQUIRED - set(hit)))
    if errors:
        return errors
    normal = _domain(hit["host"], "host", errors)
    domain = _domain(hit["domain"], "domain", errors)
    if normal is not None and domain is not None and domain.value != normal.domain:
        errors.append(FieldError("domain", f"not the registrable domain of the host ({normal.domain})",
                                 code="mismatch"))
    brand = _text(hit["brand"], "brand", max_len=MAX_BRAND, errors=errors)
    official = hit["official"]
    if not isinstance(official, list) or len(official) > MAX_OFFICIAL_SHOWN:
        errors.append(FieldError("official", f"a list of at most {MAX_OFFICIAL_SHOWN} domains", code="type"))
    else:
        for i, o in enumerate(official):
            off = _domain(o, f"official[{i}]", errors)
            if off is not None and normal is not None and _under(normal.value, off.value):
                errors.append(FieldError("host", f"lies under the brand's official domain {off.value}",
                                         code="official"))
    technique = hit["technique"]
    if technique not in TECHNIQUES:
        errors.append(FieldError("technique", f"choose from: {', '.join(TECHNIQUES)}", code="choice"))
    score = _integer(hit["score"], "score", 0, 100, errors)
    reasons = hit["reasons"]
    clean: list[dict[str, Any]] = []
    if not isinstance(reasons, list) or len(reasons) > MAX_REASONS:
        errors.append(FieldError("reasons", f"a list of at most {MAX_REASONS} reasons", code="type"))
    else:
        for i, r in enumerate(reasons):
            where = f"reasons[{i}]"
            if not isinstance(r, Mapping) or set(r) != {"code", "points", "text"}:
                errors.append(FieldError(where, "an object with code, points and text (and nothing else)",
                                         code="type"))
                continue
            code = _text(r["code"], f"{where}.code", max_len=MAX_CODE, errors=errors)
            if code is not None and not _CODE.match(code):
                errors.append(FieldError(f"{where}.code", "lower-case letters, digits and _", code="invalid"))
            points = _integer(r["points"], f"{where}.points", -100, 100, errors)
            text = _text(r["text"], f"{where}.text", max_len=MAX_REASON_TEXT, errors=errors)
            if code is not None and points is not None and text is not None:
                clean.append({"code": code, "points": points, "text": text})
    campaign = hit["campaign"]
    if campaign is not None:
        campaign = _text(campaign, "campaign", max_len=MAX_CAMPAIGN, errors=errors, empty=True)
    seen = now
    if hit.get("seen") is not None:
        raw = hit["seen"]
        try:
            if not isinstance(raw, str) or len(raw) > 40:
                raise ValueError
            seen = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
            if seen.tzinfo is None:
                raise ValueError
            seen = seen.astimezone(timezone.utc)
        except (ValueError, OverflowError):
            errors.append(FieldError("seen", "an ISO 8601 time with its offset (2026-12-07T02:00:00Z)", code="invalid"))
        else:
            if seen > now + timedelta(hours=1) or seen.year < 2000:
                errors.append(FieldError("seen", "not a time the scanner can have seen it", code="range"))
    if errors:
        return errors
    assert normal is not None and domain is not None and brand is not None and score is not None  # noqa: S101  checked above
    return Checked(normal=normal, domain=domain.value, brand=brand, technique=technique, score=score,
                   reasons=orjson.dumps(clean).decode(), campaign=campaign or None, seen=seen)


def hit_view(hit: LookalikeHit) -> dict:
    return {"id": hit.id, "host": hit.host, "domain": hit.domain, "brand": hit.brand, "technique": hit.technique,
            "score": hit.score, "reasons": orjson.loads(hit.reasons), "campaign": hit.campaign,
            "first_seen": hit.first_seen.isoformat(), "last_seen": hit.last_seen.isoformat(),
            "times_seen": hit.times_seen, "status": hit.status, "indicator": hit.indicator_id,
            "decided_by": hit.decided_by, "decided_at": hit.decided_at.isoformat() if hit.decided_at else None}


class ScannerIntake:
    def __init__(self, *, db: Database, audit: AuditLog, orgs: OrgService, store: IntelStore, grader: Grader,
                 review: AnalystReview) -> None:
        self.db = db
        self.audit = audit
        self.orgs = orgs
        self.store = store
        self.grader = grader
        self.review = review

    # -- intake ----------------------------------------------------------------------------------
    def _require_sender(self, principal: Principal) -> None:
        """The scanner's key (``intel:scanner``) or an analyst (``intel:analyst``)."""
        if not (getattr(principal, "can", None) and (principal.can("intel:scanner") or principal.can("intel:analyst"))):
            self.orgs.require(principal, "intel:scanner", subject="intel_lookalike_hits")

    def ingest(self, principal: Principal, hits: Iterable[Any]) -> dict:
        """Take in up to ``MAX_BATCH`` hits. Answers the counts ``new``, ``updated``,
        ``skipped_dismissed`` and ``invalid``, and ``errors``: for each bad hit (the first
        ``MAX_ERRORS``), its ``index`` in ``hits``, the ``field`` and the ``message``."""
        self._require_sender(principal)
        batch: list[Any] = []
        for item in hits:
            if len(batch) >= MAX_BATCH:
                raise bad_field("hits", f"at most {MAX_BATCH} hits per call", code="too_many")
            batch.append(item)
        now = utcnow()
        good: dict[str, tuple[int, Checked]] = {}
        errors: list[dict] = []
        invalid = 0
        for index, raw in enumerate(batch):
            result = check_hit(raw, now=now)
            if isinstance(result, Checked):
                good[result.host] = (index, result)  # the same host twice: the later one stands
                continue
            invalid += 1
            errors.extend({"index": index, "field": e.field, "message": e.message, "code": e.code}
                          for e in result if len(errors) < MAX_ERRORS)
        counts = {"new": 0, "updated": 0, "skipped_dismissed": 0}
        if good:
            self.store.ready()
            hosts = sorted(good)
            for start in range(0, len(hosts), CHUNK):
                with self.db.session() as s:
                    self._write(s, [good[h][1] for h in hosts[start:start + CHUNK]], counts, now=now)
        out = {**counts, "invalid": invalid, "errors": errors}
        self.audit.append(actor=principal.actor, action="intel_scanner_ingest", org_id=principal.org_id,
                          subject="intel_lookalike_hits", details={**counts, "invalid": invalid})
        return out

    def _write(self, s: Session, hits: list[Checked], counts: dict[str, int], *, now: datetime) -> None:
        # The scanner's reporter row first (an update: its lock), then the hosts in sorted order.
        reporter = self.store.reporter(s, principal=None, client="", source=SOURCE)
        s.execute(update(Reporter).where(Reporter.id == reporter.id).values(reports=Reporter.reports)
                  .execution_options(synchronize_session=False))
        table = table_of(LookalikeHit)
        ins = (postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)
        org_id = self.store.key_org_id()
        for h in hits:
            existing = s.execute(select(LookalikeHit.id).where(LookalikeHit.host == h.host)).scalar_one_or_none()
            if existing is None:
                ind = self.store.get_or_create(s, h.normal)
                status = {"confirmed": "confirmed", "delisted": "dismissed"}.get(ind.decision or "", "new")
                inserted = cast(CursorResult[Any], s.execute(ins.values(
                    indicator_id=ind.id, host=h.host, domain=h.domain, brand=h.brand, technique=h.technique,
                    score=h.score, reasons=h.reasons, campaign=h.campaign, first_seen=h.seen, last_seen=h.seen,
                    times_seen=1, status=status).on_conflict_do_nothing(index_elements=["host"]))).rowcount
                if inserted:
                    if status == "dismissed":  # delisted before the scanner found it: not reported again
                        counts["skipped_dismissed"] += 1
                    else:
                        self._report(s, ind, reporter, org_id=org_id, now=now)
                        counts["new"] += 1
                    continue
            seen = literal(h.seen, UTCDateTime())
            changed = cast(CursorResult[Any], s.execute(
                update(LookalikeHit).where(LookalikeHit.host == h.host, LookalikeHit.status != "dismissed")
                .values(brand=h.brand, technique=h.technique, score=h.score, reasons=h.reasons, campaign=h.campaign,
                        times_seen=LookalikeHit.times_seen + 1,
                        last_seen=case((LookalikeHit.last_seen < seen, seen), else_=LookalikeHit.last_seen),
                        first_seen=case((LookalikeHit.first_seen > seen, seen), else_=LookalikeHit.first_seen))
                .execution_options(synchronize_session=False))).rowcount
            counts["updated" if changed else "skipped_dismissed"] += 1

    def _report(self, s: Session, ind: Indicator, reporter: Reporter, *, org_id: int, now: datetime) -> None:
        official = self.grader.official_covering(s, ind) is not None
        category = "fake_website"
        rep = Report(public_id=secrets.token_urlsafe(12), reporter_id=reporter.id, reporter_kind=SOURCE,
                     org_id=org_id, category=category, status="held" if official else "accepted",
                     fingerprint=self.store.digest(f"fp\0{reporter.key.hex()}\0{category}\0{ind.id}"), duplicates=0,
                     created_at=now)
        s.add(rep)
        s.flush()
        s.add(ReportIndicator(report_id=rep.id, indicator_id=ind.id))
        self.store.count_report(s, reporter)
        ind.last_report_at = now
        if official:
            ind.needs_review, ind.review_reason = True, "official_reported"
        s.flush()
        self.grader.regrade(s, ind)

    # -- review ------------------------------------------------------------------------------------
    def _find(self, s: Session, host_or_id: str | int) -> LookalikeHit:
        if isinstance(host_or_id, int) or (isinstance(host_or_id, str) and host_or_id.isdigit()
                                           and len(host_or_id) < 19):
            hit = s.get(LookalikeHit, int(host_or_id))
        else:
            if not isinstance(host_or_id, str) or len(host_or_id) > 253:
                raise bad_field("host", "a host name or a hit's number")
            try:
                host = norm_domain(host_or_id).value
            except InvalidInput as e:
                raise InvalidInput("No such hit.", [FieldError("host", fe.message, code=fe.code)
                                                    for fe in e.errors]) from None
            hit = s.execute(select(LookalikeHit).where(LookalikeHit.host == host)).scalar_one_or_none()
        if hit is None:
            raise NotFound("No such lookalike hit.")
        return hit

    def _decide(self, principal: Principal, host_or_id: str | int, *, action: str, note: str) -> dict:
        self.orgs.require(principal, "intel:analyst", subject=f"lookalike:{str(host_or_id)[:253]}")
        if not isinstance(note, str) or len(note) > 2000:
            raise bad_field("note", "text of at most 2000 characters")
        with self.db.read_session() as s:
            hit = self._find(s, host_or_id)
            hit_id, indicator_id = hit.id, hit.indicator_id
        decided = self.review.decide(principal, indicator_id, action=action, note=note)
        with self.db.read_session() as s:
            row = s.get(LookalikeHit, hit_id)
            if row is None:
                raise NotFound("No such lookalike hit.")
            return {**hit_view(row), "verdict": decided["verdict"]}

    def confirm(self, principal: Principal, host_or_id: str | int, note: str = "") -> dict:
        """Confirm a hit: the analyst decision ``confirm`` on its indicator (published in the
        blocklist); the hit's status becomes ``confirmed``."""
        return self._decide(principal, host_or_id, action="confirm", note=note)

    def dismiss(self, principal: Principal, host_or_id: str | int, note: str = "") -> dict:
        """Dismiss a hit: the decision ``delist`` on its indicator (``/v1/check`` answers
        ``delisted``, never a warning); the hit's status becomes ``dismissed`` and the scanner's
        later hits on the host are skipped."""
        return self._decide(principal, host_or_id, action="delist", note=note)

    def hits(self, principal: Principal, *, status: str | None = None, brand: str | None = None,
             campaign: str | None = None, limit: int = 100, cursor: int | None = None) -> dict:
        """Hits, newest first (``cursor``: the ``next`` of the page before), filtered by status,
        brand or campaign; with ``campaigns``, the campaigns among the hits so filtered (largest
        first) and how many of their hits are still new."""
        self.orgs.require(principal, "intel:analyst", subject="intel_lookalike_hits")
        errors = []
        if status is not None and status not in STATUSES:
            errors.append(FieldError("status", f"choose from: {', '.join(STATUSES)}"))
        if brand is not None and (not isinstance(brand, str) or len(brand) > MAX_BRAND):
            errors.append(FieldError("brand", f"at most {MAX_BRAND} characters"))
        if campaign is not None and (not isinstance(campaign, str) or len(campaign) > MAX_CAMPAIGN):
            errors.append(FieldError("campaign", f"at most {MAX_CAMPAIGN} characters"))
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIST:
            errors.append(FieldError("limit", f"from 1 to {MAX_LIST}"))
        if cursor is not None and (not isinstance(cursor, int) or not 0 < cursor < 2**63):
            errors.append(FieldError("cursor", "the next value of the page before"))
        if errors:
            raise InvalidInput("The request is not valid.", errors)
        where = []
        if status is not None:
            where.append(LookalikeHit.status == status)
        if brand is not None:
            where.append(LookalikeHit.brand == brand)
        if campaign is not None:
            where.append(LookalikeHit.campaign == campaign)
        with self.db.read_session() as s:
            q = select(LookalikeHit).where(*where)
            if cursor is not None:
                q = q.where(LookalikeHit.id < cursor)
            rows = s.execute(q.order_by(LookalikeHit.id.desc()).limit(limit + 1)).scalars().all()
            new = func.sum(case((LookalikeHit.status == "new", 1), else_=0))
            groups = s.execute(select(LookalikeHit.campaign, func.count(), new).where(*where)
                               .group_by(LookalikeHit.campaign).order_by(func.count().desc(), LookalikeHit.campaign)
                               .limit(50)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return {"items": [hit_view(h) for h in rows], "next": rows[-1].id if more else None,
                "campaigns": [{"campaign": c, "hits": n, "new": int(k or 0)} for c, n, k in groups]}
