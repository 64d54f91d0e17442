"""The message check: a pasted SMS or chat message, a VietQR payload or a QR image, answered with a
label (``scam``, ``suspicious``, ``legit``), a score, the reasons (in the message's language, with
Vietnamese and English) and every indicator with its own verdict.

Nothing pasted is stored or logged: the indicators are looked up with ``quiet_answer`` (no count, no
write), the message is limited once per check against the lookup rate, and nothing of it is kept."""

from __future__ import annotations

import threading

import orjson
from starlette.concurrency import run_in_threadpool
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from postguard.errors import FieldError, InvalidInput
from postguard.intel.normalize import Normal, norm_bank_account
from postguard.lookalike.match import Hit
from postguard.messages import vietqr
from postguard.messages.indicators import Found, Indicators, as_dict
from postguard.messages.model import Model, model_text
from postguard.messages.rules import CAUTIONS, asks_payment, language, reasons, rule_probability
from postguard.messages.text import bounded, fold, fold_slang, is_message
from postguard.metrics import Meter
from postguard.senders.service import MAX_SENDER, ProvenPhone, TemplateMatch

# The score is the model's probability and the red flags combined as independent evidence, scaled down
# by the genuine cues; the cut-offs are chosen by cross-validation on the public corpus
# (docs/benchmarks.md, "Accuracy on real messages").
SCAM_AT, SUSPICIOUS_AT = 0.6, 0.5
# The model's probability counts at most this much: worded like a scam, with no red flag, a message is a
# scam only when the model is near certain (0.7 · p ≥ 0.6, p ≥ 0.86) and suspicious from p ≥ 0.71. On
# messages it never saw, genuine carrier and bank notices otherwise became scams on wording alone.
MODEL_SHARE = 0.7
MODEL_REASON_AT = 0.6
HEADLINES = {
    "scam": ("Very likely a scam. Do not transfer money, share codes or install anything.",
             "Rất có thể là lừa đảo. Đừng chuyển tiền, đừng đưa mã, đừng cài đặt gì."),
    "suspicious": ("Warning signs found. Check with the operator's official hotline before doing anything.",
                   "Có dấu hiệu đáng ngờ. Hãy gọi tổng đài chính thức để kiểm tra trước khi làm gì."),
    "legit": ("No warning signs found. That does not mean it is safe.",
              "Không thấy dấu hiệu lừa đảo. Điều đó không có nghĩa là chắc chắn an toàn."),
}
WORDING = ("Worded like known scam messages.", "Lời lẽ giống các tin nhắn lừa đảo đã biết.")
ADVICE = ("A genuine courier never asks you to transfer money to a personal account, to tell an OTP code, to "
          "install an app or to pay a storage fee. When unsure, call the operator's official hotline.",
          "Người giao hàng thật không bao giờ bắt chuyển khoản vào tài khoản cá nhân, hỏi mã OTP, bảo cài ứng "
          "dụng hay đòi phí lưu kho. Khi nghi ngờ, hãy gọi tổng đài chính thức của hãng.")


class Templates(Protocol):
    """What the message check asks of the operators' registered templates (``Senders.match_message``):
    ``outcome`` sent | not_sent | template | suspicious | unknown, with ``org_name`` and bilingual text;
    ``phone``: the number the person proved (sent | not_sent need it); ``sender``: who it came from."""

    def __call__(self, text: str, *, phone: ProvenPhone | None = None, sender: str | None = None) -> TemplateMatch: ...


# How an operator's template weighs: its wording is a genuine cue (a factor on the score); a message
# that names an operator but is none of its templates, or that the operator says it never sent to the
# proven number, is a red flag.
TEMPLATE_WEIGHTS = {"sent": -0.8, "template": -0.6, "not_sent": 0.6, "suspicious": 0.35}
# What an operator says of a message is at least a warning, whatever else it shows: it did not send it to
# the proven number, or it came from the operator's own sender id with wording that is none of its templates.
AT_LEAST_SUSPICIOUS = frozenset({"operator_not_sent", "operator_suspicious"})
# A caution (spam, a hoax, a stranger's opener) makes a message suspicious, and no more than that unless a
# red flag of at least this weight besides the model's wording says it is a scam.
STRONG_FLAG = 0.45


class Checks(Protocol):
    """What the message check needs of ``CheckService``."""

    def quiet_answer(self, n: Normal) -> dict: ...

    def limit(self, client: str) -> None: ...


def label_of(score: float) -> str:
    return "scam" if score >= SCAM_AT else "suspicious" if score >= SUSPICIOUS_AT else "legit"


