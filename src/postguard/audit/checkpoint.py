"""Log checkpoints as C2SP signed notes (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note).

A checkpoint body is three lines, each ending in a newline, then optional non-empty extension lines::

    <origin>
    <tree size, decimal, no leading zeros>
    <base64 of the 32-byte root hash>

A signed note is the body, a blank line, and one or more signature lines::

    — <key name> <base64(4-byte key ID || signature)>

The em dash is U+2014, followed by a space. For Ed25519 (signature type 0x01) the signature is over
the body (up to and including its last newline, not the blank line) and the key ID is
``SHA-256(key name || 0x0A || 0x01 || public key)[:4]``. A verifier key is written
``<name>+<hex key ID>+<base64(0x01 || public key)>``, as golang.org/x/mod/sumdb/note does.

Parsing and formatting refuse malformed input with a ``MalformedNote`` (or ``MalformedCheckpoint``)
that says what is wrong; ``verify_note`` refuses every note it cannot verify with the one opaque
``NoteVerificationError``. Key names, key IDs and verifier keys are ``postguard.crypto.notes``'s,
the Ed25519 work is ``postguard.crypto.ed25519``'s.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from postguard.crypto import ed25519
from postguard.crypto.notes import (
    KEY_ID_SIZE,
    MalformedNote,
    VerifierKey,
    decode_b64,
    check_name,
    has_control,
    key_id,
    parse_vkey,
    vkey,
)
from postguard.errors import InvalidInput

ROOT_SIZE = 32
MAX_TREE_SIZE = (1 << 64) - 1
MAX_SIGNATURES = 100  # the spec asks verifiers to accept at least 16
SIGNATURE_PREFIX = "\u2014 "  # em dash, space

_SIZE_RE = re.compile(r"0|[1-9][0-9]*")

__all__ = [
    "Checkpoint",
    "MalformedCheckpoint",
    "MalformedNote",
    "NoteVerificationError",
    "VerifierKey",
    "format_checkpoint",
    "key_id",
    "open_checkpoint",
    "parse_checkpoint",
    "parse_vkey",
    "sign_note",
    "signature_line",
    "verify_note",
    "vkey",
]


class MalformedCheckpoint(MalformedNote):
    """A checkpoint body that does not follow the tlog-checkpoint format."""


class NoteVerificationError(InvalidInput):
    """The one error for every signed note that does not verify: malformed, no signature by the
    expected key, a bad signature, an unusable verifier key. It never says which."""

    slug: ClassVar[str] = "note-not-verified"
    title: ClassVar[str] = "Signed note not verified"

    def __init__(self) -> None:
        super().__init__(detail="The signed note could not be verified.")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        return format_checkpoint(origin=self.origin, size=self.size, root=self.root,
                                 extensions=self.extensions)


# --- checkpoints -----------------------------------------------------------------------------------


def format_checkpoint(*, origin: str, size: int, root: bytes, extensions: Sequence[str] = ()) -> str:
    """The checkpoint body (the text that gets signed)."""
    if not isinstance(origin, str) or not origin or "\n" in origin or has_control(origin):
        raise MalformedCheckpoint("origin must be one non-empty line without control characters")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_TREE_SIZE:
        raise MalformedCheckpoint("tree size must be an integer from 0 to 2**64 - 1")
    if not isinstance(root, bytes) or len(root) != ROOT_SIZE:
        raise MalformedCheckpoint("root hash must be 32 bytes")
    if isinstance(extensions, str):
        raise MalformedCheckpoint("extensions must be a sequence of lines")
    for line in extensions:
        if not isinstance(line, str) or not line or "\n" in line or has_control(line):
            raise MalformedCheckpoint("extension lines must be non-empty lines without control characters")
    lines = [origin, str(size), base64.b64encode(root).decode("ascii"), *extensions]
    return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint body (not the signed note: see ``open_checkpoint``), strictly."""
    if not isinstance(text, str):
        raise MalformedCheckpoint("checkpoint must be text")
    if has_control(text):
        raise MalformedCheckpoint("checkpoint must be UTF-8 without control characters other than newline")
    if not text.endswith("\n"):
        raise MalformedCheckpoint("checkpoint must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedCheckpoint("checkpoint must have at least three lines: origin, tree size, root hash")
    origin, size_line, root_line, *extensions = lines
    if not origin:
        raise MalformedCheckpoint("checkpoint line 1 (origin) must not be empty")
    if not _SIZE_RE.fullmatch(size_line):
        raise MalformedCheckpoint("checkpoint line 2 (tree size) must be a decimal number without leading zeros")
    size = int(size_line)
    if size > MAX_TREE_SIZE:
        raise MalformedCheckpoint("checkpoint line 2 (tree size) must be at most 2**64 - 1")
    root = decode_b64(root_line)
    if root is None or len(root) != ROOT_SIZE:
        raise MalformedCheckpoint("checkpoint line 3 (root hash) must be the standard base64 of 32 bytes")
    for number, line in enumerate(extensions, start=4):
        if not line:
            raise MalformedCheckpoint(
                f"checkpoint line {number} is empty: extension lines must be non-empty "
                "(pass the note body, not the signed note)"
            )
    return Checkpoint(origin=origin, size=size, root=root, extensions=tuple(extensions))


# --- signed notes ----------------------------------------------------------------------------------


def _check_body(body: object) -> str:
    if not isinstance(body, str) or not body:
        raise MalformedNote("note body must be non-empty text")
    if not body.endswith("\n"):
        raise MalformedNote("note body must end with a newline")
    if has_control(body):
        raise MalformedNote("note body must be UTF-8 without control characters other than newline")
    return body


def signature_line(body: str, *, name: str, private_key: bytes) -> str:
    """One Ed25519 signature line for ``body`` (to add a signature to an already signed note)."""
    body = _check_body(body)
    name = check_name(name)
    public_key = ed25519.public_key_bytes(private_key=private_key)
    signature = ed25519.sign(body.encode("utf-8"), private_key=private_key)
    blob = key_id(name, public_key) + signature
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(blob).decode('ascii')}\n"


