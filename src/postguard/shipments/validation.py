"""Validation of one shipment's input (pure): every field checked, every problem named.

Used by the API's single create and by the CSV import, so both refuse the same things with the same
messages. Messages never echo the value (it may be personal data), only the field and the reason.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from postguard.amounts import InvalidAmount, parse_vnd
from postguard.errors import FieldError, InvalidInput
from postguard.phones import InvalidPhone, normalize_phone
from postguard.places import PlaceError, locate

COLUMNS = (
    "waybill",
    "sender_name",
    "sender_phone",
    "sender_address",
    "recipient_name",
    "recipient_phone",
    "recipient_address",
    "recipient_province",
    "recipient_ward",
    "goods_description",
    "cod_amount_vnd",
    "weight_grams",
)
_WAYBILL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{3,39}$")
T = TypeVar("T")
_AMOUNT = re.compile(r"^\d{1,3}([.,]\d{3})+$|^\d+$")
MAX_COD_VND = 1_000_000_000_000
MAX_WEIGHT_G = 10_000_000


@dataclass(slots=True)
class ShipmentInput:
    waybill: str
    sender_name: str
    sender_phone: str
    sender_address: str
    recipient_name: str
    recipient_phone: str
    recipient_address: str
    province_code: int
    ward_code: int
    goods_description: str | None
    cod_amount_vnd: int
    weight_grams: int
    notes: tuple[str, ...] = ()  # how a province or ward named as before 2025 was read


_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _text(raw: dict, name: str, errors: list, row: int | None, *, limit: int, required: bool = True) -> str | None:
    value = raw.get(name)
    if isinstance(value, str):
        value = value.strip()
        if not value.isascii() and not unicodedata.is_normalized("NFC", value):
            value = unicodedata.normalize("NFC", value)
        # The common case, decided at once: present, not too long, and printable (printable text
        # holds no control character and no lone surrogate, so _BAD_CHARS can only match otherwise).
        if value and len(value) <= limit and (value.isprintable() or not _BAD_CHARS.search(value)):
            return value
    if value is None or value == "":
        if required:
            errors.append(FieldError(name, "is required", row, "required"))
        return None
    if not isinstance(value, str):
        errors.append(FieldError(name, "must be text", row, "type"))
        return None
    if len(value) > limit:
        errors.append(FieldError(name, f"is longer than {limit} characters", row, "too_long"))
        return None
    if _BAD_CHARS.search(value):
        errors.append(FieldError(name, "contains control characters or bytes that are not UTF-8 (save the file as "
                                       "'CSV UTF-8')", row, "encoding"))
        return None
    return value


# Invisible characters that reorder or hide text (bidirectional controls, zero-width ones): a name
# holding them displays as something else than it is.
_FORMAT_CHARS = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def without_format_chars(value: str) -> str:
    """``value`` without invisible or text-direction characters."""
    return _FORMAT_CHARS.sub("", value)


def _name(raw: dict, name: str, errors: list, row: int | None) -> str | None:
    value = _text(raw, name, errors, row, limit=100)
    if value is None:
        return None
    if not any(map(str.isalpha, value)):
        errors.append(FieldError(name, "must contain letters", row, "invalid"))
        return None
    # A name holds no number: digits (any script) would carry a phone number past the masking.
    if any(map(str.isnumeric, value)):
        errors.append(FieldError(name, "must not contain digits (a phone number belongs in its own field)",
                                 row, "digits"))
        return None
    if _FORMAT_CHARS.search(value):
        errors.append(FieldError(name, "contains invisible or text-direction characters", row, "encoding"))
        return None
    return value


def _phone(raw: dict, name: str, errors: list, row: int | None) -> str | None:
    value = _text(raw, name, errors, row, limit=40)
    if value is None:
        return None
    try:
        return normalize_phone(value)
    except InvalidPhone as e:
        errors.append(FieldError(name, str(e), row, "invalid_phone"))
        return None


def _int(raw: dict, name: str, errors: list, row: int | None, *, maximum: int, minimum: int, default: int | None,
         money: bool = False):
    """A whole number; ``money``: an amount of đồng as people and spreadsheets write it too
    (``350.000 ₫``, ``1,5 triệu``: ``postguard.amounts``)."""
    value = raw.get(name)
    if isinstance(value, str) and value.isdigit() and value.isascii():  # the common case, plain digits
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = (value or "").strip() if isinstance(value, str) else None
        if value is None or text == "":
            if default is None:
                errors.append(FieldError(name, "is required", row, "required"))
            return default
        if text is not None and text.isascii() and text.isdigit():
            number = int(text)
        elif text is not None and money:
            try:
                number = parse_vnd(text, minimum=minimum, maximum=maximum)
            except InvalidAmount as e:
                code = "out_of_range" if e.code in ("too_small", "too_large") else "invalid_number"
                errors.append(FieldError(name, str(e), row, code))
                return None
        elif text is not None and _AMOUNT.match(text):
            number = int(re.sub(r"[.,]", "", text))
        else:
            errors.append(FieldError(name, "must be a whole number (thousands may be separated by . or ,)",
                                     row, "invalid_number"))
            return None
    if not minimum <= number <= maximum:
        errors.append(FieldError(name, f"must be between {minimum} and {maximum}", row, "out_of_range"))
        return None
    return number


# -- waybills as people type them ---------------------------------------------------------------------
# Waybills are stored as the operator wrote them (``DM000000001``, and lower or mixed case where an
# operator's system wrote so: stored values are never rewritten). People type them in lower case, with
# spaces, or copied with invisible characters; a lookup reads what they typed (``typed_waybill``) and
# finds it in any letter case through the unique (org_id, waybill) index: ``waybill IN (…)`` of every
# upper/lower-case form (``case_forms``), which works alike on SQLite and PostgreSQL with no migration.
# Every waybill format of Vietnamese operators has at most ``CASE_FORMS_LETTERS`` letters (EB…VN, GHN…,
# SPXVN…); a longer run of letters is looked up as typed, in capitals and in lower case.
CASE_FORMS_LETTERS = 6
_TYPED_SPACE = re.compile(r"\s|" + _FORMAT_CHARS.pattern)  # spaces, and invisible characters


def typed_waybill(raw: object) -> str | None:
    """A waybill as a person typed it, made comparable (full-width characters folded, spaces and
    invisible characters removed), or None when it cannot be one."""
    if not isinstance(raw, str) or len(raw) > 200:
        return None
    w = _TYPED_SPACE.sub("", unicodedata.normalize("NFKC", raw))
    return w if _WAYBILL.fullmatch(w) else None


def waybill_field(raw: object, field: str = "waybill") -> str:
    """``typed_waybill`` for input, or ``InvalidInput`` naming ``field``."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput("A waybill is required.", [FieldError(field, "required", code="required")])
    w = typed_waybill(raw)
    if w is None:
        raise InvalidInput("The waybill is not valid.", [FieldError(field, "4-40 letters, digits, '-' or '_'")])
    return w


