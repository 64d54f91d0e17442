"""The access log: append-only, RFC 9162 Merkle tree, signed checkpoints, proofs, verification.

Appends are group-committed: concurrent callers queue their entries; a caller that finds no write
in progress leads, committing everything queued in one transaction (one fsync) until its own entry
is durable, then hands the lead to the oldest waiter. Only the callers whose entries were written
are woken, so many waiting threads do not stampede after every commit; each caller returns only
after its entry is durable. On PostgreSQL a transaction-level advisory lock serialises writers across workers;
each worker keeps an in-memory ``MerkleTree`` and catches up from the table before it writes or
proves.

Each entry is canonical JSON (RFC 8785) holding its own index, so a row moved to another place no
longer matches; its leaf hash is also MAC'd with a key the database does not hold in the clear, so
``verify`` can name the first edited, inserted, deleted or reordered entry, while the signed
checkpoints let anyone without that key check the log through inclusion and consistency proofs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from postguard.audit import merkle
from postguard.audit.canonical import canonical, check, encode
from postguard.audit.checkpoint import format_checkpoint, sign_note, verify_note, vkey
from postguard.audit.models import AuditCheckpoint, AuditEntry
from postguard.db.base import utcnow
from postguard.db.engine import placeholder
from postguard.errors import AuditUnavailable, FieldError, InvalidInput, NotFound
from postguard.vault import ed25519

_LOCK_ID = 0x61756469746C6F67  # "auditlog"


@dataclass
class _Pending:
    entry: dict
    done: bool = False
    index: int | None = None
    error: BaseException | None = None
    wake: threading.Event = field(default_factory=threading.Event)


@dataclass
class Problem:
    index: int
    reason: str


@dataclass
class VerifyReport:
    entries: int
    checkpoints: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.index) if self.problems else None


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


class AuditLog:
    CHECKPOINT_EVERY = 1.0  # seconds, while entries arrive

    def __init__(self, platform) -> None:
        self.p = platform
        self.origin = platform.settings.audit_origin
        self._tree = merkle.MerkleTree()
        self._tree_lock = threading.RLock()
        self._queue: list[_Pending] = []
        self._lock = threading.Lock()
        self._writing = False
        self._last_checkpoint = 0.0
        self._signing: bytes | None = None
        self._mac: bytes | None = None

    # -- keys ----------------------------------------------------------------------------------
    def _keys(self, session) -> tuple[bytes, bytes]:
        if self._signing is None:
            self._signing = self.p.vault.service_secret(session, purpose="audit-signing")
            self._mac = self.p.vault.service_secret(session, purpose="audit-mac")
        return self._signing, self._mac

    def verifier_key(self) -> str:
        """The C2SP verifier key (``name+id+key``) that checks this log's checkpoints."""
        with self.p.db.session() as s:
            signing, _ = self._keys(s)
        return vkey(self.origin, ed25519.public_key_bytes(private_key=signing))

    # -- appending -----------------------------------------------------------------------------
    def append(self, *, actor: str, action: str, org_id: int | None = None, subject: str | None = None,
               purpose: str | None = None, details: dict | None = None) -> int:
        """Append one entry and return its index once it is durable. Raises ``AuditUnavailable``
        when it could not be written: callers must then not reveal anything."""
        entry = {"actor": actor, "action": action, "org": org_id, "subject": subject, "purpose": purpose,
                 "details": details or {}}
        check(entry)  # refuse what cannot be logged before it joins (and could spoil) a batch
        pending = _Pending(entry)
        with self._lock:
            self._queue.append(pending)
            lead = not self._writing
            self._writing = True
        if not lead:
            pending.wake.wait()  # set when our entry is written, or when we are handed the lead
        if not pending.done:
            self._lead(pending)
        if pending.error is not None:
            raise AuditUnavailable("The access log could not record this action; nothing was revealed.") \
                from pending.error
        return pending.index

    def _lead(self, mine: _Pending) -> None:
        """Write batches until ``mine`` is durable, then hand the lead to the oldest waiter (one
        wake-up), or stand down when nobody waits. Only the members of a written batch are woken."""
        while True:
            with self._lock:
                batch, self._queue = self._queue, []
            self._write_batch(batch)
            with self._lock:
                if not self._queue:
                    self._writing = False
                    return
                if mine.done:
                    self._queue[0].wake.set()  # its owner finds it not done and leads
                    return

    def _write_batch(self, batch: list[_Pending]) -> None:
        """Write one group-committed batch; every waiter learns its index or the failure."""
        try:
            first = self._write([b.entry for b in batch])
            for k, b in enumerate(batch):
                b.index = first + k
        except BaseException as exc:
            for b in batch:
                b.error = exc
        for b in batch:
            b.done = True
            b.wake.set()
        if time.monotonic() - self._last_checkpoint >= self.CHECKPOINT_EVERY:
            try:
                self.checkpoint()
            except Exception:  # a late checkpoint is retried on the next write or tick
                pass

    def _sync(self, session) -> merkle.MerkleTree:
        """Catch the in-memory tree up with entries other workers wrote."""
        with self._tree_lock:
            rows = session.execute(
                select(AuditEntry.idx, AuditEntry.leaf_hash).where(AuditEntry.idx >= self._tree.size)
                .order_by(AuditEntry.idx)
            ).all()
            for idx, lh in rows:
                if idx != self._tree.size:
                    raise AuditUnavailable(f"access log has a gap at entry {self._tree.size}; run `postguard audit verify`")
                self._tree.append(lh)
            return self._tree

    def _write(self, entries: list[dict]) -> int:
        with self.p.db.session() as s:
            conn = s.connection()
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
            _, mac_key = self._keys(s)
            tree = self._sync(s)
            first = tree.size
            now = utcnow()
            at = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            stamp = AuditEntry.__table__.c.at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
            stamp = stamp(now) if stamp else now
            mac = hmac.new(mac_key, digestmod=hashlib.sha256)
            rows, leaves = [], []
            for k, e in enumerate(entries):
                data = encode({"i": first + k, "at": at, **e})  # e was checked in append
                lh = merkle.leaf_hash(data)
                leaves.append(lh)
                m = mac.copy()
                m.update(lh)
                rows.append((first + k, stamp, e["org"], e["actor"], e["action"], e["subject"],
                             data.decode("utf-8"), lh, m.digest()))
            mark = placeholder(conn.dialect)
            conn.exec_driver_sql(
                f"INSERT INTO audit_entries (idx, at, org_id, actor, action, subject, entry, leaf_hash, mac) "
                f"VALUES ({', '.join([mark] * 9)})", rows)
        with self._tree_lock:
            if self._tree.size == first:
                self._tree.extend(leaves)
        return first

    # -- checkpoints ---------------------------------------------------------------------------
    def checkpoint(self) -> AuditCheckpoint | None:
        """Sign and store a checkpoint of the current log (none when the log is empty or unchanged)."""
        with self.p.db.session() as s:
            signing, _ = self._keys(s)
            tree = self._sync(s)
            size = tree.size
            self._last_checkpoint = time.monotonic()
            if size == 0:
                return None
            latest = s.execute(select(func.max(AuditCheckpoint.size))).scalar_one()
            if latest is not None and latest >= size:
                return s.get(AuditCheckpoint, latest)
            root = tree.root(size)
            note = sign_note(format_checkpoint(origin=self.origin, size=size, root=root), name=self.origin,
                             private_key=signing)
            ins = (postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert)(
                AuditCheckpoint.__table__)
            s.execute(ins.values(size=size, root=root, note=note, created_at=utcnow()).on_conflict_do_nothing())
            return s.get(AuditCheckpoint, size)

    def latest_checkpoint(self) -> AuditCheckpoint:
        with self.p.db.session() as s:
            cp = s.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1)).scalar_one_or_none()
        if cp is None:
            cp = self.checkpoint()
        if cp is None:
            raise NotFound("The access log is empty.")
        return cp

    # -- proofs --------------------------------------------------------------------------------
    def inclusion(self, index: int, *, size: int | None = None, org_id: int | None = None) -> dict:
        """Inclusion proof of entry ``index`` in the tree of ``size`` entries (default: the latest
        checkpoint, made now if the entry is newer). With ``org_id``, only that organisation's entries."""
        cp = self.latest_checkpoint()
        if size is None:
            if index >= cp.size:
                cp = self.checkpoint() or cp
            size = cp.size
        with self.p.db.session() as s:
            tree = self._sync(s)
            entry = s.get(AuditEntry, index)
            note = s.get(AuditCheckpoint, size)
        if entry is None or (org_id is not None and entry.org_id != org_id):
            raise NotFound(f"No access-log entry {index}.")
        if not 0 <= index < size <= tree.size:
            raise InvalidInput("No such entry in that tree.", [FieldError("index", f"0 ≤ index < size ≤ {tree.size}")])
        return {"index": index, "tree_size": size, "entry": json.loads(entry.entry),
                "leaf_hash": _b64(entry.leaf_hash), "proof": [_b64(h) for h in tree.inclusion_proof(index, size)],
                "root": _b64(tree.root(size)), "checkpoint": note.note if note else None}

    def consistency(self, size1: int, size2: int) -> dict:
        with self.p.db.session() as s:
            tree = self._sync(s)
        if not 0 <= size1 <= size2 <= tree.size:
            raise InvalidInput("Bad tree sizes.", [FieldError("size1", f"0 ≤ size1 ≤ size2 ≤ {tree.size}")])
        return {"size1": size1, "size2": size2, "root1": _b64(tree.root(size1)), "root2": _b64(tree.root(size2)),
                "proof": [_b64(h) for h in tree.consistency_proof(size1, size2)]}

    # -- verification --------------------------------------------------------------------------
    def verify(self) -> VerifyReport:
        """Recompute everything from the stored entries: canonical form, index, columns, leaf hash,
        MAC, and every stored checkpoint's root and signature."""
        problems: list[Problem] = []
        tree = merkle.MerkleTree()
        expected = 0
        with self.p.db.session() as s:
            signing, mac_key = self._keys(s)
            verifier = vkey(self.origin, ed25519.public_key_bytes(private_key=signing))
            for row in s.execute(select(AuditEntry).order_by(AuditEntry.idx).execution_options(yield_per=5000)).scalars():
                if row.idx != expected:
                    problems.append(Problem(expected, f"entry {expected} is missing (deleted or renumbered)"))
                    break
                reason = self._check_row(row, mac_key)
                if reason:
                    problems.append(Problem(row.idx, reason))
                    break
                tree.append(merkle.leaf_hash(row.entry.encode("utf-8")))
                expected += 1
            checkpoints = s.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.size)).scalars().all()
        count = expected
        for cp in checkpoints:
            try:
                verify_note(cp.note, verifier_key=verifier)
            except Exception:
                problems.append(Problem(cp.size - 1, f"checkpoint at size {cp.size} has a bad signature"))
                continue
            if f"\n{cp.size}\n{_b64(cp.root)}\n" not in cp.note:
                problems.append(Problem(cp.size - 1, f"checkpoint at size {cp.size} does not match its note"))
            elif cp.size > tree.size:
                if not problems:
                    problems.append(Problem(tree.size, f"entries from {tree.size} on are missing "
                                                       f"(a checkpoint covers {cp.size})"))
            elif tree.root(cp.size) != cp.root:
                problems.append(Problem(cp.size - 1, f"entries up to {cp.size} do not match the signed checkpoint"))
        return VerifyReport(entries=count, checkpoints=len(checkpoints), problems=problems)

    @staticmethod
    def _check_row(row: AuditEntry, mac_key: bytes) -> str | None:
        try:
            parsed = json.loads(row.entry)
            if canonical(parsed).decode("utf-8") != row.entry:
                return f"entry {row.idx} is not in canonical form (edited)"
        except Exception:
            return f"entry {row.idx} is not valid JSON (edited)"
        if parsed.get("i") != row.idx:
            return f"entry {row.idx} holds entry {parsed.get('i')} (reordered or moved)"
        if (parsed.get("actor"), parsed.get("action"), parsed.get("subject"), parsed.get("org")) != (
                row.actor, row.action, row.subject, row.org_id):
            return f"entry {row.idx} columns differ from its logged content (edited)"
        lh = merkle.leaf_hash(row.entry.encode("utf-8"))
        if row.leaf_hash != lh:
            return f"entry {row.idx} leaf hash does not match its content (edited)"
        if not hmac.compare_digest(row.mac, hmac.digest(mac_key, lh, hashlib.sha256)):
            return f"entry {row.idx} was not written by postguard (edited or inserted)"
        return None
