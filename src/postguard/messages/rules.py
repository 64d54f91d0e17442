"""Red flags in a message: what couriers, banks and carriers never ask, and what scams always do.

Each rule reads the message folded with teencode (``postguard.messages.text.fold_slang``) or its
indicators, and gives a reason in Vietnamese and English with a weight (the chance, on its own, that
a message showing it is a scam). Cues that genuine notices carry (``do not share this code``) weigh
against. Pure functions, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

import ahocorasick

from postguard.lookalike.match import FREE_HOSTS
from postguard.lookalike.score import RISKY_TLDS
from postguard.messages.text import fold
from postguard.messages.indicators import Found

SCAM_VERDICTS = frozenset({"reported", "corroborated", "confirmed"})


@dataclass(frozen=True)
class Rule:
    code: str
    weight: float  # > 0: a red flag; < 0: a cue of a genuine notice
    vi: str
    en: str
    pattern: re.Pattern[str] | None = None
    negatable: bool = False  # a "do not ..." just before the match voids it
    hints: tuple[str, ...] = ()  # a match needs one of these in the text: cheap to rule out
    also: re.Pattern[str] | None = None  # and this must match somewhere in the text too
    caution: bool = False  # a sign of spam, a hoax or a stranger's opener: a warning, not proof of a scam
    unless: re.Pattern[str] | None = None  # and this matches nowhere in the text


def _re(*alternatives: str) -> re.Pattern[str]:
    """Whole words of a folded text, read with a space in front (``text_flags``): starting with a
    literal space, the search jumps from word to word instead of trying every character."""
    return re.compile(r" (?:" + "|".join(alternatives) + r")\b")


class _HintIndex:
    """Which rules a text could match, by their key words, all found in one pass of an Aho-Corasick
    automaton."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self.automaton = ahocorasick.Automaton()
        hints: dict[str, set[int]] = {}
        for i, r in enumerate(rules):
            for h in r.hints:
                hints.setdefault(h, set()).add(i)
        for h, which in hints.items():
            self.automaton.add_word(h, frozenset(which))
        if hints:
            self.automaton.make_automaton()
        self.always = frozenset(i for i, r in enumerate(rules) if not r.hints)
        self.urgency = frozenset(i for i, r in enumerate(rules) if r.code == "urgency")

    def candidates(self, padded: str) -> set[int]:
        out = set(self.always)
        if self.automaton.kind == ahocorasick.AHOCORASICK:
            for _, which in self.automaton.iter(padded):
                out |= which
        return out


# "dung" is đừng (do not), but also the end of "ung dung" (ứng dụng, an app).
_NEGATION = re.compile(r"\b(?:khong|(?<!ung )dung|chang|never|not|dont|don t|do not|no one|khong bao gio|tuyet doi khong|"
                       r"khong duoc|nobody|neither)\b(?:\s+\S+){0,3}\s*$")

