"""The log's side of witnessing, and the checks that anchor ``audit verify`` outside the database.

The database's owner can delete, truncate or restore the access log together with its checkpoints:
every stored checkpoint then still matches the entries that are left. Two anchors they cannot roll
back catch that:

* **Witnesses** (``POSTGUARD_AUDIT_WITNESSES``), run by other parties (``postguard witness serve``).
  Each new checkpoint is submitted with a consistency proof from the size the witness last
  co-signed (C2SP tlog-witness); the answered cosignatures are stored in ``audit_cosignatures`` and
  shown with the checkpoint. A failing witness never blocks logging: it is counted
  (``postguard_audit_witness_failures_total``), and ``audit status`` shows how far behind it is.
  ``audit verify --witness 'URL KEY'`` (or ``KEY`` of a configured witness) asks the witness for the
  latest checkpoint it co-signed and requires the log's entries to reach that size with the same
  root. Stored cosignatures are checked but never serve as the anchor: they roll back with the log.
* **A pinned checkpoint**: ``audit verify`` keeps the latest checkpoint it verified, with the log's
  verifier key, in a file of the auditor's (``--pin``, by default named after the log's origin and
  database), and on the next run requires the log to be consistent with it and signed by that key.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, func, select

from postguard.audit.checkpoint import MalformedNote, NoteVerificationError, VerifierKey, open_checkpoint
from postguard.audit.log import AuditLog, Problem, VerifyReport
from postguard.audit.models import AuditCheckpoint, AuditCosignature
from postguard.audit.witness import (
    SIZE_MEDIA_TYPE,
    _write_atomically,
    add_signature_lines,
    request_body,
    verify_cosignature,
)
from postguard.crypto.notes import WitnessEntry, parse_witness_entry, parse_witness_vkey
from postguard.errors import AuditUnavailable, FieldError, InvalidInput
from postguard.logging import get_logger

if TYPE_CHECKING:
    import httpx
    from prometheus_client.core import Metric

    from postguard.audit.merkle import MerkleTree
    from postguard.db.engine import Database


log = get_logger("postguard.audit.witnessing")


def _ident(key: VerifierKey) -> str:
    return f"{key.name}+{key.key_id.hex()}"


class WitnessFailure(Exception):
    """A witness did not co-sign (unreachable, refused, or answered something unusable)."""


@dataclass(frozen=True)
class Anchor:
    """A size and root the log must still be consistent with, and who vouches for it."""

    size: int
    root: bytes
    source: str


def check_anchor(tree: MerkleTree, anchor: Anchor) -> Problem | None:
    if anchor.size > tree.size:
        return Problem(tree.size, f"the log holds {tree.size} entries but {anchor.source} covers {anchor.size}: "
                                  "entries were deleted or an older copy of the log was restored")
    if anchor.size and tree.root(anchor.size) != anchor.root:
        return Problem(anchor.size - 1, f"entries up to {anchor.size} differ from {anchor.source}: "
                                        "the log was rewritten")
    return None


# --- pinning -------------------------------------------------------------------------------------


def log_identity(origin: str, database_url: str) -> str:
    """What names a log for its auditor: the configured origin and the database it is read from
    (without any password). Neither changes when rows are deleted, unlike the log's verifier key,
    which lives in the database and is created afresh when missing."""
    from sqlalchemy.engine import make_url

    try:
        where = make_url(str(database_url)).set(password=None).render_as_string(hide_password=False)
    except Exception:  # an unparsable URL cannot be opened either; name it as given
        where = str(database_url)
    return f"{origin}\n{where}"


def default_pin_path(identity: str) -> Path:
    """Under the auditor's state directory, one file per log (``log_identity``)."""
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "postguard" / "pins" / (hashlib.sha256(identity.encode()).hexdigest()[:16] + ".json")


@dataclass(frozen=True)
class Pin:
    anchor: Anchor
    verifier_key: str


