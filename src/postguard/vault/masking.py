"""The one masking policy, used by every audience (label, API, web). Pure functions.

What may appear: the given name with the initials of the other names, at most the last three digits
of a phone number, and the ward and province. What never appears: the full name, the full phone
number, the street address, the goods description. Text is normalised to NFC first.
"""

from __future__ import annotations

import re
import unicodedata

PHONE_MASK = "*******"
HIDDEN = "***"

# Characters that reverse or reorder the text around them (Unicode bidirectional controls: embeddings,
# overrides, isolates, marks). U+202E before ``gnàH`` shows ``Hàng``: shown raw, they make a
# page say something else than the data.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_NEUTRAL = str.maketrans(dict.fromkeys(map(ord, BIDI_CONTROLS), "\ufffd"))


def neutralise_bidi(text: str) -> str:
    """``text`` with each bidirectional control replaced by U+FFFD (visible, and inert)."""
    return text if text.isascii() else text.translate(_NEUTRAL)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


GIVEN_MAX_LETTERS = 7  # the longest Vietnamese syllable (``nghiêng``): a longer "given name" is not one

# A name's words: runs of letters. Digits and other numerals (², Ⅻ, 一), punctuation, symbols,
# spaces, combining marks left over, and invisible or direction-changing characters all separate
# words and never appear in the mask.
_WORD = re.compile(r"[^\W\d_]+")


def _split_numerals(text: str, start: int, stop: int) -> list[tuple[str, int]]:
    out, begin = [], None
    for i in range(start, stop):
        c = text[i]
        if c.isalpha() and not c.isnumeric():
            begin = i if begin is None else begin
        elif begin is not None:
            out.append((text[begin:i], i))
            begin = None
    if begin is not None:
        out.append((text[begin:stop], stop))
    return out


def _words(text: str) -> list[tuple[str, bool]]:
    """The words of ``text``, each with whether it is written as an initial (one letter and a dot);
    a word joined to the next without a space (``NguyễnVănAn``) is split where a capital follows a
    small letter."""
    out = []
    for m in _WORD.finditer(text):
        word, end = m.group(), m.end()
        if not word.isalpha() or max(word) >= "\u2e80":  # numeral letters (², Ⅻ, 一): not part of words
            runs = _split_numerals(text, m.start(), end)
        else:  # Latin (Vietnamese included): the common case
            runs = [(word, end)]
        for word, end in runs:
            if len(word) > 1 and not word[1:].islower() and not word.isupper():
                start = 0
                for i in range(1, len(word)):
                    if word[i].isupper() and word[i - 1].islower():
                        out.append((word[start:i], False))
                        start = i
                word = word[start:]
            out.append((word, len(word) == 1 and text[end:end + 1] == "."))
    return out


def _initial(word: str) -> str:
    """``A.`` for ``An``: one capital letter (``ß`` stays ``ß``, not ``SS``) and a dot."""
    upper = word[0].upper()
    return (upper if len(upper) == 1 else word[0]) + "."


def mask_name(full_name: str) -> str:
    """``Nguyễn Thị Thanh Hằng`` → ``N.T.T. Hằng`` (Vietnamese names end with the given name).

    Whatever the input (names stored before validation refused digits, names run together, text
    with direction-changing characters), the result is at most the initials of the other words and
    one given name of at most ``GIVEN_MAX_LETTERS`` letters, and never holds a digit: the given name
    is shown as an initial too when it is longer, written as an initial, or absent. Masking a masked
    name changes nothing."""
    text = nfc(full_name)
    words = text.split()
    joined = "".join(words)
    if text.istitle() and joined.isalpha() and max(joined) < "\u2e80":
        # The common case at once: letters only, no numeral letters, and no capital after a small letter
        # (``istitle``), so no words run together.
        *others, given = words
        is_initial = False
    else:
        parsed = _words(text)
        if not parsed:
            return ""
        *rest, (given, is_initial) = parsed
        others = [w for w, _ in rest]
    firsts = "".join([w[0] for w in others])  # a list: faster than a generator here
    upper = firsts.upper()
    initials = "".join([_initial(w) for w in others]) if len(upper) != len(firsts) else \
        (".".join(upper) + "." if upper else "")  # ``ß`` upper-cases to two letters: one at a time then
    if is_initial or len(given) > GIVEN_MAX_LETTERS:
        return initials + _initial(given)
    return f"{initials} {given}" if initials else given


def phone_last3(e164: str) -> str:
    tail = e164[-3:]
    if tail.isascii() and tail.isdigit():  # E.164 and national forms end in digits
        return tail
    digits = [c for c in e164 if c.isdigit()]
    return "".join(digits[-3:])


