"""What the call check reads in a call: its transcript (bounded, read by the message check's rules),
who the caller claimed to be, the account they asked to be paid into, and the verdict."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.callerid.check import ASKED, MAX_TRANSCRIPT_BYTES, parse_payee, parse_transcript, verdict_of
from postguard.callerid.claims import CLAIMS, claim_of, parse_claims, parse_operator
from postguard.errors import InvalidInput
from postguard.messages.transcript import read_transcript

OPERATORS = [{"code": "VNP", "name": "Bưu điện Mẫu"}, {"code": "GHX", "name": "Giao Hàng Mẫu"}]


@pytest.mark.parametrize("text,asked,claims,flags,payees,amount", [
    ("Alo em là shipper GHN, đơn hàng của chị bị giữ, chị chuyển khoản phí lưu kho 35k vào stk Vietcombank "
     "0123456789 giúp em, gấp trong 30 phút", ("fee",), ("courier",), {"urgency"}, ["Vietcombank ******6789"], 35000),
    ("Chào anh, em gọi từ ngân hàng Sacombank, tài khoản của anh sẽ bị khóa, anh đọc mã OTP giúp em",
     ("otp",), ("bank",), {"threat", "account_locked"}, [], None),
    ("ck truoc 50k cho e vao stk MB 0123456789 thi e giao", (), ("courier",), set(), ["MB ******6789"], 50000),
    ("Chuyen vao vi MoMo 0912 345 678 de nhan hang, roi cai AnyDesk nhe", ("app",), ("courier",), {"remote_app", "verify_link"},
     ["MoMo *******678"], None),
    ("Em giao hàng tới, anh chuẩn bị 350.000đ tiền mặt nhé", (), ("courier",), set(), [], None),
    ("Hello, this is your bank security team calling about your account", (), ("bank",), set(), [], None),
    ("Vào bit.ly/nhan-hang để xác nhận địa chỉ", ("link",), ("courier",), {"shortener", "verify_link"}, [], None),
])
def test_a_transcript_is_read_by_the_message_checks_rules(text, asked, claims, flags, payees, amount):
    got = read_transcript(text)
    assert got.asked == asked and got.claims == claims and {f.code for f in got.flags} == flags
    assert [p.display for p in got.payees] == payees and got.amount_vnd == amount
    assert all(f.text_vi and f.text_en and f.weight > 0 for f in got.flags)


def test_the_bank_of_the_account_to_pay_is_not_who_the_caller_claims_to_be():
    got = read_transcript("Chị chuyển khoản tiền thu hộ vào tài khoản Vietcombank 0123456789 nhé")
    assert "bank" not in got.claims and [p.value for p in got.payees] == ["970436:0123456789"]
    assert read_transcript("Tôi là nhân viên ngân hàng Vietcombank").claims == ("bank",)


def test_an_account_named_without_a_payment_asked_is_no_payee():
    assert read_transcript("Số tài khoản MB 0123456789 của chị đã nhận được hàng").payees == ()


@given(st.text(max_size=600))
def test_any_text_is_read_without_error(text):
    got = read_transcript(text)
    assert set(got.asked) <= set(ASKED) and set(got.claims) <= set(CLAIMS) and len(got.payees) <= 3
    assert got == read_transcript(text)
    for p in got.payees:  # shown masked, never as the account or wallet number
        assert p.display != p.value and p.value.split(":")[-1] not in p.display


@given(st.text(max_size=2 * MAX_TRANSCRIPT_BYTES))
def test_a_transcript_is_taken_up_to_its_size_in_utf8(text):
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        size = None
    if size is None or size > MAX_TRANSCRIPT_BYTES:
        with pytest.raises(InvalidInput) as e:
            parse_transcript(text)
        assert [x.field for x in e.value.errors] == ["transcript"] and text[:20] not in str(e.value.errors)
    else:
        got = parse_transcript(text)
        assert got is None if not text.strip() else got is not None


def test_transcript_bounds():
    assert parse_transcript("ữ" * (MAX_TRANSCRIPT_BYTES // 3)) is not None
    for bad, code in (("ữ" * (MAX_TRANSCRIPT_BYTES // 3 + 1), "too_long"), ("a" * (MAX_TRANSCRIPT_BYTES + 1), "too_long"),
                      ("lone \ud800 surrogate", "invalid_encoding"), (["a"], "string_type"), (42, "string_type")):
        with pytest.raises(InvalidInput) as e:
            parse_transcript(bad)
        assert (e.value.errors[0].field, e.value.errors[0].code) == ("transcript", code)
    assert parse_transcript(None) is None and parse_transcript("  \n ") is None
    assert parse_transcript("Cho\u0302n") == "Chôn"  # NFC


def test_claims_and_the_names_callers_give():
    assert parse_claims(" Courier ") == "courier" and parse_claims("") is None and parse_claims(None) is None
    for bad in ("police", 1, ["bank"]):
        with pytest.raises(InvalidInput) as e:
            parse_claims(bad)
        assert e.value.errors[0].field == "claims"
    assert [claim_of(n, OPERATORS) for n in ("VNP", "Giao Hàng Mẫu", "GHN", "Viettel Post", "J&T Express",
                                             "Vietcombank", "MB Bank", "MoMo", "ngân hàng", "EVN", "")] \
        == ["courier"] * 5 + ["bank"] * 4 + [None, None]
    assert parse_operator("  GHN ") == "GHN" and parse_operator(None) is None
    for bad in ("x" * 65, "GH\nN", 7):
        with pytest.raises(InvalidInput) as e:
            parse_operator(bad)
        assert e.value.errors[0].field == "operator"


def test_the_payee_given_is_an_account_or_a_wallet():
    assert parse_payee("MB 0123456789").display == "MB ******6789"
    assert parse_payee("MoMo 0912 345 678").value == "momo:+84912345678"
    assert parse_payee(None) is None and parse_payee(" ") is None
    for bad in ("0987654321", "https://example.com", "x" * 101, "MB", 12):
        with pytest.raises(InvalidInput) as e:
            parse_payee(bad)
        assert e.value.errors[0].field == "payee" and "0987654321" not in str(e.value.errors)


def test_the_verdict_sums_the_answer_up():
    def answer(outcome, *severities):
        return {"outcome": outcome, "flags": [{"code": "x", "severity": s} for s in severities]}

    assert verdict_of(answer("verified")) == "ok"
    assert verdict_of(answer("verified", "info")) == "ok"
    assert verdict_of(answer("verified", "warning", "info")) == "warning"
    assert verdict_of(answer("courier")) == "unverified"
    assert verdict_of(answer("not_courier")) == verdict_of(answer("courier_no_delivery")) == "warning"
    assert verdict_of(answer("courier", "warning", "danger")) == "danger"
