"""Synthetic Vietnamese people, phones, addresses and shipments (for demo data, tests, benchmarks).

Nothing here is real personal data: names are drawn from common family, middle and given names,
phone numbers from valid mobile ranges with random subscriber digits, streets from a short list of
common street names, and wards and provinces from the real 2025 administrative units.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator

from postguard import places
from postguard.shipments.validation import COLUMNS

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
          "Ngô", "Dương", "Lý", "Đinh", "Trương", "Lương", "Mai"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quang", "Thu", "Xuân", "Hoài", "Bảo", "Gia"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hằng", "Hiếu", "Hoa", "Hùng", "Hương", "Khánh",
         "Lan", "Linh", "Long", "Mai", "Nam", "Ngân", "Nhung", "Phong", "Phúc", "Quân", "Quỳnh", "Sơn", "Tâm",
         "Thảo", "Trang", "Trung", "Tuấn", "Uyên", "Việt", "Vy", "Yến", "Đạt", "Ánh", "Thủy", "Khoa"]
STREETS = ["Lê Lợi", "Trần Hưng Đạo", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung",
           "Điện Biên Phủ", "Phan Chu Trinh", "Nguyễn Trãi", "Lê Duẩn", "Võ Thị Sáu", "Hùng Vương",
           "Bà Triệu", "Nguyễn Du", "Pasteur", "Cách Mạng Tháng Tám", "Hoàng Diệu", "Trường Chinh"]
GOODS = ["Áo sơ mi nam", "Điện thoại di động", "Sách giáo khoa", "Mỹ phẩm dưỡng da", "Giày thể thao",
         "Tai nghe không dây", "Bình giữ nhiệt", "Đồ chơi trẻ em", "Thực phẩm chức năng", "Túi xách nữ",
         "Phụ kiện máy tính", "Quần jean", "Nồi cơm điện", "Đồng hồ đeo tay", "Cà phê rang xay"]
MOBILE_PREFIXES = ["32", "33", "34", "35", "36", "37", "38", "39", "70", "76", "77", "78", "79", "81", "82",
                   "83", "84", "85", "86", "88", "90", "91", "93", "94", "96", "97", "98", "56", "58", "59"]


class Faker:
    def __init__(self, seed: int = 0) -> None:
        self.r = random.Random(seed)  # noqa: S311  reproducible fake data, not secrets
        self._wards = places.all_wards()

    def name(self) -> str:
        r = self.r
        parts = [r.choice(FAMILY), r.choice(MIDDLE)]
        if r.random() < 0.4:
            parts.append(r.choice(MIDDLE))
        parts.append(r.choice(GIVEN))
        return " ".join(parts)

    def phone_e164(self) -> str:
        return "+84" + self.r.choice(MOBILE_PREFIXES) + f"{self.r.randrange(10**7):07d}"

    def phone_written(self, e164: str) -> str:
        """The same number as people write it: 0912 345 678, +84 912.345.678, 84912345678, ..."""
        nsn = e164[3:]
        style = self.r.randrange(5)
        if style == 0:
            return "0" + nsn
        if style == 1:
            return f"0{nsn[:3]} {nsn[3:6]} {nsn[6:]}"
        if style == 2:
            return f"+84 {nsn[:3]}.{nsn[3:6]}.{nsn[6:]}"
        if style == 3:
            return "84" + nsn
        return f"0{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}"

    def ward(self) -> tuple[places.Place, places.Place]:
        w, pc = self.r.choice(self._wards)
        return w, places.province(pc)

    def street_address(self) -> str:
        r = self.r
        return f"Số {r.randrange(1, 400)}{r.choice(['', '/' + str(r.randrange(2, 60))])} đường {r.choice(STREETS)}"

    def shipment_row(self, waybill: str) -> dict[str, str]:
        r = self.r
        w, p = self.ward()
        sw, sp = self.ward()
        province = r.choice([p.name, p.name.replace("Thành phố ", ""), str(p.code), places.fold(p.name)])
        bare = w.name
        for prefix in ("Phường ", "Xã ", "Đặc khu "):
            bare = bare.removeprefix(prefix)
        ward = r.choice([w.name, bare, str(w.code)])
        return {
            "waybill": waybill,
            "sender_name": self.name(),
            "sender_phone": self.phone_written(self.phone_e164()),
            "sender_address": f"{self.street_address()}, {sw.name}, {sp.name}",
            "recipient_name": self.name(),
            "recipient_phone": self.phone_written(self.phone_e164()),
            "recipient_address": f"{self.street_address()}, {w.name}, {p.name}",
            "recipient_province": province,
            "recipient_ward": ward,
            "goods_description": r.choice(GOODS) + f" x{r.randrange(1, 5)}",
            "cod_amount_vnd": str(r.randrange(0, 3000) * 1000),
            "weight_grams": str(r.randrange(100, 20000)),
        }

    def rows(self, n: int, *, prefix: str = "PG") -> Iterator[dict[str, str]]:
        for i in range(n):
            yield self.shipment_row(f"{prefix}{i:09d}")


def write_csv(rows, out: io.TextIOBase, *, bom: bool = False) -> None:
    if bom:
        out.write("\ufeff")
    w = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow(row)
