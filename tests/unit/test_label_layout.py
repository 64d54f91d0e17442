"""The label's layout, checked geometrically for extreme shipments: nothing is drawn inside the QR
code's quiet zone, no two things overlap, everything stays inside the margins, and bar and QR modules
are whole dots of a 203 dpi printer."""

import io
import itertools

import pytest
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from postguard import places
from postguard.shipments.labels import DOT, PAGE, QR_QUIET, call_check_address, draw_label
from postguard.shipments.validation import MAX_COD_VND, MAX_WEIGHT_G

WARDS = places.all_wards()
LONG_WARDS = sorted(WARDS, key=lambda wp: -len(wp[0].name))[:3]
LONG_PROVINCES = sorted({p for _, p in WARDS}, key=lambda p: -len(places.province(p).name))[:2]


def view(waybill, ward, province_code, *, name="N.T.T. Hằng", cod=250_000, weight=1_200):
    prov = places.province(province_code)
    return {"waybill": waybill, "sender": {"name": "T.N.H.P.K.L.N.B. Nguyệt-Ánh", "phone": "*******123"},
            "recipient": {"name": name, "phone": "*******456", "address": f"{ward.name}, {prov.name}",
                          "province_code": prov.code, "ward_code": ward.code},
            "cod_amount_vnd": cod, "weight_grams": weight}


CASES = [
    *(view("DM000000000", w, p) for w, p in LONG_WARDS),
    *(view("EB123456789VN", next(w for w, q in WARDS if q == p), p, name="T.N.H.P.K.L.N.B.Q. Nguyệt-Ánh-Hoàng")
      for p in LONG_PROVINCES),
    view("VNPOST-HCM-2026-TPHCMQ1XYZAB", *LONG_WARDS[0], cod=MAX_COD_VND, weight=MAX_WEIGHT_G),
    view("A1-b_" * 8, *LONG_WARDS[1], cod=MAX_COD_VND, weight=MAX_WEIGHT_G),
]
URLS = ["http://127.0.0.1:8000/q/" + "x" * 22, "https://nhan-hang.tong-cong-ty-buu-dien-thu.vn/q/" + "Z" * 22]


def overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("case", CASES, ids=lambda v: v["waybill"])
def test_nothing_overlaps_the_qr_quiet_zone_or_anything_else(case, url):
    c = canvas.Canvas(io.BytesIO(), pagesize=PAGE)
    site = url.split("/q/")[0]
    lay = draw_label(c, case, org_name="Tổng công ty Bưu điện Thử nghiệm — Chi nhánh Thành phố Hồ Chí Minh",
                     qr_url=url, call_check=call_check_address(site), hotline="1900 54 54 81")
    assert lay.overlapping_qr() == []
    names = [n for n, _ in lay.boxes]
    assert {"qr", "barcode", "route", "cod", "weight", "ward", "province", "org", "tag", "call-check-tag",
            "call-check", "hotline"} <= set(names)
    clash = [(a, b) for (a, ba), (b, bb) in itertools.combinations(lay.boxes, 2) if overlaps(ba, bb)]
    assert clash == []
    w, h = PAGE
    for name, (x0, y0, x1, y1) in lay.boxes:
        assert 4 * mm - 0.01 <= x0 < x1 <= w - 4 * mm + 0.01 and 4 * mm <= y0 < y1 <= h - 4 * mm, name
    # the zone is the symbol with QR_QUIET modules on every side; modules are whole printer dots
    (sx0, sy0, sx1, sy1), (zx0, zy0, zx1, zy1) = dict(lay.boxes)["qr"], lay.qr_zone
    q = QR_QUIET * lay.qr_module
    assert [sx0 - zx0, sy0 - zy0, zx1 - sx1, zy1 - sy1] == pytest.approx([q] * 4)
    assert lay.qr_module / DOT == pytest.approx(round(lay.qr_module / DOT)) and lay.qr_module >= 4 * DOT
    # the rule above the routing section stops above the zone (it used to cross the finder patterns)
    assert dict(lay.boxes)["rule-routing"][1] > zy1
