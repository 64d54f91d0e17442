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
