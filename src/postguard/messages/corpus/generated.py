"""Generated training messages, every one marked ``generated`` in its ``source`` column.

Hard negatives are what genuine banks, carriers, the power company and couriers send (an OTP
notice that says never to share the code, a SIM or bill notice, a tracking update with the
courier's number and official site); positives imitate the scams citizens report (storage fees,
re-delivery, shipper "membership", OTP requests, remote-control apps, lookalike links). Names,
numbers, codes and links are synthetic: numbers in the 09x/03x ranges drawn at random, waybills
made up, lookalike hosts on reserved-looking names. None of it is a real message."""

from __future__ import annotations

import random
from collections.abc import Iterator

SOURCE_LEGIT = "generated:hard-negative"
SOURCE_SCAM = "generated:synthetic-scam"
SOURCE_CHAT = "generated:everyday-message"

_BANKS = ["Vietcombank", "VietinBank", "BIDV", "Techcombank", "MB", "ACB", "VPBank", "TPBank", "Sacombank", "Agribank"]
_COURIERS = [("VNPost", "vnpost.vn"), ("Viettel Post", "viettelpost.com.vn"), ("GHN", "ghn.vn"),
             ("GHTK", "ghtk.vn"), ("J&T Express", "jtexpress.vn"), ("Shopee Express", "spx.vn")]
_CARRIERS = ["Viettel", "Vinaphone", "MobiFone"]
_NAMES = ["NGUYEN VAN AN", "TRAN THI BINH", "LE VAN CUONG", "PHAM THI DUNG", "HOANG VAN EM", "VU THI GIANG"]
_TLDS = ["top", "xyz", "vip", "cc", "online", "site", "shop", "info", "club"]


def _phone(r: random.Random) -> str:
    return r.choice(["09", "03", "08", "07"]) + "".join(r.choice("0123456789") for _ in range(8))


def _spaced(p: str, r: random.Random) -> str:
    return p if r.random() < 0.5 else f"{p[:4]} {p[4:7]} {p[7:]}"


def _digits(r: random.Random, n: int) -> str:
    return "".join(r.choice("0123456789") for _ in range(n))


def _money(r: random.Random) -> str:
    v = r.choice([15, 18, 20, 25, 30, 35, 45, 50, 99, 150, 250])
    return r.choice([f"{v}.000d", f"{v}.000đ", f"{v}k", f"{v}.000 VND", f"{v},000 VND"])


def _waybill(r: random.Random) -> str:
    return r.choice(["EC", "EB", "CP", "RR"]) + _digits(r, 9) + "VN" if r.random() < 0.5 else \
        r.choice(["GHN", "SPXVN", "JT", "S"]) + _digits(r, 10)


def _when(r: random.Random) -> str:
    return f"{r.randint(1, 28):02d}/{r.randint(1, 12):02d}"


