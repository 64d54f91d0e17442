"""Phone-number normalisation to E.164 (pure, no I/O).

Vietnamese numbers are accepted in every form people write them: ``0912 345 678``, ``+84 912.345.678``,
``84912345678``, ``0084-912-345-678``, ``(028) 3822 1234``, a national number whose leading 0 a
spreadsheet dropped (``912345678``) and the pre-2018 eleven-digit mobile prefixes (``0162…`` is now
``032…``). Validity comes from the phonenumbers library's metadata for Viet Nam: its patterns are
compiled once and matched directly, so the hot path costs a regular expression rather than a full
``phonenumbers.parse`` (the property tests check both agree). Numbers of other countries, written
with ``+``, go through ``phonenumbers`` itself.

Calls also come from numbers nobody is sent a parcel at: VoIP, personal (follow-me) and universal
access numbers, toll-free and premium-rate lines. ``caller_number`` accepts those too, and
``number_kind`` says what a number is by the same metadata (``docs/api.md``, "What a caller's number
is", lists what it can and cannot tell for Viet Nam).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal, overload

import phonenumbers
from phonenumbers import PhoneNumberType

from postguard.errors import FieldError, InvalidInput

# Pre-2018 mobile prefixes (national, after the trunk 0) and what they became on 2018-09-15.
OLD_MOBILE_PREFIXES = {
    "162": "32", "163": "33", "164": "34", "165": "35", "166": "36", "167": "37", "168": "38", "169": "39",
    "120": "70", "121": "79", "122": "77", "126": "76", "128": "78",
    "123": "83", "124": "84", "125": "85", "127": "81", "129": "82",
    "186": "56", "188": "58",
    "199": "59",
}

_STRIP = str.maketrans("", "", " .-()\u00a0\t/")
_STRIP_ASCII = b" .-()\t/"  # the same separators, for ASCII text (bytes.translate is several times faster)


class InvalidPhone(ValueError):
    """The text is not a valid phone number; ``str()`` says why, without echoing the number."""


@lru_cache(maxsize=1)
def _vn_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    md = phonenumbers.PhoneMetadata.metadata_for_region("VN")
    if md is None:  # never: phonenumbers ships Viet Nam's metadata
        raise LookupError("phonenumbers has no metadata for VN")

    def pattern(desc: phonenumbers.PhoneNumberDesc | None) -> re.Pattern[str]:
        if desc is None or desc.national_number_pattern is None:
            raise LookupError("phonenumbers has no VN number pattern")
        return re.compile(desc.national_number_pattern)

    return pattern(md.general_desc), pattern(md.mobile), pattern(md.fixed_line)


def _national(digits: str) -> str | None:
    """The Vietnamese national significant number from the digits people write, or None. After the
    country code, a trunk 0 written anyway (``+84 (0) 912…``, ``0084 0912…``) is dropped: no national
    number starts with 0, so the written number can mean nothing else."""
    n = len(digits)
    if digits.startswith("0084"):
        digits = digits[4:]
        if digits.startswith("0"):
            digits = digits[1:]
    elif digits.startswith("840") and n in (12, 13):
        digits = digits[3:]
    elif digits.startswith("84") and n in (11, 12):
        digits = digits[2:]
    elif digits.startswith("0") and n in (10, 11):
        digits = digits[1:]
    elif n in (9, 10) and not digits.startswith("0"):
        pass  # leading 0 dropped
    else:
        return None
    if len(digits) == 10 and digits[:3] in OLD_MOBILE_PREFIXES:
        digits = OLD_MOBILE_PREFIXES[digits[:3]] + digits[3:]
    return digits


def normalize_phone(raw: str, *, mobile_only: bool = False) -> str:
    """Return ``raw`` as E.164 (``+84912345678``) or raise ``InvalidPhone``."""
    if type(raw) is str and raw.isascii():  # the usual written forms of a mobile number, decided directly
        text = raw.replace(" ", "")
        n = len(text)
        nsn = text[1:] if n == 10 and text[0] == "0" else text[3:] if n == 12 and text.startswith("+84") \
            else text[2:] if n == 11 and text.startswith("84") else None
        if nsn is not None and nsn.isdigit() and _vn_patterns()[1].fullmatch(nsn):
            return "+84" + nsn  # what the general path answers (a property test holds them together)
    return _normalize(raw, mobile_only)


def _normalize(raw: str, mobile_only: bool) -> str:
    if not isinstance(raw, str):
        raise InvalidPhone("phone number must be text")
    text = raw.strip()
    text = text.encode().translate(None, _STRIP_ASCII).decode() if text.isascii() else text.translate(_STRIP)
    if not text:
        raise InvalidPhone("phone number is empty")
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not digits.isascii() or not digits.isdigit():
        raise InvalidPhone("phone number may contain only digits, spaces, dots, dashes and a leading +")
    if plus and not digits.startswith("84"):
        return _foreign("+" + digits, mobile_only=mobile_only)
    if not plus and digits.startswith("00") and not digits.startswith("0084"):
        return _foreign("+" + digits[2:], mobile_only=mobile_only)  # 00 is Viet Nam's international prefix
    nsn = _national(("0084" + digits[2:]) if plus else digits)
    if nsn is None:
        raise InvalidPhone("phone number has the wrong number of digits for Viet Nam")
    general, mobile, fixed = _vn_patterns()
    if mobile.fullmatch(nsn):
        return "+84" + nsn
    if not mobile_only and fixed.fullmatch(nsn):
        return "+84" + nsn
    if mobile_only:
        raise InvalidPhone("not a Vietnamese mobile number")
    raise InvalidPhone("not an assigned Vietnamese mobile or landline number range")


def _foreign(text: str, *, mobile_only: bool) -> str:
    try:
        num = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise InvalidPhone("not a valid international phone number") from None
    kind = phonenumbers.number_type(num) if phonenumbers.is_valid_number(num) else None
    if kind not in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise InvalidPhone("not a valid international mobile or landline number")
    if mobile_only and kind == PhoneNumberType.FIXED_LINE:
        raise InvalidPhone("not a mobile number")
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


# phonenumbers' number types, by the names the call check answers with.
KIND_NAMES: dict[int, str] = {
    PhoneNumberType.MOBILE: "mobile", PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile", PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number", PhoneNumberType.UAN: "uan",
    PhoneNumberType.TOLL_FREE: "toll_free", PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost", PhoneNumberType.PAGER: "pager",
    PhoneNumberType.VOICEMAIL: "voicemail",
}
# Numbers bound to no line or SIM: VoIP numbers, personal (follow-me) numbers that ring wherever their
# holder points them, and (abroad) universal access numbers that route anywhere. A caller behind one
# can be anywhere in the world. Viet Nam's own UAN ranges are not among them: phonenumbers files the
# 069 numbers of the police and army network and the 1x99 short numbers there (no international
# dialling), which are not virtual lines.
VIRTUAL_KINDS = frozenset({"voip", "personal_number", "uan"})
# What a call may come from besides mobiles and landlines (pagers and voicemail never call).
_CALLER_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE,
                           PhoneNumberType.VOIP, PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.UAN,
                           PhoneNumberType.TOLL_FREE, PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST})


@lru_cache(maxsize=4096)
def number_kind(e164: str) -> str:
    """What the metadata of phonenumbers says an E.164 number is: a name of ``KIND_NAMES``, or
    ``unknown``. Vietnamese mobiles and landlines are told by the compiled patterns (no parse)."""
    if e164.startswith("+84"):
        nsn = e164[3:]
        _, mobile, fixed = _vn_patterns()
        if mobile.fullmatch(nsn):
            return "mobile"
        if fixed.fullmatch(nsn):
            return "fixed_line"
    try:
        num = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "unknown"
    if not phonenumbers.is_valid_number(num):
        return "unknown"
    return KIND_NAMES.get(phonenumbers.number_type(num), "unknown")


def virtual_kind(e164: str) -> str | None:
    """The kind of a number bound to no line or SIM (``VIRTUAL_KINDS``), or None."""
    kind = number_kind(e164)
    if kind not in VIRTUAL_KINDS or (kind == "uan" and e164.startswith("+84")):
        return None
    return kind


def caller_number(raw: str) -> str:
    """``raw`` as E.164, for the number a call came from: every form ``normalize_phone`` accepts, and
    also VoIP, personal, universal-access, toll-free, premium-rate and shared-cost numbers, Vietnamese
    (``0672 012 345``, ``1900 1234``) or foreign (with ``+`` or ``00``: ``+44 56 1234 5678``).
    ``InvalidPhone`` otherwise."""
    try:
        return normalize_phone(raw)
    except InvalidPhone as e:
        error = e
    text = raw.strip().translate(_STRIP) if isinstance(raw, str) else ""
    if not 0 < len(text) <= 24:  # no number has more than 15 digits (E.164) and a few prefix characters
        raise error
    if text.startswith("00") and not text.startswith("0084"):
        text = "+" + text[2:]
    elif text.startswith("0084"):
        text = "+84" + text[4:]
    digits = text[1:] if text.startswith("+") else text
    if not digits.isascii() or not digits.isdigit():
        raise error
    try:
        num = phonenumbers.parse(text, None if text.startswith("+") else "VN")
    except phonenumbers.NumberParseException:
        raise error from None
    if not phonenumbers.is_valid_number(num) or phonenumbers.number_type(num) not in _CALLER_TYPES:
        raise error
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


# Vietnamese service numbers: 1800 (free to call) and 1900 (paid) hotlines, the numbers organisations
# publish for their customers (``1900 54 54 81``, ``1800 1091``).
_SERVICE_TYPES = frozenset({PhoneNumberType.TOLL_FREE, PhoneNumberType.SHARED_COST, PhoneNumberType.PREMIUM_RATE})


def service_number(raw: str) -> str:
    """A Vietnamese 1800/1900 hotline as E.164 (``1900 54 54 81``, ``1900.545.481``, ``+84 1800 1091``
    → ``+841900545481``, ``+8418001091``); ``InvalidPhone`` for anything else."""
    text = raw.strip().translate(_STRIP) if isinstance(raw, str) else ""
    if text.startswith("+84"):
        text = text[3:]
    elif text.startswith("0084"):
        text = text[4:]
    if not (8 <= len(text) <= 10 and text.isascii() and text.isdigit() and text.startswith(("1800", "1900"))):
        raise InvalidPhone("not a Vietnamese 1800 or 1900 hotline")
    num = phonenumbers.parse(text, "VN")
    if not phonenumbers.is_valid_number(num) or phonenumbers.number_type(num) not in _SERVICE_TYPES:
        raise InvalidPhone("not an assigned Vietnamese 1800 or 1900 hotline range")
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def org_number(raw: str) -> str:
    """``raw`` as E.164, for a number an organisation gives: every form ``normalize_phone`` accepts
    (mobiles and landlines, Vietnamese or foreign) and Vietnamese 1800/1900 hotlines. ``InvalidPhone``
    otherwise, with ``normalize_phone``'s reason unless the text looks like a hotline."""
    try:
        return normalize_phone(raw)
    except InvalidPhone as e:
        try:
            return service_number(raw)
        except InvalidPhone as hotline:
            digits = raw.strip().translate(_STRIP).removeprefix("+84").removeprefix("0084") \
                if isinstance(raw, str) else ""
            raise hotline if digits.startswith(("1800", "1900")) else e from None


