"""The bounded map behind the kept answers: the newest entries, in the order they were kept."""

from collections import OrderedDict

from hypothesis import given
from hypothesis import strategies as st

from postguard import memo


@given(st.lists(st.tuples(st.integers(0, 20), st.integers()), max_size=200), st.integers(1, 8))
def test_keeps_the_newest_distinct_keys_with_their_latest_values(ops, cap):
    entries: OrderedDict = OrderedDict()
    model: list[tuple[int, int]] = []
    for key, value in ops:
        memo.keep(entries, key, value, cap)
        model = [kv for kv in model if kv[0] != key][-(cap - 1):] if cap > 1 else []
        model.append((key, value))
        assert list(entries.items()) == model
