"""Privacy labels: 100 × 150 mm thermal labels that show only the masked projection.

Each label has a Code 128 barcode of the waybill, the masked sender and recipient, routing (ward and
province, with their codes), the COD amount and weight, and a QR code carrying an opaque random token
(``<site>/q/<token>``). The token reveals nothing: it resolves only through an
authenticated just-in-time access check, can be revoked by reprinting, and is deleted on shredding.
We chose it over ciphertext in the QR because a ciphertext can be attacked offline forever once
printed, and cannot be revoked. Every label also tells the person at the door where to check a
caller: the operator's hotline and the call-check page (``<site>/kiem-tra-cuoc-goi``), still without
personal data. ``<site>`` is the configured public address, else the address the request came on. The
text uses Source Sans Pro, embedded, which has every Vietnamese glyph.

Both codes must scan from a 203 dpi thermal print: the QR code keeps a 4-module quiet zone that nothing
is drawn over, the Code 128 keeps 10 modules either side, modules are whole printer dots, and text too
long for its place is set smaller (then cut) instead of running into its neighbours. ``draw_label``
returns where it drew everything, so the layout can be checked.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import font_source_sans_pro
import segno
from reportlab import rl_config
from reportlab.graphics.barcode import code128
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from sqlalchemy import select

from postguard.errors import FieldError, InvalidInput, Shredded
from postguard.orgs.models import Organisation
from postguard.principals import ApiKeyPrincipal
from postguard.shipments.models import LabelToken, Shipment
from postguard.shipments.service import masked_view

if TYPE_CHECKING:
    from postguard.db import Database
    from postguard.orgs.service import OrgService
    from postguard.settings import Settings
    from postguard.shipments.service import ShipmentService

PAGE = (100 * mm, 150 * mm)
rl_config.useA85 = 0  # binary streams: ASCII85 in pure Python dominated the time of 1,000-label PDFs
MAX_LABELS = 5000
ADVICE_VI = "Shipper KHÔNG BAO GIỜ yêu cầu chuyển khoản, mã OTP, cài ứng dụng hay phí lưu kho."
ADVICE_EN = "Couriers never ask for transfers, OTP codes, app installs or storage fees."
CALL_CHECK_PATH = "/kiem-tra-cuoc-goi"  # the citizen's call check (postguard.web.callcheck.PAGE)
CALL_CHECK_TAG = "KIỂM TRA CUỘC GỌI SHIPPER · CHECK A CALL"


@lru_cache(maxsize=1)
def fonts() -> tuple[str, str]:
    """The regular and bold font names (Source Sans Pro, registered once), for every PDF postguard writes."""
    files = Path(font_source_sans_pro.__file__).with_name("files")
    pdfmetrics.registerFont(TTFont("PG-Regular", str(files / "SourceSansPro-Regular.ttf")))
    pdfmetrics.registerFont(TTFont("PG-Bold", str(files / "SourceSansPro-Bold.ttf")))
    return "PG-Regular", "PG-Bold"


def _vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " ₫"


# The layout is laid on the dot grid of a 203 dpi thermal printer (8 dots per mm): bar and QR module
# widths are whole dots, so every module prints the same width on the labels' printers.
DPI = 203
DOT = 72 / DPI  # points
QR_QUIET = 4  # modules of white around the QR code (ISO/IEC 18004)
QR_BOX = 40 * mm  # the most the QR code and its quiet zone may take, bottom right
BARCODE_QUIET = 10  # modules of white either side of the Code 128 (ISO/IEC 15417)
BARCODE_MAX_DOTS = 4  # widest bar module: 0.5 mm


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in points, origin bottom left


@dataclass
class Layout:
    """Where each thing was drawn on a label: what the tests check (nothing may overlap the QR code's
    quiet zone, nothing may leave the page)."""

    qr_zone: Box = (0.0, 0.0, 0.0, 0.0)  # the QR code with its quiet zone
    qr_module: float = 0.0
    boxes: list[tuple[str, Box]] = field(default_factory=list)

    def add(self, name: str, box: Box) -> None:
        self.boxes.append((name, box))

    def overlapping_qr(self) -> list[str]:
        qx0, qy0, qx1, qy1 = self.qr_zone
        return [n for n, (x0, y0, x1, y1) in self.boxes
                if n != "qr" and x0 < qx1 and qx0 < x1 and y0 < qy1 and qy0 < y1]


def _dots(points: float) -> int:
    return int(points / DOT + 1e-9)


def _from_top(h: float, points: float) -> float:
    """The y coordinate ``points`` below the top edge, on the dot grid."""
    return h - round(points / DOT) * DOT


def _text(c: canvas.Canvas, lay: Layout, name: str, text: str, x: float, y: float, font: str, size: float,
          width: float, *, align: str = "left", min_size: float = 6.0) -> None:
    """Draw ``text`` within ``width``: a smaller size first (down to ``min_size``), then cut with "…"."""
    tw = pdfmetrics.stringWidth(text, font, size)
    if tw > width:  # widths scale with the size: the size that fits, then cut what still does not
        size = max(min_size, int(size * width / tw * 2) / 2)
        tw = pdfmetrics.stringWidth(text, font, size)
        while tw > width and text:
            text = text[:-2] + "…" if text.endswith("…") else text[:-1] + "…"
            tw = pdfmetrics.stringWidth(text, font, size)
    x0 = {"left": x, "right": x - tw, "centre": x - tw / 2}[align]
    c.setFont(font, size)
    c.drawString(x0, y, text)
    ascent, descent = pdfmetrics.getAscentDescent(font, size)
    lay.add(name, (x0, y + descent, x0 + tw, y + ascent))


def _line(c: canvas.Canvas, lay: Layout, name: str, x0: float, x1: float, y: float) -> None:
    c.line(x0, y, x1, y)
    half = c._lineWidth / 2  # type: ignore[attr-defined]  # reportlab keeps the width there
    lay.add(name, (x0, y - half, x1, y + half))


def _qr(c: canvas.Canvas, lay: Layout, data: str, right: float, top: float, box: float) -> None:
    """The QR code and its quiet zone in a square of at most ``box`` whose top right corner is at
    (``right``, ``top``); modules are whole printer dots."""
    qr = segno.make(data, error="m", micro=False, mask=2)  # a fixed mask: no 8-way search per label
    rows = list(qr.matrix_iter(border=0))
    n = len(rows)
    cell = max(1, _dots(box) // (n + 2 * QR_QUIET)) * DOT
    zone = (n + 2 * QR_QUIET) * cell
    zx, zy = right - zone, top - zone
    lay.qr_zone, lay.qr_module = (zx, zy, right, top), cell
    x, y, size = zx + QR_QUIET * cell, zy + QR_QUIET * cell, n * cell
    p = c.beginPath()
    for r, row in enumerate(rows):
        start = None
        for col, dark in enumerate(list(row) + [0]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                p.rect(x + start * cell, y + size - (r + 1) * cell, (col - start) * cell, cell)
                start = None
    c.drawPath(p, stroke=0, fill=1)
    lay.add("qr", (x, y, x + size, y + size))


def _barcode(c: canvas.Canvas, lay: Layout, waybill: str, centre: float, bottom: float, width: float) -> None:
    """Code 128 of the waybill with its quiet zones, centred, as wide a module as fits ``width``."""
    modules = code128.Code128(waybill, barWidth=1, quiet=0).width + 2 * BARCODE_QUIET
    # whole dots: a waybill of up to 28 letters (or 56 digits) gets modules of two dots or more; a
    # longer one gets one-dot modules, which a 203 dpi printer prints exactly (a fraction of a dot
    # would be smeared by the printer's rasterizer and not scan)
    bar = max(1, min(BARCODE_MAX_DOTS, _dots(width) // int(modules))) * DOT
    bc = code128.Code128(waybill, barHeight=16 * mm, barWidth=bar, humanReadable=False, quiet=1,
                         lquiet=BARCODE_QUIET * bar, rquiet=BARCODE_QUIET * bar)
    x = round((centre - bc.width / 2) / DOT) * DOT
    bc.drawOn(c, x, bottom)
    lay.add("barcode", (x, bottom, x + bc.width, bottom + bc.height))


def call_check_address(base_url: str) -> str:
    """The call-check page as a person types it: the site without its scheme, and the path."""
    return base_url.rstrip("/").split("://", 1)[-1] + CALL_CHECK_PATH


def draw_label(c: canvas.Canvas, view: dict, *, org_name: str, qr_url: str, call_check: str = "",
               hotline: str | None = None) -> Layout:
    regular, bold = fonts()
    w, h = PAGE
    m = 4 * mm
    full = w - 2 * m
    lay = Layout()
    c.setLineWidth(1)
    tag = "NHÃN BẢO MẬT · PRIVACY LABEL"
    _text(c, lay, "tag", tag, w - m, h - m - 9, regular, 7, full, align="right")
    tag_w = pdfmetrics.stringWidth(tag, regular, 7)
    _text(c, lay, "org", org_name, m, h - m - 9, bold, 11, full - tag_w - 3 * mm, min_size=8)
    _line(c, lay, "rule-head", m, w - m, h - m - 13)
    _barcode(c, lay, view["waybill"], w / 2, h - 36 * mm, full)
    _text(c, lay, "waybill", view["waybill"], w / 2, h - 41 * mm, bold, 12, full, align="centre")
    _line(c, lay, "rule-barcode", m, w - m, h - 44 * mm)

    rec, snd = view["recipient"], view["sender"]
    y = h - 50 * mm
    _text(c, lay, "to", "NGƯỜI NHẬN · TO", m, y, regular, 7, full)
    _text(c, lay, "recipient", rec["name"] or "", m, y - 14, bold, 13, full)
    _text(c, lay, "recipient-phone", f"ĐT / Tel: {rec['phone']}", m, y - 27, regular, 10, full)
    ward, _, province = rec["address"].partition(", ")
    _text(c, lay, "ward", ward, m, y - 40, regular, 10, full)
    _text(c, lay, "province", province, m, y - 53, bold, 10, full)

    y = h - 84 * mm
    _line(c, lay, "rule-from", m, w - m, y + 10)
    _text(c, lay, "from", "NGƯỜI GỬI · FROM", m, y, regular, 7, full)
    _text(c, lay, "sender", f"{snd['name'] or ''}   ĐT / Tel: {snd['phone']}", m, y - 13, regular, 10, full)

    # routing: text on the left, the QR code with its quiet zone on the right, under the rule and
    # above the advice, nothing drawn across it
    y = h - 100 * mm
    _line(c, lay, "rule-routing", m, w - m, y + 10)
    _qr(c, lay, qr_url, w - m, _from_top(h, h - y - 10 + 1 * mm), QR_BOX)
    left = lay.qr_zone[0] - 2 * mm - m
    _text(c, lay, "routing", "TUYẾN · ROUTING", m, y, regular, 7, left)
    _text(c, lay, "route", f"{rec['province_code']:02d}-{rec['ward_code']:05d}", m, y - 24, bold, 22, left)
    _text(c, lay, "cod-label", "THU HỘ · COD", m, y - 36, regular, 7, left)
    _text(c, lay, "cod", _vnd(view["cod_amount_vnd"]), m, y - 51, bold, 14, left)
    _text(c, lay, "weight", f"Khối lượng / Weight: {view['weight_grams']:,} g".replace(",", "."), m, y - 64,
          regular, 9, left)
    # where to check a caller: the call-check page and the operator's hotline (no personal data); an
    # address too long for one line is never cut: the path goes on a line of its own
    below = y - 86
    if call_check:
        _text(c, lay, "call-check-tag", CALL_CHECK_TAG, m, y - 76, regular, 6.5, left, min_size=5)
        if pdfmetrics.stringWidth(call_check, bold, 6) <= left:
            _text(c, lay, "call-check", call_check, m, below, bold, 8, left, min_size=6)
        else:
            site, path = call_check.removesuffix(CALL_CHECK_PATH), CALL_CHECK_PATH
            _text(c, lay, "call-check", site, m, below, bold, 8, left, min_size=5)
            below -= 9
            _text(c, lay, "call-check-path", path, m, below, bold, 8, left, min_size=6)
        below -= 10
    if hotline:
        _text(c, lay, "hotline", f"Tổng đài / Hotline: {hotline}", m, below, bold, 8, left, min_size=6)

    _text(c, lay, "advice-vi", ADVICE_VI, w / 2, m + 10, bold, 7, full, align="centre")
    _text(c, lay, "advice-en", ADVICE_EN, w / 2, m + 2, regular, 7, full, align="centre")
    return lay


class LabelService:
    def __init__(self, *, db: Database, settings: Settings, orgs: OrgService, shipments: ShipmentService) -> None:
        self.db = db
        self.settings = settings
        self.orgs = orgs
        self.shipments = shipments

    def render(self, principal: ApiKeyPrincipal, waybills: list[str], *, site: str | None = None) -> bytes:
        """One PDF page per waybill, in the order given (duplicates printed once). Links on the labels
        lead to ``site`` (default: ``Settings.site_url()``)."""
        self.orgs.require(principal, "labels:print")
        if not waybills:
            raise InvalidInput("No waybills given.", [FieldError("waybills", "at least one waybill")])
        if len(waybills) > MAX_LABELS:
            raise InvalidInput("Too many labels.", [FieldError("waybills", f"at most {MAX_LABELS} per PDF")])
        with self.db.session() as s:
            org = s.get_one(Organisation, principal.org_id)
            shipments = self.shipments.waybills_for_labels(s, principal, waybills)
            shredded = [x.waybill for x in shipments if x.shredded_at is not None]
            if shredded:
                raise Shredded(f"Personal data of {', '.join(shredded[:10])} was destroyed; no label can be printed.")
            tokens = self._tokens(s, [x.id for x in shipments])
            views = [(masked_view(x), tokens[x.id]) for x in shipments]
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=PAGE, pageCompression=1)
        c.setTitle("postguard labels")
        c.setAuthor(org.name)
        base = (site or self.settings.site_url()).rstrip("/")
        for view, token in views:
            draw_label(c, view, org_name=org.name, qr_url=f"{base}/q/{token}", call_check=call_check_address(base),
                       hotline=org.hotline)
            c.showPage()
        c.save()
        return buf.getvalue()

    @staticmethod
    def _tokens(session, shipment_ids: list[int]) -> dict[int, str]:
        have: dict[int, str] = {}
        for i in range(0, len(shipment_ids), 500):
            chunk = shipment_ids[i : i + 500]
            have.update(
                (sid, tok) for sid, tok in session.execute(
                    select(LabelToken.shipment_id, LabelToken.token).where(LabelToken.shipment_id.in_(chunk))
                )
            )
        new = [LabelToken(token=secrets.token_urlsafe(16), shipment_id=i) for i in shipment_ids if i not in have]
        session.add_all(new)
        session.flush()
        have.update({t.shipment_id: t.token for t in new})
        return have

    def resolve_token(self, token: str) -> Shipment | None:
        """The shipment a label's QR token points to (for the just-in-time access flow)."""
        with self.db.read_session() as s:
            return s.execute(
                select(Shipment).join(LabelToken, LabelToken.shipment_id == Shipment.id).where(LabelToken.token == token)
            ).scalar_one_or_none()