def read_pin(path: Path) -> Pin | None:
    """The pinned checkpoint and the log key it was signed with (checked against each other)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raise InvalidInput(f"The pin file {path} is not readable.",
                           [FieldError("pin", "remove it, or pass another --pin")]) from None
    pinned_key = raw.get("verifier_key") if isinstance(raw, dict) else None
    if not isinstance(pinned_key, str):
        raise InvalidInput(f"The pin file {path} names no log key.",
                           [FieldError("pin", "the file was altered; remove it, or pass another --pin")])
    try:
        cp = open_checkpoint(raw.get("checkpoint"), verifier_key=pinned_key)
    except (MalformedNote, NoteVerificationError):
        raise InvalidInput(f"The checkpoint in the pin file {path} does not verify.",
                           [FieldError("pin", "the file was altered")]) from None
    return Pin(Anchor(cp.size, cp.root, f"the checkpoint pinned in {path}"), pinned_key)


def write_pin(path: Path, *, verifier_key: str, note: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = {"verifier_key": verifier_key, "checkpoint": note}
    _write_atomically(path, json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))


# --- the service ---------------------------------------------------------------------------------


class Witnessing:
    def __init__(self, *, db: Database, log: AuditLog, witnesses: Sequence[str], timeout: float) -> None:
        """``witnesses``: the configured entries (``POSTGUARD_AUDIT_WITNESSES``); ``timeout``: seconds
        per submission."""
        self.db = db
        self.log = log
        self.witnesses = [parse_witness_entry(e) for e in witnesses]
        self.timeout = timeout
        self._lock = threading.Lock()
        self.stats: dict[str, dict[str, Any]] = {w.ident: {"cosigned": 0, "failures": 0, "size": None, "error": None}
                                       for w in self.witnesses}
        self._client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            import httpx

            self._client = httpx.Client(timeout=self.timeout, follow_redirects=False, trust_env=False)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- stored cosignatures -----------------------------------------------------------------
    def cosigned_size(self, ident: str) -> int:
        with self.db.session() as s:
            return s.execute(select(func.max(AuditCosignature.size))
                             .where(AuditCosignature.witness == ident)).scalar_one() or 0

    def cosigned_note(self, cp: AuditCheckpoint) -> str:
        """The checkpoint's signed note with every stored cosignature on it."""
        with self.db.session() as s:
            lines = s.execute(select(AuditCosignature.line).where(AuditCosignature.size == cp.size)
                              .order_by(AuditCosignature.witness)).scalars().all()
        return add_signature_lines(cp.note, "\n".join(lines))

    def latest_cosigned(self) -> tuple[AuditCheckpoint, str] | None:
        """The largest checkpoint that has a cosignature, with its cosignatures."""
        with self.db.session() as s:
            size = s.execute(select(func.max(AuditCosignature.size))).scalar_one()
            cp = s.get(AuditCheckpoint, size) if size is not None else None
        return (cp, self.cosigned_note(cp)) if cp is not None else None

    def _latest_checkpoint(self) -> AuditCheckpoint | None:
        with self.db.session() as s:
            return s.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1)).scalar_one_or_none()

    # -- submitting --------------------------------------------------------------------------
    def submit(self) -> dict[str, str]:
        """Submit the latest checkpoint to every witness; never raises (a failing witness must not
        stop logging). Returns, per witness, ``ok <size>`` or what went wrong."""
        out: dict[str, str] = {}
        if not self.witnesses:
            return out
        cp = self._latest_checkpoint()
        if cp is None:
            return out
        for w in self.witnesses:
            try:
                size = self._submit_one(w, cp)
            except Exception as exc:  # recorded, retried on the next checkpoint
                reason = str(exc) or type(exc).__name__
                with self._lock:
                    self.stats[w.ident]["failures"] += 1
                    self.stats[w.ident]["error"] = reason
                log.warning("witness did not co-sign", witness=w.ident, error=reason)
                out[w.ident] = f"failed: {reason}"
            else:
                with self._lock:
                    self.stats[w.ident].update(cosigned=self.stats[w.ident]["cosigned"] + 1, size=size, error=None)
                out[w.ident] = f"ok {size}"
        return out

    def _submit_one(self, w: WitnessEntry, cp: AuditCheckpoint) -> int:
        old = self.cosigned_size(w.ident)
        for _ in range(4):
            if old > cp.size:  # another worker may have submitted a newer checkpoint
                newest = self._latest_checkpoint()
                if newest is None or newest.size < old:
                    raise WitnessFailure(f"the witness co-signed size {old} but the log's latest checkpoint is "
                                         f"{newest.size if newest else 0}: the log was cut short or rolled back")
                cp = newest
            if 0 < old < cp.size:
                with self.db.session() as s:
                    tree = self.log.synced_tree(s)
                if tree.size < cp.size:
                    raise WitnessFailure("the log holds fewer entries than its latest checkpoint")
                proof = tree.consistency_proof(old, cp.size)
            else:
                proof = []
            body = request_body(old=old, proof=proof, note=cp.note)
            r = self._http().post(f"{w.url}/add-checkpoint", content=body.encode("utf-8"),
                                  headers={"Content-Type": "text/plain; charset=utf-8"})
            if r.status_code == 200:
                self._store(w, cp, r.text)
                return cp.size
            if r.status_code == 409 and r.headers.get("content-type", "").startswith(SIZE_MEDIA_TYPE):
                text = r.text.strip()
                if not text.isdigit():
                    raise WitnessFailure("the witness answered 409 without its size")
                old = int(text)
                continue
            raise WitnessFailure(f"the witness answered HTTP {r.status_code}: {r.text[:200].strip()}")
        raise WitnessFailure("the witness's size kept changing")

    def _store(self, w: WitnessEntry, cp: AuditCheckpoint, answer: str) -> None:
        from sqlalchemy.dialects import postgresql, sqlite

        for line in answer.splitlines():
            try:
                t = verify_cosignature(add_signature_lines(cp.note, line), witness_key=w.key)
            except NoteVerificationError:
                continue
            with self.db.session() as s:
                ins = (postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert)(
                    cast(Table, AuditCosignature.__table__))
                s.execute(ins.values(size=cp.size, witness=w.ident, signed_at=t, line=line)
                          .on_conflict_do_nothing())
            return
        raise WitnessFailure("the witness's answer holds no valid cosignature by its key")

    # -- status --------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        cp = self._latest_checkpoint()
        latest = cp.size if cp else 0
        out = []
        for w in self.witnesses:
            size = self.cosigned_size(w.ident)
            out.append({"witness": w.ident, "url": w.url, "cosigned_size": size, "behind": latest - size,
                        **({"last_error": self.stats[w.ident]["error"]} if self.stats[w.ident]["error"] else {})})
        return {"latest_checkpoint": latest, "witnesses": out}

    # -- verification --------------------------------------------------------------------------
    def _fetch(self, w: WitnessEntry) -> str | None:
        import httpx

        try:
            r = self._http().get(f"{w.url}/checkpoint", params={"origin": self.log.origin})
        except httpx.HTTPError as exc:
            raise WitnessFailure(f"witness {w.ident} could not be reached ({type(exc).__name__})") from None
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise WitnessFailure(f"witness {w.ident} answered HTTP {r.status_code}")
        return r.text

    def resolve_witness(self, text: str) -> WitnessEntry:
        """An auditor's ``--witness``: ``'<URL> <witness verifier key>'`` (as in
        ``POSTGUARD_AUDIT_WITNESSES``), or the key alone when it is a configured witness's key. A key
        whose URL is not known is refused: the anchor must be the witness's own answer, never the
        cosignatures stored in the database, which its owner can roll back with the log."""
        text = text.strip() if isinstance(text, str) else ""
        if len(text.split()) > 1:
            try:
                return parse_witness_entry(text)
            except MalformedNote as exc:
                raise InvalidInput("Bad witness.", [FieldError("witness", str(exc.detail))]) from None
        try:
            key = parse_witness_vkey(text)
        except MalformedNote as exc:
            raise InvalidInput("Bad witness key.", [FieldError("witness", str(exc.detail))]) from None
        entry = next((w for w in self.witnesses if w.key == key), None)
        if entry is None:
            raise InvalidInput(
                f"No URL is known for witness {_ident(key)}: the log can only be checked against the "
                "witness's own answer.",
                [FieldError("witness", "pass '<URL> <witness verifier key>' (one argument), or configure the "
                                       "witness in POSTGUARD_AUDIT_WITNESSES")])
        return entry

    def stored_cosignatures(self, w: WitnessEntry, verifier_key: str) -> list[Problem]:
        """Each of ``w``'s stored cosignatures that does not verify. They are checked, never used as
        an anchor: they are kept in the database and roll back with it."""
        ident, problems = w.ident, []
        with self.db.session() as s:
            rows = s.execute(select(AuditCosignature.size, AuditCosignature.line, AuditCheckpoint.note)
                             .join(AuditCheckpoint, AuditCheckpoint.size == AuditCosignature.size, isouter=True)
                             .where(AuditCosignature.witness == ident).order_by(AuditCosignature.size)).all()
        for size, line, note in rows:
            try:
                if note is None:
                    raise NoteVerificationError()
                verify_cosignature(add_signature_lines(note, line), witness_key=w.key)
                open_checkpoint(note, verifier_key=verifier_key)
            except (MalformedNote, NoteVerificationError):
                problems.append(Problem(max(size - 1, 0), f"the cosignature of witness {ident} on checkpoint {size} "
                                                          "does not verify (or its checkpoint is gone)"))
        return problems

    def witness_anchor(self, w: WitnessEntry, verifier_key: str) -> tuple[Anchor | None, list[Problem]]:
        """The latest checkpoint ``w`` vouches for, as the witness itself answers it; and any problem
        (unreachable, an answer that does not verify, a bad stored cosignature)."""
        problems = self.stored_cosignatures(w, verifier_key)
        try:
            note = self._fetch(w)
        except WitnessFailure as exc:
            problems.append(Problem(0, f"{exc}: the log could not be checked against it"))
            return None, problems
        if note is None:
            return None, problems
        try:
            verify_cosignature(note, witness_key=w.key)
            cp = open_checkpoint(note, verifier_key=verifier_key)
        except (MalformedNote, NoteVerificationError):
            problems.append(Problem(0, f"witness {w.ident} answered a checkpoint that does not verify"))
            return None, problems
        return Anchor(cp.size, cp.root, f"the checkpoint witness {w.ident} co-signed"), problems

    def verify(self, *, witnesses: Sequence[str] = (), pin: Path | None = None,
               repin: bool = False) -> tuple[VerifyReport, list[str]]:
        """``audit verify``: the log itself, then each witness's latest cosigned checkpoint (asked of
        the witness), then the pinned checkpoint, signed by the log key the pin records; on success
        the pin moves to the latest verified checkpoint. ``repin`` accepts a log key that changed
        since the pin (and pins afresh). Returns the report and what the log was checked against."""
        entries = [self.resolve_witness(t) for t in witnesses]  # refuse an unusable --witness first
        report = self.log.verify()
        tree = report.tree
        if tree is None:  # never: AuditLog.verify reports the tree it rebuilt
            raise AuditUnavailable("the access log could not be rebuilt for verification")
        vkey = report.verifier_key
        anchored: list[str] = []
        for w in entries:
            anchor, problems = self.witness_anchor(w, vkey)
            report.problems += problems
            if anchor is None:
                if not problems:
                    report.problems.append(Problem(0, f"no checkpoint co-signed by witness {w.key.name}: "
                                                      "the log may have been wiped, or was never witnessed"))
                continue
            problem = check_anchor(tree, anchor)
            if problem:
                report.problems.append(problem)
            else:
                anchored.append(f"{anchor.source} (size {anchor.size})")
        if pin is not None:
            pinned, anchor = read_pin(pin), None
            if pinned is not None and pinned.verifier_key != vkey:
                if not repin:
                    report.problems.append(Problem(0, "the log's signing key changed since the pinned checkpoint "
                                                      f"({pin} pins {pinned.verifier_key}, the log now has {vkey}): "
                                                      "it may have been wiped and started afresh"))
                else:
                    anchored.append(f"a new log key, re-pinned in {pin} (it pinned {pinned.verifier_key})")
            elif pinned is not None:
                anchor = pinned.anchor
                problem = check_anchor(tree, anchor)
                if problem:
                    report.problems.append(problem)
                else:
                    anchored.append(f"{anchor.source} (size {anchor.size})")
            latest = self._latest_checkpoint()
            if report.ok and latest is not None and (anchor is None or latest.size >= anchor.size):
                write_pin(pin, verifier_key=vkey, note=latest.note)
        return report, anchored


class WitnessMetrics:
    """``postguard_audit_witness_cosignatures_total``, ``postguard_audit_witness_failures_total`` and
    ``postguard_audit_witness_size`` per witness, from this worker's submissions."""

    def __init__(self, witnessing: Witnessing) -> None:
        self.witnessing = witnessing

    def collect(self) -> list[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        if not self.witnessing.witnesses:
            return []
        stats = self.witnessing.stats
        ok = CounterMetricFamily("postguard_audit_witness_cosignatures", "Checkpoints a witness co-signed",
                                 labels=["witness"])
        failed = CounterMetricFamily("postguard_audit_witness_failures", "Checkpoint submissions a witness refused "
                                     "or did not answer", labels=["witness"])
        size = GaugeMetricFamily("postguard_audit_witness_size", "Latest size a witness co-signed", labels=["witness"])
        for ident, st in list(stats.items()):
            ok.add_metric([ident], st["cosigned"])
            failed.add_metric([ident], st["failures"])
            if st["size"] is not None:
                size.add_metric([ident], st["size"])
        return [ok, failed, size]