TEXT_RULES: tuple[Rule, ...] = (
    Rule("pay_before_delivery", 0.55,
         "Đòi chuyển tiền trước khi giao hàng: người giao hàng thật thu tiền khi giao (COD), không bắt chuyển khoản trước.",
         "Asks for payment before delivery: real couriers collect on delivery, not by transfer in advance.",
         _re(r"(?:chuyen khoan|chuyen tien|thanh toan|nop|dong|chuyen)\s(?:\S+\s){0,6}truoc(?:\skhi)?\s(?:\S+\s){0,3}?"
             r"(?:giao|nhan|phat|ship)",
             r"(?:chuyen khoan|chuyen tien|thanh toan|nop|dong)\s(?:\S+\s){0,6}de\s(?:duoc\s)?(?:giao|nhan|phat|ship)",
             r"(?:pay|transfer|send)\s(?:\S+\s){0,6}(?:before|to)\s(?:\S+\s){0,2}(?:deliver|delivery|receive|release)\w*"),
         negatable=True,
         hints=("truoc", "de ", "before", " to ")),
    Rule("fee", 0.5,
         "Đòi các loại phí lưu kho, giải phóng, giao lại hay hải quan: đó là chiêu lừa phổ biến.",
         "Asks for a storage, release, re-delivery or customs fee: a common scam.",
         _re(r"phi\s(?:luu\skho|luu\stru|luu\shang|giai\sphong|thong\squan|giao\slai|phat\slai|hai\squan|"
             r"boi\sthuong|kich\shoat|mo\skhoa|xac\sminh|bao\shiem\sdon|van\schuyen\sphat\ssinh|dong\sbang|bao\sluu)",
             r"(?:storage|release|redelivery|re delivery|customs|clearance|holding|unlock|activation|service|shipping|"
             r"late)\s(?:fee|charge)s?",
             r"(?:unpaid|outstanding|overdue)\s(?:\S+\s){0,2}(?:toll|shipping|postage|fee|balance|fine|invoice)\w*",
             r"(?:additional|extra)\s(?:postage|shipping|delivery)", r"postage due"),
         hints=("phi", "fee", "charge", "unpaid", "outstanding", "overdue", "postage", "shipping")),
    Rule("membership", 0.6,
         "Nói về \"hủy thành viên\", \"gói hội viên shipper\" hay bảo hiểm đơn: người giao hàng không có gói nào như vậy.",
         "Talks of cancelling a shipper 'membership' or order insurance: couriers have no such thing.",
         _re(r"(?:huy|cancel|gia han|dang ky)\s(?:\S+\s){0,4}(?:thanh vien|hoi vien|membership|goi vip|goi shipper)",
             r"(?:thanh vien|hoi vien|membership|goi vip)\s(?:\S+\s){0,4}(?:shipper|giao hang|van chuyen|shopee|lazada)",
             r"bao hiem don(?: hang)?"),
         hints=("vien", "member", "vip", "bao hiem")),
    Rule("otp_request", 0.7,
         "Đòi mã OTP hay mã xác thực: không ai được hỏi mã này, kể cả ngân hàng hay bưu điện.",
         "Asks for an OTP or verification code: nobody may ask for it, not even a bank or the post.",
         _re(r"(?:cung cap|gui|doc|dua|bao|cho|nhan tin|soan|tra loi|send|share|give|tell|provide|reply with|"
             r"read out|forward)\s(?:\S+\s){0,4}(?:ma\s)?(?:otp|xac thuc|xac minh|verification code|code|one time)"),
         negatable=True,
         hints=("otp", "xac", "code", "one time"),
         # a notice that gives the code itself ("mã xác nhận ... là 601730") sends it, it does not ask for it
         unless=_re(r"(?:ma|code|otp)\s(?:\S+\s){0,14}(?:la\s|is\s)?\d{4,8}", r"\d{4,8}\s(?:la|is)\s(?:ma|your)")),
    Rule("remote_app", 0.75,
         "Bảo cài ứng dụng điều khiển từ xa (AnyDesk, TeamViewer, UltraViewer...): kẻ gian sẽ chiếm điện thoại, tài khoản.",
         "Asks you to install a remote-control app (AnyDesk, TeamViewer, UltraViewer...): they would take over "
         "your phone and accounts.",
         _re(r"any ?desk", r"team ?viewer", r"ultra ?viewer", r"rust ?desk", r"air ?droid", r"quick ?support",
             r"supremo", r"remote (?:access|control|desktop) app"),
         hints=("desk", "viewer", "droid", "support", "supremo", "remote")),
    Rule("app_install", 0.45,
         "Bảo tải hay cài một ứng dụng từ đường link: ứng dụng thật chỉ cài từ kho ứng dụng chính thức.",
         "Asks you to download or install an app from a link: real apps come from the official stores only.",
         _re(r"(?:cai dat|cai|tai ve|download|install)\s(?:\S+\s){0,4}(?:app|ung dung|phan mem|apk|application)",
             r"tai (?:ngay |them )?(?:app|ung dung|phan mem|apk|file)", r"apk"),
         negatable=True,
         hints=("app", "ung dung", "phan mem", "apk", "application")),
    Rule("urgency", 0.2,
         "Thúc giục gấp, đặt hạn chót để bạn không kịp kiểm tra.",
         "Pushes you to hurry, with a deadline so that you do not check.",
         # "gap" is gấp (urgent) but also gặp (to meet): only after a verb or "cần", "rất"
         _re(r"(?:can|rat|xu ly|lien he|chuyen|chuyen khoan|thanh toan|xac nhan|nop|dong|tra|goi|phan hoi) gap",
             r"(?:tien|phi|ngay|viec) gap", r"gap rut", r"khan cap", r"ngay lap tuc",
             r"(?<!hieu luc )trong vong \d+\s?(?:gio|phut|h)",
             r"(?:thanh toan|chuyen khoan|nop|dong|xac nhan|cap nhat|huy|lien he)\s(?:\S+\s){0,4}truoc \d+\s?(?:h|gio)",
             r"han chot", r"lan cuoi", r"cuoi cung", r"immediately", r"urgent\w*", r"(?<!valid )(?<!expires )within \d+ (?:hours?|minutes?)",
             r"(?:further )?action (?:is )?required", r"required to (?:accept|release|receive|avoid)",
             r"last (?:chance|notice|warning)", r"act now"),
         hints=("gap", "khan cap", "lap tuc", "trong vong", "truoc", "han chot", "lan cuoi", "cuoi cung", "immediately",
                "urgent", "within", "required", "last ", "act now")),
    Rule("threat", 0.3,
         "Đe dọa hủy đơn, khóa tài khoản, phạt hay báo công an.",
         "Threatens cancellation, a locked account, a fine or the police.",
         _re(r"(?:se|bi)\s(?!duoc\b)(?:\S+\s){0,2}(?:huy|khoa|phat|tieu huy|tra ve|hoan ve|dong bang|xu ly)",
             r"khoi to", r"xu ly theo phap luat", r"cong an\s(?:\S+\s){0,3}(?:moi|trieu tap|dieu tra|truy na|bat giu)",
             r"trat tu", r"phap ly", r"will be (?:cancell?ed|returned|"
             r"destroyed|locked|suspended|blocked|fined)", r"legal action", r"police", r"arrest\w*", r"suspended"),
         hints=("huy", "khoa", "phat", "tra ve", "hoan ve", "dong bang", "xu ly", "khoi to", "cong an", "trat tu", "phap ly",
                "will be", "legal action", "police", "arrest", "suspended")),
    Rule("prize", 0.45,
         "Báo trúng thưởng, quà tặng hay hoàn tiền bất ngờ.",
         "Announces an unexpected prize, gift or refund.",
         _re(r"trung thuong", r"trung giai", r"qua tang tri an", r"tri an khach hang", r"nhan qua", r"hoan tien",
             r"qua tang tien mat", r"(?:gui|tang|tra)\s(?:\S+\s){0,3}(?:quy khach|ban)\s(?:\S+\s){0,2}so tien",
             r"nhan thuong", r"khach hang may man", r"tax refund", r"(?:outstanding|pending) refund",
             r"you (?:have |ve )?won", r"prize", r"free gift", r"claim your", r"(?:we )?owe you", r"award(?:ed)?",
             r"winners?", r"selected (?:to receive|for)", r"await\w* collection", r"(?:may be )?entitled to",
             r"\d+\s?k?\s(?:pounds?\s)?(?:cash|voucher)", r"cash (?:prize|award|bonus)",
             r"(?:mon qua|gui tang|qua tang) (?:\S+\s){0,8}(?:nhan|de)",
             r"(?:refund|reimbursement|rebate)\s(?:\S+\s){0,8}(?:click|claim|receive|link|tap)"),
         hints=("trung", "qua", "tri an", "hoan tien", "so tien", "thuong", "may man", "refund", "won", "prize", "gift",
                "claim", "owe you", "reimbursement", "rebate", "award", "winner", "selected", "collection", "entitled",
                "tang", "cash", "voucher")),
    Rule("gambling", 0.5,
         "Mời đánh bạc, lô đề, \"soi cầu\" hay cá cược \"chắc ăn\": bất hợp pháp và là chiêu lấy tiền.",
         "Invites you to gamble or bet on a \"sure win\": illegal, and a way to take your money.",
         _re(r"lo de", r"bao lo", r"cap lo", r"soi cau", r"chac an", r"nha cai", r"ca cuoc", r"casino", r"cau (?:lo|loto)",
             r"sure (?:win|bet)", r"betting tips?"),
         hints=("lo de", "bao lo", "cap lo", "soi cau", "chac an", "nha cai", "ca cuoc", "casino", "cau lo", "sure ",
                "betting")),
    Rule("points_expiry", 0.5,
         "Báo điểm thưởng sắp hết hạn, giục đổi quà qua đường link: chiêu lừa lấy thông tin thẻ.",
         "Says your reward points are about to expire and must be redeemed through a link: a card-phishing trick.",
         _re(r"diem (?:thuong|tich luy)\s(?:\S+\s){0,8}(?:het han|doi|quy doi)",
             r"(?:doi|quy doi)\s(?:\S+\s){0,3}diem", r"(?:reward |loyalty )?points?\s(?:\S+\s){0,6}(?:expir\w*|redeem\w*)",
             r"redeem\s(?:\S+\s){0,3}points"),
         hints=("diem", "point")),
    Rule("emergency_money", 0.6,
         "Báo người thân gặp tai nạn, cấp cứu và đòi chuyển tiền gấp: hãy gọi trực tiếp cho người thân trước.",
         "Says a relative had an accident or is in hospital and asks for money at once: call them directly first.",
         _re(r"tai nan", r"cap cuu", r"nhap vien", r"hon me", r"chan thuong", r"benh vien", r"accident",
             r"hospital", r"emergency"),
         hints=("tai nan", "cap cuu", "vien", "hon me", "chan thuong", "accident", "hospital", "emergency"),
         also=_re(r"chuyen (?:tien|khoan)", r"chuyen (?:\S+\s){0,2}(?:tien|khoan)", r"gui tien", r"ung tien",
                  r"nop tien", r"dong tien", r"tien (?:vien phi|phau thuat|mo)", r"(?:send|transfer|wire) (?:\S+\s){0,3}money",
                  r"pay\w*")),
    Rule("new_number", 0.45,
         "Người quen báo \"đổi số\", \"điện thoại hỏng\" từ một số lạ: thường là mở đầu của lừa mượn tiền. Hãy gọi số cũ.",
         "A relative texting from a \"new number\" or a \"broken phone\": the usual start of a money request. Call "
         "their old number.",
         _re(r"(?:doi|moi doi|dung|phai dung) so(?: moi| nay)", r"so moi cua", r"dien thoai (?:\S+\s){0,2}(?:hong|het tien|"
             r"mat|bi mat|bi hong)",
             r"(?:my |this is my |got a )?new (?:phone|number|mobile)", r"temporary number",
             r"(?:my |old )?phone (?:is |has |got )?(?:broken|lost|dead|crashed|died|broke)", r"dropped (?:my|mine)",
             r"texting (?:you )?(?:off|from) (?:a|my) (?:mate|friend)", r"save (?:this|my) (?:new )?(?:one|number)"),
         hints=("so moi", "so nay", "dien thoai", "phone", "number", "mobile", "dropped", "mate", "friend", "save")),
    Rule("borrow_money", 0.55,
         "Người quen nhắn nhờ chuyển tiền, cho mượn tiền hay mua thẻ cào giúp: tài khoản của họ có thể đã bị chiếm. "
         "Hãy gọi điện cho chính người đó.",
         "A contact asks you to lend or transfer money, or buy top-up cards for them: their account may be hijacked. "
         "Call them first.",
         _re(r"(?:cho|nho)\s(?:\S+\s){0,2}(?:muon|vay)\s(?:\S+\s){0,2}(?:tien|\d+\s?(?:k|trieu|tr|nghin|cu))",
             r"muon (?:\S+\s){0,2}\d+\s?(?:k|trieu|tr|nghin|cu)", r"(?:chuyen|ung tien|mua|nap)\s(?:\S+\s){0,3}giup",
             r"(?:lend|loan) me", r"(?:buy|get) (?:me )?(?:some )?(?:gift ?cards?|vouchers?|itunes)"),
         hints=("muon", "vay", "giup", "lend", "loan", "gift", "voucher", "itunes")),
    Rule("wrong_transfer", 0.55,
         "Nhắn \"chuyển nhầm\" rồi đòi trả lại: hãy báo ngân hàng, đừng tự chuyển trả theo lời người lạ.",
         "Claims a mistaken transfer and asks for it back: tell your bank, do not send it back yourself.",
         _re(r"chuyen nham", r"nham (?:so )?tai khoan", r"(?:sent|transferred) (?:\S+\s){0,3}(?:by mistake|wrongly|in error)"),
         hints=("nham", "mistake", "wrongly", "error")),
    Rule("fund_recovery", 0.65,
         "Hứa lấy lại tiền đã bị lừa: đây là lừa đảo lần hai. Chỉ công an mới giải quyết việc này.",
         "Promises to recover money lost to scams: a second scam. Only the police handle this.",
         _re(r"lay lai (?:\S+\s){0,2}tien", r"thu hoi (?:\S+\s){0,2}tien", r"ho tro (?:\S+\s){0,2}nan nhan",
             r"recover (?:\S+\s){0,2}(?:funds|money|losses)"),
         hints=("tien", "nan nhan", "recover")),
    Rule("job_offer", 0.45,
         "Mời làm việc online, \"làm tại nhà\", việc nhẹ lương cao hay ăn hoa hồng: kiểu lừa đảo tuyển dụng phổ biến.",
         "Offers easy paid work from home or commissions: a common job scam.",
         _re(r"(?:tuyen|can|tim)\s(?:\S+\s){0,4}(?:nhan vien|ctv|cong tac vien)", r"lam (?:viec )?tai nha",
             r"viec nhe luong cao", r"hoa hong", r"kiem (?:them )?(?:\d+|tien)", r"thu nhap (?:len|tu|\d)",
             r"work from home", r"part time (?:job|work)", r"earn (?:\$|up to|\d)", r"(?:daily|weekly) (?:pay|income)"),
         hints=("nhan vien", "ctv", "cong tac", "tai nha", "luong", "hoa hong", "kiem", "thu nhap", "work", "part time",
                "earn", "pay", "income")),
    Rule("verify_link", 0.4,
         "Bảo bấm vào đường link để xác thực, cập nhật hay mở khóa tài khoản: ngân hàng, nhà mạng thật không làm vậy.",
         "Asks you to follow a link to verify, update or unlock your account: banks and carriers do not.",
         # "nhấn" (press), not "nhắn tin" (text); "tải" folds like "tại" (at), so it is no trigger here
         _re(r"(?:truy cap|bam|nhan(?! tin)|click|vao)\s(?:\S+\s){0,6}(?:xac thuc|xac minh|cap nhat|mo khoa|kich hoat|"
             r"kiem tra|huy|dang nhap|nhan)",
             r"(?:xac thuc|xac minh|cap nhat|mo khoa|kich hoat|dang nhap)\s(?:\S+\s){0,8}(?:tai|qua|theo|vao)"
             r"\s(?:\S+\s){0,3}(?:link|lien ket|duong dan|website|trang)",
             r"(?:tai|qua|theo|vao)\s(?:\S+\s){0,2}(?:link|lien ket|duong dan)\s(?:\S+\s){0,4}(?:xac thuc|xac minh|"
             r"cap nhat|mo khoa|kich hoat|dang nhap)",
             r"(?:click|tap|follow|visit|open|go to)\s(?:\S+\s){0,6}(?:verify|confirm|update|unlock|reactivate|secure|"
             r"restore|review|reschedule|claim|pay|receive)",
             r"(?:verify|confirm|update|unlock|reactivate|secure|restore|reschedule|pay)\s(?:\S+\s){0,8}"
             r"(?:link|here|below|at|via)"),
         hints=("link", "lien ket", "duong dan", "website", "trang", "truy cap", "bam", "nhan", "click", "tap", "vao",
                "tai", "follow", "visit", "open", "go to", "verify", "confirm", "update", "unlock", "reactivate",
                "secure", "restore", "reschedule", "pay")),
    Rule("account_locked", 0.3,
         "Báo tài khoản, thẻ hay SIM bị khóa, tạm ngưng để bạn hoảng mà làm theo.",
         "Says your account, card or SIM is locked or suspended, so that you act in a panic.",
         _re(r"(?:tai khoan|the|sim|thue bao|ung dung)\s(?:\S+\s){0,5}(?:bi|se bi|da bi)\s(?:\S+\s){0,2}"
             r"(?:khoa|tam khoa|dong bang|vo hieu|ngung|tam ngung|dinh chi|han che)",
             r"(?:account|card|id|sim)\s(?:\S+\s){0,4}(?:locked|suspended|restricted|disabled|blocked|frozen|"
             r"deactivated|on hold)",
             r"(?:suspend|lock|disable|block|deactivate|freeze|close)\w*\s(?:\S+\s){0,3}(?:account|card|id|sim)",
             r"(?:tai khoan|the|giao dich)\s(?:\S+\s){0,2}bat thuong", r"(?:unusual|suspicious) (?:activity|sign ?in|login)"),
         hints=("khoa", "dong bang", "vo hieu", "ngung", "dinh chi", "han che", "lock", "suspend", "restrict", "disable",
                "block", "frozen", "deactivat", "hold", "bat thuong", "unusual", "suspicious")),
    Rule("not_you", 0.45,
         "Báo một giao dịch, đăng nhập hay thay đổi \"nếu không phải bạn\" rồi bảo bấm link hay trả lời: ngân hàng thật chỉ "
         "bảo gọi tổng đài.",
         "Reports a payment, sign-in or change and says \"if this was not you\", then asks you to follow a link or "
         "reply: real banks only tell you to call them.",
         _re(r"neu (?:\S+\s){0,2}khong phai (?:la )?(?:ban|quy khach|chinh chu)", r"if (?:this|it) (?:was|wasn t|is|isn t)"
             r"(?: not)? you", r"if you (?:do not|don t|did not|didn t) (?:recogni[sz]e|authori[sz]e|make|request|"
             r"place|attempt)"),
         hints=("khong phai", "if "),
         also=_re(r"bam", r"nhan vao", r"truy cap", r"link", r"lien ket", r"duong dan", r"https?", r"www", r"visit",
                  r"click", r"tap", r"reply", r"follow", r"go to")),
    Rule("payment_failed", 0.35,
         "Báo thanh toán thất bại, thẻ bị từ chối để bạn \"cập nhật\" thẻ hay trả lại tiền.",
         "Says a payment failed or a card was declined so that you 'update' your card or pay again.",
         _re(r"(?:failed|unable) to (?:pay|process|renew|charge)", r"payment (?:\S+\s){0,2}(?:failed|declined|"
             r"unsuccessful|was not)", r"card (?:\S+\s){0,2}(?:was |has been )?declined",
             r"thanh toan (?:\S+\s){0,2}(?:khong thanh cong|that bai|bi tu choi)"),
         hints=("failed", "unable", "payment", "declined", "thanh toan")),
    Rule("delivery_failed", 0.3,
         "Báo giao hàng không thành công hay cần hẹn lại: kẻ gian dùng cớ này để dẫn tới link hay đòi phí.",
         "Says a delivery failed or must be rescheduled: the usual pretext for a link or a fee.",
         _re(r"(?:unable|failed|could not|couldn t|cannot|can t|was not able) (?:\S+\s){0,2}(?:to )?deliver\w*",
             r"missed (?:your )?(?:delivery|parcel)", r"delivery (?:attempt )?(?:failed|unsuccessful)",
             r"(?:needs|need) to be rescheduled", r"(?:giao|phat)(?: hang)? khong thanh cong",
             r"khong (?:the )?giao (?:duoc|hang)"),
         hints=("deliver", "missed", "reschedul", "thanh cong", "giao")),
    Rule("sextortion", 0.6,
         "Dọa tung video, hình ảnh nhạy cảm để tống tiền: đừng trả tiền, hãy báo công an.",
         "Threatens to publish intimate videos or images unless you pay: do not pay, report it.",
         _re(r"(?:porn|adult|xxx) (?:web ?)?sites?", r"webcam", r"(?:bitcoin|btc) (?:wallet|address)",
             r"(?:video|clip|hinh anh) (?:\S+\s){0,3}(?:nhay cam|khoa than)"),
         hints=("porn", "adult", "xxx", "webcam", "bitcoin", "btc", "nhay cam", "khoa than")),
    Rule("press_key", 0.4,
         "Cuộc gọi hay tin tự động bảo bấm phím để gặp \"tổng đài viên\": kiểu lừa đảo bằng cuộc gọi tự động.",
         "An automated message that asks you to press a key to reach an 'operator': a robocall scam.",
         _re(r"(?:nhan|bam|an) phim \d", r"press (?:\d|one|two|nine)"),
         hints=("phim", "press")),
    # Cautions: what people should not answer or act on, but that is no scam by itself (a message
    # showing one is "suspicious" unless a red flag of its own says more; service.CAUTION_CAP).
    Rule("premium_spam", 0.5,
         "Quảng cáo dịch vụ thu phí qua đầu số tin nhắn hay cuộc gọi (soạn tin gửi đầu số, tính cước theo tin): "
         "đừng nhắn lại hay gọi lại.",
         "Premium-rate or subscription bait (text a word to a short code, charged per message or minute): do not "
         "reply or call.",
         _re(r"(?:text|reply|send|sms|call)\s(?:\S+\s){0,4}to\s(?:no\s)?\d{4,6}", r"\d+\s?p\s?(?:per\s)?(?:msg|min|minute|day|wk|"
             r"week|mtms?|pm)", r"\d+ppm", r"\d+\s?p\s(?:to\s)?(?:rcv|recd|receive)", r"t (?:c|cs) (?:apply|www)",
             r"ts ?and ?cs", r"std (?:text|txt) (?:rate|chgs)", r"opt ?out", r"stop to \d+",
             r"(?:16|18) only", r"from (?:a )?landline",
             r"de\s(?:xem|nhan|doc|nghe|tai|biet|duoc)\s(?:\S+\s){0,6}soan\s(?:tin\s)?(?!huy|tc|tu choi)\S+\s(?:\S+\s){0,3}"
             r"gui\s[5-8]\d(?:\d\d|xx)",
             r"soan\s(?:tin\s)?(?!huy|tc|tu choi)\S+\s(?:\S+\s){0,3}gui\s[5-8]\d(?:\d\d|xx)\s(?:\S+\s){0,3}de\s(?:xem|nhan|doc|"
             r"nghe|tai)",
             r"(?:xem|nhan|doc)\s(?:\S+\s){0,3}gui\s[6-8]\d(?:\d\d|xx)",
             r"(?:noi chuyen|tam su|lam quen|ket ban)\s(?:\S+\s){0,6}1900\d*",
             r"1900\d*\s(?:\S+\s){0,8}(?:noi chuyen|tam su|lam quen|ket ban)"),
         hints=("text", "reply", "send", "sms", "call", "msg", "min", "day", "wk", "week", "mtm", "pm", "rcv", "recd",
                "receive", "t c", "ts", "std", "opt", "stop", "only", "landline", "gui", "1900"),
         caution=True),
    Rule("paid_service", 0.5,
         "Mời soạn tin gửi đầu số để đăng ký dịch vụ, nhận quà hay quay thưởng: dịch vụ thu phí tự gia hạn, không phải "
         "quà thật.",
         "Asks you to text a code to a short number to subscribe, win or receive a gift: a paid, self-renewing service, "
         "not a real gift.",
         _re(r"soan\s(?:tin\s)?(?:ngay\s)?(?!huy|tc|tu choi|hd)\S+(?:\s\S+){0,2}\sgui\s(?:dau so\s)?[1-9]\d{3}"),
         hints=("soan",),
         also=_re(r"qc", r"\d+\s?d ngay", r"gia han", r"co hoi", r"may man",
                  r"khuyen mai", r"km", r"uu dai", r"quay thuong", r"nhan ngay", r"cai dat", r"de choi", r"tham gia",
                  r"trieu dong", r"tang", r"nhac chuong", r"xem roi", r"so huu"),
         caution=True),
    Rule("advertising", 0.5,
         "Tin quảng cáo (có dòng \"từ chối quảng cáo\"): không phải lừa đảo chắc chắn, nhưng đừng chuyển tiền hay "
         "đưa thông tin theo lời mời chào.",
         "An advertisement (it says how to refuse ads): not proof of a scam, but do not pay or give details because "
         "of it.",
         _re(r"(?:de )?tu choi (?:nhan )?(?:qc|quang cao|tin quang cao)", r"de tu choi soan", r"tu choi soan",
             r"to unsubscribe"),
         hints=("tu choi", "unsubscribe"),
         caution=True),
    Rule("loan_offer", 0.5,
         "Chào mời vay tiền nhanh, giải ngân ngay: vay qua tin nhắn lạ thường là tín dụng đen hay lừa phí hồ sơ.",
         "Offers a quick loan or fast payout: loans offered by unsolicited messages are usually loan sharks or "
         "advance-fee scams.",
         _re(r"(?:ho tro )?vay (?:\S+\s){0,3}(?:toi|den|len den|len toi) \d+", r"giai ngan", r"vay (?:von|tien) (?:nhanh|online|"
             r"khong the chap|tin chap)", r"loan for any purpose", r"refused a loan", r"can t get credit",
             r"(?:secured|unsecured) loan", r"(?:working capital|funds) in \d+", r"get approved"),
         hints=("vay", "giai ngan", "loan", "credit", "capital", "funds", "approved"),
         caution=True),
    Rule("chain_message", 0.5,
         "Tin dây chuyền hay tin đồn (bảo chuyển tiếp cho nhiều người, cảnh báo không có nguồn): đừng lan truyền, "
         "hãy kiểm tra trên báo chính thống.",
         "A chain message or hoax (asks you to forward it to many people, warns without a source): do not pass it "
         "on; check official news.",
         _re(r"(?:gui|chia se|chuyen|chuyen tiep)\s(?:\S+\s){0,2}(?:tin|tin nhan|thong tin|chuoi)\s(?:nay\s)?"
             r"(?:\S+\s){0,3}(?:den|cho|toi)\s(?:\S+\s){0,2}(?:\d+|nhieu|tat ca|moi)\s?(?:nguoi|ban)",
             r"hay chia se (?:\S+\s){0,3}(?:cho|den|toi) (?:moi nguoi|nguoi than|ban be|tat ca)",
             r"(?:forward|send|pass|share)\s(?:this|it)\s(?:\S+\s){0,3}(?:to|with|on to)\s(?:\S+\s){0,2}"
             r"(?:\d+|all|everyone|every|your|many)\s?(?:people|friends|contacts)?",
             r"copy (?:and|n) paste", r"(?:it|its|it s|this) (?:has been |is |iz )?confirm\w* by",
             r"(?:tuyet doi (?:khong|dung)|dung) (?:duoc )?(?:bat|nghe) may", r"tat (?:\S+\s){0,2}dien thoai (?:\S+\s){0,3}"
             r"(?:tia|buc xa)",
             r"(?:dung|khong) mo (?:\S+\s){0,4}video (?:\S+\s){0,6}xam nhap"),
         hints=("tin", "chia se", "chuoi", "forward", "send", "pass", "share", "copy", "confirm", "may", "tia", "xa",
                "video"),
         caution=True),
    Rule("stranger_opener", 0.5,
         "Người lạ nhắn làm quen, \"nhầm số\" hay hỏi han như người quen: thường là bước mở đầu của lừa đảo đầu tư, "
         "tình cảm. Đừng trả lời, đừng chuyển sang ứng dụng khác.",
         "A stranger starting a chat, a \"wrong number\" or a friendly hello from someone you do not know: the usual "
         "first step of investment and romance scams. Do not reply or move to another app.",
         _re(r"co phai (?:\S+\s){0,3}(?:gap|quen) (?:hom|luc|o)", r"gui nham (?:tai lieu|tin|so|file)", r"co lam phien",
             r"lam quen", r"xin (?:duoc )?so (?:dien thoai )?(?:cua )?(?:em|anh|chi|ban)",
             r"(?:dua|cho) so (?:nay |dien thoai )?(?:cua )?(?:em|anh|chi|ban) cho", r"ban cua (?:co|chu|di|bac|anh|chi) [a-z]+ "
             r"(?:\S+\s){0,6}(?:gioi thieu|dua so|cho so)",
             r"lau (?:roi|lam|qua) (?:khong|chua) gap", r"dao nay (?:\S+\s){0,3}(?:khoe|on) (?:khong|chu|chua)",
             r"xin loi (?:\S+\s){0,3}lam phien",
             r"are we still on", r"(?:do you|you) (?:still )?remember me", r"is this (?:still )?[a-z]+ s (?:number|phone)",
             r"(?:got|have) (?:your|ur) number from", r"(?:sorry )?wrong (?:person|chat)",
             r"are you (?:mr |ms |mrs |miss )?[a-z]+ (?:i m|i am|this is|my name)", r"is this [a-z]+ (?:this is|i m|it s)",
             r"i (?:dialed|texted|messaged|called) (?:\S+\s){0,2}wrong (?:number|person)", r"long time no see",
             r"it s been a long time", r"(?:i am|i m) [a-z]+ s friend", r"[a-z]+ recommended (?:me|you)",
             r"are you (?:the )?(?:one |who |person )(?:\S+\s){0,4}(?:last time|met|played)",
             r"not sure if (?:the|this) (?:number|is)"),
         hints=("co phai", "nham", "phien", "lam quen", "so", "ban cua", "gap", "dao nay", "still on", "remember", "is this",
                "number", "wrong", "are you", "dialed", "texted", "messaged", "called", "long time", "friend",
                "recommended", "not sure"),
         caution=True),
    Rule("investment_group", 0.5,
         "Mời vào nhóm, \"room\" đầu tư, chứng khoán hay tiền ảo với lời hứa lãi cao: kiểu lừa đảo đầu tư phổ biến.",
         "Invites you to an investment, stock-tip or crypto group promising high returns: a common investment scam.",
         _re(r"room (?:\S+\s){0,2}(?:co phieu|chung khoan|dau tu|ck|crypto|coin)", r"(?:nhom|team|room|group) (?:zalo |telegram )?"
             r"(?:dau tu|chung khoan|co phieu|crypto|tien ao)", r"tham gia (?:\S+\s){0,3}(?:team|room|nhom) (?:\S+\s){0,6}"
             r"(?:danh muc|co phieu|loi nhuan|lai)", r"ma (?:co phieu )?dien", r"(?:investment|trading|crypto|forex) (?:group|opportunity|mentor|signals?)",
             r"guaranteed (?:returns?|profit)", r"(?:discussion|insider|investment|trading|crypto|blockchain) "
             r"(?:group|club|community)", r"trading signals?", r"(?:crypto|bitcoin|btc) (?:market|trading)"),
         hints=("room", "nhom", "team", "group", "tham gia", "dien", "investment", "trading", "crypto", "forex",
                "guaranteed", "discussion", "insider", "blockchain", "club", "community", "signal", "bitcoin", "btc"),
         caution=True),
    Rule("shortener", 0.2,
         "Dùng đường link rút gọn che giấu địa chỉ thật.",
         "Uses a shortened link that hides where it goes.",
         _re(r"bit ly", r"tinyurl com", r"t ly", r"shorturl at", r"rb gy", r"cutt ly", r"is gd", r"s id"),
         hints=("bit ly", "tinyurl", "t ly", "shorturl", "rb gy", "cutt ly", "is gd", "s id")),
    Rule("never_share_notice", -0.6,
         "Tin có lời dặn không chia sẻ mã: thường thấy ở thông báo thật.",
         "Tells you never to share the code: what genuine notices say.",
         _re(r"(?:khong|tuyet doi khong|(?<!ung )dung|khong bao gio)\s(?:\S+\s){0,3}(?:cung cap|chia se|tiet lo|gui|"
             r"dua)\s(?:\S+\s){0,5}(?:ma|otp|mat khau)",
             r"(?:never|do not|don t|not)\s(?:\S+\s){0,2}(?:share|give|tell|disclose)\s(?:\S+\s){0,4}(?:code|otp|"
             r"password|pin)",
             r"(?:khong bao gio|khong|never|does not|do not|will not)\s(?:\S+\s){0,2}(?:gui|send|yeu cau|ask|de nghi)\w*\s"
             r"(?:\S+\s){0,6}(?:link|lien ket|duong dan|otp|mat khau|password)"),
         hints=("khong", "dung", "never", "not", "don t")),
)

