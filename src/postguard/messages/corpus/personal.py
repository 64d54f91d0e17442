"""Personal data in a corpus row, masked the way README.md describes (pure functions, no I/O).

``mask`` replaces, in order:

- Vietnamese mobile numbers (``0`` or ``+84``/``84``, a carrier digit 3/5/7/8/9, eight more digits,
  with or without spaces, dots or dashes): the carrier prefix is kept, every other digit becomes
  ``x`` and the separators stay (``0912 345 678`` → ``091x xxx xxx``, ``+84912345678`` →
  ``+8491xxxxxxx``);
- every other run of nine or more digits, contiguous or with single spaces, dots or dashes between
  them (accounts, cards, ID numbers, landlines): each digit becomes ``x``; an organisation's hotline
  (``1800``/``1900`` and four or six more digits, written with separators, no group of nine) stays, as README.md allows;
- e-mail addresses other than at an ``example.*`` domain: ``x@example.com``.

What is left has no real-looking mobile number, no run of nine or more digits and no e-mail address
outside ``example.*`` (``tests/unit/test_message_corpus.py``'s checks). Names and street addresses are
not recognised: whoever accepts a message for training reads it first.
"""

from __future__ import annotations

import re

VN_MOBILE = re.compile(r"(?<![\w.])(?:\+?84|0)[ .-]?[35789](?:[ .-]?\d){8}(?!\d)")
LONG_DIGITS = re.compile(r"(?<!\d)\d(?:[ .-]?\d){8,}(?!\d)")
EMAIL = re.compile(r"[\w.+-]+@([\w-]+\.)+[A-Za-z]{2,}")
_HOTLINE = re.compile(r"1[89]00(?:\d{4}|\d{6})")
_DIGIT = re.compile(r"\d")
_GROUPS = re.compile(r"\d+")
MASKED_EMAIL = "x@example.com"


def _mask_mobile(m: re.Match[str]) -> str:
    number = m.group(0)
    prefix = 3 if number.startswith("+84") else 2 if number.startswith("84") else 1
    head, rest = number[:prefix], number[prefix:]
    kept = 0
    out = []
    for c in rest:  # the carrier digit and the next one stay, as the corpus keeps the carrier prefix
        if c.isdigit():
            out.append(c if kept < 2 else "x")
            kept += 1
        else:
            out.append(c)
    return head + "".join(out)


def _mask_digits(m: re.Match[str]) -> str:
    run = m.group(0)
    digits = "".join(c for c in run if c.isdigit())
    if _HOTLINE.fullmatch(digits) and max(len(g) for g in _GROUPS.findall(run)) < 9:
        return run
    return _DIGIT.sub("x", run)


def _mask_email(m: re.Match[str]) -> str:
    return m.group(0) if m.group(1).startswith("example.") else MASKED_EMAIL


def mask(text: str) -> str:
    """``text`` with its phone numbers, long digit runs and e-mail addresses masked (see above)."""
    text = VN_MOBILE.sub(_mask_mobile, text)
    text = LONG_DIGITS.sub(_mask_digits, text)
    return EMAIL.sub(_mask_email, text)
