"""Lookups: ``POST /v1/check`` (``CheckService.respond``, the benchmarked hot path,
benchmarks/bench_check.py) and ``CheckService.check`` (the command line, other services).

A lookup of a value nobody stored (most of them) is answered with no database query and no write:
the in-memory index of known indicators (``postguard.intel.known``) says so. A known value is
graded from the database, and its answer kept in this worker's memory (``postguard.intel.kept``)
while nothing stored changes; lookups of one value at the same moment grade once. Every lookup
that found something is counted (no who, no when), written at most once a second."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

import orjson
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from postguard.errors import InvalidInput
from postguard.intel.answers import Graded, Owner, graded_answer, link_answer, lookalike_answer, unknown_answer
from postguard.intel.brands import BrandWatch
from postguard.intel.grading import Grader
from postguard.intel.kept import (
    GRADE_CACHE_SECONDS,
    AnswerCache,
    GradeCache,
    GradedAnswer,
    GradeEntry,
    KeptBodies,
    ANSWER,
    EXPIRES,
    GENERATION,
    IDS,
    KeptBody,
    Targets,
    VERDICT,
)
from postguard.intel.models import Indicator
from postguard.intel.normalize import Normal, detect, norm_domain
from postguard.intel.store import IntelStore, table_of
from postguard.intel.verdicts import Verdict
from postguard.lookalike.match import Hit
from postguard.metrics import Meter

if TYPE_CHECKING:
    from postguard.db import Database
    from postguard.ratelimit import RateLimiter
    from postguard.settings import Settings


class CheckPlan(NamedTuple):
    normal: Normal
    targets: list[Normal]
    digests: list[bytes]
    answer: dict | None  # set when nothing is stored under any target, or a kept answer
    known: bool  # something is stored under a target
    generation: int  # of the known index, read before looking
    lookalike: Hit | None = None  # the brand a link's or domain's host imitates


class CheckService:
    def __init__(self, *, db: Database, settings: Settings, limiter: RateLimiter, store: IntelStore,
                 grader: Grader, brands: BrandWatch, suspensions: Callable[[str], list[dict]] | None = None,
                 meter: Meter | None = None) -> None:
        """``suspensions``: the carriers that suspended a number (E.164) in their re-verification queue
        (``postguard.subscribers``, through the wiring); told in the answer for a number the scam
        database knows. ``meter``: counts lookups by verdict (``postguard_intel_checks_total``): one
        increment on this thread's own shard, no lock."""
        self._checked = (meter or Meter()).counter(
            "postguard_intel_checks", "Lookups of one value (/v1/check, the check page, the command line) by verdict",
            ("verdict",)).inc
        self.db = db
        self.suspensions = suspensions
        self.brands = brands
        self.settings = settings
        self.limiter = limiter
        self.store = store
        self.grader = grader
        self._grades = GradeCache()
        self._answers = AnswerCache()
        self._bodies = KeptBodies()
        self._grading: dict[Targets, asyncio.Future[None]] = {}  # gradings in flight on the event loop
        self._lock = threading.Lock()
        self._hits: dict[int, int] = {}
        self._hits_at = float("-inf")

    # -- the HTTP hot path ----------------------------------------------------------------------
    async def respond(self, body: bytes, client: str, read: Callable[[bytes], tuple[str, str | None]],
                      other: Callable[[str, str | None, InvalidInput], Awaitable[bytes]] | None = None) -> bytes:
        """The JSON answer to the request ``body`` of ``POST /v1/check`` for ``client`` (the
        limiter's key); ``read`` turns a body into ``(value, type)`` or raises ``InvalidInput``.
        A value that is not one indicator goes to ``other`` (with the error that says so; already
        counted against the rate), which answers it or raises that error.
        Runs on the event loop: a body answered since anything stored changed is answered from
        memory (``KeptBodies``), a clean value after one look at the index; with a shared (Redis)
        rate limiter the limiter goes to the thread pool, and grading always does."""
        here = self.limiter.in_process
        # What was kept for exactly this body, while nothing stored changed since and younger than
        # GRADE_CACHE_SECONDS: memory only until ``_serve_kept`` limits and counts it.
        kept = self._bodies.get(body)
        if kept is not None and kept[GENERATION] == self.store.known.current_generation() \
                and time.monotonic() < kept[EXPIRES]:
            return self._serve_kept(kept, client) if here else await run_in_threadpool(self._serve_kept, kept, client)
        value, type_ = read(body)
        try:
            plan = self.check_plan(value, type=type_, client=client) if here else \
                await run_in_threadpool(lambda: self.check_plan(value, type=type_, client=client))
        except InvalidInput as e:
            if other is None:
                raise
            return await other(value, type_, e)
        graded = plan.answer if plan.answer is not None else await self.grade_once(plan)
        whole = lookalike_answer(link_answer(plan.normal, graded), plan.lookalike, graded["verdict"])
        if self._may_be_suspended(plan):
            whole = await run_in_threadpool(self._with_suspensions, plan.normal, whole)
        verdict = whole["verdict"]
        self._checked(verdict)
        answer = orjson.dumps(whole)
        self._keep_body(body, plan, answer, verdict)
        return answer

    async def grade_once(self, plan: CheckPlan) -> dict:
        """``check_stored`` once for everyone asking about the same targets at the same moment (a
        number in the news, or a worker's first seconds): the others wait for that answer instead of
        queueing more database reads, and their lookups are counted as the kept answer's hits."""
        key = tuple(plan.digests)
        pending = self._grading.get(key)
        if pending is not None:
            await asyncio.shield(pending)
            kept = self.kept_answer(plan.digests)
            if kept is not None:
                return kept
            return await run_in_threadpool(self.check_stored, plan)
        pending = self._grading[key] = asyncio.get_running_loop().create_future()
        try:
            answer = await run_in_threadpool(self.check_stored, plan)
            pending.set_result(None)
            return answer
        except BaseException:
            pending.set_result(None)  # the waiters grade for themselves and meet the error on their own
            raise
        finally:
            del self._grading[key]

    def gradings_in_flight(self) -> int:
        return len(self._grading)

    def _serve_kept(self, kept: KeptBody, client: str) -> bytes:
        """The kept answer's JSON, limited and counted like any lookup."""
        self._limit(client)
        self._count_hits(kept[IDS])
        self._checked(kept[VERDICT])
        return kept[ANSWER]

    def _keep_body(self, body: bytes, plan: CheckPlan, answer: bytes, verdict: str) -> None:
        """Keep ``answer``, the JSON of ``plan``'s answer, under the request ``body`` it was read
        from. A known target's answer is kept only as graded for the plan's generation, and no
        longer than that grading is; ``forget_kept`` drops every body ``GRADE_CACHE_SECONDS`` after
        it was kept."""
        if len(body) > self._bodies.max_bytes:  # never kept (``KeptBodies.keep`` holds to it): build nothing
            return
        now = time.monotonic()
        if plan.known:
            graded = self._answers.of_generation(tuple(plan.digests), plan.generation)
            if graded is None:
                return
            expires, ids = graded.at + GRADE_CACHE_SECONDS, graded.ids
        else:
            expires, ids = now + GRADE_CACHE_SECONDS, ()
        self._bodies.keep(body, (plan.generation, expires, answer, tuple(ids), now, verdict))

    def forget_kept(self) -> None:
        """Drop the bodies kept ``GRADE_CACHE_SECONDS`` ago or earlier (the server calls this every
        second, on the event loop), so that what was looked up leaves this worker's memory soon after."""
        self._bodies.forget(time.monotonic())

    def kept_bodies(self) -> int:
        return len(self._bodies)

    def is_kept(self, body: bytes) -> bool:
        return body in self._bodies

    # -- a lookup, in two halves ----------------------------------------------------------------------
    def check(self, raw: str, *, type: str | None = None, client: str, now: datetime | None = None) -> dict:
        """Look up any raw input. Rate limited per ``client``; a clean lookup writes and logs nothing."""
        plan = self.check_plan(raw, type=type, client=client)
        answer = plan.answer if plan.answer is not None else self.check_stored(plan, now=now)
        whole = lookalike_answer(link_answer(plan.normal, answer), plan.lookalike, answer["verdict"])
        self._checked(whole["verdict"])
        return self._with_suspensions(plan.normal, whole) if self._may_be_suspended(plan) else whole

    def _may_be_suspended(self, plan: CheckPlan) -> bool:
        """Only a number the scam database knows is asked about (a clean lookup stays without a query)."""
        return plan.known and plan.normal.type == "phone" and self.suspensions is not None

    def _with_suspensions(self, n: Normal, answer: dict) -> dict:
        """``answer`` with the carriers that suspended the number (``carrier_suspensions``), if any.
        A kept answer may tell a suspension lifted up to ``GRADE_CACHE_SECONDS`` ago."""
        told = self.suspensions(n.value) if self.suspensions is not None else []
        return {**answer, "carrier_suspensions": told} if told else answer

    def check_plan(self, raw: str, *, type: str | None = None, client: str) -> CheckPlan:
        """The first half of ``check``, with no I/O besides the rate limiter: limit, normalise, and
        answer at once when no target is stored at all (``plan.answer``); otherwise the plan goes
        to ``check_stored``. ``respond`` runs this half on the event loop."""
        self._limit(client)
        known = self.store.known
        generation = known.generation  # before looking: a change meanwhile voids what is kept
        n = detect(raw, type)
        targets, hit = self._targets(n)
        digests = [self.store.digest_of(t) for t in targets]
        may_know = known.may_know
        for d in digests:
            if may_know(d):
                return CheckPlan(n, targets, digests, self.kept_answer(digests), True, generation, hit)
        # nothing stored under any of them (the common case): no query, no write, no log
        return CheckPlan(n, targets, digests, unknown_answer(n, targets), False, generation, hit)

    def _targets(self, n: Normal) -> tuple[list[Normal], Hit | None]:
        """What a lookup of ``n`` reads: ``n``, and for a link its host and registrable domain (a report
        or an official entry on any counts); and the brand a link's or domain's host imitates."""
        targets = [n]
        hit = self.brands.match(n.host) if n.type in ("url", "domain") and n.host else None
        if n.type == "url" and n.domain:
            for host in dict.fromkeys(h for h in (n.host, n.domain) if h):
                try:
                    targets.append(norm_domain(host))
                except InvalidInput:
                    pass
        return targets, hit

    def quiet_answer(self, n: Normal) -> dict:
        """The answer ``check`` gives for the normal form ``n``, without the rate limiter and without
        counting or writing anything: for a service that reads the indicators of a pasted message
        (limited once per message by its caller). Read-only: nothing about ``n`` is stored or logged."""
        targets, hit = self._targets(n)
        digests = [self.store.digest_of(t) for t in targets]
        generation = self.store.known.generation
        if any(self.store.known.may_know(d) for d in digests):
            kept = self._answers.get(tuple(digests), generation, time.monotonic())
            graded = kept.answer if kept is not None else \
                self.check_stored(CheckPlan(n, targets, digests, None, True, generation, hit), count=False)
        else:
            graded = unknown_answer(n, targets)
        return lookalike_answer(link_answer(n, graded), hit, graded["verdict"])

    # -- phone numbers, for the call check --------------------------------------------------------
    def phone_may_be_known(self, e164: str) -> bool:
        """Whether anything may be stored about this number (memory only: the known index)."""
        return self.store.known.may_know(self.store.digest_of(Normal.phone(e164)))

    def phone_standing(self, e164: str) -> dict | None:
        """What the scam database says of a caller's number when it flags it (``reported`` and
        graver; never ``unknown``, ``official`` or ``delisted``): verdict, score, report count and
        headline. Read-only, like ``quiet_answer``."""
        if not self.phone_may_be_known(e164):
            return None
        answer = self.quiet_answer(Normal.phone(e164))
        if answer["verdict"] in ("unknown", "official", "delisted"):
            return None
        reports = next((r.get("value") for r in answer["reasons"] if r.get("code") == "reports"), None)
        return {"verdict": answer["verdict"], "score": answer["score"], "reports": reports,
                "headline": answer["headline"]}

    def limit(self, client: str) -> None:
        """Count one lookup against ``client``'s rate (``RateLimited`` when over it)."""
        self._limit(client)

    def kept_answer(self, digests: list[bytes]) -> dict | None:
        """The answer graded for these targets, when nothing stored changed since and it is younger
        than ``GRADE_CACHE_SECONDS``; the hit is counted. None: grade with ``check_stored``."""
        kept = self._answers.get(tuple(digests), self.store.known.generation, time.monotonic())
        if kept is not None:
            self._count_hits(kept.ids)
            return kept.answer
        return None

    def check_stored(self, plan: CheckPlan, *, now: datetime | None = None, count: bool = True) -> dict:
        """The second half of ``check``: read and grade what is stored (database I/O). Graded at the
        present (``now`` None), the answer is kept for ``kept_answer``; ``count`` False: the lookup
        is not counted."""
        n, targets, digests = plan.normal, plan.targets, plan.digests
        # before reading: a change meanwhile voids what is kept
        generation, at = self.store.known.generation, time.monotonic()
        graded: list[Graded] = []
        with self.db.read_session() as s:
            rows = {i.digest: i for i in s.execute(select(Indicator).where(Indicator.digest.in_(digests))).scalars()}
            for t, d in zip(targets, digests, strict=True):
                ind = rows.get(d)
                graded.append(Graded(t) if ind is None else Graded(t, ind, *self._grade(s, ind, now=now)))
        ids = [g.indicator.id for g in graded if g.indicator is not None]
        if count:
            self._count_hits(ids)
        answer = graded_answer(n, graded)
        if now is None:
            self._answers.put(tuple(digests), GradedAnswer(generation, at, answer, ids))
        return answer

    def _grade(self, s: Session, ind: Indicator, *, now: datetime | None) -> tuple[Verdict, Owner | None]:
        """The verdict and official owner of a found indicator. Graded afresh, or taken from this
        worker's cache while the indicator row is unchanged (every regrade stamps ``updated_at``) and
        the entry is younger than ``GRADE_CACHE_SECONDS`` (decay and reporters' reputations move
        slowly; a cached entry is at most that old)."""
        clock = time.monotonic()
        hit = self._grades.get(ind, clock) if now is None else None
        if hit is not None:
            return hit.verdict, hit.owner
        official = self.grader.official(s, ind.id)
        verdict = self.grader.grade(s, ind, now=now)
        owner = Owner(official.channel.kind, official.channel.label, official.org.code, official.org.name) \
            if official else None
        if now is None:
            self._grades.put(ind, GradeEntry(ind.updated_at, clock, verdict, owner))
        return verdict, owner

    def _limit(self, client: str) -> None:
        self.limiter.hit(self.settings.intel_check_rate, "intel-check", client,
                           message="Too many lookups; try again later.")

    # -- hits ------------------------------------------------------------------------------------------
    def _count_hits(self, ids) -> None:
        """Count lookups that found something (no who, no when): added up in memory and written at
        most once a second, so that a popular number does not make every lookup a write."""
        if not ids:
            return
        with self._lock:
            for i in ids:
                self._hits[i] = self._hits.get(i, 0) + 1
            due = time.monotonic() - self._hits_at >= 1.0
        if due and not self.store.known.managed:  # else the server's task writes them, off the event loop
            self.flush_lookups()

    def flush_lookups(self) -> None:
        """Write the lookup counts added up in memory (the server calls this every second)."""
        with self._lock:
            pending, self._hits, self._hits_at = self._hits, {}, time.monotonic()
        if pending:
            t = table_of(Indicator)
            with self.db.session() as s:  # one statement, executed for every row (executemany)
                s.execute(t.update().where(t.c.id == bindparam("iid")).values(lookups=t.c.lookups + bindparam("n")),
                          [{"iid": iid, "n": n} for iid, n in sorted(pending.items())])
