"""ES256 (ECDSA over P-256 with SHA-256) as JOSE uses it: raw 64-byte ``R||S`` signatures.

The only place that touches ECDSA. Signatures in and out are always the
JWS form (RFC 7518 §3.4): two 32-byte big-endian integers, never ASN.1 DER. A signature of any other
length, including a perfectly valid DER one, simply does not verify.

Keys are small wrappers so that callers (``callerid.stir.passport``, ``vault.callsign``) never hold a
``cryptography`` object.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

SIGNATURE_SIZE = 64
_COORD = 32
_ES256 = ec.ECDSA(hashes.SHA256())  # stateless: one instance serves every call


class ES256KeyError(ValueError):
    """A key that is not a usable P-256 key (wrong type, wrong curve, unreadable)."""


def _check_p256(key: object) -> None:
    curve = getattr(key, "curve", None)
    if not isinstance(curve, ec.SECP256R1):
        raise ES256KeyError("not an EC P-256 key")


class VerifyingKey:
    """A P-256 public key that checks raw ES256 signatures."""

    __slots__ = ("_key",)

    def __init__(self, key: ec.EllipticCurvePublicKey) -> None:
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ES256KeyError("not an EC public key")
        _check_p256(key)
        self._key = key

    @classmethod
    def from_spki(cls, *, der: bytes) -> VerifyingKey:
        """From a DER SubjectPublicKeyInfo."""
        try:
            key = serialization.load_der_public_key(der)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise ES256KeyError("unreadable public key") from exc
        return cls(key)  # type: ignore[arg-type]

    @classmethod
    def from_pem(cls, *, pem: bytes) -> VerifyingKey:
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise ES256KeyError("unreadable public key") from exc
        return cls(key)  # type: ignore[arg-type]

    def spki_der(self) -> bytes:
        return self._key.public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)

    def verify(self, *, data: bytes, signature: bytes) -> bool:
        """True only for a valid 64-byte ``R||S`` signature over ``data``."""
        if type(signature) is not bytes:
            if not isinstance(signature, bytes | bytearray):
                return False
            signature = bytes(signature)
        if len(signature) != SIGNATURE_SIZE:
            return False
        der = _der_signature(signature)
        if der is None:
            return False
        try:
            self._key.verify(der, data if type(data) is bytes else bytes(data), _ES256)
        except (InvalidSignature, ValueError):
            return False
        return True


def _der_signature(rs: bytes) -> bytes | None:
    """``R||S`` (two 32-byte big-endian integers) as the DER ``Ecdsa-Sig-Value`` OpenSSL takes, or
    ``None`` when either is zero. The same bytes as ``encode_dss_signature`` without the integers:
    each INTEGER is its minimal big-endian form with a 0x00 in front when the top bit is set, at most
    2 x 33 bytes of content, so every length fits in one byte."""
    r = rs[:_COORD].lstrip(b"\0")
    s = rs[_COORD:].lstrip(b"\0")
    if not r or not s:
        return None
    if r[0] & 0x80:
        r = b"\0" + r
    if s[0] & 0x80:
        s = b"\0" + s
    return b"0%c\x02%c%b\x02%c%b" % (len(r) + len(s) + 4, len(r), r, len(s), s)


# The DER ``Ecdsa-Sig-Value`` OpenSSL writes for P-256 is, in 255 cases out of 256, two INTEGERs of
# 32 bytes, or of 33 when the top bit is set (a 0x00 in front): four layouts, keyed by the first
# four bytes, each giving where R starts, where S's header is and what it must be.
_DER_LAYOUTS = {
    b"\x30\x44\x02\x20": (4, 36, b"\x02\x20"),
    b"\x30\x45\x02\x20": (4, 36, b"\x02\x21\x00"),
    b"\x30\x45\x02\x21": (5, 37, b"\x02\x20"),
    b"\x30\x46\x02\x21": (5, 37, b"\x02\x21\x00"),
}


def _rs_from_der(der: bytes) -> bytes:
    """The DER ``Ecdsa-Sig-Value`` OpenSSL returns, as 64 bytes ``R||S``: the usual layouts by
    slicing (each byte of structure checked), anything else through ``decode_dss_signature``."""
    layout = _DER_LAYOUTS.get(der[:4])
    if layout is not None:
        r0, sh, s_head = layout
        s0 = sh + len(s_head)
        # a 33-byte INTEGER is 0x00 then a byte with the top bit set; a 32-byte one has it clear
        if (len(der) == s0 + _COORD and der[sh:s0] == s_head and (der[5] >= 0x80 if r0 == 5 else der[4] < 0x80)
                and (der[s0] >= 0x80 if len(s_head) == 3 else der[s0] < 0x80) and (r0 == 4 or not der[4])):
            return der[r0:r0 + _COORD] + der[s0:]
    r, s = decode_dss_signature(der)
    return r.to_bytes(_COORD, "big") + s.to_bytes(_COORD, "big")


class SigningKey:
    """A P-256 private key that makes raw ES256 signatures."""

    __slots__ = ("_key",)

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ES256KeyError("not an EC private key")
        _check_p256(key)
        self._key = key

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, *, pem: bytes, password: bytes | None = None) -> SigningKey:
        """From a PEM private key (PKCS#8 or SEC1 "EC PRIVATE KEY")."""
        try:
            key = serialization.load_pem_private_key(pem, password=password)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise ES256KeyError("unreadable private key") from exc
        return cls(key)  # type: ignore[arg-type]

    @classmethod
    def from_der(cls, *, der: bytes) -> SigningKey:
        """From a DER private key (PKCS#8, as ``private_der`` writes it)."""
        try:
            key = serialization.load_der_private_key(der, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise ES256KeyError("unreadable private key") from exc
        return cls(key)  # type: ignore[arg-type]

    def private_der(self) -> bytes:
        """Unencrypted PKCS#8 DER (for wrapping by the vault's key-encryption key)."""
        return self._key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())

    def private_pem(self, *, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted with ``password`` when one is given."""
        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        )
        return self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)

    def public_key(self) -> VerifyingKey:
        return VerifyingKey(self._key.public_key())

    def sign(self, *, data: bytes) -> bytes:
        """A fresh (randomised) 64-byte ``R||S`` ES256 signature over ``data``."""
        return _rs_from_der(self._key.sign(data if type(data) is bytes else bytes(data), _ES256))
