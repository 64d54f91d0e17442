"""Amounts as people write them (``postguard.amounts``): every accepted way of writing a whole number
of đồng reads back as that number, and what could be read two ways is refused with a reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.amounts import MAX_VND, InvalidAmount, amount_field, amount_of, parse_vnd
from postguard.errors import InvalidInput


def grouped(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


def decimal_of(n: int, unit: int, comma: bool) -> str:
    """``n / unit`` as a decimal number with at most two places (``1,5``), comma or dot."""
    text = format(Decimal(n) / unit, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",") if comma else text


CURRENCIES = ["", "đ", " đ", "d", " VND", " vnđ", " VNĐ", " đồng", " dong", "₫"]
PREFIXES = ["VND ", "VNĐ ", "₫", "vnd: "]
MULTIPLIERS = {1000: ["k", "K", " nghìn", " ngàn", " ngan"], 10**6: ["tr", " triệu", " trieu", "củ", " m"],
               10**9: [" tỷ", "tỷ", " tỉ", " ty"]}


def styles(n: int) -> list[str]:
    """Every accepted way of writing ``n`` đồng that fits it."""
    out = [str(n), *(grouped(n, sep) + cur for sep in (".", ",", " ") for cur in CURRENCIES)]
    out += [p + grouped(n, ".") for p in PREFIXES]
    if n >= 1000:  # accounting: grouped, and two zero decimals after the other separator
        out += [grouped(n, ".") + ",00 đ", grouped(n, ",") + ".00"]
    for unit, words in MULTIPLIERS.items():
        if n % unit == 0:
            out += [f"{n // unit}{w}" for w in words] + [f"{n // unit}{w} đồng" for w in words]
        if n % (unit // 100) == 0 and n >= unit // 100 and n // unit < 1000:
            out += [decimal_of(n, unit, comma) + w for comma in (True, False) for w in words]
    big, small = 10**9, 10**6  # "1 tỷ 200 triệu", "2 triệu 500 nghìn", "1tr5"
    for hi, lo, lo_word in ((10**9, 10**6, " triệu"), (10**6, 1000, " nghìn")):
        if n % lo == 0 and n > hi and n % hi:
            out.append(f"{n // hi}{' tỷ' if hi == big else ' triệu'} {n % hi // lo}{lo_word}")
    if n % (small // 10) == 0 and n > small and n % small:
        tail = str(n % small // (small // 10))
        out += [f"{n // small}tr{tail}", f"{n // small} triệu {tail}"]
    if n % small == small // 2 and n > small:
        out.append(f"{n // small} triệu rưỡi")
    return out


amounts = st.one_of(
    st.integers(1, MAX_VND),
    st.integers(1, 10**6).map(lambda k: k * 1000),  # round thousands: k, nghìn
    st.integers(1, 10**5).map(lambda k: k * 10**5),  # 1,5 triệu; 2tr5
    st.integers(1, 10**4).map(lambda k: k * 10**7),  # 1,25 tỷ; 1 tỷ 200 triệu
)


@given(amounts)
def test_every_accepted_style_reads_back_the_amount(n):
    for text in styles(n):
        assert parse_vnd(text) == n, text


@given(amounts)
def test_a_message_reads_the_same_number_and_unit(n):
    """The message check reads a number and its unit apart (``amount_of``): the same value."""
    assert amount_of(grouped(n, "."), "đ") == n
    if n % 1000 == 0:
        assert amount_of(str(n // 1000), "k") == n
    if n % 10**5 == 0 and n < 10**9:
        assert amount_of(decimal_of(n, 10**6, True), "triệu") == n


@pytest.mark.parametrize("text,code", [
    ("-350000", "negative"), ("−350.000 đ", "negative"), ("0", "too_small"), ("0đ", "too_small"),
    ("1,5", "fraction"), ("12.5đ", "fraction"), ("350,00", "fraction"), ("1.500.000,50 đ", "fraction"),
    ("1.500,000", "ambiguous"), ("1.500.000.5", "ambiguous"), ("1,255 triệu", "ambiguous"), ("1.500 tr", "ambiguous"),
    ("1 triệu 2 tỷ", "ambiguous"), ("1 triệu 1500 nghìn", "ambiguous"), ("1tr5000000", "ambiguous"),
    ("2 triệu 500 000", "ambiguous"), ("1001 tỷ", "too_large"), (str(MAX_VND + 1), "too_large"),
    ("9" * 40, "too_large"), ("9" * 41, "unreadable"), ("", "unreadable"), ("đ", "unreadable"),
    ("abc", "unreadable"), ("350 tỷ đô", "unreadable"), ("1e6", "unreadable"), ("350k200k", "ambiguous"),
    ("٣٥٠٠٠٠", "unreadable"), ("350\x00000", "unreadable"), ("0x1F4", "unreadable"),
])
def test_refused_with_the_reason(text, code):
    with pytest.raises(InvalidAmount) as e:
        parse_vnd(text)
    assert e.value.code == code


@given(st.text(max_size=45))
def test_any_text_is_an_amount_in_range_or_a_reason(text):
    try:
        n = parse_vnd(text)
    except InvalidAmount as e:
        assert e.code in ("unreadable", "negative", "fraction", "ambiguous", "too_small", "too_large")
    else:
        assert 1 <= n <= MAX_VND


def test_the_field_reads_text_and_whole_numbers_and_names_itself():
    assert amount_field(" 1,5 triệu ", "amount_vnd", minimum=0) == 1_500_000
    assert amount_field(0, "amount_vnd", minimum=0) == 0 and amount_field("0", "amount_vnd", minimum=0) == 0
    assert amount_field(None, "x") is None and amount_field("  ", "x") is None
    for bad in (True, 1.5, -1, [350], "350 tỷ đô"):
        with pytest.raises(InvalidInput) as e:
            amount_field(bad, "amount_lost_vnd")
        assert [f.field for f in e.value.errors] == ["amount_lost_vnd"]
