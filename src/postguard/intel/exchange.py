"""Between the intelligence store and the sharing formats (pure functions, no I/O).

The intelligence store keeps one normal form per indicator (``postguard.intel.normalize``); sharing
(STIX, MISP, TAXII) speaks :class:`~postguard.intel.sharing.SharedIndicator` values. This module maps
one to the other and decides what is shared at which TLP level:

* only indicators that reports flagged are shared: ``reported``, ``corroborated``, ``confirmed``,
  ``disputed``, and ``delisted`` (kept, marked, so that partners who copied it can retract it);
  ``unknown`` and ``official`` never are;
* TLP:AMBER for what identifies a person (phone numbers, bank accounts, e-wallets, and Zalo pages
  keyed by a phone number: the holder may be a mule or a victim), TLP:GREEN for public links,
  domains and social pages;
* SMS brand names and apps have no STIX observable here and are not shared;
* links are shared as ``https://`` + the normal form (the normal form ignores the scheme), social
  pages as their canonical page URL.

Imported partner indicators become reports by the partner organisation (see
``IntelService.import_shared``): a partner's word counts as one organisation's report, graded like
any other; their verdict, score and report counts are not copied.
"""

from __future__ import annotations

from datetime import datetime

from postguard.errors import InvalidInput
from postguard.intel.sharing import TYPES as SHARED_TYPES
from postguard.intel.sharing import SharedIndicator

# Verdicts that put an indicator in lookups (the private-lookup index, screening): reports flagged it.
FLAGGED = ("reported", "corroborated", "confirmed", "disputed")
# Verdicts that are shared: the flagged ones, and delisted ones marked as such (a retraction).
SHARED_VERDICTS = (*FLAGGED, "delisted")

__all__ = ["FLAGGED", "SHARED_VERDICTS", "category_of", "shared_value", "tlp_of", "to_shared"]

_SOCIAL_BASE = {"facebook": "https://www.facebook.com/", "zalo": "https://zalo.me/",
                "tiktok": "https://www.tiktok.com/@", "telegram": "https://t.me/"}
# Partners' category labels we know under another name.
_CATEGORY_ALIASES = {"courier-impersonation": "fake_courier", "fake-courier": "fake_courier",
                     "fake-fee": "fake_courier", "otp-theft": "account_takeover", "phishing": "account_takeover",
                     "bank-impersonation": "fake_bank", "police-impersonation": "fake_police"}


def tlp_of(type_: str, value: str) -> str:
    """The TLP level an indicator is shared at (see the module docstring)."""
    if type_ in ("phone", "bank_account", "ewallet"):
        return "amber"
    if type_ == "social" and value.startswith("zalo:+"):
        return "amber"
    return "green"


def shared_value(type_: str, value: str) -> str | None:
    """The value as sharing writes it, or None for types that are not shared."""
    if type_ not in SHARED_TYPES:
        return None
    if type_ == "url":
        return "https://" + value
    if type_ == "social":
        platform, _, page = value.partition(":")
        if platform == "facebook" and page.startswith("id:"):
            return f"https://www.facebook.com/profile.php?id={page[3:]}"
        base = _SOCIAL_BASE.get(platform)
        return base + page if base else None
    return value


def to_shared(*, type_: str, value: str, verdict: str, score: int, reports: int, categories,
              first_seen: datetime, last_seen: datetime) -> SharedIndicator | None:
    """One stored indicator as it is shared, or None when it is not shared (its verdict or type, or a
    normal form that the sharing format cannot carry)."""
    if verdict not in SHARED_VERDICTS:
        return None
    out = shared_value(type_, value)
    if out is None:
        return None
    try:
        return SharedIndicator(type=type_, value=out, verdict=verdict, score=max(0, min(100, score)) / 100,
                               first_seen=first_seen, last_seen=max(first_seen, last_seen), reports=reports,
                               categories=tuple(sorted(set(categories))), tlp=tlp_of(type_, value))
    except InvalidInput:
        return None


def category_of(labels) -> str:
    """Our report category for a partner's labels: the first one we know, else ``other``."""
    from postguard.intel.reports import CATEGORIES

    for label in labels:
        name = str(label).strip().lower()
        if name in CATEGORIES:
            return name
        if name.replace("-", "_") in CATEGORIES:
            return name.replace("-", "_")
        if name in _CATEGORY_ALIASES:
            return _CATEGORY_ALIASES[name]
    return "other"
