"""The explainable score of a lookalike: points for the technique, then for what makes a name a
scam's (Vietnamese scam words, a risky top-level domain, "vn" glued to a brand, digit runs and
hyphen chains). Each part is a reason with its points, so an analyst sees why a name was raised.

``THRESHOLD`` is where a name is judged a lookalike. It was tuned on the benchmark's generated feed
(benchmarks/bench_lookalike.py; docs/benchmarks.md) to keep false positives under 100 per million
ordinary names while catching at least 95% of planted lookalikes."""

from __future__ import annotations

import re
from typing import NamedTuple

THRESHOLD = 60
TECHNIQUES = ("fake_suffix", "homoglyph", "tld_swap", "subdomain", "combosquat", "typo", "free_hosting")

# Words scam sites put next to a brand (folded: no diacritics, no spaces).
SCAM_WORDS = frozenset((
    "vay", "vaytien", "vayonline", "cskh", "chamsockhachhang", "hotro", "hoantien", "hoanphi", "giaohang",
    "giaohangnhanh", "quatang", "nhanqua", "tangqua", "khuyenmai", "uudai", "trungthuong", "tracuu", "vandon",
    "donhang", "xacminh", "xacthuc", "kichhoat", "dangnhap", "dangky", "capnhat", "tichdiem", "doithuong",
    "thanhtoan", "naptien", "ruttien", "chuyentien", "nhantien", "phigiao", "phiship", "baohiem", "tructuyen",
    "login", "signin", "verify", "verification", "secure", "security", "support", "refund", "reward", "rewards",
    "bonus", "gift", "prize", "otp", "update", "confirm", "account", "wallet", "payment", "billing", "tracking",
    "track", "delivery", "customs", "claim", "unlock", "recovery", "helpdesk", "service", "care", "khachhang",
    "online", "ebank", "ibanking", "app", "apk", "download", "taiapp", "voucher", "sale", "free",
))
# Top-level domains that cost almost nothing and host most scam sites.
RISKY_TLDS = frozenset((
    "top", "xyz", "vip", "cc", "club", "online", "site", "icu", "buzz", "cyou", "live", "info", "tk", "ml", "ga",
    "cf", "gq", "work", "fun", "click", "link", "monster", "rest", "sbs", "cfd", "lol", "best", "bond", "pw",
    "win", "shop", "store", "asia", "life", "today", "world", "space", "website", "tech", "pro", "biz", "ws",
    "cam", "bar", "quest", "hair", "beauty", "skin", "autos", "boats", "homes", "mom", "motorcycles", "yachts",
    "loan", "men", "party", "racing", "review", "stream", "trade", "date", "download", "accountant", "kim",
))
# Labels a fake suffix begins with: ``brand.com.vn-xyz.top`` and ``brand.vn.secure.top``.
SUFFIX_WORDS = ("com", "vn", "net", "org", "gov", "edu", "info", "biz")
# Words of a trade that make a short brand name (``acb``, ``ghn``) a brand: ``acb-nganhang``, ``ghn-giaohang``.
# Scam words looked for inside longer runs, in a fixed order (the first two found are named)
_GLUED_SCAM_WORDS = tuple(sorted(w for w in SCAM_WORDS if len(w) >= 4))
CONTEXT = frozenset(("bank", "nganhang", "ebank", "ibank", "digibank", "smartbank", "ibanking", "banking", "express",
                     "giaohang", "giaohangnhanh", "post", "buudien", "vandon", "chuyenphat", "pay", "vi", "wallet",
                     "shop", "mall", "sale", "vn"))

# Points by technique, and by how strong the match is.
BASE = {
    ("fake_suffix", "long"): 70, ("fake_suffix", "context"): 65, ("fake_suffix", "short4"): 55,
    ("fake_suffix", "short"): 50,
    ("homoglyph", "whole"): 75, ("homoglyph", "part"): 60,  # short tokens too: ``rnomo``, ``b1dv``
    ("tld_swap", "long"): 60, ("tld_swap", "short4"): 50, ("tld_swap", "short"): 40,
    ("subdomain", "long"): 60, ("subdomain", "context"): 55, ("subdomain", "short4"): 45, ("subdomain", "short"): 35,
    ("combosquat", "word"): 50, ("combosquat", "glued"): 40, ("combosquat", "glued_short"): 25,
    ("combosquat", "short4"): 40, ("combosquat", "short"): 35, ("combosquat", "context"): 50,
    ("typo", "whole1"): 60, ("typo", "whole2"): 50, ("typo", "word1"): 50, ("typo", "word2"): 40,
    ("typo", "glued1"): 35, ("typo", "glued2"): 25,
    ("free_hosting", "long"): 60, ("free_hosting", "context"): 60, ("free_hosting", "short4"): 50,
    ("free_hosting", "short"): 40,
}
TECHNIQUE_TEXT = {
    "fake_suffix": "the brand followed by a fake suffix ({token}.{rest}…) under another domain",
    "homoglyph": "letters that look like the brand's ({shown} reads as {token})",
    "tld_swap": "the brand's name ({token}) on a domain that is not the brand's",
    "subdomain": "the brand ({token}) as a subdomain of another domain",
    "combosquat": "the brand ({token}) combined with other words",
    "typo": "a misspelling of the brand ({shown} is {distance} edit(s) from {token})",
    "free_hosting": "the brand ({token}) on a free hosting or site-builder domain ({parent})",
}

_WORDS = re.compile(r"[a-z]+")
_DIGITS = re.compile(r"\d{2,}")


class Reason(NamedTuple):
    code: str
    points: int
    text: str

    def as_dict(self) -> dict:
        return {"code": self.code, "points": self.points, "text": self.text}


def modifiers(words: list[str], tld: str, label: str, brand_word: str, *, short: bool) -> list[Reason]:
    """The reasons besides the technique: ``words`` are the letter runs of the whole name (folded),
    ``tld`` the last label of the suffix, ``label`` the raw label the brand was found in."""
    out: list[Reason] = []
    scam = [w for w in dict.fromkeys(words) if w in SCAM_WORDS and w != brand_word]
    if not scam:  # a scam word glued to others (``vnpostcskh``): look inside the runs, in a fixed order
        glued = "|".join(x for x in words if x != brand_word)  # no run is a scam word itself (above)
        scam = [w for w in _GLUED_SCAM_WORDS if w in glued][:2]
    if scam:
        out.append(Reason("scam_words", 15 if len(scam) == 1 else 25, "scam words: " + ", ".join(sorted(scam)[:4])))
    if tld in RISKY_TLDS:
        out.append(Reason("risky_tld", 15, f"a top-level domain scam sites favour (.{tld})"))
    if "vn" in words and brand_word != "vn":
        out.append(Reason("vn_word", 10, "\"vn\" added to imitate a Vietnamese address"))
    if short and any(w in CONTEXT or w in SCAM_WORDS or (w != brand_word and w.endswith("bank")) for w in words):
        out.append(Reason("context", 15, "a short brand name next to a word of its trade (bank, express, ...)"))
    if re.search(re.escape(brand_word) + r"\d{2,}", label):
        out.append(Reason("digits", 10, "the brand followed by a number, as in mass-registered names"))
    elif _DIGITS.search(label):
        out.append(Reason("digits", 5, "a run of digits, as in mass-registered names"))
    if label.count("-") >= 2:
        out.append(Reason("hyphens", 5, "several hyphens"))
    return out


def letter_runs(text: str) -> list[str]:
    return _WORDS.findall(text)
