"""Amounts of money in đồng, read as people write them (pure, no I/O).

One reading for every place a person types an amount (the report form, the call check) and for the
amounts a message names (``postguard.messages.indicators``):

* digits, with thousands grouped by dots, commas or spaces, one kind at a time: ``350000``,
  ``350.000``, ``350,000``, ``350 000``;
* a currency before or after: ``350000đ``, ``350.000 VND``, ``VNĐ 350.000``, ``1.500.000 đồng``, ``₫350k``;
* a multiplier: ``k``, ``nghìn``/``ngàn`` (×1,000), ``tr``, ``triệu``, ``củ``, ``m`` (×1,000,000),
  ``tỷ``/``tỉ`` (×1,000,000,000), with or without diacritics, after a whole or decimal number
  (``1,5 triệu``, ``2.5tr``, ``1 tỷ``);
* units from larger to smaller (``1 tỷ 200 triệu``, ``2 triệu 500 nghìn đồng``), and the spoken
  shorthand where the digits after a unit are its fraction (``1tr5`` is 1,500,000, ``3k5`` is 3,500,
  ``1 triệu 200`` is 1,200,000; ``rưỡi`` is a half: ``1 triệu rưỡi``).

Refused, each with a reason (``InvalidAmount``) and never a guess: a negative amount, a fraction of a
đồng (``1,5`` or ``12.5đ``), separators that contradict each other (``1.500,000``), a decimal with
more than two places after a multiplier (``1,255 triệu``: did it mean 1,255 million?), units in the
wrong order, and anything above ``MAX_VND``. A dot or comma followed by exactly three digits groups
thousands (``1.500`` is 1,500), as Vietnamese writes it.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from postguard.errors import FieldError, InvalidInput

# Words people write after a number, and what they multiply it by (lower case).
UNITS: dict[str, int] = {
    "vnđ": 1, "vnd": 1, "đồng": 1, "dong": 1, "đ": 1, "d": 1,
    "k": 1000, "nghìn": 1000, "ngàn": 1000, "ngan": 1000, "nghin": 1000,
    "tr": 1_000_000, "triệu": 1_000_000, "trieu": 1_000_000, "củ": 1_000_000, "cu": 1_000_000, "m": 1_000_000,
    "tỷ": 1_000_000_000, "tỉ": 1_000_000_000, "ty": 1_000_000_000, "ti": 1_000_000_000,
}
MAX_VND = 10**12  # a thousand billion đồng: more than anyone types for a parcel, a fee or a loss
MAX_CHARS = 40

_MULTIPLIER = re.compile(r"(tỷ|tỉ|ty|ti|triệu|trieu|tr|củ|cu|nghìn|ngàn|nghin|ngan|k|m)(?![^\W\d_])")
_CURRENCY_END = re.compile(r"\s*(?:vnđ|vnd|đồng|dong|đ|d)\.?$")
_CURRENCY_START = re.compile(r"^(?:vnđ|vnd|đ)\s*:?\s*(?=\d)")
# A number: grouped thousands (one separator kind, maybe a decimal part after the other), or digits
# with maybe a decimal part.
_NUMBER = re.compile(r"(?a)\d{1,3}(?:(?P<sep>[., ])\d{3}(?!\d))(?:(?P=sep)\d{3}(?!\d))*(?:[.,]\d+)?(?!\d)|\d+(?:[.,]\d+)?")
_GROUPED = re.compile(r"(?a)\d{1,3}(?P<sep>[., ])\d{3}(?:(?P=sep)\d{3})*(?:(?P<dec>[.,])(?P<frac>\d{1,2}))?")
_DECIMAL = re.compile(r"(?a)(\d+)[.,](\d{1,2})")
_HALF = re.compile(r"rưỡi|ruoi")
_SPACES = re.compile(r"\s+")


class InvalidAmount(ValueError):
    """The text is not an amount of đồng: ``code`` says what is wrong (``unreadable``, ``negative``,
    ``fraction``, ``ambiguous``, ``too_small``, ``too_large``) and ``str()`` says it in English."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _number(number: str) -> tuple[Decimal, str] | None:
    """The value of a written number and how it was written: ``digits`` (``350000``), ``grouped``
    (``350.000``, ``1,500,000``, ``1.500.000,00``), ``group3`` (one separator and three digits:
    ``1.500``, ``350,000``, which a multiplier makes ambiguous) or ``decimal`` (``1,5``, ``2.25``);
    None when the separators contradict each other (``1.500,000``, ``1.500.000.5``)."""
    if number.isascii() and number.isdigit():
        return Decimal(number), "digits"
    m = _GROUPED.fullmatch(number)
    if m:
        dec = m.group("dec")
        if dec is not None and dec == m.group("sep"):
            return None  # 1.500.000.5: grouping or decimals?
        whole = number[: m.start("dec")] if dec else number
        value = Decimal(re.sub(r"[., ]", "", whole) + ("." + m.group("frac") if dec else ""))
        return value, "group3" if dec is None and whole.count(m.group("sep")) == 1 else "grouped"
    m = _DECIMAL.fullmatch(number)
    if m:
        return Decimal(f"{m.group(1)}.{m.group(2)}"), "decimal"
    return None


