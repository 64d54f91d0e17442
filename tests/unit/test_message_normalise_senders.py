"""Operators' message normalisation (``postguard.senders.text.normalise``): idempotent, and the same
for a message typed with or without diacritics, in any case and spacing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from postguard.senders.text import normalise

VI = st.text(alphabet="abcdeghiklmnopqrstuvxyđĐêươăâôáàảãạếềểễệÁÀẢÃẠ \t\n\r\u200b\u00ad0123456789.,:/-", max_size=200)


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_normalise_is_idempotent_and_single_spaced(text):
    once = normalise(text)
    assert normalise(once) == once
    assert "  " not in once and once == once.strip() and "\n" not in once and "\t" not in once


@settings(max_examples=300)
@given(VI)
def test_diacritics_case_and_spacing_do_not_matter(text):
    import unicodedata

    bare = "".join(c for c in unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
                   if not unicodedata.combining(c))
    assert normalise(text) == normalise(bare.upper().replace(" ", "  ")) == normalise(bare)
    assert normalise(text).isascii()  # the Vietnamese alphabet folds to plain a-z
