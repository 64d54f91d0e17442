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
    org_number,
    service_number,
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
        # the country code with the trunk 0 written anyway, as business cards print it
        f"+84 (0) {nsn[:3]} {nsn[3:6]} {nsn[6:]}",
        f"(+84) {nsn[:3]} {nsn[3:6]} {nsn[6:]}",
        f"(+84) 0{nsn}",
        f"0084 (0){nsn}",
        f"84 (0) {nsn}",
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


# -- numbers as people write them: "+84 (0) …" and the 1800/1900 hotlines of organisations ------------
def hotline_forms(digits: str) -> list[str]:
    """Every way people write the hotline ``digits`` (``1900545481``, ``19006035``)."""
    head, tail = digits[:4], digits[4:]
    pairs = " ".join(tail[i : i + 2] for i in range(0, len(tail), 2))
    triples = " ".join(tail[i : i + 3] for i in range(0, len(tail), 3))
    return [digits, f"{head} {pairs}", f"{head}.{pairs.replace(' ', '.')}", f"{head} {triples}",
            f"{head}-{triples.replace(' ', '-')}", f"{head} {tail}", f"+84 {head} {tail}", f"0084 {digits}",
            f"(+84) {head} {pairs}", f" {head}\u00a0{tail} "]


def _valid_hotline(digits: str) -> bool:
    num = phonenumbers.parse(digits, "VN")
    return phonenumbers.is_valid_number(num) and phonenumbers.number_type(num) in (
        phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST)


hotlines = st.builds(lambda p, rest: p + rest, st.sampled_from(["1800", "1900"]),
                     st.one_of(st.text(alphabet="0123456789", min_size=4, max_size=4),
                               st.text(alphabet="0123456789", min_size=6, max_size=6))).filter(_valid_hotline)


@given(hotlines)
def test_every_written_form_of_a_hotline_gives_one_e164(digits):
    """Finding: "1900 54 54 81" was refused where an organisation's number is asked for."""
    want = phonenumbers.format_number(phonenumbers.parse(digits, "VN"), phonenumbers.PhoneNumberFormat.E164)
    forms = hotline_forms(digits)
    assert {service_number(f) for f in forms} == {org_number(f) for f in forms} == {want}
    assert {caller_number(f) for f in forms} == {want}  # a call may come from one too
    for f in forms:  # but a hotline is no person's number: recipients, OTPs and searches still refuse it
        with pytest.raises(InvalidPhone):
            normalize_phone(f)


@given(mobile_nsn)
def test_an_organisation_gives_mobiles_in_every_written_form_too(nsn):
    assert {org_number(f) for f in written_forms(nsn)} == {"+84" + nsn}


@pytest.mark.parametrize("raw", [
    "+84 (0)(0) 912 345 678", "+84 00 912 345 678", "(+84) 00912345678", "+84 (1) 912 345 678", "+84 (0) 912 345 67",
    "+84 (0) 912 345 6789", "0 (0) 912 345 678", "+840", "(+84)", "+84 (0)", "1900", "1900 12", "1900 1234 567",
    "1800 123 4567 89", "1901 2345", "1900 54 54 8I", "1900 ٥٤٥٤٨١", "1900 54 54 81; 0912",
    "tel:1900545481", "19OO 54 54 81", "+84 (0) 912 345 678 ext 1",
])
def test_garbage_is_still_refused(raw):
    for read in (normalize_phone, org_number, service_number):
        with pytest.raises(InvalidPhone):
            read(raw)


@settings(max_examples=400)
@given(st.text(alphabet="0123456789 +().-84\u00a0", max_size=22))
def test_what_is_accepted_is_a_valid_number_of_its_digits(raw):
    """Whatever the separators, an accepted number is valid for phonenumbers and keeps the written
    national digits (a trunk 0 aside): nothing is invented, moved or guessed."""
    for read in (normalize_phone, org_number):
        try:
            e164 = read(raw)
        except InvalidPhone:
            continue
        num = phonenumbers.parse(e164, None)
        assert phonenumbers.is_valid_number(num) or e164[3:6] in {p for p in OLD_MOBILE_PREFIXES.values()}
        written = "".join(c for c in raw if c.isdigit())
        nsn = e164[3:] if e164.startswith("+84") else e164[1:]
        assert written.endswith(nsn) or any(written.endswith(old + nsn[2:]) for old, new in
                                            OLD_MOBILE_PREFIXES.items() if nsn.startswith(new))
