"""Transfer screening for banks: a payee account, an amount and the payer's context → risk."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, cast

from postguard.errors import FieldError, InvalidInput
from postguard.intel.normalize import norm_ewallet
from postguard.screening.scoring import Screening, score_transfer

if TYPE_CHECKING:
    from postguard.intel.sharing import SharedIndicator
    from postguard.settings import Settings

    # The intelligence store's shared view of one normalised value, graded now (None: not flagged).
    IntelLookup = Callable[[str, str], SharedIndicator | None]
    # The operator whose verified COD account or wallet a normalised payee is (None: nobody's).
    CodOwner = Callable[[str, str], str | None]

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


WALLETS = ("MoMo", "ZaloPay", "ViettelMoney", "VNPT Money", "ShopeePay")
COD_PURPOSES = ("cod", "fee", "refund")


def normalise_ewallet(wallet: str, account: str) -> str:
    """``wallet:+84…``: an e-wallet payee (MoMo, ZaloPay, Viettel Money, VNPT Money, ShopeePay) and
    the phone number or account it is registered to."""
    if not isinstance(wallet, str) or not isinstance(account, str) or len(wallet) > 32 or len(account) > 40:
        raise InvalidInput("The transfer could not be screened.", [FieldError("payee.wallet", ", ".join(WALLETS))])
    try:
        n = norm_ewallet(f"{wallet} {account}")
    except InvalidInput as e:
        field = "payee.wallet" if any(fe.code == "unknown_wallet" for fe in e.errors) else "payee.account"
        raise InvalidInput("The transfer could not be screened.",
                           [FieldError(field, ", ".join(WALLETS) if field == "payee.wallet"
                                       else "the phone number or account of the wallet")]) from None
    return n.value


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
    def __init__(self, *, settings: Settings, lookup: IntelLookup, cod_owner: CodOwner | None = None) -> None:
        self.settings = settings
        self.lookup = lookup
        self.cod_owner = cod_owner

    def screen(self, *, bank: str | None = None, account: str, amount: int, ip: str, account_type: str,
               new_payee: bool, wallet: str | None = None, purpose: str | None = None) -> Screening:
        """Score a transfer to a bank account (``bank``) or an e-wallet (``wallet``). A ``purpose`` of
        ``cod``, ``fee`` or ``refund`` to a payee that is no operator's registered COD account is a
        reason of its own (the COD rule, ``postguard.senders``)."""
        errors = []
        payee, kind = "", "bank_account"
        try:
            if (bank is None) == (wallet is None):
                raise InvalidInput("The transfer could not be screened.",
                                   [FieldError("payee", "either bank or wallet, with the account")])
            if wallet is not None:
                payee, kind = normalise_ewallet(wallet, account), "ewallet"
            else:
                payee = normalise_bank_account(cast(str, bank), account)
        except InvalidInput as e:
            errors += e.errors
        if purpose is not None and purpose not in (*COD_PURPOSES, "other"):
            errors.append(FieldError("purpose", "cod, fee, refund or other"))
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
        found = self.lookup(kind, payee)  # the intelligence store's verdict, graded now
        cod = purpose in COD_PURPOSES
        registered = cod and self.cod_owner is not None and self.cod_owner(kind, payee) is not None
        s = self.settings
        return score_transfer(
            amount=amount, high_amount=s.screen_high_amount_vnd, account_type=account_type, new_payee=new_payee,
            ip_country=ip_country, home_country=s.screen_home_country,
            payee_verdict=found.verdict if found else None, payee_reports=found.reports if found else 0,
            payee_score=found.score if found else 0.0, cod_purpose=cod, cod_registered=registered,
        )
