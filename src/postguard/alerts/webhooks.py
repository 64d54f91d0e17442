"""Signed webhooks (Standard Webhooks): every subscriber gets each published warning, signed with
its own secret, retried with backoff until it answers 2xx or the attempts run out.

Signature: ``webhook-signature: v1,<base64 HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<body>")>``.
A subscriber checks it with :func:`verify` (constant-time, timestamp within a tolerance).
"""

from __future__ import annotations

import builtins
import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import select, update

from postguard.alerts.models import ScamWarning, WebhookDelivery, WebhookSubscription
from postguard.db.base import utcnow
from postguard.errors import FieldError, InvalidInput, NotFound

if TYPE_CHECKING:
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.settings import Settings
    from postguard.vault.service import Vault

# Delay before attempt 2, 3, ...: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (Standard Webhooks' schedule).
BACKOFF_SECONDS = (5, 300, 1800, 7200, 18000, 36000, 36000)
SECRET_PREFIX = "whsec_"  # noqa: S105  a format prefix, not a secret
_LEASE = timedelta(minutes=2)


def backoff(attempts: int) -> timedelta:
    """Delay after the ``attempts``-th failed attempt (1-based); non-decreasing."""
    return timedelta(seconds=BACKOFF_SECONDS[min(max(attempts, 1), len(BACKOFF_SECONDS)) - 1])


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify(secret: str, *, headers: dict[str, str], body: bytes, tolerance: int = 300, now: float | None = None) -> bool:
    """True when the headers carry a valid v1 signature of ``body`` made within ``tolerance`` seconds."""
    h = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id, ts = h["webhook-id"], int(h["webhook-timestamp"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance:
        return False
    expected = sign(secret, msg_id=msg_id, timestamp=ts, body=body)
    return any(hmac.compare_digest(expected, s) for s in h.get("webhook-signature", "").split())


@dataclass(frozen=True)
class NewSubscription:
    id: str
    url: str
    secret: str  # shown once


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer that is not 2xx: the delivery failed


def _http_only_opener() -> urllib.request.OpenerDirector:
    """An opener for HTTP and HTTPS alone: ``build_opener`` would also read ``file:``, ``ftp:`` and
    ``data:`` URLs, which only ``subscribe``'s scheme check kept out. Redirects are not followed;
    any other scheme is ``URLError("unknown url type")``."""
    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(), urllib.request.UnknownHandler(), urllib.request.HTTPHandler(),
                    urllib.request.HTTPSHandler(), urllib.request.HTTPDefaultErrorHandler(), _NoRedirect(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


_opener = _http_only_opener()


class WebhookService:
    def __init__(self, *, db: Database, settings: Settings, audit: AuditLog, vault: Vault) -> None:
        self.db = db
        self.settings = settings
        self.audit = audit
        self.vault = vault

    def _secret(self, session, sub: WebhookSubscription) -> str:
        master = self.vault.service_secret(session, purpose="webhook-signing")
        key = hmac.new(master, f"{sub.uid}:{sub.salt}".encode(), hashlib.sha256).digest()
        return SECRET_PREFIX + base64.b64encode(key).decode()

    def subscribe(self, *, url: str, label: str = "", actor: str = "cli") -> NewSubscription:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            raise InvalidInput("The webhook URL is not valid.",
                               [FieldError("url", "an http(s) URL with a host and no credentials")])
        if self.settings.mode == "production" and parts.scheme != "https":
            raise InvalidInput("The webhook URL is not valid.", [FieldError("url", "https is required in production")])
        with self.db.session() as s:
            sub = WebhookSubscription(uid=str(uuid.uuid4()), url=url.strip(), label=label[:200],
                                      salt=secrets.token_hex(16))
            s.add(sub)
            s.flush()
            out = NewSubscription(id=sub.uid, url=sub.url, secret=self._secret(s, sub))
        self.audit.append(actor=actor, action="webhook_subscribe", subject=f"webhook:{out.id}")
        return out

    def unsubscribe(self, uid: str, *, actor: str = "cli") -> None:
        with self.db.session() as s:
            sub = s.execute(select(WebhookSubscription).where(WebhookSubscription.uid == uid)).scalar_one_or_none()
            if sub is None:
                raise NotFound("No such webhook subscription.")
            sub.status = "disabled"
        self.audit.append(actor=actor, action="webhook_unsubscribe", subject=f"webhook:{uid}")

    def list(self) -> list[dict]:
        with self.db.read_session() as s:
            return [{"id": w.uid, "url": w.url, "label": w.label, "status": w.status}
                    for w in s.execute(select(WebhookSubscription).order_by(WebhookSubscription.id)).scalars()]

    def enqueue(self, session, *, warning_id: int) -> int:
        """Queue one delivery per active subscriber (inside the publishing transaction)."""
        subs = session.execute(select(WebhookSubscription.id).where(WebhookSubscription.status == "active")).scalars()
        n = 0
        for sub_id in subs:
            session.add(WebhookDelivery(msg_id="msg_" + uuid.uuid4().hex, subscription_id=sub_id,
                                        warning_id=warning_id, next_attempt_at=utcnow()))
            n += 1
        return n

    def deliveries(self) -> builtins.list[dict]:
        with self.db.read_session() as s:
            return [{"msg_id": d.msg_id, "status": d.status, "attempts": d.attempts, "last_status": d.last_status,
                     "next_attempt_at": d.next_attempt_at.isoformat()}
                    for d in s.execute(select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars()]

    def deliver_due(self, *, now: datetime | None = None, limit: int = 100) -> dict[str, int]:
        """Send every delivery that is due at ``now``: 2xx marks it delivered; anything else (status,
        redirect, timeout, refused connection) schedules a retry by :func:`backoff`, or marks it
        failed after ``POSTGUARD_WEBHOOK_MAX_ATTEMPTS``. Rows are claimed with a short lease first,
        so several runners never send the same message at once."""
        now = now or utcnow()
        counts = {"delivered": 0, "retrying": 0, "failed": 0}
        with self.db.session() as s:
            q = (select(WebhookDelivery.id).where(WebhookDelivery.status == "pending",
                                                   WebhookDelivery.next_attempt_at <= now)
                 .order_by(WebhookDelivery.next_attempt_at).limit(limit))
            if self.db.dialect == "postgresql":
                q = q.with_for_update(skip_locked=True)
            ids = list(s.execute(q).scalars())
            if ids:
                s.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids))
                          .values(next_attempt_at=now + _LEASE))
            jobs = []
            for d, sub, w in s.execute(
                select(WebhookDelivery, WebhookSubscription, ScamWarning)
                .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                .join(ScamWarning, ScamWarning.id == WebhookDelivery.warning_id)
                .where(WebhookDelivery.id.in_(ids))
            ):
                jobs.append((d.id, d.msg_id, d.attempts, sub.url, self._secret(s, sub), self._payload(w),
                             sub.status))
        for delivery_id, msg_id, attempts, url, secret, body, sub_status in jobs:
            status, error = (None, "subscription disabled") if sub_status != "active" else self._send(
                url, secret, msg_id, body)
            attempts += 1
            with self.db.session() as s:
                row = s.get(WebhookDelivery, delivery_id)
                if row is None:  # its subscription or warning was deleted meanwhile (cascade)
                    continue
                row.attempts, row.last_status, row.last_error = attempts, status, error
                if status is not None and 200 <= status < 300:
                    row.status, row.delivered_at = "delivered", utcnow()
                    counts["delivered"] += 1
                elif attempts >= self.settings.webhook_max_attempts or sub_status != "active":
                    row.status = "failed"
                    counts["failed"] += 1
                else:
                    row.next_attempt_at = now + backoff(attempts)
                    counts["retrying"] += 1
        return counts

    def _payload(self, w: ScamWarning) -> bytes:
        base = self.settings.site_url()
        return json.dumps({
            "type": "warning.published",
            "timestamp": w.published_at.astimezone(UTC).isoformat(),
            "data": {"id": w.uid, "category": w.category, "title": {"vi": w.title_vi, "en": w.title_en},
                     "body": {"vi": w.body_vi, "en": w.body_en}, "author": w.author,
                     "published_at": w.published_at.isoformat(), "url": f"{base}/canh-bao#w-{w.uid}"},
        }, ensure_ascii=False, separators=(",", ":")).encode()

    def _send(self, url: str, secret: str, msg_id: str, body: bytes) -> tuple[int | None, str | None]:
        ts = int(time.time())
        # http(s) only: the URL was checked when it was subscribed (subscribe).
        req = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310
            "content-type": "application/json", "user-agent": "postguard-webhooks/1",
            "webhook-id": msg_id, "webhook-timestamp": str(ts),
            "webhook-signature": sign(secret, msg_id=msg_id, timestamp=ts, body=body),
        })
        try:
            with _opener.open(req, timeout=self.settings.webhook_timeout_seconds) as resp:
                resp.read(65536)
                return resp.status, None
        except urllib.error.HTTPError as e:
            return e.code, f"HTTP {e.code}"
        except (urllib.error.URLError, OSError, ValueError) as e:
            reason = getattr(e, "reason", e)
            return None, type(reason).__name__[:200]
