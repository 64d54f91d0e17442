"""Message text, pure: normalisation, template validation, template matching and brand names.

Normalisation folds what a copy-paste or a phone changes and a reader does not notice: Unicode forms
and full-width letters, invisible format characters, diacritics (``đ`` → ``d``), case and runs of
white space. Punctuation stays (values need it: ``10:42``, ``350.000đ``, links).

A template's placeholders match the shapes of their values (``PLACEHOLDERS``); two placeholders never
touch (fixed text separates them), so a template compiles to a linear, anchored pattern.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from postguard.errors import FieldError, InvalidInput

MAX_TEMPLATE = 480  # characters: three concatenated Unicode SMS segments, with room
MIN_TEMPLATE = 10
MAX_PLACEHOLDERS = 8
MAX_MESSAGE = 2000  # characters of a pasted message considered; longer ones match no template
# The fixed set of placeholders and the shape each value has once normalised.
PLACEHOLDERS = {
    "waybill": r"[a-z0-9][a-z0-9-]{5,39}",
    "amount": r"\d{1,3}(?:[.,]\d{3}){0,5}(?: ?(?:d|vnd|dong))?",
    "time": r"\d{1,2}[:h]\d{2}",
    "date": r"\d{1,2}/\d{1,2}(?:/\d{2,4})?",
    "link": r"(?:https?://)?[a-z0-9](?:[a-z0-9.-]{0,250})\.[a-z]{2,24}(?:/[a-z0-9._~%/?#=&+-]{0,200})?",
    "hotline": r"\+?\d[\d .]{3,14}\d",
}
_PLACEHOLDER = re.compile(r"\{([^{}]{0,40})\}")
_FORMAT = {"Cf", "Cc", "Co", "Cs", "Cn"}
# What a genuine notification never asks for: a transfer (to a personal account), an OTP or code.
_DEMANDS = re.compile(
    r"chuyen (?:khoan|tien)|nap tien|tai khoan ca nhan|so tai khoan|\btransfer\b|personal account|\bpay (?:to|into)\b"
    r"|(?:cung cap|gui|doc|nhap|dua|send|share|give|tell|enter)(?: [a-z]+){0,2} (?:ma )?(?:otp|ma xac (?:thuc|minh))"
    r"|(?:otp|ma xac (?:thuc|minh))(?: [a-z]+){0,2} (?:de|to) (?:nhan|xac nhan|receive|confirm)")
_NEGATIONS = ("khong", "dung", "never", "not", "don't", "do not", "khong bao gio", "tuyet doi khong", "no one")


_ASCII_FOLD = {**dict.fromkeys(range(32)), 127: None, 9: " ", 10: " ", 13: " "}  # controls go, \t\n\r are spaces
_SPACES = str.maketrans("\r\n\t", "   ")
_COMBINING = re.compile("[\u0300-\u034e\u0350-\u036f]+")  # combining marks (NFD; U+034F is not one)


def normalise(text: str) -> str:
    """The form messages are compared in: NFKC, no format characters, no diacritics, lower case,
    single spaces, trimmed (idempotent)."""
    if text.isascii():  # most SMS: no Unicode form to fold
        return " ".join(text.translate(_ASCII_FOLD).lower().split())
    text = unicodedata.normalize("NFKC", text)
    spaced = text.translate(_SPACES)
    text = spaced if spaced.isprintable() else "".join(  # printable: no format or control character to drop
        ch for ch in spaced if ch.isalnum() or unicodedata.category(ch) not in _FORMAT)
    text = _COMBINING.sub("", unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D")))
    if not text.isascii():
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def fingerprint(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()


def placeholders(text: str) -> list[str]:
    return _PLACEHOLDER.findall(text)


def _bad(message: str, field: str = "text", code: str = "invalid") -> InvalidInput:
    return InvalidInput("The template was not accepted.", [FieldError(field, message, code=code)])


def demands(fixed: str) -> list[str]:
    """The demands for money or codes in ``fixed`` (normalised) that no negation earlier in the same
    sentence excuses ("khong yeu cau chuyen khoan hay cung cap ma OTP" asks for nothing)."""
    found = []
    for clause in re.split(r"[.;!?\n]+", fixed):
        words = " ".join(re.sub(r"[^a-z0-9' ]+", " ", clause).split())
        for m in _DEMANDS.finditer(words):
            before = words[:m.start()]
            if not any(re.search(rf"\b{re.escape(n)}\b", before) for n in _NEGATIONS):
                found.append(m.group(0))
    return found


def validate_template(text: object) -> str:
    """The template, trimmed, or ``InvalidInput`` naming the field: bounded length and placeholder
    count, placeholders from ``PLACEHOLDERS`` only, never two touching, and no fixed text asking for
    a transfer or a one-time code."""
    if not isinstance(text, str):
        raise _bad("a string")
    text = " ".join(text.split())
    if not MIN_TEMPLATE <= len(text) <= MAX_TEMPLATE:
        raise _bad(f"between {MIN_TEMPLATE} and {MAX_TEMPLATE} characters", code="length")
    if any(unicodedata.category(ch) in _FORMAT for ch in text):
        raise _bad("no control or invisible characters")
    names = placeholders(text)
    if len(names) > MAX_PLACEHOLDERS:
        raise _bad(f"at most {MAX_PLACEHOLDERS} placeholders", code="too_many")
    unknown = sorted({n for n in names if n not in PLACEHOLDERS})
    if unknown:
        raise _bad(f"unknown placeholder {{{unknown[0]}}}; use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}",
                   code="placeholder")
    fixed_parts = _PLACEHOLDER.split(text)[::2]
    if "{" in "".join(fixed_parts) or "}" in "".join(fixed_parts):
        raise _bad("braces only around a placeholder name", code="placeholder")
    if any(not part.strip() for part in fixed_parts[1:-1]):
        raise _bad("put fixed text between two placeholders", code="placeholder")
    fixed = normalise(" ".join(fixed_parts))
    if len(re.sub(r"[^a-z]", "", fixed)) < MIN_TEMPLATE:
        raise _bad("the fixed text says too little to be recognised", code="length")
    asked = demands(fixed)
    if asked:
        raise _bad(f"a notification never asks for a transfer or a one-time code ({asked[0]!r})",
                   code="demands_money")
    return text


@lru_cache(maxsize=4096)
def compile_template(text: str) -> re.Pattern[str]:
    """The anchored pattern a normalised message must match; each placeholder a named group."""
    out: list[str] = []
    seen: set[str] = set()
    for i, part in enumerate(_PLACEHOLDER.split(normalise(text))):
        if i % 2 == 0:  # fixed text: its spaces may be missing in a copy (a line break dropped)
            out.append(re.escape(part).replace("\\ ", " ?"))
        else:
            out.append(f"(?P=v_{part})" if part in seen else f"(?P<v_{part}>{PLACEHOLDERS[part]})")
            seen.add(part)
    return re.compile("".join(out))


def match(text: str, message: str) -> dict[str, str] | None:
    """The values of ``message`` (normalised) when it is ``text`` filled in, else None."""
    m = compile_template(text).fullmatch(message)
    return None if m is None else {k.removeprefix("v_"): v for k, v in m.groupdict().items()}


def render(text: str, values: dict[str, str]) -> str:
    """The template filled in; every placeholder needs a value of its shape, and no other value is accepted."""
    names = set(placeholders(text))
    extra = sorted(set(values) - names)
    if extra:
        raise InvalidInput("The values do not fit the template.",
                           [FieldError(f"values.{extra[0][:40]}", "this template has no such placeholder")])
    out = text
    for name in sorted(names):
        v = values.get(name)
        if not isinstance(v, str) or not v.strip():
            raise InvalidInput("The values do not fit the template.",
                               [FieldError(f"values.{name}", "a value is needed for this placeholder")])
        v = " ".join(v.split())
        if not re.fullmatch(PLACEHOLDERS[name], normalise(v)):
            raise InvalidInput("The values do not fit the template.",
                               [FieldError(f"values.{name}", f"not the shape of a {name}")])
        out = out.replace("{" + name + "}", v)
    return out


@dataclass(frozen=True)
class Brand:
    """A name that, written in a message, claims to be an organisation."""

    org_code: str
    term: str  # normalised
    first: str = field(init=False, repr=False, compare=False)  # the term's first word: ``claimed`` checks it first

    def __post_init__(self) -> None:
        object.__setattr__(self, "first", self.term.split(" ", 1)[0])


def brand_terms(org_code: str, org_name: str, extra: list[str]) -> list[Brand]:
    """What names an organisation: its code, the short name in brackets at the end of its full name
    (``… (Viettel Post)``), the full name, its SMS brandnames and pages (``extra``); each also
    without spaces (``viettelpost``)."""
    names = {org_code, org_name, *extra}
    short = re.search(r"\(([^()]{2,60})\)\s*$", org_name)
    if short:
        names.add(short.group(1))
        names.add(org_name[:short.start()])
    terms: set[str] = set()
    for n in names:
        t = normalise(re.sub(r"[^\w ]+", " ", n))
        if len(t.replace(" ", "")) >= 4:
            terms.add(t)
            terms.add(t.replace(" ", ""))
    return [Brand(org_code, t) for t in sorted(terms)]


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def by_length(brands: list[Brand]) -> list[Brand]:
    """``brands`` longest name first, as ``claimed`` reads them."""
    return sorted(brands, key=lambda b: -len(b.term))


_FIRST_WORDS: tuple[list[Brand], dict[str, list[int]]] | None = None


def _first_words(brands: list[Brand]) -> dict[str, list[int]]:
    """Each first word of ``brands``' terms → the positions of the terms it starts (kept for the
    list last given)."""
    global _FIRST_WORDS
    kept = _FIRST_WORDS
    if kept is None or kept[0] is not brands:
        index: dict[str, list[int]] = {}
        for i, b in enumerate(brands):
            index.setdefault(b.first, []).append(i)
        kept = _FIRST_WORDS = (brands, index)
    return kept[1]


def claimed(message: str, brands: list[Brand]) -> list[str]:
    """The organisations whose names appear in ``message`` (normalised); ``brands`` longest names
    first (``by_length``), so that "Viettel Post" claims Viettel Post and not also Viettel."""
    words = " " + _NON_ALNUM.sub(" ", message) + " "
    index = _first_words(brands)
    maybe = sorted(i for w in index.keys() & words.split() for i in index[w])  # a term's first word is there
    out: list[str] = []
    for i in maybe:
        b = brands[i]
        hit = f" {b.term} "
        at = words.find(hit)
        if at >= 0:
            if b.org_code not in out:
                out.append(b.org_code)
            words = words[:at] + " " + "#" * (len(hit) - 2) + " " + words[at + len(hit):]
    return out