CAUTIONS = frozenset(r.code for r in TEXT_RULES if r.caution)

# Reasons from the indicators
LINK_NOT_OFFICIAL = Rule("link_not_official", 0.5,
                         "Có đường link không thuộc trang chính thức của {brand} ({official}).",
                         "Has a link that is not on {brand}'s official site ({official}).")
LOOKALIKE = Rule("lookalike_link", 0.85,
                 "Đường link {host} giả mạo {brand}.",
                 "The link {host} imitates {brand}.")
REPORTED = Rule("reported_indicator", 0.85,
                "{display} đã bị báo cáo là dùng để lừa đảo.",
                "{display} has been reported as used in scams.")
SUSPICIOUS_LINK = Rule("disguised_link", 0.6,
                       "Đường link được ngụy trang: thực chất dẫn tới {host}.",
                       "A link is disguised: it really goes to {host}.")
PERSONAL_ACCOUNT = Rule("personal_account", 0.55,
                        "Nhân danh {brand} nhưng đưa số tài khoản hay ví để chuyển tiền: doanh nghiệp không thu tiền "
                        "như vậy qua tin nhắn.",
                        "Speaks for {brand} but gives an account or wallet to pay into: companies do not collect "
                        "money that way by message.")
HOLDER_MISMATCH = Rule("holder_mismatch", 0.7,
                       "Chủ tài khoản \"{holder}\" không phải là {brand}.",
                       "The account holder \"{holder}\" is not {brand}.")
