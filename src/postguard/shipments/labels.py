"""Privacy labels: 100 × 150 mm thermal labels that show only the masked projection.

Each label has a Code 128 barcode of the waybill, the masked sender and recipient, routing (ward and
province, with their codes), the COD amount and weight, and a QR code carrying an opaque random token
(``<public_base_url>/q/<token>``). The token reveals nothing: it resolves only through an
authenticated just-in-time access check, can be revoked by reprinting, and is deleted on shredding.
We chose it over ciphertext in the QR because a ciphertext can be attacked offline forever once
printed, and cannot be revoked. The text uses Source Sans Pro, embedded, which has every Vietnamese
glyph.
"""

from __future__ import annotations

import io
import secrets
from functools import lru_cache
from pathlib import Path

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
from postguard.orgs.service import Principal
from postguard.shipments.models import LabelToken, Shipment
from postguard.shipments.service import masked_view

PAGE = (100 * mm, 150 * mm)
rl_config.useA85 = 0  # binary streams: ASCII85 in pure Python dominated the time of 1,000-label PDFs
MAX_LABELS = 5000
ADVICE_VI = "Shipper KHÔNG BAO GIỜ yêu cầu chuyển khoản, mã OTP, cài ứng dụng hay phí lưu kho."
ADVICE_EN = "Couriers never ask for transfers, OTP codes, app installs or storage fees."


@lru_cache(maxsize=1)
def _fonts() -> tuple[str, str]:
    files = Path(font_source_sans_pro.__file__).with_name("files")
    pdfmetrics.registerFont(TTFont("PG-Regular", str(files / "SourceSansPro-Regular.ttf")))
    pdfmetrics.registerFont(TTFont("PG-Bold", str(files / "SourceSansPro-Bold.ttf")))
    return "PG-Regular", "PG-Bold"


def _vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " ₫"


def _qr(c: canvas.Canvas, data: str, x: float, y: float, size: float) -> None:
    qr = segno.make(data, error="m", micro=False, mask=2)  # a fixed mask: no 8-way search per label
    rows = list(qr.matrix_iter(border=0))
    cell = size / len(rows)
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


def draw_label(c: canvas.Canvas, view: dict, *, org_name: str, qr_url: str) -> None:
    regular, bold = _fonts()
    w, h = PAGE
    m = 4 * mm
    c.setFont(bold, 11)
    c.drawString(m, h - m - 9, org_name[:48])
    c.setFont(regular, 7)
    c.drawRightString(w - m, h - m - 9, "NHÃN BẢO MẬT · PRIVACY LABEL")
    c.line(m, h - m - 13, w - m, h - m - 13)
    bc = code128.Code128(view["waybill"], barHeight=16 * mm, barWidth=0.42 * mm, humanReadable=False)
    bc.drawOn(c, max(m, (w - bc.width) / 2), h - 36 * mm)
    c.setFont(bold, 12)
    c.drawCentredString(w / 2, h - 41 * mm, view["waybill"])
    c.line(m, h - 44 * mm, w - m, h - 44 * mm)

    rec, snd = view["recipient"], view["sender"]
    y = h - 50 * mm
    c.setFont(regular, 7)
    c.drawString(m, y, "NGƯỜI NHẬN · TO")
    c.setFont(bold, 13)
    c.drawString(m, y - 14, rec["name"] or "")
    c.setFont(regular, 10)
    c.drawString(m, y - 27, f"ĐT / Tel: {rec['phone']}")
    c.drawString(m, y - 40, rec["address"].split(", ")[0])
    c.setFont(bold, 10)
    c.drawString(m, y - 53, rec["address"].split(", ", 1)[1] if ", " in rec["address"] else "")

    y = h - 84 * mm
    c.line(m, y + 10, w - m, y + 10)
    c.setFont(regular, 7)
    c.drawString(m, y, "NGƯỜI GỬI · FROM")
    c.setFont(regular, 10)
    c.drawString(m, y - 13, f"{snd['name'] or ''}   ĐT / Tel: {snd['phone']}")

    y = h - 100 * mm
    c.line(m, y + 10, w - m, y + 10)
    c.setFont(regular, 7)
    c.drawString(m, y, "TUYẾN · ROUTING")
    c.setFont(bold, 22)
    c.drawString(m, y - 24, f"{rec['province_code']:02d}-{rec['ward_code']:05d}")
    c.setFont(regular, 7)
    c.drawString(m, y - 36, "THU HỘ · COD")
    c.setFont(bold, 14)
    c.drawString(m, y - 51, _vnd(view["cod_amount_vnd"]))
    c.setFont(regular, 9)
    c.drawString(m, y - 64, f"Khối lượng / Weight: {view['weight_grams']:,} g".replace(",", "."))
    _qr(c, qr_url, w - m - 30 * mm, y - 70, 30 * mm)

    c.setFont(bold, 7)
    c.drawCentredString(w / 2, m + 9, ADVICE_VI)
    c.setFont(regular, 7)
    c.drawCentredString(w / 2, m + 1, ADVICE_EN)


class LabelService:
    def __init__(self, platform) -> None:
        self.p = platform

    def render(self, principal: Principal, waybills: list[str]) -> bytes:
        """One PDF page per waybill, in the order given (duplicates printed once)."""
        self.p.orgs.require(principal, "labels:print")
        if not waybills:
            raise InvalidInput("No waybills given.", [FieldError("waybills", "at least one waybill")])
        if len(waybills) > MAX_LABELS:
            raise InvalidInput("Too many labels.", [FieldError("waybills", f"at most {MAX_LABELS} per PDF")])
        with self.p.db.session() as s:
            org = s.get(Organisation, principal.org_id)
            shipments = self.p.shipments.waybills_for_labels(s, principal, waybills)
            shredded = [x.waybill for x in shipments if x.shredded_at is not None]
            if shredded:
                raise Shredded(f"Personal data of {', '.join(shredded[:10])} was destroyed; no label can be printed.")
            tokens = self._tokens(s, [x.id for x in shipments])
            views = [(masked_view(x), tokens[x.id]) for x in shipments]
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=PAGE, pageCompression=1)
        c.setTitle("postguard labels")
        c.setAuthor(org.name)
        base = self.p.settings.public_base_url.rstrip("/")
        for view, token in views:
            draw_label(c, view, org_name=org.name, qr_url=f"{base}/q/{token}")
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
        with self.p.db.read_session() as s:
            return s.execute(
                select(Shipment).join(LabelToken, LabelToken.shipment_id == Shipment.id).where(LabelToken.token == token)
            ).scalar_one_or_none()
