"""Vietnamese banks by NAPAS BIN (the six digits VietQR uses) and the e-wallets people name.

Public data, bundled in code: each bank has its BIN, a display name, and the aliases people write
(short names, codes, and the distinctive part of the Vietnamese name, folded to ASCII without
diacritics). Aliases are matched as whole words, so ``mb`` matches "MB 0123…" but not "mbx".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar


@dataclass(frozen=True)
class Bank:
    bin: str
    name: str
    aliases: tuple[str, ...]


BANKS: tuple[Bank, ...] = (
    Bank("970436", "Vietcombank", ("vietcombank", "vcb", "ngoai thuong")),
    Bank("970415", "VietinBank", ("vietinbank", "viettinbank", "ctg", "icb", "cong thuong")),
    Bank("970418", "BIDV", ("bidv", "dau tu va phat trien")),
    Bank("970405", "Agribank", ("agribank", "vba", "vbard", "nong nghiep va phat trien nong thon")),
    Bank("970407", "Techcombank", ("techcombank", "tcb", "ky thuong")),
    Bank("970422", "MB", ("mbbank", "mb bank", "mb", "quan doi")),
    Bank("970416", "ACB", ("acb", "a chau")),
    Bank("970432", "VPBank", ("vpbank", "vp bank", "viet nam thinh vuong")),
    Bank("970423", "TPBank", ("tpbank", "tp bank", "tien phong")),
    Bank("970403", "Sacombank", ("sacombank", "stb", "sai gon thuong tin")),
    Bank("970437", "HDBank", ("hdbank", "hd bank", "phat trien thanh pho ho chi minh")),
    Bank("970441", "VIB", ("vib", "quoc te viet nam")),
    Bank("970443", "SHB", ("shb", "sai gon ha noi")),
    Bank("970431", "Eximbank", ("eximbank", "eib", "xuat nhap khau")),
    Bank("970426", "MSB", ("msb", "maritime bank", "maritimebank", "hang hai")),
    Bank("970440", "SeABank", ("seabank", "dong nam a")),
    Bank("970448", "OCB", ("ocb", "phuong dong")),
    Bank("970449", "LPBank", ("lpbank", "lpb", "lienvietpostbank", "buu dien lien viet", "loc phat")),
    Bank("970428", "Nam A Bank", ("nam a bank", "namabank", "nab", "nam a")),
    Bank("970409", "Bac A Bank", ("bac a bank", "bacabank", "bab", "bac a")),
    Bank("970429", "SCB", ("scb", "sai gon")),
    Bank("970425", "ABBANK", ("abbank", "abb", "an binh")),
    Bank("970433", "Vietbank", ("vietbank", "viet nam thuong tin")),
    Bank("970412", "PVcomBank", ("pvcombank", "pvcb", "dai chung")),
    Bank("970452", "Kienlongbank", ("kienlongbank", "klb", "kien long")),
    Bank("970438", "BAOVIET Bank", ("baoviet bank", "baovietbank", "bvb", "bao viet")),
    Bank("970454", "BVBank", ("bvbank", "viet capital bank", "vietcapital", "ban viet")),
    Bank("970400", "Saigonbank", ("saigonbank", "sgb", "sai gon cong thuong")),
    Bank("970419", "NCB", ("ncb", "quoc dan")),
    Bank("970430", "PGBank", ("pgbank", "pg bank")),
    Bank("970408", "GPBank", ("gpbank", "dau khi toan cau")),
    Bank("970414", "OceanBank", ("oceanbank", "dai duong")),
    Bank("970427", "VietABank", ("vietabank", "viet a")),
    Bank("970406", "DongA Bank", ("dong a bank", "dongabank", "dab", "dong a")),
)
BY_BIN: dict[str, Bank] = {b.bin: b for b in BANKS}


@dataclass(frozen=True)
class Wallet:
    code: str
    name: str
    aliases: tuple[str, ...]


WALLETS: tuple[Wallet, ...] = (
    Wallet("momo", "MoMo", ("momo", "vi momo", "mo mo")),
    Wallet("zalopay", "ZaloPay", ("zalopay", "zalo pay")),
    Wallet("viettelmoney", "Viettel Money", ("viettelmoney", "viettel money", "viettelpay", "viettel pay")),
    Wallet("vnptmoney", "VNPT Money", ("vnptmoney", "vnpt money", "vnptpay", "vnpt pay")),
    Wallet("shopeepay", "ShopeePay", ("shopeepay", "shopee pay", "airpay")),
    Wallet("vnpay", "VNPAY", ("vnpay", "vi vnpay")),
)
BY_WALLET: dict[str, Wallet] = {w.code: w for w in WALLETS}


class _Named(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def aliases(self) -> tuple[str, ...]: ...


AliasT = TypeVar("AliasT", bound=_Named)
AliasTable = list[tuple[tuple[str, ...], AliasT]]


def _alias_table(entries: Iterable[AliasT]) -> AliasTable[AliasT]:
    """Aliases as word tuples, longest first (so "mb bank" wins over "mb")."""
    table = [(tuple(a.split()), e) for e in entries
             for a in dict.fromkeys((*e.aliases, re.sub(r"[^a-z0-9]+", " ", e.name.lower())))]
    table.sort(key=lambda t: -len(t[0]))
    return table


BANK_ALIASES = _alias_table(BANKS)
WALLET_ALIASES = _alias_table(WALLETS)
