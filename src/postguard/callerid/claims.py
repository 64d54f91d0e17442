"""Who a caller said they were, for the call check: a courier (a delivery company's courier or
staff) or a bank (a bank or an e-wallet). Pure functions, no I/O.

A claim comes from the citizen (``claims``), from the operator or brand the caller named
(``operator``: a participating operator's code or name, a courier's name, a bank's or wallet's name)
or from the transcript (``postguard.messages.transcript``, which reads delivery words with
``COURIER_WORDS`` and banks with ``BANK_NAMES``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from postguard.errors import FieldError, InvalidInput
from postguard.intel.banks import BANK_ALIASES, WALLET_ALIASES
from postguard.intel.normalize import fold

CLAIMS = ("courier", "bank")
MAX_OPERATOR = 64

# Delivery words and couriers' names, folded (``fold``): a caller who speaks of them speaks as a courier.
COURIER_WORDS = re.compile(
    r"\b(?:shipper|ship hang|buu ta|buu dien|buu chinh|giao(?! dich)|nhan hang|don hang|don cua|buu pham|buu gui|"
    r"buu kien|kien hang|van don|chuyen phat|van chuyen|courier|parcel|package|deliver\w*|logistics|express|"
    r"vnpost|viettel ?post|ghn|ghtk|j t|jt|ninja ?van|spx|ahamove|lalamove)\b")
# Every bank's and e-wallet's alias, folded (``postguard.intel.banks``).
BANK_NAMES = frozenset(" ".join(alias) for alias, _ in (*BANK_ALIASES, *WALLET_ALIASES))
_BANK_WORDS = re.compile(r"\b(?:ngan hang|bank|\w+bank|vi dien tu|e ?wallet)\b")


def parse_claims(value: object) -> str | None:
    """``courier``, ``bank`` or None (not said)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or value.strip().lower() not in CLAIMS:
        raise InvalidInput("Unknown claim.", [FieldError("claims", f"one of {', '.join(CLAIMS)}")])
    return value.strip().lower()


def parse_operator(value: object) -> str | None:
    """The operator, courier, bank or wallet the caller named, as given (at most ``MAX_OPERATOR``
    characters of text), or None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value) > MAX_OPERATOR or not value.isprintable():
        raise InvalidInput("The operator is not valid.",
                           [FieldError("operator", f"a name or code of at most {MAX_OPERATOR} characters")])
    return value.strip()


def claim_of(name: str, operators: Iterable[Mapping[str, str | None]] = ()) -> str | None:
    """What naming ``name`` claims: ``bank`` for a bank or wallet, ``courier`` for a participating
    operator (``operators``: its ``code`` and ``name``) or a courier's name; None for anything else."""
    folded = fold(name)
    if not folded:
        return None
    if folded in BANK_NAMES or _BANK_WORDS.search(folded):
        return "bank"
    for op in operators:
        if folded in (fold(op.get("code") or ""), fold(op.get("name") or "")):
            return "courier"
    return "courier" if COURIER_WORDS.search(folded) else None