RISKY_LINK = Rule("risky_link", 0.45,
                  "Đường link {host} nằm trên tên miền hay dịch vụ miễn phí mà các trang lừa đảo hay dùng.",
                  "The link {host} is on a domain ending or free hosting that scam sites favour.")
OFFICIAL_LINK = Rule("official_link", -0.5,
                     "Đường link nằm trên trang chính thức của {brand}.",
                     "The link is on {brand}'s official site.")
BALANCE_NOTICE = Rule("balance_notice", -0.4,
                      "Tin có dạng thông báo biến động số dư (tài khoản, số tiền +/−, số dư): kiểu tin ngân hàng gửi thật.",
                      "Reads like a balance-change notice (account, +/− amount, balance): what banks really send.")
RULES: tuple[Rule, ...] = (*TEXT_RULES, LINK_NOT_OFFICIAL, LOOKALIKE, REPORTED, SUSPICIOUS_LINK, RISKY_LINK,
                           PERSONAL_ACCOUNT, HOLDER_MISMATCH, OFFICIAL_LINK, BALANCE_NOTICE)
# A balance-change notice: an account, a signed amount and the balance after it ("TK 1033xxx702
# +50,000VND ... SD 340,000VND", "GD: -120.000VND ... SD:"); the account in it is the reader's own.
_BALANCE = re.compile(r"(?i)(?:\b(?:TK|tài khoản|tai khoan|account)\b[^\n]{0,40}?|\bGD:?\s?)[+\-]\s?\d{1,3}(?:[.,]\d{3})+"
                      r"[^\n]{0,120}?\b(?:SD|số dư|so du|balance)\b")
