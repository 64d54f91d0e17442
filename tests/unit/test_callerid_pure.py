"""Pure parts of caller identification: spoken codes, request flags, input parsing, and every
Vietnamese way of writing a courier's number reaching the same keyed digest."""

from __future__ import annotations

import hmac
from datetime import UTC, date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.callerid.check import (
    ASKED,
    assess_requests,
    given_name,
    parse_amount,
    parse_asked,
    parse_waybill,
)
from postguard.callerid.codes import DIGITS, code_matches, spoken_code, vn_today
from postguard.callerid.keys import HmacSha256, phone_field
from postguard.errors import InvalidInput
from postguard.phones import OLD_MOBILE_PREFIXES

KEY = b"k" * 32
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31))


@given(st.integers(1, 2**53), days)
def test_spoken_code_is_short_stable_and_matches_only_itself(shipment_id, day):
    code = spoken_code(KEY, shipment_id=shipment_id, day=day)
    assert len(code) == DIGITS and code.isdigit()
    assert code == spoken_code(KEY, shipment_id=shipment_id, day=day)
    assert code_matches(KEY, shipment_id=shipment_id, day=day, code=f" {code[:2]}-{code[2:]} ")
    assert not code_matches(KEY, shipment_id=shipment_id, day=day, code=f"{(int(code) + 1) % 10**DIGITS:0{DIGITS}d}")


def test_spoken_codes_change_with_day_shipment_and_key():
    base = date(2026, 11, 23)
    codes = {spoken_code(KEY, shipment_id=i, day=base + timedelta(days=d)) for i in range(1, 40) for d in range(5)}
    assert len(codes) > 150  # 200 pairs over 10,000 codes: a handful of collisions at most
    assert spoken_code(KEY, shipment_id=1, day=base) != spoken_code(b"x" * 32, shipment_id=1, day=base) or \
        spoken_code(KEY, shipment_id=2, day=base) != spoken_code(b"x" * 32, shipment_id=2, day=base)


def test_the_day_is_viet_nam_s():
    from datetime import datetime

    assert vn_today(datetime(2026, 11, 23, 16, 59, tzinfo=UTC)) == date(2026, 11, 23)
    assert vn_today(datetime(2026, 11, 23, 17, 0, tzinfo=UTC)) == date(2026, 11, 24)


@given(st.lists(st.sampled_from(ASKED), unique=True), st.one_of(st.none(), st.integers(0, 10**9)),
       st.one_of(st.none(), st.integers(0, 10**9)))
def test_every_request_a_genuine_courier_never_makes_is_flagged(asked, amount, cod):
    flags = assess_requests(asked, amount, cod)
    codes = [f["code"] for f in flags]
    assert set(asked) <= set(codes)
    if amount and cod is not None and amount != cod:
        assert "amount_differs" in codes
    if amount and cod is None:
        assert "amount_unverified" in codes
    if not amount or amount == cod:
        assert not {"amount_differs", "amount_unverified"} & set(codes)


@pytest.mark.parametrize("raw,expected", [("350.000", 350000), ("350,000đ", 350000), ("0", 0), (None, None),
                                          ("", None), (1200, 1200)])
def test_amounts(raw, expected):
    assert parse_amount(raw) == expected


@pytest.mark.parametrize("fn,raw", [(parse_amount, "abc"), (parse_amount, -1), (parse_asked, ["cash"]),
                                    (parse_waybill, "a b"), (parse_waybill, "x" * 41), (parse_waybill, "mã số"),
                                    (parse_waybill, "DM.0001")])
def test_bad_values_are_invalid_input(fn, raw):
    with pytest.raises(InvalidInput):
        fn(raw)


def test_asked_and_waybill_normalisation():
    assert parse_asked("otp, fee,otp") == ("otp", "fee")
    assert parse_waybill(" ck-0001 ") == "ck-0001"  # looked up in every letter case, stored ones never rewritten
    assert parse_waybill("DM 000 000\u00a0001\u200b") == "DM000000001"
    assert given_name("Nguyễn Thị Minh Khai") == "Khai" and given_name("") is None


NSN = st.sampled_from(["912", "983", "353", "707", "853", "868"]).flatmap(
    lambda p: st.text("0123456789", min_size=6, max_size=6).map(lambda r: p + r))


@given(NSN, st.sampled_from(["0{n}", "+84{n}", "84{n}", "0084{n}", "{n}", "+84 {a}.{b}.{c}", "0{a} {b} {c}",
                             "0{a}-{b}-{c}", "(0{a}) {b}{c}", " 0{a}.{b}.{c} "]))
def test_every_written_form_of_a_courier_number_is_one_number(nsn, form):
    text = form.format(n=nsn, a=nsn[:3], b=nsn[3:6], c=nsn[6:])
    assert phone_field(text, "caller") == "+84" + nsn


@pytest.mark.parametrize("old,new", sorted(OLD_MOBILE_PREFIXES.items()))
def test_pre_2018_eleven_digit_numbers_are_today_s_numbers(old, new):
    assert phone_field(f"0{old}1234567", "caller") == f"+84{new}1234567"
    assert phone_field(f"+84 {old} 123 4567", "caller") == f"+84{new}1234567"


@given(st.binary(max_size=100), st.binary(max_size=80))
def test_the_keyed_phone_digest_is_hmac_sha256(key, msg):
    assert HmacSha256(key).digest(msg) == hmac.digest(key, msg, "sha256")
