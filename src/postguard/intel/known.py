"""Which indicators exist at all, in memory: so that a clean lookup needs no database query.

Most lookups are of values nobody reported. Each worker keeps the first 64 bits of the keyed digest
of every stored indicator in a sorted ``numpy.uint64`` array behind a bitmap filter (about 9 bytes
each: 10 million indicators take 96 MB) plus a small set of recent additions. ``check`` asks ``may_know`` first: "no" is
definitive for everything the worker has seen, and answers ``unknown`` without touching the
database; "yes" (known, or a 2^-64 collision) goes to the database and grades afresh.

Freshness: indicators are never deleted, so the set only grows. At most every
``POSTGUARD_INTEL_INDEX_REFRESH_SECONDS`` a worker reads the highest id and the latest
``updated_at`` (both indexed: cheap on any table size). While they move, and for
``STRAGGLER_SECONDS`` after, it reads the rows above its highest known id less ``LOOKBACK_IDS``,
which also catches rows committed after others with higher ids (PostgreSQL sequences). Once every
``RECONCILE_SECONDS`` it compares the row count (a scan) and reloads everything when it disagrees.
A value first stored by another worker can therefore be answered ``unknown`` for up to the refresh
interval (up to a minute for a row committed very late); a worker's own writes are added at once.

``generation`` moves whenever anything stored may have changed: this worker added or regraded an
indicator, or the refresh saw another count, highest id or latest ``updated_at`` (every regrade
stamps it). Answers a worker keeps for known values are valid only within one generation.
"""

from __future__ import annotations

import threading
import time
from typing import NamedTuple

import numpy as np
from sqlalchemy import func, select

from postguard.intel.models import Indicator

MERGE_AT = 50_000
LOOKBACK_IDS = 1_000  # ids below the highest known that are read again while rows arrive
STRAGGLER_SECONDS = 10.0  # how long after a change the poll keeps reading (late commits of lower ids)
RECONCILE_SECONDS = 60.0  # how often the row count is compared (a scan of the table) to catch the rest


def key_of(digest: bytes) -> int:
    return int.from_bytes(digest[:8], "big")


class Table(NamedTuple):
    """A sorted, duplicate-free ``uint64`` array of keys, and in front of it a bitmap of their top
    ``64 - shift`` bits (a one-hash Bloom filter of about 8 bits per key: 16 MB at 10 million keys).
    Most absent keys find their bit clear and never reach the binary search."""

    keys: np.ndarray
    bitmap: bytes
    shift: int

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes) + len(self.bitmap)


def build(keys) -> Table:
    """The table of 64-bit keys (ints, or an array)."""
    arr = keys if isinstance(keys, np.ndarray) else np.fromiter(keys, dtype=np.uint64)
    arr = arr.astype(np.uint64, copy=False)
    arr.sort()
    if arr.size > 1:
        keep = np.empty(arr.size, dtype=bool)
        keep[0] = True
        np.not_equal(arr[1:], arr[:-1], out=keep[1:])
        if not keep.all():
            arr = arr[keep]
    bits = min(28, max(10, (int(arr.size) * 8).bit_length()))
    shift = 64 - bits
    slot = (arr >> np.uint64(shift)).astype(np.int64)
    bitmap = np.zeros(1 << (bits - 3), dtype=np.uint8)
    np.bitwise_or.at(bitmap, slot >> 3, np.left_shift(1, slot & 7).astype(np.uint8))
    return Table(arr, bitmap.tobytes(), shift)


def contains(table: Table, key: int) -> bool:
    slot = key >> table.shift
    if not (table.bitmap[slot >> 3] >> (slot & 7)) & 1:
        return False
    arr = table.keys
    i = int(np.searchsorted(arr, np.uint64(key)))
    return i < arr.size and int(arr[i]) == key


class KnownIndex:
    def __init__(self, db, *, refresh_seconds: float) -> None:
        self.db = db
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._base = build([])
        self._recent: set[int] = set()
        self._count = -1
        self._max_id = 0
        self._checked = float("-inf")
        self._reconciled = self._moved_at = float("-inf")
        self._stamp: tuple | None = None
        self.generation = 0
        self.managed = False  # a server task refreshes it: lookups never wait on the database

    def __len__(self) -> int:
        return int(self._base.keys.size) + len(self._recent)

    def add(self, digest: bytes) -> None:
        """This worker stored an indicator: know it now."""
        self._add([key_of(digest)], 0)
        self.generation += 1

    def changed(self) -> None:
        """This worker changed what is stored about an indicator."""
        self.generation += 1

    def current_generation(self) -> int:
        """``generation``, after the refresh that a lookup would make."""
        self._maybe_refresh()
        return self.generation

    def may_know(self, digest: bytes) -> bool:
        self._maybe_refresh()
        key = key_of(digest)
        return key in self._recent or contains(self._base, key)

    def refresh(self) -> None:
        """Look for new indicators now (a server task calls this every refresh interval)."""
        with self._lock:
            self._refresh()
            self._checked = time.monotonic()

    def _maybe_refresh(self) -> None:
        if self.managed:
            return
        now = time.monotonic()
        if now - self._checked < self.refresh_seconds:
            return
        if not self._lock.acquire(blocking=self._count < 0):  # someone else refreshes: use what we have
            return
        try:
            if time.monotonic() - self._checked >= self.refresh_seconds:
                self._refresh()
                self._checked = time.monotonic()
        finally:
            self._lock.release()

    def _refresh(self) -> None:
        now = time.monotonic()
        with self.db.read_session() as s:
            top, last = s.execute(select(func.max(Indicator.id), func.max(Indicator.updated_at))).one()
            top = top or 0
            if (top, last) != self._stamp:
                self._stamp = (top, last)
                self.generation += 1
                self._moved_at = now
            if self._count >= 0 and now - self._reconciled < RECONCILE_SECONDS:
                if now - self._moved_at <= STRAGGLER_SECONDS:
                    # new rows, and rows committed after others with higher ids (PostgreSQL)
                    rows = s.execute(select(Indicator.id, Indicator.digest)
                                     .where(Indicator.id > self._max_id - LOOKBACK_IDS)).all()
                    self._add([key_of(d) for _, d in rows], max((i for i, _ in rows), default=0))
                return
            count = s.execute(select(func.count()).select_from(Indicator)).scalar_one()
            self._reconciled = now
            if count == self._count:
                return
            keys: list[int] = []
            top_id = 0
            for iid, digest in s.execute(select(Indicator.id, Indicator.digest)).yield_per(20_000):
                keys.append(key_of(digest))
                top_id = max(top_id, iid)
        self._base, self._recent = build(keys), set()
        self._count, self._max_id = len(keys), top_id

    def _add(self, keys: list[int], top_id: int) -> None:
        new = {k for k in keys if k not in self._recent and not contains(self._base, k)}
        self._recent.update(new)
        if self._count >= 0:  # before the first load the count is unknown (the load will count them)
            self._count += len(new)
        self._max_id = max(self._max_id, top_id)
        if len(self._recent) >= MERGE_AT:
            self._base = build(np.concatenate([self._base.keys, np.fromiter(self._recent, np.uint64)]))
            self._recent = set()
