"""What a brand's lookalikes would be: the permutation families typosquatting tools enumerate
(addition, bitsquatting, cyrillic, dictionary, homoglyph, hyphenation, insertion, omission, plural,
repetition, replacement, subdomain, transposition, vowel-swap, various, tld-swap), and the ones real
Vietnamese scam sites use that those tools miss: combosquat (brand + scam words), fake-suffix
(``brand.com.vn-xyz.top``), free-hosting and ascii-tricks (0/1/rn/vv). For brand owners who want to
register or watch them; also the exact-match baseline of benchmarks/bench_lookalike.py.

``permutations(domain)`` yields ``(family, domain)`` pairs, domains in A-labels, each at most once."""

from __future__ import annotations

from collections.abc import Iterator

import idna

from postguard.errors import FieldError, InvalidInput
from postguard.lookalike.normal import split_host
from postguard.lookalike.score import RISKY_TLDS

FAMILIES = ("addition", "bitsquatting", "cyrillic", "dictionary", "homoglyph", "hyphenation", "insertion",
            "omission", "plural", "repetition", "replacement", "subdomain", "transposition", "vowel-swap",
            "various", "tld-swap", "combosquat", "fake-suffix", "free-hosting", "ascii-tricks")
_KEYBOARD = ("1234567890-", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_GLYPHS = {"a": "àáâãäåạảấầẩẫậăắằẳẵặ", "b": "ḃḅ", "c": "ćĉċč", "d": "đď", "e": "èéêëẹẻẽếềểễệ", "g": "ĝğġ",
           "h": "ĥħ", "i": "ìíîïịỉĩ", "k": "ķ", "l": "ĺļľŀł", "n": "ńņňñ", "o": "òóôõöơọỏốồổỗộớờởỡợ",
           "r": "ŕŗř", "s": "śŝşš", "t": "ţťŧ", "u": "ùúûüưụủứừửữựũ", "w": "ŵ", "y": "ýÿỳỵỷỹ", "z": "źżž"}
_CYRILLIC = {"a": "а", "b": "ь", "c": "с", "d": "ԁ", "e": "е", "g": "ԍ", "h": "һ", "i": "і", "j": "ј", "k": "к",
             "l": "ӏ", "m": "м", "o": "о", "p": "р", "q": "ԛ", "s": "ѕ", "t": "т", "v": "ѵ", "w": "ԝ", "x": "х",
             "y": "у"}
_ASCII_TRICKS = (("o", "0"), ("l", "1"), ("i", "1"), ("m", "rn"), ("w", "vv"))
_VOWELS = "aeiouy"
SCAM_AFFIXES = ("cskh", "hotro", "vn", "online", "giaohang", "tracuu", "hoantien", "quatang", "khuyenmai", "vay",
                "xacminh", "login", "app", "pay", "express", "service", "support", "otp", "24h", "247")
FAKE_SUFFIX_PARENTS = ("vn-xyz.top", "tra-cuu.xyz", "vn.secure-login.top", "com-vn.cc")
FREE_HOST_PARENTS = ("vercel.app", "netlify.app", "github.io", "pages.dev", "weebly.com", "web.app",
                     "firebaseapp.com", "blogspot.com", "wixsite.com", "glitch.me")
OTHER_TLDS = ("com", "net", "org", "vn", "com.vn", "net.vn", "info", "online", "site", "shop", "top", "xyz", "vip",
              "cc", "asia", "io", "co", "me", "app", "store", "club", "live")


def _ok(label: str) -> bool:
    return 0 < len(label) <= 63 and not label.startswith("-") and not label.endswith("-") \
        and (label[2:4] != "--" or label.startswith("xn--"))


def _label_variants(name: str) -> Iterator[tuple[str, str]]:
    n = len(name)
    yield "plural", name + ("es" if name.endswith("s") else "s")
    for i in range(n):
        yield "omission", name[:i] + name[i + 1:]
        yield "repetition", name[:i] + name[i] + name[i:]
        for bit in range(8):
            c = chr(ord(name[i]) ^ (1 << bit))
            if c.isascii() and (c.isalnum() or c == "-") and c.lower() == c:
                yield "bitsquatting", name[:i] + c + name[i + 1:]
        for row in _KEYBOARD:
            j = row.find(name[i])
            if j >= 0:
                for k in (j - 1, j + 1):
                    if 0 <= k < len(row):
                        yield "replacement", name[:i] + row[k] + name[i + 1:]
        if name[i] in _VOWELS:
            for v in _VOWELS:
                if v != name[i]:
                    yield "vowel-swap", name[:i] + v + name[i + 1:]
        for g in _GLYPHS.get(name[i], ""):
            yield "homoglyph", name[:i] + g + name[i + 1:]
        if i < n - 1:
            yield "transposition", name[:i] + name[i + 1] + name[i] + name[i + 2:]
        if 0 < i:
            yield "hyphenation", name[:i] + "-" + name[i:]
    cyr = "".join(_CYRILLIC.get(c, c) for c in name)
    if cyr != name:
        yield "cyrillic", cyr
        for i, c in enumerate(name):
            if c in _CYRILLIC:
                yield "cyrillic", name[:i] + _CYRILLIC[c] + name[i + 1:]
    for plain, trick in _ASCII_TRICKS:
        if plain in name:
            yield "ascii-tricks", name.replace(plain, trick, 1)
    for i in range(n + 1):  # last: the specific families above name what they share with these
        for c in "abcdefghijklmnopqrstuvwxyz0123456789":
            yield "insertion" if 0 < i < n else "addition", name[:i] + c + name[i:]


def permutations(domain: str) -> Iterator[tuple[str, str]]:
    """Every ``(family, domain)`` the generator families make of ``domain`` (its registrable part)."""
    host = split_host(domain)
    if host is None:
        raise InvalidInput("The domain was not accepted.", [FieldError(
            "domain", "not a registrable domain name (check the spelling and the top-level domain)")])
    name, suffix = host.labels[-1], host.suffix
    seen = {host.registrable}

    def out(family: str, label: str, tail: str) -> Iterator[tuple[str, str]]:
        try:
            encoded = idna.encode(f"{label}.{tail}", uts46=True, transitional=False).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            return
        if encoded not in seen and all(_ok(p) for p in encoded.split(".")):
            seen.add(encoded)
            yield family, encoded

    for family, label in _label_variants(name):
        yield from out(family, label, suffix)
    for word in SCAM_AFFIXES:
        yield from out("dictionary", f"{name}{word}", suffix)
        yield from out("combosquat", f"{name}-{word}", "com")
        yield from out("combosquat", f"{word}-{name}", suffix)
    for tld in (*OTHER_TLDS, *sorted(RISKY_TLDS)[:12]):
        yield from out("tld-swap", name, tld)
    parts = suffix.split(".")
    yield from out("various", name + "".join(parts), parts[-1])
    yield from out("various", f"{name}-{'-'.join(parts)}", "com")
    yield from out("various", name, parts[-1])
    for i in range(1, len(name)):
        yield from out("subdomain", f"{name[:i]}.{name[i:]}", suffix)
    for parent in FAKE_SUFFIX_PARENTS:
        yield from out("fake-suffix", f"{name}.{suffix}", parent)
    for parent in FREE_HOST_PARENTS:
        yield from out("free-hosting", name, parent)
        yield from out("free-hosting", f"{name}-vn", parent)
