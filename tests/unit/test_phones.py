import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postguard.phones import (
    KIND_NAMES,
    OLD_MOBILE_PREFIXES,
    InvalidPhone,
    caller_number,
    national_format,
    normalize_phone,
    number_kind,
    virtual_kind,
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


# -- what a caller's number is (phonenumbers' own metadata, as bundled) --------------------------------
@pytest.mark.parametrize("raw,e164,kind,virtual", [
    ("+44 56 1234 5678", "+445612345678", "voip", "voip"),  # UK 056: VoIP
    ("0044 56 1234 5678", "+445612345678", "voip", "voip"),
    ("+44 70 1234 5678", "+447012345678", "personal_number", "personal_number"),  # UK 070: follow-me
    ("+1 242 225 0000", "+12422250000", "uan", "uan"),  # Bahamas: a universal access number
    ("0672 012 345", "+84672012345", "voip", "voip"),  # Viet Nam's VoIP range 0672
    ("069 123 456", "+8469123456", "uan", None),  # the police and army network: no international dialling
    ("0868 000 123", "+84868000123", "mobile", None),
    ("0899 000 123", "+84899000123", "mobile", None),
    ("1900 1234", "+8419001234", "premium_rate", None),
    ("1800 1234", "+8418001234", "toll_free", None),
    ("(024) 3822 1234", "+842438221234", "fixed_line", None),
    ("028 3822 1234", "+842838221234", "fixed_line", None),
    ("+44 20 7946 0000", "+442079460000", "fixed_line", None),
])
def test_what_a_callers_number_is(raw, e164, kind, virtual):
    assert caller_number(raw) == e164
    assert number_kind(e164) == kind and virtual_kind(e164) == virtual


@pytest.mark.parametrize("raw", ["0890 000 123", "0556 000 123", "+44 87 0123 45678", "12", "+84 672 012 34",
                                 "0672 012 345 678 901 234 567 890", "+44 56 1234 567x", "١٢٣٤٥٦٧٨٩٠", ""])
def test_unassigned_and_malformed_callers_are_refused(raw):
    """0890–0895 are not assigned in Viet Nam (0896–0899 are MobiFone's); pagers, too long, not digits."""
    with pytest.raises(InvalidPhone):
        caller_number(raw)


@settings(max_examples=300)
@given(st.text(alphabet="0123456789", min_size=8, max_size=10))
def test_the_kind_agrees_with_phonenumbers(digits):
    """``number_kind`` tells Vietnamese mobiles and landlines by the compiled patterns: what a full parse says."""
    num = phonenumbers.parse("+84" + digits, None)
    theirs = KIND_NAMES.get(phonenumbers.number_type(num), "unknown") if phonenumbers.is_valid_number(num) \
        else "unknown"
    assert number_kind("+84" + digits) == theirs


@given(mobile_nsn)
def test_callers_take_every_written_form_of_a_mobile(nsn):
    assert {caller_number(f) for f in written_forms(nsn)} == {normalize_phone("0" + nsn)}
