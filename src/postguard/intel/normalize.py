"""Indicators and their normal forms (pure functions, no I/O).

An indicator is something a scam uses to reach or take money from people: a phone number, a bank
account, an e-wallet, a link, a domain, a social page, an SMS brand name or an app. Every written form
of one indicator gives one normal form (``Normal.value``), which is what is stored and looked up:

* ``phone``: E.164 (``+84912345678``), including 1800/1900 service numbers (``+841900545481``) and
  VoIP and personal numbers, Vietnamese or foreign (``+84672012345``, ``+445612345678``).
* ``bank_account``: ``<NAPAS BIN>:<account digits>`` (``970436:0123456789``); the bank is named by its
  BIN, code or name, in any order around the account number.
* ``ewallet``: ``<wallet>:<E.164>`` (``momo:+84912345678``): Vietnamese wallets are keyed by phone.
* ``url``: ``<host>[:port]<path>[?query]`` with the host lower-case and IDNA-encoded (A-labels),
  default ports, userinfo, fragment and the scheme dropped, percent-escapes normalised, dot
  segments removed. ``http://`` and ``https://`` links to one place are one indicator. Links are
  read exactly as browsers read them (the WHATWG URL standard, by ``ada-url``): the host is the one
  a browser would visit, whatever a naive reading of the text shows. What makes a link deceptive
  (user info, a host that differs from the naive reading, backslashes, hidden characters, an
  encoded or numeric host, look-alike letters, a known domain put in front of another) is kept in
  ``Normal.warnings``; it is a property of the written form, not of the normal form.
* ``domain``: the host, lower-case A-labels without a trailing dot; ``Normal.domain`` is its
  registrable domain from the bundled public suffix list (never fetched).
* ``social``: ``<platform>:<page>`` for Facebook, Zalo, TikTok and Telegram pages in any URL form.
* ``sms_brand``: the sender name of a branded SMS, upper-case (``VNPOST``).
* ``app``: ``android:<package>`` or ``ios:<app id>`` (from store links, or given as such).

``detect`` takes any raw input and decides its type; garbage raises ``InvalidInput`` naming the
field and the reason, never echoing the value.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import ada_url
import idna

from postguard.errors import FieldError, InvalidInput
from postguard.intel.banks import BANK_ALIASES, BY_BIN, WALLET_ALIASES, AliasT, AliasTable
from postguard.phones import InvalidPhone, caller_number, normalize_phone, service_number, virtual_kind
from postguard.vault.masking import mask_phone

TYPES = ("phone", "bank_account", "ewallet", "url", "domain", "social", "sms_brand", "app")
# Indicators that identify a person (a subscriber, an account holder): stored only encrypted plus a
# keyed digest and a masked display (see docs/security.md, "Scam intelligence").
PERSONAL_TYPES = frozenset({"phone", "bank_account", "ewallet"})
MAX_INPUT = 2048


@dataclass(frozen=True)
class Normal:
    type: str
    value: str  # the normal form: the lookup key
    display: str  # what may be shown: masked for personal types
    domain: str | None = None  # registrable domain (url, domain)
    host: str | None = None  # the host (url)
    bank: str | None = None  # BIN (bank_account) or wallet code (ewallet) or platform (social)
    # What makes the written link deceptive: ``(code, value)`` pairs (see ``LINK_WARNINGS``), empty
    # for an honest link and for every other type. Not part of the normal form.
    warnings: tuple[tuple[str, str | None], ...] = ()

    @property
    def personal(self) -> bool:
        return self.type in PERSONAL_TYPES

    @classmethod
    def phone(cls, e164: str) -> Normal:
        """``Normal("phone", e164, mask_phone(e164))``, built without the frozen ``__init__``'s
        per-field ``object.__setattr__`` (the lookup's hot path builds one per request)."""
        n = object.__new__(cls)
        n.__dict__.update(type="phone", value=e164, display=mask_phone(e164), domain=None, host=None, bank=None,
                          warnings=())
        return n


def _bad(message: str, field: str = "value", code: str = "invalid") -> InvalidInput:
    return InvalidInput("The value could not be read as an indicator.", [FieldError(field, message, code=code)])


def fold(text: str) -> str:
    """Lower-case ASCII words without diacritics: ``Ngân hàng Á Châu`` → ``ngan hang a chau``."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


# -- phones ----------------------------------------------------------------------------------------


def norm_phone(raw: str) -> Normal:
    try:
        e164 = normalize_phone(raw)
    except InvalidPhone as e:
        service = _service_number(raw) or _virtual_number(raw)
        if service is None:
            raise _bad(str(e), code="invalid_phone") from None
        e164 = service
    return Normal.phone(e164)


def _virtual_number(raw: str) -> str | None:
    """VoIP, personal and (foreign) universal-access numbers (``postguard.phones.virtual_kind``): bound to
    no line or SIM, what scam calls come from."""
    try:
        e164 = caller_number(raw)
    except InvalidPhone:
        return None
    return e164 if virtual_kind(e164) is not None else None


def _service_number(raw: str) -> str | None:
    """1800 (free) and 1900 (shared-cost) hotlines: what operators publish, and what scammers spoof."""
    try:
        return service_number(raw)
    except InvalidPhone:
        return None


# -- bank accounts and wallets -----------------------------------------------------------------------
_FILLER = frozenset(["stk", "so", "tk", "tai", "khoan", "ngan", "hang", "nh", "bank", "account", "acc", "no",
                     "number", "cua", "chu", "vi", "wallet", "e", "ewallet"])


_ALIAS_INDEX: dict[int, tuple[dict[tuple[str, ...], tuple[int, Any]], list[int]]] = {}


def _take_alias(words: list[str], table: AliasTable[AliasT]) -> tuple[AliasT | None, list[str]]:
    """Find the first alias of ``table`` (longest first) that appears as whole words; return it and the
    rest. Looked up by word runs of each alias length rather than by scanning the table."""
    index = _ALIAS_INDEX.get(id(table))
    if index is None:
        first: dict[tuple[str, ...], tuple[int, Any]] = {}
        for k, (alias, entry) in enumerate(table):
            first.setdefault(alias, (k, entry))
        index = _ALIAS_INDEX[id(table)] = (first, sorted({len(a) for a in first}, reverse=True))
    first, lengths = index
    for n in lengths:
        best: tuple[int, int, Any] | None = None
        for i in range(len(words) - n + 1):
            hit = first.get(tuple(words[i : i + n]))
            if hit is not None and (best is None or hit[0] < best[0]):
                best = (hit[0], i, hit[1])
        if best is not None:
            i = best[1]
            return best[2], words[:i] + words[i + n :]
    return None, words


def _digits_rest(words: list[str]) -> str | None:
    rest = [w for w in words if w not in _FILLER]
    if not rest or not all(w.isdigit() for w in rest):
        return None
    return "".join(rest)


def _mask_account(digits: str) -> str:
    return "*" * 6 + digits[-4:]


def norm_bank_account(raw: str) -> Normal:
    words = fold(raw).split()
    bank, rest = _take_alias(words, BANK_ALIASES)
    if bank is None:
        # "970436:0123456789" or "970436 0123 456 789": a known BIN as its own word.
        bins = [w for w in words if w in BY_BIN]
        if bins:
            bank = BY_BIN[bins[0]]
            i = words.index(bins[0])
            rest = words[:i] + words[i + 1 :]
    if bank is None:
        raise _bad("name the bank (its name, code or 6-digit NAPAS BIN) with the account number",
                   code="unknown_bank")
    digits = _digits_rest(rest)
    if digits is None:
        raise _bad("a bank account number has only digits (spaces, dots and dashes are ignored)",
                   code="invalid_account")
    if not 6 <= len(digits) <= 19:
        raise _bad("a bank account number has 6 to 19 digits", code="invalid_account")
    return Normal("bank_account", f"{bank.bin}:{digits}", f"{bank.name} {_mask_account(digits)}", bank=bank.bin)


def norm_ewallet(raw: str) -> Normal:
    words = fold(raw).split()
    wallet, rest = _take_alias(words, WALLET_ALIASES)
    if wallet is None:
        raise _bad("name the wallet (MoMo, ZaloPay, Viettel Money, VNPT Money, ShopeePay, VNPAY)",
                   code="unknown_wallet")
    digits = _digits_rest(rest)
    if digits is None:
        raise _bad("an e-wallet account is the phone number it is registered to", code="invalid_wallet")
    try:
        e164 = normalize_phone(digits)  # "+84 912…" folds to "84 912…", which reads the same
    except InvalidPhone as e:
        raise _bad(f"e-wallet phone: {e}", code="invalid_wallet") from None
    return Normal("ewallet", f"{wallet.code}:{e164}", f"{wallet.name} {mask_phone(e164)}", bank=wallet.code)


# -- domains and URLs -------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _psl():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(accept_unknown=False)  # the bundled list; never fetched


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def norm_host(host: str) -> str:
    """Lower-case A-label host (IDNA 2008 with UTS 46 mapping), validated, without trailing dot."""
    host = host.strip().rstrip(".")
    if not host:
        raise _bad("the domain is empty", code="invalid_domain")
    if host.startswith("[") and host.endswith("]"):
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            raise _bad("not a valid IPv6 address", code="invalid_domain") from None
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    try:
        ascii_host = idna.encode(host, uts46=True, transitional=False).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        raise _bad("not a valid domain name (IDNA)", code="invalid_domain") from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise _bad("not a valid domain name", code="invalid_domain")
    if labels[-1].isdigit():
        raise _bad("not a valid domain name", code="invalid_domain")
    return ascii_host


def registrable(host: str) -> str | None:
    """The registrable domain (public suffix + one label), or None for IPs and bare suffixes."""
    if host.startswith("[") or host.replace(".", "").isdigit():
        return None
    return _psl().privatesuffix(host)


def norm_domain(raw: str) -> Normal:
    text = _defang(raw.strip())
    if "/" in text or " " in text or "@" in text:
        raise _bad("a domain has no spaces, slashes or @ (give a link as a URL)", code="invalid_domain")
    host = norm_host(text)
    reg = registrable(host)
    if reg is None:
        raise _bad("not a registrable domain (a public suffix such as com.vn, or an unknown top-level domain)",
                   code="invalid_domain")
    return Normal("domain", host, shown_host(host), domain=reg, host=host, warnings=host_warnings(host))


_DEFANG = ((re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)", re.IGNORECASE), "."),
           (re.compile(r"^hxxp", re.IGNORECASE), "http"), (re.compile(r"\[:\]"), ":"))


def _defang(text: str) -> str:
    for pattern, repl in _DEFANG:
        text = pattern.sub(repl, text)
    return text


_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):(//)?")
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/?:@!$&'()*+,;=-._~"
_HIDDEN = str.maketrans("", "", "\t\n\r")  # what the WHATWG parser removes from anywhere in a link
_CODE_SCHEMES = {"javascript", "data", "vbscript", "blob"}
_SPACE = re.compile(r"\s")

# Why a written link is deceptive: code -> (Vietnamese, English), ``{value}`` filled in from the warning.
LINK_WARNINGS: dict[str, tuple[str, str]] = {
    "host_mismatch": ("Địa chỉ thật của liên kết là {value}: trình duyệt sẽ mở {value}, không phải tên miền "
                      "mà bạn nhìn thấy khi đọc qua.",
                      "The real address is {value}: a browser opens {value}, not the domain a quick reading shows."),
    "userinfo": ("Liên kết có phần '…@' trước địa chỉ thật: trình duyệt bỏ qua mọi thứ trước dấu @ và mở {value}.",
                 "The link has a '…@' part before the real address: a browser ignores everything before the @ "
                 "and opens {value}."),
    "backslash": ("Liên kết có dấu gạch ngược '\\': trình duyệt coi nó như '/', nên phần phía sau không phải "
                  "tên miền; địa chỉ thật là {value}.",
                  "The link has a backslash '\\': a browser reads it as '/', so what follows is not the domain; "
                  "the real address is {value}."),
    "hidden_characters": ("Liên kết có ký tự ẩn (tab hoặc xuống dòng) mà trình duyệt lặng lẽ bỏ đi; địa chỉ thật "
                          "là {value}.",
                          "The link has hidden characters (tabs or line breaks) that a browser silently removes; "
                          "the real address is {value}."),
    "encoded_host": ("Tên miền được viết bằng mã %xx để khó đọc; giải mã ra là {value}.",
                     "The domain is written in %xx codes to be hard to read; decoded, it is {value}."),
    "ip_address": ("Liên kết dẫn tới một địa chỉ IP ({value}) chứ không phải tên miền; doanh nghiệp thật không "
                   "gửi liên kết như vậy.",
                   "The link goes to an IP address ({value}), not a domain name; genuine companies do not "
                   "send such links."),
    "lookalike_letters": ("Tên miền dùng chữ cái của bảng chữ khác trông giống chữ Latin: {value}.",
                          "The domain uses letters of another alphabet that look like Latin ones: {value}."),
    "embedded_domain": ("Liên kết bắt đầu bằng {value} nhưng không thuộc tên miền đó: tên miền thật đứng ở cuối "
                        "phần địa chỉ.",
                        "The link starts with {value} but does not belong to it: the real domain is the one at "
                        "the end of the address."),
}
# Letters of other scripts that look like Latin ones (after IDNA lower-casing): a label made only of
# these reads as a Latin word (``аррӏе``).
_LOOKALIKE = frozenset("авекмнорстухіјѕԁԛԝүһӏԛѵαονρτυικχεβζηօսցոհք")
_CONFUSABLE_SCRIPTS = frozenset({"CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC", "GEORGIAN", "LISU"})


def _requote(part: str, safe: str) -> str:
    """Decode then re-encode percent-escapes (upper-case hex, unreserved characters decoded)."""
    return quote(unquote(part, errors="surrogateescape"), safe=safe, errors="surrogateescape")


@dataclass(frozen=True)
class Link:
    """A link as a browser reads it (WHATWG URL standard): the host it would visit, and what makes
    the written form deceptive."""

    scheme: str
    hostname: str  # A-labels, lower case, no trailing dot; IPv4 dotted, IPv6 in brackets
    port: int | None
    path: str
    query: str
    ip: bool
    warnings: tuple[tuple[str, str | None], ...]


def _split_url(raw: str) -> Link:
    text = _defang(raw.strip())
    hidden = text != (text := text.translate(_HIDDEN))
    m = _SCHEME.match(text)
    if m and m.group(1).lower() not in ("http", "https"):
        if m.group(1).lower() in _CODE_SCHEMES:
            raise _bad(f"a {m.group(1).lower()}: link runs code or shows a page made inside the link itself; "
                       "never open one from a message (only http and https links are checked)", code="invalid_url")
        if m.group(2) or m.group(1).lower() in _LINK_SCHEMES:
            raise _bad("only http and https links are checked", code="invalid_url")
        m = None  # "host:port/path" without a scheme
    if not m:
        text = "http://" + text
    if _SPACE.search(text):
        raise _bad("a link has no spaces", code="invalid_url")
    try:
        url = ada_url.URL(text)
    except ValueError:
        raise _bad("not a valid link (host or port)", code="invalid_url") from None
    host = url.hostname
    if not host:
        raise _bad("a link needs a host", code="invalid_url")
    ip = url.host_type != ada_url.HostType.DEFAULT
    if not ip:
        host = host.rstrip(".")
        if not host:
            raise _bad("a link needs a host", code="invalid_url")
    try:
        port = int(url.port) if url.port else None
    except ValueError:  # pragma: no cover - ada validates ports
        raise _bad("not a valid link (host or port)", code="invalid_url") from None
    userinfo = "@" in text and bool(url.username or url.password)
    warnings = _link_warnings(text, host, ip, hidden, userinfo)
    return Link(url.protocol[:-1], host, port, url.pathname, url.search[1:], ip, warnings)


def _naive_host(text: str) -> tuple[str | None, str]:
    """The host a naive reading of the link shows (RFC 3986 as ``urllib`` reads it, backslashes and
    all), normalised like a browser's, and the authority as written."""
    try:
        parts = urlsplit(text)
        written = parts.hostname
    except ValueError:
        return None, ""
    if not written:
        return None, parts.netloc
    name = written.rstrip(".")
    if name.isascii():
        if ":" not in name:
            return name, parts.netloc  # urllib lower-cases it
        try:
            return f"[{ipaddress.IPv6Address(name).compressed}]", parts.netloc
        except ValueError:
            return name, parts.netloc
    try:
        return (ada_url.idna_to_ascii(name) or b"").decode("ascii").rstrip(".") or name, parts.netloc
    except (ValueError, UnicodeError):
        return name, parts.netloc


def _link_warnings(text: str, host: str, ip: bool, hidden: bool, userinfo: bool) -> tuple:
    """What makes the written ``text`` (its scheme added, hidden characters removed) deceptive,
    given the ``host`` a browser would visit."""
    naive, netloc = _naive_host(text)
    found: list[tuple[str, str | None]] = []
    if naive != host:
        found.append(("host_mismatch", host))
    if userinfo:
        found.append(("userinfo", host))
    if "\\" in netloc:
        found.append(("backslash", host))
    if hidden:
        found.append(("hidden_characters", host))
    if "%" in netloc.rpartition("@")[2]:
        found.append(("encoded_host", host))
    if ip:
        found.append(("ip_address", host))
        return tuple(found)
    return (*found, *host_warnings(host))


def host_warnings(host: str) -> tuple[tuple[str, str | None], ...]:
    """What makes a domain name (A-labels) deceptive: look-alike letters, a domain in front of another."""
    found: list[tuple[str, str | None]] = []
    if "xn--" in host:
        shown = unicode_host(host)
        if _lookalike(shown):
            found.append(("lookalike_letters", f"{shown} ({host})"))
    embedded = _embedded_domain(host)
    if embedded:
        found.append(("embedded_domain", embedded))
    return tuple(found)


def _scripts(label: str) -> set[str]:
    return {unicodedata.name(c, "?").split()[0] for c in label if c.isalpha()}


def _lookalike(shown: str) -> bool:
    """A label mixing Latin letters with those of a confusable script, or made only of letters of
    another script that look like Latin ones."""
    for label in shown.split("."):
        scripts = _scripts(label)
        others = scripts & _CONFUSABLE_SCRIPTS
        if others and (len(scripts) > 1 or all(c in _LOOKALIKE for c in label if c.isalpha())):
            return True
    return False


def _embedded_domain(host: str) -> str | None:
    """A registrable domain written in front of the real one (``vnpost.vn.evil.com``)."""
    reg = registrable(host)
    if reg is None or host == reg:
        return None
    sub = host[: -len(reg) - 1].split(".")
    for end in range(2, len(sub) + 1):  # one look-up per label: the registrable domain ending there
        found = _psl().privatesuffix(".".join(sub[:end]))
        if found:
            return found
    return None


def unicode_host(host: str) -> str:
    """The Unicode form of an A-label host (the A-labels kept where one does not decode)."""
    if "xn--" not in host:
        return host
    try:
        return ada_url.idna_to_unicode(host) or host
    except (ValueError, UnicodeError):  # pragma: no cover - ada decodes what it encoded
        return host


def shown_host(host: str) -> str:
    """A host for people: its Unicode form, followed by its A-labels when they differ (both forms,
    so that look-alike letters cannot hide)."""
    shown = unicode_host(host)
    return host if shown == host else f"{shown} ({host})"


def _url_host(link: Link) -> str:
    """The browser's host, validated: a domain name with a registrable domain, or an IP address."""
    host = link.hostname
    if link.ip:
        return host if host.startswith("[") else str(ipaddress.IPv4Address(host))
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise _bad("not a valid domain name", code="invalid_domain")
    return host


def norm_url(raw: str) -> Normal:
    return _norm_link(_split_url(raw))


def _norm_link(link: Link, host: str | None = None) -> Normal:
    host = host or _url_host(link)
    reg = None if link.ip else registrable(host)
    if not link.ip and reg is None:
        raise _bad("the link's host is not a registrable domain", code="invalid_url")
    port = link.port
    netloc = host if port is None or (link.scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    path = _requote(link.path, _PATH_SAFE) or "/"
    trailing = path.endswith("/") and path != "/"
    path = posixpath.normpath(path) if path != "/" else "/"
    path = "/" + path.lstrip("/") if path != "." else "/"
    if trailing and path != "/":
        path += "/"
    query = _requote(link.query, _QUERY_SAFE)
    value = netloc + path + (f"?{query}" if query else "")
    shown = unicode_host(host)
    shown = shown + value[len(host):] + ("" if shown == host else f" ({host})")
    return Normal("url", value, shown, domain=reg, host=host, warnings=link.warnings)


# -- social pages and apps --------------------------------------------------------------------------
_FACEBOOK = {"facebook.com", "fb.com", "fb.me", "m.facebook.com", "www.facebook.com", "mbasic.facebook.com",
             "web.facebook.com", "business.facebook.com", "touch.facebook.com", "m.me"}
_ZALO = {"zalo.me", "www.zalo.me", "chat.zalo.me"}
_TIKTOK = {"tiktok.com", "www.tiktok.com", "m.tiktok.com"}
_TELEGRAM = {"t.me", "telegram.me", "www.t.me", "telegram.dog"}
_FB_RESERVED = {"login", "login.php", "share", "sharer", "sharer.php", "watch", "dialog", "plugins", "help",
                "policies", "privacy", "settings", "home.php", "reel", "story.php", "photo.php", "photo",
                "events", "marketplace", "gaming", "hashtag", "search", "l.php", "tr", "v2.0"}
_HANDLE = re.compile(r"^[A-Za-z0-9._\-]{2,100}$")
_PLATFORM_NAMES = {"facebook": "facebook.com", "zalo": "zalo.me", "tiktok": "tiktok.com", "telegram": "t.me"}


def social_of(host: str, path: str, query: str) -> tuple[str, str] | None:
    """``(platform, page)`` for a page on a known social platform, or None (then it is a plain link)."""
    segs = [unquote(s) for s in path.split("/") if s]
    if host in _FACEBOOK:
        if not segs:
            return None
        if segs[0] == "profile.php":
            ids = parse_qs(query).get("id", [])
            return ("facebook", f"id:{ids[0]}") if ids and ids[0].isdigit() else None
        if segs[0] == "people" and len(segs) >= 3 and segs[2].isdigit():
            return "facebook", f"id:{segs[2]}"
        if segs[0] == "groups" and len(segs) >= 2 and _HANDLE.match(segs[1]):
            return "facebook", f"groups/{segs[1].lower()}"
        if segs[0] == "pages" and len(segs) >= 3 and segs[-1].isdigit():
            return "facebook", f"id:{segs[-1]}"
        if segs[0].lower() in _FB_RESERVED or not _HANDLE.match(segs[0]):
            return None
        page = segs[0].lower().replace(".", "")  # Facebook usernames ignore dots and case
        return ("facebook", f"id:{page}") if page.isdigit() else ("facebook", page)
    if host in _ZALO:
        if not segs:
            return None
        if segs[0] == "g" and len(segs) >= 2 and _HANDLE.match(segs[1]):
            return "zalo", f"g/{segs[1]}"  # group invite codes are case-sensitive
        try:
            return "zalo", normalize_phone(segs[0])
        except InvalidPhone:
            return ("zalo", segs[0].lower()) if _HANDLE.match(segs[0]) else None
    if host in _TIKTOK:
        if segs and segs[0].startswith("@") and _HANDLE.match(segs[0][1:]):
            return "tiktok", segs[0][1:].lower()
        return None
    if host in _TELEGRAM:
        if not segs:
            return None
        if segs[0] in ("joinchat",) and len(segs) >= 2 and _HANDLE.match(segs[1]):
            return "telegram", f"+{segs[1]}"  # invite codes are case-sensitive
        if segs[0].startswith("+") and _HANDLE.match(segs[0][1:]):
            return "telegram", segs[0]
        if segs[0] in ("s",) and len(segs) >= 2:
            segs = segs[1:]
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", segs[0]):
            return "telegram", segs[0].lower()
        return None
    return None


def norm_social(raw: str) -> Normal:
    text = raw.strip()
    m = re.fullmatch(r"(facebook|fb|zalo|tiktok|telegram|tg)\s*[:/]\s*@?(\S+)", text, re.IGNORECASE)
    if m:  # "telegram:@name", "fb:page"
        platform = {"fb": "facebook", "tg": "telegram"}.get(m.group(1).lower(), m.group(1).lower())
        prefix = "@" if platform == "tiktok" else ""
        page = m.group(2)
        if platform == "facebook" and page.startswith("id:"):
            page = f"profile.php?id={page[3:]}"
        text = f"https://{_PLATFORM_NAMES[platform]}/{prefix}{page}"
    link = _split_url(text)
    host = _url_host(link)
    found = social_of(host, link.path, link.query)
    if found is None:
        raise _bad("not a page on Facebook, Zalo, TikTok or Telegram", code="invalid_social")
    platform, page = found
    shown = f"{_PLATFORM_NAMES[platform]}/{'@' if platform == 'tiktok' else ''}{page}"
    if page.startswith("id:"):
        shown = f"facebook.com/profile.php?id={page[3:]}"
    if platform == "zalo" and page.startswith("+"):
        shown = f"zalo.me/{mask_phone(page)}"
    return Normal("social", f"{platform}:{page}", shown, host=host, bank=platform, warnings=link.warnings)


_PLAY = {"play.google.com"}
_APPLE = {"apps.apple.com", "itunes.apple.com"}
_PACKAGE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z][a-zA-Z0-9_]*)+$")


