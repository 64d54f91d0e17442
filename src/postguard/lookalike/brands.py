"""The brand model: who is protected, which domains are theirs, and which words name them.

Built from a brands file (``brand<TAB>official domain[,official domain…]``, ``#`` comments) and from
the official-channel registry (an organisation's verified domains, with its name). Each brand gets:

- its **official domains** and their subdomains: never flagged, whatever they look like;
- its **tokens**: the label left of the public suffix of each official domain (``viettelpost``,
  ``vietcombank``), the brand's name run together (``vietnampost``), the aliases, product names
  and Vietnamese company names in ``ALIASES``, each folded to its skeleton;
- **short tokens** (fewer than ``LONG`` letters: ``acb``, ``vib``, ``ghn``, ``momo``) that count only
  as a whole word of a name (between hyphens, dots or digits) or glued to a context word
  (``acbbank``, ``ghnexpress``, ``cskhmomo``), never as a bare substring: ``acb`` inside
  ``tacbook`` or ``ghn`` inside ``laghnet`` is nobody's brand.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from postguard.errors import FieldError, InvalidInput
from postguard.lookalike.normal import skeleton, split_host
from postguard.lookalike.score import SCAM_WORDS

_TOKEN = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
LONG = 5  # a token this long or longer may match inside a longer word
MIN_TOKEN = 3  # shorter tokens (fb, t) are never matched: they are everywhere
MAX_BRANDS = 5_000
MAX_DOMAINS = 200  # per brand

# Aliases, product names and Vietnamese company names, by brand name as the brands file and the
# registry spell it (folded: case, diacritics and punctuation do not matter).
ALIASES: dict[str, tuple[str, ...]] = {
    "vietnampost": ("vnpost", "vietnampost", "buudien", "buudienvietnam", "buuchinhvietnam", "ems"),
    "viettelpost": ("viettelpost", "vtpost", "buuchinhviettel"),
    "ghn": ("giaohangnhanh",),
    "ghtk": ("giaohangtietkiem",),
    "jtexpress": ("jtexpress", "jntexpress", "jnt"),
    "shopee": ("shopeepay", "shopeevn"),
    "lazada": ("lazadavn", "lazmall", "lzd"),
    "tiktok": ("tiktokshop",),
    "vnpay": ("vnpayqr",),
    "momo": ("vimomo", "momopay"),
    "vietcombank": ("vcb",),
    "techcombank": ("tcb",),
    "mbbank": ("mbbank", "nganhangquandoi"),
    "sacombank": ("stb",),
    "lpbank": ("lienvietpostbank",),
    "statebankofvietnam": ("sbv", "nganhangnhanuoc"),
    "vngzalo": ("zalo", "zalopay"),
    "nationalpublicserviceportal": ("dichvucong",),
    "dienmayxanh": ("dienmayxanh",),
    "vietjetair": ("vietjet",),
    "vietnamairlines": ("vietnamairlines",),
}
# Words that, glued to a short token, make it a brand: ``acbbank``, ``ghnexpress``, ``cskhvib``,
# ``momovay`` (its trade's words and the scam words).
CONTEXT_WORDS = tuple(sorted({"bank", "nganhang", "express", "post", "pay", "vn", "vietnam", "card", "ebank", "ibank",
                              "smart", "digital", *SCAM_WORDS}))
# Generic tails of tokens (``tpbank`` = ``tp`` + ``bank``): a misspelling must keep the part before
# them (its stem) exact when the stem is short, or within one edit, so that ``lebank`` is not
# ``lpbank`` misspelled nor ``express`` ``jtexpress``.
GENERIC_TAILS = ("bank", "post", "pay", "express", "mall", "shop", "mobile", "food", "group", "money", "store",
                 "speed", "telecom", "airlines", "air", "auto", "school", "cinemavn", "mart")


def stem_of(token: str) -> str:
    """``token`` without its generic tail (``tpbank`` → ``tp``); the token itself when it has none."""
    for tail in GENERIC_TAILS:
        if token.endswith(tail) and len(token) > len(tail) + 1:
            return token[:-len(tail)]
    return token


def fold_name(text: str) -> str:
    """A name as one token: lower-case, no diacritics, only a-z and digits (``Nam A Bank`` →
    ``namabank``, ``J&T Express`` → ``jtexpress``, ``Bưu điện`` → ``buudien``)."""
    bare = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return re.sub(r"[^a-z0-9]", "", "".join(c for c in bare if not unicodedata.combining(c)).lower())


def short_name(name: str) -> str:
    """How an organisation is called in a sentence: its name in parentheses when it has one
    (``Tổng công ty … (Viettel Post)`` → ``Viettel Post``), else the name."""
    m = re.search(r"\(([^()]{2,60})\)\s*$", name)
    return m.group(1).strip() if m else name.strip()


@dataclass
class Brand:
    name: str
    official: list[str] = field(default_factory=list)  # registrable domains, A-labels, first = main site
    tokens: set[str] = field(default_factory=set)  # skeletons


@dataclass
class BrandModel:
    """Every protected brand, and the official registrable domains of all of them."""
    brands: list[Brand]
    official: dict[str, int]  # registrable domain -> brand index

    def brand_of_official(self, registrable: str) -> Brand | None:
        i = self.official.get(registrable)
        return None if i is None else self.brands[i]

    def tokens(self) -> Iterable[tuple[str, int]]:
        for i, b in enumerate(self.brands):
            for t in sorted(b.tokens):
                yield t, i


class BrandModelBuilder:
    """Collects brands from a file and the registry; ``build`` folds them into a ``BrandModel``.
    Brands that share a name (after folding) are one brand: the registry's Viettel Post and the
    file's are merged."""

    def __init__(self) -> None:
        self._brands: dict[str, Brand] = {}

    def add(self, name: str, domains: Iterable[str], *, where: str = "brand") -> Brand:
        key = fold_name(name)
        if not key:
            raise InvalidInput("The brand list was not accepted.", [FieldError(where, f"no usable name in {name!r}")])
        brand = self._brands.get(key)
        if brand is None:
            if len(self._brands) >= MAX_BRANDS:
                raise InvalidInput("The brand list was not accepted.",
                                   [FieldError(where, f"more than {MAX_BRANDS} brands")])
            brand = self._brands[key] = Brand(name=name.strip())
            brand.tokens.add(skeleton(key))
            for alias in ALIASES.get(key, ()):
                brand.tokens.add(skeleton(alias))
        for raw in domains:
            host = split_host(raw)
            if host is None:
                raise InvalidInput("The brand list was not accepted.", [FieldError(
                    where, f"{raw!r} is not a registrable domain (check the spelling and the top-level domain)")])
            reg = host.registrable
            if reg not in brand.official:
                if len(brand.official) >= MAX_DOMAINS:
                    raise InvalidInput("The brand list was not accepted.",
                                       [FieldError(where, f"more than {MAX_DOMAINS} domains for {name}")])
                brand.official.append(reg)
            brand.tokens.add(skeleton(fold_name(host.labels[-1])))
            brand.tokens.add(skeleton(host.labels[-1].replace("_", "")))
        return brand

    def add_file(self, path: Path) -> BrandModelBuilder:
        """Read a brands file: ``brand<TAB>domain[,domain…]`` per line, ``#`` starts a comment."""
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            raise InvalidInput("The brand list was not accepted.",
                               [FieldError("brands", f"cannot read {path}: {e.__class__.__name__}")]) from None
        for n, line in enumerate(text.splitlines(), 1):
            line = line.split("#", 1)[0].rstrip()
            if not line.strip():
                continue
            name, tab, domains = line.partition("\t")
            if not tab or not name.strip() or not domains.strip():
                raise InvalidInput("The brand list was not accepted.", [FieldError(
                    f"{path.name}:{n}", "expected: brand<TAB>official domain[,official domain…]")])
            self.add(name, [d.strip() for d in domains.split(",") if d.strip()], where=f"{path.name}:{n}")
        return self

    def build(self) -> BrandModel:
        brands = list(self._brands.values())
        official: dict[str, int] = {}
        for i, b in enumerate(brands):
            b.tokens = {t for t in b.tokens if len(t) >= MIN_TOKEN and _TOKEN.fullmatch(t)}
            for d in b.official:
                official.setdefault(d, i)
        return BrandModel(brands, official)


def load_brands(path: Path) -> BrandModel:
    return BrandModelBuilder().add_file(path).build()
