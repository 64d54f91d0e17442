"""Who accessed a person's data, with proofs, and the person's own view (``my_data``).

Every access-log entry about a shipment comes with its RFC 9162 inclusion proof against the latest
signed checkpoint, checked here before it is shown. ``audit_mentions`` indexes which entries name
which waybills (each entry read once, ever).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from postguard.access.models import Staff
from postguard.audit import merkle
from postguard.audit.checkpoint import Checkpoint, open_checkpoint
from postguard.audit.models import AuditCheckpoint, AuditEntry
from postguard.orgs.models import Organisation
from postguard.principals import DataSubject
from postguard.privacy.formats import b64
from postguard.privacy.models import AuditMention, AuditMentionCursor
from postguard.shipments.models import Shipment
from postguard.shipments.service import masked_view
from postguard.vault.masking import mask_name

if TYPE_CHECKING:
    from postguard.audit.log import AuditLog
    from postguard.audit.witnessing import Witnessing
    from postguard.db import Database
    from postguard.privacy.subjects import Subjects

_WAYBILL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{3,39}$")  # as postguard.shipments.validation
_MENTIONS_LOCK = 0x6D656E74696F6E73  # "mentions"


def _call_check(entry: dict[str, Any], private: bool) -> dict[str, str | None] | None:
    """What a call-check entry says in words: ``{"kind": "call"|"spoken_code", "caller": "…678"}``
    (the caller's last three digits; withheld with the entry when it also names other parcels); None
    for other entries."""
    if entry.get("action") != "call_check" and entry.get("purpose") != "call_check":
        return None
    details = entry.get("details") or {}
    if details.get("check") == "spoken_code":
        return {"kind": "spoken_code", "caller": None}
    caller = details.get("caller")
    return {"kind": "call", "caller": caller if isinstance(caller, str) and not private else None}


class AccessHistory:
    def __init__(self, *, db: Database, audit: AuditLog, witnessing: Witnessing, subjects: Subjects) -> None:
        self.db = db
        self.audit = audit
        self.witnessing = witnessing
        self.subjects = subjects

    def _orgs(self, session: Session, org_id: int | None = None) -> list[Organisation]:
        q = select(Organisation).order_by(Organisation.code)
        if org_id is not None:
            q = q.where(Organisation.id == org_id)
        return list(session.execute(q).scalars())

    def _actors(self, session: Session, entries: Sequence[AuditEntry]) -> dict[int, Staff]:
        ids = {int(e.actor.split(":", 1)[1]) for e in entries
               if e.actor.startswith("staff:") and e.actor.split(":", 1)[1].isdigit()}
        if not ids:
            return {}
        return {st.id: st for st in session.execute(select(Staff).where(Staff.id.in_(ids))).scalars()}

    @staticmethod
    def _who(actor: str, me: str, staff: dict[int, Staff]) -> dict[str, str]:
        kind, _, rest = actor.partition(":")
        if actor == me:
            return {"kind": "you"}
        if kind == "staff" and rest.isdigit() and int(rest) in staff:
            st = staff[int(rest)]
            return {"kind": "staff", "role": st.role, "name": mask_name(st.display_name)}
        if kind == "subject":
            return {"kind": "data_subject"}  # another person's self-service lookup matched a candidate
        if kind == "citizen":
            return {"kind": "citizen"}  # a call check by someone who proved their number
        return {"kind": "system"}

    def index_mentions(self, *, batch: int = 5000) -> int:
        """Bring ``audit_mentions`` up to the end of the log (each entry is read once, ever); returns
        how many entries were read. Several workers may call it at once: the cursor moves only
        forward, and an entry indexed twice is harmless."""
        total = 0
        while True:
            with self.db.session() as s:
                conn = s.connection()
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MENTIONS_LOCK})
                start = s.execute(select(AuditMentionCursor.size).where(AuditMentionCursor.id == 1)).scalar_one()
                rows = s.execute(select(AuditEntry.idx, AuditEntry.org_id, AuditEntry.subject, AuditEntry.entry)
                                 .where(AuditEntry.idx >= start).order_by(AuditEntry.idx).limit(batch)).all()
                if not rows:
                    return total
                mentions: list[dict[str, Any]] = []
                for idx, org_id, subject, entry in rows:
                    if org_id is None:
                        continue
                    named = (json.loads(entry).get("details") or {}).get("waybills")
                    names = {w for w in ([subject] + (named if isinstance(named, list) else []))
                             if isinstance(w, str) and _WAYBILL.match(w)}
                    mentions += [{"org_id": org_id, "waybill": w, "idx": idx} for w in names]
                if mentions:
                    ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(AuditMention)
                    s.execute(ins.on_conflict_do_nothing(), mentions)
                s.execute(update(AuditMentionCursor).where(AuditMentionCursor.id == 1,
                                                           AuditMentionCursor.size < rows[-1].idx + 1)
                          .values(size=rows[-1].idx + 1))
                total += len(rows)

    def entries(self, session: Session, *, org_id: int, waybills: set[str], me: str, tree: merkle.MerkleTree,
                size: int) -> dict[str, list[dict[str, Any]]]:
        """Access-log entries about each of ``waybills`` (named as subject or listed in the details),
        each with its inclusion proof in the tree of ``size`` entries, checked. Call
        ``index_mentions`` first."""
        out: dict[str, list[dict[str, Any]]] = {w: [] for w in waybills}
        if not waybills:
            return out
        rows = session.execute(
            select(AuditEntry).where(AuditEntry.idx.in_(
                select(AuditMention.idx).where(AuditMention.org_id == org_id,
                                               AuditMention.waybill.in_(sorted(waybills)))),
                AuditEntry.org_id == org_id, AuditEntry.idx < size)
            .order_by(AuditEntry.idx)
        ).scalars().all()
        staff = self._actors(session, rows)
        for row in rows:
            entry = json.loads(row.entry)
            named = set((entry.get("details") or {}).get("waybills") or [])
            about = waybills & ({row.subject} | named)
            if not about:
                continue
            leaf_ok = merkle.leaf_hash(row.entry.encode("utf-8")) == row.leaf_hash
            proof = tree.inclusion_proof(row.idx, size)
            verified = leaf_ok and merkle.verify_inclusion(leaf_hash=row.leaf_hash, index=row.idx, tree_size=size,
                                                           proof=proof, root=tree.root(size))
            # An entry that also names other people's parcels is shown without its content (the leaf
            # hash still proves it is in the log).
            private = bool(named - waybills)
            item = {
                "index": row.idx, "at": entry.get("at"), "action": row.action, "purpose": entry.get("purpose"),
                "actor": self._who(row.actor, me, staff), "call_check": _call_check(entry, private),
                "proof": {"index": row.idx, "tree_size": size, "leaf_hash": b64(row.leaf_hash),
                          "proof": [b64(h) for h in proof], "entry": None if private else entry,
                          "entry_withheld": private, "verified": verified},
            }
            for w in about:
                out[w].append(item)
        return out

    def checkpoint(self) -> tuple[AuditCheckpoint, str, Checkpoint]:
        """The latest signed checkpoint covering everything logged so far, its verified size and root."""
        cp = self.audit.checkpoint() or self.audit.latest_checkpoint()
        vkey = self.audit.verifier_key()
        body = open_checkpoint(cp.note, verifier_key=vkey)  # refuses a checkpoint that does not verify
        return cp, vkey, body

    def my_data(self, e164: str) -> dict[str, Any]:
        """The person's shipments at every operator (masked) with who accessed them; logged."""
        e164 = self.subjects.phone(e164)
        found: list[tuple[Organisation, Shipment, tuple[str, ...]]] = []
        digest = self.subjects.subject_digest(e164)
        with self.db.session() as s:
            for org in self._orgs(s):
                me = DataSubject(org.id, digest)
                for sh, roles in self.subjects.match(s, org, me, e164, "data_subject"):
                    found.append((org, sh, roles))
        cp, vkey, body = self.checkpoint()
        self.index_mentions()
        with self.db.session() as s:  # the primary: a replica may not have the newest entries yet
            tree = self.audit.synced_tree(s)
            items: list[dict[str, Any]] = []
            by_org: dict[int, list[tuple[Organisation, Shipment, tuple[str, ...]]]] = {}
            for org, sh, roles in found:
                by_org.setdefault(org.id, []).append((org, sh, roles))
            for org_id, group in by_org.items():
                hist = self.entries(s, org_id=org_id, waybills={sh.waybill for _, sh, _ in group},
                                    me=DataSubject(org_id, digest).actor, tree=tree, size=cp.size)
                for org, sh, roles in group:
                    items.append({"organisation": {"code": org.code, "name": org.name, "hotline": org.hotline},
                                  **masked_view(sh), "matched_as": list(roles), "accesses": hist[sh.waybill]})
            # The newest checkpoint not co-signed yet: the latest that is, and the way to it.
            witnessed, older = self.witnessing.latest_cosigned(), None
            if witnessed is not None and 0 < witnessed[0].size < cp.size:
                older = {"checkpoint": witnessed[1], "tree_size": witnessed[0].size,
                         "consistency": [b64(h) for h in tree.consistency_proof(witnessed[0].size, cp.size)]}
        out: dict[str, Any] = {"shipments": items, "checkpoint": self.witnessing.cosigned_note(cp), "tree_size": cp.size,
               "root": b64(body.root), "verifier_key": vkey,
               "all_verified": all(a["proof"]["verified"] for i in items for a in i["accesses"])}
        if older is not None:
            out["witnessed"] = older
        return out
