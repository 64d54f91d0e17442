"""The in-memory index of known indicators: membership agrees with a set (hypothesis)."""

from hypothesis import given
from hypothesis import strategies as st

from postguard.intel.known import build, contains, key_of

keys = st.lists(st.integers(0, 2**64 - 1), max_size=300)


@given(keys, st.lists(st.integers(0, 2**64 - 1), max_size=50))
def test_table_membership_is_set_membership(stored, probes):
    table = build(stored)
    assert list(table.keys) == sorted(set(stored))
    for k in stored + probes + [0, 2**64 - 1]:
        assert contains(table, k) == (k in set(stored))


@given(st.integers(0, 2**64 - 1), st.integers(1, 40_000))
def test_the_filter_passes_every_stored_key_and_stops_most_others(seed, n):
    import random

    rng = random.Random(seed)
    stored = [rng.getrandbits(64) for _ in range(n)]
    table = build(stored)
    assert all(contains(table, k) for k in stored)
    stopped = 0
    for _ in range(2000):
        k = rng.getrandbits(64)
        slot = k >> table.shift
        stopped += not (table.bitmap[slot >> 3] >> (slot & 7)) & 1
    assert stopped >= 1700  # at most 1/8 of the bitmap is set: ~88% of absent keys stop there


@given(st.binary(min_size=8, max_size=32))
def test_key_is_the_first_64_bits(digest):
    assert key_of(digest) == int.from_bytes(digest[:8], "big")
    assert contains(build([key_of(digest)]), key_of(digest + b"x"))