# Free hosts whose sites are subdomains (``shopee-vn.weebly.com``); Google's and Wix's own hosts are many.
_SITE_HOSTS = FREE_HOSTS - {"google.com", "wix.com"}
_IP_HOST = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$|^\[?[0-9a-f:]+\]?$")


def risky_host(host: str) -> bool:
    """A host on a top-level domain scam sites favour, on free hosting, or an IP address."""
    tld = host.rsplit(".", 1)[-1]
    site = any(host.endswith("." + f) and host != "www." + f for f in _SITE_HOSTS)
    return tld in RISKY_TLDS or site or bool(_IP_HOST.match(host))

# The holder's name as written after "CTK", "chủ tài khoản", "account name"...: upper-case words.
_HOLDER = re.compile(r"(?i:\b(?:chủ tài khoản|chu tai khoan|ctk|tên tài khoản|ten tai khoan|tên tk|ten tk|"
                     r"người nhận|nguoi nhan|account name|account holder|beneficiary))\s*(?::|là|la|is)?\s*"
                     r"((?:[A-ZÀ-Ỹ][A-ZÀ-Ỹ]*\s?){2,5})")
# Letters only Vietnamese uses among the languages here: ă â đ ê ô ơ ư, the tone marks on a-y.
_VI_LETTER = re.compile("[ăâđêôơưĂÂĐÊÔƠƯàáãèéìíòóõùúýÀÁÃÈÉÌÍÒÓÕÙÚÝĩĨũŨ\u1ea0-\u1ef9]")
_VI_WORDS = frozenset("cua ban quy khach vui long don hang buu pham khong duoc nhan giao tai khoan chuyen "
                      "thanh toan ngay hay la va cho voi den tu nay da se "
                      # the abbreviations of bank and carrier notices: "TK … luc 09:12 … SD", "GD", "ND", "TB", "QK"
                      "tk sd gd nd tb qk luc tien".split())
