"""Rate limits shared by every worker: in memory by default, Redis (or any `limits` storage) when
``POSTGUARD_RATE_LIMIT_STORAGE`` says so.

Both are exact moving windows: an event is allowed when fewer than ``amount`` events of the same
rule and keys happened in the last window. The in-memory one keeps, per rule and keys, the times of
the events still inside the window in an array of doubles (appended at the end, expired from the
front), so a hit costs O(1) amortised whatever the limit, with no object per event; `limits`' own
memory storage inserts at the front of a list, which costs O(events in the window) and made a
generous limit under load the slowest part of a request.
"""

from __future__ import annotations

import threading
import time
from array import array
from functools import lru_cache

from limits import parse as _parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from postguard.errors import RateLimited
from postguard.metrics import Meter, bounded

SWEEP_EVERY = 60.0  # seconds between sweeps of the in-memory windows that have emptied


@lru_cache(maxsize=256)
def parse(rule: str):
    """A rule such as ``"20/minute"``, parsed once."""
    return _parse(rule)


@lru_cache(maxsize=256)
def _window(rule: str) -> tuple[int, float]:
    limit = parse(rule)
    return limit.amount, float(limit.get_expiry())


class _Window:
    """The times of one rule and key's events still inside the window, oldest first: a growable
    array of doubles read from ``head`` (8 bytes an event and no object per event, so a window of
    a million events costs a few megabytes of sequential memory, not a million float objects)."""

    __slots__ = ("span", "times", "head")

    def __init__(self, span: float) -> None:
        self.span, self.times, self.head = span, array("d"), 0

    def expire(self, now: float) -> int:
        """Drop what left the window; the number of events still in it."""
        times, head = self.times, self.head
        n, horizon = len(times), now - self.span
        while head < n and times[head] <= horizon:
            head += 1
        if head >= 1024 and head * 2 >= n:  # compact once the expired half is worth moving
            del times[:head]
            n -= head
            head = 0
        self.head = head
        return n - head


class _MemoryWindows:
    """Moving windows in this process. ``hit`` answers ``None`` (allowed, counted) or the seconds
    until the oldest event in the window leaves it (refused, not counted)."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._events: dict[tuple, _Window] = {}
        self._lock = threading.Lock()
        self._swept = clock()

    def _get(self, key: tuple, span: float) -> _Window:
        window = self._events.get(key)
        if window is None:
            window = self._events[key] = _Window(span)
        return window

    def hit(self, rule: str, keys: tuple) -> float | None:
        amount, span = _window(rule)
        now = self._clock()
        with self._lock:
            window = self._get((rule, *keys), span)
            live = window.expire(now)
            if live >= amount:
                return max(0.0, window.times[len(window.times) - amount] + span - now)
            window.times.append(now)
            if now - self._swept > SWEEP_EVERY:
                self._sweep(now)
        return None

    def test(self, rule: str, keys: tuple) -> bool:
        amount, span = _window(rule)
        with self._lock:
            return self._get((rule, *keys), span).expire(self._clock()) < amount

    def _sweep(self, now: float) -> None:
        self._swept = now
        for key in [k for k, w in self._events.items() if w.expire(now) == 0]:
            del self._events[key]


class RateLimiter:
    def __init__(self, storage_uri: str, *, clock=time.monotonic, meter: Meter | None = None) -> None:
        """``meter``: counts refusals by limiter, the first key of each rule (``otp-client``,
        ``intel-check`` …), as ``postguard_ratelimit_refused_total``."""
        self._refused = (meter or Meter()).counter(
            "postguard_ratelimit_refused", "Requests refused by a rate limit, by limiter", ("limiter",))
        self.in_process = storage_uri.startswith("memory")
        if self.in_process:
            self._memory = _MemoryWindows(clock)
        else:
            self.storage = storage_from_string(storage_uri)
            self.limiter = MovingWindowRateLimiter(self.storage)

    def hit(self, rule: str, *keys: str, message: str = "Too many requests; try again later.") -> None:
        """Count one event against ``rule`` (e.g. ``"20/minute"``) for ``keys``; raise when over."""
        if self.in_process:
            wait = self._memory.hit(rule, keys)
            if wait is None:
                return
        else:
            limit = parse(rule)
            if self.limiter.hit(limit, *keys):
                return
            wait = self.limiter.get_window_stats(limit, *keys).reset_time - time.time()
        self._refused.inc(bounded(keys[0]) if keys else "other")
        err = RateLimited(message)
        err.retry_after = max(1, int(wait) + 1)  # type: ignore[misc]
        raise err

    def test(self, rule: str, *keys: str) -> bool:
        """Would one more event be allowed now (nothing counted)?"""
        if self.in_process:
            return self._memory.test(rule, keys)
        return self.limiter.test(parse(rule), *keys)
