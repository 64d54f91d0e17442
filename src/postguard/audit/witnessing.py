"""The log's side of witnessing, and the checks that anchor ``audit verify`` outside the database.

The database's owner can delete, truncate or restore the access log together with its checkpoints:
every stored checkpoint then still matches the entries that are left. Two anchors they cannot roll
back catch that:

* **Witnesses** (``POSTGUARD_AUDIT_WITNESSES``), run by other parties (``postguard witness serve``).
  Each new checkpoint is submitted with a consistency proof from the size the witness last
  co-signed (C2SP tlog-witness); the answered cosignatures are stored in ``audit_cosignatures`` and
  shown with the checkpoint. A failing witness never blocks logging: it is counted
  (``postguard_audit_witness_failures_total``), and ``audit status`` shows how far behind it is.
  ``audit verify --witness KEY`` asks the witness for the latest checkpoint it co-signed and requires
  the log's entries to reach that size with the same root.
* **A pinned checkpoint**: ``audit verify`` keeps the latest checkpoint it verified in a file of the
  auditor's (``--pin``), and on the next run requires the log to be consistent with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from postguard.audit.checkpoint import MalformedNote, NoteVerificationError, VerifierKey, open_checkpoint
from postguard.audit.log import Problem, VerifyReport
from postguard.audit.models import AuditCheckpoint, AuditCosignature
from postguard.audit.witness import (
    SIZE_MEDIA_TYPE,
    _write_atomically,
    add_signature_lines,
    parse_witness_vkey,
    request_body,
    verify_cosignature,
)
from postguard.errors import FieldError, InvalidInput
from postguard.logging import get_logger

log = get_logger("postguard.audit.witnessing")


@dataclass(frozen=True)
class WitnessEntry:
    url: str
    vkey: str
    key: VerifierKey

    @property
    def ident(self) -> str:
        """``<name>+<hex key ID>``: how cosignatures by this witness are stored."""
        return f"{self.key.name}+{self.key.key_id.hex()}"


def parse_witness_entry(text: object) -> WitnessEntry:
    """``'<URL> <witness verifier key>'``; ``MalformedNote`` (a ``ValueError``) says what is wrong."""
    parts = text.split() if isinstance(text, str) else []
    if len(parts) != 2 or not parts[0].startswith(("https://", "http://")):
        raise MalformedNote("a witness is '<http(s) URL> <witness verifier key>'")
    return WitnessEntry(url=parts[0].rstrip("/"), vkey=parts[1], key=parse_witness_vkey(parts[1]))


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


def check_anchor(tree, anchor: Anchor) -> Problem | None:
    if anchor.size > tree.size:
        return Problem(tree.size, f"the log holds {tree.size} entries but {anchor.source} covers {anchor.size}: "
                                  "entries were deleted or an older copy of the log was restored")
    if anchor.size and tree.root(anchor.size) != anchor.root:
        return Problem(anchor.size - 1, f"entries up to {anchor.size} differ from {anchor.source}: "
                                        "the log was rewritten")
    return None


# --- pinning -------------------------------------------------------------------------------------


def default_pin_path(verifier_key: str) -> Path:
    """Under the auditor's state directory, one file per log key."""
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "postguard" / "pins" / (hashlib.sha256(verifier_key.encode()).hexdigest()[:16] + ".json")


def read_pin(path: Path, *, verifier_key: str) -> Anchor | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raise InvalidInput(f"The pin file {path} is not readable.",
                           [FieldError("pin", "remove it, or pass another --pin")]) from None
    if not isinstance(raw, dict) or raw.get("verifier_key") != verifier_key:
        raise InvalidInput(f"The pin file {path} is for another log.",
                           [FieldError("pin", "pass the pin file of this log")])
    try:
        cp = open_checkpoint(raw.get("checkpoint"), verifier_key=verifier_key)
    except (MalformedNote, NoteVerificationError):
        raise InvalidInput(f"The checkpoint in the pin file {path} does not verify.",
                           [FieldError("pin", "the file was altered")]) from None
    return Anchor(cp.size, cp.root, f"the checkpoint pinned in {path}")


def write_pin(path: Path, *, verifier_key: str, note: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = {"verifier_key": verifier_key, "checkpoint": note}
    _write_atomically(path, json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))


# --- the service ---------------------------------------------------------------------------------


