"""Viet Nam's 2025 two-level administrative units: 34 provinces and about 3,300 wards, and the names from before them.

Names are matched as people write them: the official name with or without its prefix ("Thành phố",
"Tỉnh", "Phường", "Xã", "Đặc khu", abbreviations such as "TP." or "P."), with or without
diacritics, in any case; or by the official code. A name that is ambiguous once its diacritics or
prefix are dropped is refused with a message asking for the code or the full name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
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


# -- names from before the 1 July 2025 reorganisation ------------------------------------------------
# Address books and old labels still say "Phường Hàng Bạc, Quận Hoàn Kiếm" or "Tỉnh Hải Dương". The
# mapping from each of the 63 provinces' ~10,000 former wards to the 2025 units is read, in place, from
# the data the `vietnamadminunits` package ships (converter_2025.json and parser_legacy.json): nothing is
# copied here and nothing is fetched. A former ward split between several 2025 wards is recorded under
# the one that took its main part (the data's default), and the note names the others.


@dataclass(frozen=True)
class Renamed:
    """A unit written by its pre-2025 name, and the 2025 unit it became."""

    old: str  # the former unit's full name: "Phường Hàng Bạc, Quận Hoàn Kiếm, Thành phố Hà Nội"
    new: Place
    key: str  # the former unit's key in the mapping data
    split: tuple[Place, ...] = ()  # other 2025 wards that took part of a divided former ward

    def note(self) -> str:
        text = f"'{self.old}' (before 2025) is now {self.new.name}"
        if self.split:
            text += f"; part of it went to {', '.join(p.name for p in self.split)}: check the street address"
        return text


_NOT_KEY = re.compile(r"[^a-z0-9]")
_NOT_WORD = re.compile(r"\W")


def _squash(text: str) -> str:
    """The mapping data's key form: lower case ASCII letters and digits only (đ → d, marks dropped)."""
    ascii_ = unicodedata.normalize("NFD", text.lower().replace("đ", "d")).encode("ascii", "ignore").decode()
    return _NOT_KEY.sub("", ascii_)


