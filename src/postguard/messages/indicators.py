"""Every indicator in a message: links, domains, phones, bank accounts (with their bank), e-wallets,
amounts, brands and the sender; each link, domain, phone, account and wallet with the verdict the
intelligence check gives it (and, for links and domains, the lookalike check), read without
counting, storing or logging anything.

Pure extraction (``extract``) is separate from looking up (``Indicators.read``), so that the
classifier's benchmark and the model's training read messages without a database."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import ahocorasick

from postguard.amounts import amount_of
from postguard.errors import InvalidInput
from postguard.intel.banks import BANK_ALIASES, WALLET_ALIASES
from postguard.intel.normalize import Normal, detect, norm_bank_account, norm_ewallet, norm_phone, norm_sms_brand
from postguard.lookalike.match import Hit
from postguard.messages.text import fold


class QuietCheck(Protocol):
    """``CheckService.quiet_answer``: the answer for a normal form, counting and writing nothing."""

    def __call__(self, n: Normal) -> dict: ...


# Brands a message names that the lookalike model may not know (no brands file, an empty registry):
# couriers, banks and carriers people are impersonated as, with their official registrable domains.
KNOWN_BRANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("VNPost", ("vnpost.vn",)), ("Viettel Post", ("viettelpost.com.vn", "viettelpost.vn", "vtp.vn")),
    ("GHN", ("ghn.vn",)), ("Giao Hàng Nhanh", ("ghn.vn",)), ("GHTK", ("ghtk.vn",)),
    ("Giao Hàng Tiết Kiệm", ("ghtk.vn",)), ("J&T Express", ("jtexpress.vn",)), ("Ninja Van", ("ninjavan.co",)),
    ("Shopee", ("shopee.vn",)), ("Shopee Express", ("spx.vn", "shopee.vn")), ("Lazada", ("lazada.vn",)),
    ("Tiki", ("tiki.vn",)), ("Best Express", ("best-inc.vn",)), ("Ahamove", ("ahamove.com",)),
    ("Vietcombank", ("vietcombank.com.vn",)), ("VietinBank", ("vietinbank.vn",)), ("BIDV", ("bidv.com.vn",)),
    ("Agribank", ("agribank.com.vn",)), ("Techcombank", ("techcombank.com", "techcombank.com.vn")),
    ("MB Bank", ("mbbank.com.vn",)), ("ACB", ("acb.com.vn",)), ("VPBank", ("vpbank.com.vn",)),
    ("TPBank", ("tpb.vn",)), ("Sacombank", ("sacombank.com.vn",)), ("MoMo", ("momo.vn",)),
    ("ZaloPay", ("zalopay.vn",)),
    ("Viettel", ("viettel.vn", "viettel.com.vn", "vietteltelecom.vn", "vtmoney.vn", "viettelmoney.vn", "vtp.vn")),
    ("Viettel Money", ("viettelmoney.vn", "vtmoney.vn")), ("VNPT Money", ("vnptmoney.vn", "vnpt.vn")),
    ("Vinaphone", ("vinaphone.com.vn", "vnpt.com.vn", "vnpt.vn")), ("VNPT", ("vnpt.com.vn", "vnpt.vn")),
    ("MobiFone", ("mobifone.vn", "mobifone.com.vn")),
    ("EVN", ("evn.com.vn", "evnhanoi.vn", "evnhcmc.vn", "evnspc.vn", "evncpc.vn", "evnnpc.vn")),
    ("VNeID", ("vneid.gov.vn",)),
    # English-speaking carriers, couriers and services scams imitate
    ("USPS", ("usps.com",)), ("FedEx", ("fedex.com",)), ("DHL", ("dhl.com", "dhl.de", "dhl.co.uk", "dhl.com.au")),
    ("Royal Mail", ("royalmail.com",)), ("Evri", ("evri.com",)), ("Hermes", ("evri.com", "myhermes.co.uk")),
    ("Australia Post", ("auspost.com.au",)), ("AusPost", ("auspost.com.au",)), ("Canada Post", ("canadapost.ca",)),
    ("Amazon", ("amazon.com", "amazon.co.uk", "amazon.com.au", "amazon.ca")), ("PayPal", ("paypal.com",)),
    ("Apple", ("apple.com", "icloud.com")), ("Netflix", ("netflix.com",)), ("myGov", ("my.gov.au",)),
    ("HMRC", ("gov.uk",)), ("E-ZPass", ("e-zpassny.com", "ezpassnj.com", "ezpassva.com")),
)

_LINK = re.compile(r"(?i)(?<![@\w.\-])(?:(?:https?|hxxps?)://[^\s<>\"'`]+|www\.[^\s<>\"'`]+|"
                   r"[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,24}(?:/[^\s<>\"'`]*)?)(?![\w@])")
_MAYBE_LINK = re.compile(r"(?i)://|www\.|\.[^\W\d_]")
_MAYBE_VND = re.compile(r"(?i)vn[dđ]")
_TRAIL = ".,;:!?)]}»\"'…"
# Amounts and numbers start with a digit not just after a letter, digit, dot or comma: written to
# start with the digit itself (and to look behind it from there), the search jumps from digit to digit.
_AMOUNT = re.compile(
    r"(?i)(\d(?<![\w.,]\d)(?:\d{0,2}(?:[.,]\d{3})+|\d*(?:[.,]\d{1,2})?))\s?"
    r"(vnđ|vnd|đồng|dong|đ|d|k|nghìn|ngàn|ngan|nghin|tr|triệu|trieu|củ|cu|tỷ|ty|m)(?![\w])")
_VND_BEFORE = re.compile(r"(?i)(?<![\w])(?:vnđ|vnd)\s?(\d{1,3}(?:[.,]\d{3})+|\d+)(?![\d])")
_NUMBER = re.compile(r"\d(?<![\w.,]\d)(?:[ .\-]?\d){5,22}(?![\w])")  # and a "+" before it, if there is one
_GLUED = re.compile(r"[\w.,]")
_PHONE_WORDS = ("lh", "lien he", "goi", "hotline", "sdt", "so dien thoai", "dien thoai", "dt", "call", "phone",
                "zalo", "buu ta", "shipper", "tel", "nhan tin", "sms", "text")
_ACCOUNT_WORDS = ("so tai khoan", "tai khoan", "stk", "account", "acc", "tk", "ctk", "chu tai khoan")


@dataclass
class Found:
    """One indicator of a message: its normal form (looked up), or a value read from it."""
    type: str  # phone, bank_account, ewallet, url, domain, social, app, sms_brand, amount, brand, sender
    display: str
    normal: Normal | None = None
    value: int | str | None = None  # amount in VND; a brand's name
    official: tuple[str, ...] = ()  # a brand's official domains
    role: str | None = None  # "sender" for the sender id, "qr" for what a QR code asks
    answer: dict | None = field(default=None, repr=False)


def _numbers(text: str) -> Iterator[tuple[int, int]]:
    """Where runs of 6 to 23 digits (single spaces, dots or dashes between them), with the "+"
    before them if any, stand on their own: ``(start, end)``."""
    for m in _NUMBER.finditer(text):
        start = m.start()
        if start and text[start - 1] == "+" and not (start > 1 and _GLUED.match(text, start - 2)):
            start -= 1  # "+84…": the plus is the number's
        yield start, m.end()


def _fmt_vnd(v: int) -> str:
    return f"{v:,}".replace(",", ".") + " đ"


def _mask_digits(d: str) -> str:
    return "*" * 6 + d[-4:]


def _alias_index(table) -> tuple[dict[tuple[str, ...], object], int]:
    index: dict[tuple[str, ...], object] = {}
    for alias, entry in table:
        index.setdefault(alias, entry)
    return index, max(len(a) for a in index)


_BANKS, _WALLETS = _alias_index(BANK_ALIASES), _alias_index(WALLET_ALIASES)


def _alias_in(words: list[str], table: tuple[dict[tuple[str, ...], object], int]) -> object | None:
    """The first alias (longest first) of ``table`` that ``words`` contain as whole words."""
    index, longest = table
    for n in range(min(longest, len(words)), 0, -1):
        for i in range(len(words) - n + 1):
            entry = index.get(tuple(words[i : i + n]))
            if entry is not None:
                return entry
    return None


class _BrandNames:
    """Every brand's folded name (``brands`` and ``KNOWN_BRANDS``) in one Aho-Corasick automaton."""

    def __init__(self, brands: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
        self.brands = brands
        self.names: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.automaton = ahocorasick.Automaton()
        for name, official in (*brands, *KNOWN_BRANDS):
            key = fold(name)
            if key and key not in self.names and len(key) >= 3:
                self.names[key] = (name, tuple(official))
                self.automaton.add_word(f" {key} ", key)
        self.automaton.make_automaton()

    def find(self, folded: str) -> list[tuple[int, str]]:
        """``(position, name)`` of each brand name in ``folded`` as whole words, left to right, the
        longest where names overlap (as a regular expression of the names, longest first, finds them)."""
        hits = sorted(((end - len(key) - 1, key) for end, key in self.automaton.iter(f" {folded} ")),
                      key=lambda h: (h[0], -len(h[1])))
        out: list[tuple[int, str]] = []
        free = 0
        for at, key in hits:
            if at >= free:
                out.append((at, key))
                free = at + 1 + len(key)
        return out


_BRAND_NAMES: _BrandNames | None = None


def _brand_names(brands: tuple[tuple[str, tuple[str, ...]], ...]) -> _BrandNames:
    """The automaton for ``brands`` (kept while the same tuple is given)."""
    global _BRAND_NAMES
    kept = _BRAND_NAMES
    if kept is None or kept.brands is not brands:
        kept = _BRAND_NAMES = _BrandNames(brands)
    return kept


def extract(text: str, *, brands: tuple[tuple[str, tuple[str, ...]], ...] = (), sender: str | None = None,
            folded: str | None = None) -> list[Found]:
    """Every indicator in ``text`` (NFC, bounded), in order of kind: links and domains, accounts,
    wallets, phones, amounts, brands, then the sender."""
    found: list[Found] = []
    seen: set[tuple[str, str]] = set()

    def add(f: Found) -> None:
        key = (f.type, f.normal.value if f.normal is not None else str(f.value))
        if key not in seen:
            seen.add(key)
            found.append(f)

    rest = list(text)

    def blank(m: re.Match) -> None:
        rest[m.start() : m.end()] = " " * (m.end() - m.start())

    # links and domains (each has "://", "www." or a dot before a letter: most messages have none)
    for m in _LINK.finditer(text) if _MAYBE_LINK.search(text) else ():
        raw = m.group(0).rstrip(_TRAIL)
        if re.fullmatch(r"[\d.]+", raw):
            continue
        if raw.lower().startswith("hxxp"):
            raw = "http" + raw[4:]
        try:
            link = detect(raw)
        except InvalidInput:
            continue
        if link.type in ("url", "domain", "social", "app"):
            add(Found(link.type, link.display, link))
            blank(m)
    # amounts
    scan = "".join(rest)
    for m in _AMOUNT.finditer(scan):
        v = amount_of(m.group(1), m.group(2))
        if v is not None and (m.group(2).lower() not in ("d", "m") or v >= 1000):
            add(Found("amount", _fmt_vnd(v), value=v))
            blank(m)
    for m in _VND_BEFORE.finditer(scan) if _MAYBE_VND.search(scan) else ():
        v = amount_of(m.group(1), "vnd")
        if v is not None:
            add(Found("amount", _fmt_vnd(v), value=v))
            blank(m)
    # numbers: an account, a wallet, or a phone
    scan = "".join(rest)
    for start, end in _numbers(scan):
        raw = scan[start:end]
        digits = re.sub(r"\D", "", raw)
        before = fold(scan[max(0, start - 48) : start]).split()[-4:]
        after = fold(scan[end : end + 32]).split()[:2]
        joined = " " + " ".join(before[-3:]) + " "
        wallet = _alias_in(before, _WALLETS) or _alias_in(after, _WALLETS)
        bank = _alias_in(before, _BANKS) or _alias_in(after, _BANKS)
        account_word = any(f" {w} " in joined for w in _ACCOUNT_WORDS)
        phone_word = any(f" {w} " in joined for w in _PHONE_WORDS)
        n: Normal | None = None
        try:
            if phone_word and not account_word:
                n = None
            elif wallet is not None and not account_word:
                n = norm_ewallet(f"{wallet.aliases[0]} {digits}")  # type: ignore[attr-defined]
            elif bank is not None and (account_word or not digits.startswith("0") or len(digits) != 10):
                n = norm_bank_account(f"{bank.bin} {digits}")  # type: ignore[attr-defined]
            elif account_word and 6 <= len(digits) <= 19 and not raw.startswith("+"):
                add(Found("bank_account", f"? {_mask_digits(digits)}"))  # no bank named: nothing to look up
                continue
        except InvalidInput:
            n = None
        if n is None:
            try:
                n = norm_phone(raw)
            except InvalidInput:
                continue
        add(Found(n.type, n.display, n))
    # brands, in the order the message names them; a payee's bank is not who the message speaks for
    payee_banks = {fold(f.display.rsplit(" ", 1)[0]) for f in found if f.type in ("bank_account", "ewallet")}
    index = _brand_names(brands)
    named: list[tuple[int, Found]] = []
    for at, key in index.find(folded if folded is not None else fold(text)):
        name, official = index.names[key]
        f = Found("brand", name, value=name, official=official)
        if key in payee_banks:
            f.role = "payee_bank"
        named.append((at, f))
    for _, f in sorted(named, key=lambda t: (t[1].role is not None, t[0])):
        add(f)
    if sender and sender.strip():
        s = sender.strip()
        try:
            who = norm_phone(s) if re.fullmatch(r"\(?\+?[\d\s.\-()]+", s) else norm_sms_brand(s)
            add(Found(who.type, who.display, who, role="sender"))
        except InvalidInput:
            pass
    return found


LOOKED_UP = frozenset({"phone", "bank_account", "ewallet", "url", "domain", "social", "app", "sms_brand"})


class Indicators:
    """Extraction plus the verdict of each indicator (``quiet``: ``CheckService.quiet_answer``)."""

    def __init__(self, *, quiet: QuietCheck, brands: Callable[[], tuple[tuple[str, tuple[str, ...]], ...]],
                 match: Callable[[str], Hit | None]) -> None:
        self.quiet = quiet
        self.brands = brands
        self.match = match

    def read(self, text: str, *, sender: str | None = None, folded: str | None = None) -> list[Found]:
        found = extract(text, brands=self.brands(), sender=sender, folded=folded)
        for f in found:
            if f.normal is not None and f.type in LOOKED_UP:
                f.answer = self.quiet(f.normal)
        return found


def as_dict(f: Found) -> dict:
    """An indicator as an answer shows it: never the unmasked value of a personal indicator."""
    out: dict = {"type": f.type, "display": f.display}
    if f.role:
        out["role"] = f.role
    if f.type == "amount":
        out["value"] = f.value
    elif f.type == "brand":
        out["official"] = list(f.official)
    if f.normal is not None and f.normal.domain:
        out["domain"] = f.normal.domain
    if f.answer is not None:
        a = f.answer
        out.update(verdict=a["verdict"], score=a["score"], headline=a["headline"])
        if "headline_vi" in a:
            out["headline_vi"] = a["headline_vi"]
        out["reasons"] = [{k: r[k] for k in ("code", "text", "text_vi") if k in r} for r in a["reasons"]]
        if a.get("official"):
            out["official"] = {k: a["official"][k] for k in ("org", "name", "kind")}
        if a.get("lookalike"):
            out["lookalike"] = {k: a["lookalike"][k] for k in ("brand", "official", "technique", "score")}
    return out
