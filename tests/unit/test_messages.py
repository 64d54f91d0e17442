"""Messages without a database: normalisation (properties), indicator extraction, VietQR round
trips and hostile payloads and images, red-flag rules, the model, and labelled cases end to end."""

from __future__ import annotations

import io
import time
import unicodedata

import numpy as np
import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st

from postguard.errors import InvalidInput
from postguard.intel.answers import unknown_answer
from postguard.messages import vietqr
from postguard.messages.corpus.generated import SOURCE_CHAT, SOURCE_LEGIT, SOURCE_SCAM, generate
from postguard.messages.evaluate import metrics
from postguard.amounts import amount_of
from postguard.messages.indicators import extract
from postguard.messages.model import VERSION, Model, features, word_features
from postguard.messages.rules import language, text_flags
from postguard.messages.service import MessageService
from postguard.messages.text import MAX_BYTES, bounded, fold, fold_slang


class QuietStub:
    """Nothing is known: every indicator is ``unknown``; counts the limiter's hits."""

    def __init__(self, verdicts: dict[str, str] | None = None) -> None:
        self.limited = 0
        self.verdicts = verdicts or {}

    def quiet_answer(self, n):
        a = unknown_answer(n, [n])
        if n.value in self.verdicts:
            a = {**a, "verdict": self.verdicts[n.value], "score": 80}
        return a

    def limit(self, client):
        self.limited += 1


@pytest.fixture(scope="module")
def service():
    return MessageService(checks=QuietStub(), brands=lambda: (), match=lambda host: None)


# -- normalisation -------------------------------------------------------------------------------------
@given(st.text(max_size=300))
@settings(max_examples=300)
def test_folding_is_idempotent_ascii_and_diacritic_blind(text):
    once = fold_slang(text)
    assert fold_slang(once) == once
    assert fold(fold(text)) == fold(text)
    assert once.isascii() and once == once.strip() and "  " not in once
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    assert fold(stripped) == fold(text)


@given(st.text(min_size=1, max_size=200))
def test_bounded_is_nfc_and_idempotent(text):
    try:
        out = bounded(text)
    except InvalidInput as e:
        assert e.errors[0].field == "text" and e.errors[0].code in ("empty", "invalid_encoding", "too_long")
        return
    assert unicodedata.is_normalized("NFC", out) and bounded(out) == out


@pytest.mark.parametrize(("raw", "folded"), [
    ("Tr0 cấp bưu phẩm k thể nhận", "tro cap buu pham khong the nhan"),
    ("c0d 25k, CK trước nhé", "cod 25k chuyen khoan truoc nhe"),
    ("Plz send ur OTP asap", "please send your otp immediately"),
    ("STK 0123456789 VCB", "so tai khoan 0123456789 vcb"),
    ("Đơn hàng ĐÃ ĐẾN", "don hang da den"),
])
def test_teencode_and_leetspeak(raw, folded):
    assert fold_slang(raw) == folded


def test_bounds_are_bytes_not_characters():
    assert bounded("a" * MAX_BYTES)
    with pytest.raises(InvalidInput) as e:
        bounded("ư" * (MAX_BYTES // 2 + 1))  # two bytes each
    assert e.value.errors[0].code == "too_long"
    for bad in ("", "   \n", "\ud800 lone surrogate", 42):
        with pytest.raises(InvalidInput):
            bounded(bad)
    assert bounded("a\u200bb\u202ec") == "abc"  # invisible format characters go


# -- indicators ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "unit", "value"), [
    ("25.000", "đ", 25_000), ("25", "k", 25_000), ("1,5", "triệu", 1_500_000), ("2", "tr", 2_000_000),
    ("1.500.000", "VND", 1_500_000), ("30,000", "vnd", 30_000),
])
def test_amounts(raw, unit, value):
    assert amount_of(raw, unit) == value


