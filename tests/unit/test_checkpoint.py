"""C2SP checkpoints and signed notes (audit.checkpoint) and raw Ed25519 (crypto.ed25519)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.audit import checkpoint as cp
from postguard.audit import merkle
from postguard.crypto import ed25519
from postguard.errors import InvalidInput

# golang.org/x/mod/sumdb/note: the example in the package documentation and its TestSign/TestVerify.
# Ed25519 is deterministic, so signing the text with the seed must reproduce the note byte for byte.
PN_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PN_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PN_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PN_SIG = ("\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6K"
          "E6RyyBwJnAM=\n")

# c2sp.org/tlog-checkpoint: the example body.
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"

ORIGIN = "postguard.example/audit/org-1"
SEED = bytes(range(32))
OTHER_SEED = bytes(range(32, 64))


def _pn_seed() -> bytes:
    raw = base64.b64decode(PN_SKEY.split("+", 4)[4])
    assert raw[0] == 0x01 and len(raw) == 33
    return raw[1:]


def _vkey(seed: bytes = SEED, name: str = ORIGIN) -> str:
    return cp.vkey(name, ed25519.public_key_bytes(private_key=seed))


def _body(size: int = 12345) -> str:
    return cp.format_checkpoint(origin=ORIGIN, size=size, root=merkle.leaf_hash(b"%d" % size))


# --- crypto.ed25519 ------------------------------------------------------------------------------


def test_ed25519_rfc8032_test_1():
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    public = ed25519.public_key_bytes(private_key=seed)
    assert public.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    signature = ed25519.sign(b"", private_key=seed)
    assert signature.hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bb"
        "e24655141438e7a100b"
    )
    assert ed25519.verify(b"", signature, public_key=public)


def test_ed25519_round_trip_and_refusals():
    seed = ed25519.generate_private_key_bytes()
    assert len(seed) == 32 and seed != ed25519.generate_private_key_bytes()
    public = ed25519.public_key_bytes(private_key=seed)
    signature = ed25519.sign(b"message", private_key=seed)
    assert len(signature) == 64 and signature == ed25519.sign(b"message", private_key=seed)
    assert ed25519.verify(b"message", signature, public_key=public)
    assert not ed25519.verify(b"messagE", signature, public_key=public)
    assert not ed25519.verify(b"message", bytes([signature[0] ^ 1]) + signature[1:], public_key=public)
    assert not ed25519.verify(b"message", signature, public_key=ed25519.public_key_bytes(private_key=OTHER_SEED))
    for args in [("message", signature, public), (b"message", signature[:63], public), (b"message", signature, public[:31]),
                 (b"message", None, public), (b"message", signature, None), (None, None, None),
                 (b"message", signature, b"\xff" * 32)]:
        assert ed25519.verify(args[0], args[1], public_key=args[2]) is False  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [None, b"", b"\x00" * 31, b"\x00" * 33, "0" * 32, bytearray(32)])
def test_ed25519_bad_private_key_is_one_opaque_error(bad):
    with pytest.raises(ed25519.Ed25519KeyError) as info:
        ed25519.sign(b"m", private_key=bad)
    assert str(info.value) == "not a usable Ed25519 private key"
    with pytest.raises(ed25519.Ed25519KeyError):
        ed25519.public_key_bytes(private_key=bad)


def test_ed25519_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        ed25519.sign(b"m", SEED)  # type: ignore[misc]
    with pytest.raises(TypeError):
        ed25519.public_key_bytes(SEED)  # type: ignore[misc]


# --- the published signed-note example -----------------------------------------------------------


def test_go_note_example_reproduced_byte_for_byte():
    seed = _pn_seed()
    public = ed25519.public_key_bytes(private_key=seed)
    assert cp.vkey("PeterNeumann", public) == PN_VKEY
    assert cp.key_id("PeterNeumann", public).hex() == "c74f20a3"
    assert cp.sign_note(PN_TEXT, name="PeterNeumann", private_key=seed) == PN_TEXT + "\n" + PN_SIG
    assert cp.verify_note(PN_TEXT + "\n" + PN_SIG, verifier_key=PN_VKEY) == PN_TEXT
    with pytest.raises(cp.NoteVerificationError):
        cp.verify_note(PN_TEXT.replace("answer", "answers") + "\n" + PN_SIG, verifier_key=PN_VKEY)


def test_key_id_is_the_spec_formula():
    public = ed25519.public_key_bytes(private_key=SEED)
    expected = hashlib.sha256(ORIGIN.encode() + b"\n" + b"\x01" + public).digest()[:4]
    assert cp.key_id(ORIGIN, public) == expected
    assert cp.key_id(ORIGIN + "x", public) != expected


# --- verifier keys -------------------------------------------------------------------------------


def test_vkey_round_trip():
    public = ed25519.public_key_bytes(private_key=SEED)
    text = cp.vkey(ORIGIN, public)
    name, kid, encoded = text.split("+", 2)
    assert name == ORIGIN and kid == cp.key_id(ORIGIN, public).hex()
    assert base64.b64decode(encoded) == b"\x01" + public
    parsed = cp.parse_vkey(text)
    assert parsed == cp.VerifierKey(name=ORIGIN, key_id=cp.key_id(ORIGIN, public), public_key=public)
    assert cp.vkey(parsed.name, parsed.public_key) == text
    assert cp.parse_vkey(PN_VKEY).name == "PeterNeumann"


def _vkey_variants() -> list[str]:
    public = ed25519.public_key_bytes(private_key=SEED)
    good = cp.vkey(ORIGIN, public)
    name, kid, encoded = good.split("+", 2)
    type2 = base64.b64encode(bytes([2]) + public).decode()
    short = base64.b64encode(bytes([1]) + public[:31]).decode()
    return [
        "",
        name,
        f"{name}+{kid}",
        f"{name}+00000000+{encoded}",  # key ID does not match
        f"other.example+{kid}+{encoded}",  # name does not match the key ID
        f"{name}+{kid.upper()}+{encoded}",
        f"{name}+{kid}0+{encoded}",
        f"{name}+{kid}+{type2}",  # another signature type
        f"{name}+{kid}+{short}",
        f"{name}+{kid}+{encoded[:-1]}",
        f"{name}+{kid}+{encoded[:-1]}=",
        f"{name}+{kid}+{encoded} ",
        f"na me+{kid}+{encoded}",
    ]


@pytest.mark.parametrize("text", _vkey_variants(), ids=lambda t: str(len(t)))
def test_parse_vkey_refuses_malformed_keys(text):
    with pytest.raises(cp.MalformedNote):
        cp.parse_vkey(text)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\nb", "a\tb", "a\u00a0b", "a\u2003b", "a\x01b", None, 7])
def test_key_names_with_spaces_plus_or_controls_are_refused(name):
    public = ed25519.public_key_bytes(private_key=SEED)
    with pytest.raises(cp.MalformedNote):
        cp.vkey(name, public)  # type: ignore[arg-type]
    with pytest.raises(cp.MalformedNote):
        cp.sign_note(_body(), name=name, private_key=SEED)  # type: ignore[arg-type]


# --- checkpoint bodies ---------------------------------------------------------------------------


def test_spec_example_body():
    root = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert cp.format_checkpoint(origin="example.com/behind-the-sofa", size=20852163, root=root) == SPEC_BODY
    assert cp.parse_checkpoint(SPEC_BODY) == cp.Checkpoint("example.com/behind-the-sofa", 20852163, root, ())


def test_empty_tree_and_extensions():
    body = cp.format_checkpoint(origin=ORIGIN, size=0, root=merkle.EMPTY_ROOT, extensions=["ext one", "two"])
    assert body == f"{ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next one\ntwo\n"
    parsed = cp.parse_checkpoint(body)
    assert parsed.extensions == ("ext one", "two") and parsed.size == 0 and parsed.body() == body


_line = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)


@given(_line, st.integers(0, 2**64 - 1), st.binary(min_size=32, max_size=32), st.lists(_line, max_size=3))
def test_checkpoint_round_trip(origin, size, root, extensions):
    body = cp.format_checkpoint(origin=origin, size=size, root=root, extensions=extensions)
    assert cp.parse_checkpoint(body) == cp.Checkpoint(origin, size, root, tuple(extensions))


_ROOT = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (f"{ORIGIN}\n5\n{_ROOT}", "end with a newline"),
        (f"{ORIGIN}\n5\n", "at least three lines"),
        (f"\n5\n{_ROOT}\n", "origin"),
        (f"{ORIGIN}\n05\n{_ROOT}\n", "tree size"),
        (f"{ORIGIN}\n-1\n{_ROOT}\n", "tree size"),
        (f"{ORIGIN}\n+1\n{_ROOT}\n", "tree size"),
        (f"{ORIGIN}\n 1\n{_ROOT}\n", "tree size"),
        (f"{ORIGIN}\n1.0\n{_ROOT}\n", "tree size"),
        (f"{ORIGIN}\n\u0665\n{_ROOT}\n", "tree size"),  # an Arabic-Indic five is not ASCII decimal
        (f"{ORIGIN}\n\n{_ROOT}\n", "tree size"),
        (f"{ORIGIN}\n{2**64}\n{_ROOT}\n", "at most"),
        (f"{ORIGIN}\n5\n{_ROOT.rstrip('=')}\n", "root hash"),
        (f"{ORIGIN}\n5\n{base64.b64encode(bytes(31)).decode()}\n", "root hash"),
        (f"{ORIGIN}\n5\n{base64.b64encode(bytes(33)).decode()}\n", "root hash"),
        (f"{ORIGIN}\n5\n{base64.urlsafe_b64encode(bytes([251]) * 32).decode()}\n", "root hash"),
        (f"{ORIGIN}\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", "root hash"),  # non-canonical padding bits
        (f"{ORIGIN}\n5\n {_ROOT}\n", "root hash"),
        (f"{ORIGIN}\n5\n{_ROOT}\n\next\n", "line 4 is empty"),
        (f"{ORIGIN}\n5\n{_ROOT}\n\n\u2014 k AAAA\n", "signed note"),
        (f"{ORIGIN}\r\n5\n{_ROOT}\n", "control"),
        (f"{ORIGIN}\n5\t\n{_ROOT}\n", "control"),
        (f"{ORIGIN}\ud800\n5\n{_ROOT}\n", "UTF-8"),
    ],
)
def test_parse_checkpoint_refuses_malformed_bodies(text, match):
    with pytest.raises(cp.MalformedCheckpoint, match=match) as info:
        cp.parse_checkpoint(text)
    assert isinstance(info.value, ValueError) and isinstance(info.value, InvalidInput)


def test_parse_checkpoint_refuses_non_text():
    with pytest.raises(cp.MalformedCheckpoint):
        cp.parse_checkpoint(SPEC_BODY.encode())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(origin="", size=1, root=bytes(32)),
        dict(origin="a\nb", size=1, root=bytes(32)),
        dict(origin="a\x00", size=1, root=bytes(32)),
        dict(origin=ORIGIN, size=-1, root=bytes(32)),
        dict(origin=ORIGIN, size=2**64, root=bytes(32)),
        dict(origin=ORIGIN, size=True, root=bytes(32)),
        dict(origin=ORIGIN, size="1", root=bytes(32)),
        dict(origin=ORIGIN, size=1, root=bytes(31)),
        dict(origin=ORIGIN, size=1, root="00" * 32),
        dict(origin=ORIGIN, size=1, root=bytes(32), extensions=[""]),
        dict(origin=ORIGIN, size=1, root=bytes(32), extensions=["a\nb"]),
        dict(origin=ORIGIN, size=1, root=bytes(32), extensions="ext"),
    ],
)
def test_format_checkpoint_refuses_bad_values(kwargs):
    with pytest.raises(cp.MalformedCheckpoint):
        cp.format_checkpoint(**kwargs)


# --- signing and verifying -----------------------------------------------------------------------


def test_sign_verify_round_trip():
    body = _body()
    note = cp.sign_note(body, name=ORIGIN, private_key=SEED)
    assert note.startswith(body + "\n\u2014 " + ORIGIN + " ") and note.endswith("\n")
    assert cp.verify_note(note, verifier_key=_vkey()) == body
    checkpoint = cp.open_checkpoint(note, verifier_key=_vkey())
    assert checkpoint == cp.parse_checkpoint(body) and checkpoint.size == 12345


@given(st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20), min_size=1, max_size=5))
def test_any_note_text_round_trips(lines):
    body = "".join(line + "\n" for line in lines)  # empty lines are allowed in a note's text
    note = cp.sign_note(body, name=ORIGIN, private_key=SEED)
    assert cp.verify_note(note, verifier_key=_vkey()) == body


def _refused(note: object, verifier_key: str | None = None) -> cp.NoteVerificationError:
    with pytest.raises(cp.NoteVerificationError) as info:
        cp.verify_note(note, verifier_key=verifier_key or _vkey())  # type: ignore[arg-type]
    return info.value


def _resign(note: str, blob_edit) -> str:
    body, line = note[: note.rindex("\n\n") + 1], note[note.rindex("\n\n") + 2:]
    prefix, encoded = line.rstrip("\n").rsplit(" ", 1)
    edited = blob_edit(base64.b64decode(encoded))
    return f"{body}\n{prefix} {base64.b64encode(edited).decode()}\n"


def test_refusals():
    body = _body()
    note = cp.sign_note(body, name=ORIGIN, private_key=SEED)
    errors = [
        _refused(note.replace("\n12345\n", "\n12346\n")),  # tampered body
        _refused(note, _vkey(OTHER_SEED)),  # wrong key, same name
        _refused(note, _vkey(SEED, "other.example/log")),  # right key, wrong key name
        _refused(cp.sign_note(body, name="other.example/log", private_key=SEED)),  # signed under another name
        _refused(note.replace(f"\u2014 {ORIGIN} ", "\u2014 renamed.example/log ")),  # same key ID, other name
        _refused(note[:-10] + "\n"),  # truncated signature text
        _refused(_resign(note, lambda blob: blob[:-1])),  # truncated signature bytes, valid base64
        _refused(_resign(note, lambda blob: blob[:4])),  # key ID only
        _refused(_resign(note, lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]))),  # flipped signature bit
        _refused(body),  # no signatures at all
        _refused(body + "\n"),
        _refused(note.rstrip("\n")),  # no final newline
        _refused(note.replace("\u2014 ", "- ")),  # not an em dash
        _refused(note.replace("\n\n", "\n")),  # no blank line
        _refused(note + "trailing garbage\n"),
        _refused(note.replace(f"\u2014 {ORIGIN} ", f"\u2014 {ORIGIN}  ")),
        _refused(note.replace("\n", "\r\n")),
        _refused(note.encode()),
        _refused(None),
        _refused(note, "not a verifier key"),
    ]
    assert {str(e) for e in errors} == {"The signed note could not be verified."}
    assert all(isinstance(e, InvalidInput) for e in errors)


def test_several_signatures():
    body = _body()
    mine = cp.signature_line(body, name=ORIGIN, private_key=SEED)
    witness = cp.signature_line(body, name="witness.example/w1", private_key=OTHER_SEED)
    impostor = cp.signature_line(body, name=ORIGIN, private_key=OTHER_SEED)  # same name, other key ID
    for lines in ([witness, mine], [mine, witness], [impostor, witness, mine]):
        note = body + "\n" + "".join(lines)
        assert cp.verify_note(note, verifier_key=_vkey()) == body
        assert cp.verify_note(note, verifier_key=_vkey(OTHER_SEED, "witness.example/w1")) == body
    # Signatures only from other keys: nothing verified, refused.
    _refused(body + "\n" + witness + impostor)
    # A signature that names our key (name and key ID) but does not verify refuses the whole note.
    bad = _resign(body + "\n" + mine, lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]))
    bad_line = bad[bad.rindex("\n\n") + 2:]
    _refused(body + "\n" + mine + bad_line)
    _refused(body + "\n" + bad_line + mine)
    # A malformed signature line anywhere refuses the note.
    _refused(body + "\n" + mine + "\u2014 witness.example/w1 not-base64!\n")


def test_too_many_signatures_are_refused():
    body = _body()
    mine = cp.signature_line(body, name=ORIGIN, private_key=SEED)
    witness = cp.signature_line(body, name="witness.example/w1", private_key=OTHER_SEED)
    assert cp.verify_note(body + "\n" + witness * 15 + mine, verifier_key=_vkey()) == body
    _refused(body + "\n" + witness * cp.MAX_SIGNATURES + mine)


@pytest.mark.parametrize("body", ["", "no final newline", "a\x00b\n", "a\rb\n", "\ud800\n", None, b"bytes\n"])
def test_sign_note_refuses_bad_bodies(body):
    with pytest.raises(cp.MalformedNote):
        cp.sign_note(body, name=ORIGIN, private_key=SEED)  # type: ignore[arg-type]


def test_verify_and_sign_are_keyword_only():
    with pytest.raises(TypeError):
        cp.verify_note(PN_TEXT + "\n" + PN_SIG, PN_VKEY)  # type: ignore[misc]
    with pytest.raises(TypeError):
        cp.sign_note(_body(), ORIGIN, SEED)  # type: ignore[misc]
    with pytest.raises(TypeError):
        cp.format_checkpoint(ORIGIN, 1, bytes(32))  # type: ignore[misc]


def test_checkpoint_of_a_real_tree_verifies_end_to_end():
    leaves = [merkle.leaf_hash(b"entry %d" % i) for i in range(1000)]
    tree = merkle.MerkleTree(leaves)
    old_note = cp.sign_note(cp.format_checkpoint(origin=ORIGIN, size=600, root=tree.root(600)), name=ORIGIN,
                            private_key=SEED)
    new_note = cp.sign_note(cp.format_checkpoint(origin=ORIGIN, size=1000, root=tree.root()), name=ORIGIN,
                            private_key=SEED)
    old = cp.open_checkpoint(old_note, verifier_key=_vkey())
    new = cp.open_checkpoint(new_note, verifier_key=_vkey())
    assert merkle.verify_consistency(size1=old.size, size2=new.size, proof=tree.consistency_proof(old.size),
                                     root1=old.root, root2=new.root)
    assert merkle.verify_inclusion(leaf_hash=leaves[599], index=599, tree_size=new.size,
                                   proof=tree.inclusion_proof(599), root=new.root)


def test_sign_note_with_an_unusable_key_is_the_opaque_key_error():
    with pytest.raises(ed25519.Ed25519KeyError):
        cp.sign_note(_body(), name=ORIGIN, private_key=SEED[:31])