def legit(r: random.Random) -> str:
    bank, (courier, site), carrier = r.choice(_BANKS), r.choice(_COURIERS), r.choice(_CARRIERS)
    otp = _digits(r, 6)
    templates = [
        f"Ma OTP cua Quy khach la {otp}, hieu luc trong 5 phut. Tuyet doi KHONG cung cap ma nay cho bat ky ai, "
        f"ke ca nhan vien {bank}.",
        f"{bank}: {otp} la ma xac thuc giao dich cua Quy khach. Khong chia se ma nay voi bat ky ai.",
        f"Mã OTP {otp} dùng để xác thực giao dịch trên {bank} Digibank. Không cung cấp mã cho người khác dưới "
        f"mọi hình thức.",
        f"{bank}: TK {_digits(r, 4)}xxx{_digits(r, 3)} +{r.randint(1, 99)*10000:,}VND luc {r.randint(0, 23):02d}:"
        f"{r.randint(0, 59):02d} {_when(r)}. SD: {r.randint(1, 999)*10000:,}VND. ND: chuyen tien",
        f"{bank} canh bao: Ngan hang KHONG BAO GIO yeu cau Quy khach cung cap mat khau, OTP qua dien thoai hay "
        f"tin nhan. Hay goi hotline chinh thuc khi nghi ngo.",
        f"{carrier}: Thue bao {_spaced(_phone(r), r)} da duoc gia han goi cuoc thanh cong, hieu luc den {_when(r)}. "
        f"Chi tiet LH 18008098.",
        f"{carrier} thong bao: Quy khach da nap thanh cong {r.randint(1, 50)*10000}d vao tai khoan chinh. "
        f"Tran trong cam on.",
        f"{carrier}: Thue bao cua Quy khach can cap nhat thong tin chinh chu truoc {_when(r)} tai cua hang "
        f"hoac ung dung chinh thuc cua nha mang.",
        f"EVN thong bao tien dien thang {r.randint(1, 12)} cua ma KH PE{_digits(r, 11)} la "
        f"{r.randint(100, 2000)*1000:,}d. Thanh toan qua ung dung ngan hang hoac EVNCPC. Tra cuu cskh.evn.com.vn",
        f"EVNHCMC: Ky hoa don {r.randint(1, 12)}/2025, so tien {r.randint(100, 2000)*1000:,} dong, han thanh toan "
        f"{_when(r)}. Cam on Quy khach.",
        f"{courier}: Don hang {_waybill(r)} dang duoc giao. Buu ta {_spaced(_phone(r), r)} se lien he Quy khach "
        f"trong hom nay. Tra cuu tai {site}",
        f"{courier}: Don {_waybill(r)} dang tren duong giao. Tra cuu hanh trinh tai https://{site}/tra-cuu. "
        f"Chi thanh toan khi nhan hang, khong chuyen khoan truoc.",
        f"{courier} thong bao: buu ta se phat buu gui {_waybill(r)} trong hom nay. Neu vang nha, hen lai tai "
        f"https://{site} hoac goi {_spaced(_phone(r), r)}.",
        f"Đơn {_waybill(r)} đã đến bưu cục. Bạn có thể đến nhận hoặc chờ giao lại miễn phí. Xem tại https://{site}",
        f"{bank}: Quy khach vui long khong chuyen khoan truoc cho nguoi la tu xung la shipper. Tra cuu canh bao "
        f"tai https://www.{bank.lower()}.com.vn",
        f"{courier}: Buu gui {_waybill(r)} da giao thanh cong luc {r.randint(8, 20)}h{r.randint(0, 5)}0 {_when(r)}. "
        f"Cam on Quy khach da su dung dich vu.",
        f"Đơn hàng {_waybill(r)} của bạn đang trên đường giao. Vui lòng để ý điện thoại. Tiền thu hộ (COD): "
        f"{_money(r)}. {courier}",
        f"{courier}: Shipper se giao don {_waybill(r)} trong ngay, thu ho {_money(r)}. Quy khach chi thanh toan khi "
        f"nhan hang. Khong chuyen khoan truoc cho bat ky ai.",
        f"Shopee: Don hang {_digits(r, 14)} da duoc giao cho don vi van chuyen. Kiem tra trong ung dung Shopee.",
        f"Your {bank} verification code is {otp}. Never share this code with anyone, including bank staff.",
        f"{courier}: your parcel {_waybill(r)} is out for delivery today. Track it at {site}. Pay the courier "
        f"only on delivery.",
        f"Your package {_waybill(r)} was delivered at {r.randint(8, 20)}:{r.randint(10, 59)}. Thank you for "
        f"shopping with us.",
        f"Chao ban, minh la shipper {courier}, dang giao don hang cho ban, ban o nha khong a? {_spaced(_phone(r), r)}",
        f"Anh oi em ship hang toi roi, anh xuong lay giup em nhe, tien hang {_money(r)}.",
        f"Lich hop phu huynh lop {r.randint(1, 12)}A vao {r.randint(7, 9)}h sang thu bay {_when(r)}. Kinh moi "
        f"quy phu huynh tham du.",
        "Cảm ơn bạn đã mua hàng. Mã giảm giá cho lần sau sẽ có trong ứng dụng của cửa hàng.",
        "VNeID: Tai khoan dinh danh dien tu cua ban da duoc kich hoat muc 2. Khong cung cap ma kich hoat "
        "cho bat ky ai.",
        *_more_legit(r, bank, courier, site, carrier, otp),
    ]
    return r.choice(templates)