def test_extracts_every_kind_of_indicator():
    text = ("VNPost: Bưu phẩm bị giữ, phí lưu kho 25.000đ. Chuyển khoản STK 0123456789 Vietcombank, "
            "hoặc ví MoMo 0987654321; liên hệ 0912 345 678, xem http://vnpost-vn.top/pay. Tổng 1,5 triệu.")
    found = extract(text, sender="VNPOST")
    kinds = [(f.type, f.display) for f in found]
    assert ("url", "vnpost-vn.top/pay") in kinds
    assert ("amount", "25.000 đ") in kinds and ("amount", "1.500.000 đ") in kinds
    assert ("bank_account", "Vietcombank ******6789") in kinds
    assert ("ewallet", "MoMo *******321") in kinds
    assert ("phone", "*******678") in kinds
    assert ("brand", "VNPost") in kinds
    sender = next(f for f in found if f.role == "sender")
    assert (sender.type, sender.display) == ("sms_brand", "VNPOST")
    # nothing personal is shown unmasked
    assert "0123456789" not in repr(kinds) and "0987654321" not in repr(kinds)


def test_codes_and_dates_are_not_indicators():
    found = extract("Ma OTP 123456 het han 12/05. Don 1234567 da giao.")
    assert [f.type for f in found] == []


# -- VietQR --------------------------------------------------------------------------------------------
@given(bin_=st.sampled_from(["970436", "970415", "970422", "970424", "999999"]),
       account=st.text("0123456789", min_size=6, max_size=19),
       amount=st.none() | st.integers(1, 10**12),
       message=st.none() | st.text(st.characters(min_codepoint=32, max_codepoint=0x1EF9, exclude_categories=("Cs",)),
                                   min_size=1, max_size=25),
       card=st.booleans())
def test_vietqr_round_trip(bin_, account, amount, message, card):
    payload = vietqr.build(bin_, account, amount=amount, message=message, card=card)
    p = vietqr.parse(payload)
    assert (p.napas, p.bin, p.account, p.message) == (True, bin_, account, message)
    assert p.amount == (None if amount is None else amount) and p.dynamic == (amount is not None)
    assert p.service == ("QRIBFTTC" if card else "QRIBFTTA")
    assert p.bank == vietqr.bank_name(bin_)
    # any one character changed is caught (by the CRC, or by the TLV structure)
    i = len(payload) // 2
    changed = payload[:i] + ("1" if payload[i] != "1" else "2") + payload[i + 1 :]
    with pytest.raises(InvalidInput):
        vietqr.parse(changed)


def test_known_crc_vector():
    assert vietqr.crc16(b"123456789") == 0x29B1  # CRC-16/CCITT-FALSE check value


@pytest.mark.parametrize("payload", [
    "", "hello", "000201", "0002010102115802VN6304ABCD", "00020101021238999", "0002010102116304",
    "000201" + "0" * 600, "0002010102115802VN63", "0002010102115802VN6304ZZZZ",
    vietqr.build("970436", "0123456789")[:-4] + "0000",
    "00020101021238" + "99" + "0010A000000727" + "6304",  # nested length larger than the payload
])
def test_hostile_payloads_are_refused_by_field(payload):
    with pytest.raises(InvalidInput) as e:
        vietqr.parse(payload)
    assert e.value.errors[0].field == "qr"


def _png(text: str, scale: int = 4) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=scale)
    return out.getvalue()


def test_qr_image_decodes_and_hostile_images_are_refused():
    payload = vietqr.build("970415", "1122334455", amount=50000, message="phi luu kho")
    assert vietqr.decode_image(_png(payload)) == payload
    from PIL import Image

    big = io.BytesIO()
    Image.new("L", (5000, 1000)).save(big, format="PNG")  # 5 Mpx of nothing: small file, too many pixels
    blank = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(blank, format="JPEG")
    gif = io.BytesIO()
    Image.new("L", (10, 10)).save(gif, format="GIF")
    cases = {b"": "empty", b"\x89PNG\r\n\x1a\n" + b"\0" * 100: "unreadable_image", b"GIF89a....": "unsupported_image",
             gif.getvalue(): "unsupported_image", big.getvalue(): "too_large", blank.getvalue(): "no_qr",
             b"\xff\xd8\xff" + b"x" * (vietqr.MAX_IMAGE_BYTES + 1): "too_large", _png(payload)[:200]: "unreadable_image"}
    for data, code in cases.items():
        with pytest.raises(InvalidInput) as e:
            vietqr.decode_image(data)
        assert (e.value.errors[0].field, e.value.errors[0].code) == ("qr_image", code)


