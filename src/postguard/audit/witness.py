"""A transparency-log witness (C2SP tlog-witness) and its cosignatures (C2SP tlog-cosignature).

A witness is run by someone other than the log's operator, with its own key and its own state, and
needs nothing of the log but the log's verifier key. It co-signs a checkpoint only after checking:

1. the checkpoint is signed by a log it knows (``403`` otherwise; ``404`` for an unknown origin);
2. the request's ``old`` size is the size it last co-signed for that log (``409 Conflict`` with its
   size as ``text/x.tlog.size`` otherwise, so the log can retry from there);
3. the checkpoint does not go back (``400``) and, at the same size, has the same root (``409``);
4. the consistency proof leads from its last co-signed root to the new one (``422``).

Only then does it write its new state (atomically: a temporary file, fsync, rename) and answer with
its cosignature line. One lock per log (a thread lock and an ``flock`` on a lock file, so several
witness processes may share a data directory) makes check-and-write one step: two log workers
submitting at once get one cosignature and one ``409``, never a torn or rolled-back state.

A request is::

    old <size>
    <base64 consistency-proof hash>   (zero or more lines)

    <signed checkpoint note>

A cosignature (``cosignature/v1``) is an Ed25519 signature over
``"cosignature/v1\\ntime <t>\\n" + checkpoint body``, written as a signed-note signature line whose
blob is ``key ID (4) || t (uint64, big-endian) || signature (64)``; the key ID is
``SHA-256(name || 0x0A || 0x04 || public key)[:4]`` and the verifier key
``<name>+<hex key ID>+<base64(0x04 || public key)>``.

Beyond the protocol, ``GET /checkpoint?origin=…`` answers the latest checkpoint the witness
co-signed for a log (the log's note with the witness's cosignature), so that an auditor can check
that the log still holds everything the witness saw.

This module is the protocol and the witness's state, without HTTP: its errors are in
``postguard.errors`` (``Witness…``), and its HTTP interface is ``postguard.api.witness``.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import re
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from postguard.audit import merkle
from postguard.audit.checkpoint import (
    SIGNATURE_PREFIX,
    Checkpoint,
    NoteVerificationError,
    open_checkpoint,
    parse_checkpoint,
)
from postguard.crypto import ed25519
from postguard.crypto.notes import (
    KEY_ID_SIZE,
    MalformedNote,
    VerifierKey,
    decode_b64,
    check_name,
    cosignature_key_id,
    parse_vkey,
    parse_witness_vkey,
    witness_vkey,
)
from postguard.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    WitnessBadProof,
    WitnessBadRequest,
    WitnessConflict,
    WitnessNotSigned,
    WitnessUnknownLog,
)

COSIGNATURE_HEADER = "cosignature/v1\ntime {t}\n"
MAX_PROOF_LINES = 63  # tlog-witness: at most 63 consistency-proof hashes
MAX_REQUEST_BYTES = 64 * 1024
SIZE_MEDIA_TYPE = "text/x.tlog.size"
_OLD_RE = re.compile(r"old (0|[1-9][0-9]*)")


# --- cosignatures (pure) ------------------------------------------------------------------------


def cosignature_message(body: str, timestamp: int) -> bytes:
    return (COSIGNATURE_HEADER.format(t=timestamp) + body).encode("utf-8")


def cosign(body: str, *, name: str, private_key: bytes, timestamp: int) -> str:
    """One cosignature/v1 line for the checkpoint ``body``."""
    public_key = ed25519.public_key_bytes(private_key=private_key)
    signature = ed25519.sign(cosignature_message(body, timestamp), private_key=private_key)
    blob = cosignature_key_id(name, public_key) + struct.pack(">Q", timestamp) + signature
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(blob).decode('ascii')}\n"


def _signature_lines(note: str) -> tuple[str, list[str]]:
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoteVerificationError()
    return note[:split + 1], note[split + 2:-1].split("\n")


def verify_cosignature(note: str, *, witness_key: str | VerifierKey) -> int:
    """The time (Unix seconds) of a valid cosignature by ``witness_key`` on the signed note ``note``
    (body, blank line, signature lines); ``NoteVerificationError`` if there is none or it is bad."""
    try:
        key = witness_key if isinstance(witness_key, VerifierKey) else parse_witness_vkey(witness_key)
    except MalformedNote:
        raise NoteVerificationError() from None
    if not isinstance(note, str):
        raise NoteVerificationError()
    body, lines = _signature_lines(note)
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteVerificationError()
        name, _, encoded = line[len(SIGNATURE_PREFIX):].partition(" ")
        blob = decode_b64(encoded)
        if name != key.name or blob is None or blob[:KEY_ID_SIZE] != key.key_id:
            continue
        if len(blob) != KEY_ID_SIZE + 8 + ed25519.SIGNATURE_SIZE:
            raise NoteVerificationError()
        timestamp = int.from_bytes(blob[KEY_ID_SIZE:KEY_ID_SIZE + 8], "big")
        if not ed25519.verify(cosignature_message(body, timestamp), blob[KEY_ID_SIZE + 8:], public_key=key.public_key):
            raise NoteVerificationError()
        return timestamp
    raise NoteVerificationError()


def add_signature_lines(note: str, lines: str) -> str:
    """``note`` with further signature lines (e.g. cosignatures) appended, each at most once."""
    have = set(note.split("\n"))
    extra = [line for line in lines.split("\n") if line and line not in have]
    return note + "".join(line + "\n" for line in extra)


def request_body(*, old: int, proof: list[bytes], note: str) -> str:
    """An add-checkpoint request body."""
    return f"old {old}\n" + "".join(base64.b64encode(h).decode("ascii") + "\n" for h in proof) + "\n" + note


# --- the witness ---------------------------------------------------------------------------------


class WitnessKey(TypedDict):
    """A witness's own signing key, as kept in its key file."""

    name: str
    private_key: bytes


