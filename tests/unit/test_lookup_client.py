"""Private lookups: the bucket + OPRF round trip, and what each side gets to see."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postguard.errors import InvalidInput
from postguard.intel import lookup_client as lc
from postguard.intel import oprf

SK, _ = oprf.derive_key_pair(bytes(range(32)), b"postguard intel lookups test")
# Synthetic scam numbers, normalised E.164 (not real subscribers).
KNOWN = [f"+8490{n:07d}" for n in range(0, 400_000, 997)]
INDEX = lc.build_index(SK, KNOWN, prefix_bits=8)


def lookup(indicator: str, *, bits: int = 8, index=INDEX) -> bool:
    state = lc.make_request(indicator, prefix_bits=bits)  # client
    req = state.request
    answer = lc.answer_bucket(SK, req.prefix, req.blinded_element, index, prefix_bits=req.prefix_bits)  # server
    return lc.matches(state, answer)  # client


def test_known_and_unknown_numbers():
    assert all(lookup(n) for n in KNOWN[:50])
    assert not any(lookup(f"+8491{n:07d}") for n in range(50))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 399_999))
def test_round_trip_property(n):
    number = f"+8490{n:07d}"
    assert lookup(number) is (number in set(KNOWN))


def test_the_request_carries_only_the_prefix_and_a_fresh_blinded_element():
    a, b = lc.make_request("+84901234567"), lc.make_request("+84901234567")
    assert a.request.prefix == b.request.prefix == lc.bucket_prefix("+84901234567")
    assert a.request.blinded_element != b.request.blinded_element
    assert 0 <= a.request.prefix < 2**16 and a.request.prefix_bits == 16
    assert b"84901234567" not in repr(a).encode() and "84901234567" not in repr(a.request)


def test_the_index_holds_no_plain_hash_and_needs_the_key():
    other_sk, _ = oprf.generate_key_pair()
    other = lc.build_index(other_sk, KNOWN, prefix_bits=8)
    assert set(other) == set(INDEX)  # same buckets (plain prefixes) ...
    assert all(set(other[p]).isdisjoint(INDEX[p]) for p in INDEX)  # ... different, keyed outputs
    assert all(len(o) == lc.TRUNCATED_SIZE for outs in INDEX.values() for o in outs)
    assert all(outs == sorted(outs) for outs in INDEX.values())
    # a lookup answered with another key finds nothing: outputs are bound to sk
    state = lc.make_request(KNOWN[0], prefix_bits=8)
    answer = lc.answer_bucket(other_sk, state.request.prefix, state.request.blinded_element, INDEX, prefix_bits=8)
    assert not lc.matches(state, answer)


@given(st.text(min_size=1, max_size=30))
def test_bucket_prefix_fits_its_bits(text):
    for bits in (8, 16, 20, 24):
        p = lc.bucket_prefix(text, bits)
        assert 0 <= p < 2**bits
        assert p >> (bits - 8) == lc.bucket_prefix(text, 8)  # a longer prefix extends a shorter one


def test_empty_bucket_is_an_answer():
    state = lc.make_request("+84999999999", prefix_bits=24)
    ans = lc.answer_bucket(SK, state.request.prefix, state.request.blinded_element, {}, prefix_bits=24)
    assert ans.outputs == () and not lc.matches(state, ans)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"prefix": -1}, "prefix"), ({"prefix": 256}, "prefix"), ({"prefix": "1"}, "prefix"),
    ({"prefix_bits": 7}, "prefix_bits"), ({"prefix_bits": 25}, "prefix_bits"),
    ({"blinded": bytes(32)}, "blinded_element"), ({"blinded": b"\xff" * 32}, "blinded_element"),
    ({"sk": bytes(32)}, "sk"),
])
def test_bad_server_inputs(kwargs, field):
    state = lc.make_request("+84901234567", prefix_bits=8)
    args = {"sk": SK, "prefix": state.request.prefix, "blinded": state.request.blinded_element,
            "outputs_by_prefix": INDEX, "prefix_bits": 8, **kwargs}
    with pytest.raises(InvalidInput) as err:
        lc.answer_bucket(args.pop("sk"), args.pop("prefix"), args.pop("blinded"), **args)
    assert err.value.errors[0].field == field


@pytest.mark.parametrize("bad", ["", b"", None, 5])
def test_bad_indicators(bad):
    with pytest.raises(InvalidInput):
        lc.make_request(bad)
    with pytest.raises(InvalidInput):
        lc.bucket_prefix(bad)