# -- rules ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "codes"), [
    ("Vui lòng cung cấp mã OTP để nhận hàng", {"otp_request"}),
    ("Mã OTP của Quý khách là 123456. Tuyệt đối KHÔNG cung cấp mã này cho bất kỳ ai.", {"never_share_notice"}),
    ("Bưu phẩm bị giữ, vui lòng chuyển khoản phí lưu kho 25k trước khi giao", {"pay_before_delivery", "fee"}),
    ("Hủy gói thành viên shipper trước 17h hôm nay", {"membership", "urgency"}),
    ("Cài UltraViewer để nhân viên hỗ trợ hoàn tiền", {"remote_app", "prize"}),
    ("Please install AnyDesk now", {"remote_app"}),
    ("Your package will be returned unless you pay the redelivery fee", {"fee", "threat"}),
    ("Tai app tai link nay de cap nhat", {"app_install", "verify_link"}),
    ("Don hang cua ban dang duoc giao, vui long de y dien thoai", set()),
    ("Quý khách có 18.237 điểm thưởng sắp hết hạn, vui lòng đổi quà", {"points_expiry"}),
    ("Con gặp tai nạn đang cấp cứu, mẹ chuyển tiền viện phí gấp", {"emergency_money", "urgency"}),
    ("Con đi cấp cứu ở bệnh viện về rồi, mẹ yên tâm", set()),
    ("Hi Mum, I have a new phone, can you send money for a bill", {"new_number"}),
    ("You have an unpaid toll balance", {"fee"}),
    ("Chị cho em mượn 5 triệu được không", {"borrow_money"}),
    ("Em ơi cho chị xin lại 830k chị chuyển nhầm", {"wrong_transfer"}),
    ("Cam kết lấy lại tiền đã bị lừa đảo", {"fund_recovery"}),
    ("We will suspend your Netflix account today", {"account_locked"}),
    ("Your courier was unable to deliver your parcel", {"delivery_failed"}),
    ("Tuyển cộng tác viên làm tại nhà, hoa hồng 15%", {"job_offer"}),
    ("Your account has been suspended. Click here to verify your details", {"account_locked", "verify_link",
                                                                             "threat"}),
    ("DHL: We owe you a refund. Click to receive", {"prize", "verify_link"}),
    ("Nhấn phím 1 để gặp tổng đài viên", {"press_key"}),
    ("Hẹn gặp nhé, chuyển gấp giúp em", {"urgency", "borrow_money"}),
])
def test_red_flags(text, codes):
    assert {r.code for r in text_flags(fold_slang(text), text)} == codes


def test_language():
    assert language("Bưu phẩm của bạn", fold("Bưu phẩm của bạn")) == "vi"
    assert language("Ma OTP cua quy khach la 1", "ma otp cua quy khach la 1") == "vi"
    assert language("Your package is here", "your package is here") == "en"
    notice = "VCB: TK 0071xxx123 +1,500,000VND luc 09:12. SD: 3,200,000VND"
    assert language(notice, fold(notice)) == "vi"


# -- the model -----------------------------------------------------------------------------------------
def test_features_are_the_same_in_every_process_and_the_model_loads_fast():
    assert features("buu pham").tolist() == features("buu pham").tolist()
    assert len(features("")) == 0 or features("").dtype.kind == "i"
    t = time.perf_counter()
    m = Model.load()
    assert time.perf_counter() - t < 1.0
    assert m.meta["version"] == VERSION and m.meta["rows"] > 1000
    assert 0.0 <= m.probability("xin chao") <= 1.0


@given(st.lists(st.sampled_from(["buu", "pham", "phi", "luu", "kho", "otp", "link", "ck", "a", "xin", "chao", "1900"]),
                max_size=30), st.text(alphabet="abcdeghiklmnopqrstuvxy0123456789 ", max_size=60))
