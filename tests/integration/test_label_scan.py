"""Printed labels scan: each PDF page rendered as a thermal label printer (203 dpi) and a 300 dpi
printer would print it, then decoded with zxing-cpp. The Code 128 gives the waybill, the QR code gives
exactly the label's URL, and the QR code's quiet zone (4 modules) is white, for ordinary and extreme
shipments (the longest ward and province names, long names and waybills, the largest amounts) on
both databases."""

import io
import shutil
import subprocess

import numpy as np
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from postguard import places
from postguard.platform import Platform
from postguard.shipments.models import LabelToken, Shipment
from tests.conftest import csv_bytes

BASE = "https://nhan.buudien-mau.vn"
ORG_NAME = "Tổng công ty Bưu điện Thử nghiệm — Chi nhánh Thành phố Hồ Chí Minh, Bưu cục Khai thác Trung tâm"
LONG_WAYBILL = "VNPOST-HCM-2026-TPHCMQ1XYZAB"  # 28: the longest with two-dot bars
LONGEST_WAYBILL = "A1-b_" * 8  # 40 letters, digits, '-' and '_': the longest allowed

QR_QUIET = 4  # modules (ISO/IEC 18004)
needs_pdftoppm = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed")


def _extreme_rows(faker):
    wards = places.all_wards()
    longest_ward, its_province = max(wards, key=lambda wp: len(wp[0].name))
    longest_province = max({p for _, p in wards}, key=lambda p: len(places.province(p).name))
    ward_there = max((w for w, p in wards if p == longest_province), key=lambda w: len(w.name))
    rows = list(faker.rows(2))
    for i, (ward, province) in enumerate([(longest_ward, its_province), (ward_there, longest_province)]):
        r = faker.shipment_row(LONG_WAYBILL if i == 0 else f"PG{i:026d}")
        r.update(recipient_ward=ward.name, recipient_province=places.province(province).name,
                 recipient_name="Tôn Nữ Hoàng Phương Khánh Linh Ngọc Bảo Nguyệt-Ánh",
                 sender_name="Công ty Trách nhiệm Hữu hạn Thương mại Dịch vụ Xuất nhập khẩu Thử",
                 cod_amount_vnd="1000000000000", weight_grams="10000000")
        rows.append(r)
    return rows


@pytest.fixture
def printed(make_settings, faker):
    p = Platform(make_settings(public_base_url=BASE + "/"))
    p.orgs.create(code="VNP", name=ORG_NAME)
    system = p.orgs.principal("VNP", actor="test")
    rows = _extreme_rows(faker) + [faker.shipment_row(LONGEST_WAYBILL)]
    p.shipments.import_csv(system, io.BytesIO(csv_bytes(rows)))
    waybills = [r["waybill"] for r in rows]
    pdf = p.labels.render(system, waybills)
    with p.db.read_session() as s:
        tokens = dict(s.execute(select(Shipment.waybill, LabelToken.token)
                                .join(LabelToken, LabelToken.shipment_id == Shipment.id)).all())
    yield pdf, [(w, f"{BASE}/q/{tokens[w]}") for w in waybills]
    p.close()


def rasterize(pdf: bytes, dpi: int, tmp_path) -> list[np.ndarray]:
    (tmp_path / "labels.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(tmp_path / "labels.pdf"), str(tmp_path / f"p{dpi}")],
                   check=True, timeout=120)
    pages = sorted(tmp_path.glob(f"p{dpi}-*.png"), key=lambda f: int(f.stem.rsplit("-", 1)[1]))
    return [np.asarray(Image.open(f).convert("L")) for f in pages]


def quiet_zone_is_white(img: np.ndarray, qr) -> None:
    """The ring of QR_QUIET modules around the decoded symbol holds no ink (one pixel next to the
    symbol's edge is left out: at 300 dpi a module edge falls inside a pixel)."""
    pos = qr.position
    xs = [pos.top_left.x, pos.top_right.x, pos.bottom_right.x, pos.bottom_left.x]
    ys = [pos.top_left.y, pos.top_right.y, pos.bottom_right.y, pos.bottom_left.y]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    modules = 17 + 4 * int(qr.extra["Version"])
    module = (x1 - x0 + 1) / modules
    q = int(QR_QUIET * module) - 1
    assert y0 - q >= 0 and x0 - q >= 0 and y1 + q < img.shape[0] and x1 + q < img.shape[1], "quiet zone off the page"
    ring = np.ones(img.shape, dtype=bool)
    ring[: y0 - q, :] = ring[y1 + q + 1:, :] = False
    ring[:, : x0 - q] = ring[:, x1 + q + 1:] = False
    ring[y0 - 2: y1 + 3, x0 - 2: x1 + 3] = False
    dark = int((img[ring] < 200).sum())
    assert dark == 0, f"{dark} dark pixels in the QR code's quiet zone"


@needs_pdftoppm
@pytest.mark.parametrize("dpi", [203, 300])
def test_every_label_scans_and_its_qr_gives_back_the_label_url(printed, dpi, tmp_path):
    pdf, expected = printed
    pages = rasterize(pdf, dpi, tmp_path)
    assert len(pages) == len(expected)
    for img, (waybill, url) in zip(pages, expected):
        if dpi != 203 and len(waybill) > len(LONG_WAYBILL):
            continue  # one-dot bars are made for the 203 dpi printer (docs/security.md)
        found = zxingcpp.read_barcodes(img)
        codes = [r.text for r in found if r.format == zxingcpp.BarcodeFormat.Code128]
        qrs = [r for r in found if r.format == zxingcpp.BarcodeFormat.QRCode]
        assert codes == [waybill], f"{waybill} at {dpi} dpi: {[(r.format, r.text) for r in found]}"
        assert [r.text for r in qrs] == [url], f"{waybill} at {dpi} dpi"
        quiet_zone_is_white(img, qrs[0])


@needs_pdftoppm
def test_the_qr_code_scans_from_a_coarse_rendering(printed, tmp_path):
    """A phone photo is far coarser than the printer: at 100 dpi the QR code still decodes."""
    pdf, expected = printed
    for img, (_, url) in zip(rasterize(pdf, 100, tmp_path), expected):
        assert [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)] == [url]