def _more_legit(r: random.Random, bank: str, courier: str, site: str, carrier: str, otp: str) -> list[str]:
    """Genuine notices of other shapes: balance alerts, sign-in codes, bills, appointments, promotions a
    bank or shop really sends, and English ones."""
    amount = f"{r.randint(1, 500) * 1000:,}"
    hhmm = f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}"
    service = r.choice(["Google", "Microsoft", "Facebook", "Zalo", "Grab", "Be", "Tiki", "Lazada", "WhatsApp"])
    return [
        f"{bank}: So du TK {_digits(r, 4)}xxxx{_digits(r, 2)} giam {amount}VND vao {_when(r)} {hhmm}. So du: "
        f"{r.randint(1, 9999) * 1000:,}VND. ND: thanh toan hoa don dien",
        f"TK {_digits(r, 3)}...{_digits(r, 3)} | GD: -{amount}VND | {_when(r)}/2025 {hhmm} | SD: "
        f"{r.randint(1, 9999) * 1000:,}VND | ND: {r.choice(['mua sam', 'tien nha', 'chuyen tien an trua', 'QR pay'])}",
        f"{bank} thông báo: Thẻ ghi nợ ****{_digits(r, 4)} thanh toán {amount} VND tại "
        f"{r.choice(['CIRCLE K', 'WINMART', 'HIGHLANDS', 'GRAB', 'SHOPEE'])} lúc {hhmm} {_when(r)}.",
        f"{otp} la ma xac minh {service} cua ban. Ma het han sau 10 phut.",
        f"G-{otp} is your Google verification code.",
        f"Your {service} code is {otp}. Don't share it with anyone.",
        f"[{service}] Ma xac thuc dang nhap cua ban la {otp}. Vui long khong chia se ma nay.",
        f"{bank} uu dai: Hoan tien 10% toi da {r.choice(['100.000', '200.000', '500.000'])}d khi thanh toan bang "
        f"the tai sieu thi den het {_when(r)}. Chi tiet tai website chinh thuc cua ngan hang hoac ung dung {bank}.",
        f"{carrier}: Uu dai nap the ngay {_when(r)}: tang 20% gia tri the nap. Chi tiet goi 18008098 (mien phi).",
        f"{carrier}: Goi cuoc cua Quy khach se het han vao {_when(r)}. De gia han, soan GH gui 191 hoac dung "
        f"ung dung cua nha mang. Tran trong.",
        f"Cuoc dien thoai thang {r.randint(1, 12)} cua thue bao {_phone(r)[:6]}xxxx la {amount}d. Thanh toan "
        f"truoc ngay {_when(r)} de khong gian doan dich vu.",
        f"Nuoc sach thong bao: tien nuoc ky {r.randint(1, 12)}/2025 cua danh ba {_digits(r, 8)} la {amount} dong.",
        f"Phong kham nhac lich hen kham cua Quy khach luc {hhmm} ngay {_when(r)}. Vui long den truoc 15 phut.",
        f"Lịch tiêm chủng của bé vào {hhmm} ngày {_when(r)} tại trạm y tế phường. Mang theo sổ tiêm.",
        f"{courier}: Đơn hàng {_waybill(r)} đã được giao thành công. Đánh giá dịch vụ trong ứng dụng {courier}.",
        f"{courier}: Bưu tá đã phát không thành công bưu gửi {_waybill(r)} do không liên lạc được. Bưu gửi sẽ "
        f"được phát lại vào ngày mai, không thu thêm phí.",
        f"[{courier}] Don {_waybill(r)} du kien giao {_when(r)} tu {r.randint(8, 12)}h-{r.randint(13, 18)}h. "
        f"Theo doi tai {site}.",
        f"Tiki: Don hang #{_digits(r, 9)} da duoc xac nhan. Du kien giao {_when(r)}.",
        f"Grab: Chuyen xe cua ban voi tai xe {r.choice(_FIRST)} ({r.choice(['51F', '30H', '29A'])}-{_digits(r, 5)}) "
        f"dang den. Cam on ban da dung Grab.",
        f"BHXH Viet Nam: So BHXH {_digits(r, 4)}xxxxxx da duoc ghi nhan dong den thang {r.randint(1, 12)}/2025. "
        f"Tra cuu tai ung dung VssID.",
        f"Truong THCS thong bao: hoc sinh nghi hoc ngay {_when(r)} do ky thi. Phu huynh luu y.",
        f"Your {r.choice(['USPS', 'Royal Mail', 'DHL', 'FedEx', 'Australia Post'])} parcel {_waybill(r)} has been "
        f"delivered to your front door at {hhmm}.",
        f"Your order #{_digits(r, 8)} has shipped and is expected {r.choice(['Monday', 'Tuesday', 'Friday'])}. "
        f"Track it in the app.",
        f"{bank}: A payment of ${r.randint(5, 300)}.{_digits(r, 2)} was made with your card ending "
        f"{_digits(r, 4)} at {hhmm}. If you don't recognise it, call the number on the back of your card.",
        f"Reminder: your dental appointment is on {_when(r)} at {hhmm}. Reply C to confirm or call the practice "
        f"to rebook.",
        "Your prescription is ready to collect from the pharmacy.",
        f"Your electricity bill of ${r.randint(40, 300)}.{_digits(r, 2)} is due on {_when(r)}. Pay in your online "
        f"account or by direct debit. No action needed if you pay by direct debit.",
        f"Hi, your driver will arrive between {r.randint(8, 12)} and {r.randint(13, 18)} today with your parcel. "
        f"No signature needed.",
        f"We've received your payment of ${r.randint(10, 200)}.00. Thank you.",
        f"Your {service} password was changed. If this was you, you can ignore this message.",
    ]


