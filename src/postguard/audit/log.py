"""The access log: append-only, RFC 9162 Merkle tree, signed checkpoints, proofs, verification.

Appends are group-committed: concurrent callers queue their entries; a caller that finds no write
in progress leads, committing everything queued in one transaction (one fsync) until its own entry
is durable, then hands the lead to the oldest waiter. Only the callers whose entries were written
are woken, so many waiting threads do not stampede after every commit; each caller returns only
after its entry is durable. ``append_many`` queues many entries as one request: one transaction,
consecutive indexes, all or nothing. Callers check and pre-encode their own entries, so the writer
only numbers, hashes, MACs and inserts them. The writer has a database connection of its own
(``Database.log_engine``), never one from the request pool: the caller leading a batch usually holds
a request connection already (a reveal decides in its session, appends, then decrypts), and so do
the callers waiting for it, so a writer drawing from that pool could wait for itself. On SQLite the
writer takes the write lock first (``BEGIN IMMEDIATE``); on PostgreSQL a transaction-level advisory lock serialises writers across workers;
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
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Table, func, select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.dialects import postgresql, sqlite

from postguard.audit import merkle
from postguard.audit.canonical import canonical, check, fragment
from postguard.audit.checkpoint import format_checkpoint, sign_note, verify_note, vkey
from postguard.audit.models import AuditCheckpoint, AuditEntry
from postguard.crypto import ed25519
from postguard.db.base import utcnow
from postguard.db.engine import placeholder
from postguard.errors import AuditUnavailable, FieldError, InvalidInput, NotFound
from postguard.metrics import Meter

if TYPE_CHECKING:
    from postguard.db.engine import Database

_LOCK_ID = 0x61756469746C6F67  # "auditlog"


_FIELDS = frozenset({"actor", "action", "org_id", "subject", "purpose", "details"})

# A checked entry, pre-encoded: (head, mid, tail, org_id, actor, action, subject); see ``_prepare``.
_Prepared = tuple[str, str, str, int | None, str, str, str | None]


def _prepare(actor: str, action: str, org_id: int | None, subject: str | None, purpose: str | None,
             details: Mapping[str, Any] | None, where: str) -> _Prepared:
    """Check one entry and pre-encode it around the two values only the writer knows.

    An entry's canonical JSON (RFC 8785: keys sorted by code point) is always
    ``{"action":…,"actor":…,"at":"<time>","details":…,"i":<index>,"org":…,"purpose":…,"subject":…}``,
    so it is ``head + at + mid + str(index) + tail``; a property test checks this against the
    general encoder. The work is done by the calling thread, before it joins the queue."""
    entry = {"actor": actor, "action": action, "org": org_id, "subject": subject, "purpose": purpose,
             "details": details or {}}
    check(entry, where)
    head = f'{{"action":{fragment(action)},"actor":{fragment(actor)},"at":"'
    mid = f'","details":{fragment(entry["details"])},"i":'
    tail = f',"org":{fragment(org_id)},"purpose":{fragment(purpose)},"subject":{fragment(subject)}}}'
    return head, mid, tail, org_id, actor, action, subject


def _insert_sql(dialect: Dialect) -> str:
    mark = placeholder(dialect)  # only the driver's placeholder is formatted in: the values are bound
    return (f"INSERT INTO audit_entries (idx, at, org_id, actor, action, subject, entry, leaf_hash, mac) "  # noqa: S608
            f"VALUES ({', '.join([mark] * 9)})")


class _Request:
    """Entries queued together by one caller; ``wake`` is a plain lock the caller sleeps on (the
    cheapest wake-up CPython offers)."""

    __slots__ = ("done", "error", "first", "items", "wake")

    def __init__(self, items: list[_Prepared]) -> None:
        self.items = items
        self.wake = threading.Lock()
        self.wake.acquire()
        self.done = False
        self.first = -1
        self.error: BaseException | None = None


@dataclass
class Problem:
    """What ``verify`` found wrong, from ``index`` on (``code``: one of ``PROBLEM_CODES``)."""

    index: int
    reason: str  # in English, for the log and the command line
    code: str = "other"  # the reason as a code, for the pages to say in the reader's language
    size: int | None = None  # the checkpoint's size, for the checkpoint codes


PROBLEM_CODES = ("missing", "time", "signature", "note", "tail_missing", "checkpoint", "not_canonical", "not_json",
                 "moved", "columns", "time_differs", "leaf_hash", "not_ours", "other")


@dataclass
class VerifyReport:
    entries: int
    checkpoints: int
    problems: list[Problem]
    tree: merkle.MerkleTree | None = None  # the entries that verified, for checks against outside anchors
    verifier_key: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.index) if self.problems else None


def _stamp(at: datetime) -> str:
    """An ``at`` column as the entry's logged time text (UTC, microseconds, as ``_write`` writes it)."""
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


