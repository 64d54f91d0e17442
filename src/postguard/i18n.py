"""Texts for people, Vietnamese first with English: gettext message catalogs managed with Babel.

Every text a page, an error page or a message to a person shows is a message of the ``postguard``
domain, identified by a stable key (``error_404_title``, ``verdict_word_reported``), translated in
``locale/<lang>/LC_MESSAGES/postguard.po`` and read at run time from the compiled ``.mo`` next to
it, once per language. Placeholders are ``{name}``, filled in with ``str.format``.

Code marks a key with ``_("key")`` (a language's ``Texts``) and a key chosen at run time
(``"verdict_word_" + verdict``) where it is chosen, with ``N_("verdict_word_reported")``, so that
extraction (``tools/catalogs.py``, docs/translations.md) finds every key the code can ask for.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import Translations

DOMAIN = "postguard"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("vi", "en")  # the first is the default
DEFAULT = LANGUAGES[0]
SMS_LANGUAGE = "vi"  # text messages to people (one-time codes, request notices) go out in Vietnamese


def N_(key: str) -> str:
    """Marks a key chosen at run time, for extraction; returns it unchanged."""
    return key


def other(lang: str) -> str:
    """The other language of a page (its language switch, the second version of an error page)."""
    return LANGUAGES[1] if lang == LANGUAGES[0] else LANGUAGES[0]


def lang_of(query_lang: str | None, cookie_lang: str | None) -> str:
    """A request's language: ``?lang=``, else the ``lang`` cookie, else Vietnamese."""
    for cand in (query_lang, cookie_lang):
        if cand in LANGUAGES:
            return cand
    return DEFAULT


class Texts:
    """One language's texts: ``texts("key")`` is its text (the key itself when the catalog has
    none, which the catalog checks forbid for any key the code names)."""

    def __init__(self, lang: str, translations: Translations):
        self.lang = lang
        self.gettext = translations.gettext

    def __call__(self, key: str) -> str:
        return self.gettext(key)

    def get(self, key: str, default: str) -> str:
        """The text of ``key``, or ``default`` when the catalog has none (a key made of a value that
        may be new, such as a reason's code; no key is its own text)."""
        text = self.gettext(key)
        return default if text == key else text

    def __contains__(self, key: str) -> bool:
        return self.gettext(key) != key


@cache
def texts(lang: str) -> Texts:
    """The texts of ``lang`` (one of ``LANGUAGES``), read once from its compiled catalog."""
    if lang not in LANGUAGES:
        raise ValueError(f"no catalog for language {lang!r}")
    found = Translations.load(str(LOCALE_DIR), [lang], DOMAIN)
    if not isinstance(found, Translations):  # Babel answers a NullTranslations for a missing file
        raise FileNotFoundError(f"{LOCALE_DIR}/{lang}/LC_MESSAGES/{DOMAIN}.mo is missing")
    return Texts(lang, found)
