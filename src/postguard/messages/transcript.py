"""A call's transcript read for the call check (``postguard.callerid.check``): the message check's red
flags (``rules.text_flags`` on the text folded with teencode), what the caller asked for, who they
said they were, the accounts and wallets they asked to be paid into and the amount they named.

Pure: nothing is looked up, kept or logged (the call check decides what the payees are against the
operators' registered COD accounts). The wiring hands ``read_transcript`` to the call check as its
``Transcripts`` (caller-ID sits below this package and does not import it)."""

from __future__ import annotations

import re

from postguard.callerid.claims import BANK_NAMES, COURIER_WORDS
from postguard.callerid.ports import Payee, Said, TranscriptReading
from postguard.messages.indicators import extract
from postguard.messages.rules import asks_payment, text_flags
from postguard.messages.text import fold, fold_slang

# A rule that says what the caller asked for, in the call check's words (its flag says it already).
RULE_ASKS = {"pay_before_delivery": "transfer", "fee": "fee", "membership": "fee", "otp_request": "otp",
             "app_install": "app", "remote_app": "app"}
# Rules whose reason the call check's own flag for what was asked gives (the others are shown as said).
COVERED = frozenset({"pay_before_delivery", "fee", "otp_request", "app_install"})
# Who the caller says they are: a courier when they speak of a delivery or name a courier
# (``claims.COURIER_WORDS``); a bank (or an e-wallet) when they speak as a bank's staff or name a bank or
# wallet that is not the bank of the account they ask to be paid into.
BANK_SPEAKER = re.compile(
    r"\b(?:nhan vien|tong dai|ben|phia|tu|la|cua|thuoc|bo phan|phong)\s(?:\S+\s){0,2}?ngan hang\b"
    r"|\b(?:calling|call|calls|this is|i am|we are)\s(?:\S+\s){0,2}?(?:from\s)?(?:the\s|your\s)?\w*\s?bank\b"
    r"|\bbank\s(?:staff|officer|security|support)\b")
MAX_PAYEES = 3


def read_transcript(text: str, *, brands: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> TranscriptReading:
    """What ``text`` (NFC, bounded by the caller) says, for the call check; ``brands``: the protected
    brands (``BrandWatch.brands``), named besides the well-known couriers, banks and wallets."""
    folded = fold(text)
    slang = fold_slang(text)
    rules = [r for r in text_flags(slang, text) if r.weight > 0]
    codes = {r.code for r in rules}
    found = extract(text, brands=brands, folded=folded)
    asked = {RULE_ASKS[c] for c in codes if c in RULE_ASKS}
    if any(f.type in ("url", "domain", "social", "app") for f in found):
        asked.add("link")
    paying = asks_payment(codes, slang)
    payees = tuple(Payee(f.type, f.normal.value, f.display) for f in found
                   if f.type in ("bank_account", "ewallet") and f.normal is not None)[:MAX_PAYEES] if paying else ()
    claims = []
    if COURIER_WORDS.search(slang):
        claims.append("courier")
    if BANK_SPEAKER.search(slang) or any(f.type == "brand" and f.role is None and fold(f.display) in BANK_NAMES
                                         for f in found):
        claims.append("bank")
    # the amount asked for: the first one named in a call that asks for a payment
    amount = next((f.value for f in found if f.type == "amount" and f.role is None and isinstance(f.value, int)),
                  None) if paying else None
    return TranscriptReading(
        flags=tuple(Said(r.code, r.weight, r.vi, r.en) for r in rules if r.code not in COVERED),
        asked=tuple(a for a in ("transfer", "fee", "otp", "app", "link") if a in asked),
        claims=tuple(claims), payees=payees, amount_vnd=amount)
