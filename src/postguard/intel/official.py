"""Official channels: an organisation registers its own domains, hotlines, brand names, apps,
pages and accounts; a platform administrator verifies or revokes them. A verified channel is
answered as official, and reports against it are held for review."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from postguard.db.base import utcnow
from postguard.errors import Conflict, NotFound
from postguard.intel.grading import Grader
from postguard.intel.models import Decision, Indicator, OfficialChannel, Report, ReportIndicator
from postguard.intel.normalize import detect
from postguard.intel.store import IntelStore, bad_field, get_row
from postguard.orgs.models import Organisation
from postguard.orgs.service import Principal

if TYPE_CHECKING:
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.orgs.service import OrgService

CHANNEL_KINDS = {  # what an operator can register, and the indicator types each may be
    "domain": ("domain",),
    "hotline": ("phone",),
    "sms_brand": ("sms_brand",),
    "app": ("app",),
    "social": ("social",),
    "cod_account": ("bank_account",),
    "ewallet": ("ewallet",),
}


def _channel_view(ch: OfficialChannel, ind: Indicator, org: Organisation) -> dict:
    return {"id": ch.id, "org": org.code, "org_name": org.name, "kind": ch.kind, "label": ch.label,
            "type": ind.type, "display": ind.display, "status": ch.status,
            "verified_at": ch.verified_at.isoformat() if ch.verified_at else None}


class OfficialChannels:
    def __init__(self, *, db: Database, audit: AuditLog, orgs: OrgService, store: IntelStore, grader: Grader) -> None:
        self.db = db
        self.audit = audit
        self.orgs = orgs
        self.store = store
        self.grader = grader

    def official_add(self, principal: Principal, *, kind: str, value: str, label: str = "",
                     org_code: str | None = None) -> dict:
        """Register a channel as an organisation's own (pending until an administrator verifies it).
        With ``intel:official`` an organisation registers its own; ``intel:admin`` may register for any."""
        if org_code and org_code.strip().upper() != principal.org_code:
            self.orgs.require(principal, "intel:admin")
        elif not principal.can("intel:admin"):
            self.orgs.require(principal, "intel:official")
        if kind not in CHANNEL_KINDS:
            raise bad_field("kind", f"choose from: {', '.join(CHANNEL_KINDS)}")
        if len(label) > 200:
            raise bad_field("label", "at most 200 characters", code="too_long")
        n = detect(value, CHANNEL_KINDS[kind][0])
        if n.warnings:  # a look-alike or disguised name is never registered as anyone's own
            raise bad_field("value", "this is written to deceive (" + ", ".join(c for c, _ in n.warnings)
                            + "); it cannot be an official channel", code="deceptive")
        if kind == "domain" and n.domain != n.value:
            raise bad_field("value", f"register the registrable domain ({n.domain}); its subdomains are covered")
        org = self.orgs.get(org_code or principal.org_code)
        self.store.ready()
        with self.db.session() as s:
            ind = self.store.get_or_create(s, n)
            existing = s.execute(select(OfficialChannel).where(OfficialChannel.indicator_id == ind.id)
                                 ).scalar_one_or_none()
            if existing is not None and existing.status != "revoked":
                if existing.org_id != org.id:
                    raise Conflict("This channel is already registered to another organisation.")
                raise Conflict("This channel is already registered.")
            if existing is not None:
                s.delete(existing)
                s.flush()
            ch = OfficialChannel(org_id=org.id, indicator_id=ind.id, kind=kind, label=label.strip(),
                                 status="pending", registered_by=principal.actor)
            s.add(ch)
            s.flush()
            out = _channel_view(ch, ind, org)
        self.audit.append(actor=principal.actor, action="intel_official_add", org_id=org.id,
                            subject=f"channel:{out['id']}", details={"kind": kind, "type": n.type})
        return out

    def official_set_status(self, principal: Principal, channel_id: int, *, status: str, note: str = "") -> dict:
        """Verify or revoke a channel (platform administrators: ``intel:admin``)."""
        self.orgs.require(principal, "intel:admin", subject=f"channel:{channel_id}")
        if status not in ("verified", "revoked"):
            raise bad_field("status", "verified or revoked")
        with self.db.session() as s:
            ch = s.get(OfficialChannel, channel_id)
            if ch is None:
                raise NotFound(f"No official channel {channel_id}.")
            ind = self.store.indicator(s, ch.indicator_id)
            org = get_row(s, Organisation, ch.org_id, "organisation")
            before = ch.status
            ch.status = status
            if status == "verified":
                ch.verified_by, ch.verified_at = principal.actor, utcnow()
            else:  # revoked: reports held for review count again
                for r in s.execute(select(Report).join(ReportIndicator, ReportIndicator.report_id == Report.id)
                                   .where(ReportIndicator.indicator_id == ind.id, Report.status == "held")).scalars():
                    r.status = "accepted"
            s.flush()
            v = self.grader.regrade(s, ind)
            s.add(Decision(indicator_id=ind.id, actor=principal.actor, action=f"official_{status}",
                           from_verdict=None, to_verdict=v.verdict, note=note[:2000]))
            out = _channel_view(ch, ind, org)
        self.audit.append(actor=principal.actor, action=f"intel_official_{status}", org_id=org.id,
                            subject=f"channel:{channel_id}", details={"from": before, "to": status})
        return out

    def official_list(self, *, org_code: str | None = None, status: str | None = None) -> list[dict]:
        with self.db.read_session() as s:
            q = (select(OfficialChannel, Indicator, Organisation)
                 .join(Indicator, Indicator.id == OfficialChannel.indicator_id)
                 .join(Organisation, Organisation.id == OfficialChannel.org_id)
                 .order_by(Organisation.code, OfficialChannel.kind, OfficialChannel.id))
            if org_code:
                q = q.where(Organisation.code == org_code.strip().upper())
            if status:
                q = q.where(OfficialChannel.status == status)
            return [_channel_view(ch, ind, org) for ch, ind, org in s.execute(q).all()]

