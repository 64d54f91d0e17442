import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.synthetic import FAMILY, GIVEN, MIDDLE
from postguard.vault.masking import BUSINESS_MAX, is_business, mask_address, mask_name, mask_party, mask_phone

names = st.builds(
    lambda f, ms, g: " ".join([f, *ms, g]),
    st.sampled_from(FAMILY), st.lists(st.sampled_from(MIDDLE), min_size=0, max_size=2), st.sampled_from(GIVEN),
)


@given(names)
def test_mask_name_keeps_given_name_and_initials_only(full):
    masked = mask_name(full)
    words = full.split()
    assert masked.endswith(" " + words[-1])
    assert full not in masked
    initials, given = masked.rsplit(" ", 1)
    assert given == words[-1] and all(len(part) == 1 for part in initials.split(".")[:-1])
    assert masked.startswith("".join(w[0] + "." for w in words[:-1]))


@given(names)
def test_mask_name_normalises_to_nfc(full):
    decomposed = unicodedata.normalize("NFD", full)
    assert mask_name(decomposed) == mask_name(full)
    assert unicodedata.is_normalized("NFC", mask_name(decomposed))


@given(st.integers(min_value=10**8, max_value=10**10 - 1))
def test_mask_phone_shows_only_the_last_three_digits(n):
    e164 = f"+84{n}"
    masked = mask_phone(e164)
    assert masked.endswith(e164[-3:])
    assert sum(c.isdigit() for c in masked) == 3
    assert len(masked) == 10  # same length whatever the number's length


def test_mask_address_is_ward_and_province_only():
    assert mask_address(ward="Phường Bến Thành", province="Thành phố Hồ Chí Minh") == (
        "Phường Bến Thành, Thành phố Hồ Chí Minh"
    )


# -- whatever the name: initials and one short given name, no digit, no invisible character -------------
_PHONES = st.from_regex(r"0[35789][0-9]{8}", fullmatch=True)
_SEPARATORS = st.sampled_from([" ", "  ", "-", ".", ", ", "\u202e", "\u2066", "\u200b", "\t", "/", "(", ")"])
_DIGIT_RUNS = st.one_of(_PHONES, st.from_regex(r"[0-9]{2,}", fullmatch=True),
                        _PHONES.map(lambda p: p.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})),
                        _PHONES.map(lambda p: f"{p[:4]} {p[4:7]} {p[7:]}"), _PHONES.map(lambda p: f"{p[:4]}.{p[4:]}"))
_PIECES = st.one_of(st.sampled_from(FAMILY + MIDDLE + GIVEN), _DIGIT_RUNS, _SEPARATORS,
                    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6))
hostile_names = st.lists(_PIECES, max_size=10).map("".join)


