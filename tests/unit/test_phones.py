import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postguard.phones import (
    OLD_MOBILE_PREFIXES,
    InvalidPhone,
    national_format,
    normalize_phone,
)
from postguard.synthetic import MOBILE_PREFIXES

subscriber = st.integers(min_value=0, max_value=10**7 - 1).map(lambda n: f"{n:07d}")
mobile_nsn = st.builds(lambda p, s: p + s, st.sampled_from(MOBILE_PREFIXES), subscriber)


def written_forms(nsn: str) -> list[str]:
    return [
        "0" + nsn,
        "+84" + nsn,
        "84" + nsn,
        "0084" + nsn,
        nsn,  # leading zero dropped by a spreadsheet
        f"0{nsn[:3]} {nsn[3:6]} {nsn[6:]}",
        f"+84 {nsn[:3]}.{nsn[3:6]}.{nsn[6:]}",
        f"0{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}",
        f"(0{nsn[:3]}) {nsn[3:]}",
        f" 0{nsn} ",
    ]


@given(mobile_nsn)
def test_every_written_form_gives_the_same_e164(nsn):
    expected = phonenumbers.format_number(phonenumbers.parse("0" + nsn, "VN"), phonenumbers.PhoneNumberFormat.E164)
    assert {normalize_phone(f) for f in written_forms(nsn)} == {expected}
    assert national_format(expected) == "0" + nsn


@given(st.sampled_from(sorted(OLD_MOBILE_PREFIXES)), subscriber)
def test_pre_2018_eleven_digit_mobiles_map_to_todays_numbers(old, sub):
    new = OLD_MOBILE_PREFIXES[old]
    assert normalize_phone("0" + old + sub) == "+84" + new + sub
    assert normalize_phone("+84 " + old + sub) == "+84" + new + sub


@settings(max_examples=400)
@given(st.text(alphabet="0123456789", min_size=9, max_size=11))
def test_agrees_with_phonenumbers_on_national_numbers(digits):
    """The fast path accepts exactly what phonenumbers calls a valid VN number (0-prefixed form)."""
    text = "0" + digits.lstrip("0") if not digits.startswith("0") else digits
    try:
        ours = normalize_phone(text)
    except InvalidPhone:
        ours = None
    try:
        num = phonenumbers.parse(text, "VN")
        valid = phonenumbers.is_valid_number(num) and phonenumbers.number_type(num) in (
            phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
        theirs = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164) if valid else None
    except phonenumbers.NumberParseException:
        theirs = None
    if len(text) == 11 and text[1:4] in OLD_MOBILE_PREFIXES:
        return  # phonenumbers no longer knows the retired prefixes; we map them (tested above)
    assert ours == theirs


@pytest.mark.parametrize(
    "raw", ["", "   ", "abc", "0912", "09123456789012", "+84 9x2 345 678", "0012345678", "0912345678;1"]
)
def test_bad_numbers_are_refused_without_echoing_them(raw):
    with pytest.raises(InvalidPhone) as e:
        normalize_phone(raw)
    assert raw.strip() == "" or raw.strip() not in str(e.value)


def test_landlines_and_foreign_numbers():
    assert normalize_phone("(028) 3822 1234") == "+842838221234"
    assert normalize_phone("024.3825.5555") == "+842438255555"
    assert normalize_phone("+1 415 555 2671") == "+14155552671"
    assert normalize_phone("001 415 555 2671") == "+14155552671"  # 00: the international prefix
    with pytest.raises(InvalidPhone):
        normalize_phone("(028) 3822 1234", mobile_only=True)


@given(st.one_of(st.text(alphabet="0123456789 +.-", max_size=16),
                 st.builds(lambda p, d, sp: p + sp.join([d[:3], d[3:6], d[6:]]),
                           st.sampled_from(["0", "+84", "84", "+84 ", "0084", ""]),
                           st.text(alphabet="0123456789", min_size=8, max_size=10), st.sampled_from(["", " ", "  "]))))
def test_the_direct_path_answers_what_the_general_path_does(raw):
    from postguard.phones import _normalize

    for mobile_only in (False, True):
        try:
            want = _normalize(raw, mobile_only)
        except InvalidPhone:
            want = None
        try:
            got = normalize_phone(raw, mobile_only=mobile_only)
        except InvalidPhone:
            got = None
        assert got == want
