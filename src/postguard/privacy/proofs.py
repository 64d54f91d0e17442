"""Check, with nothing but the file, the proofs a person downloads (``/v1/me/shipments``, an access
export, a deletion receipt): the checkpoint's signature against the log's verifier key, each entry's
leaf hash against its content (RFC 8785 canonical JSON), and each RFC 9162 inclusion proof against
the checkpoint's root. Pure: no database, no network."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from postguard.audit import merkle
from postguard.audit.canonical import canonical
from postguard.audit.checkpoint import open_checkpoint
from postguard.errors import FieldError, InvalidInput


@dataclass(frozen=True)
class Checked:
    index: int
    ok: bool
    reason: str = ""


def _proofs(data: dict) -> list[dict]:
    if "proof" in data and "leaf_hash" in data:  # one inclusion proof (a receipt)
        return [data]
    out = []
    for s in data.get("shipments") or []:
        out += [a["proof"] for a in s.get("accesses") or []]
    return out


def verify_bundle(data: dict, *, verifier_key: str | None = None) -> tuple[int, list[Checked]]:
    """``(tree size, one result per proof)``; ``InvalidInput`` when the checkpoint does not verify."""
    key = verifier_key or data.get("verifier_key")
    note = data.get("checkpoint")
    if not key or not note:
        raise InvalidInput("The file has no checkpoint or verifier key.",
                           [FieldError("checkpoint", "a signed checkpoint and a verifier key are needed")])
    cp = open_checkpoint(note, verifier_key=key)
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
        elif not merkle.verify_inclusion(leaf_hash=leaf, index=index, tree_size=cp.size, proof=path, root=cp.root):
            results.append(Checked(index, False, "the inclusion proof does not lead to the checkpoint's root"))
        else:
            results.append(Checked(index, True))
    return cp.size, results