def national_format(e164: str) -> str:
    """``+84912345678`` → ``0912345678`` (the form people read)."""
    return "0" + e164[3:] if e164.startswith("+84") else e164


@overload
def phone_field(raw: str | None, field: str, *, mobile_only: bool = False, required: Literal[True] = True) -> str: ...
@overload
def phone_field(raw: str | None, field: str, *, mobile_only: bool = False, required: bool) -> str | None: ...
def phone_field(raw: str | None, field: str, *, mobile_only: bool = False, required: bool = True) -> str | None:
    """Normalise a phone number from input, or raise ``InvalidInput`` naming ``field`` (the one way
    services turn a typed number into E.164)."""
    if raw is None or not str(raw).strip():
        if required:
            raise InvalidInput("A phone number is required.", [FieldError(field, "required", code="required")])
        return None
    try:
        return normalize_phone(str(raw), mobile_only=mobile_only)
    except InvalidPhone as e:
        raise InvalidInput("The phone number is not valid.", [FieldError(field, str(e), code="invalid_phone")]) from None


@overload
def org_number_field(raw: str | None, field: str, *, required: Literal[True] = True) -> str: ...
@overload
def org_number_field(raw: str | None, field: str, *, required: bool) -> str | None: ...
def org_number_field(raw: str | None, field: str, *, required: bool = True) -> str | None:
    """``org_number`` for input, or ``InvalidInput`` naming ``field`` (an organisation's number: its
    hotline, a proxy number of its pool)."""
    if raw is None or not str(raw).strip():
        if required:
            raise InvalidInput("A phone number is required.", [FieldError(field, "required", code="required")])
        return None
    try:
        return org_number(str(raw))
    except InvalidPhone as e:
        raise InvalidInput("The phone number is not valid.", [FieldError(field, str(e), code="invalid_phone")]) from None


def caller_field(raw: str | None, field: str) -> str:
    """``caller_number`` for input, or ``InvalidInput`` naming ``field`` (the number a call came from)."""
    if raw is None or not str(raw).strip():
        raise InvalidInput("A phone number is required.", [FieldError(field, "required", code="required")])
    try:
        return caller_number(str(raw))
    except InvalidPhone as e:
        raise InvalidInput("The phone number is not valid.", [FieldError(field, str(e), code="invalid_phone")]) from None