class MessageService:
    def __init__(self, *, checks: Checks, brands: Callable[[], tuple[tuple[str, tuple[str, ...]], ...]],
                 match: Callable[[str], Hit | None], templates: Templates | None = None,
                 cod: Callable[[str, str], str | None] | None = None, model_path: Path | None = None,
                 meter: Meter | None = None) -> None:
        """``templates``: the operators' registered message templates; ``cod(type, value)``: the
        operator whose registered COD account or wallet a payee is, or None (None: neither is consulted);
        ``meter``: counts checked messages by verdict (``postguard_messages_checks_total``)."""
        self._checked = (meter or Meter()).counter(
            "postguard_messages_checks", "Messages and QR codes checked (/v1/check, the check page), by verdict",
            ("verdict",)).inc
        self.checks = checks
        self.templates = templates
        self.cod = cod
        self.indicators = Indicators(quiet=checks.quiet_answer, brands=brands, match=match)
        self.model_path = model_path
        self._model: Model | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Model:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = Model.load(self.model_path)
        return self._model

    def check(self, text: str | None = None, *, qr: str | None = None, qr_image: bytes | None = None,
              sender: str | None = None, phone: ProvenPhone | None = None, client: str, limit: bool = True) -> dict:
        """The answer for a message (``text``), a QR payload (``qr``) or a QR image (``qr_image``),
        limited as one lookup for ``client``; ``sender``: who it came from; ``phone``: the number the
        person proved (the operator then says whether it sent this message to it)."""
        if text is None and qr is None and qr_image is None:
            raise InvalidInput("Nothing to check.", [FieldError("text", "give a message, a QR payload or a QR image",
                                                                code="missing")])
        if sender is not None and (not isinstance(sender, str) or len(sender) > MAX_SENDER):
            raise InvalidInput("The sender was not accepted.",
                               [FieldError("sender", f"at most {MAX_SENDER} characters", code="too_long")])
        text = bounded(text) if text is not None and (text.strip() or (qr is None and qr_image is None)) else None
        if qr_image is not None:
            qr = vietqr.decode_image(qr_image)
        if qr is not None and not vietqr.looks_like_payload(qr) and text is None and qr_image is None:
            raise InvalidInput("The QR code could not be read.",
                               [FieldError("qr", "is not an EMVCo payload (it starts with 000201)", code="invalid_qr")])
        payment = vietqr.parse(qr, field="qr_image" if qr_image is not None else "qr") \
            if qr is not None and vietqr.looks_like_payload(qr) else None
        if limit:
            self.checks.limit(client)
        answer = self.answer(text, payment=payment, sender=sender, phone=phone, other_qr=qr if payment is None else None)
        self._checked(answer["verdict"])
        return answer

    async def respond(self, value: str, type_: str | None, error: InvalidInput, *, sender: str | None = None,
                      phone: ProvenPhone | None = None) -> bytes:
        """``POST /v1/check`` for a ``value`` that is not one indicator (``error`` says why): a
        message (``type`` ``message``, or free text) or a QR payload (``type`` ``qr``, or a value that
        starts like one) is answered as a message check, already counted against the lookup rate;
        anything else raises ``error``, as before. ``sender``, ``phone``: as ``check`` takes them."""
        if type_ not in ("message", "qr") and not (type_ is None and (is_message(value)
                                                                      or vietqr.looks_like_payload(value))):
            raise error
        qr = type_ == "qr" or (type_ is None and vietqr.looks_like_payload(value))
        try:
            answer = await run_in_threadpool(lambda: self.check(None if qr else value, qr=value if qr else None,
                                                                sender=sender, phone=phone, client="", limit=False))
        except InvalidInput as e:  # the API's field is ``value``
            raise InvalidInput(e.detail, [FieldError("value" if fe.field != "sender" else fe.field, fe.message,
                                                     row=fe.row, code=fe.code) for fe in e.errors]) from None
        return orjson.dumps(answer)

    def answer(self, text: str | None, *, payment: vietqr.QrPayment | None = None, sender: str | None = None,
               other_qr: str | None = None, model: Model | None = None,
               phone: ProvenPhone | None = None) -> dict:
        """The answer, without the rate limiter (the command line's ``classify``); ``model`` instead of
        the shipped one (cross-validation); ``phone``: the number the person proved."""
        if text is not None:
            text = bounded(text)
        body = " ".join(t for t in (text, payment.message if payment else None, other_qr) if t)
        folded = fold(body)
        slang = fold_slang(body, folded)
        lang = language(body, folded) if body else "vi"
        found = self.indicators.read(body, sender=sender, folded=folded) if body or sender else []
        if payment is not None:
            found = [*self._qr_indicators(payment), *found]
        rs = reasons(slang, found, lang, body)
        operator = self._operator(text, lang, phone=phone, sender=sender) if text and self.templates is not None else None
        if operator is not None:
            rs.append(operator[0])
        if self.cod is not None:
            rs.extend(self._payees(found, rs, slang, lang))
        model = model or self.model
        p_model = model.probability(model_text(body, slang)) if slang else 0.0
        positive, down = rule_probability(rs)
        flagged_by_operator = {r["code"] for r in rs} & AT_LEAST_SUSPICIOUS
        if "operator_not_sent" in flagged_by_operator:
            down = 1.0  # the text copies a real template: its genuine cues prove nothing
        if p_model >= MODEL_REASON_AT:
            rs.append({"code": "wording", "text": WORDING[1] if lang == "vi" else WORDING[0], "text_vi": WORDING[1],
                       "text_en": WORDING[0], "weight": round(p_model, 2)})
        score = (1.0 - (1.0 - MODEL_SHARE * p_model) * (1.0 - positive)) * down
        if flagged_by_operator:
            score = max(score, SUSPICIOUS_AT)
        if CAUTIONS.intersection(r["code"] for r in rs) and not any(
                r["weight"] >= STRONG_FLAG and r["code"] not in CAUTIONS and r["code"] != "wording" for r in rs):
            score = min(max(score, SUSPICIOUS_AT), SCAM_AT - 0.01)
        label = label_of(score)
        head_en, head_vi = HEADLINES[label]
        out = {
            "type": "message",
            "label": label,
            "verdict": label,
            "score": round(score * 100),
            "language": lang,
            "headline": head_vi if lang == "vi" else head_en,
            "headline_vi": head_vi,
            "headline_en": head_en,
            "reasons": rs,
            "indicators": [as_dict(f) for f in found],
            "official": None,
            "notes": [],
            "related": [],
            "advice": ADVICE[1] if lang == "vi" else ADVICE[0],
            "model": {"probability": round(p_model, 3), "version": model.meta.get("version")},
        }
        if operator is not None:
            out["operator"] = operator[1]
        if payment is not None:
            qr = payment.as_dict()
            if qr["account"]:
                qr["account"] = "*" * 6 + qr["account"][-4:]
            out["qr"] = qr
        return out

    def _operator(self, text: str, lang: str, *, phone: ProvenPhone | None = None,
                  sender: str | None = None) -> tuple[dict, dict] | None:
        """The reason an operator's templates give (a genuine cue or a red flag), and what to show of
        the match; None when the message names no operator and is no registered template."""
        assert self.templates is not None  # noqa: S101  checked by the caller
        try:
            tm = self.templates(text, phone=phone, sender=sender)
        except InvalidInput:
            return None
        weight = TEMPLATE_WEIGHTS.get(tm.outcome)
        if weight is None:
            return None
        reason = {"code": f"operator_{tm.outcome}", "text": tm.text_vi if lang == "vi" else tm.text_en,
                  "text_vi": tm.text_vi, "text_en": tm.text_en, "weight": weight}
        shown = {"outcome": tm.outcome, "org": tm.org, "name": tm.org_name, "template_id": tm.template_id,
                 "sent_at": tm.sent_at.isoformat() if tm.sent_at else None, "reasons": list(tm.reasons),
                 "text": reason["text"], "text_vi": tm.text_vi, "text_en": tm.text_en}
        return reason, shown

    def _payees(self, found: list[Found], rs: list[dict], slang: str, lang: str) -> list[dict]:
        """The COD rule: in a message that asks for a payment (COD, a fee, a refund), each account or
        wallet to pay is checked against the operators' registered COD accounts: another is a red flag,
        a registered one a genuine cue."""
        assert self.cod is not None  # noqa: S101  checked by the caller
        if not any(f.type in ("bank_account", "ewallet") and f.normal is not None for f in found):
            return []
        paying = asks_payment({r["code"] for r in rs}, slang) \
            or any(f.role == "qr" for f in found)  # a payment QR code asks for a payment by itself
        if not paying:
            return []
        out: list[dict] = []
        for f in found:
            if f.type not in ("bank_account", "ewallet") or f.normal is None:
                continue
            owner = self.cod(f.type, f.normal.value)
            if owner is None:
                vi = (f"Tài khoản nhận tiền {f.display} không phải tài khoản thu hộ (COD) đã đăng ký của hãng vận chuyển "
                      "nào: đừng chuyển tiền COD, phí hay 'hoàn tiền' vào đó.")
                en = (f"The account to pay, {f.display}, is no operator's registered COD account: do not pay COD, a fee "
                      "or a 'refund' into it.")
                out.append({"code": "unregistered_payee", "text": vi if lang == "vi" else en, "text_vi": vi,
                            "text_en": en, "weight": 0.45})
            else:
                vi, en = (f"{f.display} là tài khoản thu hộ (COD) đã đăng ký của {owner}.",
                          f"{f.display} is a COD account {owner} registered.")
                out.append({"code": "registered_cod_account", "text": vi if lang == "vi" else en, "text_vi": vi,
                            "text_en": en, "weight": -0.3})
        return out

    def _qr_indicators(self, payment: vietqr.QrPayment) -> list[Found]:
        out: list[Found] = []
        if payment.bin and payment.account:
            try:
                n = norm_bank_account(f"{payment.bin} {payment.account}")
                f = Found("bank_account", n.display, n, role="qr")
                f.answer = self.checks.quiet_answer(n)
                out.append(f)
            except InvalidInput:
                out.append(Found("bank_account", f"{payment.bank or payment.bin} {'*' * 6}{payment.account[-4:]}",
                                 role="qr"))
        if payment.amount is not None and payment.amount > 0:
            v = int(payment.amount)
            out.append(Found("amount", f"{v:,}".replace(",", ".") + " đ", value=v, role="qr"))
        return out