def _letters_of(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFC", text) if c.isalpha() and not c.isnumeric())


def _reveals_at_most_initials_and_given(full: str, masked: str) -> None:
    """The mask is ``X.Y.Z. Given``, ``X.Y.Z.`` or ``Given``: one-letter initials, then at most one word
    of at most seven letters that appears, as is, in the input; nothing else."""
    assert not any(c.isnumeric() for c in masked)
    assert all(c.isalpha() or c in ". " for c in masked), masked
    initials, _, given = masked.rpartition(" ") if " " in masked else ("", "", masked)
    if given.endswith("."):  # no given name shown: initials only
        initials, given = given, ""
    assert all(len(part) == 1 for part in initials.split(".")[:-1]) and (not initials or initials.endswith("."))
    assert len(given) <= 7 and given in unicodedata.normalize("NFC", full)
    assert len(_letters_of(masked)) <= len(_letters_of(full))


@given(hostile_names)
def test_mask_name_reveals_at_most_initials_and_the_given_name(full):
    masked = mask_name(full)
    _reveals_at_most_initials_and_given(full, masked)
    assert mask_name(masked) == masked  # stored masks may be masked again: nothing changes


@given(names, _DIGIT_RUNS, st.sampled_from([" ", "", ", ", " - ", "\u202e"]))
def test_mask_name_never_shows_a_digit_run_from_the_input(full, digits, sep):
    for text in (f"{full}{sep}{digits}", f"{digits}{sep}{full}", f"{full.rsplit(' ', 1)[0]}{sep}{digits}"):
        masked = mask_name(text)
        assert not any(c.isdigit() for c in masked), (text, masked)
        _reveals_at_most_initials_and_given(text, masked)
    assert mask_name(f"{full} {digits}") == mask_name(full)


@given(names)
def test_names_run_together_are_masked_like_spaced_ones(full):
    assert mask_name(full.replace(" ", "")) == mask_name(full)


def test_mask_name_examples_from_the_field():
    assert mask_name("Trần Thị Thu Hằng 0912345678") == "T.T.T. Hằng"
    assert mask_name("NguyễnVănAn") == "N.V. An"
    assert mask_name("T.T.T.H. 0912345678") == "T.T.T.H."  # a mask stored by an earlier version
    assert mask_name("NGUYỄNVĂNAN") == "N."  # no word boundary to find: initial only
    assert mask_name("Nguyễn Văn \u202eAn") == "N.V. An"
    assert mask_name("0912345678") == ""


# -- businesses are shown by name, people masked ----------------------------------------------------------
BUSINESSES = [
    ("Công ty Trách nhiệm Hữu hạn Thương mại Dịch vụ Xuất nhập khẩu Hoàng Long Phát",
     "Công ty TNHH TM DV XNK Hoàng Long Phát"),
    ("CÔNG TY CỔ PHẦN SÁCH BÌNH MINH", "CÔNG TY CỔ PHẦN SÁCH BÌNH MINH"),
    ("CTY TNHH Sen Vàng", "CTY TNHH Sen Vàng"),
    ("cong ty tnhh thuong mai hoa sen", "cong ty tnhh thuong mai hoa sen"),
    ("Doanh nghiệp tư nhân Minh Châu", "Doanh nghiệp tư nhân Minh Châu"),
    ("Cửa hàng Điện máy Minh Phát", "Cửa hàng Điện máy Minh Phát"),
    ("Shop Thời trang Hoa Mai", "Shop Thời trang Hoa Mai"),
    ("Hộ kinh doanh Nguyễn Văn An", "Hộ kinh doanh Nguyễn Văn An"),
    ("Chi nhánh Công ty Cổ phần Đầu tư Xây dựng Công nghệ Sản xuất Thương mại Miền Nam Việt Nam Toàn Cầu",
     "Chi nhánh Công ty CP ĐT XD CN SX TM Miền Nam Việt Nam Toàn…"),
]


@pytest.mark.parametrize(("name", "shown"), BUSINESSES)
def test_a_business_is_shown_by_its_name_shortened_as_businesses_do(name, shown):
    assert is_business(name) and mask_party(name) == shown
    assert len(mask_party(name)) <= BUSINESS_MAX and mask_party(mask_party(name)) == mask_party(name)


@given(names)
def test_a_person_is_never_taken_for_a_business(full):
    assert not is_business(full) and mask_party(full) == mask_name(full)


@pytest.mark.parametrize("full", ["Nguyễn Văn Phong", "Trần Thị Tiềm", "Đoàn Văn Tập", "Lê Cửa", "Phạm Công Tý",
                                  "Hoàng Thị Shopia", "Vũ Đại Lý", "Ngô Văn Phòng"])
def test_names_close_to_business_words_are_people(full):
    assert not is_business(full) and mask_party(full) == mask_name(full)


@given(hostile_names)
def test_whatever_the_name_no_number_or_hidden_character_is_shown(full):
    shown = mask_party(full)
    assert not re.search(r"\d(?:[\s.\-]*\d){2,}", shown)  # no phone or house number
    assert not any(unicodedata.category(c)[0] == "C" for c in shown)  # nothing invisible or reordering
    assert len(shown) <= max(BUSINESS_MAX, len(mask_name(full)))
    if not is_business(full):
        _reveals_at_most_initials_and_given(full, shown)


def test_a_business_name_never_carries_a_number_past_the_mask():
    assert mask_party("Shop Hoa Mai 0912 345 678") == "Shop Hoa Mai ***"
    assert mask_party("Cửa hàng 24h") == "Cửa hàng 24h"  # a short number is part of a name