def app_of(host: str, path: str, query: str) -> str | None:
    if host in _PLAY and path.rstrip("/").endswith("/store/apps/details"):
        ids = parse_qs(query).get("id", [])
        return f"android:{ids[0].lower()}" if ids and _PACKAGE.match(ids[0]) else None
    if host in _APPLE:
        m = re.search(r"/id(\d{5,12})(?:/|$)", path)
        return f"ios:{m.group(1)}" if m else None
    return None


def norm_app(raw: str) -> Normal:
    text = raw.strip()
    m = re.fullmatch(r"(android|ios)\s*:\s*(\S+)", text, re.IGNORECASE)
    if m:
        kind, ident = m.group(1).lower(), m.group(2)
        if kind == "android" and _PACKAGE.match(ident):
            return Normal("app", f"android:{ident.lower()}", f"android:{ident.lower()}")
        if kind == "ios" and re.fullmatch(r"(id)?\d{5,12}", ident):
            return Normal("app", f"ios:{ident.removeprefix('id')}", f"ios:{ident.removeprefix('id')}")
        raise _bad("an app is android:<package> or ios:<numeric id>", code="invalid_app")
    if _PACKAGE.match(text) and "/" not in text:
        return Normal("app", f"android:{text.lower()}", f"android:{text.lower()}")
    link = _split_url(text)
    host = _url_host(link)
    found = app_of(host, link.path, link.query)
    if found is None:
        raise _bad("an app is a Google Play or App Store link, android:<package> or ios:<id>", code="invalid_app")
    return Normal("app", found, found, host=host, warnings=link.warnings)


