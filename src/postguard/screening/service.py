"""Transfer screening for banks: a payee account, an amount and the payer's context → risk."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from postguard.errors import FieldError, InvalidInput
from postguard.screening.scoring import Screening, score_transfer

if TYPE_CHECKING:
    from postguard.intel.sharing import SharedIndicator
    from postguard.settings import Settings

    # The intelligence store's shared view of one normalised value, graded now (None: not flagged).
    IntelLookup = Callable[[str, str], SharedIndicator | None]

# NAPAS bank identification numbers of common Vietnamese banks, by short name.
BANK_BINS = {
    "VCB": "970436", "VIETCOMBANK": "970436", "CTG": "970415", "VIETINBANK": "970415", "BIDV": "970418",
    "AGRIBANK": "970405", "VBA": "970405", "TCB": "970407", "TECHCOMBANK": "970407", "MB": "970422",
    "MBBANK": "970422", "ACB": "970416", "VPB": "970432", "VPBANK": "970432", "STB": "970403",
    "SACOMBANK": "970403", "TPB": "970423", "TPBANK": "970423",
}
_ACCOUNT = re.compile(r"^[0-9A-Z]{4,30}$")


def normalise_bank_account(bank: str, account: str) -> str:
    """``BIN:account``: ``bank`` is a 6-digit BIN or a known short name; separators are dropped."""
    errors = []
    b = (bank or "").strip().upper()
    bin_ = b if re.fullmatch(r"[0-9]{6}", b) else BANK_BINS.get(b.replace(" ", ""))
    if bin_ is None:
        errors.append(FieldError("payee.bank", "a 6-digit BIN (e.g. 970436) or a known bank code"))
    acc = re.sub(r"[\s.-]", "", account or "").upper()
    if not _ACCOUNT.match(acc):
        errors.append(FieldError("payee.account", "4-30 letters or digits"))
    if errors:
        raise InvalidInput("The transfer could not be screened.", errors)
    return f"{bin_}:{acc}"


@lru_cache(maxsize=1)
def _geoip():
    from geoip2fast import (
        GeoIP2Fast,  # ships its own IPv4/IPv6 country database; no download
    )

    return GeoIP2Fast(verbose=False)


def country_of(ip: str) -> str | None:
    """ISO country code of a public IP address, or None (private, reserved or unknown)."""
    addr = ipaddress.ip_address(ip)
    if not addr.is_global:
        return None
    result = _geoip().lookup(str(addr))
    code = getattr(result, "country_code", "") or ""
    return code if re.fullmatch(r"[A-Z]{2}", code) else None


class ScreeningService:
    def __init__(self, *, settings: Settings, lookup: IntelLookup) -> None:
        self.settings = settings
        self.lookup = lookup

    def screen(self, *, bank: str, account: str, amount: int, ip: str, account_type: str,
               new_payee: bool) -> Screening:
        errors = []
        try:
            payee = normalise_bank_account(bank, account)
        except InvalidInput as e:
            errors += e.errors
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= 10**15:
            errors.append(FieldError("amount", "a whole number of VND, 1 or more"))
        if account_type not in ("business", "personal"):
            errors.append(FieldError("payer.account_type", "business or personal"))
        try:
            ip_country = country_of(ip)
        except ValueError:
            errors.append(FieldError("payer.ip", "an IPv4 or IPv6 address"))
        if errors:
            raise InvalidInput("The transfer could not be screened.", errors)
        found = self.lookup("bank_account", payee)  # the intelligence store's verdict, graded now
        s = self.settings
        return score_transfer(
            amount=amount, high_amount=s.screen_high_amount_vnd, account_type=account_type, new_payee=new_payee,
            ip_country=ip_country, home_country=s.screen_home_country,
            payee_verdict=found.verdict if found else None, payee_reports=found.reports if found else 0,
            payee_score=found.score if found else 0.0,
        )