_EN_WORDS = frozenset("the your you is are to of and for please package account click now has been will".split())


def language(text: str, folded: str) -> str:
    """``vi`` or ``en``: Vietnamese letters, or more Vietnamese than English common words."""
    if _VI_LETTER.search(text):
        return "vi"
    words = folded.split()
    vi = sum(map(_VI_WORDS.__contains__, words))
    en = sum(map(_EN_WORDS.__contains__, words))
    return "vi" if vi > en else "en"


def _reason(rule: Rule, lang: str, **values: str) -> dict:
    vi, en = rule.vi.format(**values), rule.en.format(**values)
    return {"code": rule.code, "text": vi if lang == "vi" else en, "text_vi": vi, "text_en": en,
            "weight": rule.weight}


# "gấp" (urgent) folds like "gặp" (to meet): with its diacritics, it is urgency wherever it stands.
_URGENT_WORD = re.compile(r"(?i)(?<!\w)gấp(?!\w)")


def text_flags(folded: str, text: str = "") -> list[Rule]:
    """The text rules ``folded`` (``fold_slang``) shows; ``text``, the message as written, where
    diacritics tell apart words that fold alike."""
    global _HINTS
    if _HINTS is None or _HINTS.rules is not TEXT_RULES:
        _HINTS = _HintIndex(TEXT_RULES)
    padded = " " + folded
    maybe = _HINTS.candidates(padded)
    urgent = bool(text) and "gấp" in text.lower() and _URGENT_WORD.search(text) is not None
    if urgent:
        maybe |= _HINTS.urgency
    out = []
    for i in sorted(maybe):
        rule = TEXT_RULES[i]
        if urgent and i in _HINTS.urgency:
            out.append(rule)
            continue
        if (rule.also is not None and not rule.also.search(padded)) or \
                (rule.unless is not None and rule.unless.search(padded)):
            continue
        for m in rule.pattern.finditer(padded) if rule.pattern is not None else ():
            if rule.negatable and _NEGATION.search(padded[max(0, m.start() - 40) : m.start()]):
                continue
            out.append(rule)
            break
    return out


