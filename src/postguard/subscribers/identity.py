"""Identity documents of Vietnamese subscribers (pure): what an ID number's structure says, and
whether it agrees with the record's gender and date of birth.

- **CCCD** (căn cước công dân / căn cước, 12 digits; Circular 07/2016/TT-BCA, kept by Circular
  59/2021/TT-BCA): digits 1–3 the code of the province where the birth was registered (the 63
  provinces' codes; the 34 provinces of 2025 keep codes of that list), digit 4 century and gender
  (0/1: 1900–1999 male/female, 2/3: 2000–2099, 4/5: 2100–2199, 6/7: 2200–2299, 8/9: 2300–2399),
  digits 5–6 the last two digits of the birth year, digits 7–12 a random serial.
- **CMND** (chứng minh nhân dân, 9 digits): the legacy card; its structure says nothing checkable
  beyond its length. The Law on Identification 2023 ended its validity on 31 December 2024.
- **Passport**: a letter and 7 digits for Vietnamese passports; foreign passports 6–12 letters and
  digits. Nothing structural is checked beyond the form.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

ID_TYPES = ("cccd", "cmnd", "passport")
# The 63 provinces' codes (Decision 124/2004/QĐ-TTg numbering, as CCCD numbers carry them).
PROVINCES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
    "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
    "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
    "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
    "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
    "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu",
    "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh",
    "086": "Vĩnh Long", "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ",
    "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}
CMND_END = date(2024, 12, 31)  # the last day a CMND was valid
_CCCD = re.compile(r"\d{12}")
_CMND = re.compile(r"\d{9}")
_PASSPORT = re.compile(r"[A-Z0-9]{6,12}")
_SPACES = re.compile(r"[\s.\-]+")

# Findings about one record (bits of ``local_flags``), decided at import where the plaintext is at
# hand; the audit reads the bits, never the values.
F_ID_FORMAT = 1 << 0  # the ID number does not have its type's form
F_PROVINCE = 1 << 1  # a CCCD's first three digits are no province code
F_GENDER = 1 << 2  # a CCCD's 4th digit disagrees with the gender
F_BIRTH_YEAR = 1 << 3  # a CCCD's century digit and 5th–6th digits disagree with the birth year
F_DOB_INVALID = 1 << 4  # the date of birth is no date, in the future, or before 1900
F_INCOMPLETE = 1 << 5  # a required field is missing
F_PLACEHOLDER_NAME = 1 << 6  # a placeholder name ("Nguyễn Văn A", "Khách hàng")
F_CMND_EXPIRED = 1 << 7  # activated on a CMND after it stopped being valid
F_NOT_VERIFIED = 1 << 8  # the national population database did not confirm the identity
F_NOT_CHECKED = 1 << 9  # nobody checked it against the national database


class _Folded(dict):
    """A character's folded form (``str.translate`` table), worked out once per character."""

    def __missing__(self, code: int) -> str:
        c = chr(code)
        base = "d" if c == "đ" else "D" if c == "Đ" else "".join(
            x for x in unicodedata.normalize("NFD", c) if unicodedata.category(x) != "Mn")
        self[code] = base
        return base


_FOLD = _Folded()


def fold(text: str) -> str:
    """Lower case without diacritics (đ → d) and with single spaces: names compared as typed."""
    return " ".join(text.translate(_FOLD).lower().split())


def normalize_id(id_type: str, raw: str) -> str:
    """An ID number as compared and stored: spaces, dots and dashes removed, letters in capitals."""
    return _SPACES.sub("", raw).upper() if id_type == "passport" else _SPACES.sub("", raw)


def id_form_ok(id_type: str, number: str) -> bool:
    if id_type == "cccd":
        return bool(_CCCD.fullmatch(number))
    if id_type == "cmnd":
        return bool(_CMND.fullmatch(number))
    return bool(_PASSPORT.fullmatch(number)) and any(c.isdigit() for c in number)


def cccd_century_gender(digit: int) -> tuple[int, str]:
    """The first year of the century and the gender (``M``/``F``) a CCCD's 4th digit stands for."""
    return 1900 + 100 * (digit // 2), "F" if digit % 2 else "M"


def cccd_digit(year: int, gender: str) -> int:
    """The 4th digit of a CCCD for someone born in ``year`` (1900–2399) of ``gender``."""
    return 2 * ((year - 1900) // 100) + (1 if gender == "F" else 0)


def cccd_findings(number: str, *, gender: str | None, birth: date | None) -> int:
    """The ``F_*`` bits of a 12-digit CCCD against the record's gender and date of birth (0: agrees)."""
    flags = 0
    if number[:3] not in PROVINCES:
        flags |= F_PROVINCE
    start, coded_gender = cccd_century_gender(int(number[3]))
    if gender is not None and gender != coded_gender:
        flags |= F_GENDER
    if birth is not None and birth.year != start + int(number[4:6]):
        flags |= F_BIRTH_YEAR
    return flags


_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def parse_birth(raw: str) -> date | None:
    """A date of birth as written (ISO, or day/month/year as Vietnamese forms write it), or None
    when it is no date at all (31/02/1990 is none)."""
    m = _DMY.fullmatch(raw)
    if m is not None:
        day, month, year = (int(g) for g in m.groups())
    else:
        m = _YMD.fullmatch(raw)
        if m is None:
            return None
        year, month, day = (int(g) for g in m.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def age_on(birth: date, day: date) -> int:
    """Whole years from ``birth`` to ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# Names written where the real one was not asked for: "Nguyễn Văn A", "Trần Thị B", "Khách hàng".
PLACEHOLDER_NAMES = frozenset({
    "khach hang", "khach le", "khach", "chua co ten", "chua co", "khong ten", "khong co", "test", "test test",
    "abc", "xxx", "unknown", "n/a", "na", "no name", "noname", "chu thue bao", "thue bao", "sim", "dai ly",
})
_LETTER_NAME = re.compile(r"^\w+ (van|thi) [a-z]$|^[a-z]( [a-z])*$")


def placeholder_name(name: str) -> bool:
    """Whether ``name`` is a placeholder rather than someone's name."""
    folded = fold(name)
    return folded in PLACEHOLDER_NAMES or bool(_LETTER_NAME.match(folded))
