"""The official channels of the operators named in the seed articles (their public domains and
hotlines), and a few synthetic reports for the demo.

The operators: Vietnam Post, Viettel Post and Shopee (whose look-alike sites the National Cyber
Security Center reported), Viettel, and the National Cyber Security Center itself. Hotlines and
domains are the ones these operators publish on their own sites."""

from __future__ import annotations

from typing import TYPE_CHECKING

from postguard.errors import Conflict, NotFound

if TYPE_CHECKING:
    from postguard.intel.service import IntelService
    from postguard.orgs.service import OrgService

OPERATORS = (
    # code, name, hotline, [(kind, value, label)]
    ("VNPOST", "Tổng công ty Bưu điện Việt Nam (Vietnam Post)", "1900 54 54 81",
     [("domain", "vnpost.vn", "Trang web"), ("hotline", "1900 54 54 81", "Tổng đài CSKH")]),
    ("VIETTELPOST", "Tổng công ty Cổ phần Bưu chính Viettel (Viettel Post)", "1900 8095",
     [("domain", "viettelpost.com.vn", "Trang web"), ("domain", "viettelpost.vn", "Trang web"),
      ("hotline", "1900 8095", "Tổng đài CSKH")]),
    ("SHOPEE", "Shopee Việt Nam", "1900 1221",
     [("domain", "shopee.vn", "Trang web"), ("hotline", "1900 1221", "Tổng đài CSKH")]),
    ("VIETTEL", "Tập đoàn Công nghiệp - Viễn thông Quân đội (Viettel)", "1800 8098",
     [("domain", "viettel.vn", "Trang web"), ("domain", "viettel.com.vn", "Trang web"),
      ("hotline", "1800 8098", "Tổng đài CSKH")]),
    ("NCSC", "Trung tâm Giám sát an toàn không gian mạng quốc gia (NCSC)", None,
     [("domain", "ncsc.gov.vn", "Trang web"), ("domain", "khonggianmang.vn", "Cổng cảnh báo an toàn thông tin")]),
)


def seed_official(intel: IntelService, orgs: OrgService) -> dict:
    """Create the operators (if absent) and register and verify their channels (idempotent)."""
    admin = intel.cli_principal()
    added = 0
    for code, name, hotline, channels in OPERATORS:
        try:
            orgs.get(code)
        except NotFound:
            orgs.create(code=code, name=name, hotline=hotline)
        for kind, value, label in channels:
            try:
                ch = intel.official_add(admin, kind=kind, value=value, label=label, org_code=code)
            except Conflict:
                continue
            intel.official_set_status(admin, ch["id"], status="verified", note="seeded from public sources")
            added += 1
    return {"operators": len(OPERATORS), "channels_added": added}


def demo_scam_phone(seed: int = 2025) -> str:
    """The fake-courier number ``seed_reports`` reports (synthetic, E.164)."""
    from postguard.synthetic import Faker

    return Faker(seed).phone_e164()


def seed_reports(intel: IntelService, *, seed: int = 2025, org_principal=None) -> dict:
    """A few synthetic reports: a fake-courier number several citizens (and an operator, when
    ``org_principal`` is given) reported, a look-alike link, a collection account, and a held report
    that names an official hotline."""
    from postguard.synthetic import Faker

    f = Faker(seed)
    fake_courier = f.phone_e164()
    mule = f"MB 9999{seed:04d}{f.phone_e164()[-4:]}"
    link = "https://vnpost-phi-giao-lai.example.net/xac-nhan"
    made = 0
    for i in range(3):
        intel.report(indicators=[fake_courier, mule], category="fake_courier",
                     description="Gọi báo đơn hàng bị giữ, yêu cầu chuyển phí giao lại (dữ liệu giả lập).",
                     amount_lost_vnd=350_000 * (i + 1), contact=f"nguoi-bao-{i}@example.org",
                     client=f"demo-client-{i}")
        made += 1
    if org_principal is not None:
        intel.report(indicators=[fake_courier], category="fake_courier", principal=org_principal, client="demo")
        made += 1
    intel.report(indicators=[link], category="fake_courier", client="demo-client-9")
    intel.report(indicators=["1900 54 54 81"], category="fake_courier", client="demo-client-10")
    return {"reports": made + 2, "phone": fake_courier}
