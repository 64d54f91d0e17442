"""One subscriber record of a carrier's CSV (pure): what must be refused, and what is kept and flagged.

A record is refused (an error of its line and field) only when it cannot be stored or found again:
no phone number, no ICCID, no activation time, a value that is no text or too long, an unknown ID
type or gender. Missing or implausible identity data is what the audit is for: such a record is
kept, with its findings (``identity.F_*``) decided here, where the plaintext is at hand.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from postguard.errors import FieldError
from postguard.phones import InvalidPhone, normalize_phone
from postguard.subscribers import identity as idn

COLUMNS = ("msisdn", "id_type", "id_number", "full_name", "date_of_birth", "gender", "activated_at",
           "point_of_sale", "iccid", "verified_with_national_db")
OPTIONAL = ("calls_out_24h", "distinct_callees_24h", "sms_out_24h", "first_activity_at", "has_guardian")
VIETNAM = timezone(timedelta(hours=7))  # a time written without an offset is Viet Nam's
_ICCID = re.compile(r"89\d{16,20}")
_POS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-/]{0,39}")
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
GENDERS = {"m": "M", "male": "M", "nam": "M", "f": "F", "female": "F", "nu": "F", "nữ": "F"}
VERIFIED = {"yes": "yes", "no": "no", "unknown": "unknown", "": "unknown"}
MAX_COUNT = 1_000_000
EARLIEST_BIRTH = date(1900, 1, 1)


@dataclass(slots=True)
class SubscriberInput:
    msisdn: str  # E.164
    iccid: str
    id_type: str | None
    id_number: str | None  # normalised
    full_name: str | None
    date_of_birth: str | None  # ISO when it is a date, else as written (flagged)
    gender: str | None
    activated_at: datetime
    point_of_sale: str | None
    verified: str
    calls_out_24h: int | None
    distinct_callees_24h: int | None
    sms_out_24h: int | None
    first_activity_at: datetime | None
    has_guardian: bool
    flags: int  # identity.F_* findings
    age_years: int | None  # at activation, when the date of birth is a date


def _text(raw: dict, name: str, errors: list, row: int | None, *, limit: int) -> str | None:
    value = raw.get(name)
    if type(value) is str:  # the common case, decided at once: plain printable ASCII of a fitting length
        v = value.strip()
        if v and len(v) <= limit and v.isascii() and v.isprintable():
            return v
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(FieldError(name, "must be text", row, "type"))
        return None
    value = value.strip()
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    if not value:
        return None
    if len(value) > limit:
        errors.append(FieldError(name, f"is longer than {limit} characters", row, "too_long"))
        return None
    if not value.isprintable() and _BAD_CHARS.search(value):  # printable text holds none of them
        errors.append(FieldError(name, "contains control or invisible characters, or bytes that are not UTF-8 "
                                       "(save the file as 'CSV UTF-8')", row, "encoding"))
        return None
    return value


def _time(raw: dict, name: str, errors: list, row: int | None) -> datetime | None:
    value = _text(raw, name, errors, row, limit=40)
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value.replace("/", "-") if value[:4].isdigit() else value)
    except ValueError:
        errors.append(FieldError(name, "must be a date and time such as 2026-03-01T09:30:00+07:00", row, "invalid"))
        return None
    return (t if t.tzinfo else t.replace(tzinfo=VIETNAM)).astimezone(timezone.utc)


def _count(raw: dict, name: str, errors: list, row: int | None) -> int | None:
    value = _text(raw, name, errors, row, limit=12)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_COUNT:
        errors.append(FieldError(name, f"must be a whole number from 0 to {MAX_COUNT:,}", row, "invalid_number"))
        return None
    return int(value)


def _choice(raw: dict, name: str, errors: list, row: int | None, choices: dict[str, str]) -> str | None:
    value = _text(raw, name, errors, row, limit=20)
    key = (value or "").lower()
    if key not in choices:
        shown = ", ".join(dict.fromkeys(k for k in choices if k))
        errors.append(FieldError(name, f"one of {shown}", row, "invalid"))
        return None
    return choices[key]


def validate(raw: dict, *, row: int | None = None) -> tuple[SubscriberInput | None, list[FieldError]]:
    """Check one record (column → text); refused records come back as ``(None, errors)``."""
    errors: list[FieldError] = []
    flags = 0
    msisdn = None
    phone = _text(raw, "msisdn", errors, row, limit=40)
    if phone is None:
        errors.append(FieldError("msisdn", "is required", row, "required"))
    else:
        try:
            msisdn = normalize_phone(phone)
        except InvalidPhone as e:
            errors.append(FieldError("msisdn", str(e), row, "invalid_phone"))
    iccid = _text(raw, "iccid", errors, row, limit=40)
    if iccid is None:
        errors.append(FieldError("iccid", "is required", row, "required"))
    else:
        iccid = iccid.replace(" ", "")
        if not _ICCID.fullmatch(iccid):
            errors.append(FieldError("iccid", "18 to 22 digits starting with 89", row, "invalid"))
    activated = _time(raw, "activated_at", errors, row)
    if activated is None and not any(e.field == "activated_at" for e in errors):
        errors.append(FieldError("activated_at", "is required", row, "required"))
    id_type = None
    if (raw.get("id_type") or "").strip():
        id_type = _choice(raw, "id_type", errors, row, {t: t for t in idn.ID_TYPES})
    number = _text(raw, "id_number", errors, row, limit=20)
    name = _text(raw, "full_name", errors, row, limit=100)
    birth_text = _text(raw, "date_of_birth", errors, row, limit=20)
    gender = _choice(raw, "gender", errors, row, GENDERS) if (raw.get("gender") or "").strip() else None
    pos = _text(raw, "point_of_sale", errors, row, limit=40)
    if pos is not None and not _POS.fullmatch(pos):
        errors.append(FieldError("point_of_sale", "a dealer code: letters, digits, '.', '-', '_' or '/'", row,
                                 "invalid"))
    verified = _choice(raw, "verified_with_national_db", errors, row, VERIFIED) or "unknown"
    calls, callees, sms = (_count(raw, c, errors, row) for c in ("calls_out_24h", "distinct_callees_24h", "sms_out_24h"))
    first = _time(raw, "first_activity_at", errors, row)
    guardian = (raw.get("has_guardian") or "").strip().lower() in ("yes", "co", "có", "1", "true")
    if errors or msisdn is None or iccid is None or activated is None:
        return None, errors

    if None in (id_type, number, name, birth_text, gender, pos):
        flags |= idn.F_INCOMPLETE
    birth = None
    if birth_text is not None:
        birth = idn.parse_birth(birth_text)
        if birth is None or not EARLIEST_BIRTH <= birth <= activated.date():
            flags |= idn.F_DOB_INVALID
            birth = None
        else:
            birth_text = birth.isoformat()
    if number is not None and id_type is not None:
        number = idn.normalize_id(id_type, number)
        if not idn.id_form_ok(id_type, number):
            flags |= idn.F_ID_FORMAT
        elif id_type == "cccd":
            flags |= idn.cccd_findings(number, gender=gender, birth=birth)
        elif id_type == "cmnd" and activated.date() > idn.CMND_END:
            flags |= idn.F_CMND_EXPIRED
    if name is not None and idn.placeholder_name(name):
        flags |= idn.F_PLACEHOLDER_NAME
    if verified == "no":
        flags |= idn.F_NOT_VERIFIED
    elif verified == "unknown":
        flags |= idn.F_NOT_CHECKED
    return SubscriberInput(
        msisdn=msisdn, iccid=iccid, id_type=id_type, id_number=number, full_name=name, date_of_birth=birth_text,
        gender=gender, activated_at=activated, point_of_sale=pos, verified=verified, calls_out_24h=calls,
        distinct_callees_24h=callees, sms_out_24h=sms, first_activity_at=first, has_guardian=guardian, flags=flags,
        age_years=idn.age_on(birth, activated.date()) if birth is not None else None,
    ), []
