"""Check, with nothing but the file, the proofs a person downloads (``/v1/me/shipments``, an access
export, a deletion receipt): the checkpoint's signature against the log's verifier key, each entry's
leaf hash against its content (RFC 8785 canonical JSON), and each RFC 9162 inclusion proof against
the checkpoint's root, and with witness keys, the witnesses' cosignatures (on the checkpoint, or on an
older checkpoint with a consistency proof to it). Pure: no database, no network."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from postguard.audit import merkle
from postguard.audit.canonical import canonical
from postguard.audit.checkpoint import Checkpoint, MalformedNote, NoteVerificationError, open_checkpoint
from postguard.audit.witness import verify_cosignature
from postguard.crypto import ed25519
from postguard.crypto.notes import VerifierKey, parse_vkey, parse_witness_vkey
from postguard.errors import AuditTampered, FieldError, InvalidInput
from postguard.intel.bundles import FORMAT, signed_body


@dataclass(frozen=True)
class Checked:
    index: object  # as the file gives it (reported back as is, even when it is not a number)
    ok: bool
    reason: str = ""


def _proofs(data: dict[str, Any]) -> list[dict[str, Any]]:
    if "proof" in data and "leaf_hash" in data:  # one inclusion proof (a receipt)
        return [data]
    if isinstance(data.get("proofs"), list):  # a list of them (an evidence bundle's log)
        return [p for p in data["proofs"] if isinstance(p, dict)]
    out = []
    for s in data.get("shipments") or []:
        out += [a["proof"] for a in s.get("accesses") or []]
    return out


def _witnessed(data: dict[str, Any], cp: Checkpoint, *, verifier_key: str, witness: VerifierKey) -> bool:
    """True if the checkpoint carries the witness's cosignature, or is consistent (RFC 9162) with the
    file's ``witnessed`` checkpoint that carries it."""
    try:
        verify_cosignature(data["checkpoint"], witness_key=witness)
        return True
    except NoteVerificationError:
        pass
    w = data.get("witnessed")
    if not isinstance(w, dict):
        return False
    try:
        old = open_checkpoint(w["checkpoint"], verifier_key=verifier_key)
        verify_cosignature(w["checkpoint"], witness_key=witness)
        proof = [base64.b64decode(h, validate=True) for h in w["consistency"]]
    except (KeyError, TypeError, ValueError, InvalidInput):
        return False
    return merkle.verify_consistency(size1=old.size, size2=cp.size, proof=proof, root1=old.root, root2=cp.root)


def verify_bundle(data: object, *, verifier_key: str | None = None,
                  witnesses: Sequence[str] = ()) -> tuple[int, list[Checked]]:
    """``(tree size, one result per proof)``; ``InvalidInput`` when the checkpoint does not verify,
    ``AuditTampered`` when it is not witnessed by each of ``witnesses`` (their verifier keys)."""
    if not isinstance(data, dict):
        raise InvalidInput("The file is not a proofs file.", [FieldError("checkpoint", "a JSON object is needed")])
    key = verifier_key or data.get("verifier_key")
    note = data.get("checkpoint")
    if not key or not note:
        raise InvalidInput("The file has no checkpoint or verifier key.",
                           [FieldError("checkpoint", "a signed checkpoint and a verifier key are needed")])
    cp = open_checkpoint(note, verifier_key=key)
    for text in witnesses:
        try:
            witness = parse_witness_vkey(text)
        except MalformedNote as exc:
            raise InvalidInput("Bad witness key.", [FieldError("witness", str(exc.detail))]) from None
        if not _witnessed(data, cp, verifier_key=key, witness=witness):
            raise AuditTampered(f"The checkpoint is not co-signed by witness {witness.name}, nor consistent with "
                                "a checkpoint it co-signed.")
    results = []
    for p in _proofs(data):
        index = p.get("index")
        try:
            leaf = base64.b64decode(p["leaf_hash"])
            path = [base64.b64decode(h) for h in p["proof"]]
        except (KeyError, TypeError, ValueError):
            results.append(Checked(index, False, "malformed proof"))
            continue
        if p.get("entry") is not None and merkle.leaf_hash(canonical(p["entry"])) != leaf:
            results.append(Checked(index, False, "the entry does not match its leaf hash"))
        elif p.get("tree_size") != cp.size:
            results.append(Checked(index, False, f"proof is for size {p.get('tree_size')}, the checkpoint {cp.size}"))
        elif not (isinstance(index, int) and merkle.verify_inclusion(leaf_hash=leaf, index=index, tree_size=cp.size,
                                                                       proof=path, root=cp.root)):
            results.append(Checked(index, False, "the inclusion proof does not lead to the checkpoint's root"))
        else:
            results.append(Checked(index, True))
    return cp.size, results


def verify_evidence(bundle: object, *, signer_key: str | None = None, log_key: str | None = None,
                    files: Sequence[bytes] = ()) -> dict[str, Any]:
    """Check an evidence bundle (``postguard.intel.bundles``) with nothing but the file: its Ed25519
    signature over the RFC 8785 form (against ``signer_key`` when the authority pinned it, else the key the
    bundle names, which the answer says is not pinned), its access-log entries against the signed
    checkpoint, and which evidence ``files`` match the digests it lists. ``AuditTampered`` when the
    signature or a proof does not hold; ``InvalidInput`` when it is not a bundle."""
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT or not isinstance(bundle.get("log"), dict):
        raise InvalidInput("The file is not an evidence bundle.", [FieldError("format", f"expected {FORMAT}")])
    try:
        signer = parse_vkey(signer_key or bundle.get("signer"))  # type: ignore[arg-type]
        signature = base64.b64decode(bundle.get("signature") or "", validate=True)
        body = signed_body(bundle)
    except (MalformedNote, ValueError, TypeError, InvalidInput) as e:
        raise InvalidInput("The bundle's signer key or signature cannot be read.",
                           [FieldError("signature", str(getattr(e, "detail", e)))]) from None
    if not ed25519.verify(body, signature, public_key=signer.public_key):
        raise AuditTampered("The bundle's signature does not verify: it was changed after it was signed, or "
                            "signed by another key.")
    log = bundle["log"]
    size, checked = verify_bundle({"checkpoint": log.get("checkpoint"), "proofs": log.get("proofs")},
                                  verifier_key=log_key or log.get("verifier_key"))
    failed = [c for c in checked if not c.ok]
    if failed:
        raise AuditTampered(f"{len(failed)} of {len(checked)} access-log proofs do not verify "
                            f"(first: entry {failed[0].index}: {failed[0].reason}).")
    given = {hashlib.sha256(f).hexdigest() for f in files}
    listed = [e.get("sha256") for e in bundle.get("evidence_files") or [] if isinstance(e, dict)]
    return {"ok": True, "signer": signer.name, "signer_pinned": signer_key is not None,
            "log_key_pinned": log_key is not None, "tree_size": size, "log_entries": len(checked),
            "evidence_files": len(listed), "files_matched": sum(1 for d in listed if d in given),
            "files_unlisted": len(given - set(listed))}
