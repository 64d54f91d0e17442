"""A message's text: bounded, NFC, and folded for matching (pure functions, no I/O).

``bounded`` accepts free text of at most ``MAX_BYTES`` bytes of UTF-8 and returns it in NFC.
``fold`` gives lower-case ASCII words without diacritics (``Bưu phẩm`` → ``buu pham``), and
``fold_slang`` also reads teencode and leetspeak the way people write SMS (``tr0 cap`` → ``tro cap``,
``c0d`` → ``cod``, ``k`` → ``khong``, ``ck`` → ``chuyen khoan``, ``plz`` → ``please``). Both are
idempotent: a folded text folds to itself.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from postguard.errors import FieldError, InvalidInput

MAX_BYTES = 4096

_CONTROL = frozenset(("Cc", "Cf", "Cs", "Co"))
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_KEEP = frozenset("\t\n\r\u200d")  # line breaks, tabs, and the joiner some emoji need


def bounded(text: object, field: str = "text") -> str:
    """``text`` in NFC, or ``InvalidInput`` naming ``field``: not text, empty, over ``MAX_BYTES``
    bytes of UTF-8, or not encodable (lone surrogates). Invisible format characters other than the
    line breaks are dropped (they hide words from filters, and a reader does not see them)."""
    if not isinstance(text, str):
        raise InvalidInput("The message could not be read.", [FieldError(field, "must be text", code="string_type")])
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidInput("The message could not be read.",
                           [FieldError(field, "is not valid Unicode text", code="invalid_encoding")]) from None
    if size > MAX_BYTES:
        raise InvalidInput("The message is too long.",
                           [FieldError(field, f"is longer than {MAX_BYTES} bytes (UTF-8)", code="too_long")])
    text = unicodedata.normalize("NFC", text)
    if _ASCII_CONTROL.search(text) or (not text.isascii() and any(
            unicodedata.category(c) in _CONTROL and c not in _KEEP for c in set(text) if not c.isascii())):
        text = "".join(c for c in text if c in _KEEP or unicodedata.category(c) not in _CONTROL)
    if not text.strip():
        raise InvalidInput("The message could not be read.", [FieldError(field, "is empty", code="empty")])
    return text


_NON_WORD = re.compile(r"[^a-z0-9]+")


def _strip_table() -> dict[int, int | None]:
    """Each precomposed Latin letter (Vietnamese's among them) → its ASCII base; combining marks → nothing."""
    table: dict[int, int | None] = {ord("đ"): ord("d"), ord("Đ"): ord("D")}
    for cp in range(0xC0, 0x2000):
        base = unicodedata.normalize("NFD", chr(cp))
        if len(base) > 1 and base[0].isascii() and all(unicodedata.combining(c) for c in base[1:]):
            table[cp] = ord(base[0])
    for cp in range(0x300, 0x370):
        table[cp] = None
    return table


_STRIP = _strip_table()


def strip_diacritics(text: str) -> str:
    """``text`` as typed without a Vietnamese keyboard: the same letters and case, no tone or vowel
    marks, ``đ`` as ``d`` (``Bưu phẩm`` → ``Buu pham``)."""
    return unicodedata.normalize("NFC", text.translate(_STRIP))


def fold(text: str) -> str:
    """Lower-case ASCII words without diacritics, separated by one space."""
    quick = text if text.isascii() else text.translate(_STRIP)
    if not quick.isascii():  # other compatibility forms (full-width letters, ligatures…): the general way
        quick = unicodedata.normalize("NFKD", quick.replace("đ", "d").replace("Đ", "D"))
        quick = "".join(c for c in quick if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", quick.lower()).strip()


# Whole words as people write them in SMS and chats → the word meant. No value is a key, so the
# mapping is idempotent.
SLANG: dict[str, str] = {
    # Vietnamese teencode
    "k": "khong", "ko": "khong", "kg": "khong", "kh": "khong", "khg": "khong", "hok": "khong", "hong": "khong",
    "ck": "chuyen khoan", "chk": "chuyen khoan", "cktt": "chuyen khoan thanh toan",
    "stk": "so tai khoan", "tk": "tai khoan", "sdt": "so dien thoai", "dt": "dien thoai",
    "dc": "duoc", "dk": "duoc", "j": "gi", "bn": "bao nhieu", "mn": "moi nguoi",
    "ng": "nguoi", "trc": "truoc", "vs": "voi", "ntn": "nhu the nao",
    "ib": "inbox", "ibx": "inbox", "cod": "cod", "sp": "san pham", "nv": "nhan vien",
    "lh": "lien he", "ctk": "chu tai khoan", "nh": "ngan hang", "gd": "giao dich", "tt": "thanh toan",
    # English text speak
    "u": "you", "ur": "your", "pls": "please", "plz": "please", "acct": "account", "txt": "text",
    "asap": "immediately", "msg": "message", "pkg": "package",
}
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"})
# A word that starts with a letter and has one or two digits among letters: leetspeak (``tr0``,
# ``c0d``, ``m0m0`` has two); longer digit runs are codes and stay (``vcb123456``).
_LEETISH = re.compile(r"^[a-z][a-z0-9]{1,11}$")


@lru_cache(maxsize=65536)
def _word(w: str) -> str:
    if _LEETISH.match(w) and 0 < sum(c.isdigit() for c in w) <= 2:
        letters = sum(c.isalpha() for c in w)
        if letters >= 2 or len(w) <= 3:
            w = w.translate(_LEET)
    return SLANG.get(w, w)


def fold_slang(text: str, folded: str | None = None) -> str:
    """``fold`` and then teencode and leetspeak read as the words meant; ``folded``: ``fold(text)``
    when known."""
    return " ".join(map(_word, (fold(text) if folded is None else folded).split()))


def is_message(value: str) -> bool:
    """Whether a value given to a one-indicator lookup is meant as a message: longer than any
    indicator, or three words or more with letters ("Vietcombank 0123456789" is one indicator)."""
    if not isinstance(value, str):
        return False
    if len(value) > 2048:
        return True
    return sum(1 for w in value.split() if any(c.isalpha() for c in w)) >= 3
