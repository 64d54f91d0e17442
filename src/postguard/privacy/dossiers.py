"""Dossiers an operator files, generated from the running system rather than written by hand.

- the personal-data **impact assessment** (hồ sơ đánh giá tác động xử lý dữ liệu cá nhân, the
  content Decree 13/2023/NĐ-CP art. 24 lists): the controller and its data-protection officer, the
  purposes and who may use each, every protected field, retention, safeguards, transfers, risks;
- the **system description** of the security-level proposal (hồ sơ đề xuất cấp độ, Decree 85/2016/NĐ-CP
  and Circular 12/2022/TT-BTTTT): what the system does, its parts, data, users, connections and controls;
- the **breach notification** to the authority for a recorded incident (the content Decree 13/2023/NĐ-CP
  art. 23 asks for: what happened, when, which data and how many people, who to contact, consequences,
  measures), with its 72-hour deadline.

Each is built as a small document (headings, paragraphs, lists and tables) from the tables the code
declares (``SystemFacts.protected``: every sealed column; the door's ``PURPOSES``), the settings and the
access log's statistics, and rendered as Markdown or PDF, in Vietnamese. Only the data-protection
officer (and administrators, reading) make them; each is logged.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from postguard.access.door import PURPOSES
from postguard.access.models import Staff
from postguard.audit.models import AuditCheckpoint, AuditEntry
from postguard.db.base import utcnow
from postguard.errors import FieldError, InvalidInput, NotFound
from postguard.orgs.models import Organisation
from postguard.principals import SCOPES, Principal
from postguard.privacy import deadlines
from postguard.privacy.models import BreachIncident

if TYPE_CHECKING:
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.privacy.subjects import Subjects

FORMATS = ("md", "pdf")
KINDS = ("dpia", "security", "breach")

# Every sealed column, in words (a test fails on a sealed column without its words here).
FIELD_WORDS: dict[tuple[str, str], str] = {
    ("shipments", "sender_name"): "Họ tên người gửi",
    ("shipments", "sender_phone"): "Số điện thoại người gửi",
    ("shipments", "sender_address"): "Địa chỉ người gửi",
    ("shipments", "recipient_name"): "Họ tên người nhận",
    ("shipments", "recipient_phone"): "Số điện thoại người nhận",
    ("shipments", "recipient_address"): "Địa chỉ người nhận",
    ("shipments", "goods_description"): "Mô tả hàng hoá",
    ("courier_phones", "phone"): "Số điện thoại của nhân viên giao hàng",
    ("masked_calls", "courier_phone"): "Số điện thoại nhân viên giao hàng trong cuộc gọi ẩn số",
    ("masked_calls", "recipient_phone"): "Số điện thoại người nhận trong cuộc gọi ẩn số",
    ("canary_numbers", "phone"): "Số điện thoại mồi (phát hiện rò rỉ)",
    ("dsr_requests", "contact"): "Số điện thoại của người gửi yêu cầu về dữ liệu",
    ("intel_indicators", "value"): "Số điện thoại, tài khoản, ví bị báo cáo lừa đảo",
    ("intel_reports", "description"): "Nội dung báo cáo lừa đảo",
    ("intel_reports", "contact"): "Liên hệ của người báo cáo",
    ("intel_appeals", "statement"): "Nội dung khiếu nại",
    ("intel_appeals", "contact"): "Liên hệ của người khiếu nại",
    ("intel_evidence", "content"): "Tệp bằng chứng (ảnh chụp, tệp đính kèm)",
    ("message_feedback_cases", "text"): "Tin nhắn người dân gửi để góp ý",
    ("message_feedback_submissions", "comment"): "Ghi chú kèm góp ý",
    ("lawful_requests", "scope_phones"): "Số điện thoại nêu trong yêu cầu của cơ quan có thẩm quyền",
}

ROLE_WORDS = {"admin": "quản trị viên", "hub": "nhân viên bưu cục", "courier": "nhân viên giao hàng",
              "cs": "chăm sóc khách hàng", "auditor": "kiểm toán viên", "dpo": "cán bộ bảo vệ dữ liệu",
              "analyst": "chuyên viên phân tích lừa đảo"}

PURPOSE_WORDS = {
    "phone_search": "Hệ thống của đơn vị tìm bưu gửi theo số điện thoại",
    "delivery": "Giao hàng: nhân viên được giao đơn, trong khung giờ giao",
    "customer_service": "Chăm sóc khách hàng, kèm mã phiếu và lý do",
    "break_glass": "Truy cập khẩn cấp của quản trị viên, kèm lý do, có cảnh báo",
    "data_subject": "Chủ thể dữ liệu xem dữ liệu của chính mình sau khi xác minh số điện thoại",
    "dsr_match": "Tìm bưu gửi của người yêu cầu (cán bộ bảo vệ dữ liệu)",
    "dsr_export": "Xuất dữ liệu cho người yêu cầu (cán bộ bảo vệ dữ liệu)",
    "lawful_match": "Tìm bưu gửi theo số điện thoại nêu trong yêu cầu của cơ quan có thẩm quyền",
    "lawful_disclosure": "Cung cấp dữ liệu cho cơ quan có thẩm quyền, sau khi cán bộ bảo vệ dữ liệu và quản trị viên "
                         "cùng phê duyệt",
    "lawful_scope": "Mở số điện thoại nêu trong yêu cầu của cơ quan có thẩm quyền",
    "call_check": "Người dân kiểm tra cuộc gọi của shipper (so khớp trên máy chủ, không trả về)",
    "payment_check": "Người dân kiểm tra yêu cầu thanh toán (so khớp trên máy chủ, không trả về)",
    "courier_own_numbers": "Nhân viên giao hàng xem số của chính mình",
    "call_setup": "Thiết lập cuộc gọi có ký số từ số đã xác minh của nhân viên",
    "masked_call": "Tổng đài nối cuộc gọi ẩn số",
    "passport_record": "Kiểm toán cuộc gọi đã ký số (PASSporT)",
    "canary_issue": "Cấp số điện thoại mồi cho bưu gửi mồi",
    "dsr_contact": "Mở số điện thoại người yêu cầu để tìm bưu gửi",
    "dsr_notice": "Nhắn tin báo kết quả cho người yêu cầu",
    "indicator_review": "Chuyên viên xem giá trị đầy đủ của dấu hiệu lừa đảo",
    "report_review": "Chuyên viên xem nội dung và liên hệ của báo cáo",
    "appeal_review": "Chuyên viên xem khiếu nại",
    "indicator_share": "Chia sẻ dấu hiệu lừa đảo đã xác nhận (STIX/TAXII/MISP)",
    "lookup_index": "Lập chỉ mục tra cứu riêng tư",
    "evidence_bundle": "Lập gói chứng cứ có chữ ký cho cơ quan nước ngoài: giá trị đầy đủ của dấu hiệu",
    "evidence_files": "Lập gói chứng cứ: tính mã băm của tệp bằng chứng",
    "takedown_evidence": "Lập hồ sơ gỡ bỏ trang lừa đảo: tệp bằng chứng",
    "takedown_report_text": "Lập hồ sơ gỡ bỏ: nội dung báo cáo được chọn",
    "blocklist_publish": "Công bố tên miền lừa đảo vào danh sách chặn",
    "message_feedback_review": "Xem tin nhắn góp ý",
    "message_feedback_export": "Xuất tin nhắn góp ý (đã che số) để huấn luyện lại",
}


@dataclass(frozen=True)
class SystemFacts:
    """What the dossiers say about the system, handed in by the wiring from the models and settings."""

    protected: tuple[tuple[str, str], ...]  # (table, column) of every sealed field
    pseudonymised: tuple[tuple[str, str], ...]  # (table, column) of every keyed digest or blind index
    dialect: str
    mode: str
    retention_days: int
    blind_index_bits: int
    witnesses: int
    replicas: int
    key_provider: str
    metrics: bool
    trusted_proxies: int
    feedback_retention_days: int


# -- the document: blocks rendered to Markdown or PDF ------------------------------------------------

@dataclass(frozen=True)
class _Heading:
    text: str


@dataclass(frozen=True)
class _Para:
    text: str


@dataclass(frozen=True)
class _List:
    items: tuple[str, ...]


@dataclass(frozen=True)
class _Table:
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass
class Doc:
    title: str
    blocks: list[_Heading | _Para | _List | _Table] = field(default_factory=list)

    def h(self, text: str) -> None:
        self.blocks.append(_Heading(text))

    def p(self, text: str) -> None:
        self.blocks.append(_Para(text))

    def ul(self, items: Sequence[str]) -> None:
        self.blocks.append(_List(tuple(items)))

    def table(self, head: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        self.blocks.append(_Table(tuple(head), tuple(tuple(str(c) for c in r) for r in rows)))

    def markdown(self) -> str:
        def cell(text: str) -> str:
            return text.replace("|", "\\|").replace("\n", " ")

        out = [f"# {self.title}", ""]
        for b in self.blocks:
            if isinstance(b, _Heading):
                out += [f"## {b.text}", ""]
            elif isinstance(b, _Para):
                out += [b.text, ""]
            elif isinstance(b, _List):
                out += [f"- {item}" for item in b.items] + [""]
            else:
                out += ["| " + " | ".join(map(cell, b.head)) + " |", "|" + "---|" * len(b.head)]
                out += ["| " + " | ".join(map(cell, r)) + " |" for r in b.rows] + [""]
        return "\n".join(out)

    def pdf(self) -> bytes:
        from xml.sax.saxutils import escape

        from reportlab.lib import colors
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.lib.units import mm
        from reportlab.platypus import ListFlowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

        from postguard.shipments.labels import fonts

        regular, bold = fonts()
        body = ParagraphStyle("body", fontName=regular, fontSize=10, leading=13.5)
        small = ParagraphStyle("small", parent=body, fontSize=8.5, leading=11)
        heading = ParagraphStyle("h", parent=body, fontName=bold, fontSize=12.5, leading=16, spaceBefore=8,
                                 spaceAfter=4)
        title = ParagraphStyle("t", parent=body, fontName=bold, fontSize=16, leading=20, spaceAfter=8)
        flow: list = [Paragraph(escape(self.title), title)]
        width = A4[0] - 36 * mm
        for b in self.blocks:
            if isinstance(b, _Heading):
                flow.append(Paragraph(escape(b.text), heading))
            elif isinstance(b, _Para):
                flow += [Paragraph(escape(b.text), body), Spacer(1, 3)]
            elif isinstance(b, _List):
                flow.append(ListFlowable([Paragraph(escape(i), body) for i in b.items], bulletType="bullet",
                                         leftIndent=12))
            else:
                data = [[Paragraph(escape(c), small) for c in r] for r in (b.head, *b.rows)]
                t = Table(data, colWidths=[width / len(b.head)] * len(b.head), repeatRows=1)
                t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                                       ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                                       ("VALIGN", (0, 0), (-1, -1), "TOP")]))
                flow += [t, Spacer(1, 6)]
        out = io.BytesIO()
        SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                          bottomMargin=16 * mm, title=self.title, author="postguard").build(flow)
        return out.getvalue()

    def render(self, fmt: str) -> bytes:
        if fmt not in FORMATS:
            raise InvalidInput("Unknown format.", [FieldError("format", "md or pdf", code="invalid")])
        return self.markdown().encode("utf-8") if fmt == "md" else self.pdf()


def _vn(when: datetime | None) -> str:
    return when.astimezone(deadlines.VN).strftime("%d/%m/%Y %H:%M") if when else "—"


ACTION_WORDS = {"reveal": "Mở dữ liệu cá nhân", "reveal_denied": "Mở dữ liệu bị từ chối",
                "access_denied": "Thao tác bị từ chối", "break_glass": "Truy cập khẩn cấp", "alert": "Cảnh báo",
                "login": "Đăng nhập", "assign": "Giao đơn cho nhân viên", "call_route": "Nối cuộc gọi ẩn số",
                "dsr_received": "Nhận yêu cầu của chủ thể dữ liệu", "dsr_completed": "Hoàn thành yêu cầu",
                "incident_recorded": "Ghi nhận sự cố", "incident_notified": "Thông báo sự cố",
                "key_rotate": "Xoay vòng khoá", "dossier_made": "Lập hồ sơ"}


def _activity(doc: Doc, actions: dict[str, int]) -> None:
    """The access log's counts of the last 12 months, the actions people ask about first."""
    first = [a for a in ACTION_WORDS if a in actions]
    rest = sorted(a for a in actions if a not in ACTION_WORDS)
    doc.table(["Hoạt động", "Mã trong nhật ký", "Số lần (12 tháng)"],
              [(ACTION_WORDS.get(a, "Khác"), a, f"{actions[a]:,}") for a in [*first, *rest]])


