"""The one masking policy, used by every audience (label, API, web). Pure functions.

What may appear: the given name with the initials of the other names, at most the last three digits
of a phone number, and the ward and province. What never appears: the full name, the full phone
number, the street address, the goods description. Text is normalised to NFC first.
"""

from __future__ import annotations

import unicodedata

PHONE_MASK = "*******"
HIDDEN = "***"


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def mask_name(full_name: str) -> str:
    """``Nguyễn Thị Thanh Hằng`` → ``N.T.T. Hằng`` (Vietnamese names end with the given name)."""
    words = nfc(full_name).split()
    if not words:
        return ""
    initials = "".join([w[0].upper() + "." for w in words[:-1] if w[0].isalpha()])  # a list: faster than a generator here
    return f"{initials} {words[-1]}" if initials else words[-1]


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
