"""Evidence that crosses borders: one signed bundle per case, that another country's authority checks
offline (``postguard evidence verify``, ``postguard.privacy.proofs.verify_evidence``: no database, no
network).

A case is an indicator (a scam number, account, wallet or site) with what is known about it: its value
(opened through the door, purpose ``evidence_bundle``), the reports on it (category, amount lost, dates;
the reporters' texts and contacts stay out), the analysts' decisions and appeals as a timeline, the
SHA-256 of each evidence file (opened through the door, purpose ``evidence_files``, to hash them; the
files themselves travel separately, e.g. in a takedown pack), and the access-log entries about the case
with RFC 9162 inclusion proofs against a signed checkpoint. The whole bundle is signed with Ed25519 over
its RFC 8785 canonical form, with the platform's ``evidence-signing`` key; the signer's public key is
published (``postguard evidence key``) for the receiving authority to pin.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from postguard.audit.canonical import canonical
from postguard.audit.models import AuditEntry
from postguard.crypto import ed25519
from postguard.crypto.notes import vkey
from postguard.db.base import utcnow
from postguard.intel.models import Appeal, Decision, Evidence, Report, ReportIndicator
from postguard.principals import Principal

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.intel.store import IntelStore
    from postguard.orgs.service import OrgService

FORMAT = "postguard-evidence/1"
KEY_PURPOSE = "evidence-signing"  # the platform secret whose bytes are the Ed25519 seed
MAX_LOG_ENTRIES = 200


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _iso(d: Any) -> str | None:
    return d.isoformat() if d is not None else None


def signed_body(bundle: dict[str, Any]) -> bytes:
    """What the signature covers: the bundle without its ``signature``, in RFC 8785 canonical form."""
    return canonical({k: v for k, v in bundle.items() if k != "signature"})


class EvidenceBundles:
    def __init__(self, *, db: Database, audit: AuditLog, orgs: OrgService, door: Door, store: IntelStore,
                 signing_seed: Callable[[Session], bytes], issuer: str) -> None:
        self.db, self.audit, self.orgs, self.door, self.store = db, audit, orgs, door, store
        self._seed, self.issuer = signing_seed, issuer

    def _signing_seed(self) -> bytes:
        """The Ed25519 seed, read (or made, the first time, and stored) on the primary."""
        with self.db.session() as s:
            return self._seed(s)

    def _vkey(self, seed: bytes) -> str:
        return vkey(self.issuer + "/evidence", ed25519.public_key_bytes(private_key=seed))

    def signer_key(self) -> str:
        """The bundles' verifier key (C2SP note format, as the access log's): publish it for authorities."""
        return self._vkey(self._signing_seed())

    def build(self, principal: Principal, indicator_id: int) -> dict[str, Any]:
        self.orgs.require(principal, "intel:analyst")
        self.store.ready()
        subject = f"indicator:{indicator_id}"
        with self.db.read_session() as s:
            ind = self.store.indicator(s, indicator_id)
            value = self.door.open(s, principal, "evidence_bundle", [self.store.sealed(
                ind.value_ct, table="intel_indicators", column="value", record_id=ind.id)],
                subject=subject)[0] if ind.value_ct is not None else ind.value
            reports = s.execute(select(Report).join(ReportIndicator, ReportIndicator.report_id == Report.id)
                                .where(ReportIndicator.indicator_id == ind.id).order_by(Report.created_at)).scalars().all()
            files = s.execute(select(Evidence).where(Evidence.report_id.in_([r.id for r in reports]),
                                                     Evidence.content_ct.is_not(None)).order_by(Evidence.id)
                              ).scalars().all() if reports else []
            opened = self.door.open_files(s, principal, "evidence_files", [self.store.sealed(
                e.content_ct, table="intel_evidence", column="content", record_id=e.id) for e in files],
                subject=subject) if files else []
            decisions = s.execute(select(Decision).where(Decision.indicator_id == ind.id).order_by(Decision.id)
                                  ).scalars().all()
            appeals = s.execute(select(Appeal).where(Appeal.indicator_id == ind.id).order_by(Appeal.created_at)
                                ).scalars().all()
            by_public = {r.id: r.public_id for r in reports}
            case = {"indicator": ind.id, "type": ind.type, "value": value, "qualifier": ind.qualifier,
                    "verdict": ind.verdict, "score": ind.score, "decision": ind.decision,
                    "first_seen_at": _iso(ind.first_seen_at), "last_report_at": _iso(ind.last_report_at)}
            report_rows = [{"report": r.public_id, "category": r.category, "reporter_kind": r.reporter_kind,
                            "amount_lost_vnd": r.amount_lost_vnd, "occurred_on": r.occurred_on,
                            "received_at": _iso(r.created_at), "status": r.status} for r in reports]
            evidence = [{"report": by_public[e.report_id], "media_type": e.media_type, "size": e.size,
                         "sha256": hashlib.sha256(data).hexdigest()}
                        for e, data in zip(files, opened, strict=True) if data is not None]
            timeline = sorted(
                [{"at": _iso(ind.first_seen_at), "event": "first_seen"}]
                + [{"at": r["received_at"], "event": "reported", "report": r["report"], "category": r["category"]}
                   for r in report_rows]
                + [{"at": _iso(d.at), "event": f"analyst_{d.action}",
                    "verdict": d.to_verdict} for d in decisions]
                + [{"at": _iso(a.created_at), "event": "appeal", "status": a.status} for a in appeals],
                key=lambda e: e["at"] or "")
        index = self.audit.append(actor=principal.actor, action="evidence_bundle", org_id=principal.org_id,
                                  subject=subject, details={"reports": len(report_rows), "files": len(evidence)})
        checkpoint = self.audit.checkpoint()
        with self.db.read_session() as s:
            entries = s.execute(select(AuditEntry.idx).where(AuditEntry.subject == subject)
                                .order_by(AuditEntry.idx.desc()).limit(MAX_LOG_ENTRIES)).scalars().all()
        size = checkpoint.size if checkpoint else index + 1
        proofs = [self.audit.inclusion(i, size=size) for i in sorted(set(entries) | {index}) if i < size]
        bundle: dict[str, Any] = {
            "format": FORMAT, "issuer": self.issuer, "created_at": _iso(utcnow()), "case": case,
            "reports": report_rows, "timeline": timeline, "evidence_files": evidence,
            "log": {"verifier_key": self.audit.verifier_key(), "checkpoint": checkpoint.note if checkpoint else None,
                    "proofs": [{k: p[k] for k in ("index", "tree_size", "entry", "leaf_hash", "proof")} for p in proofs]},
        }
        seed = self._signing_seed()  # one read: the key named is the key that signs
        bundle["signer"] = self._vkey(seed)
        bundle["signature"] = _b64(ed25519.sign(signed_body(bundle), private_key=seed))
        return bundle
