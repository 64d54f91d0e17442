"""What the platform measures beyond the services' own counters: counts drawn from the event bus, and
gauges read from the database when ``/metrics`` is scraped.

The services count what they do on the platform's ``Meter`` (``postguard.metrics``); this module,
part of the wiring, adds what no single call site knows: allowed reveals (``Revealed``, after every
other subscriber) and analysts' decisions (``IndicatorDecided``), and the state of the queues that
people work through (data-subject requests and their oldest open one, takedown requests, lookalike
hits, webhook deliveries, the access log's latest checkpoint). Each gauge is one grouped count or
one row read through an index, at most every ``ttl`` seconds (``POSTGUARD_METRICS_QUERY_SECONDS``)
however often it is scraped.

No label carries a person, a parcel, a number or free text: purposes, kinds, statuses and decisions
are fixed sets (``postguard.metrics.bounded`` guards the rest)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from postguard.alerts.models import WebhookDelivery
from postguard.audit.models import AuditCheckpoint
from postguard.db import Database
from postguard.db.base import utcnow
from postguard.events import IndicatorDecided, Revealed
from postguard.intel.models import LookalikeHit
from postguard.metrics import Labels, Meter, bounded
from postguard.privacy.models import DataSubjectRequest
from postguard.takedown.models import TakedownRequest

class EventCounts:
    """``postguard_access_reveals_total`` (allowed; the door counts refusals) by purpose and kind,
    and ``postguard_intel_decisions_total`` by indicator type and action."""

    def __init__(self, meter: Meter) -> None:
        self.reveals = meter.counter("postguard_access_reveals", "Openings of protected data through the door, "
                                     "by purpose, kind and outcome", ("purpose", "kind", "outcome"))
        self.decisions = meter.counter("postguard_intel_decisions", "Analysts' decisions on scam indicators",
                                       ("type", "action"))

    def on_revealed(self, event: Revealed) -> None:
        self.reveals.inc(bounded(event.purpose), bounded(event.kind), "allowed")

    def on_decided(self, event: IndicatorDecided) -> None:
        self.decisions.inc(bounded(event.type), bounded(event.action))


def _grouped(db: Database, *columns, where=None) -> Callable[[], Iterable[tuple[Labels, float]]]:
    def read() -> list[tuple[Labels, float]]:
        q = select(*columns, func.count()).group_by(*columns)
        if where is not None:
            q = q.where(where)
        with db.read_session() as s:
            return [(tuple(bounded(str(v)) for v in row[:-1]), float(row[-1])) for row in s.execute(q)]
    return read


def _latest_checkpoint(s: Session) -> tuple[int, float] | None:
    row = s.execute(select(AuditCheckpoint.size, AuditCheckpoint.created_at)
                    .order_by(AuditCheckpoint.size.desc()).limit(1)).first()
    return None if row is None else (row.size, (utcnow() - row.created_at).total_seconds())


def install(meter: Meter, db: Database, *, ttl: float) -> None:
    """Register the scrape-time gauges of the platform's database on ``meter``, each read at most
    every ``ttl`` seconds."""
    def checkpoint(i: int) -> Callable[[], list[tuple[Labels, float]]]:
        def read() -> list[tuple[Labels, float]]:
            with db.read_session() as s:
                latest = _latest_checkpoint(s)
            return [] if latest is None else [((), float(latest[i]))]
        return read

    meter.gauge("postguard_audit_checkpoint_size", "Entries covered by the access log's latest signed checkpoint",
                checkpoint(0), ttl=ttl)
    meter.gauge("postguard_audit_checkpoint_age_seconds", "Seconds since the access log's latest checkpoint was "
                "signed (grows while nothing is appended: compare with the appends)", checkpoint(1), ttl=ttl)
    meter.gauge("postguard_privacy_requests", "Data-subject requests by kind and status",
                _grouped(db, DataSubjectRequest.kind, DataSubjectRequest.status),
                labels=("kind", "status"), ttl=ttl)

    def oldest_open() -> list[tuple[Labels, float]]:
        with db.read_session() as s:
            rows = s.execute(select(DataSubjectRequest.status, func.min(DataSubjectRequest.received_at))
                             .where(DataSubjectRequest.status != "completed")
                             .group_by(DataSubjectRequest.status)).all()
        now = utcnow()
        return [((bounded(status),), (now - at).total_seconds()) for status, at in rows if at is not None]

    meter.gauge("postguard_privacy_oldest_open_request_age_seconds", "Age of the oldest data-subject request "
                "not completed, by status (the legal clocks: acknowledge within 2 working days, complete "
                "within 15 days)", oldest_open, labels=("status",), ttl=ttl)
    meter.gauge("postguard_takedown_requests", "Takedown requests by status",
                _grouped(db, TakedownRequest.status), labels=("status",), ttl=ttl)
    meter.gauge("postguard_lookalike_hits", "Lookalike websites found by the scanner, by status",
                _grouped(db, LookalikeHit.status), labels=("status",), ttl=ttl)
    meter.gauge("postguard_alerts_webhook_deliveries", "Webhook deliveries of scam warnings by status",
                _grouped(db, WebhookDelivery.status), labels=("status",), ttl=ttl)