@dataclass
class _State:
    origin: str
    size: int
    root: bytes
    checkpoint: str  # the log's note with this witness's cosignature


def _write_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dirfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)


class Witness:
    """The witness's key, the logs it follows (origin → log verifier key) and its per-log state,
    all under ``data_dir``."""

    KEY_FILE = "witness-key.json"

    def __init__(self, data_dir: Path, logs: list[str]) -> None:
        self.dir = Path(data_dir)
        key = self.load_key(self.dir)
        self.name, self._private = key["name"], key["private_key"]
        self.logs: dict[str, str] = {}
        for text in logs:
            try:
                self.logs[parse_vkey(text.strip()).name] = text.strip()
            except MalformedNote as exc:
                raise InvalidInput("Bad log verifier key.", [FieldError("log", str(exc.detail))]) from None
        (self.dir / "logs").mkdir(mode=0o700, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    # -- key ---------------------------------------------------------------------------------
    @classmethod
    def init(cls, data_dir: Path, name: str) -> str:
        """Create the witness's key in ``data_dir`` (refuses to replace one); returns its verifier key."""
        try:
            check_name(name)
        except MalformedNote as exc:
            raise InvalidInput("Bad witness name.", [FieldError("name", str(exc.detail))]) from None
        data_dir = Path(data_dir)
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = data_dir / cls.KEY_FILE
        if path.exists():
            raise Conflict(f"A witness key already exists in {data_dir}; it is never replaced.")
        private = ed25519.generate_private_key_bytes()
        _write_atomically(path, json.dumps({"name": name, "private_key": base64.b64encode(private).decode()}).encode())
        return witness_vkey(name, ed25519.public_key_bytes(private_key=private))

    @classmethod
    def load_key(cls, data_dir: Path) -> WitnessKey:
        path = Path(data_dir) / cls.KEY_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            key = WitnessKey(name=check_name(raw["name"]),
                             private_key=base64.b64decode(raw["private_key"], validate=True))
            ed25519.public_key_bytes(private_key=key["private_key"])
            return key
        except FileNotFoundError:
            raise NotFound(f"No witness key in {data_dir}: run `postguard witness init` first.") from None
        except Exception:
            raise InvalidInput(f"The witness key file {path} is not readable.") from None

    def verifier_key(self) -> str:
        return witness_vkey(self.name, ed25519.public_key_bytes(private_key=self._private))

    # -- state -------------------------------------------------------------------------------
    def _path(self, origin: str, suffix: str) -> Path:
        return self.dir / "logs" / (hashlib.sha256(origin.encode("utf-8")).hexdigest()[:32] + suffix)

    @contextlib.contextmanager
    def _locked(self, origin: str) -> Iterator[None]:
        with self._locks_lock:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:
            fd = os.open(self._path(origin, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # releases the flock

    def state(self, origin: str) -> _State | None:
        try:
            raw = json.loads(self._path(origin, ".json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return _State(origin=raw["origin"], size=raw["size"], root=base64.b64decode(raw["root"]),
                      checkpoint=raw["checkpoint"])

    def _save(self, st: _State) -> None:
        data = {"origin": st.origin, "size": st.size, "root": base64.b64encode(st.root).decode(),
                "checkpoint": st.checkpoint}
        _write_atomically(self._path(st.origin, ".json"), json.dumps(data).encode("utf-8"))

    def latest(self, origin: str) -> str:
        """The latest checkpoint co-signed for ``origin``, with the cosignature."""
        if origin not in self.logs:
            raise WitnessUnknownLog("This witness does not follow that log.")
        st = self.state(origin)
        if st is None:
            raise NotFound("This witness has not co-signed a checkpoint of that log yet.")
        return st.checkpoint

    # -- the protocol ------------------------------------------------------------------------
    @staticmethod
    def parse_request(body: bytes) -> tuple[int, list[bytes], str]:
        if len(body) > MAX_REQUEST_BYTES:
            raise WitnessBadRequest(f"The request is larger than {MAX_REQUEST_BYTES} bytes.")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WitnessBadRequest("The request is not UTF-8.") from None
        head, sep, note = text.partition("\n")
        match = _OLD_RE.fullmatch(head)
        if not sep or not match or int(match.group(1)) > merkle.MAX_TREE_SIZE:
            raise WitnessBadRequest("The request must start with the line `old <size>`.")
        proof: list[bytes] = []
        while True:
            line, sep, rest = note.partition("\n")
            if not sep:
                raise WitnessBadRequest("The proof must end with an empty line before the checkpoint.")
            note = rest
            if not line:
                break
            h = decode_b64(line)
            if h is None or len(h) != merkle.HASH_SIZE or len(proof) >= MAX_PROOF_LINES:
                raise WitnessBadRequest(f"Proof lines must be at most {MAX_PROOF_LINES} base64 SHA-256 hashes.")
            proof.append(h)
        return int(match.group(1)), proof, note

    def add_checkpoint(self, body: bytes) -> str:
        """Check one add-checkpoint request; co-sign and remember it, or raise the protocol's error."""
        old, proof, note = self.parse_request(body)
        origin = note.partition("\n")[0]
        log_key = self.logs.get(origin)
        if log_key is None:
            raise WitnessUnknownLog("This witness does not follow that log.")
        try:
            cp: Checkpoint = parse_checkpoint(_signature_lines(note)[0])
            open_checkpoint(note, verifier_key=log_key)
        except MalformedNote:
            raise WitnessBadRequest("The checkpoint is malformed.") from None
        except NoteVerificationError:
            raise WitnessNotSigned("The checkpoint is not signed by the log's key.") from None
        with self._locked(origin):
            st = self.state(origin)
            size = st.size if st else 0
            if old != size:
                raise WitnessConflict(f"The witness's latest co-signed size is {size}.", size=size)
            if cp.size < old:
                raise WitnessBadRequest("The checkpoint is older than the old size.")
            if cp.size == old:
                if proof:
                    raise WitnessBadProof("At the same size the proof must be empty.")
                if st is not None and cp.root != st.root:
                    raise WitnessConflict("The checkpoint's root differs from the one co-signed at this size.",
                                          size=size)
            elif old == 0:
                if proof:
                    raise WitnessBadProof("From size 0 the proof must be empty.")
            elif st is None or not merkle.verify_consistency(size1=old, size2=cp.size, proof=proof, root1=st.root,
                                                             root2=cp.root):
                raise WitnessBadProof("The consistency proof does not verify.")
            line = cosign(cp.body(), name=self.name, private_key=self._private, timestamp=int(time.time()))
            self._save(_State(origin=origin, size=cp.size, root=cp.root, checkpoint=add_signature_lines(note, line)))
            return line
