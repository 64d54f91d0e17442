"""Key-encryption keys (KEK): the root of the vault's envelope encryption.

``KeyProvider`` is the interface an external KMS implements; ``LocalKeyFile`` is the default: a
JSON file holding one or more 256-bit keys, created with mode 0600 on first start in development
mode and marked ``dev``. Production mode refuses a ``dev`` key file, a missing file and a file that
other users can read.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any, Protocol

from postguard.crypto import aead
from postguard.errors import ConfigurationError, DecryptionFailed

FORMAT = "postguard-kek-v1"


class KeyProvider(Protocol):
    """Wraps and unwraps organisation keys. Implementations must bind ``aad`` and be opaque on failure."""

    @property
    def active_key_id(self) -> str: ...

    def wrap(self, plaintext: bytes, *, aad: bytes) -> bytes: ...

    def unwrap(self, blob: bytes, *, aad: bytes) -> bytes: ...

    def rotate(self) -> str: ...


def _encode_id(key_id: str) -> bytes:
    raw = key_id.encode("ascii")
    if not 0 < len(raw) < 256:
        raise ConfigurationError("key id must be 1-255 ASCII characters")
    return bytes([len(raw)]) + raw


class LocalKeyFile:
    """KEKs from a local JSON file. Wrapped blobs: ``0x01 | len(id) | id | nonce(12) | ct``."""

    def __init__(self, path: Path, *, production: bool) -> None:
        self.path = Path(path)
        if not self.path.exists():
            if production:
                raise ConfigurationError(
                    f"key file {self.path} does not exist; in production create one with "
                    "`postguard keys kek-create --production` and keep it outside the data directory"
                )
            self._write({"format": FORMAT, "dev": True, "active": "k1", "keys": {"k1": _new_key()}})
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if production and mode & 0o077:
            raise ConfigurationError(f"key file {self.path} is readable by other users (mode {oct(mode)}); chmod 600")
        data = self._read()
        if production and data.get("dev", True):
            raise ConfigurationError(
                f"key file {self.path} holds a development key, refused in production mode"
            )
        self._data = data
        self._aeads = {kid: aead.cipher(base64.b64decode(k)) for kid, k in data["keys"].items()}

    @staticmethod
    def create(path: Path, *, dev: bool) -> None:
        path = Path(path)
        if path.exists():
            raise ConfigurationError(f"key file {path} already exists; refusing to overwrite a key")
        LocalKeyFile._write_to(path, {"format": FORMAT, "dev": dev, "active": "k1", "keys": {"k1": _new_key()}})

    def _read(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text())
            if data.get("format") != FORMAT or data["active"] not in data["keys"]:
                raise ValueError
            return data
        except (ValueError, KeyError, TypeError) as e:
            raise ConfigurationError(f"key file {self.path} is not a valid {FORMAT} file") from e

    def _write(self, data: dict[str, Any]) -> None:
        self._write_to(self.path, data)

    @staticmethod
    def _write_to(path: Path, data: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @property
    def active_key_id(self) -> str:
        return str(self._data["active"])

    @property
    def is_dev(self) -> bool:
        return bool(self._data.get("dev", True))

    def wrap(self, plaintext: bytes, *, aad: bytes) -> bytes:
        kid = self.active_key_id
        nonce = os.urandom(12)
        return b"\x01" + _encode_id(kid) + nonce + self._aeads[kid].encrypt(nonce, plaintext, aad)

    def unwrap(self, blob: bytes, *, aad: bytes) -> bytes:
        try:
            if blob[0] != 1:
                raise DecryptionFailed()
            n = blob[1]
            kid = blob[2 : 2 + n].decode("ascii")
            nonce = blob[2 + n : 14 + n]
            return aead.decrypt(self._aeads[kid], nonce, blob[14 + n :], aad)
        except (KeyError, IndexError, UnicodeDecodeError, ValueError, TypeError):
            raise DecryptionFailed() from None

    def key_id_of(self, blob: bytes) -> str:
        n = blob[1]
        return blob[2 : 2 + n].decode("ascii")

    def rotate(self) -> str:
        """Add a new KEK and make it active; older ones stay to unwrap until rewrapped."""
        data = self._read()
        kid = f"k{max(int(k[1:]) for k in data['keys']) + 1}"
        data["keys"][kid] = _new_key()
        data["active"] = kid
        self._write(data)
        self._data = data
        self._aeads[kid] = aead.cipher(base64.b64decode(data["keys"][kid]))
        return kid

    def retire(self, keep: set[str]) -> list[str]:
        """Delete every KEK not in ``keep`` (after a rewrap); returns the ids removed."""
        data = self._read()
        gone = [k for k in data["keys"] if k not in keep and k != data["active"]]
        for k in gone:
            del data["keys"][k]
            self._aeads.pop(k, None)
        self._write(data)
        self._data = data
        return gone


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()
