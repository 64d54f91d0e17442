"""Messages people sent as feedback go into the training set masked the way the corpus README says: the
result passes the very checks the public corpus is held to (``test_message_corpus.py``), whatever the
text, and masking twice changes nothing more. Then the export's TSV reads back with ``read_tsv``."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.messages.corpus import read_tsv
from postguard.messages.corpus.personal import mask
from postguard.messages.feedback import MessageFeedback
from tests.unit.test_message_corpus import _EMAIL, real_looking_numbers, real_looking_phones


def _clean(text: str) -> bool:
    return not real_looking_phones(text) and not real_looking_numbers(text) and not [
        m.group(0) for m in _EMAIL.finditer(text) if not m.group(1).startswith("example.")]


@pytest.mark.parametrize(("text", "masked"), [
    ("Gọi ngay 0912345678 để nhận quà", "Gọi ngay 091xxxxxxx để nhận quà"),
    ("LH 0912.345.678 hoặc +84 912 345 678", "LH 091x.xxx.xxx hoặc +84 91x xxx xxx"),
    ("SĐT:84912345678.", "SĐT:8491xxxxxxx."),
    ("STK 1903456789012 Techcombank", "STK xxxxxxxxxxxxx Techcombank"),
    ("thẻ 4111 1111 1111 1111, CCCD 001203004567", "thẻ xxxx xxxx xxxx xxxx, CCCD xxxxxxxxxxxx"),
    ("Tổng đài 1900 545413 hoặc 1800-1091", "Tổng đài 1900 545413 hoặc 1800-1091"),  # hotlines stay
    ("gọi 1900545413", "gọi xxxxxxxxxx"),  # …unless written as one long run
    ("mail nguyen.van.a+1@gmail.com.vn, test@example.org", "mail x@example.com, test@example.org"),
    ("phí 25.000đ, mã 123456, lúc 10:30 ngày 12/05", "phí 25.000đ, mã 123456, lúc 10:30 ngày 12/05"),
])
def test_what_is_masked_and_what_stays(text, masked):
    assert mask(text) == masked
    assert _clean(mask(text))


_PIECES = st.sampled_from(["0", "9", "84", "+84", "1900", "1800", " ", ".", "-", "@", "x", "a", "gmail", "com",
                           "example", "vn", "đ", "\n", "\t", "3", "5", "7", "8", "12345678"])


@given(st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=40).map("".join))
def test_any_text_masked_passes_the_corpus_checks_and_masking_is_idempotent(text):
    out = mask(text)
    assert _clean(out)
    assert mask(out) == out
    assert sum(c.isdigit() for c in out) <= sum(c.isdigit() for c in text)


def test_the_export_reads_back_as_a_corpus_tsv():
    rows = [{"label": "scam", "language": "vi", "text": "Bưu phẩm\tbị giữ\r\nchuyển khoản 091xxxxxxx",
             "source": "feedback:abc", "note": "masked"},
            {"label": "legit", "language": "en", "text": 'He said "hi" \u2028 then left', "source": "feedback:def",
             "note": ""}]
    back = list(read_tsv(io.StringIO(MessageFeedback.tsv(rows), newline="")))
    assert [(r["label"], r["language"], r["text"], r["source"]) for r in back] == [
        ("scam", "vi", "Bưu phẩm bị giữ chuyển khoản 091xxxxxxx", "feedback:abc"),
        ("legit", "en", 'He said "hi" then left', "feedback:def")]