def test_the_kept_word_shares_score_exactly_what_training_sees(words, more):
    """Scoring sums each distinct word's kept share and each pair's weight: the same as the weights of
    ``features`` (what training fits), with the shares cold and then kept."""
    import math

    m = Model.load()
    text = " ".join([*words, *more.split()])
    want = float(m.weights[features(text)].astype(np.float64).sum()) + m.bias
    for _ in range(2):
        p = m.probability(text)
        assert math.isclose(math.log(p / (1 - p)), want, abs_tol=1e-4) if 1e-12 < p < 1 - 1e-12 else True


def test_generated_rows_are_marked_generated():
    rows = list(generate(200))
    assert {s for *_, s in rows} == {SOURCE_LEGIT, SOURCE_SCAM, SOURCE_CHAT}
    assert all(s.startswith("generated:") for *_, s in rows)
    assert {lab for lab, *_ in rows} == {"legit", "scam"}


# -- labelled cases, end to end ------------------------------------------------------------------------
LEGIT = [
    "Ma OTP cua Quy khach la 482913, hieu luc 5 phut. Tuyet doi KHONG cung cap ma nay cho bat ky ai, ke ca "
    "nhan vien ngan hang.",
    "Vietcombank: TK 0071xxx123 +1,500,000VND luc 09:12 12/05. SD: 3,200,000VND. ND: tien nha",
    "TK 1033xxx702 +50,000VND luc 26-12 09:01. SD 340,000VND. Ref MOMO CashOut tu vi MoMo",
    "Shopee: Nhap ma xac minh 196913 de cap nhat so dien thoai. Ma co hieu luc trong 15 phut.",
    "Viettel: Thue bao 0912 345 678 da duoc gia han goi cuoc ST90, hieu luc den 30/06. Chi tiet LH 18008098.",
    "EVN thong bao tien dien thang 5 cua ma KH PE01234567890 la 452,000d. Thanh toan qua ung dung ngan hang.",
    "GHN: Don hang GHN1234567890 dang duoc giao. Buu ta 0912 345 678 se lien he ban hom nay. Tra cuu tai ghn.vn",
    "VNPost: Buu gui EC123456789VN da giao thanh cong luc 10h30 12/05. Cam on Quy khach.",
    "Your BIDV verification code is 771204. Never share this code with anyone, including bank staff.",
    "Anh oi em ship hang toi roi, anh xuong lay giup em nhe, tien hang 250k.",
    "Lich hop phu huynh lop 5A vao 8h sang thu bay. Kinh moi quy phu huynh tham du.",
]
SCAM = [
    "VNPost: Bưu phẩm EC123456789VN bị giữ do thiếu phí lưu kho 25.000đ. Thanh toán tại http://vnpost-vn.top/pay "
    "trong 24h để tránh bị hủy.",
    "Shipper GHTK day a, don cua chi can chuyen khoan truoc 30k tien ship thi em moi giao duoc. STK 0123456789 MB.",
    "Em la nhan vien GHN, don hang cua chi bi loi, chi doc giup em ma OTP vua gui ve dien thoai nhe.",
    "Bạn đã đăng ký gói thành viên shipper 99k/tháng. Để hủy gói thành viên, liên hệ 0912 345 678 ngay.",
    "De hoan phi don hang, ban cai ung dung UltraViewer va gui ma cho nhan vien ho tro.",
    "Your parcel is on hold due to an unpaid storage fee of 25,000 VND. Pay now at https://spx-vn.top or it will "
    "be returned.",
    "Tr0 cap buu pham bi h0an, ck phi 35k de nhan lai ngay. Lh 0987654321",
]


