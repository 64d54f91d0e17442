"""What a worker keeps in memory to answer ``POST /v1/check`` without the database: verdicts of
found indicators, graded answers per lookup, and answers per request body.

Every one is bounded, whatever the lookups (hostile ones included), and short-lived: an entry
serves for at most ``GRADE_CACHE_SECONDS`` (decay and reporters' reputations move slowly) and only
while nothing stored changed (the row's stamp, or the known index's ``generation``). Callers pass
the clock (``time.monotonic()``) they read."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Final, NamedTuple

from postguard import memo
from postguard.intel.answers import Owner
from postguard.intel.models import Indicator
from postguard.intel.verdicts import Verdict

GRADE_CACHE_SECONDS = 30.0  # how old a worker's cached verdict of an unchanged indicator may be
GRADE_CACHE_SIZE = 100_000
# Answers kept per request body (``KeptBodies``): bodies of at most this many bytes (whitespace can
# pad a valid body: the cap bounds memory), this many of them, each for at most GRADE_CACHE_SECONDS.
KEPT_BODY_BYTES = 256
KEPT_BODIES = 50_000

Targets = tuple[bytes, ...]  # the keyed digests of what one lookup looks at, in order


class GradeEntry(NamedTuple):
    stamp: datetime | None  # the row's ``updated_at`` when graded: every regrade stamps a new one
    at: float  # the clock when graded
    verdict: Verdict
    owner: Owner | None


class GradedAnswer(NamedTuple):
    generation: int  # of the known index, read before the database was
    at: float  # the clock, read before the database was
    answer: dict
    ids: Sequence[int]  # the indicators found: a hit on each when the answer serves again


KeptBody = tuple[int, float, bytes, tuple[int, ...], float, str]
"""What is kept for one request body, read with the indexes below: the known index's ``GENERATION``
when the body's lookup was planned, the clock after which it no longer serves (``EXPIRES``), the
JSON answered (``ANSWER``), the indicators found (``IDS``) and the clock when it was kept
(``KEPT_AT``: ``KeptBodies.forget`` drops it ``ttl`` later), and the answer's ``VERDICT`` (counted
each time it serves). A plain tuple of plain values, not a
NamedTuple: CPython's collector stops tracking an exact tuple that holds only atomic values, never a
NamedTuple, and up to ``KEPT_BODIES`` of these live at once: tracked, they made every full
collection walk them (the fresh-lookup p99 doubled)."""
GENERATION: Final = 0
EXPIRES: Final = 1
ANSWER: Final = 2
IDS: Final = 3
KEPT_AT: Final = 4
VERDICT: Final = 5


class GradeCache:
    """Verdicts (and official owners) of found indicators, by indicator id: an entry serves while
    the row keeps the stamp it was graded at and for less than ``ttl`` seconds. At most ``size``
    entries: a new one when full empties the cache first."""

    def __init__(self, *, size: int = GRADE_CACHE_SIZE, ttl: float = GRADE_CACHE_SECONDS) -> None:
        self.size, self.ttl = size, ttl
        self._entries: dict[int, GradeEntry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, ind: Indicator, clock: float) -> GradeEntry | None:
        hit = self._entries.get(ind.id)
        if hit is not None and hit.stamp == ind.updated_at and clock - hit.at < self.ttl:
            return hit
        return None

    def put(self, ind: Indicator, entry: GradeEntry) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[ind.id] = entry


class AnswerCache:
    """Graded answers by their lookup's targets: an entry serves within the known index's
    generation it was graded in and for less than ``ttl`` seconds. At most ``size`` entries: a new
    one when full empties the cache first."""

    def __init__(self, *, size: int = GRADE_CACHE_SIZE, ttl: float = GRADE_CACHE_SECONDS) -> None:
        self.size, self.ttl = size, ttl
        self._entries: dict[Targets, GradedAnswer] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def of_generation(self, targets: Targets, generation: int) -> GradedAnswer | None:
        """The entry graded in ``generation``, however old."""
        kept = self._entries.get(targets)
        return kept if kept is not None and kept.generation == generation else None

    def get(self, targets: Targets, generation: int, clock: float) -> GradedAnswer | None:
        """The entry graded in ``generation``, while younger than ``ttl``."""
        kept = self._entries.get(targets)
        if kept is not None and kept.generation == generation and clock - kept.at < self.ttl:
            return kept
        return None

    def put(self, targets: Targets, entry: GradedAnswer) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[targets] = entry


class KeptBodies:
    """Answers by the exact request body they were read from: bodies of at most ``max_bytes``,
    at most ``max_entries`` of them (the oldest dropped for a new one), each dropped by ``forget``
    ``ttl`` seconds after it was kept. Whether an entry still serves (its ``generation`` and
    ``expires``) is for the caller to decide."""

    def __init__(self, *, max_bytes: int = KEPT_BODY_BYTES, max_entries: int = KEPT_BODIES,
                 ttl: float = GRADE_CACHE_SECONDS) -> None:
        self.max_bytes, self.max_entries, self.ttl = max_bytes, max_entries, ttl
        self._entries: OrderedDict[bytes, KeptBody] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, body: bytes) -> bool:
        return body in self._entries

    def get(self, body: bytes) -> KeptBody | None:
        return self._entries.get(body) if len(body) <= self.max_bytes else None

    def keep(self, body: bytes, entry: KeptBody) -> None:
        """Keep ``entry`` as the newest, unless ``body`` is too long to be kept."""
        if len(body) <= self.max_bytes:
            memo.keep(self._entries, body, entry, self.max_entries)

    def forget(self, clock: float) -> None:
        """Drop the entries kept ``ttl`` seconds before ``clock`` or earlier (oldest first). Runs on
        the event loop, which alone keeps entries; a reader in another thread may look up meanwhile."""
        horizon = clock - self.ttl
        entries = self._entries
        with contextlib.suppress(StopIteration, KeyError, RuntimeError):
            while True:
                oldest = next(iter(entries))
                if entries[oldest][KEPT_AT] > horizon:
                    return
                del entries[oldest]
