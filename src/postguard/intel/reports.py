"""Scam reports: intake of a report (all or nothing) from a citizen, anonymously or from an
organisation, with its indicators, texts and evidence files (sealed), merged into an earlier
report of the same reporter when it repeats one."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from postguard.amounts import MAX_VND, amount_field
from postguard.db.base import utcnow
from postguard.errors import FieldError, InvalidInput
from postguard.intel.evidence import check_file
from postguard.intel.grading import Grader
from postguard.intel.models import Evidence, Report, ReportIndicator
from postguard.intel.normalize import Normal, detect
from postguard.intel.store import IntelStore, bad_field
from postguard.metrics import Meter
from postguard.orgs.service import Principal

if TYPE_CHECKING:
    from postguard.db import Database
    from postguard.orgs.service import OrgService
    from postguard.ratelimit import RateLimiter
    from postguard.settings import Settings
    from postguard.vault.service import Vault

CATEGORIES = {
    "fake_courier": "posing as a courier or postal operator (fees, COD, undelivered parcel)",
    "fake_bank": "posing as a bank",
    "fake_police": "posing as police, prosecutors or a court",
    "fake_authority": "posing as a tax, social insurance, power or other public office",
    "fake_telco": "posing as a telecom operator (SIM lock, subscriber update)",
    "investment": "investment, crypto or trading scam",
    "job_task": "online job or 'task' scam (likes, orders, commissions)",
    "romance": "romance or friendship scam",
    "shopping": "fake shop, deposit or marketplace scam",
    "loan": "loan or debt-collection scam",
    "account_takeover": "OTP, password or account takeover",
    "malware_app": "asked to install an app or open a link that took control",
    "fake_website": "a website imitating a brand (found by the lookalike scanner or reported)",
    "other": "something else",
}
MAX_INDICATORS = 10
MAX_TEXT = 4000
MAX_LOSS_VND = 10**15  # a whole number given over the API (typed text is bounded by amounts.MAX_VND)
DUPLICATE_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Upload:
    data: bytes
    content_type: str | None = None


def parse_indicators(items) -> list[Normal]:
    """The distinct normal forms of a report's ``indicators`` (values, or ``{value, type}``)."""
    if not isinstance(items, list) or not items:
        raise bad_field("indicators", "name at least one phone, account, wallet, link, domain, page or app",
                        code="required")
    if len(items) > MAX_INDICATORS:
        raise bad_field("indicators", f"at most {MAX_INDICATORS} per report", code="too_many")
    out: list[Normal] = []
    errors: list[FieldError] = []
    for i, item in enumerate(items):
        value, type_ = (item.get("value"), item.get("type")) if isinstance(item, dict) else (item, None)
        if not isinstance(value, str) or not isinstance(type_, str | None):
            errors.append(FieldError(f"indicators[{i}]", "must be text", code="invalid"))
            continue
        try:
            n = detect(value, type_)
        except InvalidInput as e:
            errors.extend(FieldError(f"indicators[{i}]", fe.message, code=fe.code) for fe in e.errors)
            continue
        if all(n.value != o.value or n.type != o.type for o in out):
            out.append(n)
    if errors:
        raise InvalidInput("The report was not accepted.", errors)
    return out