def case_forms(waybill: str) -> list[str]:
    """Every stored form ``waybill`` may have, letter case aside (as typed first)."""
    letters = [i for i, c in enumerate(waybill) if c.isalpha()]
    if len(letters) > CASE_FORMS_LETTERS:
        return list(dict.fromkeys((waybill, waybill.upper(), waybill.lower())))
    forms = [waybill]
    for bits in range(2 ** len(letters)):
        chars = list(waybill.lower())
        for k, i in enumerate(letters):
            if bits >> k & 1:
                chars[i] = chars[i].upper()
        form = "".join(chars)
        if form != waybill:
            forms.append(form)
    return forms


def best_match(found: Iterable[T], typed: str, waybill: Callable[[T], str]) -> T | None:
    """Of the rows whose waybill is ``typed`` in some letter case: the one written exactly so, else in
    capitals, else the only one; ``InvalidInput`` when several differ only in letter case."""
    rows = list(found)
    for want in (typed, typed.upper()):
        for r in rows:
            if waybill(r) == want:
                return r
    if len({waybill(r) for r in rows}) > 1:
        raise InvalidInput("Several parcels have this waybill in different letter case.", [FieldError(
            "waybill", "type it exactly as printed on the label, upper and lower case as there", code="ambiguous")])
    return rows[0] if rows else None


def validate(raw: dict, *, row: int | None = None) -> tuple[ShipmentInput | None, list[FieldError]]:
    """Check one shipment given as a mapping of column → value (text from CSV, or JSON values)."""
    errors: list[FieldError] = []
    waybill = _text(raw, "waybill", errors, row, limit=40)
    if waybill is not None and not _WAYBILL.match(waybill):
        errors.append(FieldError("waybill", "4-40 letters, digits, '-' or '_'", row, "invalid"))
        waybill = None
    sender_name = _name(raw, "sender_name", errors, row)
    sender_phone = _phone(raw, "sender_phone", errors, row)
    sender_address = _text(raw, "sender_address", errors, row, limit=300)
    recipient_name = _name(raw, "recipient_name", errors, row)
    recipient_phone = _phone(raw, "recipient_phone", errors, row)
    recipient_address = _text(raw, "recipient_address", errors, row, limit=300)
    province_code = ward_code = None
    notes: tuple[str, ...] = ()
    p_text = _text(raw, "recipient_province", errors, row, limit=100)
    w_text = _text(raw, "recipient_ward", errors, row, limit=100)
    if p_text is not None:
        try:
            where = locate(p_text, w_text)
        except PlaceError as e:
            errors.append(FieldError(f"recipient_{e.field}", str(e), row, "unknown_place"))
        else:
            province_code, notes = where.province.code, where.notes
            ward_code = where.ward.code if where.ward else None
    goods = _text(raw, "goods_description", errors, row, limit=500, required=False)
    cod = _int(raw, "cod_amount_vnd", errors, row, maximum=MAX_COD_VND, minimum=0, default=0, money=True)
    weight = _int(raw, "weight_grams", errors, row, maximum=MAX_WEIGHT_G, minimum=1, default=None)
    if errors:
        return None, errors
    # With no error recorded, every required value is set (the checks above return None only with one).
    return (
        ShipmentInput(
            waybill=waybill, sender_name=sender_name, sender_phone=sender_phone, sender_address=sender_address,  # type: ignore[arg-type]
            recipient_name=recipient_name, recipient_phone=recipient_phone, recipient_address=recipient_address,  # type: ignore[arg-type]
            province_code=province_code, ward_code=ward_code, goods_description=goods,  # type: ignore[arg-type]
            cod_amount_vnd=cod, weight_grams=weight, notes=notes,
        ),
        [],
    )