# Given a session, the log's keys: the Ed25519 private key (a 32-byte seed) that signs checkpoints and
# the key that MACs each leaf hash. The wiring (``Platform.audit_keys``) takes them from the vault; the
# log never sees where they are kept.
AuditKeys = Callable[[Any], tuple[bytes, bytes]]


class AuditLog:
    CHECKPOINT_EVERY = 1.0  # seconds, while entries arrive

    def __init__(self, db: Database, *, origin: str, keys: AuditKeys, meter: Meter | None = None) -> None:
        """``meter``: counts the entries appended, the batches written and the writes and checkpoints
        that failed (``postguard_audit_*``)."""
        meter = meter or Meter()
        self._appended = meter.counter("postguard_audit_entries_appended", "Access-log entries written")
        self._batches = meter.counter("postguard_audit_batches", "Group-committed writes of the access log")
        self._failures = meter.counter("postguard_audit_write_failures",
                                       "Access-log writes that failed (the actions waiting on them were refused)")
        self._checkpoint_failures = meter.counter("postguard_audit_checkpoint_failures",
                                                  "Checkpoints that could not be signed or stored")
        self.db = db
        self.origin = origin
        self._key_source = keys
        self._tree = merkle.MerkleTree()
        self._tree_lock = threading.RLock()
        self._queue: list[_Request] = []
        self._lock = threading.Lock()
        self._writing = False
        self._last_checkpoint = 0.0
        self._signing: bytes | None = None
        self._mac: bytes | None = None
        self._stamp: tuple[Dialect, Callable[[Any], Any] | None] | None = None

    # -- keys ----------------------------------------------------------------------------------
    def _keys(self, session: Session) -> tuple[bytes, bytes]:
        if self._signing is None or self._mac is None:
            self._signing, self._mac = self._key_source(session)
        return self._signing, self._mac

    def verifier_key(self) -> str:
        """The C2SP verifier key (``name+id+key``) that checks this log's checkpoints."""
        with self.db.session() as s:
            signing, _ = self._keys(s)
        return vkey(self.origin, ed25519.public_key_bytes(private_key=signing))

    # -- appending -----------------------------------------------------------------------------
    def append(self, *, actor: str, action: str, org_id: int | None = None, subject: str | None = None,
               purpose: str | None = None, details: dict[str, Any] | None = None) -> int:
        """Append one entry and return its index once it is durable. Raises ``AuditUnavailable``
        when it could not be written: callers must then not reveal anything."""
        # refuse what cannot be logged before it joins (and could spoil) a batch
        return self._submit([_prepare(actor, action, org_id, subject, purpose, details, "entry")])

    def append_many(self, entries: Iterable[Mapping[str, Any]]) -> list[int]:
        """Append many entries in one transaction (for bulk reveals, exports, imports) and return
        their indexes, consecutive and in order, once all of them are durable. Each entry is a
        mapping with the keyword arguments of ``append`` (``actor`` and ``action`` required).

        All or nothing: an entry that cannot be logged raises ``InvalidInput`` naming it
        (``entries[3].details.x``) before anything is written, and a failed write raises
        ``AuditUnavailable`` and leaves none of them."""
        items = []
        for k, e in enumerate(entries):
            where = f"entries[{k}]"
            if not isinstance(e, Mapping):
                raise InvalidInput("Log entry not canonicalisable.", [FieldError(where, "must be a mapping")])
            unknown = set(e) - _FIELDS
            if unknown:
                raise InvalidInput("Log entry not canonicalisable.",
                                   [FieldError(f"{where}.{min(map(str, unknown))}", "unknown field")])
            for name in ("actor", "action"):
                if not isinstance(e.get(name), str):
                    raise InvalidInput("Log entry not canonicalisable.", [FieldError(f"{where}.{name}", "required text")])
            items.append(_prepare(e["actor"], e["action"], e.get("org_id"), e.get("subject"), e.get("purpose"),
                                  e.get("details"), where))
        if not items:
            return []
        first = self._submit(items)
        return list(range(first, first + len(items)))

    def _submit(self, items: list[_Prepared]) -> int:
        """Queue ``items`` as one request; lead the writing if nobody does, else sleep until they
        are written or the lead is handed over. Returns the index of the first item."""
        req = _Request(items)
        with self._lock:
            self._queue.append(req)
            lead = not self._writing
            self._writing = True
        if not lead:
            req.wake.acquire()  # released when our items are written, or when we are handed the lead
        if not req.done:
            self._lead(req)
        if req.error is not None:
            raise AuditUnavailable("The access log could not record this action; nothing was revealed.") \
                from req.error
        return req.first

    def _lead(self, mine: _Request) -> None:
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
                    self._queue[0].wake.release()  # its owner finds it not done and leads
                    return

    def _write_batch(self, batch: list[_Request]) -> None:
        """Write one group-committed batch (one transaction, one fsync); every waiter learns its
        index or the failure."""
        items = batch[0].items if len(batch) == 1 else [i for r in batch for i in r.items]
        try:
            first = self._write(items)
            for r in batch:
                r.first = first
                first += len(r.items)
            self._appended.inc(amount=len(items))
            self._batches.inc()
        except BaseException as exc:
            self._failures.inc()
            for r in batch:
                r.error = exc
        for r in batch:
            r.done = True
            r.wake.release()  # the leader's own lock too: it is held, nobody waits on it
        if time.monotonic() - self._last_checkpoint >= self.CHECKPOINT_EVERY:
            try:
                self.checkpoint(unit_of_work=self.db.log_session)
            except Exception:  # a late checkpoint is retried on the next write or tick
                self._checkpoint_failures.inc()

    def synced_tree(self, session: Session | Connection) -> merkle.MerkleTree:
        """The Merkle tree of every committed entry, for proofs: ``_sync`` on the session's view."""
        return self._sync(session)

    def _sync(self, session: Session | Connection) -> merkle.MerkleTree:
        """Catch the in-memory tree up with entries other workers wrote (``session``: an ORM
        session or a connection)."""
        conn = session if isinstance(session, Connection) else session.connection()
        with self._tree_lock:
            rows = conn.exec_driver_sql(
                f"SELECT idx, leaf_hash FROM audit_entries WHERE idx >= {placeholder(conn.dialect)} ORDER BY idx",  # noqa: S608
                (self._tree.size,)).all()
            for idx, lh in rows:
                if idx != self._tree.size:
                    raise AuditUnavailable(f"access log has a gap at entry {self._tree.size}; run `postguard audit verify`")
                self._tree.append(lh)
            return self._tree

    def _write(self, items: list[_Prepared]) -> int:
        """Number, hash, MAC and insert prepared entries in one transaction; return the first index.
        The in-memory tree grows only after the commit."""
        mac_key = self._mac
        if mac_key is None:
            with self.db.log_session() as s:
                _, mac_key = self._keys(s)
        with self.db.log_engine.begin() as conn:
            dialect = conn.dialect
            if dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
            elif dialect.name == "sqlite":
                # take the write lock before reading the tree size, so that another process
                # cannot write the same indexes between that read and our insert
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            tree = self._sync(conn)
            first = tree.size
            now = utcnow()
            at = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            if self._stamp is None or self._stamp[0] is not dialect:
                bind = AuditEntry.__table__.c.at.type.dialect_impl(dialect).bind_processor(dialect)
                self._stamp = (dialect, bind)
            stamp = self._stamp[1](now) if self._stamp[1] else now
            sha, digest, leaf = hashlib.sha256, hmac.digest, b"\x00"
            rows, leaves = [], []
            i = first
            for head, mid, tail, org, actor, action, subject in items:
                data = f"{head}{at}{mid}{i}{tail}"  # = canonical JSON of {"i": i, "at": at, **entry}
                lh = sha(leaf + data.encode("utf-8")).digest()
                leaves.append(lh)
                rows.append((i, stamp, org, actor, action, subject, data, lh, digest(mac_key, lh, "sha256")))
                i += 1
            conn.exec_driver_sql(_insert_sql(dialect), rows)
        with self._tree_lock:
            if self._tree.size == first:
                self._tree.extend(leaves)
        return first

    # -- checkpoints ---------------------------------------------------------------------------
    def checkpoint(self, *, unit_of_work: Callable[[], AbstractContextManager[Session]] | None = None,
                   ) -> AuditCheckpoint | None:
        """Sign and store a checkpoint of the current log (none when the log is empty or unchanged).
        The writer passes its own connection's ``Database.log_session`` as ``unit_of_work``."""
        with (unit_of_work or self.db.session)() as s:
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
                cast(Table, AuditCheckpoint.__table__))
            s.execute(ins.values(size=size, root=root, note=note, created_at=utcnow()).on_conflict_do_nothing())
            return s.get(AuditCheckpoint, size)

    def latest_checkpoint(self) -> AuditCheckpoint:
        with self.db.session() as s:
            cp = s.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1)).scalar_one_or_none()
        if cp is None:
            cp = self.checkpoint()
        if cp is None:
            raise NotFound("The access log is empty.")
        return cp

    # -- proofs --------------------------------------------------------------------------------
    def inclusion(self, index: int, *, size: int | None = None, org_id: int | None = None) -> dict[str, Any]:
        """Inclusion proof of entry ``index`` in the tree of ``size`` entries (default: the latest
        checkpoint, made now if the entry is newer). With ``org_id``, only that organisation's entries."""
        cp = self.latest_checkpoint()
        if size is None:
            if index >= cp.size:
                cp = self.checkpoint() or cp
            size = cp.size
        with self.db.session() as s:
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

    def consistency(self, size1: int, size2: int) -> dict[str, Any]:
        with self.db.session() as s:
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
        with self.db.session() as s:
            signing, mac_key = self._keys(s)
            verifier = vkey(self.origin, ed25519.public_key_bytes(private_key=signing))
            try:
                for row in s.execute(select(AuditEntry).order_by(AuditEntry.idx)
                                     .execution_options(yield_per=5000)).scalars():
                    if row.idx != expected:
                        problems.append(Problem(expected, f"entry {expected} is missing (deleted or renumbered)", "missing"))
                        break
                    found = self._check_row(row, mac_key)
                    if found:
                        problems.append(Problem(row.idx, found[1], found[0]))
                        break
                    tree.append(merkle.leaf_hash(row.entry.encode("utf-8")))
                    expected += 1
            except ValueError:  # a column holds what its type cannot (SQLite stores any text)
                bad = self._unreadable(s, expected)
                problems.append(Problem(bad, f"entry {bad} time is not a time (edited)", "time"))
            checkpoints = s.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.size)).scalars().all()
        count = expected
        for cp in checkpoints:
            try:
                verify_note(cp.note, verifier_key=verifier)
            except Exception:
                problems.append(Problem(cp.size - 1, f"checkpoint at size {cp.size} has a bad signature", "signature",
                                        cp.size))
                continue
            if f"\n{cp.size}\n{_b64(cp.root)}\n" not in cp.note:
                problems.append(Problem(cp.size - 1, f"checkpoint at size {cp.size} does not match its note", "note",
                                        cp.size))
            elif cp.size > tree.size:
                if not problems:
                    problems.append(Problem(tree.size, f"entries from {tree.size} on are missing "
                                                       f"(a checkpoint covers {cp.size})", "tail_missing", cp.size))
            elif tree.root(cp.size) != cp.root:
                problems.append(Problem(cp.size - 1, f"entries up to {cp.size} do not match the signed checkpoint",
                                        "checkpoint", cp.size))
        return VerifyReport(entries=count, checkpoints=len(checkpoints), problems=problems, tree=tree,
                            verifier_key=verifier)

    @staticmethod
    def _unreadable(session: Session, start: int) -> int:
        """The first entry from ``start`` on whose stored time does not parse."""
        conn = session.connection()
        rows = conn.exec_driver_sql(f"SELECT idx, at FROM audit_entries WHERE idx >= {placeholder(conn.dialect)} "  # noqa: S608
                                    "ORDER BY idx", (start,))
        for idx, at in rows:
            if isinstance(at, str):
                try:
                    datetime.fromisoformat(at)
                except ValueError:
                    return int(idx)
        return start

    @staticmethod
    def _check_row(row: AuditEntry, mac_key: bytes) -> tuple[str, str] | None:
        """``(code, reason)`` of what is wrong with a stored entry, or None."""
        try:
            parsed = json.loads(row.entry)
            if canonical(parsed).decode("utf-8") != row.entry:
                return "not_canonical", f"entry {row.idx} is not in canonical form (edited)"
        except Exception:
            return "not_json", f"entry {row.idx} is not valid JSON (edited)"
        if parsed.get("i") != row.idx:
            return "moved", f"entry {row.idx} holds entry {parsed.get('i')} (reordered or moved)"
        if (parsed.get("actor"), parsed.get("action"), parsed.get("subject"), parsed.get("org")) != (
                row.actor, row.action, row.subject, row.org_id):
            return "columns", f"entry {row.idx} columns differ from its logged content (edited)"
        if row.at is None or _stamp(row.at) != parsed.get("at"):
            return "time_differs", f"entry {row.idx} time differs from its logged time (edited)"
        lh = merkle.leaf_hash(row.entry.encode("utf-8"))
        if row.leaf_hash != lh:
            return "leaf_hash", f"entry {row.idx} leaf hash does not match its content (edited)"
        if not hmac.compare_digest(row.mac, hmac.digest(mac_key, lh, hashlib.sha256)):
            return "not_ours", f"entry {row.idx} was not written by postguard (edited or inserted)"
        return None