# -- SMS brand names --------------------------------------------------------------------------------
_BRAND = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{1,10}$")


def norm_sms_brand(raw: str) -> Normal:
    text = raw.strip()
    if not _BRAND.match(text) or not any(c.isalpha() for c in text):
        raise _bad("an SMS brand name has 2 to 11 letters, digits, dots, dashes or underscores, with a letter",
                   code="invalid_sms_brand")
    return Normal("sms_brand", text.upper(), text.upper())


NORMALISERS = {
    "phone": norm_phone, "bank_account": norm_bank_account, "ewallet": norm_ewallet, "url": norm_url,
    "domain": norm_domain, "social": norm_social, "sms_brand": norm_sms_brand, "app": norm_app,
}


def normalize(raw: str, type: str) -> Normal:
    """The normal form of ``raw`` read as an indicator of ``type``."""
    if type not in NORMALISERS:
        raise InvalidInput("Unknown indicator type.", [FieldError("type", f"choose from: {', '.join(TYPES)}")])
    _precheck(raw)
    return NORMALISERS[type](raw)


def _precheck(raw) -> None:
    if not isinstance(raw, str):
        raise _bad("must be text")
    if not raw.strip():
        raise _bad("is empty", code="empty")
    if len(raw) > MAX_INPUT:
        raise _bad(f"is longer than {MAX_INPUT} characters", code="too_long")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") and c not in "\t\n\r" for c in raw):
        raise _bad("contains control characters", code="invalid")


