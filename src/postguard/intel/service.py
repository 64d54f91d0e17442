"""Scam intelligence: lookups, reports, official channels, moderation and appeals.

Indicators are stored by a keyed digest of their normal form (see ``postguard.intel.normalize``);
personal values (phones, accounts, wallets), report texts, contacts and evidence files are vault
ciphertext under the platform's own organisation (``KEY_ORG``), whose keys rotate like any other.
A lookup that finds nothing writes nothing and logs nothing.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from typing import NamedTuple

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postguard import memo
from postguard.db.base import utcnow
from postguard.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from postguard.intel.evidence import check_file
from postguard.intel.exchange import SHARED_VERDICTS, category_of, to_shared
from postguard.intel.known import KnownIndex
from postguard.intel.models import (
    Appeal,
    Decision,
    Evidence,
    Indicator,
    OfficialChannel,
    Report,
    Reporter,
    ReportIndicator,
)
from postguard.intel.normalize import LINK_WARNINGS, Normal, detect, norm_domain, shown_host, unicode_host
from postguard.intel.sharing import TYPES as SHARED_TYPES
from postguard.intel.sharing import SharedIndicator
from postguard.intel.verdicts import (
    SEVERITY,
    Policy,
    ReportFact,
    Standing,
    Verdict,
    grade,
    judge_link,
)
from postguard.orgs.models import Organisation
from postguard.orgs.service import PLATFORM_ORG
from postguard.principals import ApiKeyPrincipal as Principal
from postguard.principals import StaffPrincipal, SystemActor
from postguard.vault.service import SealedValue, versions_sealed_in

KEY_ORG = PLATFORM_ORG  # the platform organisation (``OrgService.platform_org_id``) holds the keys
CATEGORIES = {
    "fake_courier": "posing as a courier or postal operator (fees, COD, undelivered parcel)",
    "fake_bank": "posing as a bank",
    "fake_police": "posing as police, prosecutors or a court",
    "fake_authority": "posing as a tax, social insurance, power or other public office",
    "fake_telco": "posing as a telecom operator (SIM lock, subscriber update)",
    "investment": "investment, crypto or trading scam",
    "job_task": "online job or 'task' scam (likes, orders, commissions)",
    "romance": "romance or friendship scam",
    "shopping": "fake shop, deposit or marketplace scam",
    "loan": "loan or debt-collection scam",
    "account_takeover": "OTP, password or account takeover",
    "malware_app": "asked to install an app or open a link that took control",
    "other": "something else",
}
CHANNEL_KINDS = {  # what an operator can register, and the indicator types each may be
    "domain": ("domain",),
    "hotline": ("phone",),
    "sms_brand": ("sms_brand",),
    "app": ("app",),
    "social": ("social",),
    "cod_account": ("bank_account",),
    "ewallet": ("ewallet",),
}
DECISIONS = ("confirm", "dispute", "delist", "clear")
MUTE_NOTE = ("The holder of an account or wallet used in a scam may be a 'mule' who sold or lent it, or "
             "a victim whose account was taken over; reports say the account was used, not who holds it.")
HEADLINES = {
    "unknown": "No reports found. That does not mean it is safe.",
    "reported": "Reported as used in scams. Be careful.",
    "corroborated": "Reported by several independent sources as used in scams. Do not transfer money.",
    "confirmed": "Confirmed as used in scams. Do not transfer money, share codes or install anything.",
    "disputed": "Reported, but disputed: a review or an appeal is open. Be careful meanwhile.",
    "delisted": "Removed from the list after review. That does not mean it is safe.",
    "official": "Official channel of {org}.",
    "suspicious": "This link is disguised: it really goes to {host}. Do not open it or enter anything there.",
}
HEADLINE_SUSPICIOUS_VI = ("Liên kết này được ngụy trang: thực chất nó dẫn tới {host}. Đừng mở, đừng nhập thông tin "
                          "gì vào đó.")
IDN_NOTE = ("The domain has letters outside a-z; written as a browser sends it, it is {value}.",
            "Tên miền có chữ ngoài a-z; viết theo cách trình duyệt gửi đi, nó là {value}.")
OFFICIAL_REASONS = frozenset({"official_channel", "reports_under_review"})
ADVICE = ("A genuine courier never asks you to transfer money to a personal account, to tell an OTP code, "
          "to install an app or to pay a storage fee. When unsure, hang up and call the operator's official hotline.")
# What staff of the platform organisation may do in the analyst console (as API-key scopes).
STAFF_SCOPES = {"analyst": ("intel:analyst",), "admin": ("intel:admin",)}
VN_TIME = timezone(timedelta(hours=7), "ICT")  # Vietnam has no daylight saving
MAX_INDICATORS = 10
MAX_TEXT = 4000
DUPLICATE_WINDOW = timedelta(days=30)
NO_REPORTS = {"code": "no_reports", "text": "Nothing has been reported about this yet."}
GRADE_CACHE_SECONDS = 30.0  # how old a worker's cached verdict of an unchanged indicator may be
GRADE_CACHE_SIZE = 100_000
# Answers kept per request body (``IntelService.keep_body``): bodies of at most this many bytes
# (whitespace can pad a valid body: the cap bounds memory), this many of them, each for at most
# GRADE_CACHE_SECONDS.
KEPT_BODY_BYTES = 256
KEPT_BODIES = 50_000


class CheckPlan(NamedTuple):
    normal: Normal
    targets: list[Normal]
    digests: list[bytes]
    answer: dict | None  # set when nothing is stored under any target, or a kept answer
    known: bool  # something is stored under a target
    generation: int  # of the known index, read before looking


@dataclass(frozen=True)
class Upload:
    data: bytes
    content_type: str | None = None


def _bad(field: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput("The request was refused.", [FieldError(field, message, code=code)])


class IntelService:
    def __init__(self, platform) -> None:
        self.p = platform
        s = platform.settings
        self.policy = Policy(half_life_days=s.intel_half_life_days, confirmed_days=s.intel_confirmed_days)
        self._lock = threading.Lock()
        self._digest_fn = None
        self._grade_cache: dict[int, tuple] = {}
        self._answers: dict[tuple[bytes, ...], tuple] = {}  # digests -> (generation, at, answer, indicator ids)
        self._bodies: OrderedDict[bytes, tuple] = OrderedDict()  # body -> (generation, expires, JSON, ids, kept at)
        self.grading: dict[tuple[bytes, ...], object] = {}  # digests -> the API's grading in flight (a future)
        self._hits: dict[int, int] = {}
        self._hits_at = float("-inf")

    @cached_property
    def known(self) -> KnownIndex:
        """Every stored indicator's digest, in memory (``postguard.intel.known``)."""
        return KnownIndex(self.p.db, refresh_seconds=self.p.settings.intel_index_refresh_seconds)

    # -- keys --------------------------------------------------------------------------------
    def _digest(self, text: str) -> bytes:
        if self._digest_fn is None:
            with self._lock:
                if self._digest_fn is None:
                    with self.p.db.session() as s:
                        self._digest_fn = self.p.vault.keyed_digest(s, purpose="intel-indicator")
        return self._digest_fn(text)

    def _ready(self) -> None:
        """Create (once) the keys this service uses, before any session is open: on SQLite a write
        inside another session would wait on the database lock."""
        self._digest("")
        self.key_org_id()
        self.p.lookups.ready()

    def digest_of(self, n: Normal) -> bytes:
        """The lookup key of a normal form (also what private lookups and sharing match on)."""
        return self._digest(f"{n.type}\0{n.value}")

    def key_versions_in_use(self, session: Session, *, org_id: int) -> set[int]:
        """Data-key versions that intelligence data is sealed under: the platform organisation's
        (a key rotation must not destroy them)."""
        code = session.execute(select(Organisation.code).where(Organisation.id == org_id)).scalar_one_or_none()
        if code != KEY_ORG:
            return set()
        return set().union(*(versions_sealed_in(session, column) for column in (
            Indicator.value_ct, Report.description_ct, Report.contact_ct, Evidence.content_ct,
            Appeal.statement_ct, Appeal.contact_ct)))

    def key_org_id(self) -> int:
        """The platform's own organisation, whose vault keys protect intelligence data."""
        return self.p.orgs.platform_org_id()

    def cli_principal(self) -> Principal:
        """The command line acts as the platform, with every scope."""
        return self.p.orgs.platform_principal(actor="cli")

    def _seal(self, s: Session, text: str | bytes | None, *, table: str, column: str, record_id: int) -> bytes | None:
        if text is None or text == "":
            return None
        data = text.encode("utf-8") if isinstance(text, str) else text
        return self.p.vault.encrypt(data, session=s, org_id=self.key_org_id(), table=table, column=column,
                                    record_id=str(record_id))

    def _sealed(self, blob: bytes | None, *, table: str, column: str, record_id: int) -> SealedValue:
        """A value sealed by ``_seal``, to open through the door."""
        return SealedValue(org_id=self.key_org_id(), table=table, column=column, record_id=str(record_id), blob=blob)

    @staticmethod
    def _text(raw: str | bytes | None) -> str | None:
        return raw.decode("utf-8") if isinstance(raw, bytes) else raw

    # -- indicators --------------------------------------------------------------------------
    def _find(self, s: Session, n: Normal) -> Indicator | None:
        return s.execute(select(Indicator).where(Indicator.digest == self.digest_of(n))).scalar_one_or_none()

    def _get_or_create(self, s: Session, n: Normal) -> Indicator:
        found = self._find(s, n)
        if found is not None:
            return found
        ind = Indicator(type=n.type, digest=self.digest_of(n), display=n.display[:300],
                        value=None if n.personal else n.value, domain=n.domain, qualifier=n.bank,
                        verdict="unknown", score=0)
        ind.lookup_bucket, ind.lookup_output = self.p.lookups.entry(n.type, n.value)
        try:
            with s.begin_nested():  # another report may create the same indicator at the same moment
                s.add(ind)
                s.flush()
        except IntegrityError:
            return self._find(s, n)
        self.known.add(ind.digest)
        if n.personal:
            ind.value_ct = self._seal(s, n.value, table="intel_indicators", column="value", record_id=ind.id)
        return ind

    def values_of(self, s: Session, inds, *, purpose: str) -> list[str]:
        """The normal forms of stored indicators, personal ones opened through the door by the platform
        itself (one log entry for the lot), for the service's own use: ``indicator_share`` (the shared
        feed) or ``lookup_index`` (the private-lookup index). ``s`` must hold no write yet."""
        personal = [i for i in inds if i.value is None]
        opened = dict(zip((i.id for i in personal), self.p.door.open(
            s, SystemActor(org_id=self.key_org_id(), actor="postguard:intel"), purpose,
            [self._sealed(i.value_ct, table="intel_indicators", column="value", record_id=i.id) for i in personal],
        ), strict=False)) if personal else {}
        return [i.value if i.value is not None else opened[i.id] for i in inds]

    def _official(self, s: Session, indicator_id: int) -> tuple[OfficialChannel, Organisation] | None:
        row = s.execute(
            select(OfficialChannel, Organisation)
            .join(Organisation, Organisation.id == OfficialChannel.org_id)
            .where(OfficialChannel.indicator_id == indicator_id, OfficialChannel.status == "verified")
        ).one_or_none()
        return (row[0], row[1]) if row else None

    def _official_for(self, s: Session, n: Normal, ind: Indicator | None):
        """The verified official channel covering ``n``: itself, or for a link or domain, the
        official domain it lies under."""
        if ind is not None and (found := self._official(s, ind.id)) is not None:
            return found
        if n.type in ("url", "domain") and n.domain:
            for host in dict.fromkeys([n.host, n.domain]):
                if host is None or (n.type == "domain" and host == n.value):
                    continue
                try:
                    other = self._find(s, norm_domain(host))
                except InvalidInput:
                    continue
                if other is not None and (found := self._official(s, other.id)) is not None:
                    return found
        return None

    def _official_covering(self, s: Session, ind: Indicator):
        """The verified channel covering a stored indicator: itself, or the official registrable
        domain a link or domain lies under (official domains are registered as registrable domains)."""
        found = self._official(s, ind.id)
        if found is None and ind.type in ("url", "domain") and ind.domain:
            other = s.execute(select(Indicator.id).where(
                Indicator.digest == self._digest(f"domain\0{ind.domain}"))).scalar_one_or_none()
            if other is not None and other != ind.id:
                found = self._official(s, other)
        return found

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
        official = self._official_covering(s, ind)
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
        return Standing(official=official is not None, official_org=official[1].name if official else None,
                        decision=ind.decision, decision_at=ind.decision_at, decision_source=ind.decision_source,
                        appeal_open=appeal_open, held_reports=held)

    def _grade(self, s: Session, ind: Indicator, *, now: datetime | None = None) -> Verdict:
        return grade(self._facts(s, ind.id), self._standing(s, ind), now=now or utcnow(), policy=self.policy)

    def _regrade(self, s: Session, ind: Indicator, v: Verdict | None = None) -> Verdict:
        v = v or self._grade(s, ind)
        ind.verdict, ind.score, ind.graded_at, ind.updated_at = v.verdict, v.score, utcnow(), utcnow()
        self.known.changed()
        if v.verdict == "corroborated" and not ind.needs_review:
            ind.needs_review, ind.review_reason = True, "corroborated"
        return v

    # -- lookups -----------------------------------------------------------------------------
    def check(self, raw: str, *, type: str | None = None, client: str, now: datetime | None = None) -> dict:
        """Look up any raw input. Rate limited per ``client``; a clean lookup writes and logs nothing."""
        plan = self.check_plan(raw, type=type, client=client)
        answer = plan.answer if plan.answer is not None else self.check_stored(plan, now=now)
        return self.link_answer(plan.normal, answer)

    @staticmethod
    def link_answer(n: Normal, answer: dict) -> dict:
        """The answer for the written form looked up: ``answer`` (graded, and kept, per normal form)
        with what the link's writing adds. A deceptive link (``n.warnings``) is ``suspicious`` at
        least and never official, each warning explained in Vietnamese and English; a link's host
        is shown in both forms (Unicode and the A-labels a browser sends)."""
        if n.type != "url" and not n.warnings:
            return answer
        out = dict(answer)
        host = n.host or ""
        out["link"] = {"host": host, "host_unicode": unicode_host(host), "shown": shown_host(host),
                       "domain": n.domain, "deceptive": bool(n.warnings), "warnings": [code for code, _ in n.warnings]}
        if host != out["link"]["host_unicode"]:
            out["notes"] = [*answer["notes"], {"code": "idn_host", "text": IDN_NOTE[0].format(value=host),
                                               "text_vi": IDN_NOTE[1].format(value=host), "value": host}]
        if not n.warnings:
            return out
        verdict = judge_link(answer["verdict"], n.warnings)
        reasons = [{"code": f"link_{code}", "text": LINK_WARNINGS[code][1].format(value=value),
                    "text_vi": LINK_WARNINGS[code][0].format(value=value), "value": value}
                   for code, value in n.warnings]
        out["reasons"] = reasons + [r for r in answer["reasons"] if r["code"] not in OFFICIAL_REASONS]
        out["official"] = None
        if verdict != answer["verdict"]:
            shown = shown_host(host) if host else "?"
            out.update(verdict=verdict, headline=HEADLINES["suspicious"].format(host=shown),
                       headline_vi=HEADLINE_SUSPICIOUS_VI.format(host=shown))
        return out

    def check_plan(self, raw: str, *, type: str | None = None, client: str) -> CheckPlan:
        """The first half of ``check``, with no I/O besides the rate limiter: limit, normalise, and
        answer at once when no target is stored at all (``plan.answer``); otherwise the plan goes
        to ``check_stored``. The API runs this half on the event loop."""
        self._limit_check(client)
        generation = self.known.generation  # before looking: a change meanwhile voids what is kept
        n = detect(raw, type)
        targets = [n]
        if n.type == "url" and n.domain:
            # The link, its host and its registrable domain: a report or an official entry on any counts.
            for host in dict.fromkeys([n.host, n.domain]):
                try:
                    targets.append(norm_domain(host))
                except InvalidInput:
                    pass
        digests = [self.digest_of(t) for t in targets]
        may_know = self.known.may_know
        for d in digests:
            if may_know(d):
                return CheckPlan(n, targets, digests, self.kept_answer(digests), True, generation)
        # nothing stored under any of them (the common case): no query, no write, no log
        return CheckPlan(n, targets, digests, self._unknown(n, targets), False, generation)

    def _limit_check(self, client: str) -> None:
        self.p.limiter.hit(self.p.settings.intel_check_rate, "intel-check", client,
                           message="Too many lookups; try again later.")

    # -- answers kept per request body (the API's hot path) -----------------------------------------
    def kept_body(self, body: bytes) -> tuple | None:
        """What ``keep_body`` kept for exactly this request body, while nothing stored changed since
        and the answer is younger than ``GRADE_CACHE_SECONDS``; None: parse the body and
        ``check_plan``. Memory only, nothing counted: answer with ``serve_kept``."""
        kept = self._bodies.get(body) if len(body) <= KEPT_BODY_BYTES else None
        if kept is not None and kept[0] == self.known.current_generation() and time.monotonic() < kept[1]:
            return kept
        return None

    def serve_kept(self, kept: tuple, client: str) -> bytes:
        """The kept answer's JSON, limited and counted like any lookup."""
        self._limit_check(client)
        self._count_hits(kept[3])
        return kept[2]

    def keep_body(self, body: bytes, plan: CheckPlan, answer: bytes) -> None:
        """Keep ``answer``, the JSON of ``plan``'s answer, under the request ``body`` it was read
        from, for ``kept_body``. A known target's answer is kept only as graded for the plan's
        generation, and no longer than that grading is; bodies longer than ``KEPT_BODY_BYTES``
        are never kept; ``forget_kept`` drops every body ``GRADE_CACHE_SECONDS`` after it was kept."""
        if len(body) > KEPT_BODY_BYTES:
            return
        now = time.monotonic()
        if plan.known:
            graded = self._answers.get(tuple(plan.digests))
            if graded is None or graded[0] != plan.generation:
                return
            expires, ids = graded[1] + GRADE_CACHE_SECONDS, graded[3]
        else:
            expires, ids = now + GRADE_CACHE_SECONDS, ()
        memo.keep(self._bodies, body, (plan.generation, expires, answer, ids, now), KEPT_BODIES)

    def forget_kept(self) -> None:
        """Drop the bodies kept ``GRADE_CACHE_SECONDS`` ago or earlier (the server calls this every
        second), so that what was looked up leaves this worker's memory soon after."""
        horizon = time.monotonic() - GRADE_CACHE_SECONDS
        bodies = self._bodies
        with contextlib.suppress(StopIteration, KeyError, RuntimeError):
            while True:
                oldest = next(iter(bodies))
                if bodies[oldest][4] > horizon:
                    return
                del bodies[oldest]

    def kept_answer(self, digests: list[bytes]) -> dict | None:
        """The answer graded for these targets, when nothing stored changed since and it is younger
        than ``GRADE_CACHE_SECONDS``; the hit is counted. None: grade with ``check_stored``."""
        kept = self._answers.get(tuple(digests))
        if kept is not None and kept[0] == self.known.generation and time.monotonic() - kept[1] < GRADE_CACHE_SECONDS:
            self._count_hits(kept[3])
            return kept[2]
        return None

    def check_stored(self, plan: CheckPlan, *, now: datetime | None = None) -> dict:
        """The second half of ``check``: read and grade what is stored (database I/O)."""
        n, targets, digests = plan.normal, plan.targets, plan.digests
        generation, at = self.known.generation, time.monotonic()  # before reading: a change meanwhile voids it
        graded: list[tuple[Normal, Indicator | None, Verdict | None, tuple | None]] = []
        with self.p.db.read_session() as s:
            rows = {i.digest: i for i in s.execute(select(Indicator).where(Indicator.digest.in_(digests))).scalars()}
            for t, d in zip(targets, digests, strict=True):
                ind = rows.get(d)
                if ind is None:
                    graded.append((t, None, None, None))
                    continue
                graded.append((t, ind, *self._graded(s, ind, now=now)))
        ids = [g[1].id for g in graded if g[1] is not None]
        self._count_hits(ids)
        answer = self._answer(n, graded)
        if now is None:
            if len(self._answers) >= GRADE_CACHE_SIZE:
                self._answers.clear()
            self._answers[tuple(digests)] = (generation, at, answer, ids)
        return answer

    def _graded(self, s: Session, ind: Indicator, *, now: datetime | None) -> tuple[Verdict, tuple | None]:
        """The verdict and official owner of a found indicator. Graded afresh, or taken from this
        worker's cache while the indicator row is unchanged (every regrade stamps ``updated_at``) and
        the entry is younger than ``GRADE_CACHE_SECONDS`` (decay and reporters' reputations move
        slowly; a cached entry is at most that old)."""
        key = (ind.id, ind.updated_at)
        clock = time.monotonic()
        hit = self._grade_cache.get(ind.id) if now is None else None
        if hit is not None and hit[0] == key and clock - hit[1] < GRADE_CACHE_SECONDS:
            return hit[2], hit[3]
        official = self._official(s, ind.id)
        verdict = self._grade(s, ind, now=now)
        owner = (official[0].kind, official[0].label, official[1].code, official[1].name) if official else None
        if now is None:
            if len(self._grade_cache) >= GRADE_CACHE_SIZE:
                self._grade_cache.clear()
            self._grade_cache[ind.id] = (key, clock, verdict, owner)
        return verdict, owner

    def _count_hits(self, ids: list[int]) -> None:
        """Count lookups that found something (no who, no when): added up in memory and written at
        most once a second, so that a popular number does not make every lookup a write."""
        if not ids:
            return
        with self._lock:
            for i in ids:
                self._hits[i] = self._hits.get(i, 0) + 1
            due = time.monotonic() - self._hits_at >= 1.0
        if due and not self.known.managed:  # else the server's task writes them, off the event loop
            self.flush_lookups()

    def flush_lookups(self) -> None:
        with self._lock:
            pending, self._hits, self._hits_at = self._hits, {}, time.monotonic()
        if pending:
            t = Indicator.__table__
            with self.p.db.session() as s:  # one statement, executed for every row (executemany)
                s.execute(t.update().where(t.c.id == bindparam("iid")).values(lookups=t.c.lookups + bindparam("n")),
                          [{"iid": iid, "n": n} for iid, n in sorted(pending.items())])

    @staticmethod
    def _unknown(n: Normal, targets: list[Normal]) -> dict:
        """``_answer`` when nothing is stored under any target, built directly (the common lookup)."""
        return {"type": n.type, "display": n.display, "verdict": "unknown", "score": 0,
                "headline": HEADLINES["unknown"], "reasons": [NO_REPORTS], "official": None, "notes": [],
                "related": [{"type": t.type, "display": t.display, "verdict": "unknown", "score": 0}
                            for t in targets[1:]], "advice": ADVICE}

    def _answer(self, n: Normal, graded) -> dict:
        official = next(((t, o) for t, _, _, o in graded if o is not None), None)
        main = graded[0]
        if official is not None:
            kind, label, code, name = official[1]
            verdict = next(v for _, _, v, o in graded if o is not None)
            chosen = verdict
            headline = HEADLINES["official"].format(org=name)
            official_out = {"org": code, "name": name, "kind": kind, "label": label,
                            "via": official[0].type, "display": official[0].display}
        else:
            official_out = None
            found = [(t, v) for t, _, v, _ in graded if v is not None]
            worst = max(found, key=lambda tv: SEVERITY[tv[1].verdict], default=None)
            chosen = worst[1] if worst and SEVERITY[worst[1].verdict] > 0 else (main[2] or None)
            verdict_name = chosen.verdict if chosen else "unknown"
            headline = HEADLINES[verdict_name]
        verdict_name = chosen.verdict if chosen else "unknown"
        out = {
            "type": n.type,
            "display": n.display,
            "verdict": verdict_name,
            "score": chosen.score if chosen else 0,
            "headline": headline,
            "reasons": [r.as_dict() for r in chosen.reasons] if chosen else [NO_REPORTS],
            "official": official_out,
            "notes": [],
            "related": [{"type": t.type, "display": t.display, "verdict": v.verdict if v else "unknown",
                         "score": v.score if v else 0} for t, _, v, _ in graded[1:]],
            "advice": ADVICE,
        }
        if n.type in ("bank_account", "ewallet") and verdict_name not in ("unknown", "official", "delisted"):
            out["notes"].append({"code": "holder_may_be_mule_or_victim", "text": MUTE_NOTE})
        return out

    # -- reports -----------------------------------------------------------------------------
    def _reporter(self, s: Session, *, principal: Principal | None, client: str) -> Reporter:
        """The reporting identity, created on its first report. An upsert (``INSERT ... ON CONFLICT DO
        NOTHING``, then read): two first reports from one client at once both get the one row."""
        key = self._digest(f"reporter\0org\0{principal.org_id}" if principal else f"reporter\0client\0{client}")
        ins = (postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert)(Reporter.__table__)
        s.execute(ins.values(key=key, kind="org" if principal else "public", reports=0, upheld=0, rejected=0,
                             created_at=utcnow()).on_conflict_do_nothing(index_elements=["key"]))
        return s.execute(select(Reporter).where(Reporter.key == key)).scalar_one()

    @staticmethod
    def _count_report(s: Session, reporter: Reporter) -> None:
        """One more report on the reporter's record, incremented in the database (never read, add, write)."""
        s.execute(update(Reporter).where(Reporter.id == reporter.id).values(reports=Reporter.reports + 1)
                  .execution_options(synchronize_session=False))

    def _parse_indicators(self, items) -> list[Normal]:
        if not isinstance(items, list) or not items:
            raise _bad("indicators", "name at least one phone, account, wallet, link, domain, page or app",
                       code="required")
        if len(items) > MAX_INDICATORS:
            raise _bad("indicators", f"at most {MAX_INDICATORS} per report", code="too_many")
        out: list[Normal] = []
        errors: list[FieldError] = []
        for i, item in enumerate(items):
            value, type_ = (item.get("value"), item.get("type")) if isinstance(item, dict) else (item, None)
            try:
                n = detect(value, type_)
            except InvalidInput as e:
                errors.extend(FieldError(f"indicators[{i}]", fe.message, code=fe.code) for fe in e.errors)
                continue
            if all(n.value != o.value or n.type != o.type for o in out):
                out.append(n)
        if errors:
            raise InvalidInput("The report was not accepted.", errors)
        return out

    def report(self, *, indicators, category: str, description: str | None = None,
               amount_lost_vnd: int | None = None, occurred_on: str | None = None, contact: str | None = None,
               evidence: list[Upload] | None = None, principal: Principal | None = None, client: str) -> dict:
        """Accept a scam report (all or nothing). ``principal`` is an organisation reporting with the
        ``intel:report`` scope; without one it is a citizen's (with a contact) or anonymous report."""
        if principal is not None:
            self.p.orgs.require(principal, "intel:report")
        evidence = evidence or []
        s_ = self.p.settings
        errors: list[FieldError] = []
        if category not in CATEGORIES:
            errors.append(FieldError("category", f"choose from: {', '.join(CATEGORIES)}"))
        if description is not None and len(description) > MAX_TEXT:
            errors.append(FieldError("description", f"at most {MAX_TEXT} characters", code="too_long"))
        if contact is not None and len(contact) > 200:
            errors.append(FieldError("contact", "at most 200 characters", code="too_long"))
        if amount_lost_vnd is not None and (not isinstance(amount_lost_vnd, int) or isinstance(amount_lost_vnd, bool)
                                            or not 0 <= amount_lost_vnd <= 10**15):
            errors.append(FieldError("amount_lost_vnd", "a whole number of đồng, 0 or more"))
        if occurred_on:
            try:
                if date.fromisoformat(occurred_on) > utcnow().date():
                    errors.append(FieldError("occurred_on", "cannot be in the future"))
            except (ValueError, TypeError):
                errors.append(FieldError("occurred_on", "a date as YYYY-MM-DD"))
        if len(evidence) > s_.intel_evidence_max_files:
            errors.append(FieldError("evidence", f"at most {s_.intel_evidence_max_files} files", code="too_many"))
        if errors:
            raise InvalidInput("The report was not accepted.", errors)
        normals = self._parse_indicators(indicators)
        kinds = [check_file(u.data, declared=u.content_type, max_bytes=s_.intel_evidence_max_bytes, index=i)
                 for i, u in enumerate(evidence)]
        client_key = f"org:{principal.org_id}" if principal else client
        self.p.limiter.hit(s_.intel_report_rate, "intel-report", client_key,
                           message="Too many reports from this client; try again later.")
        contact = (contact or "").strip() or None
        self._ready()
        with self.p.db.session() as s:
            reporter = self._reporter(s, principal=principal, client=client)
            # Lock order: the reporter, then the platform's data key (every value sealed below reserves
            # under it), then the indicators; so two reports naming the same new numbers in another
            # order wait for each other instead of deadlocking.
            self.p.vault.sealer(s, org_id=self.key_org_id(), count=0)
            inds = [self._get_or_create(s, n) for n in normals]
            official = {i.id for n, i in zip(normals, inds, strict=True) if self._official_for(s, n, i) is not None}
            kind = "org" if principal else ("citizen" if contact else "anonymous")
            fp = self._digest("fp\0" + reporter.key.hex() + "\0" + category + "\0"
                              + ",".join(str(i) for i in sorted(i.id for i in inds)))
            original = s.execute(
                select(Report).where(Report.fingerprint == fp, Report.status.in_(("accepted", "held")),
                                     Report.created_at >= utcnow() - DUPLICATE_WINDOW)
                .order_by(Report.id).limit(1)
            ).scalar_one_or_none()
            rep = Report(public_id=secrets.token_urlsafe(12), reporter_id=reporter.id, reporter_kind=kind,
                         org_id=principal.org_id if principal else None, category=category,
                         amount_lost_vnd=amount_lost_vnd, occurred_on=occurred_on or None,
                         status="merged" if original else ("held" if official else "accepted"),
                         merged_into_id=original.id if original else None, fingerprint=fp, duplicates=0)
            s.add(rep)
            s.flush()
            rep.description_ct = self._seal(s, description, table="intel_reports", column="description",
                                            record_id=rep.id)
            rep.contact_ct = self._seal(s, contact, table="intel_reports", column="contact", record_id=rep.id)
            target = original or rep
            for u, media in zip(evidence, kinds, strict=True):
                ev = Evidence(report_id=target.id, media_type=media, size=len(u.data))
                s.add(ev)
                s.flush()
                ev.content_ct = self._seal(s, u.data, table="intel_evidence", column="content", record_id=ev.id)
            if original is not None:
                original.duplicates += 1
            else:
                for ind in inds:
                    s.add(ReportIndicator(report_id=rep.id, indicator_id=ind.id))
                self._count_report(s, reporter)
            s.flush()
            verdicts = {}
            for ind in inds:
                ind.last_report_at = utcnow()
                if ind.id in official:
                    ind.needs_review, ind.review_reason = True, "official_reported"
                verdicts[ind.display] = self._regrade(s, ind).verdict
            out = {"report": target.public_id, "status": "merged" if original else rep.status,
                   "reporter_kind": kind, "indicators": [{"type": i.type, "display": i.display,
                                                          "verdict": i.verdict} for i in inds],
                   "evidence": len(evidence)}
        return out

    # -- official channels -------------------------------------------------------------------
    def official_add(self, principal: Principal, *, kind: str, value: str, label: str = "",
                     org_code: str | None = None) -> dict:
        """Register a channel as an organisation's own (pending until an administrator verifies it).
        With ``intel:official`` an organisation registers its own; ``intel:admin`` may register for any."""
        if org_code and org_code.strip().upper() != principal.org_code:
            self.p.orgs.require(principal, "intel:admin")
        elif not principal.can("intel:admin"):
            self.p.orgs.require(principal, "intel:official")
        if kind not in CHANNEL_KINDS:
            raise _bad("kind", f"choose from: {', '.join(CHANNEL_KINDS)}")
        if len(label) > 200:
            raise _bad("label", "at most 200 characters", code="too_long")
        n = detect(value, CHANNEL_KINDS[kind][0])
        if n.warnings:  # a look-alike or disguised name is never registered as anyone's own
            raise _bad("value", "this is written to deceive (" + ", ".join(c for c, _ in n.warnings)
                       + "); it cannot be an official channel", code="deceptive")
        if kind == "domain" and n.domain != n.value:
            raise _bad("value", f"register the registrable domain ({n.domain}); its subdomains are covered")
        org = self.p.orgs.get(org_code or principal.org_code)
        self._ready()
        with self.p.db.session() as s:
            ind = self._get_or_create(s, n)
            existing = s.execute(select(OfficialChannel).where(OfficialChannel.indicator_id == ind.id)
                                 ).scalar_one_or_none()
            if existing is not None and existing.status != "revoked":
                if existing.org_id != org.id:
                    raise Conflict("This channel is already registered to another organisation.")
                raise Conflict("This channel is already registered.")
            if existing is not None:
                s.delete(existing)
                s.flush()
            ch = OfficialChannel(org_id=org.id, indicator_id=ind.id, kind=kind, label=label.strip(),
                                 status="pending", registered_by=principal.actor)
            s.add(ch)
            s.flush()
            out = self._channel_view(ch, ind, org)
        self.p.audit.append(actor=principal.actor, action="intel_official_add", org_id=org.id,
                            subject=f"channel:{out['id']}", details={"kind": kind, "type": n.type})
        return out

    @staticmethod
    def _channel_view(ch: OfficialChannel, ind: Indicator, org: Organisation) -> dict:
        return {"id": ch.id, "org": org.code, "org_name": org.name, "kind": ch.kind, "label": ch.label,
                "type": ind.type, "display": ind.display, "status": ch.status,
                "verified_at": ch.verified_at.isoformat() if ch.verified_at else None}

    def official_set_status(self, principal: Principal, channel_id: int, *, status: str, note: str = "") -> dict:
        """Verify or revoke a channel (platform administrators: ``intel:admin``)."""
        self.p.orgs.require(principal, "intel:admin", subject=f"channel:{channel_id}")
        if status not in ("verified", "revoked"):
            raise _bad("status", "verified or revoked")
        with self.p.db.session() as s:
            ch = s.get(OfficialChannel, channel_id)
            if ch is None:
                raise NotFound(f"No official channel {channel_id}.")
            ind, org = s.get(Indicator, ch.indicator_id), s.get(Organisation, ch.org_id)
            before = ch.status
            ch.status = status
            if status == "verified":
                ch.verified_by, ch.verified_at = principal.actor, utcnow()
            else:  # revoked: reports held for review count again
                for r in s.execute(select(Report).join(ReportIndicator, ReportIndicator.report_id == Report.id)
                                   .where(ReportIndicator.indicator_id == ind.id, Report.status == "held")).scalars():
                    r.status = "accepted"
            s.flush()
            v = self._regrade(s, ind)
            s.add(Decision(indicator_id=ind.id, actor=principal.actor, action=f"official_{status}",
                           from_verdict=None, to_verdict=v.verdict, note=note[:2000]))
            out = self._channel_view(ch, ind, org)
        self.p.audit.append(actor=principal.actor, action=f"intel_official_{status}", org_id=org.id,
                            subject=f"channel:{channel_id}", details={"from": before, "to": status})
        return out

    def official_list(self, *, org_code: str | None = None, status: str | None = None) -> list[dict]:
        with self.p.db.read_session() as s:
            q = (select(OfficialChannel, Indicator, Organisation)
                 .join(Indicator, Indicator.id == OfficialChannel.indicator_id)
                 .join(Organisation, Organisation.id == OfficialChannel.org_id)
                 .order_by(Organisation.code, OfficialChannel.kind, OfficialChannel.id))
            if org_code:
                q = q.where(Organisation.code == org_code.strip().upper())
            if status:
                q = q.where(OfficialChannel.status == status)
            return [self._channel_view(ch, ind, org) for ch, ind, org in s.execute(q).all()]

    # -- moderation --------------------------------------------------------------------------
    def queue(self, principal: Principal, *, limit: int = 50, reported: bool = False) -> list[dict]:
        """What analysts should look at: open appeals (overdue first), reports held against official
        channels, corroborated indicators awaiting confirmation; with ``reported``, then indicators
        with reports but no decision yet (newest reports first)."""
        self.p.orgs.require(principal, "intel:analyst")
        now = utcnow()
        with self.p.db.read_session() as s:
            inds = s.execute(select(Indicator).where(Indicator.needs_review.is_(True))).scalars().all()
            appeals = {a.indicator_id: a for a in s.execute(select(Appeal).where(Appeal.status == "open")).scalars()}
            for ind_id in appeals.keys() - {i.id for i in inds}:
                inds.append(s.get(Indicator, ind_id))
            if reported:
                seen = {i.id for i in inds}
                inds.extend(i for i in s.execute(
                    select(Indicator).where(Indicator.verdict == "reported", Indicator.decision.is_(None),
                                            Indicator.needs_review.is_(False))
                    .order_by(Indicator.last_report_at.desc(), Indicator.id.desc()).limit(limit)).scalars()
                    if i.id not in seen)
            items = []
            for ind in inds:
                v = self._grade(s, ind, now=now)
                a = appeals.get(ind.id)
                items.append({
                    "indicator": ind.id, "type": ind.type, "display": ind.display, "verdict": v.verdict,
                    "score": v.score, "reason": "appeal" if a else (ind.review_reason or "new_reports"),
                    "reasons": [r.as_dict() for r in v.reasons], "reports": v.reports,
                    "distinct_reporters": v.reporters, "lookups": ind.lookups,
                    "last_report_at": ind.last_report_at.isoformat() if ind.last_report_at else None,
                    "appeal": {"id": a.public_id, "deadline_at": a.deadline_at.isoformat(),
                               "overdue": a.deadline_at < now} if a else None,
                })
        items.sort(key=lambda x: (not (x["appeal"] and x["appeal"]["overdue"]), x["appeal"] is None,
                                  x["reason"] == "new_reports",
                                  x["appeal"]["deadline_at"] if x["appeal"] else "", -x["score"]))
        return items[:limit]

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
        self.p.orgs.require(principal, "intel:analyst")
        self._ready()
        with self.p.db.read_session() as s:
            ind = s.get(Indicator, indicator_id)
            if ind is None:
                raise NotFound(f"No indicator {indicator_id}.")
            personal = ind.value_ct is not None
            value = self._text(self.p.door.open(
                s, principal, purpose, [self._sealed(ind.value_ct, table="intel_indicators", column="value",
                                                     record_id=ind.id)], subject=f"indicator:{indicator_id}",
            )[0]) if personal else ind.value
            return {"indicator": ind.id, "type": ind.type, "display": ind.display, "value": value,
                    "qualifier": ind.qualifier, "logged": personal}

    def appeals(self, principal: Principal, *, status: str = "open", limit: int = 100) -> list[dict]:
        """Appeals by status (open ones soonest deadline first) with their indicator's verdict."""
        self.p.orgs.require(principal, "intel:analyst")
        if status not in ("open", "upheld", "rejected"):
            raise _bad("status", "open, upheld or rejected")
        now = utcnow()
        with self.p.db.read_session() as s:
            order = Appeal.deadline_at.asc() if status == "open" else Appeal.decided_at.desc()
            rows = s.execute(select(Appeal, Indicator).join(Indicator, Indicator.id == Appeal.indicator_id)
                             .where(Appeal.status == status).order_by(order, Appeal.id).limit(limit)).all()
            return [{"id": a.public_id, "status": a.status, "indicator": ind.id, "type": ind.type,
                     "display": ind.display, "verdict": self._grade(s, ind, now=now).verdict,
                     "created_at": a.created_at.isoformat(), "deadline_at": a.deadline_at.isoformat(),
                     "overdue": a.status == "open" and a.deadline_at < now,
                     "days_left": (a.deadline_at - now).days if a.status == "open" else None,
                     "decided_by": a.decided_by, "decided_at": a.decided_at.isoformat() if a.decided_at else None}
                    for a, ind in rows]

    def appeal_reveal(self, principal: Principal, appeal_id: str) -> dict:
        """An appeal's statement and contact (vault ciphertext), opened through the door (purpose
        ``appeal_review``): logged before they are decrypted."""
        self.p.orgs.require(principal, "intel:analyst")
        self._ready()
        with self.p.db.read_session() as s:
            a = s.execute(select(Appeal).where(Appeal.public_id == appeal_id)).scalar_one_or_none()
            if a is None:
                raise NotFound("No such appeal.")
            cols = ("statement", "contact")
            opened = self.p.door.open(
                s, principal, "appeal_review",
                [self._sealed(getattr(a, f"{col}_ct"), table="intel_appeals", column=col, record_id=a.id) for col in cols],
                subject=f"indicator:{a.indicator_id}", details={"appeal": appeal_id})
            return {"id": appeal_id, **{col: self._text(raw) for col, raw in zip(cols, opened, strict=False)}}

    def stats(self, principal: Principal, *, days: int = 30, now: datetime | None = None) -> dict:
        """Reports received per day and category over the last ``days`` days (Vietnam's calendar
        days, UTC+7), merged duplicates left out. Counts only: nothing personal."""
        if not (principal.can("intel:analyst") or principal.can("intel:admin")):
            self.p.orgs.refuse(principal, reason="needs the intel:analyst scope", subject="intel:stats",
                               message="This needs the intel:analyst scope.")
        if not 1 <= days <= 366:
            raise _bad("days", "between 1 and 366")
        now = now or utcnow()
        end = now.astimezone(VN_TIME).date()
        dates = [end - timedelta(days=days - 1 - i) for i in range(days)]
        start = datetime.combine(dates[0], datetime.min.time(), tzinfo=VN_TIME)
        counts: dict[str, dict[date, int]] = {}
        with self.p.db.read_session() as s:
            rows = s.execute(select(Report.created_at, Report.category)
                             .where(Report.created_at >= start, Report.status != "merged")).all()
        for at, category in rows:
            day = at.astimezone(VN_TIME).date()
            if dates[0] <= day <= end:
                by_day = counts.setdefault(category, {})
                by_day[day] = by_day.get(day, 0) + 1
        series = [{"category": c, "counts": [counts[c].get(d, 0) for d in dates], "total": sum(counts[c].values())}
                  for c in CATEGORIES if c in counts]
        totals = [sum(x["counts"][i] for x in series) for i in range(days)]
        return {"days": [d.isoformat() for d in dates], "series": series, "totals": totals, "total": sum(totals)}

    def indicator(self, principal: Principal, indicator_id: int, *, reveal: bool = False) -> dict:
        """An indicator with its verdict and reports, for analysts. ``reveal`` also decrypts report
        texts and contacts through the door (purpose ``report_review``), logged before anything is opened."""
        self.p.orgs.require(principal, "intel:analyst", subject=f"indicator:{indicator_id}")
        self._ready()
        with self.p.db.read_session() as s:
            ind = s.get(Indicator, indicator_id)
            if ind is None:
                raise NotFound(f"No indicator {indicator_id}.")
            v = self._grade(s, ind)
            reports = s.execute(
                select(Report).join(ReportIndicator, ReportIndicator.report_id == Report.id)
                .where(ReportIndicator.indicator_id == ind.id).order_by(Report.id)).scalars().all()
            cols = ("description", "contact")
            texts = iter(self.p.door.open(
                s, principal, "report_review",
                [self._sealed(getattr(r, f"{col}_ct"), table="intel_reports", column=col, record_id=r.id)
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
                    item.update({col: self._text(next(texts)) for col in cols})
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
        self.p.orgs.require(principal, "intel:analyst", subject=f"indicator:{indicator_id}")
        if action not in DECISIONS:
            raise _bad("action", f"choose from: {', '.join(DECISIONS)}")
        if source not in ("analyst", "official_source"):
            raise _bad("source", "analyst or official_source")
        with self.p.db.session() as s:
            ind = s.get(Indicator, indicator_id)
            if ind is None:
                raise NotFound(f"No indicator {indicator_id}.")
            before = self._grade(s, ind).verdict
            if action == "confirm" and self._official_covering(s, ind) is not None:
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
            after = self._regrade(s, ind).verdict  # a cleared, corroborated indicator goes back to the queue
            s.add(Decision(indicator_id=ind.id, actor=principal.actor, action=action, from_verdict=before,
                           to_verdict=after, note=note[:2000]))
        self.p.audit.append(actor=principal.actor, action=f"intel_{action}", org_id=principal.org_id,
                            subject=f"indicator:{indicator_id}",
                            details={"from": before, "to": after, "source": source if action == "confirm" else "analyst"})
        return {"indicator": indicator_id, "from": before, "verdict": after}

    def _credit_reporters(self, s: Session, indicator_id: int) -> None:
        """Reporters of a confirmed indicator gain reputation (once per report)."""
        ids = s.execute(select(Report.reporter_id).join(ReportIndicator, ReportIndicator.report_id == Report.id)
                        .where(ReportIndicator.indicator_id == indicator_id, Report.status == "accepted")).scalars()
        for rid in set(ids):
            rep = s.get(Reporter, rid)
            rep.upheld += 1

    def review_report(self, principal: Principal, report_id: str, *, action: str, note: str = "") -> dict:
        """accept (a held report: it counts for its non-official indicators) or reject (spam or abuse:
        it stops counting and its reporter's reputation drops)."""
        self.p.orgs.require(principal, "intel:analyst", subject=f"report:{report_id}")
        if action not in ("accept", "reject"):
            raise _bad("action", "accept or reject")
        with self.p.db.session() as s:
            r = s.execute(select(Report).where(Report.public_id == report_id)).scalar_one_or_none()
            if r is None:
                raise NotFound("No such report.")
            before = r.status
            if before in ("merged",):
                raise Conflict("A merged duplicate is reviewed with the report it was merged into.")
            r.status = "accepted" if action == "accept" else "rejected"
            if action == "reject" and before != "rejected":
                s.get(Reporter, r.reporter_id).rejected += 1
                for m in s.execute(select(Report).where(Report.merged_into_id == r.id)).scalars():
                    m.status = "rejected"
            s.flush()
            ind_ids = s.execute(select(ReportIndicator.indicator_id).where(ReportIndicator.report_id == r.id)
                                ).scalars().all()
            for iid in ind_ids:
                ind = s.get(Indicator, iid)
                self._regrade(s, ind)
                still_held = s.execute(select(func.count()).select_from(Report)
                                       .join(ReportIndicator, ReportIndicator.report_id == Report.id)
                                       .where(ReportIndicator.indicator_id == iid, Report.status == "held")
                                       ).scalar_one()
                if ind.review_reason == "official_reported" and not still_held:
                    ind.needs_review, ind.review_reason = False, None
                s.add(Decision(indicator_id=iid, report_id=r.id, actor=principal.actor, action=f"report_{action}",
                               note=note[:2000]))
        self.p.audit.append(actor=principal.actor, action=f"intel_report_{action}", org_id=principal.org_id,
                            subject=f"report:{report_id}", details={"from": before, "to": r.status})
        return {"report": report_id, "from": before, "status": r.status}

    # -- appeals -----------------------------------------------------------------------------
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
        self.p.limiter.hit(self.p.settings.intel_appeal_rate, "intel-appeal",
                           f"org:{principal.org_id}" if principal else client,
                           message="Too many appeals from this client; try again later.")
        self._ready()
        with self.p.db.session() as s:
            ind = self._find(s, n)
            if ind is None or self._grade(s, ind).verdict in ("unknown", "delisted", "official"):
                raise Conflict("Only a reported indicator can be appealed.")
            if s.execute(select(func.count()).select_from(Appeal)
                         .where(Appeal.indicator_id == ind.id, Appeal.status == "open")).scalar_one():
                raise Conflict("An appeal for this indicator is already open.")
            a = Appeal(public_id=secrets.token_urlsafe(12), indicator_id=ind.id, status="open",
                       org_id=principal.org_id if principal else None,
                       deadline_at=utcnow() + timedelta(days=self.p.settings.intel_appeal_days))
            s.add(a)
            s.flush()
            a.statement_ct = self._seal(s, statement.strip(), table="intel_appeals", column="statement",
                                        record_id=a.id)
            a.contact_ct = self._seal(s, contact.strip(), table="intel_appeals", column="contact", record_id=a.id)
            ind.needs_review, ind.review_reason = True, "appeal"
            s.flush()
            v = self._regrade(s, ind)
            out = {"appeal": a.public_id, "status": "open", "deadline_at": a.deadline_at.isoformat(),
                   "verdict": v.verdict, "indicator": ind.id}
        self.p.audit.append(actor=principal.actor if principal else "public", action="intel_appeal_open",
                            org_id=principal.org_id if principal else None, subject=f"indicator:{out['indicator']}",
                            details={"appeal": out["appeal"]})
        return out

    def decide_appeal(self, principal: Principal, appeal_id: str, *, uphold: bool, note: str = "") -> dict:
        """Uphold (the indicator is delisted: earlier reports stop counting) or reject (the verdict
        returns to what the reports say)."""
        self.p.orgs.require(principal, "intel:analyst", subject=f"appeal:{appeal_id}")
        with self.p.db.session() as s:
            a = s.execute(select(Appeal).where(Appeal.public_id == appeal_id)).scalar_one_or_none()
            if a is None:
                raise NotFound("No such appeal.")
            if a.status != "open":
                raise Conflict(f"This appeal was already decided ({a.status}).")
            ind = s.get(Indicator, a.indicator_id)
            before = self._grade(s, ind).verdict
            a.status, a.decided_by, a.decided_at = ("upheld" if uphold else "rejected"), principal.actor, utcnow()
            if uphold:
                ind.decision, ind.decision_source, ind.decision_at = "delisted", "analyst", utcnow()
            elif ind.decision == "disputed":
                ind.decision = ind.decision_source = ind.decision_at = None
            ind.needs_review, ind.review_reason = False, None
            s.flush()
            after = self._regrade(s, ind).verdict
            s.add(Decision(indicator_id=ind.id, appeal_id=a.id, actor=principal.actor,
                           action="appeal_upheld" if uphold else "appeal_rejected", from_verdict=before,
                           to_verdict=after, note=note[:2000]))
            overdue = a.decided_at > a.deadline_at
            iid = ind.id
        self.p.audit.append(actor=principal.actor, action="intel_appeal_" + ("upheld" if uphold else "rejected"),
                            org_id=principal.org_id, subject=f"indicator:{iid}",
                            details={"appeal": appeal_id, "from": before, "to": after, "overdue": overdue})
        return {"appeal": appeal_id, "status": "upheld" if uphold else "rejected", "verdict": after,
                "decided_after_deadline": overdue}

    # -- sharing -----------------------------------------------------------------------------
    def _report_stats(self, s: Session, ids: list[int]) -> dict[int, tuple[int, set[str]]]:
        """``{indicator id: (accepted reports, their categories)}``."""
        out: dict[int, tuple[int, set[str]]] = {}
        for start in range(0, len(ids), 500):
            rows = s.execute(
                select(ReportIndicator.indicator_id, Report.category, func.count())
                .join(Report, Report.id == ReportIndicator.report_id)
                .where(ReportIndicator.indicator_id.in_(ids[start:start + 500]), Report.status == "accepted")
                .group_by(ReportIndicator.indicator_id, Report.category)).all()
            for iid, category, n in rows:
                count, cats = out.get(iid, (0, set()))
                out[iid] = (count + n, cats | {category})
        return out

    @staticmethod
    def _is_shared(ind: Indicator, verdict: str) -> bool:
        return verdict in SHARED_VERDICTS and ind.type in SHARED_TYPES

    def _shared(self, ind: Indicator, value: str, verdict: str, score: int, stats) -> SharedIndicator | None:
        if not self._is_shared(ind, verdict):
            return None
        count, cats = stats.get(ind.id, (0, set()))
        return to_shared(type_=ind.type, value=value, verdict=verdict, score=score,
                         reports=count, categories=cats, first_seen=ind.first_seen_at,
                         last_seen=max(d for d in (ind.first_seen_at, ind.last_report_at, ind.decision_at) if d))

    def shared_feed(self) -> list[SharedIndicator]:
        """Every indicator this platform shares (``postguard.intel.exchange`` decides which and at
        what TLP), with its verdict as last graded, accepted reports and their categories. Values of
        personal types are decrypted here: callers log the export before calling."""
        self._ready()
        with self.p.db.read_session() as s:
            inds = s.execute(select(Indicator).where(Indicator.verdict.in_(SHARED_VERDICTS))
                             .order_by(Indicator.id)).scalars().all()
            inds = [i for i in inds if self._is_shared(i, i.verdict)]
            stats = self._report_stats(s, [i.id for i in inds])
            values = self.values_of(s, inds, purpose="indicator_share")
            out = [self._shared(i, value, i.verdict, i.score, stats) for i, value in zip(inds, values, strict=False)]
        return [x for x in out if x is not None]

    def shared_lookup(self, type_: str, value: str) -> SharedIndicator | None:
        """The shared view of one normal form, graded now; None when it is not flagged (unknown,
        official) or not shared."""
        self._ready()
        with self.p.db.read_session() as s:
            ind = s.execute(select(Indicator).where(Indicator.digest == self._digest(f"{type_}\0{value}"))
                            ).scalar_one_or_none()
            if ind is None:
                return None
            v = self._grade(s, ind)  # the asker knows the value: nothing is decrypted
            return self._shared(ind, value, v.verdict, v.score, self._report_stats(s, [ind.id]))

    def import_shared(self, principal: Principal, indicators: list[SharedIndicator], *,
                      source: str = "") -> dict[str, int]:
        """A partner's indicators (from its STIX bundle) become reports by the partner organisation
        (``principal``), all or nothing: one organisation's report each, graded like any other, dated
        at the partner's last sighting; a newer sighting adds a newer report; a partner's ``delisted``
        withdraws its earlier reports. Partners' verdicts and scores are not copied."""
        self.p.orgs.require(principal, "intel:report")
        prepared: list[tuple[Normal, SharedIndicator]] = []
        errors: list[FieldError] = []
        for i, si in enumerate(indicators):
            try:
                prepared.append((detect(si.value, si.type), si))
            except InvalidInput as e:
                errors += [FieldError(f"indicators[{i}]", fe.message, code=fe.code) for fe in e.errors]
        if errors:
            raise InvalidInput("Some indicators could not be read; nothing was imported.", errors)
        self._ready()
        now = utcnow()
        counts = {"added": 0, "updated": 0, "unchanged": 0, "withdrawn": 0}
        with self.p.db.session() as s:
            reporter = self._reporter(s, principal=principal, client="")
            for n, si in prepared:
                ind = self._find(s, n) if si.verdict == "delisted" else self._get_or_create(s, n)
                mine = [] if ind is None else s.execute(
                    select(Report).join(ReportIndicator, ReportIndicator.report_id == Report.id)
                    .where(ReportIndicator.indicator_id == ind.id, Report.reporter_id == reporter.id,
                           Report.status.in_(("accepted", "held")))).scalars().all()
                if si.verdict == "delisted":
                    if not mine:
                        counts["unchanged"] += 1
                        continue
                    for r in mine:
                        r.status = "withdrawn"
                    s.flush()
                    self._regrade(s, ind)
                    counts["withdrawn"] += 1
                    continue
                at = min(si.last_seen, now)
                if mine and max(r.created_at for r in mine) >= at:
                    counts["unchanged"] += 1
                    continue
                official = self._official_for(s, n, ind) is not None
                category = category_of(si.categories)
                rep = Report(public_id=secrets.token_urlsafe(12), reporter_id=reporter.id, reporter_kind="org",
                             org_id=principal.org_id, category=category, status="held" if official else "accepted",
                             fingerprint=self._digest(f"fp\0{reporter.key.hex()}\0{category}\0{ind.id}"),
                             duplicates=0, created_at=at)
                s.add(rep)
                s.flush()
                s.add(ReportIndicator(report_id=rep.id, indicator_id=ind.id))
                self._count_report(s, reporter)
                ind.last_report_at = max(ind.last_report_at or at, at)
                ind.first_seen_at = min(ind.first_seen_at or now, si.first_seen, at)
                if official:
                    ind.needs_review, ind.review_reason = True, "official_reported"
                s.flush()
                self._regrade(s, ind)
                counts["updated" if mine else "added"] += 1
        self.p.audit.append(actor=principal.actor, action="intel_import", org_id=principal.org_id,
                            subject="intel_reports", details={**counts, "source": source[:200]})
        return counts

    def regrade_all(self) -> dict[str, int]:
        """Grade every reported indicator afresh (verdicts decay with time; lookups always grade
        afresh, the stored verdict used by sharing and the lookup index is refreshed here)."""
        self._ready()
        changed = total = 0
        with self.p.db.session() as s:
            for ind in s.execute(select(Indicator).where(Indicator.verdict != "unknown")).scalars():
                total += 1
                v = self._grade(s, ind)
                if (v.verdict, v.score) != (ind.verdict, ind.score):  # unchanged rows keep their stamp
                    changed += 1
                    self._regrade(s, ind, v)
        return {"graded": total, "changed": changed}


def reputation(upheld: int, rejected: int) -> float:
    """A reporter's weight: 1.0 for a newcomer, up to 1.5 with confirmed reports, down towards 0.1
    with rejected ones."""
    base = (1 + upheld) / (1 + upheld + 2 * rejected)
    return max(0.1, min(1.5, base + min(0.5, 0.05 * upheld)))