# Cautions: spam, hoaxes and strangers' openers are warnings, not scams (unless a red flag says more)
SUSPICIOUS = [
    ("FREE entry into our weekly competition just text the word WIN to 80086 NOW. 150p/msg 18 T&C apply",
     "premium_spam"),
    ("Hôm nay là ngày may mắn. Hãy gửi tin này đến ít nhất 6 người để được bình an.", "chain_message"),
    ("Chào em, lâu rồi không gặp. Dạo này công việc vẫn ổn chứ?", "stranger_opener"),
    ("Hi! I am Lisa's friend. Are you Mark? I'm Erin.", "stranger_opener"),
    ("Soan DK gui 9164 de tham gia quay thuong (MIEN PHI 50% cuoc ngay dau, sau KM 3.000d/ngay, gia han hang ngay).",
     "paid_service"),
    ("(QC) Ban duoc ho tro vay toi 70 trieu, lai suat hap dan, GIAI NGAN NHANH. Tu choi QC soan TC gui 9698",
     "loan_offer"),
    ("Room Cổ phiếu hôm nay: mời anh chị tham gia nhóm đầu tư chứng khoán để nhận danh mục chất lượng.",
     "investment_group"),
]


@pytest.mark.parametrize(("text", "code"), SUSPICIOUS)
def test_cautions_make_a_message_suspicious_not_a_scam(service, text, code):
    out = service.answer(text)
    assert code in {r["code"] for r in out["reasons"]}, out["reasons"]
    assert out["label"] == "suspicious", (out["score"], out["reasons"])


@pytest.mark.parametrize("text", ["1" * 4000, "a" * 4000, "ha" * 2000, ("1234567 " * 500)[:4000]])
def test_a_long_run_of_one_thing_weighs_no_more_than_once(service, text):
    """A word's n-grams count once each: 4 KB of one letter or digit is not a scam by its length."""
    m = Model.load()
    assert len(word_features("1" * 4000)) == len(word_features("1" * 7)) == 10  # itself and 9 distinct n-grams
    assert service.answer(text)["label"] != "scam"
    assert m.probability(text) < 0.9


def test_a_caution_does_not_excuse_a_red_flag(service):
    out = service.answer("URGENT! You have won a guaranteed £1000 cash prize. To claim txt CLAIM to 81010. 150p/msg")
    assert {"premium_spam", "prize"} <= {r["code"] for r in out["reasons"]} and out["label"] == "scam"


@pytest.mark.parametrize("text", LEGIT)
def test_genuine_notices_are_legit(service, text):
    out = service.answer(text)
    assert out["label"] == "legit", out["reasons"]


@pytest.mark.parametrize("text", SCAM)
def test_scams_are_flagged_with_reasons_in_their_language(service, text):
    out = service.answer(text)
    assert out["label"] == "scam", (out["score"], out["reasons"])
    assert out["reasons"] and all(r["text_vi"] and r["text_en"] for r in out["reasons"])
    key = "text_vi" if out["language"] == "vi" else "text_en"
    assert all(r["text"] == r[key] for r in out["reasons"])


def test_a_reported_indicator_makes_a_plain_message_a_scam():
    svc = MessageService(checks=QuietStub({"+84912345678": "confirmed"}), brands=lambda: (), match=lambda h: None)
    out = svc.answer("Goi lai cho minh so 0912 345 678 nhe")
    assert out["label"] == "scam" and "reported_indicator" in {r["code"] for r in out["reasons"]}
    assert out["indicators"][0]["verdict"] == "confirmed"


def test_qr_check_limits_once_and_masks_the_account():
    stub = QuietStub()
    svc = MessageService(checks=stub, brands=lambda: (), match=lambda h: None)
    payload = vietqr.build("970436", "0123456789", amount=25000, message="phi luu kho don hang")
    out = svc.check(qr=payload, client="c")
    assert stub.limited == 1
    assert out["qr"]["bank"] == "Vietcombank" and out["qr"]["account"] == "******6789" and out["qr"]["amount"] == 25000
    assert "0123456789" not in repr(out)
    assert {i["type"] for i in out["indicators"]} >= {"bank_account", "amount"}
    assert "fee" in {r["code"] for r in out["reasons"]}
    out = svc.check(qr_image=_png(payload), client="c")
    assert out["qr"]["bin"] == "970436" and stub.limited == 2
    with pytest.raises(InvalidInput) as e:
        svc.check(qr="not a payload", client="c")
    assert e.value.errors[0].field == "qr"
    with pytest.raises(InvalidInput) as e:
        svc.check(client="c")
    assert e.value.errors[0].field == "text"


