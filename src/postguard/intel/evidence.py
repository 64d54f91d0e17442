"""Evidence files: the type is decided by the content's magic bytes, never by a name or a header
(pure functions, no I/O).

Accepted: screenshots and photos (JPEG, PNG, GIF, WebP, HEIC), documents (PDF) and recordings
(MP3, M4A/AAC, Ogg, WAV, AMR). Anything else is refused, and so is a declared type that the content
contradicts.
"""

from __future__ import annotations

from postguard.errors import FieldError, InvalidInput

ALLOWED = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "application/pdf", "audio/mpeg",
           "audio/mp4", "audio/ogg", "audio/wav", "audio/amr")
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1"}
_M4A_BRANDS = {b"M4A ", b"M4B ", b"mp42", b"isom", b"dash"}
# Declared types people's browsers and phones send for the same content.
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "audio/mp3": "audio/mpeg",
            "audio/x-m4a": "audio/mp4", "audio/m4a": "audio/mp4", "audio/aac": "audio/mp4",
            "audio/x-wav": "audio/wav", "audio/wave": "audio/wav", "audio/vnd.wave": "audio/wav",
            "image/heif": "image/heic", "application/x-pdf": "application/pdf", "audio/3gpp": "audio/amr"}


def sniff(data: bytes) -> str | None:
    """The media type the content's first bytes prove, or None."""
    head = data[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] in (0xFB, 0xF3, 0xF2)):
        return "audio/mpeg"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIC_BRANDS:
            return "image/heic"
        if brand in _M4A_BRANDS:
            return "audio/mp4"
    return None


def check_file(data: bytes, *, declared: str | None, max_bytes: int, index: int = 0) -> str:
    """Refuse an empty, oversized or unrecognised file (or one whose declared type lies); return its
    media type. Oversize raises ``PayloadTooLarge``, the rest ``InvalidInput`` naming ``evidence[i]``."""
    from postguard.errors import PayloadTooLarge

    where = f"evidence[{index}]"
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"Evidence file {index + 1} is larger than {max_bytes} bytes.",
                              [FieldError(where, f"at most {max_bytes} bytes", code="too_large")])
    if not data:
        raise InvalidInput("An evidence file is empty.", [FieldError(where, "the file is empty", code="empty")])
    kind = sniff(data)
    if kind is None:
        raise InvalidInput("An evidence file is not an accepted type.",
                           [FieldError(where, "accepted: JPEG, PNG, GIF, WebP, HEIC, PDF, MP3, M4A, Ogg, WAV, AMR "
                                              "(decided by the content, not the name)", code="unsupported_type")])
    if declared:
        d = declared.split(";")[0].strip().lower()
        d = _ALIASES.get(d, d)
        if d not in ("application/octet-stream", "") and d != kind:
            raise InvalidInput("An evidence file's declared type does not match its content.",
                               [FieldError(where, f"declared {d} but the content is {kind}", code="type_mismatch")])
    return kind
