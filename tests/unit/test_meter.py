"""The services' counters (``postguard.metrics``): no increment lost however many threads count at
once without a lock, counts of threads that ended kept, label values that could be personal turned
into ``other``, and gauges read at most once per ``ttl``."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.metrics import Meter, bounded


def test_threads_counting_at_once_lose_nothing_and_ended_threads_keep_their_counts():
    counter = Meter().counter("postguard_test_things", "Things", ("kind",))
    start = threading.Barrier(8)

    def work(kind: str) -> None:
        start.wait()
        for _ in range(20_000):
            counter.inc(kind)

    threads = [threading.Thread(target=work, args=("a" if i % 2 else "b",)) for i in range(8)]
    for t in threads:
        t.start()
    seen_meanwhile = counter.values()  # a scrape while they count: never more than was counted
    for t in threads:
        t.join()
    assert all(n <= 80_000 for n in seen_meanwhile.values())
    assert counter.values() == {("a",): 80_000, ("b",): 80_000}
    counter.inc("a", amount=5)  # this thread's shard, beside the ended threads' folded ones
    assert counter.values() == {("a",): 80_005, ("b",): 80_000}
    assert len(counter._shards) == 1  # the ended threads' shards were folded away


@given(st.text(max_size=60))
def test_only_short_words_pass_as_label_values(value):
    out = bounded(value)
    assert out == value or out == "other"
    if out == value:
        assert value and value[0].isascii() and value[0].isalpha() and not any(c.isdigit() for c in value)


@pytest.mark.parametrize("value", ["+84912345678", "0912345678", "DM000000000", "10.0.0.1", "a b", "Nguyễn",
                                  "x" * 41, "deadbeef00"])
def test_numbers_waybills_addresses_and_text_are_other(value):
    assert bounded(value) == "other"


def test_names_and_labels_are_checked():
    m = Meter()
    with pytest.raises(ValueError):
        m.counter("things_total", "no prefix")
    with pytest.raises(ValueError):
        m.counter("postguard_things_total", "the exposition adds _total")
    c = m.counter("postguard_things", "Things", ("kind",))
    assert m.counter("postguard_things", "Things", ("kind",)) is c  # a service built twice counts on
    with pytest.raises(ValueError):
        m.counter("postguard_things", "Things", ("other",))


def test_a_gauge_is_read_at_most_once_per_ttl():
    reads = []
    g = Meter().gauge("postguard_queue", "Queue", lambda: reads.append(1) or [((), len(reads))], ttl=3600)
    assert g.values() == g.values() == [((), 1)] and len(reads) == 1
    g0 = Meter().gauge("postguard_queue", "Queue", lambda: reads.append(1) or [((), len(reads))], ttl=0)
    assert g0.values() != g0.values()