_HINTS: _HintIndex | None = None


# Government domains: only public bodies can register under them, so a link there is no impostor's.
_GOVERNMENT = (".gov.vn", ".gov", ".gov.uk", ".gov.au", ".gc.ca")


def _registrable_in(domain: str | None, official: tuple[str, ...]) -> bool:
    return bool(domain) and (any(domain == o or domain.endswith("." + o) for o in official)  # type: ignore[union-attr]
                             or domain.endswith(_GOVERNMENT))  # type: ignore[union-attr]


def reasons(folded: str, found: list[Found], lang: str, text: str = "") -> list[dict]:
    """Every red flag (and genuine cue) of a message (``text``, and ``folded`` with teencode),
    strongest first."""
    out = [_reason(r, lang) for r in text_flags(folded, text)]
    brands = [f for f in found if f.type == "brand" and f.role is None]
    named = brands[0] if brands else None
    seen = set()
    for f in found:
        a = f.answer
        if f.type in ("url", "domain") and f.normal is not None:
            host = f.normal.host or f.normal.value
            if a is not None and a.get("lookalike"):
                out.append(_reason(LOOKALIKE, lang, host=host, brand=a["lookalike"]["brand"]))
                continue
            if a is not None and a["verdict"] == "suspicious" and "link" in a:
                out.append(_reason(SUSPICIOUS_LINK, lang, host=host))
            elif not (a is not None and a["verdict"] == "official") and risky_host(host) \
                    and "risky_link" not in seen:
                seen.add("risky_link")
                out.append(_reason(RISKY_LINK, lang, host=host))
            official_here = named is not None and _registrable_in(f.normal.domain, named.official)
            if named is not None and not official_here and not (a is not None and a["verdict"] == "official") \
                    and "link_not_official" not in seen:
                seen.add("link_not_official")
                out.append(_reason(LINK_NOT_OFFICIAL, lang, brand=named.display,
                                   official=", ".join(named.official) or "?"))
            elif (official_here or (a is not None and a["verdict"] == "official")) and "official_link" not in seen:
                seen.add("official_link")
                out.append(_reason(OFFICIAL_LINK, lang, brand=named.display if named else a["official"]["name"]
                                   if a and a.get("official") else f.normal.domain or host))
        if a is not None and a["verdict"] in SCAM_VERDICTS:
            out.append(_reason(REPORTED, lang, display=f.display))
    balance = bool(text) and bool(_BALANCE.search(text))
    if balance:
        out.append(_reason(BALANCE_NOTICE, lang))
    payees = [f for f in found if f.type in ("bank_account", "ewallet") and f.role != "sender"]
    if payees and named is not None and not balance:
        m = _HOLDER.search(text)
        holder = m.group(1).strip() if m else None
        if holder and fold(named.display) not in fold(holder):
            out.append(_reason(HOLDER_MISMATCH, lang, holder=holder, brand=named.display))
        elif not holder:
            out.append(_reason(PERSONAL_ACCOUNT, lang, brand=named.display))
    out.sort(key=lambda r: -r["weight"])
    return out


