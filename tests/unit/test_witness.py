"""The witness on its own (C2SP tlog-witness, tlog-cosignature): it co-signs only checkpoints signed
by a log it follows and consistent with the last one it co-signed, and its state never goes back."""

import base64
import hashlib
import json
import threading

import pytest
from starlette.testclient import TestClient

from postguard.api.witness import create_witness_app
from postguard.audit import merkle
from postguard.audit.checkpoint import format_checkpoint, sign_note, vkey
from postguard.audit.witness import (
    Witness,
    cosign,
    cosignature_key_id,
    parse_witness_vkey,
    request_body,
    verify_cosignature,
)
from postguard.crypto import ed25519
from postguard.errors import (
    Conflict,
    WitnessBadProof,
    WitnessBadRequest,
    WitnessConflict,
    WitnessNotSigned,
    WitnessUnknownLog,
)

ORIGIN = "postguard.test/access-log"


class Log:
    """A log in memory: its key, its tree and signed checkpoints."""

    def __init__(self, origin=ORIGIN, leaves=b"e"):
        self.origin, self.key = origin, ed25519.generate_private_key_bytes()
        self.tree, self.tag = merkle.MerkleTree(), leaves

    @property
    def vkey(self):
        return vkey(self.origin, ed25519.public_key_bytes(private_key=self.key))

    def grow(self, n):
        for i in range(n):
            self.tree.append(merkle.leaf_hash(self.tag + str(self.tree.size + i).encode()))

    def note(self, size=None):
        size = self.tree.size if size is None else size
        return sign_note(format_checkpoint(origin=self.origin, size=size, root=self.tree.root(size)),
                         name=self.origin, private_key=self.key)

    def request(self, old, size=None):
        size = self.tree.size if size is None else size
        proof = self.tree.consistency_proof(old, size) if 0 < old < size else []
        return request_body(old=old, proof=proof, note=self.note(size)).encode()


@pytest.fixture
def log():
    return Log()


@pytest.fixture
def witness(tmp_path, log):
    Witness.init(tmp_path / "w", "witness.test")
    return Witness(tmp_path / "w", [log.vkey])


def test_cosignature_is_the_c2sp_cosignature_v1_format():
    key = ed25519.generate_private_key_bytes()
    pub = ed25519.public_key_bytes(private_key=key)
    body = format_checkpoint(origin=ORIGIN, size=3, root=b"\x01" * 32)
    line = cosign(body, name="w.test", private_key=key, timestamp=1_700_000_000)
    blob = base64.b64decode(line.split(" ")[2])
    assert line.startswith("\u2014 w.test ") and len(blob) == 4 + 8 + 64
    assert blob[:4] == cosignature_key_id("w.test", pub) == hashlib.sha256(
        b"w.test\n\x04" + pub).digest()[:4]
    assert int.from_bytes(blob[4:12], "big") == 1_700_000_000
    assert ed25519.verify(b"cosignature/v1\ntime 1700000000\n" + body.encode(), blob[12:], public_key=pub)
    assert verify_cosignature(body + "\n" + line, witness_key=f"w.test+{blob[:4].hex()}+"
                              + base64.b64encode(b"\x04" + pub).decode()) == 1_700_000_000


def test_witness_cosigns_a_consistent_checkpoint_and_remembers_it(witness, log):
    log.grow(5)
    line = witness.add_checkpoint(log.request(0))
    assert verify_cosignature(log.note() + line, witness_key=witness.verifier_key())
    log.grow(7)
    line = witness.add_checkpoint(log.request(5))
    st = witness.state(ORIGIN)
    assert (st.size, st.root) == (12, log.tree.root())
    assert verify_cosignature(witness.latest(ORIGIN), witness_key=witness.verifier_key())
    # restarted: the state is read back from its directory
    again = Witness(witness.dir, [log.vkey])
    assert again.state(ORIGIN).size == 12 and again.verifier_key() == witness.verifier_key()