_PHONEISH = re.compile(r"^\(?\+?[\d\s.\-()]+$")  # "(+84) 912 …" too
_DOMAINISH = re.compile(r"^[^\s/@:]+\.[^\s/@:]+$")


def _is_link(text: str) -> bool:
    m = _SCHEME.match(text)
    return bool(m and (m.group(2) or m.group(1).lower() in _LINK_SCHEMES))


_LINK_SCHEMES = {"http", "https", "javascript", "data", "vbscript", "blob", "file", "ftp", "mailto", "tel", "sms",
                 "intent"}


def _phone(text: str) -> Normal:
    try:
        return norm_phone(text)
    except InvalidInput as e:
        digits = re.sub(r"\D", "", text)
        if 6 <= len(digits) <= 19 and not text.startswith("+"):
            raise _bad(f"{e.errors[0].message}; for a bank account, add the bank's name "
                       "(e.g. 'Vietcombank 0123456789')", code="invalid_phone") from None
        raise


# Only ASCII digits, spaces, dots and dashes after an optional "+": no link, alias, defanging or
# control character can be in it, so the steps before "3. Phone numbers" reduce to the BIN check.
_PLAIN_NUMBER = re.compile(r"\+?[0-9][0-9 .\-]{5,30}")
_DIGIT_RUNS = re.compile(r"[0-9]+")


