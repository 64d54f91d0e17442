"""The rate limiter: the in-process moving window against a reference model, and the Redis storage
shared by two workers (skips when no Redis answers)."""

from __future__ import annotations

import uuid
from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.errors import RateLimited
from postguard.ratelimit import RateLimiter, _window
from tests.conftest import needs_redis


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


RULES = ["3/second", "5/minute", "2/10 seconds"]


@given(st.lists(st.tuples(st.floats(0, 30, allow_nan=False), st.sampled_from(RULES), st.sampled_from("ab"),
                          st.booleans()), max_size=80))
def test_memory_window_is_an_exact_moving_window(steps):
    """Allowed exactly when fewer than ``amount`` allowed events of that rule and key lie in the last
    window; a refusal is not counted and its Retry-After is when the oldest event leaves."""
    clock = Clock()
    limiter = RateLimiter("memory://", clock=clock)
    model: dict[tuple, list[float]] = {}
    for dt, rule, key, probe in steps:
        clock.now += dt
        amount, span = _window(rule)
        inside = [t for t in model.get((rule, key), []) if t > clock.now - span]
        if probe:
            assert limiter.test(rule, "ns", key) == (len(inside) < amount)
            continue
        if len(inside) < amount:
            limiter.hit(rule, "ns", key)
            model[(rule, key)] = [*inside, clock.now]
        else:
            with pytest.raises(RateLimited) as e:
                limiter.hit(rule, "ns", key, message="slow down")
            assert str(e.value) == "slow down"
            assert e.value.retry_after == max(1, int(inside[0] + span - clock.now) + 1)


@given(st.lists(st.tuples(st.integers(0, 900), st.floats(0, 40, allow_nan=False)), min_size=1, max_size=12))
def test_a_large_window_stays_exact_as_it_expires_and_compacts(bursts):
    """Thousands of events in one window (as one busy API key makes): the allowed count matches the
    model through expiry and the array's compaction."""
    clock = Clock()
    limiter = RateLimiter("memory://", clock=clock)
    model: deque[float] = deque()
    for count, dt in bursts:
        for _ in range(count):
            clock.now += 0.001
            while model and model[0] <= clock.now - 60:
                model.popleft()
            allowed = len(model) < 2000
            try:
                limiter.hit("2000/minute", "ns", "k")
                assert allowed
                model.append(clock.now)
            except RateLimited:
                assert not allowed
        clock.now += dt
    assert limiter.test("2000/minute", "ns", "k") == (len([t for t in model if t > clock.now - 60]) < 2000)


def test_memory_windows_forget_idle_keys():
    clock = Clock()
    limiter = RateLimiter("memory://", clock=clock)
    for i in range(100):
        limiter.hit("1/second", "ns", f"client-{i}")
    clock.now += 61
    limiter.hit("1/second", "ns", "late")
    assert list(limiter._memory._events) == [("1/second", "ns", "late")]


@needs_redis
def test_redis_limits_are_shared_between_workers():
    one, two = RateLimiter("redis://127.0.0.1:6379"), RateLimiter("redis://127.0.0.1:6379")
    key = uuid.uuid4().hex
    one.hit("3/minute", "ns", key)
    two.hit("3/minute", "ns", key)
    one.hit("3/minute", "ns", key)
    assert not two.test("3/minute", "ns", key)
    with pytest.raises(RateLimited) as e:
        two.hit("3/minute", "ns", key)
    assert 1 <= e.value.retry_after <= 61
    one.hit("3/minute", "ns", key + "-other")  # another key is counted apart