# What makes a message or a call ask for a payment (so that the accounts it names are payees, for the
# COD rule): one of these red flags, or these words (read folded, with teencode).
PAYMENT_RULES = frozenset({"pay_before_delivery", "fee", "membership", "prize"})
PAYMENT_WORDS = re.compile(r" (?:chuyen khoan|chuyen tien|chuyen vao|thanh toan|tra tien|tra truoc|nop|dong tien|"
                           r"dat coc|coc|cod|thu ho|hoan tien|phi|refund|transfer|pay|payment|deposit)\b")


def asks_payment(codes: set[str] | frozenset[str], slang: str) -> bool:
    """Whether a text with these red flags (``codes``) and this ``fold_slang`` form asks for a payment."""
    return bool(PAYMENT_RULES & codes) or PAYMENT_WORDS.search(" " + slang) is not None


def rule_probability(rs: list[dict]) -> tuple[float, float]:
    """How likely the message is a scam by its red flags alone, combined as independent evidence
    (1 − Π(1 − w)), and the factor its genuine cues scale a score down by (Π(1 + w), w < 0)."""
    p = 1.0
    down = 1.0
    for r in rs:
        w = r["weight"]
        if w > 0:
            p *= 1.0 - w
        else:
            down *= 1.0 + w
    return 1.0 - p, down
