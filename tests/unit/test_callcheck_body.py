"""The call check's request body: the direct reading of the usual anonymous body agrees with the
model's validation on any JSON: what it reads, the model accepts with the same values."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from postguard.api.callerid import CallCheckIn, _body, _quick_body
from postguard.errors import InvalidInput

TEXT = st.text(max_size=45)
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), TEXT, st.lists(TEXT, max_size=7),
                   st.lists(st.one_of(st.integers(), st.none()), max_size=2))
BODIES = st.dictionaries(st.sampled_from(["caller", "asked", "phone", "amount_vnd", "extra"]), VALUES, max_size=4)


@given(st.one_of(BODIES.map(lambda d: json.dumps(d).encode()), st.sampled_from([b"", b"[]", b"{", b'"x"', b"null"])))
def test_the_direct_reading_agrees_with_the_model(raw):
    quick = _quick_body(raw)
    try:
        model = _body(CallCheckIn, raw)
    except InvalidInput:
        assert quick is None
        return
    if quick is not None:
        assert model == CallCheckIn(caller=quick[0], asked=quick[1])


def test_the_usual_bodies_are_read_directly():
    assert _quick_body(b'{"caller": "0912 345 678"}') == ("0912 345 678", [])
    assert _quick_body(b'{"asked": ["fee", "otp"], "caller": "+84912345678"}') == ("+84912345678", ["fee", "otp"])
    assert _quick_body(b'{"caller": "0912345678", "waybill": "VN1"}') is None  # proof of a parcel: the full check
