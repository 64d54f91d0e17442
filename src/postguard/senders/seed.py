"""Demo brandnames, message templates and COD accounts for the operators of ``postguard.intel.seed``.

The wordings are EXAMPLES written for the demo, in the style of Vietnamese delivery notifications:
they are not the operators' real templates, and the COD accounts are synthetic (bank "9999…"
numbers that belong to nobody)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from postguard.errors import Conflict

if TYPE_CHECKING:
    from postguard.intel.service import IntelService
    from postguard.senders.service import Senders

EXAMPLE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "VNPOST": (
        "VNPost: Buu gui {waybill} dang duoc giao den ban, du kien truoc {time} ngay {date}. Tien thu ho {amount} "
        "tra cho buu ta khi nhan hang. Tra cuu: {link}. VNPost khong yeu cau chuyen khoan hay cung cap ma OTP.",
        "VNPost: Buu gui {waybill} da giao thanh cong luc {time}. Cam on ban da su dung dich vu.",
    ),
    "VIETTELPOST": (
        "ViettelPost: Don hang {waybill} se duoc giao hom nay truoc {time}. COD: {amount}. Khong cung cap ma OTP "
        "cho bat ky ai. Chi tiet: {link}",
        "ViettelPost: Don hang {waybill} giao khong thanh cong luc {time}, se giao lai ngay {date}. Ho tro: {hotline}",
    ),
    "SHOPEE": (
        "Shopee: Don hang {waybill} cua ban dang duoc giao. Vui long chuan bi {amount} tien mat. Theo doi tai {link}",
    ),
}
EXAMPLE_BRANDNAMES = {"VNPOST": ("VNPost",), "VIETTELPOST": ("ViettelPost",), "SHOPEE": ("Shopee",)}
EXAMPLE_COD = {"VNPOST": ("MB 9999000001",), "VIETTELPOST": ("MB 9999000002", "MoMo 0999000002")}
EXAMPLE_VALUES = {"waybill": "DM000000000", "time": "10:42", "date": "05/12/2025", "amount": "350.000đ",
                  "hotline": "1900 8095"}
EXAMPLE_LINKS = {"VNPOST": "https://vnpost.vn/tra-cuu", "VIETTELPOST": "https://viettelpost.com.vn/tra-cuu",
                 "SHOPEE": "https://shopee.vn/user/purchase"}


def seed_senders(senders: Senders, intel: IntelService) -> dict[str, int]:
    """Register and verify the demo brandnames, COD accounts and templates (idempotent; the operators
    must exist: ``postguard.intel.seed.seed_official``)."""
    admin = intel.cli_principal()
    channels = templates = 0
    for code, names in EXAMPLE_BRANDNAMES.items():
        for kind, values in (("sms_brand", names), ("cod_account", EXAMPLE_COD.get(code, ()))):
            for value in values:
                kind_ = "ewallet" if value.lower().startswith("momo") else kind
                try:
                    ch = intel.official_add(admin, kind=kind_, value=value, label="Ví dụ", org_code=code)
                except Conflict:
                    continue
                intel.official_set_status(admin, ch["id"], status="verified", note="demo example")
                channels += 1
    for code, wordings in EXAMPLE_TEMPLATES.items():
        for wording in wordings:
            try:
                t = senders.template_add(admin, text=wording, label="Ví dụ", org_code=code)
            except Conflict:
                continue
            senders.template_set_status(admin, t["id"], status="verified")
            templates += 1
    return {"channels_added": channels, "templates_added": templates}


def example_values(code: str) -> dict[str, str]:
    return {**EXAMPLE_VALUES, "link": EXAMPLE_LINKS[code]}