WHO_WORDS = {"subject": "chủ thể dữ liệu", "citizen": "người dân đã xác minh số", "system": "hệ thống (tác vụ tự động)"}


def _who(rule_who: Sequence[str]) -> str:
    words = []
    for w in rule_who:
        kind, _, name = w.partition(":")
        words.append(ROLE_WORDS.get(name, name) if kind == "role" else f"khoá API có quyền {name}"
                     if kind == "scope" else WHO_WORDS.get(kind, kind))
    return ", ".join(words)


class Dossiers:
    """``dpia``, ``security`` and ``breach`` documents of the principal's organisation."""

    def __init__(self, *, db: Database, audit: AuditLog, subjects: Subjects, facts: Callable[[], SystemFacts]) -> None:
        self.db, self.audit, self.subjects, self.facts = db, audit, subjects, facts

    def make(self, principal: Principal, kind: str, *, ref: str | None = None, now: datetime | None = None) -> Doc:
        if kind not in KINDS:
            raise InvalidInput("Unknown dossier.", [FieldError("kind", ", ".join(KINDS), code="invalid")])
        staff = self.subjects.need_dpo(principal, read=True)
        now = now or utcnow()
        with self.db.read_session() as s:
            org = s.get(Organisation, staff.org_id)
            if org is None:
                raise NotFound("No such organisation.")
            dpos: list[str] = [n for n in s.execute(select(Staff.display_name).where(Staff.org_id == org.id, Staff.role == "dpo",
                                                              Staff.status == "active")).scalars() if n]
            since = now - timedelta(days=365)
            actions = dict(s.execute(select(AuditEntry.action, func.count()).where(
                AuditEntry.org_id == org.id, AuditEntry.at >= since).group_by(AuditEntry.action)).all())
            roles = dict(s.execute(select(Staff.role, func.count()).where(
                Staff.org_id == org.id, Staff.status == "active").group_by(Staff.role)).all())
            log_size = s.execute(select(func.max(AuditCheckpoint.size))).scalar() or 0
            incident = None
            if kind == "breach":
                incident = s.execute(select(BreachIncident).where(
                    BreachIncident.ref == (ref or "").strip().upper(),
                    BreachIncident.org_id == org.id)).scalar_one_or_none()
                if incident is None:
                    raise NotFound(f"No incident {ref}.")
            facts = self.facts()
            if kind == "dpia":
                doc = self._dpia(org, dpos, actions, facts, now)
            elif kind == "security":
                doc = self._security(org, roles, actions, log_size, facts, now)
            elif incident is not None:
                doc = self._breach(org, dpos, incident, actions, facts, now)
        self.audit.append(actor=principal.actor, action="dossier_made", org_id=org.id, subject=f"dossier:{kind}",
                          details={"ref": incident.ref} if incident else {})
        return doc

    @staticmethod
    def _fields(doc: Doc, facts: SystemFacts) -> None:
        doc.table(["Dữ liệu", "Bảng và cột", "Bảo vệ"], [
            (FIELD_WORDS.get(f, f"{f[0]}.{f[1]} (chưa mô tả)"), f"{f[0]}.{f[1]}",
             "Mã hoá AES-256-GCM từng trường, khoá riêng từng bản ghi") for f in facts.protected])
        doc.p("Các giá trị dùng để tìm kiếm hoặc so khớp mà không giải mã được lưu dưới dạng mã băm có khoá "
              "(HMAC, chỉ mục mù): " + ", ".join(f"{t}.{c}" for t, c in facts.pseudonymised) + ".")

    def _dpia(self, org: Organisation, dpos: Sequence[str], actions: dict[str, int], facts: SystemFacts,
              now: datetime) -> Doc:
        doc = Doc(f"Hồ sơ đánh giá tác động xử lý dữ liệu cá nhân — {org.name}")
        doc.p(f"Lập ngày {_vn(now)} (giờ Việt Nam) từ hệ thống postguard đang vận hành: danh mục trường dữ "
              "liệu, bảng mục đích truy cập, cấu hình và thống kê nhật ký truy cập. Nội dung theo Điều 24 Nghị "
              "định 13/2023/NĐ-CP.")
        doc.h("1. Bên Kiểm soát và xử lý dữ liệu")
        doc.ul([f"Tổ chức: {org.name} (mã {org.code})",
                f"Đường dây nóng: {org.hotline or 'chưa khai báo'}",
                "Cán bộ bảo vệ dữ liệu cá nhân: " + (", ".join(dpos) if dpos else "chưa chỉ định")])
        doc.h("2. Mục đích xử lý và người được phép")
        doc.p("Mỗi lần mở dữ liệu cá nhân phải nêu một mục đích dưới đây; hệ thống kiểm tra người thực hiện, "
              "ghi nhật ký (cả lần bị từ chối) rồi mới giải mã.")
        doc.table(["Mục đích", "Người được phép", "Dữ liệu được mở"], [
            (PURPOSE_WORDS.get(name, name), _who(rule.who),
             ", ".join(FIELD_WORDS.get((rule.kind, c), c) for c in sorted(rule.columns)))
            for name, rule in PURPOSES.items()])
        doc.p("Nhật ký truy cập 12 tháng qua:")
        _activity(doc, actions)
        doc.h("3. Loại dữ liệu cá nhân được xử lý")
        self._fields(doc, facts)
        doc.h("4. Thời hạn lưu trữ và xoá")
        doc.ul([f"Dữ liệu cá nhân trên bưu gửi bị huỷ bằng mật mã (xoá khoá) {facts.retention_days} ngày sau "
                "khi giao xong, hoàn hoặc huỷ đơn.",
                f"Tin nhắn góp ý được lưu tối đa {facts.feedback_retention_days} ngày.",
                "Yêu cầu xoá của chủ thể dữ liệu được thực hiện bằng huỷ khoá; biên nhận được ghi vào nhật ký."])
        doc.h("5. Biện pháp bảo vệ")
        doc.ul([
            "Mã hoá từng trường (AES-256-GCM), khoá dữ liệu riêng cho từng bản ghi, bọc bởi khoá của tổ chức, "
            f"khoá gốc do {facts.key_provider} giữ.",
            f"Tìm theo số điện thoại bằng chỉ mục mù {facts.blind_index_bits} bit (không lưu số rõ).",
            "Nhãn in chỉ có tên gọi kèm chữ cái đầu, 3 số cuối điện thoại, phường/xã và tỉnh/thành.",
            "Truy cập đúng lúc: nhân viên giao hàng chỉ xem được khi đơn đang giao và trong khung giờ được giao.",
            "Nhật ký truy cập không sửa được: cây Merkle, điểm kiểm tra có chữ ký"
            + (f", {facts.witnesses} nhân chứng độc lập ký xác nhận" if facts.witnesses else "") + ".",
            "Giới hạn tần suất cho mọi tra cứu công khai; mã một lần cho chủ thể dữ liệu.",
            f"Chế độ vận hành: {facts.mode}; cơ sở dữ liệu: {facts.dialect}.",
        ])
        doc.h("6. Chuyển dữ liệu và chia sẻ")
        doc.p("Dữ liệu bưu gửi không rời hệ thống. Chỉ các dấu hiệu lừa đảo đã được xác nhận (số điện thoại, "
              "tài khoản, ví, trang web lừa đảo) được chia sẻ theo STIX/TAXII/MISP với đối tác có khoá API, "
              f"theo mức TLP; trong 12 tháng qua có {actions.get('intel_indicator_reveal', 0):,} lần chuyên viên "
              "mở giá trị đầy đủ của dấu hiệu.")
        doc.h("7. Rủi ro và biện pháp giảm thiểu")
        doc.table(["Rủi ro", "Biện pháp", "Số liệu 12 tháng"], [
            ("Nhân viên tra cứu dữ liệu ngoài nhiệm vụ", "Mục đích bắt buộc, nhật ký, truy cập đúng lúc",
             f"{actions.get('reveal_denied', 0):,} lần bị từ chối"),
            ("Truy cập khẩn cấp bị lạm dụng", "Bắt buộc lý do, cảnh báo cho cán bộ bảo vệ dữ liệu",
             f"{actions.get('break_glass', 0):,} lần"),
            ("Lộ dữ liệu qua nhãn và tin nhắn", "Nhãn che thông tin, bưu gửi mồi phát hiện rò rỉ",
             f"{actions.get('alert', 0):,} cảnh báo"),
            ("Mất hoặc lộ cơ sở dữ liệu", "Dữ liệu cá nhân chỉ lưu dạng mã hoá; sao lưu kèm khoá niêm phong",
             "—"),
        ])
        return doc

    def _security(self, org: Organisation, roles: dict[str, int], actions: dict[str, int], log_size: int,
                  facts: SystemFacts, now: datetime) -> Doc:
        doc = Doc(f"Thuyết minh hệ thống thông tin — hồ sơ đề xuất cấp độ — {org.name}")
        doc.p(f"Lập ngày {_vn(now)} từ hệ thống đang vận hành (Nghị định 85/2016/NĐ-CP, Thông tư "
              "12/2022/TT-BTTTT). Cấp độ đề xuất do đơn vị xác định theo các số liệu dưới đây.")
        doc.h("1. Mục đích và phạm vi")
        doc.p("Bảo vệ dữ liệu cá nhân của người gửi và người nhận bưu gửi (mã hoá, nhãn che thông tin, truy "
              "cập đúng lúc, nhật ký truy cập) và ngăn lừa đảo giả danh shipper (kiểm tra cuộc gọi, tin nhắn, "
              "đường dẫn; cơ sở dữ liệu lừa đảo dùng chung).")
        doc.h("2. Thành phần")
        doc.ul([f"Máy chủ ứng dụng không trạng thái (nhiều tiến trình), cơ sở dữ liệu {facts.dialect}"
                + (f" với {facts.replicas} bản sao chỉ đọc" if facts.replicas else ""),
                f"Khoá gốc: {facts.key_provider}",
                f"Nhân chứng nhật ký: {facts.witnesses}",
                "Giám sát: " + ("số liệu Prometheus (có mã truy cập)" if facts.metrics else "chưa bật"),
                f"Proxy ngược tin cậy: {facts.trusted_proxies}"])
        doc.h("3. Dữ liệu được xử lý")
        self._fields(doc, facts)
        doc.h("4. Người sử dụng")
        doc.table(["Vai trò", "Số tài khoản đang hoạt động"],
                  [(ROLE_WORDS.get(r, r), n) for r, n in sorted(roles.items())])
        doc.p("Hệ thống khác truy cập bằng khoá API theo phạm vi: " + "; ".join(
            f"{k} ({v})" for k, v in SCOPES.items()) + ".")
        doc.h("5. Biện pháp kỹ thuật và nhật ký")
        _activity(doc, actions)
        doc.p(f"Nhật ký truy cập: {log_size:,} mục trong điểm kiểm tra có chữ ký mới nhất.")
        return doc

    def _breach(self, org: Organisation, dpos: Sequence[str], inc: BreachIncident, actions: dict[str, int],
                facts: SystemFacts, now: datetime) -> Doc:
        due = deadlines.breach_notify_due(inc.detected_at)
        doc = Doc(f"Thông báo vi phạm quy định về bảo vệ dữ liệu cá nhân — {inc.ref}")
        left = (due - now).total_seconds() / 3600
        doc.p(f"Kính gửi: Cục An ninh mạng và phòng, chống tội phạm sử dụng công nghệ cao (A05), Bộ Công an. "
              f"Lập ngày {_vn(now)}; hạn thông báo 72 giờ kể từ khi phát hiện: {_vn(due)} "
              + (f"(còn {left:.0f} giờ)." if inc.notified_at is None and left > 0 else
                 "(đã quá hạn: nêu lý do chậm trễ)." if inc.notified_at is None else
                 f"(đã thông báo lúc {_vn(inc.notified_at)})."))
        doc.h("1. Mô tả vi phạm")
        doc.table(["Mục", "Nội dung"], [
            ("Tổ chức", f"{org.name} (mã {org.code})"),
            ("Thời điểm phát hiện", _vn(inc.detected_at)),
            ("Thời điểm ghi nhận", _vn(inc.recorded_at)),
            ("Mô tả", inc.description),
            ("Số chủ thể dữ liệu ước tính bị ảnh hưởng", f"{inc.affected_estimate:,}"),
            ("Loại dữ liệu có thể bị ảnh hưởng", "; ".join(FIELD_WORDS.get(f, f[1]) for f in facts.protected
                                                           if f[0] == "shipments")),
        ])
        doc.h("2. Người liên hệ")
        doc.p("Cán bộ bảo vệ dữ liệu cá nhân: " + (", ".join(dpos) if dpos else "chưa chỉ định")
              + (f"; đường dây nóng: {org.hotline}" if org.hotline else "") + ".")
        doc.h("3. Hậu quả có thể xảy ra")
        doc.p("Dữ liệu bưu gửi chỉ được lưu ở dạng mã hoá; nếu khoá không bị lộ, bản sao cơ sở dữ liệu không đọc "
              "được họ tên, số điện thoại, địa chỉ. Nguy cơ chính khi thông tin bị lộ là kẻ gian giả danh shipper "
              "gọi điện đòi chuyển khoản hoặc mã OTP.")
        doc.h("4. Biện pháp đã thực hiện")
        doc.ul([f"Nhật ký truy cập được kiểm tra (postguard audit verify); trong 12 tháng có "
                f"{actions.get('reveal_denied', 0):,} lần mở bị từ chối và {actions.get('break_glass', 0):,} lần truy "
                "cập khẩn cấp.",
                "Cảnh báo người dân qua kênh chính thức; đánh dấu số điện thoại, tài khoản lừa đảo liên quan.",
                "Xoay vòng khoá nếu có dấu hiệu lộ khoá (postguard keys rotate)."])
        return doc