def scam(r: random.Random) -> str:
    bank, (courier, site), carrier = r.choice(_BANKS), r.choice(_COURIERS), r.choice(_CARRIERS)
    stem = site.split(".")[0]
    fake = r.choice([f"{stem}-vn.{r.choice(_TLDS)}", f"{stem}{r.randint(1, 99)}.{r.choice(_TLDS)}",
                     f"{stem}.giaohang-{r.choice(_TLDS)}.com", f"bit.ly/{_digits(r, 5)}x",
                     f"{bank.lower()}-xacthuc.{r.choice(_TLDS)}"])
    link = r.choice(["http://", "https://", ""]) + fake
    name = r.choice(_NAMES)
    templates = [
        f"{courier}: Buu pham {_waybill(r)} cua ban bi giu lai do thieu phi luu kho {_money(r)}. Vui long thanh "
        f"toan tai {link} trong 24h de tranh bi huy.",
        f"Don hang cua ban khong the giao do sai dia chi. Cap nhat va thanh toan phi giao lai {_money(r)} tai "
        f"{link}",
        f"Thong bao: Ban co buu kien quoc te bi giu tai hai quan, can dong phi thong quan {_money(r)}. CK vao STK "
        f"{_digits(r, 10)} {bank} CTK {name}.",
        f"Shipper {courier} day a, don cua anh/chi can chuyen khoan truoc {_money(r)} tien ship thi em moi giao "
        f"duoc. STK {_digits(r, 12)} {bank}.",
        f"Em la nhan vien {courier}, don hang cua chi bi loi, chi doc giup em ma OTP vua gui ve dien thoai de em "
        f"huy don nhe.",
        f"Ban da dang ky goi thanh vien shipper {courier} {_money(r)}/thang. De huy goi thanh vien, vui long lien he "
        f"{_spaced(_phone(r), r)} ngay hom nay.",
        f"{courier}: Tai khoan cua ban da dang ky bao hiem don hang, phi se tu dong tru {_money(r)}. Huy dang ky "
        f"tai {link}",
        f"Để hoàn phí đơn hàng, bạn cài ứng dụng {r.choice(['AnyDesk', 'TeamViewer', 'UltraViewer'])} và gửi mã "
        f"cho nhân viên hỗ trợ.",
        f"Bưu điện thông báo: bưu phẩm của bạn bị tạm giữ, vui lòng chuyển khoản phí lưu kho {_money(r)} vào "
        f"{bank} {_digits(r, 10)}, chủ tài khoản {name}, trước 17h hôm nay để nhận hàng.",
        f"{bank} thong bao tai khoan cua quy khach se bi khoa trong 24h. Vui long xac thuc tai {link} va nhap "
        f"ma OTP.",
        f"{carrier}: Thue bao cua ban se bi khoa 2 chieu do chua chuan hoa thong tin. Cai app tai {link}/app.apk "
        f"de cap nhat ngay.",
        f"Chuc mung ban trung thuong xe SH tu chuong trinh tri an khach hang {courier}. Nop phi nhan thuong "
        f"{_money(r)} qua momo {_phone(r)}.",
        f"Co quan cong an thong bao ban lien quan den vu an rua tien, can chuyen tien vao tai khoan tam giu "
        f"{_digits(r, 10)} {bank} de xac minh, neu khong se bi khoi to.",
        f"Tr0 cap buu pham bi h0an, ck phi {_money(r)} de nhan lai ngay. Lh {_phone(r)}",
        f"{courier}: Your parcel {_waybill(r)} is on hold due to an unpaid storage fee of {_money(r)}. Pay now at "
        f"{link} or it will be returned.",
        f"Your package could not be delivered. Please pay the redelivery fee within 12 hours: {link}",
        f"This is {bank} security. Your account will be suspended. Reply with the OTP code we just sent to "
        f"cancel the transaction.",
        "To get your refund, install AnyDesk and tell our agent the code shown on your screen.",
        f"Ban nhan duoc 1 kien hang COD gia tri cao, vui long ket ban Zalo {_phone(r)} va chuyen coc {_money(r)} "
        f"truoc khi giao.",
    ]
    return r.choice(templates)




