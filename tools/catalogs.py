"""The message catalogs (src/postguard/locale/<lang>/LC_MESSAGES/postguard.po and .mo) and the code agree.

    python tools/catalogs.py --check   exit 1, listing every disagreement, unless: every key the code
                                       and the templates name is in both catalogs with a non-empty
                                       text, no catalog has a key nothing names, each key has the same
                                       placeholders in every language, and each shipped .mo is its
                                       .po compiled
    python tools/catalogs.py --write   extract the keys (Babel's extraction API: python files and
                                       Jinja templates), update both .po keeping their texts (a new key
                                       gets an empty text to fill in; a key nothing names any more is
                                       dropped), compile each .mo

How to add or change a text: docs/translations.md.
"""

from __future__ import annotations

import argparse
import io
import re
import string
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "postguard"
LOCALE = PACKAGE / "locale"
DOMAIN = "postguard"
LANGUAGES = ("vi", "en")
# What extraction reads: the package's Python (``_("key")``, ``N_("key")``) and the pages' templates
# (``_("key")``, ``alt_("key")``, ``N_("key")`` through jinja2.ext.i18n, newstyle).
METHOD_MAP = [("locale/**", "ignore"), ("web/static/**", "ignore"), ("**.py", "python"),
              ("web/templates/**.html", "jinja2")]
OPTIONS_MAP = {"web/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true",
                                         "silent": "false"}}
KEYWORDS: dict[str, None] = {"_": None, "gettext": None, "N_": None, "alt_": None}
PO_WIDTH = 120
# A text is a str.format template with named placeholders only. '%' is refused: Jinja's newstyle gettext
# reads a page's text as a %-format.
FORBIDDEN = re.compile(r"%")


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


def extract() -> dict[str, list[str]]:
    """Every key the code and the templates name, with where (``web/errors.py``, sorted)."""
    keys: dict[str, set[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            PACKAGE, METHOD_MAP, OPTIONS_MAP, keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True):
        if isinstance(message, str) and message:  # a key made at run time is not a literal: N_ declares it
            keys.setdefault(message, set()).add(filename)
    return {k: sorted(v) for k, v in sorted(keys.items())}


def read(lang: str) -> Catalog:
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def written(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=PO_WIDTH, sort_output=True, include_lineno=False, omit_header=False)
    return out.getvalue()


def placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def entries(catalog: Catalog) -> dict[str, str]:
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str) and isinstance(m.string, str)}


def problems(extracted: dict[str, list[str]], catalogs: dict[str, Catalog],
             shipped: dict[str, bytes | None]) -> list[str]:
    """Every disagreement between the keys named, the catalogs and the compiled files, one line each."""
    out = []
    texts = {lang: entries(cat) for lang, cat in catalogs.items()}
    for lang, found in texts.items():
        for key in sorted(extracted.keys() - found.keys()):
            out.append(f"{lang}: missing {key!r} (named in {', '.join(extracted[key])})")
        for key in sorted(found.keys() - extracted.keys()):
            out.append(f"{lang}: unused {key!r} (no code or template names it)")
        for key, text in sorted(found.items()):
            if key in extracted and not text.strip():
                out.append(f"{lang}: {key!r} has no text")
            if FORBIDDEN.search(text):
                out.append(f"{lang}: {key!r} has a '%' (write 'phần trăm' / 'per cent', or fill it in)")
            try:
                placeholders(text)
            except ValueError as e:
                out.append(f"{lang}: {key!r} is not a format string ({e})")
    first, *rest = LANGUAGES
    for lang in rest:
        for key in sorted(texts[first].keys() & texts[lang].keys()):
            try:
                a, b = placeholders(texts[first][key]), placeholders(texts[lang][key])
            except ValueError:
                continue
            if a != b:
                out.append(f"{key!r}: placeholders differ, {first} {sorted(a)} and {lang} {sorted(b)}")
    for lang, cat in catalogs.items():
        mo = shipped.get(lang)
        if mo is None:
            out.append(f"{lang}: {mo_path(lang).relative_to(ROOT)} is missing")
        elif mo != compiled(cat):
            out.append(f"{lang}: {mo_path(lang).relative_to(ROOT)} is not {po_path(lang).name} compiled")
    return out


def check() -> list[str]:
    catalogs = {lang: read(lang) for lang in LANGUAGES}
    shipped = {lang: mo_path(lang).read_bytes() if mo_path(lang).exists() else None for lang in LANGUAGES}
    return problems(extract(), catalogs, shipped)


def update(catalog: Catalog, extracted: dict[str, list[str]]) -> Catalog:
    """``catalog`` with exactly the keys of ``extracted``: texts kept, new keys empty, others dropped."""
    template = Catalog(domain=DOMAIN, locale=None)
    for key, files in extracted.items():
        template.add(key, locations=[(f, None) for f in files])
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False, update_creation_date=False)
    catalog.obsolete.clear()
    return catalog


def write() -> list[Path]:
    extracted = extract()
    changed = []
    for lang in LANGUAGES:
        cat = update(read(lang), extracted)
        for path, data in ((po_path(lang), written(cat)), (mo_path(lang), compiled(cat))):
            if not path.exists() or path.read_bytes() != data:
                path.write_bytes(data)
                changed.append(path)
    return changed


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 listing what disagrees")
    mode.add_argument("--write", action="store_true", help="extract, update the .po files, compile the .mo files")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.write:
        for path in write():
            print(f"wrote {path.relative_to(ROOT)}")
    found = check()
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(f"{len(found)} problem(s) with the message catalogs; after fixing the code or the texts, run "
              "`python tools/catalogs.py --write` (docs/translations.md)", file=sys.stderr)
        return 1
    print(f"catalogs agree: {len(extract())} keys in {', '.join(LANGUAGES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