def detect(raw: str, type: str | None = None) -> Normal:
    """Read any raw input as an indicator, deciding its type unless ``type`` is given."""
    if type:
        return normalize(raw, type)
    if isinstance(raw, str) and _PLAIN_NUMBER.fullmatch(raw):  # the common lookup, decided cheaply
        runs = _DIGIT_RUNS.findall(raw)
        if len(runs) < 2 or BY_BIN.keys().isdisjoint(runs):
            return _phone(raw.strip())
    _precheck(raw)
    text = _defang(raw.strip())
    folded = fold(text)
    words = folded.split()

    # 1. Links: a scheme, "www.", or a host followed by a path. Social pages and store links first.
    # (Read as a browser would: without the tabs and line breaks it removes, and "\\" as "/".)
    probe = text.translate(_HIDDEN)
    if (_is_link(probe) or probe.lower().startswith("www.") or re.match(r"^[^\s/\\]+\.[^\s/\\]+[/\\]", probe)):
        link = _split_url(text)
        host = _url_host(link)
        if social_of(host, link.path, link.query):
            return norm_social(text)
        if app_of(host, link.path, link.query):
            return norm_app(text)
        return _norm_link(link, host)
    if re.fullmatch(r"(facebook|fb|zalo|tiktok|telegram|tg)\s*:\s*@?\S+", text, re.IGNORECASE):
        return norm_social(text)
    if re.fullmatch(r"(android|ios)\s*:\s*\S+", text, re.IGNORECASE):
        return norm_app(text)
    # 2. A wallet or a bank named next to digits.
    # (Every alias has a letter: digits alone skip the alias search, the hot path of phone lookups.)
    if any(c.isdigit() for c in folded):
        named = any(c.isalpha() for c in folded)
        wallet = _take_alias(words, WALLET_ALIASES)[0] if named else None
        if wallet is not None:
            return norm_ewallet(text)
        bank = _take_alias(words, BANK_ALIASES)[0] if named else None
        if bank is not None or (len(words) >= 2 and any(w in BY_BIN for w in words)):
            return norm_bank_account(text)
    # 3. Phone numbers.
    if _PHONEISH.match(text):
        return _phone(text)
    # 4. Domains.
    if _DOMAINISH.match(text):
        return norm_domain(text)
    # 5. One word: an SMS sender name.
    if _BRAND.match(text) and any(c.isalpha() for c in text):
        return norm_sms_brand(text)
    if text.startswith("@"):
        raise _bad("a handle alone is ambiguous: give the page's link (t.me/…, tiktok.com/@…, facebook.com/…)",
                   code="ambiguous")
    raise _bad("not a phone number, bank account, e-wallet, link, domain, social page, SMS brand name or app",
               code="unrecognised")
