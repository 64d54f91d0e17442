"""What a worker keeps for ``POST /v1/check`` (``postguard.intel.kept``): every cache stays within
its bound whatever the lookups, and nothing serves past its age or after what it was built from
changed."""

from datetime import datetime, timedelta
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from postguard.intel.kept import (
    GRADE_CACHE_SECONDS,
    GRADE_CACHE_SIZE,
    KEPT_BODIES,
    KEPT_BODY_BYTES,
    AnswerCache,
    GradeCache,
    GradedAnswer,
    GradeEntry,
    KeptBodies,
    KeptBody,
)
from postguard.intel.verdicts import Verdict

T0 = datetime(2026, 11, 23, 8, 0)
V = Verdict("reported", 40)


def row(iid: int, stamp: datetime = T0):
    return SimpleNamespace(id=iid, updated_at=stamp)


def test_the_bounds_are_the_documented_ones():
    assert (GRADE_CACHE_SECONDS, GRADE_CACHE_SIZE, KEPT_BODY_BYTES, KEPT_BODIES) == (30.0, 100_000, 256, 50_000)
    assert (GradeCache().size, GradeCache().ttl) == (GRADE_CACHE_SIZE, GRADE_CACHE_SECONDS)
    assert (AnswerCache().size, AnswerCache().ttl) == (GRADE_CACHE_SIZE, GRADE_CACHE_SECONDS)
    kept = KeptBodies()
    assert (kept.max_bytes, kept.max_entries, kept.ttl) == (KEPT_BODY_BYTES, KEPT_BODIES, GRADE_CACHE_SECONDS)


def test_a_verdict_serves_while_its_row_is_unchanged_and_younger_than_the_ttl():
    cache = GradeCache(size=10, ttl=30.0)
    entry = GradeEntry(T0, 100.0, V, None)
    cache.put(row(1), entry)
    assert cache.get(row(1), 100.0) is entry and cache.get(row(1), 129.999) is entry
    assert cache.get(row(1), 130.0) is None  # exactly the ttl old: graded again
    assert cache.get(row(1, T0 + timedelta(microseconds=1)), 100.0) is None  # regraded since: a new stamp
    assert cache.get(row(2), 100.0) is None


def test_a_graded_answer_serves_within_its_generation_and_younger_than_the_ttl():
    cache = AnswerCache(size=10, ttl=30.0)
    entry = GradedAnswer(7, 100.0, {"verdict": "reported"}, [1])
    cache.put((b"a", b"b"), entry)
    assert cache.get((b"a", b"b"), 7, 129.999) is entry
    assert cache.get((b"a", b"b"), 7, 130.0) is None
    assert cache.get((b"a", b"b"), 8, 100.0) is None  # anything stored changed since
    assert cache.get((b"a",), 7, 100.0) is None
    # what a kept body may borrow: the generation's answer however old (the body then expires with it)
    assert cache.of_generation((b"a", b"b"), 7) is entry and cache.of_generation((b"a", b"b"), 8) is None


@given(st.lists(st.integers(0, 40), max_size=200))
def test_grade_and_answer_caches_never_exceed_their_size(ids):
    grades, answers = GradeCache(size=8), AnswerCache(size=8)
    for i, iid in enumerate(ids):
        entry = GradeEntry(T0, float(i), V, None)
        grades.put(row(iid), entry)
        answers.put((b"%d" % iid,), GradedAnswer(0, float(i), {}, [iid]))
        assert len(grades) <= 8 and len(answers) <= 8
        assert grades.get(row(iid), float(i)) is entry  # the newest always serves
        assert answers.get((b"%d" % iid,), 0, float(i)).ids == [iid]


def body_entry(kept_at: float) -> KeptBody:
    return (0, kept_at + 10.0, b"{}", (), kept_at, "unknown")


@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=10), st.floats(0, 4, allow_nan=False)),
                max_size=80))
def test_kept_bodies_stay_bounded_and_leave_by_age(ops):
    """Bodies longer than ``max_bytes`` are never kept; at most ``max_entries`` are (the ones kept
    last); ``forget`` drops exactly those kept ``ttl`` or more before its clock."""
    bodies = KeptBodies(max_bytes=6, max_entries=4, ttl=10.0)
    clock, order, kept_at = 0.0, [], {}
    for keep, body, step in ops:
        clock += step
        if keep:
            entry = body_entry(clock)
            bodies.keep(body, entry)
            if len(body) > 6:
                assert body not in bodies and bodies.get(body) is None
            else:
                assert bodies.get(body) is entry
                order = [b for b in order if b != body] + [body]
                kept_at[body] = clock
        else:
            bodies.forget(clock)
            last = order[-4:]
            assert {b for b in last if b in bodies} == {b for b in last if kept_at[b] > clock - 10.0}
            assert all(b in last for b in order if b in bodies)
        assert len(bodies) <= 4


def test_kept_bodies_leave_the_garbage_collector_s_watch():
    """Up to 50,000 kept bodies live in a worker at once: each must be a plain tuple of plain values,
    which the collector stops tracking, so that full collections (pauses on the event loop) do not
    walk them. A NamedTuple, or a list of ids, would stay tracked."""
    import gc

    from postguard.intel.check import CheckService

    kept = KeptBodies()
    plan = SimpleNamespace(known=False, generation=3)
    service = SimpleNamespace(_bodies=kept, _answers=AnswerCache())
    CheckService._keep_body(service, b'{"value": "0912 345 678"}', plan, b"{}", "unknown")
    gc.collect()
    (entry,) = kept._entries.values()
    assert type(entry) is tuple and not gc.is_tracked(entry)
