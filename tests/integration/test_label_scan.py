"""Printed labels scan: each PDF page rendered as a thermal label printer (203 dpi) and a 300 dpi
printer would print it, then decoded with zxing-cpp. The Code 128 gives the waybill, the QR code gives
exactly the label's URL, and the QR code's quiet zone (4 modules) is white, for ordinary and extreme
shipments (the longest ward and province names, long names and waybills, the largest amounts) on
both databases. Read back as text, every label says where to check a caller (the operator's hotline,
the call-check address) and shows no personal data."""

import io
import re
import shutil
import subprocess

import numpy as np
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from postguard import places
from postguard.phones import normalize_phone
from postguard.platform import Platform
from postguard.shipments.models import LabelToken, Shipment
from tests.conftest import csv_bytes

BASE = "https://nhan.buudien-mau.vn"
HOTLINE = "1900 54 54 81"
ORG_NAME = "Tổng công ty Bưu điện Thử nghiệm — Chi nhánh Thành phố Hồ Chí Minh, Bưu cục Khai thác Trung tâm"
LONG_WAYBILL = "VNPOST-HCM-2026-TPHCMQ1XYZAB"  # 28: the longest with two-dot bars
LONGEST_WAYBILL = "A1-b_" * 8  # 40 letters, digits, '-' and '_': the longest allowed

QR_QUIET = 4  # modules (ISO/IEC 18004)
needs_pdftoppm = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed")
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")


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
    p.orgs.create(code="VNP", name=ORG_NAME, hotline=HOTLINE)
    system = p.orgs.principal("VNP", actor="test")
    rows = _extreme_rows(faker) + [faker.shipment_row(LONGEST_WAYBILL)]
    p.shipments.import_csv(system, io.BytesIO(csv_bytes(rows)))
    waybills = [r["waybill"] for r in rows]
    pdf = p.labels.render(system, waybills)
    with p.db.read_session() as s:
        tokens = dict(s.execute(select(Shipment.waybill, LabelToken.token)
                                .join(LabelToken, LabelToken.shipment_id == Shipment.id)).all())
    yield pdf, [(w, f"{BASE}/q/{tokens[w]}") for w in waybills], rows
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
    pdf, expected, _ = printed
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
    pdf, expected, _ = printed
    for img, (_, url) in zip(rasterize(pdf, 100, tmp_path), expected):
        assert [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)] == [url]


@needs_pdftotext
def test_every_label_says_where_to_check_a_call_and_shows_no_personal_data(printed, tmp_path):
    """Each page read back as text: the operator's hotline and the call-check address, whole; a
    business sender by its name; no full name of a person, no phone number, no street, no goods."""
    pdf, expected, rows = printed
    (tmp_path / "labels.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "labels.pdf"), "-"], check=True, timeout=60,
                          capture_output=True, text=True).stdout
    pages = text.split("\f")[: len(rows)]
    assert len(pages) == len(rows) == len(expected)
    for page, row in zip(pages, rows, strict=True):
        lines = [" ".join(line.split()) for line in page.splitlines()]
        assert "KIỂM TRA CUỘC GỌI SHIPPER · CHECK A CALL" in lines
        assert "nhan.buudien-mau.vn/kiem-tra-cuoc-goi" in lines  # whole, on one line, never cut
        assert f"Tổng đài / Hotline: {HOTLINE}" in lines
        flat = " ".join(lines)
        digits = re.sub(r"\D", "", flat)
        for phone in (row["sender_phone"], row["recipient_phone"]):
            assert normalize_phone(phone)[3:] not in digits  # the national number, however it was written
        for field in ("recipient_name", "sender_address", "recipient_address", "goods_description"):
            assert row[field] not in flat, field
        street = row["recipient_address"].split(",")[0]
        assert street not in flat
        if row["sender_name"].startswith("Công ty"):
            assert "Công ty TNHH TM DV XNK Thử" in flat  # a business, by its name, shortened
        else:
            assert row["sender_name"] not in flat
