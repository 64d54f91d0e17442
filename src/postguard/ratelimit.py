"""Rate limits shared by every worker: in memory by default, Redis (or any `limits` storage) when
``POSTGUARD_RATE_LIMIT_STORAGE`` says so."""

from __future__ import annotations

import time
from functools import lru_cache

from limits import parse as _parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from postguard.errors import RateLimited


@lru_cache(maxsize=256)
def parse(rule: str):
    """A rule such as ``"20/minute"``, parsed once."""
    return _parse(rule)


class RateLimiter:
    def __init__(self, storage_uri: str) -> None:
        self.storage = storage_from_string(storage_uri)
        self.limiter = MovingWindowRateLimiter(self.storage)

    def hit(self, rule: str, *keys: str, message: str = "Too many requests; try again later.") -> None:
        """Count one event against ``rule`` (e.g. ``"20/minute"``) for ``keys``; raise when over."""
        limit = parse(rule)
        if not self.limiter.hit(limit, *keys):
            reset = self.limiter.get_window_stats(limit, *keys).reset_time
            err = RateLimited(message)
            err.retry_after = max(1, int(reset - time.time()) + 1)  # type: ignore[misc]
            raise err

    def test(self, rule: str, *keys: str) -> bool:
        return self.limiter.test(parse(rule), *keys)