def number_value(number: str) -> Decimal | None:
    """The value of a written number (``350.000``, ``1,5``, ``1.500.000,00``), or None when its
    separators contradict each other."""
    read = _number(number)
    return None if read is None else read[0]


def amount_of(number: str, unit: str = "") -> int | None:
    """VND of a written number and the unit after it (``25.000`` ``đ``, ``25`` ``k``, ``1,5``
    ``triệu``), or None when it is not a whole, positive amount up to ``MAX_VND`` (how a message's
    amounts are read: nothing is refused, what cannot be read is left out)."""
    value = number_value(number)
    if value is None:
        return None
    total = value * UNITS.get(unit.lower(), 1)
    if total != total.to_integral_value():
        return None
    return int(total) if 0 < total <= MAX_VND else None


def _clean(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).lower().replace("₫", "đ")
    t = "".join(" " if unicodedata.category(c) == "Zs" or c == "\t" else c for c in t)
    return _SPACES.sub(" ", t).strip()


_HOW = "write it as 350.000, 350000đ, 350k, 1,5 triệu or 2tr"


def parse_vnd(text: str, *, minimum: int = 1, maximum: int = MAX_VND) -> int:
    """The amount ``text`` says, in đồng, from ``minimum`` to ``maximum``; ``InvalidAmount`` otherwise."""
    if not isinstance(text, str):
        raise InvalidAmount("unreadable", "an amount is text or a whole number")
    if len(text) > MAX_CHARS:
        raise InvalidAmount("unreadable", f"at most {MAX_CHARS} characters")
    s = _clean(text)
    if s[:1] in ("-", "−", "–"):
        raise InvalidAmount("negative", "an amount cannot be negative")
    s = _CURRENCY_START.sub("", s.removeprefix("+"))
    s = s if s.isascii() and s.isdigit() else _CURRENCY_END.sub("", s)
    if not s:
        raise InvalidAmount("unreadable", _HOW)
    total = Decimal(0)
    last: int | None = None  # the multiplier of the part before
    pos = 0
    while pos < len(s):
        if last is not None and _HALF.fullmatch(s, pos):  # "1 triệu rưỡi": and a half
            total += Decimal(last) / 2
            break
        m = _NUMBER.match(s, pos)
        if m is None:
            raise InvalidAmount("unreadable", _HOW)
        number, pos = m.group(0), m.end()
        pos += s.startswith(" ", pos)
        read = _number(number)
        if read is None:
            raise InvalidAmount("ambiguous", "the dots and commas contradict each other: group thousands one way "
                                "(1.500.000)")
        value, how = read
        unit = _MULTIPLIER.match(s, pos)
        if unit is None:
            if pos < len(s):
                raise InvalidAmount("unreadable", _HOW)
            if last is None:  # the whole amount, in đồng
                if how == "decimal" or value != value.to_integral_value():
                    raise InvalidAmount("fraction", "not a whole number of đồng: group thousands with dots "
                                        "(350.000)")
                total = value
            else:  # "1tr5", "1 triệu 200": the digits after a unit are its fraction
                if how != "digits" or len(number) > len(str(last)) - 1:
                    raise InvalidAmount("ambiguous", "ambiguous: name the smaller unit too (1 triệu 200 nghìn)")
                total += value * last / 10 ** len(number)
            break
        mult = UNITS[unit.group(1)]
        pos = unit.end()
        pos += s.startswith(" ", pos)
        if how == "group3":
            raise InvalidAmount("ambiguous", f"ambiguous: {number} {unit.group(1)} could be read two ways; "
                                "write 1,5 triệu or 1.500.000")
        if last is not None and (mult >= last or value * mult >= last or how != "digits"):
            raise InvalidAmount("ambiguous", "units go from larger to smaller, each part less than the one before "
                                "(1 tỷ 200 triệu)")
        total += value * mult
        last = mult
    if total != total.to_integral_value():
        raise InvalidAmount("fraction", "not a whole number of đồng")
    return _within(int(total), minimum, maximum)


def _within(amount: int, minimum: int, maximum: int) -> int:
    if amount < minimum:
        raise InvalidAmount("too_small", "must be more than 0" if minimum == 1 else
                            f"must be at least {minimum:,} đồng".replace(",", "."))
    if amount > maximum:
        raise InvalidAmount("too_large", f"must be at most {maximum:,} đồng".replace(",", "."))
    return amount


def amount_field(raw: object, field: str, *, minimum: int = 1, maximum: int = MAX_VND) -> int | None:
    """An amount from input (text as people write it, or a whole number), None when left empty;
    ``InvalidInput`` naming ``field`` otherwise (the one way services read a typed amount)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return _within(raw, minimum, maximum)
        if not isinstance(raw, str):
            raise InvalidAmount("unreadable", "an amount is text or a whole number")
        return parse_vnd(raw, minimum=minimum, maximum=maximum)
    except InvalidAmount as e:
        raise InvalidInput("The amount could not be read.", [FieldError(field, str(e), code=e.code)]) from None