def _squash_exact(text: str) -> str:
    """Like ``_squash`` but keeping diacritics (two former wards may differ only by them)."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFC", text.lower()))


_OLD_WARD_PREFIXES = ("phuong", "phường", "xa", "xã", "thitran", "thịtrấn", "tt", "p", "x")
_OLD_DISTRICT_PREFIXES = ("quan", "huyen", "thixa", "thanhpho", "tp", "tx", "q", "h")


def _unprefixed(squashed: str, prefixes: tuple[str, ...]) -> set[str]:
    out = {squashed}
    for p in prefixes:
        if squashed.startswith(p) and len(squashed) > len(p):
            out.add(squashed[len(p):])
    return out


@dataclass(frozen=True)
class _OldWard:
    key: str
    name: str
    district: str
    district_keys: frozenset[str]
    province: str
    old_province: str  # the former province's key
    new: int  # 2025 ward code
    split: tuple[int, ...]


class _Legacy:
    def __init__(self) -> None:
        import importlib.util
        import json
        from pathlib import Path

        spec = importlib.util.find_spec("vietnamadminunits")  # its data only: the package is not imported
        if spec is None or spec.origin is None:
            raise UnknownPlace("the pre-2025 unit names are not installed (package vietnamadminunits)")
        data = Path(spec.origin).parent / "data"
        conv = json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))
        legacy = json.loads((data / "parser_legacy.json").read_text(encoding="utf-8"))
        idx = _index()
        new_province = {_squash(p.name if p.name.startswith("Thành phố") else f"Tỉnh {p.name}"): code
                        for code, p in idx.provinces.items()}
        new_ward: dict[tuple[int, str], set[int]] = {}
        for code, (w, pc) in idx.wards.items():
            new_ward.setdefault((pc, _squash(w.name)), set()).add(code)

        def ward_code(pc: int, key: str) -> int | None:
            hits = new_ward.get((pc, _squash(key)), set())
            return next(iter(hits)) if len(hits) == 1 else None  # two 2025 wards so named: not guessed

        # former province key → 2025 province code, its name and the words people write for it
        self.provinces: dict[str, tuple[int, str]] = {}
        self.province_words: dict[str, set[str]] = {}
        for new_key, olds in conv["DICT_PROVINCE"].items():
            for old in olds:
                info = legacy["DICT_PROVINCE"][old]
                self.provinces[old] = (new_province[new_key], info["province"])
                for word in (*info["provinceKeywords"], _squash(info["province"]), _squash(info["provinceShort"])):
                    self.province_words.setdefault(word, set()).add(old)
        target: dict[str, tuple[int, tuple[int, ...]]] = {}
        for new_key, wards in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
            pc = new_province[new_key]
            for new_key_w, olds in wards.items():
                new_code = ward_code(pc, new_key_w)
                if new_code is not None:
                    for old in olds:
                        target[old] = (new_code, ())
        for new_key, olds in conv["DICT_PROVINCE_WARD_DIVIDED"].items():
            pc = new_province[new_key]
            for old, parts in olds.items():
                codes = [(p["isDefaultNewWard"], ward_code(pc, p["newWardKey"])) for p in parts]
                main = [c for d, c in codes if d and c is not None]
                if main:
                    target[old] = (main[0], tuple(c for d, c in codes if not d and c is not None))
        # (2025 province code, the former ward's name in key form, with or without its prefix) → wards
        self.wards: dict[tuple[int, str], list[_OldWard]] = {}
        districts = legacy["DICT_PROVINCE_DISTRICT"]
        for table in ("DICT_PROVINCE_DISTRICT_WARD_NO_ACCENTED", "DICT_PROVINCE_DISTRICT_WARD_ACCENTED"):
            for pk, by_district in legacy[table].items():
                for dk, wards in by_district.items():
                    d = districts[pk][dk]
                    for wk, info in wards.items():
                        hit = target.get(f"{pk}_{dk}_{wk}")
                        if hit is None:
                            continue
                        former = _OldWard(f"{pk}_{dk}_{wk}", info["ward"], d["district"],
                                     frozenset({*d["districtKeywords"], _squash(d["district"])}),
                                     legacy["DICT_PROVINCE"][pk]["province"], pk, hit[0], hit[1])
                        pc = idx.wards[hit[0]][1]
                        names = {_squash(info["ward"]), _squash(info["wardShort"]),
                                 _squash_exact(info["ward"]), _squash_exact(info["wardShort"])}
                        for name in names:
                            self.wards.setdefault((pc, name), []).append(former)


@lru_cache(maxsize=1)
def _legacy() -> _Legacy:
    return _Legacy()


@lru_cache(maxsize=4096)
def resolve_old_province(text: str) -> Renamed:
    """A province by its pre-2025 name ("Hải Dương", "Tỉnh Hà Tây" is not one: it ended in 2008)."""
    legacy = _legacy()
    squashed = _squash(text or "")
    olds: set[str] = set()
    for form in _unprefixed(squashed, ("thanhpho", "tinh", "tp", "t")):
        olds |= legacy.province_words.get(form, set())
    if len(olds) != 1:
        raise UnknownPlace("not one of the 34 provinces (2025 units), nor of the 63 before them")
    old = next(iter(olds))
    code, name = legacy.provinces[old]
    return Renamed(name, province(code), old)


@lru_cache(maxsize=65536)
def resolve_old_ward(text: str, *, province_code: int, old_province: str | None = None) -> Renamed:
    """A ward by its pre-2025 name, in a 2025 province (and in ``old_province`` when the province was
    written by its former name). A district after a comma ("Hàng Bạc, Hoàn Kiếm") picks between former
    wards of the same name."""
    legacy = _legacy()
    ward_text, _, district_text = (text or "").partition(",")
    candidates: dict[str, _OldWard] = {}
    # with diacritics first ("Hương Vân" and "Hương Văn" differ), and as written before without a prefix
    # ("Phường Trần Phú" is not "Xã Trần Phú", but "Trần Phú" may be either)
    for squash in (_squash_exact, _squash):
        whole = squash(ward_text)
        for forms in ({whole}, _unprefixed(whole, _OLD_WARD_PREFIXES) - {whole}):
            for form in forms:
                for w in legacy.wards.get((province_code, form), []):
                    if old_province is None or w.old_province == old_province:
                        candidates[w.key] = w
            if candidates:
                break
        if candidates:
            break
    if not candidates:
        raise UnknownPlace("no ward of this name in the given province, in the 2025 units or before them")
    if district_text.strip():
        wanted = _unprefixed(_squash(district_text), _OLD_DISTRICT_PREFIXES)
        named = candidates
        candidates = {k: w for k, w in named.items() if w.district_keys & wanted}
        if not candidates:
            raise UnknownPlace("before 2025 no ward of this name was in that district (it was in "
                               + "; ".join(sorted({w.district for w in named.values()})[:5]) + ")")
    if len({(w.new, w.split) for w in candidates.values()}) > 1:
        names = sorted({f"{w.name}, {w.district}" for w in candidates.values()})
        raise UnknownPlace("before 2025 several wards had this name (" + "; ".join(names[:5]) + "): add the "
                           "district after a comma, or write the 2025 ward")
    w = next(iter(candidates.values()))
    return Renamed(f"{w.name}, {w.district}, {w.province}", ward(w.new), w.key, tuple(ward(c) for c in w.split))


@dataclass(frozen=True)
class Located:
    """Where a parcel goes, in 2025 units, and how names from before 2025 were read (``notes``)."""

    province: Place
    ward: Place | None
    notes: tuple[str, ...] = ()


class PlaceError(UnknownPlace):
    """``UnknownPlace`` that says which of the two was wrong: ``field`` is "province" or "ward"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def locate(province_text: str, ward_text: str | None) -> Located:
    """A province and ward as people write them: 2025 names or codes first, then names from before
    the 2025 reorganisation (mapped, with a note). ``ward_text`` None checks the province alone."""
    old: Renamed | None = None
    try:
        prov = resolve_province(province_text)
    except UnknownPlace as e:
        try:
            old = resolve_old_province(province_text)
        except UnknownPlace:
            raise PlaceError("province", str(e)) from None
        prov = old.new
    notes = (old.note(),) if old else ()
    if ward_text is None:
        return Located(prov, None, notes)
    def now() -> Located:
        return Located(prov, resolve_ward(ward_text, province_code=prov.code), notes)

    def before() -> Located:
        w = resolve_old_ward(ward_text, province_code=prov.code, old_province=old.key if old else None)
        return Located(prov, w.new, (w.note(),))

    # with a former province named, its wards are most likely written by their former names too
    errors: dict[Callable[[], Located], UnknownPlace] = {}
    for attempt in (before, now) if old else (now, before):
        try:
            return attempt()
        except UnknownPlace as e:
            if old and attempt is before and str(e).startswith("before 2025"):
                raise PlaceError("ward", str(e)) from None  # several former wards: not guessed from 2025 names
            errors[attempt] = e
    now_error, before_error = errors[now], errors[before]
    # the most useful message: a ward code's own, a 2025 ambiguity, a former-name ambiguity or district hint
    if ward_text.strip().isdigit() or "ambiguous" in str(now_error):
        raise PlaceError("ward", str(now_error))
    raise PlaceError("ward", str(before_error))