class ReportIntake:
    def __init__(self, *, db: Database, settings: Settings, vault: Vault, limiter: RateLimiter, orgs: OrgService,
                 store: IntelStore, grader: Grader, meter: Meter | None = None) -> None:
        """``meter``: counts reports kept, by category, who reported and status
        (``postguard_intel_reports_received_total``)."""
        self._received = (meter or Meter()).counter(
            "postguard_intel_reports_received", "Scam reports kept, by category, reporter kind (org, citizen, "
            "anonymous) and status (accepted, held, merged)", ("category", "reporter", "status"))
        self.db = db
        self.settings = settings
        self.vault = vault
        self.limiter = limiter
        self.orgs = orgs
        self.store = store
        self.grader = grader

    def report(self, *, indicators, category: str, description: str | None = None,
               amount_lost_vnd: int | str | None = None, occurred_on: str | None = None, contact: str | None = None,
               evidence: list[Upload] | None = None, principal: Principal | None = None, client: str) -> dict:
        """Accept a scam report (all or nothing). ``principal`` is an organisation reporting with the
        ``intel:report`` scope; without one it is a citizen's (with a contact) or anonymous report."""
        if principal is not None:
            self.orgs.require(principal, "intel:report")
        evidence = evidence or []
        s_ = self.settings
        errors: list[FieldError] = []
        if category not in CATEGORIES:
            errors.append(FieldError("category", f"choose from: {', '.join(CATEGORIES)}"))
        if description is not None and len(description) > MAX_TEXT:
            errors.append(FieldError("description", f"at most {MAX_TEXT} characters", code="too_long"))
        if contact is not None and len(contact) > 200:
            errors.append(FieldError("contact", "at most 200 characters", code="too_long"))
        try:  # a whole number (the API), or text as people write it (the report form: 350k, 1,5 triệu)
            amount_lost_vnd = amount_field(amount_lost_vnd, "amount_lost_vnd", minimum=0,
                                           maximum=MAX_LOSS_VND if isinstance(amount_lost_vnd, int) else MAX_VND)
        except InvalidInput as e:
            errors.extend(e.errors)
        if occurred_on:
            try:
                if date.fromisoformat(occurred_on) > utcnow().date():
                    errors.append(FieldError("occurred_on", "cannot be in the future", code="in_future"))
            except (ValueError, TypeError):
                errors.append(FieldError("occurred_on", "a date as YYYY-MM-DD"))
        if len(evidence) > s_.intel_evidence_max_files:
            errors.append(FieldError("evidence", f"at most {s_.intel_evidence_max_files} files", code="too_many"))
        if errors:
            raise InvalidInput("The report was not accepted.", errors)
        normals = parse_indicators(indicators)
        kinds = [check_file(u.data, declared=u.content_type, max_bytes=s_.intel_evidence_max_bytes, index=i)
                 for i, u in enumerate(evidence)]
        client_key = f"org:{principal.org_id}" if principal else client
        self.limiter.hit(s_.intel_report_rate, "intel-report", client_key,
                           message="Too many reports from this client; try again later.")
        contact = (contact or "").strip() or None
        self.store.ready()
        with self.db.session() as s:
            reporter = self.store.reporter(s, principal=principal, client=client)
            # Lock order: the reporter, then the platform's data key (every value sealed below reserves
            # under it), then the indicators; so two reports naming the same new numbers in another
            # order wait for each other instead of deadlocking.
            self.vault.sealer(s, org_id=self.store.key_org_id(), count=0)
            inds = [self.store.get_or_create(s, n) for n in normals]
            official = {i.id for n, i in zip(normals, inds, strict=True) if self.grader.official_for(s, n, i) is not None}
            kind = "org" if principal else ("citizen" if contact else "anonymous")
            fp = self.store.digest("fp\0" + reporter.key.hex() + "\0" + category + "\0"
                                   + ",".join(str(i) for i in sorted(i.id for i in inds)))
            original = s.execute(
                select(Report).where(Report.fingerprint == fp, Report.status.in_(("accepted", "held")),
                                     Report.created_at >= utcnow() - DUPLICATE_WINDOW)
                .order_by(Report.id).limit(1)
            ).scalar_one_or_none()
            rep = Report(public_id=secrets.token_urlsafe(12), reporter_id=reporter.id, reporter_kind=kind,
                         org_id=principal.org_id if principal else None, category=category,
                         amount_lost_vnd=amount_lost_vnd, occurred_on=occurred_on or None,
                         status="merged" if original else ("held" if official else "accepted"),
                         merged_into_id=original.id if original else None, fingerprint=fp, duplicates=0)
            s.add(rep)
            s.flush()
            rep.description_ct = self.store.seal(s, description, table="intel_reports", column="description",
                                                 record_id=rep.id)
            rep.contact_ct = self.store.seal(s, contact, table="intel_reports", column="contact", record_id=rep.id)
            target = original or rep
            for u, media in zip(evidence, kinds, strict=True):
                ev = Evidence(report_id=target.id, media_type=media, size=len(u.data))
                s.add(ev)
                s.flush()
                ev.content_ct = self.store.seal(s, u.data, table="intel_evidence", column="content", record_id=ev.id)
            if original is not None:
                original.duplicates += 1
            else:
                for ind in inds:
                    s.add(ReportIndicator(report_id=rep.id, indicator_id=ind.id))
                self.store.count_report(s, reporter)
            s.flush()
            verdicts = {}
            for ind in inds:
                ind.last_report_at = utcnow()
                if ind.id in official:
                    ind.needs_review, ind.review_reason = True, "official_reported"
                verdicts[ind.display] = self.grader.regrade(s, ind).verdict
            out = {"report": target.public_id, "status": "merged" if original else rep.status,
                   "reporter_kind": kind, "indicators": [{"type": i.type, "display": i.display,
                                                          "verdict": i.verdict} for i in inds],
                   "evidence": len(evidence)}
        self._received.inc(category, kind, str(out["status"]))
        return out

