"""Warnings about scam methods: analysts publish them (Vietnamese and English); citizens read them
on the public page and in the Atom feed; subscribers receive them by signed webhook."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from postguard.alerts.models import ScamWarning
from postguard.db.base import utcnow
from postguard.errors import FieldError, InvalidInput, NotFound

if TYPE_CHECKING:
    from postguard.alerts.webhooks import WebhookService
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.settings import Settings

CATEGORIES = {
    "courier-impersonation": ("Giả danh shipper", "Courier impersonation"),
    "fake-fee": ("Thu phí giả", "Fake fees"),
    "otp-theft": ("Lừa lấy mã OTP", "OTP theft"),
    "phishing-link": ("Đường link giả mạo", "Phishing links"),
    "fake-app": ("Ứng dụng giả", "Fake apps"),
    "refund-scam": ("Hoàn tiền giả", "Fake refunds"),
    "authority-impersonation": ("Giả danh cơ quan chức năng", "Posing as the authorities"),
    "other": ("Khác", "Other"),
}
ATOM = "http://www.w3.org/2005/Atom"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class WarningView:
    id: str
    category: str
    title: dict[str, str]
    body: dict[str, str]
    author: str
    published_at: datetime

    def as_dict(self) -> dict:
        return {"id": self.id, "category": self.category, "title": self.title, "body": self.body,
                "author": self.author, "published_at": self.published_at.isoformat()}


def _view(w: ScamWarning) -> WarningView:
    return WarningView(id=w.uid, category=w.category, title={"vi": w.title_vi, "en": w.title_en},
                       body={"vi": w.body_vi, "en": w.body_en}, author=w.author, published_at=w.published_at)


def _text(errors: list[FieldError], name: str, value: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        errors.append(FieldError(name, "required"))
    elif len(value) > limit:
        errors.append(FieldError(name, f"at most {limit} characters"))
    elif _CONTROL.search(value):
        errors.append(FieldError(name, "control characters are not allowed"))
    return value


class WarningService:
    def __init__(self, *, db: Database, settings: Settings, audit: AuditLog, webhooks: WebhookService) -> None:
        self.db = db
        self.settings = settings
        self.audit = audit
        self.webhooks = webhooks

    def publish(self, *, title_vi: str, title_en: str, body_vi: str, body_en: str, category: str,
                author: str) -> WarningView:
        """Publish a warning and queue it for every active webhook subscriber (one transaction)."""
        errors: list[FieldError] = []
        values = {
            "title_vi": _text(errors, "title_vi", title_vi, 200), "title_en": _text(errors, "title_en", title_en, 200),
            "body_vi": _text(errors, "body_vi", body_vi, 20_000), "body_en": _text(errors, "body_en", body_en, 20_000),
            "author": _text(errors, "author", author, 120),
        }
        if category not in CATEGORIES:
            errors.append(FieldError("category", f"one of {', '.join(CATEGORIES)}"))
        if errors:
            raise InvalidInput("The warning could not be published.", errors)
        with self.db.session() as s:
            w = ScamWarning(uid=str(uuid.uuid4()), category=category, published_at=utcnow(), **values)
            s.add(w)
            s.flush()
            self.webhooks.enqueue(s, warning_id=w.id)
            view = _view(w)
        self.audit.append(actor=values["author"], action="warning_publish", subject=f"warning:{view.id}")
        return view

    def list(self, *, limit: int = 50) -> list[WarningView]:
        limit = max(1, min(limit, 200))
        with self.db.read_session() as s:
            rows = s.execute(select(ScamWarning).order_by(ScamWarning.published_at.desc(), ScamWarning.id.desc())
                             .limit(limit)).scalars().all()
            return [_view(w) for w in rows]

    def get(self, uid: str) -> WarningView:
        with self.db.read_session() as s:
            w = s.execute(select(ScamWarning).where(ScamWarning.uid == uid)).scalar_one_or_none()
            if w is None:
                raise NotFound("No such warning.")
            return _view(w)

    def atom(self, *, lang: str = "vi", limit: int = 50, served: str | None = None) -> bytes:
        """The feed, its links on the configured public address, else ``served`` (where the request came)."""
        return atom_feed(self.list(limit=limit), lang=lang, base_url=self.settings.site_url(served))


def atom_feed(warnings: list[WarningView], *, lang: str, base_url: str) -> bytes:
    """An Atom 1.0 (RFC 4287) feed of the warnings in one language (pure)."""
    lang = "en" if lang == "en" else "vi"
    base = base_url.rstrip("/")
    ET.register_namespace("", ATOM)

    def el(parent, tag, text=None, **attrs):
        e = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            e.text = text
        return e

    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": lang})
    el(feed, "id", f"{base}/feeds/warnings.atom" + ("?lang=en" if lang == "en" else ""))
    el(feed, "title", "Cảnh báo lừa đảo — postguard" if lang == "vi" else "Scam warnings — postguard")
    el(feed, "subtitle", "Cảnh báo các thủ đoạn lừa đảo mới" if lang == "vi" else "Warnings about new scam methods")
    updated = max((w.published_at for w in warnings), default=datetime(2026, 1, 1).astimezone())
    el(feed, "updated", updated.isoformat())
    el(feed, "link", rel="self", type="application/atom+xml",
       href=f"{base}/feeds/warnings.atom" + ("?lang=en" if lang == "en" else ""))
    el(feed, "link", rel="alternate", type="text/html", href=f"{base}/canh-bao" + ("?lang=en" if lang == "en" else ""))
    author = el(feed, "author")
    el(author, "name", "postguard")
    el(feed, "generator", "postguard")
    for w in warnings:
        entry = el(feed, "entry")
        el(entry, "id", f"urn:uuid:{w.id}")
        el(entry, "title", w.title[lang], type="text")
        el(entry, "published", w.published_at.isoformat())
        el(entry, "updated", w.published_at.isoformat())
        el(entry, "link", rel="alternate", type="text/html",
           href=f"{base}/canh-bao" + ("?lang=en" if lang == "en" else "") + f"#w-{w.id}")
        a = el(entry, "author")
        el(a, "name", w.author)
        el(entry, "category", term=w.category, label=CATEGORIES[w.category][0 if lang == "vi" else 1])
        el(entry, "content", w.body[lang], type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
