"""The public message corpus (src/postguard/messages/corpus/public.tsv) is well formed and carries no real personal data.

The corpus is data only: quotations of scam, suspicious and legitimate messages from public warnings,
each with the page it was quoted from. See src/postguard/messages/corpus/README.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "src" / "postguard" / "messages" / "corpus" / "public.tsv"
HEADER = ["label", "language", "text", "source", "note"]
LABELS = {"scam", "suspicious", "legit"}
LANGUAGES = {"vi", "en"}
MAX_TEXT_BYTES = 4096

# A Vietnamese mobile number as people write it: 0 or +84/84, a carrier digit (3, 5, 7, 8, 9), then eight
# more digits, with optional spaces, dots or dashes between groups.
_VN_MOBILE = re.compile(r"(?<![\w.])(?:\+?84|0)[ .-]?[35789](?:[ .-]?\d){8}(?![\d])")
# The synthetic range used when a published example had to keep a number's shape: the carrier prefix
# (0 + two digits) kept, the seven subscriber digits replaced by 0000 and three free digits.
_SYNTHETIC_NATIONAL = re.compile(r"0[35789]\d0000\d{3}")
# Account, card, ID or tracking numbers: any run of nine or more digits (phone numbers are checked above),
# except placeholders built on 123456789 that official message templates use (1234567890,
# 01123456789123456789).
_LONG_DIGITS = re.compile(r"(?<!\d)\d{9,}(?!\d)")
_PLACEHOLDER_DIGITS = "123456789"
_EMAIL = re.compile(r"[\w.+-]+@([\w-]+\.)+[A-Za-z]{2,}")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")


def _national(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    return "0" + digits[2:] if digits.startswith("84") else digits


def real_looking_phones(text: str) -> list[str]:
    """Vietnamese mobile numbers in `text` that are not masked and not in the documented synthetic range."""
    return [m.group(0) for m in _VN_MOBILE.finditer(text) if not _SYNTHETIC_NATIONAL.fullmatch(_national(m.group(0)))]


_HOTLINE = re.compile(r"(?:1800|1900)\d{4,6}")


def real_looking_numbers(text: str) -> list[str]:
    """Runs of nine or more digits (account, card, ID numbers) that are not a synthetic phone number
    or an organisation's 1800/1900 hotline (ten digits at most: no room for a person's number)."""
    return [
        m.group(0)
        for m in _LONG_DIGITS.finditer(text)
        if not _SYNTHETIC_NATIONAL.fullmatch(_national(m.group(0))) and _PLACEHOLDER_DIGITS not in m.group(0)
        and not _HOTLINE.fullmatch(m.group(0))
    ]


def _rows() -> list[list[str]]:
    lines = CORPUS.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "", "the file ends with a newline"
    assert lines[0].split("\t") == HEADER
    return [line.split("\t") for line in lines[1:-1]]


def _key(text: str) -> str:
    return " ".join(re.sub(r"\W+", " ", unicodedata.normalize("NFC", text).casefold()).split())


def test_every_row_is_complete_and_attributed() -> None:
    rows = _rows()
    assert rows, "the corpus is not empty"
    for number, row in enumerate(rows, start=2):
        assert len(row) == len(HEADER), f"line {number}: {len(row)} fields"
        label, language, text, source, _note = row
        assert label in LABELS, f"line {number}: label {label!r}"
        assert language in LANGUAGES, f"line {number}: language {language!r}"
        assert text.strip() == text and text, f"line {number}: empty or padded text"
        assert len(text.encode("utf-8")) <= MAX_TEXT_BYTES, f"line {number}: text over {MAX_TEXT_BYTES} bytes"
        assert "\r" not in text and unicodedata.normalize("NFC", text) == text, f"line {number}: text not NFC"
        assert _URL.match(source), f"line {number}: source {source!r} is not an http(s) URL"
    counts = Counter((row[0], row[1]) for row in rows)
    assert {label for label, _ in counts} == LABELS
    assert {language for _, language in counts} == LANGUAGES


def test_no_text_is_there_twice() -> None:
    keys = Counter(_key(row[2]) for row in _rows())
    assert [key for key, n in keys.items() if n > 1] == []


def test_no_real_looking_personal_data() -> None:
    for number, (_label, _language, text, _source, _note) in enumerate(_rows(), start=2):
        assert real_looking_phones(text) == [], f"line {number}: a real-looking mobile number"
        assert real_looking_numbers(text) == [], f"line {number}: a long digit run (account, card or ID number?)"
        assert [m.group(0) for m in _EMAIL.finditer(text) if not m.group(1).startswith("example.")] == [], (
            f"line {number}: an e-mail address"
        )


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Gọi ngay 0912345678 để nhận quà", True),
        ("LH 0912.345.678", True),
        ("liên hệ +84 912 345 678", True),
        ("STK 1903456789012 Techcombank", True),
        ("Gọi 0930000123 để hủy gói", False),  # synthetic range
        ("LH +84 93 0000 123", False),  # synthetic range, international form
        ("số 0823 125 xxx", False),  # masked as published
        ("Tổng đài 1900 545413", False),  # a bank's published hotline, not a mobile number
        ("Mat khau OTP:1234567890", False),  # a template's placeholder
        ("USPS 01123456789123456789, Delivered", False),  # a template's placeholder
        ("STK 1234567891", False),  # contains the placeholder run: accepted
        ("STK 1903456780", True),
    ],
)
def test_the_personal_data_check_catches_real_looking_numbers(text: str, flagged: bool) -> None:
    assert bool(real_looking_phones(text) or real_looking_numbers(text)) is flagged
