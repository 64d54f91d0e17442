"""Leak detection services over the access log: the anomaly scan and leak triangulation."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from postguard.access.models import Assignment, Staff
from postguard.audit.models import AuditEntry
from postguard.db.base import utcnow
from postguard.errors import FieldError, InvalidInput, NotFound
from postguard.leaks import anomalies
from postguard.leaks.models import Alert
from postguard.orgs.models import ApiKey, Organisation
from postguard.shipments.models import Shipment, ShipmentEvent
from postguard.shipments.service import find_shipment

if TYPE_CHECKING:
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.leaks.alerts import AlertService
    from postguard.orgs.service import OrgService
    from postguard.settings import Settings

TERMINAL = ("delivered", "returned", "cancelled")
LOGGED = ("reveal", "reveal_denied", "break_glass", "export", "access_denied")
STAGES = {"created": "before_pickup", "picked_up": "in_hub", "in_transit": "in_hub",
          "out_for_delivery": "out_for_delivery", "delivered": "after_delivery", "returned": "after_delivery",
          "cancelled": "after_delivery"}
TRIANGULATE_ROLES = ("auditor", "dpo")


def _waybills(parsed: dict) -> tuple[str, ...]:
    d = parsed.get("details") or {}
    ws = d.get("waybills") if isinstance(d, dict) else None
    if isinstance(ws, list) and ws:
        return tuple(str(w) for w in ws)
    return (parsed["subject"],) if parsed.get("subject") else ()


def stage_at(created_at: datetime, events: list[tuple[datetime, str]], at: datetime) -> str:
    """The lifecycle stage of a parcel at ``at`` from its status events (sorted by time)."""
    status = "created"
    for when, to_status in events:
        if when <= at:
            status = to_status
        else:
            break
    return STAGES.get(status, status)


class LeakService:
    def __init__(self, *, db: Database, settings: Settings, audit: AuditLog, orgs: OrgService,
                 access_alerts: AlertService) -> None:
        self.db = db
        self.settings = settings
        self.audit = audit
        self.orgs = orgs
        self.access_alerts = access_alerts

    # -- who is asking ---------------------------------------------------------------------------
    def _org(self, who) -> tuple[int, str]:
        """(org id, actor) of a principal, or of an organisation code (the command line)."""
        if isinstance(who, str):
            return self.orgs.get(who).id, "cli"
        return who.org_id, who.actor

    # -- anomalies -------------------------------------------------------------------------------
    def thresholds(self) -> anomalies.Thresholds:
        s = self.settings
        return anomalies.Thresholds(ratio=s.anomaly_ratio, z=s.anomaly_z, min_events=s.anomaly_min_events,
                                    min_peers=s.anomaly_min_peers)

    def anomaly_findings(self, org_id: int, *, since: datetime, until: datetime | None = None
                         ) -> list[anomalies.Finding]:
        """Features of every staff member and API key of the organisation from the log since ``since``."""
        until = until or utcnow()
        with self.db.read_session() as s:
            roles = {f"staff:{i}": r for i, r in s.execute(
                select(Staff.id, Staff.role).where(Staff.org_id == org_id, Staff.status == "active"))}
            roles |= {f"apikey:{p}": "apikey" for p in s.execute(
                select(ApiKey.prefix).where(ApiKey.org_id == org_id, ApiKey.revoked_at.is_(None))).scalars()}
            entries = []
            for (raw,) in s.execute(
                select(AuditEntry.entry).where(AuditEntry.org_id == org_id, AuditEntry.at >= since,
                                               AuditEntry.at <= until, AuditEntry.action.in_(LOGGED))
                .order_by(AuditEntry.idx).execution_options(yield_per=5000)
            ):
                e = json.loads(raw)
                entries.append(anomalies.LogEntry(e["actor"], e["action"], _parse_at(e["at"]), e.get("purpose"),
                                                  _waybills(e)))
            touched = {w for e in entries for w in e.waybills}
            ctx = self._context(s, org_id, touched)
        return anomalies.score(anomalies.features(entries, roles, ctx), roles, self.thresholds())

    @staticmethod
    def _context(s, org_id: int, waybills: set[str]) -> anomalies.Context:
        finished: dict[str, datetime] = {}
        assigned: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        todo = sorted(waybills)
        for i in range(0, len(todo), 1000):
            chunk = todo[i:i + 1000]
            for w, at in s.execute(
                select(Shipment.waybill, ShipmentEvent.at).join(ShipmentEvent, ShipmentEvent.shipment_id == Shipment.id)
                .where(Shipment.org_id == org_id, Shipment.waybill.in_(chunk), ShipmentEvent.to_status.in_(TERMINAL))
            ):
                finished[w] = min(at, finished.get(w, at))
            for w, courier, start, end in s.execute(
                select(Shipment.waybill, Assignment.courier_id, Assignment.created_at, Assignment.ended_at)
                .join(Assignment, Assignment.shipment_id == Shipment.id)
                .where(Shipment.org_id == org_id, Shipment.waybill.in_(chunk))
            ):
                assigned[f"staff:{courier}"][w].append((start, end))
        return anomalies.Context(finished_at=finished, assignments=assigned)

    def scan_anomalies(self, org, *, since: datetime | None = None, until: datetime | None = None) -> list[dict]:
        """Raise an ``anomaly`` alert for each finding that has no open alert yet; returns the findings
        with the alert id (``None`` when an open alert already covers it)."""
        org_id, _ = self._org(org)
        until = until or utcnow()
        since = since or until - timedelta(hours=self.settings.anomaly_window_hours)
        if since >= until:
            raise InvalidInput("Bad span.", [FieldError("since", "must be before the end of the scan")])
        findings = self.anomaly_findings(org_id, since=since, until=until)
        with self.db.read_session() as s:
            open_ = {(a.subject, json.loads(a.details).get("feature")) for a in s.execute(
                select(Alert).where(Alert.org_id == org_id, Alert.kind == "anomaly",
                                    Alert.acknowledged_at.is_(None))).scalars()}
        out = []
        for f in findings:
            alert_id = None
            if (f.actor, f.feature) not in open_:
                alert_id = self.access_alerts.raise_alert(
                    org_id=org_id, kind="anomaly", severity=f.severity, subject=f.actor, actor=f.actor,
                    reason=f.reason,
                    details={"feature": f.feature, "value": int(f.value), "peer_median": f"{f.peer_median:g}",
                             "peers": f.peers,
                             "since": since.isoformat(), "until": until.isoformat()})
            out.append({"actor": f.actor, "role": f.role, "feature": f.feature, "value": f.value,
                        "peer_median": f.peer_median, "reason": f.reason, "alert": alert_id})
        return out

    def scan_all(self) -> int:
        """The scheduled scan: every organisation, default span. Returns the alerts raised."""
        with self.db.read_session() as s:
            ids = list(s.execute(select(Organisation.code)).scalars())
        return sum(1 for code in ids for f in self.scan_anomalies(code) if f["alert"])

    # -- triangulation ---------------------------------------------------------------------------
    def triangulate(self, who, waybill: str) -> dict:
        """Who revealed ``waybill``'s personal data, at which stage of its journey, ranked by how
        likely each is to be the leak: after delivery and outside an assignment first, then
        break-glass, exports, customer service, couriers in their window, phone searches, refusals.
        Accesses with their own legal basis (``LAWFUL``: data-subject requests, break-glass that
        already raised its alert) are listed but weighted down, each with its stated basis."""
        if not isinstance(who, str):
            self.orgs.require(who, "audit:read", roles=TRIANGULATE_ROLES, subject=waybill,
                                message="Only auditors and data-protection officers triangulate leaks.")
        org_id, actor = self._org(who)
        with self.db.read_session() as s:
            sh = find_shipment(s, org_id, waybill)
            if sh is None:
                raise NotFound(f"No shipment with waybill {waybill[:40]}.", code="no_shipment",
                               params={"waybill": waybill[:40]})
            waybill = sh.waybill  # as stored (the access log names it so), whatever the case typed
            events = [(at, st) for at, st in s.execute(
                select(ShipmentEvent.at, ShipmentEvent.to_status).where(ShipmentEvent.shipment_id == sh.id)
                .order_by(ShipmentEvent.at, ShipmentEvent.id))]
            spans = defaultdict(list)
            for courier, start, end in s.execute(select(Assignment.courier_id, Assignment.created_at,
                                                        Assignment.ended_at).where(Assignment.shipment_id == sh.id)):
                spans[f"staff:{courier}"].append((start, end))
            staff = {f"staff:{i}": (u, r) for i, u, r in s.execute(
                select(Staff.id, Staff.username, Staff.role).where(Staff.org_id == org_id))}
            rows = s.execute(
                select(AuditEntry.idx, AuditEntry.entry).where(
                    AuditEntry.org_id == org_id, AuditEntry.action.in_(("reveal", "reveal_denied", "break_glass",
                                                                        "export")),
                    or_(AuditEntry.subject == waybill,
                        (AuditEntry.subject.is_(None)) & AuditEntry.entry.contains(f'"{waybill}"')))
                .order_by(AuditEntry.idx)).all()
            alerted = self._break_glass_alerts(s, org_id, waybill)
        per_actor: dict[str, dict] = {}
        for idx, raw in rows:
            e = json.loads(raw)
            if waybill not in _waybills(e):
                continue
            at = _parse_at(e["at"])
            stage = stage_at(sh.created_at, events, at)
            who_, role = staff.get(e["actor"], (None, "apikey" if e["actor"].startswith("apikey:") else None))
            weight, why, basis, reason = _weigh(e, stage, role, any(a <= at and (b is None or at <= b)
                                                                    for a, b in spans.get(e["actor"], ())),
                                                alerted.get(idx))
            item = per_actor.setdefault(e["actor"], {"actor": e["actor"], "username": who_, "role": role,
                                                     "score": 0, "accesses": []})
            item["accesses"].append({"index": idx, "at": e["at"], "action": e["action"], "purpose": e.get("purpose"),
                                     "stage": stage, "weight": weight, "why": why, "lawful_basis": basis,
                                     "reason": reason})
        ranked = []
        for item in per_actor.values():
            acc = item["accesses"]
            top = max(acc, key=lambda a: a["weight"])
            # further accesses add one each, except lawful ones: a data-subject request answered again
            # once its parcels are delivered is one request, not a pattern
            item["score"] = top["weight"] + sum(1 for a in acc if a is not top and a["lawful_basis"] is None)
            item["why"] = top["why"]
            item["first_at"] = min(a["at"] for a in acc)
            item["stages"] = sorted({a["stage"] for a in acc}, key=list(STAGES.values()).index)
            ranked.append(item)
        ranked.sort(key=lambda i: (-i["score"], i["first_at"]))
        for n, item in enumerate(ranked, 1):
            item["rank"] = n
        self.audit.append(actor=actor, action="triangulate", org_id=org_id, subject=waybill,
                            details={"candidates": len(ranked)})
        return {"waybill": waybill, "status": sh.status, "stage_now": STAGES.get(sh.status, sh.status),
                "candidates": ranked}

    @staticmethod
    def _break_glass_alerts(s, org_id: int, waybill: str) -> dict[int, dict]:
        """Log index of each break-glass reveal of ``waybill`` → the alert it raised."""
        out = {}
        for a in s.execute(select(Alert).where(
                Alert.org_id == org_id, Alert.kind == "break_glass",
                or_(Alert.subject == waybill, (Alert.subject.is_(None)) & Alert.details.contains(f'"{waybill}"')))
                ).scalars():
            d = json.loads(a.details or "{}")
            if isinstance(d.get("log_index"), int) and waybill in (d.get("waybills") or [waybill]):
                out[d["log_index"]] = {"id": a.id, "acknowledged_by": a.acknowledged_by}
        return out


# Purposes with their own legal basis: the access answers the person the data is about. Shown in a
# triangulation (they did read the data) but weighted below every ordinary reveal, with the basis.
LAWFUL = {
    "dsr_match": "data-subject request: the data-protection officer finding the person's shipments",
    "dsr_export": "data-subject request: the data-protection officer exporting the person's own data",
    "data_subject": "the data subject reading their own data",
    "call_check": "the recipient's own call check, after proving their phone with a one-time code",
}
WEIGHTS = {
    "after_delivery": 50, "outside_assignment": 40, "break_glass": 30, "export": 25, "customer_service": 20,
    "reveal": 15, "delivery": 10, "break_glass_alerted": 8, "phone_search": 5, "lawful": 3, "refused": 2,
}


def _weigh(e: dict, stage: str, role: str | None, assigned: bool,
           alert: dict | None = None) -> tuple[int, str, str | None, dict]:
    """(weight, why, the legal basis that weighted it down or ``None``, why as a code with its values:
    ``{"code": "lawful", "after_delivery": True, "purpose": "dsr_match", "request": ...}``, for a page
    to say it in its language) of one access."""
    action, purpose = e["action"], e.get("purpose")
    if action == "reveal_denied":
        return WEIGHTS["refused"], "refused attempt (nothing revealed)", None, {"code": "refused"}
    after = stage == "after_delivery"
    when = " after delivery" if after else ""
    if purpose in LAWFUL:
        request = (e.get("details") or {}).get("request") if isinstance(e.get("details"), dict) else None
        basis = LAWFUL[purpose] + (f" (request {request})" if request else "")
        return WEIGHTS["lawful"], f"lawful{when}: {basis}; weighted down", basis, \
            {"code": "lawful", "after_delivery": after, "purpose": purpose, "request": request}
    if action == "break_glass" and alert is not None:
        state = f"acknowledged by {alert['acknowledged_by']}" if alert["acknowledged_by"] else "open"
        basis = f"break-glass with its justification, already alerted (alert {alert['id']}, {state})"
        why = f"break-glass{when}, already alerted (alert {alert['id']}, {state}); weighted down"
        return WEIGHTS["break_glass_alerted"], why, basis, \
            {"code": "break_glass_alerted", "after_delivery": after, "alert": alert["id"],
             "acknowledged_by": alert["acknowledged_by"]}
    for code, why, holds in (("after_delivery", "revealed after delivery", after),
                             ("outside_assignment", "revealed outside the courier's assignment",
                              role == "courier" and not assigned),
                             ("break_glass", "break-glass reveal with no alert on record", action == "break_glass"),
                             ("export", "export", action == "export"),
                             ("customer_service", "customer-service reveal", purpose == "customer_service"),
                             ("delivery", "courier in the delivery window", purpose == "delivery"),
                             ("phone_search", "phone search candidate", purpose == "phone_search")):
        if holds:
            return WEIGHTS[code], why, None, {"code": code}
    return WEIGHTS["reveal"], "reveal", None, {"code": "reveal"}


def _parse_at(text: str) -> datetime:
    return datetime.fromisoformat(text)