def sign_note(body: str, *, name: str, private_key: bytes) -> str:
    """The signed note: ``body``, a blank line, and one Ed25519 signature line by ``name``."""
    line = signature_line(body, name=name, private_key=private_key)  # checks body, name and key first
    return body + "\n" + line


def verify_note(note: str, *, verifier_key: str) -> str:
    """Return the body of ``note`` if it carries a valid signature by ``verifier_key``.

    Signatures by other keys are ignored, as the spec requires; a signature that names this key
    (name and key ID) but does not verify, or any malformed part, refuses the whole note.
    Every refusal is the same ``NoteVerificationError``.
    """
    try:
        key = parse_vkey(verifier_key)
    except MalformedNote:
        raise NoteVerificationError() from None
    if not isinstance(note, str) or has_control(note):
        raise NoteVerificationError()
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteVerificationError()
    body, block = note[:split + 1], note[split + 2:]
    if not block or not block.endswith("\n"):
        raise NoteVerificationError()
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteVerificationError()
    message = body.encode("utf-8")
    verified = False
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteVerificationError()
        fields = line[len(SIGNATURE_PREFIX):].split(" ")
        if len(fields) != 2:
            raise NoteVerificationError()
        name, encoded = fields
        try:
            check_name(name)
        except MalformedNote:
            raise NoteVerificationError() from None
        blob = decode_b64(encoded)
        if blob is None or len(blob) <= KEY_ID_SIZE:
            raise NoteVerificationError()
        if name != key.name or blob[:KEY_ID_SIZE] != key.key_id:
            continue  # another key's signature: not ours to judge
        if not ed25519.verify(message, blob[KEY_ID_SIZE:], public_key=key.public_key):
            raise NoteVerificationError()
        verified = True
    if not verified:
        raise NoteVerificationError()
    return body


def open_checkpoint(note: str, *, verifier_key: str) -> Checkpoint:
    """Verify a signed checkpoint and parse its body."""
    return parse_checkpoint(verify_note(note, verifier_key=verifier_key))