_FIRST = ["An", "Bình", "Cường", "Dung", "Giang", "Hà", "Hải", "Hoa", "Khánh", "Lan", "Linh", "Minh", "Nam", "Ngọc",
          "Phương", "Quân", "Thảo", "Trang", "Tuấn", "Vy"]
_KIN = ["mẹ", "bố", "anh", "chị", "em", "con", "cô", "chú", "bà", "ông"]
_PLACES = ["quán cà phê đầu ngõ", "nhà bà ngoại", "cổng trường", "siêu thị", "bến xe", "công ty", "phòng khám", "chợ"]
_CHAT_VI = [
    "{kin} ơi tối nay {me} về muộn, {kin} cứ ăn cơm trước nhé.",
    "Chào {name}, hẹn gặp lại vào cuối tuần nhé.",
    "Ok {kin}, mai {me} gọi lại sau {hour} giờ.",
    "{name} ơi, chiều nay {hour} giờ họp lớp ở {place} nha.",
    "{me} đến {place} rồi, {kin} ra đón {me} với.",
    "Cảm ơn {name} nhiều, hôm nào rảnh mình đi ăn nhé.",
    "Nhớ mang áo mưa nhé {kin}, chiều nay trời mưa to đấy.",
    "{kin} đã nhận được quà chưa? {me} gửi từ hôm qua.",
    "Mai {me} nghỉ làm, {name} trực giúp {me} ca sáng được không?",
    "Chúc mừng sinh nhật {name}! Chúc {name} luôn vui khỏe.",
    "{me} đang kẹt xe, tầm {hour} giờ mới tới {place}.",
    "Đã chuyển lại tiền ăn trưa hôm qua cho {name} rồi nhé.",
    "Tuần sau lớp học thêm đổi sang {hour} giờ chiều thứ bảy.",
    "{kin} nhớ uống thuốc đúng giờ nhé, {me} gọi về sau.",
]
_CHAT_EN = [
    "Hi {ename}, are we still on for lunch tomorrow?",
    "Running about {minutes} minutes late, sorry! See you at the {eplace}.",
    "Thanks for yesterday, it was great to catch up.",
    "Can you pick up some milk on your way home?",
    "Happy birthday {ename}! Hope you have a lovely day.",
    "Meeting moved to {hour} pm, same room.",
    "Just landed, will call you when I get to the hotel.",
    "Don't forget mum's dinner on Sunday at {hour}.",
    "Got your parcel today, thank you so much!",
    "Are you free this weekend? Thinking of a hike if the weather holds.",
]
_ENAMES = ["Sam", "Alex", "Chris", "Jo", "Pat", "Kim", "Lee", "Max"]
_EPLACES = ["station", "cafe", "office", "school gate", "gym", "library"]


def chat(r: random.Random) -> str:
    """An everyday personal message (family, friends, work), with or without diacritics."""
    if r.random() < 0.35:
        return r.choice(_CHAT_EN).format(ename=r.choice(_ENAMES), eplace=r.choice(_EPLACES), minutes=r.choice((5, 10, 20)),
                                         hour=r.randrange(1, 12))
    kin = r.choice(_KIN)
    text = r.choice(_CHAT_VI).format(kin=kin, me=r.choice([k for k in _KIN if k != kin]), name=r.choice(_FIRST),
                                     place=r.choice(_PLACES), hour=r.randrange(6, 22))
    text = text[0].upper() + text[1:]
    if r.random() < 0.5:  # as typed on a phone without a Vietnamese keyboard
        from postguard.messages.text import fold

        text = fold(text)
    return text


def generate(n: int = 2400, *, seed: int = 20251) -> Iterator[tuple[str, str, str, str]]:
    """``(label, language, text, source)`` rows, half legit (a third of those everyday messages) and
    half scam, reproducibly."""
    from postguard.messages.rules import language
    from postguard.messages.text import fold

    r = random.Random(seed)  # noqa: S311  reproducible synthetic messages, not secrets
    for i in range(n):
        if i % 2:
            text, label, source = scam(r), "scam", SOURCE_SCAM
        elif i % 6 == 0:
            text, label, source = chat(r), "legit", SOURCE_CHAT
        else:
            text, label, source = legit(r), "legit", SOURCE_LEGIT
        yield label, language(text, fold(text)), text, source
