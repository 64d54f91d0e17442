"""The in-memory index of known indicators: membership agrees with a set (hypothesis)."""

from hypothesis import given
from hypothesis import strategies as st

from postguard.intel.known import build, contains, key_of

keys = st.lists(st.integers(0, 2**64 - 1), max_size=300)


@given(keys, st.lists(st.integers(0, 2**64 - 1), max_size=50))
def test_sorted_array_membership_is_set_membership(stored, probes):
    arr = build(stored)
    assert list(arr) == sorted(set(stored))
    for k in stored + probes + [0, 2**64 - 1]:
        assert contains(arr, k) == (k in set(stored))


@given(st.binary(min_size=8, max_size=32))
def test_key_is_the_first_64_bits(digest):
    assert key_of(digest) == int.from_bytes(digest[:8], "big")
    assert contains(build([key_of(digest)]), key_of(digest + b"x"))