class Witnessing:
    def __init__(self, platform) -> None:
        self.p = platform
        self.log = platform.audit
        self.witnesses = [parse_witness_entry(e) for e in platform.settings.audit_witnesses]
        self.timeout = platform.settings.audit_witness_timeout_seconds
        self._lock = threading.Lock()
        self.stats: dict[str, dict] = {w.ident: {"cosigned": 0, "failures": 0, "size": None, "error": None}
                                       for w in self.witnesses}
        self._client = None

    def _http(self):
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
        with self.p.db.session() as s:
            return s.execute(select(func.max(AuditCosignature.size))
                             .where(AuditCosignature.witness == ident)).scalar_one() or 0

    def cosigned_note(self, cp: AuditCheckpoint) -> str:
        """The checkpoint's signed note with every stored cosignature on it."""
        with self.p.db.session() as s:
            lines = s.execute(select(AuditCosignature.line).where(AuditCosignature.size == cp.size)
                              .order_by(AuditCosignature.witness)).scalars().all()
        return add_signature_lines(cp.note, "\n".join(lines))

    def latest_cosigned(self) -> tuple[AuditCheckpoint, str] | None:
        """The largest checkpoint that has a cosignature, with its cosignatures."""
        with self.p.db.session() as s:
            size = s.execute(select(func.max(AuditCosignature.size))).scalar_one()
            cp = s.get(AuditCheckpoint, size) if size is not None else None
        return (cp, self.cosigned_note(cp)) if cp is not None else None

    def _latest_checkpoint(self) -> AuditCheckpoint | None:
        with self.p.db.session() as s:
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
                with self.p.db.session() as s:
                    tree = self.log._sync(s)
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
            with self.p.db.session() as s:
                ins = (postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert)(
                    AuditCosignature.__table__)
                s.execute(ins.values(size=cp.size, witness=w.ident, signed_at=t, line=line)
                          .on_conflict_do_nothing())
            return
        raise WitnessFailure("the witness's answer holds no valid cosignature by its key")

    # -- status --------------------------------------------------------------------------------
    def status(self) -> dict:
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

    def witness_anchor(self, key_text: str, verifier_key: str) -> tuple[Anchor | None, list[Problem]]:
        """The latest checkpoint ``key_text``'s witness vouches for: the witness's own answer when
        its URL is configured, else the cosignatures stored with the log; and any bad stored cosignature."""
        try:
            key = parse_witness_vkey(key_text)
        except MalformedNote as exc:
            raise InvalidInput("Bad witness key.", [FieldError("witness", str(exc.detail))]) from None
        ident, problems, best = _ident(key), [], None
        with self.p.db.session() as s:
            rows = s.execute(select(AuditCosignature.size, AuditCosignature.line, AuditCheckpoint.note)
                             .join(AuditCheckpoint, AuditCheckpoint.size == AuditCosignature.size, isouter=True)
                             .where(AuditCosignature.witness == ident).order_by(AuditCosignature.size)).all()
        for size, line, note in rows:
            try:
                if note is None:
                    raise NoteVerificationError()
                verify_cosignature(add_signature_lines(note, line), witness_key=key)
                cp = open_checkpoint(note, verifier_key=verifier_key)
                best = Anchor(cp.size, cp.root, f"the checkpoint witness {ident} co-signed")
            except (MalformedNote, NoteVerificationError):
                problems.append(Problem(max(size - 1, 0), f"the cosignature of witness {ident} on checkpoint {size} "
                                                          "does not verify (or its checkpoint is gone)"))
        entry = next((w for w in self.witnesses if w.ident == ident), None)
        if entry is not None:
            try:
                note = self._fetch(entry)
            except WitnessFailure as exc:
                problems.append(Problem(0, f"{exc}: the log could not be checked against it"))
                return best, problems
            if note is not None:
                try:
                    verify_cosignature(note, witness_key=key)
                    cp = open_checkpoint(note, verifier_key=verifier_key)
                except (MalformedNote, NoteVerificationError):
                    problems.append(Problem(0, f"witness {ident} answered a checkpoint that does not verify"))
                    return best, problems
                if best is None or cp.size >= best.size:
                    best = Anchor(cp.size, cp.root, f"the checkpoint witness {ident} co-signed")
        return best, problems

    def verify(self, *, witnesses: list[str] = (), pin: Path | None = None) -> tuple[VerifyReport, list[str]]:
        """``audit verify``: the log itself, then each witness's latest cosigned checkpoint, then the
        pinned checkpoint; on success the pin moves to the latest verified checkpoint. Returns the
        report and what the log was checked against."""
        report = self.log.verify()
        vkey = report.verifier_key
        anchored: list[str] = []
        for key_text in witnesses:
            anchor, problems = self.witness_anchor(key_text, vkey)
            report.problems += problems
            if anchor is None:
                if not problems:
                    report.problems.append(Problem(0, f"no checkpoint co-signed by witness "
                                                      f"{key_text.split('+')[0]}: the log may have been wiped, "
                                                      "or was never witnessed"))
                continue
            problem = check_anchor(report.tree, anchor)
            if problem:
                report.problems.append(problem)
            else:
                anchored.append(f"{anchor.source} (size {anchor.size})")
        if pin is not None:
            pinned = read_pin(pin, verifier_key=vkey)
            if pinned is not None:
                problem = check_anchor(report.tree, pinned)
                if problem:
                    report.problems.append(problem)
                else:
                    anchored.append(f"{pinned.source} (size {pinned.size})")
            latest = self._latest_checkpoint()
            if report.ok and latest is not None and (pinned is None or latest.size >= pinned.size):
                write_pin(pin, verifier_key=vkey, note=latest.note)
        return report, anchored


class WitnessMetrics:
    """``postguard_audit_witness_cosignatures_total``, ``postguard_audit_witness_failures_total`` and
    ``postguard_audit_witness_size`` per witness, from this worker's submissions."""

    def __init__(self, platform) -> None:
        self.p = platform

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        if not self.p.settings.audit_witnesses:
            return []
        stats = self.p.witnessing.stats
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

