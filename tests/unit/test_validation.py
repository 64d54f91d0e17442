import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.shipments.validation import validate
from postguard.synthetic import Faker

GOOD = Faker(7).shipment_row("VN123456789")


def codes(row):
    item, errors = validate(row, row=9)
    assert item is None
    assert all(e.row == 9 for e in errors)
    return {(e.field, e.code) for e in errors}


def test_a_good_row_validates_and_normalises():
    item, errors = validate({**GOOD, "recipient_phone": "0912.345.678", "cod_amount_vnd": "1.250.000"})
    assert errors == []
    assert item.recipient_phone == "+84912345678"
    assert item.cod_amount_vnd == 1_250_000


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("waybill", "", "required"),
        ("waybill", "a b", "invalid"),
        ("sender_name", "", "required"),
        ("sender_name", "12345", "invalid"),
        ("recipient_name", "x" * 101, "too_long"),
        ("recipient_name", "Trần Thị Thu Hằng 0912345678", "digits"),
        ("sender_name", "Lê Văn Tám 0912.345.678", "digits"),
        ("recipient_name", "Nguyễn Văn An ０９１２３４５６７８", "digits"),  # full-width digits
        ("recipient_name", "Phạm Thị ٠٩١٢ Hoa", "digits"),  # Arabic-Indic digits
        ("recipient_name", "Đỗ Thị Ⅻ Mai", "digits"),  # a Roman numeral
        ("recipient_name", "Nguyễn Văn \u202eAn", "encoding"),  # right-to-left override
        ("sender_name", "Hoàng\u2066 Yến\u2069", "encoding"),  # isolates
        ("recipient_name", "Vũ\u200b Minh", "encoding"),  # zero-width space
        ("sender_phone", "0912", "invalid_phone"),
        ("recipient_phone", "09a2345678", "invalid_phone"),
        ("recipient_phone", "", "required"),
        ("recipient_address", "", "required"),
        ("recipient_address", "Số 1\x00 đường Lê Lợi", "encoding"),
        ("sender_address", "Số 1 \udcff", "encoding"),  # a byte that was not UTF-8
        ("recipient_province", "Atlantis", "unknown_place"),
        ("recipient_province", "", "required"),
        ("recipient_ward", "Phường Không Tồn Tại", "unknown_place"),
        ("cod_amount_vnd", "12,5", "invalid_number"),
        ("cod_amount_vnd", "-1", "invalid_number"),
        ("cod_amount_vnd", "1" * 14, "out_of_range"),
        ("weight_grams", "", "required"),
        ("weight_grams", "0", "out_of_range"),
        ("weight_grams", "1.5kg", "invalid_number"),
        ("goods_description", "x" * 501, "too_long"),
    ],
)
def test_each_bad_field_is_named_with_its_reason(field, value, code):
    assert (field, code) in codes({**GOOD, field: value})


def test_messages_never_echo_the_value():
    _, errors = validate({**GOOD, "recipient_phone": "0999 888 77x"})
    assert all("888" not in e.message for e in errors)


def test_every_problem_of_a_row_is_reported_at_once():
    got = codes({**GOOD, "sender_phone": "1", "recipient_ward": "?", "weight_grams": "heavy"})
    assert {f for f, _ in got} == {"sender_phone", "recipient_ward", "weight_grams"}


# -- waybills as people type them (finding: lower case or spaces were not found) -----------------------
waybills = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{3,20}", fullmatch=True)


@given(waybills, st.data())
def test_every_letter_case_of_a_typed_waybill_looks_up_the_stored_one(stored, data):
    from postguard.shipments.validation import CASE_FORMS_LETTERS, case_forms, typed_waybill

    typed = "".join(c.swapcase() if data.draw(st.booleans()) else c for c in stored)
    spaced = " ".join(typed[i : i + 3] for i in range(0, len(typed), 3))
    assert typed_waybill(f" {spaced}\u200b ") == typed
    forms = case_forms(typed)
    assert len(forms) == len(set(forms)) and forms[0] == typed and {f.upper() for f in forms} == {typed.upper()}
    letters = sum(c.isalpha() for c in typed)
    if letters <= CASE_FORMS_LETTERS:
        assert stored in forms and len(forms) == 2**letters
    else:
        assert {typed, typed.upper(), typed.lower()} == set(forms)


@pytest.mark.parametrize("raw", ["", "   ", "ab", "DM.0001", "Đ0000001", "DM0001;DROP", "x" * 41, "-DM0001", None, 42])
def test_text_that_cannot_be_a_waybill_is_none(raw):
    from postguard.shipments.validation import typed_waybill

    assert typed_waybill(raw) is None
