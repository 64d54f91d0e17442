"""Page texts, Vietnamese first. A missing English text falls back to Vietnamese (a test checks both
languages have the same keys)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "lang_name": "Tiếng Việt",
        "other_lang": "English",
        "title": "postguard — bảo vệ dữ liệu người nhận",
        "tagline": "Bảo vệ thông tin cá nhân trên bưu gửi và ngăn chặn lừa đảo giả danh shipper.",
        "labels_title": "Nhãn bảo mật",
        "labels_body": "Nhãn chỉ in tên gọi kèm chữ cái đầu, 3 số cuối điện thoại, phường/xã và tỉnh/thành. "
        "Họ tên đầy đủ, số điện thoại, địa chỉ nhà và hàng hóa không bao giờ được in.",
        "advice_title": "Shipper thật không bao giờ yêu cầu",
        "advice": "chuyển khoản vào tài khoản cá nhân · mã OTP · cài ứng dụng · phí lưu kho",
        "qr_title": "Mã QR trên nhãn",
        "qr_body": "Mã này không chứa thông tin cá nhân. Chỉ nhân viên được giao đơn, đã đăng nhập, "
        "mới xem được thông tin giao hàng, và mọi lần xem đều được ghi nhật ký.",
        "qr_unknown": "Mã không hợp lệ hoặc đã hết hạn.",
        "footer": "Phần mềm mã nguồn mở. Dữ liệu mẫu là dữ liệu giả lập.",
        "sign_in_title": "Đăng nhập nhân viên",
        "sign_in": "Đăng nhập",
        "sign_out": "Đăng xuất",
        "org_code": "Mã đơn vị",
        "username": "Tên đăng nhập",
        "password": "Mật khẩu",
        "sign_in_failed": "Sai mã đơn vị, tên đăng nhập hoặc mật khẩu, hoặc tài khoản đang bị khóa.",
        "staff_home": "Trang nhân viên",
        "staff_home_body": "Mọi lần xem dữ liệu cá nhân đều được ghi vào nhật ký truy cập không thể sửa.",
        "back": "Quay lại",
        "error_forbidden": "Không được phép",
        "error_generic": "Không thực hiện được",
        "role_admin": "quản trị",
        "role_hub": "nhân viên bưu cục",
        "role_courier": "shipper",
        "role_cs": "chăm sóc khách hàng",
        "role_auditor": "kiểm toán",
        "role_dpo": "phụ trách bảo vệ dữ liệu",
        "warnings_title": "Cảnh báo lừa đảo",
        "warnings_intro": "Các thủ đoạn lừa đảo mới do chuyên viên phân tích công bố. "
        "Không chuyển tiền, không đọc mã OTP cho bất kỳ ai.",
        "warnings_feed": "Theo dõi qua Atom",
        "warnings_none": "Chưa có cảnh báo nào.",
    },
    "en": {
        "lang_name": "English",
        "other_lang": "Tiếng Việt",
        "title": "postguard — protecting recipients' data",
        "tagline": "Protects personal data on parcels and stops scammers posing as couriers.",
        "labels_title": "Privacy labels",
        "labels_body": "Labels show only the given name with initials, the last 3 phone digits, the ward and "
        "the province. Full names, phone numbers, street addresses and goods are never printed.",
        "advice_title": "A genuine courier never asks for",
        "advice": "transfers to personal accounts · OTP codes · app installs · storage fees",
        "qr_title": "The QR code on the label",
        "qr_body": "It carries no personal data. Only the assigned, signed-in courier can see delivery "
        "details, and every view is logged.",
        "qr_unknown": "This code is not valid or has expired.",
        "footer": "Open-source software. Demo data is synthetic.",
        "sign_in_title": "Staff sign-in",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "org_code": "Organisation code",
        "username": "Username",
        "password": "Password",
        "sign_in_failed": "Wrong organisation, username or password, or the account is locked.",
        "staff_home": "Staff home",
        "staff_home_body": "Every view of personal data is written to the tamper-evident access log.",
        "back": "Back",
        "error_forbidden": "Not allowed",
        "error_generic": "Could not be done",
        "role_admin": "administrator",
        "role_hub": "hub staff",
        "role_courier": "courier",
        "role_cs": "customer service",
        "role_auditor": "auditor",
        "role_dpo": "data-protection officer",
        "warnings_title": "Scam warnings",
        "warnings_intro": "New scam methods, published by analysts. Never transfer money or read an OTP code "
        "to anyone.",
        "warnings_feed": "Follow by Atom",
        "warnings_none": "No warnings yet.",
    },
}


def lang_of(query_lang: str | None, cookie_lang: str | None) -> str:
    for cand in (query_lang, cookie_lang):
        if cand in TEXTS:
            return cand
    return "vi"