def mask_phone_last3(last3: str | None) -> str:
    """Always seven stars then the last three digits, whatever the number's length."""
    return PHONE_MASK + (last3 or "***")


def mask_phone(e164: str) -> str:
    return mask_phone_last3(phone_last3(e164))


def mask_address(*, ward: str, province: str) -> str:
    """Only the ward and the province: never the street, house number or hamlet."""
    return f"{nfc(ward)}, {nfc(province)}"


# -- businesses: shown by name, shortened; people: masked -------------------------------------------
# A sender or recipient that is a business (a company, a shop, a household business) is shown by its
# name, which is public and is what the person at the door expects to read; only people's names are
# masked. A business is recognised by the legal or trade form in its name: Vietnamese words with their
# diacritics (so that the person ``Phạm Công Tý`` is not ``công ty``, nor ``Nguyễn Văn Phong`` a
# ``văn phòng``), the same words in a name written without any diacritics, and abbreviations.
# Words that are also people's names (``Đại Lý``, ``Văn Phòng``) are left out.
BUSINESS_WORDS = ("công ty", "doanh nghiệp", "cổ phần", "trách nhiệm hữu hạn", "cửa hàng", "hộ kinh doanh",
                  "tập đoàn", "chi nhánh", "hợp tác xã", "siêu thị", "nhà thuốc", "nhà sách", "xưởng", "tiệm")
BUSINESS_ABBREVIATIONS = ("cty", "tnhh", "dntn", "htx", "hkd", "jsc", "ltd", "co.,ltd", "shop", "store", "company",
                          "corp")


def _words_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)")


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").replace("đ", "d").replace("Đ", "D")


_BUSINESS = _words_pattern(BUSINESS_WORDS + BUSINESS_ABBREVIATIONS)
_BUSINESS_UNACCENTED = _words_pattern(tuple(_folded(w) for w in BUSINESS_WORDS))
# The long legal and trade words of a business name, as Vietnamese businesses shorten them themselves.
ABBREVIATIONS = (
    ("doanh nghiệp tư nhân", "DNTN"), ("trách nhiệm hữu hạn", "TNHH"), ("một thành viên", "MTV"),
    ("cổ phần", "CP"), ("thương mại", "TM"), ("dịch vụ", "DV"), ("xuất nhập khẩu", "XNK"), ("sản xuất", "SX"),
    ("đầu tư", "ĐT"), ("xây dựng", "XD"), ("công nghệ", "CN"), ("hộ kinh doanh", "HKD"),
)
_ABBREVIATIONS = [(re.compile(r"(?<!\w)" + re.escape(long) + r"(?!\w)", re.IGNORECASE), short)
                  for long, short in ABBREVIATIONS]
BUSINESS_SHORT = 40  # longer names have their legal words shortened…
BUSINESS_MAX = 60  # …and are cut at a word after this many characters
# Runs of three or more digits (with the separators people write numbers with) never appear: a phone
# number or a house number written into a name is hidden, a short number (``3T``, ``24h``) stays.
_DIGIT_RUN = re.compile(r"\d(?:[\s.\-]*\d){2,}")


def is_business(name: str) -> bool:
    """Whether ``name`` names a business (its legal or trade form: Công ty, CTY, TNHH, Cổ phần,
    Doanh nghiệp, Cửa hàng, Shop, …) rather than a person."""
    text = nfc(name).casefold()
    return bool(_BUSINESS.search(text) or (text.isascii() and _BUSINESS_UNACCENTED.search(text)))


def business_name(name: str) -> str:
    """A business's name as labels and pages show it: visible characters only, single spaces, no run of
    three digits or more, and when long its legal words shortened (``Trách nhiệm Hữu hạn`` → ``TNHH``),
    then cut after a word at ``BUSINESS_MAX`` characters."""
    text = "".join(c if unicodedata.category(c)[0] not in "CZ" else " " for c in nfc(name))
    text = " ".join(_DIGIT_RUN.sub("***", text).split())
    if len(text) > BUSINESS_SHORT:
        for pattern, short in _ABBREVIATIONS:
            text = pattern.sub(short, text)
    if len(text) > BUSINESS_MAX:
        text = text[:BUSINESS_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,.-") + "…"
    return text


def mask_party(name: str) -> str:
    """A sender's or recipient's name as it may be shown: a business by its name (``business_name``),
    a person masked (``mask_name``)."""
    return business_name(name) if is_business(name) else mask_name(name)
