"""Which indicators exist at all, in memory: so that a clean lookup needs no database query.

Most lookups are of values nobody reported. Each worker keeps the first 64 bits of the keyed digest
of every stored indicator in a sorted ``numpy.uint64`` array (8 bytes each: 10 million indicators
take 80 MB) plus a small set of recent additions. ``check`` asks ``may_know`` first: "no" is
definitive for everything the worker has seen, and answers ``unknown`` without touching the
database; "yes" (known, or a 2^-64 collision) goes to the database and grades afresh.

Freshness: indicators are never deleted, so the set only grows. At most every
``POSTGUARD_INTEL_INDEX_REFRESH_SECONDS`` a worker counts the rows; when the count moved it reads
the rows above the highest id it knows, and if the count still disagrees (rows committed out of id
order on PostgreSQL) it reloads everything. A value first stored by another worker can therefore be
answered ``unknown`` for up to that many seconds; a worker's own writes are added at once.
"""

from __future__ import annotations

import threading
import time

import numpy as np
from sqlalchemy import func, select

from postguard.intel.models import Indicator

MERGE_AT = 50_000


def key_of(digest: bytes) -> int:
    return int.from_bytes(digest[:8], "big")


def build(keys) -> np.ndarray:
    """A sorted, duplicate-free ``uint64`` array from 64-bit keys (ints, or an array)."""
    arr = keys if isinstance(keys, np.ndarray) else np.fromiter(keys, dtype=np.uint64)
    arr = arr.astype(np.uint64, copy=False)
    arr.sort()
    if arr.size > 1:
        keep = np.empty(arr.size, dtype=bool)
        keep[0] = True
        np.not_equal(arr[1:], arr[:-1], out=keep[1:])
        if not keep.all():
            arr = arr[keep]
    return arr


def contains(arr: np.ndarray, key: int) -> bool:
    i = int(np.searchsorted(arr, np.uint64(key)))
    return i < arr.size and int(arr[i]) == key


class KnownIndex:
    def __init__(self, db, *, refresh_seconds: float) -> None:
        self.db = db
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._base = np.empty(0, dtype=np.uint64)
        self._recent: set[int] = set()
        self._count = -1
        self._max_id = 0
        self._checked = float("-inf")
        self.managed = False  # a server task refreshes it: lookups never wait on the database

    def __len__(self) -> int:
        return int(self._base.size) + len(self._recent)

    def add(self, digest: bytes) -> None:
        """This worker stored an indicator: know it now."""
        self._recent.add(key_of(digest))

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
        with self.db.read_session() as s:
            count, top = s.execute(select(func.count(), func.max(Indicator.id))).one()
            if count == self._count:
                return
            if self._count >= 0:
                rows = s.execute(select(Indicator.id, Indicator.digest).where(Indicator.id > self._max_id)).all()
                if self._count + len(rows) == count:
                    self._recent.update(key_of(d) for _, d in rows)
                    self._count, self._max_id = count, max([self._max_id, *(i for i, _ in rows)])
                    if len(self._recent) >= MERGE_AT:
                        self._base = build(np.concatenate([self._base, np.fromiter(self._recent, np.uint64)]))
                        self._recent = set()
                    return
            keys: list[int] = []
            top_id = 0
            for iid, digest in s.execute(select(Indicator.id, Indicator.digest)).yield_per(20_000):
                keys.append(key_of(digest))
                top_id = max(top_id, iid)
        self._base, self._recent = build(keys), set()
        self._count, self._max_id = len(keys), top_id