def test_metrics():
    m = metrics([("vi", "scam", "scam"), ("vi", "legit", "scam"), ("vi", "legit", "legit"), ("en", "scam", "legit")])
    assert m["vi"]["labels"]["scam"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}
    assert m["vi"]["labels"]["legit"]["recall"] == 0.5
    assert m["en"]["macro_f1"] == 0.0 and m["vi"]["count"] == 3


def test_rule_key_words_only_skip_rules_that_cannot_match():
    """Key words are a shortcut: on every corpus message, and every generated one, each rule matches
    exactly as it does with its key words ignored."""
    import dataclasses

    from postguard.messages import rules
    from postguard.messages.corpus import public_rows

    texts = [r["text"] for r in public_rows()] + [t for _, _, t, _ in generate(600)]
    bare = tuple(dataclasses.replace(r, hints=()) for r in rules.TEXT_RULES)
    for text in texts:
        folded = fold_slang(text)
        with_hints = [r.code for r in rules.text_flags(folded, text)]
        saved = rules.TEXT_RULES
        try:
            rules.TEXT_RULES = bare
            without = [r.code for r in rules.text_flags(folded, text)]
        finally:
            rules.TEXT_RULES = saved
        assert with_hints == without, text


# -- the fast matchers find what the plain ones find --------------------------------------------------
_MESSY = st.text(alphabet="0123456789 +.,-_abkdđĐmtrVND\u00a0x@/:", max_size=60)


@given(_MESSY)
def test_numbers_and_amounts_are_found_as_the_plain_patterns_find_them(text):
    """``_numbers`` and ``_AMOUNT`` look behind a number's first digit (fast); the plain patterns
    look before it."""
    import re

    from postguard.messages import indicators

    plain_number = re.compile(r"(?<![\w.,])\+?\d(?:[ .\-]?\d){5,22}(?![\w])")
    plain_amount = re.compile(r"(?i)(?<![\w.,])(\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d{1,2})?)\s?"
                              r"(vnđ|vnd|đồng|dong|đ|d|k|nghìn|ngàn|ngan|nghin|tr|triệu|trieu|củ|cu|tỷ|ty|m)(?![\w])")
    assert list(indicators._numbers(text)) == [m.span() for m in plain_number.finditer(text)]
    assert [(m.span(), m.groups()) for m in indicators._AMOUNT.finditer(text)] == \
        [(m.span(), m.groups()) for m in plain_amount.finditer(text)]


@given(st.lists(st.sampled_from(["viettel", "post", "viettel post", "vnpost", "ghn", "giao hang nhanh", "x", "mb",
                                 "mb bank", "bank", "shopee express", "shopee"]), max_size=12))
def test_brand_names_are_found_as_a_longest_first_pattern_finds_them(words):
    import re

    from postguard.messages import indicators

    brands = (("Viettel Post", ("viettelpost.vn",)), ("Post", ("post.example",)))
    index = indicators._brand_names(brands)
    keys = sorted(index.names, key=len, reverse=True)
    plain = re.compile(r"(?<![a-z0-9])(?:" + "|".join(re.escape(k) for k in keys) + r")(?![a-z0-9])")
    folded = " ".join(words)
    assert [(at, key) for at, key in index.find(folded)] == [(m.start(), m.group(0)) for m in plain.finditer(folded)]


@given(st.lists(st.sampled_from(["vietcombank", "vcb", "mb", "bank", "mb bank", "quan", "doi", "tk", "so", "123456",
                                 "ngan", "hang", "ngoai", "thuong", "momo", "vi", "x"]), max_size=8))
def test_aliases_are_taken_as_a_scan_of_the_table_takes_them(words):
    from postguard.intel import normalize
    from postguard.intel.banks import BANK_ALIASES, WALLET_ALIASES

    for table in (BANK_ALIASES, WALLET_ALIASES):
        want: tuple = (None, words)
        for alias, entry in table:  # the table is longest first: the first alias found wins
            at = next((i for i in range(len(words) - len(alias) + 1) if tuple(words[i:i + len(alias)]) == alias), None)
            if at is not None:
                want = (entry, words[:at] + words[at + len(alias):])
                break
        assert normalize._take_alias(words, table) == want
