"""Validation of one shipment's input (pure): every field checked, every problem named.

Used by the API's single create and by the CSV import, so both refuse the same things with the same
messages. Messages never echo the value (it may be personal data), only the field and the reason.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from postguard.errors import FieldError
from postguard.phones import InvalidPhone, normalize_phone
from postguard.places import UnknownPlace, resolve_province, resolve_ward

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
        errors.append(FieldError(name, "contains control characters or bytes that are not UTF-8", row, "encoding"))
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


def _int(raw: dict, name: str, errors: list, row: int | None, *, maximum: int, minimum: int, default: int | None):
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
    p_text = _text(raw, "recipient_province", errors, row, limit=100)
    w_text = _text(raw, "recipient_ward", errors, row, limit=100)
    if p_text is not None:
        try:
            province_code = resolve_province(p_text).code
        except UnknownPlace as e:
            errors.append(FieldError("recipient_province", str(e), row, "unknown_place"))
    if w_text is not None and province_code is not None:
        try:
            ward_code = resolve_ward(w_text, province_code=province_code).code
        except UnknownPlace as e:
            errors.append(FieldError("recipient_ward", str(e), row, "unknown_place"))
    goods = _text(raw, "goods_description", errors, row, limit=500, required=False)
    cod = _int(raw, "cod_amount_vnd", errors, row, maximum=MAX_COD_VND, minimum=0, default=0)
    weight = _int(raw, "weight_grams", errors, row, maximum=MAX_WEIGHT_G, minimum=1, default=None)
    if errors:
        return None, errors
    # With no error recorded, every required value is set (the checks above return None only with one).
    return (
        ShipmentInput(
            waybill=waybill, sender_name=sender_name, sender_phone=sender_phone, sender_address=sender_address,  # type: ignore[arg-type]
            recipient_name=recipient_name, recipient_phone=recipient_phone, recipient_address=recipient_address,  # type: ignore[arg-type]
            province_code=province_code, ward_code=ward_code, goods_description=goods,  # type: ignore[arg-type]
            cod_amount_vnd=cod, weight_grams=weight,
        ),
        [],
    )
