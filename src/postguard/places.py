"""Viet Nam's 2025 two-level administrative units: 34 provinces and about 3,300 wards (pure).

Names are matched as people write them: the official name with or without its prefix ("Thành phố",
"Tỉnh", "Phường", "Xã", "Đặc khu", abbreviations such as "TP." or "P."), with or without
diacritics, in any case; or by the official code. A name that is ambiguous once its diacritics or
prefix are dropped is refused with a message asking for the code or the full name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from vietnam_provinces import Province, Ward

_PROVINCE_PREFIXES = ("thanh pho ", "tinh ", "tp. ", "tp ", "t. ")
_WARD_PREFIXES = ("phuong ", "xa ", "dac khu ", "p. ", "x. ", "p ", "x ")


# Abbreviations people write for the two largest cities (folded form).
_PROVINCE_ALIASES = {"hcm": 79, "tphcm": 79, "tp. hcm": 79, "tp hcm": 79, "hn": 1, "tp. hn": 1}


@dataclass(frozen=True)
class Place:
    code: int
    name: str


class UnknownPlace(ValueError):
    pass


def fold(text: str) -> str:
    """Lower case, no diacritics (đ → d), single spaces, dots kept only after abbreviations."""
    t = unicodedata.normalize("NFD", text.strip().lower())
    t = "".join(c for c in t if unicodedata.category(c) != "Mn").replace("đ", "d")
    t = re.sub(r"\s*\.\s*", ". ", t)
    return re.sub(r"\s+", " ", t).strip()


def _exact(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text.strip().lower()))


def _strip_prefix(folded: str, prefixes: tuple[str, ...]) -> str:
    for p in prefixes:
        if folded.startswith(p):
            return folded[len(p):].strip()
    return folded


_EXACT_PREFIXES_P = ("thành phố ", "tỉnh ")
_EXACT_PREFIXES_W = ("phường ", "xã ", "đặc khu ")


def _strip_exact(text: str, prefixes: tuple[str, ...]) -> str:
    for p in prefixes:
        if text.startswith(p):
            return text[len(p):]
    return text


class _Index:
    def __init__(self) -> None:
        self.provinces: dict[int, Place] = {}
        self.wards: dict[int, tuple[Place, int]] = {}
        self.p_exact: dict[str, set[int]] = {}
        self.p_fold: dict[str, set[int]] = {}
        self.w_exact: dict[tuple[int, str], set[int]] = {}
        self.w_fold: dict[tuple[int, str], set[int]] = {}
        for p in Province.iter_all():
            code = int(p.code)
            self.provinces[code] = Place(code, p.name)
            ex = _exact(p.name)
            for k in {ex, _strip_exact(ex, _EXACT_PREFIXES_P)}:
                self.p_exact.setdefault(k, set()).add(code)
            fo = fold(p.name)
            for k in {fo, _strip_prefix(fo, _PROVINCE_PREFIXES)}:
                self.p_fold.setdefault(k, set()).add(code)
        for w in Ward.iter_all():
            code, pc = int(w.code), int(w.province_code)
            self.wards[code] = (Place(code, w.name), pc)
            ex = _exact(w.name)
            for k in {ex, _strip_exact(ex, _EXACT_PREFIXES_W)}:
                self.w_exact.setdefault((pc, k), set()).add(code)
            fo = fold(w.name)
            for k in {fo, _strip_prefix(fo, _WARD_PREFIXES)}:
                self.w_fold.setdefault((pc, k), set()).add(code)


@lru_cache(maxsize=1)
def _index() -> _Index:
    return _Index()


def _pick(hits: set[int] | None, what: str) -> int | None:
    if not hits:
        return None
    if len(hits) > 1:
        raise UnknownPlace(f"{what} name is ambiguous without diacritics or prefix; use its code or full name")
    return next(iter(hits))


@lru_cache(maxsize=4096)
def resolve_province(text: str) -> Place:
    idx = _index()
    t = (text or "").strip()
    if not t:
        raise UnknownPlace("province is empty")
    if t.isdigit():
        p = idx.provinces.get(int(t))
        if p is None:
            raise UnknownPlace("no province has this code")
        return p
    ex = _exact(t)
    code = _pick(idx.p_exact.get(ex) or idx.p_exact.get(_strip_exact(ex, _EXACT_PREFIXES_P)), "province")
    if code is None:
        fo = fold(t)
        code = _pick(idx.p_fold.get(fo) or idx.p_fold.get(_strip_prefix(fo, _PROVINCE_PREFIXES)), "province")
    if code is None:
        code = _PROVINCE_ALIASES.get(fold(t))
    if code is None:
        raise UnknownPlace("not one of the 34 provinces (2025 units)")
    return idx.provinces[code]


@lru_cache(maxsize=65536)
def resolve_ward(text: str, *, province_code: int) -> Place:
    idx = _index()
    t = (text or "").strip()
    if not t:
        raise UnknownPlace("ward is empty")
    if t.isdigit():
        hit = idx.wards.get(int(t))
        if hit is None:
            raise UnknownPlace("no ward has this code")
        if hit[1] != province_code:
            raise UnknownPlace("this ward code is not in the given province")
        return hit[0]
    ex = _exact(t)
    code = _pick(
        idx.w_exact.get((province_code, ex)) or idx.w_exact.get((province_code, _strip_exact(ex, _EXACT_PREFIXES_W))),
        "ward",
    )
    if code is None:
        fo = fold(t)
        code = _pick(
            idx.w_fold.get((province_code, fo))
            or idx.w_fold.get((province_code, _strip_prefix(fo, _WARD_PREFIXES))),
            "ward",
        )
    if code is None:
        raise UnknownPlace("no ward of this name in the given province (2025 units)")
    return idx.wards[code][0]


def province(code: int) -> Place:
    return _index().provinces[code]


def ward(code: int) -> Place:
    return _index().wards[code][0]


def all_wards() -> list[tuple[Place, int]]:
    """Every ward with its province code (for generating demo and test data)."""
    return list(_index().wards.values())
