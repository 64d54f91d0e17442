"""VietQR and other EMVCo merchant-presented QR payloads: parse, check, build; and QR images.

A payload is a list of TLV fields (two-digit tag, two-digit length, value) ending with tag ``63``,
the CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF) of everything before its value, in four
upper-case hex digits (EMVCo QRCPS-MPM 1.1, §4.7.3). A VietQR transfer names the beneficiary in a
merchant-account template (tags 26–51) whose GUID is NAPAS's ``A000000727``: sub-field ``01`` holds
the beneficiary bank's BIN (``00``) and account or card number (``01``), ``02`` the service
(``QRIBFTTA`` to an account, ``QRIBFTTC`` to a card). Tag ``54`` is the amount, ``53`` the currency
(``704``: VND), ``62`` additional data whose sub-field ``08`` is the purpose (the transfer message).

Images (PNG or JPEG, at most ``MAX_IMAGE_BYTES`` and ``MAX_PIXELS``) are decoded with zxing-cpp.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from postguard.errors import FieldError, InvalidInput
from postguard.intel.banks import BY_BIN

NAPAS_GUID = "A000000727"
MAX_PAYLOAD = 512  # EMVCo payloads are at most 512 characters
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 4_000_000
MAX_SIDE = 4096

# BINs of banks that are not in ``postguard.intel.banks`` (which has the banks people name in text).
# Source: the NAPAS member list as published for VietQR (vietqr.io ``/v2/banks``, the ``bin`` field),
# as of 2025; the six digits are the NAPAS bank identification numbers of the account's bank. Every
# entry was checked against several independent published copies of that list (with its
# cdn.vietqr.io logo links); some hand-made copies swap the two wallets: 971005 is Viettel Money
# (code VTLMONEY) and 971011 VNPT Money in the list itself.
EXTRA_BINS: dict[str, str] = {
    "970424": "Shinhan Bank",
    "970457": "Woori Bank",
    "970458": "UOB Vietnam",
    "970410": "Standard Chartered Vietnam",
    "970439": "Public Bank Vietnam",
    "970434": "Indovina Bank",
    "970421": "VRB",
    "970442": "Hong Leong Bank Vietnam",
    "970444": "CBBank",
    "970446": "Co-opBank",
    "970455": "IBK Hà Nội",
    "970456": "IBK TP.HCM",
    "970462": "Kookmin Hà Nội",
    "970463": "Kookmin TP.HCM",
    "422589": "CIMB Vietnam",
    "546034": "CAKE by VPBank",
    "546035": "Ubank by VPBank",
    "971005": "Viettel Money",
    "971011": "VNPT Money",
}


def bank_name(bin_: str) -> str | None:
    """The bank of a NAPAS BIN, or None."""
    bank = BY_BIN.get(bin_)
    return bank.name if bank is not None else EXTRA_BINS.get(bin_)


def _bad(message: str, field: str = "qr", code: str = "invalid_qr") -> InvalidInput:
    return InvalidInput("The QR code could not be read.", [FieldError(field, message, code=code)])


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def tlv(payload: str, *, field: str = "qr") -> list[tuple[str, str]]:
    """The TLV fields of ``payload`` in order; ``InvalidInput`` if they do not add up."""
    out, i = [], 0
    while i < len(payload):
        head = payload[i : i + 4]
        if len(head) < 4 or not head.isdigit() or not head.isascii():
            raise _bad("is not a list of EMVCo fields (two-digit tag, two-digit length, value)", field)
        size = int(head[2:])
        value = payload[i + 4 : i + 4 + size]
        if len(value) != size:
            raise _bad(f"field {head[:2]} is shorter than its length says", field)
        out.append((head[:2], value))
        i += 4 + size
    return out


def looks_like_payload(text: str) -> bool:
    """Whether ``text`` is meant as an EMVCo payload (it starts with the format indicator ``000201``)."""
    return text.lstrip().startswith("000201")


@dataclass(frozen=True)
class QrPayment:
    """What a merchant-presented QR code asks to pay."""
    napas: bool  # a VietQR (NAPAS GUID) transfer
    bin: str | None
    bank: str | None  # the bank's name, when the BIN is known
    account: str | None  # account or card number
    service: str | None  # QRIBFTTA (account) or QRIBFTTC (card)
    amount: Decimal | None
    currency: str | None
    message: str | None  # tag 62, sub-field 08
    merchant: str | None  # tag 59
    city: str | None  # tag 60
    dynamic: bool  # point of initiation 12: for one payment

    def as_dict(self) -> dict:
        return {"napas": self.napas, "bin": self.bin, "bank": self.bank, "account": self.account,
                "service": self.service, "amount": None if self.amount is None else int(self.amount)
                if self.amount == self.amount.to_integral_value() else str(self.amount),
                "currency": self.currency, "message": self.message, "merchant": self.merchant, "city": self.city,
                "dynamic": self.dynamic}


def parse(payload: str, *, field: str = "qr") -> QrPayment:
    """Read an EMVCo merchant-presented payload; ``InvalidInput`` naming ``field`` when it is not
    one (bad TLV, no or wrong CRC, no format indicator, a malformed amount)."""
    if not isinstance(payload, str):
        raise _bad("must be text", field)
    payload = payload.strip()
    if len(payload) > MAX_PAYLOAD:
        raise _bad(f"is longer than {MAX_PAYLOAD} characters", field, code="too_long")
    fields = tlv(payload, field=field)
    if not fields or fields[0] != ("00", "01"):
        raise _bad("does not start with the EMVCo format indicator 000201", field)
    if fields[-1][0] != "63" or len(fields[-1][1]) != 4:
        raise _bad("has no CRC (tag 63) at its end", field, code="no_crc")
    body = payload[: len(payload) - 4]
    if not re.fullmatch(r"[0-9A-Fa-f]{4}", fields[-1][1]) or \
            int(fields[-1][1], 16) != crc16(body.encode("utf-8")):
        raise _bad("its CRC does not match: the code was altered or misread", field, code="bad_crc")
    top = dict(fields[:-1])
    napas, bin_, account, service = False, None, None, None
    for tag, value in fields:
        if "26" <= tag <= "51":
            sub = dict(tlv(value, field=field))
            if sub.get("00", "").upper() == NAPAS_GUID:
                napas = True
                beneficiary = dict(tlv(sub.get("01", ""), field=field))
                bin_, account, service = beneficiary.get("00"), beneficiary.get("01"), sub.get("02")
                break
    amount = None
    if "54" in top:
        try:
            amount = Decimal(top["54"])
        except InvalidOperation:
            raise _bad("its amount (tag 54) is not a number", field) from None
        if not amount.is_finite() or amount < 0:
            raise _bad("its amount (tag 54) is not a number", field)
    extra = dict(tlv(top["62"], field=field)) if "62" in top else {}
    return QrPayment(napas=napas, bin=bin_, bank=bank_name(bin_) if bin_ else None, account=account,
                     service=service, amount=amount, currency=top.get("53"), message=extra.get("08"),
                     merchant=top.get("59"), city=top.get("60"), dynamic=top.get("01") == "12")


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def build(bin_: str, account: str, *, amount: int | str | None = None, message: str | None = None,
          card: bool = False, merchant: str | None = None) -> str:
    """A VietQR payload for a transfer to ``account`` at the bank ``bin_``, with its CRC."""
    beneficiary = _field("00", bin_) + _field("01", account)
    template = _field("00", NAPAS_GUID) + _field("01", beneficiary) + _field("02", "QRIBFTTC" if card else "QRIBFTTA")
    out = _field("00", "01") + _field("01", "12" if amount is not None else "11") + _field("38", template)
    out += _field("53", "704")
    if amount is not None:
        out += _field("54", str(amount))
    out += _field("58", "VN")
    if merchant:
        out += _field("59", merchant)
    if message:
        out += _field("62", _field("08", message))
    out += "6304"
    return out + f"{crc16(out.encode('utf-8')):04X}"


# -- images --------------------------------------------------------------------------------------------
def decode_image(data: bytes, *, field: str = "qr_image") -> str:
    """The text of the QR code in a PNG or JPEG image; ``InvalidInput`` naming ``field`` for
    anything else (too big, too many pixels, not an image, no QR code)."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise _bad("is empty", field, code="empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise _bad(f"is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB", field, code="too_large")
    if not (data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff")):
        raise _bad("is not a PNG or JPEG image", field, code="unsupported_image")
    import io
    import warnings

    import zxingcpp
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(bytes(data)), formats=("PNG", "JPEG")) as img:
                w, h = img.size
                if w * h > MAX_PIXELS or w > MAX_SIDE or h > MAX_SIDE:
                    raise _bad(f"has more than {MAX_PIXELS:,} pixels or a side over {MAX_SIDE}", field,
                               code="too_large")
                gray = img.convert("L")
    except InvalidInput:
        raise
    except Exception:  # any decoder failure on a hostile or truncated file is the file's fault
        raise _bad("could not be read as an image", field, code="unreadable_image") from None
    try:
        found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    except Exception:
        raise _bad("could not be read as an image", field, code="unreadable_image") from None
    texts = [r.text for r in found if r.valid and r.text]
    if not texts:
        raise _bad("has no readable QR code", field, code="no_qr")
    return texts[0]