def test_witness_refuses_an_inconsistent_proof_a_rollback_and_a_fork(witness, log):
    log.grow(8)
    witness.add_checkpoint(log.request(0))
    log.grow(4)
    # a consistency proof that does not lead from its root
    bad = log.tree.consistency_proof(8, 12)
    bad[0] = bytes(32)
    with pytest.raises(WitnessBadProof):
        witness.add_checkpoint(request_body(old=8, proof=bad, note=log.note()).encode())
    # rollback: an older checkpoint of the same log
    with pytest.raises(WitnessConflict) as info:
        witness.add_checkpoint(log.request(0, size=5))
    assert info.value.size == 8
    with pytest.raises(WitnessBadRequest):
        witness.add_checkpoint(request_body(old=8, proof=[], note=log.note(5)).encode())
    # a fork: another history under the same key, at the same size and beyond
    fork = Log()
    fork.key, fork.tag = log.key, b"forged"
    fork.grow(8)
    with pytest.raises(WitnessConflict):
        witness.add_checkpoint(request_body(old=8, proof=[], note=fork.note()).encode())
    fork.grow(4)
    with pytest.raises(WitnessBadProof):
        witness.add_checkpoint(fork.request(8))
    # nothing refused moved the witness
    assert (witness.state(ORIGIN).size, witness.state(ORIGIN).root) == (8, log.tree.root(8))
    witness.add_checkpoint(log.request(8))
    assert witness.state(ORIGIN).size == 12


def test_witness_refuses_unknown_logs_and_unsigned_checkpoints(witness, log):
    log.grow(3)
    stranger = Log(origin="other.test/log")
    stranger.grow(3)
    with pytest.raises(WitnessUnknownLog):
        witness.add_checkpoint(stranger.request(0))
    impostor = Log()  # the right origin, another key
    impostor.grow(3)
    with pytest.raises(WitnessNotSigned):
        witness.add_checkpoint(impostor.request(0))
    for body in (b"", b"old 01\n\n" + log.note().encode(), b"old 0\nnot base64\n\n" + log.note().encode(),
                 b"old 0\n" + log.note().encode(), "old 0\n\n".encode() + b"\xff"):
        with pytest.raises(WitnessBadRequest):
            witness.add_checkpoint(body)
    assert witness.state(ORIGIN) is None


def test_concurrent_submissions_from_the_same_size_get_one_cosignature(witness, log):
    """Many log workers submit at once from the same old size: exactly one is co-signed, the others
    learn the witness's new size; the state is the winner's, whole."""
    log.grow(10)
    witness.add_checkpoint(log.request(0))
    requests = []
    for _ in range(8):
        log.grow(1)
        requests.append((log.tree.size, log.request(10)))
    barrier, results = threading.Barrier(len(requests)), {}

    def submit(size, body):
        barrier.wait()
        try:
            witness.add_checkpoint(body)
            results[size] = "ok"
        except WitnessConflict as exc:
            results[size] = exc.size

    threads = [threading.Thread(target=submit, args=r) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [size for size, r in results.items() if r == "ok"]
    assert len(winners) == 1, results
    assert all(r == winners[0] for r in results.values() if r != "ok")
    st = witness.state(ORIGIN)
    assert (st.size, st.root) == (winners[0], log.tree.root(winners[0]))
    state_file = json.loads(next((witness.dir / "logs").glob("*.json")).read_text())
    assert state_file["size"] == winners[0]


def test_init_refuses_to_replace_a_key(tmp_path):
    vk = Witness.init(tmp_path / "w", "witness.test")
    parse_witness_vkey(vk)
    with pytest.raises(Conflict):
        Witness.init(tmp_path / "w", "witness.test")
    assert Witness(tmp_path / "w", []).verifier_key() == vk
    assert oct((tmp_path / "w" / Witness.KEY_FILE).stat().st_mode & 0o777) == "0o600"


def test_http_protocol_statuses(witness, log):
    client = TestClient(create_witness_app(witness))
    log.grow(4)
    r = client.post("/add-checkpoint", content=log.request(0))
    assert r.status_code == 200 and r.text.startswith("\u2014 witness.test ")
    log.grow(2)
    r = client.post("/add-checkpoint", content=log.request(0))
    assert r.status_code == 409 and r.headers["content-type"].startswith("text/x.tlog.size") and r.text == "4\n"
    bad = log.tree.consistency_proof(4, 6)
    bad[-1] = bytes(32)
    r = client.post("/add-checkpoint", content=request_body(old=4, proof=bad, note=log.note()).encode())
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert client.post("/add-checkpoint", content=b"garbage").status_code == 400
    assert client.post("/add-checkpoint", content=b"old 0\n\n" + b"x" * 70_000).status_code == 413
    other = Log(origin="other.test/log")
    other.grow(1)
    assert client.post("/add-checkpoint", content=other.request(0)).status_code == 404
    r = client.get("/checkpoint", params={"origin": ORIGIN})
    assert r.status_code == 200 and verify_cosignature(r.text, witness_key=witness.verifier_key())
    assert client.get("/checkpoint", params={"origin": "other.test/log"}).status_code == 404
