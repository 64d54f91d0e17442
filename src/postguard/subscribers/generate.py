"""Synthetic subscriber records with planted junk-SIM patterns (no real person, number or card).

``generate(n, seed)`` returns the rows of a carrier's import file and the truth: for each planted
record, the pattern planted (``PATTERNS``) and the reason codes the audit must give it. Every other
record is a plausible SIM: a generated holder whose 12-digit CCCD agrees with their gender and date
of birth, an adult, verified with the national database, one to three SIMs each at one or two shops,
activations spread over a year across many points of sale, and a quiet first day. The audit's recall
and precision are measured against this truth (tests, ``benchmarks/bench_subscribers.py``,
``postguard subscribers audit --truth``).
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from postguard.subscribers import identity as idn
from postguard.subscribers.validation import COLUMNS, OPTIONAL
from postguard.synthetic import FAMILY, GIVEN, MOBILE_PREFIXES

MALE_MIDDLE = ("Văn", "Hữu", "Đức", "Minh", "Quang", "Gia", "Bảo")
FEMALE_MIDDLE = ("Thị", "Ngọc", "Thu", "Thanh", "Xuân", "Hoài")
START = datetime(2025, 7, 1, tzinfo=timezone(timedelta(hours=7)))
SPAN_SECONDS = 365 * 86400
# pattern -> the reason codes that find it (any one is enough)
PATTERNS: dict[str, frozenset[str]] = {
    "cccd_mismatch": frozenset({"cccd_gender", "cccd_birth_year", "cccd_province"}),
    "impossible_dob": frozenset({"dob_invalid"}),
    "under_age": frozenset({"under_age"}),
    "placeholder": frozenset({"placeholder_name", "incomplete"}),
    "repeated_dob": frozenset({"dob_repeated"}),
    "shared_id": frozenset({"id_many_holders"}),
    "over_limit": frozenset({"id_over_limit"}),
    "pos_burst": frozenset({"pos_burst"}),
    "iccid_run": frozenset({"iccid_run"}),
    "cross_dealer": frozenset({"id_cross_dealer"}),
    "junk_traffic": frozenset({"junk_traffic"}),
    "not_verified": frozenset({"not_verified"}),
}
OUT_COLUMNS = (*COLUMNS, *OPTIONAL[:4])


@dataclass
class Generated:
    rows: list[dict[str, str]]
    truth: dict[str, str] = field(default_factory=dict)  # iccid -> pattern planted

    def csv_text(self) -> str:
        out = io.StringIO()
        write_csv(self.rows, out)
        return out.getvalue()


def write_csv(rows: Iterable[dict[str, str]], out: io.TextIOBase) -> None:
    w = csv.DictWriter(out, fieldnames=OUT_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)


def luhn_digit(body: str) -> str:
    """The Luhn check digit ICCIDs end with."""
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str(-total % 10)


class _Maker:
    def __init__(self, n: int, seed: int) -> None:
        self.r = random.Random(seed)  # noqa: S311  reproducible fake data, not secrets
        self.phones: set[str] = set()
        self.iccids: set[str] = set()
        self.ids: set[str] = set()
        self.provinces = sorted(idn.PROVINCES)
        self.shops = [f"DL{self.r.randrange(10**5):05d}-{i}" for i in range(max(20, n // 500))]
        self.next_box = 10**12

    def phone(self) -> str:
        while True:
            nsn = self.r.choice(MOBILE_PREFIXES) + f"{self.r.randrange(10**7):07d}"
            if nsn not in self.phones:
                self.phones.add(nsn)
                return "0" + nsn

    def iccid(self, body: int | None = None) -> str:
        while True:
            b = "8984" + f"{(body if body is not None else self.r.randrange(10**14)):014d}"
            full = b + luhn_digit(b)
            if full not in self.iccids:
                self.iccids.add(full)
                return full
            if body is not None:
                raise ValueError("ICCID taken")

    def box(self, size: int) -> list[str]:
        """``size`` consecutive ICCIDs, from a range no random ICCID is drawn from."""
        start = 10**13 * 9 + self.next_box
        self.next_box += size + 10
        return [self.iccid(start + k) for k in range(size)]

    def person(self, *, adult: bool = True) -> dict[str, str]:
        r = self.r
        gender = r.choice("MF")
        if adult:
            birth = date(1950, 1, 1) + timedelta(days=r.randrange(365 * 56))
        else:
            birth = date(2014, 1, 1) + timedelta(days=r.randrange(365 * 3))
        middle = r.choice(MALE_MIDDLE if gender == "M" else FEMALE_MIDDLE)
        name = f"{r.choice(FAMILY)} {middle} {r.choice(GIVEN)}"
        return {"id_type": "cccd", "id_number": self.cccd(gender, birth), "full_name": name,
                "date_of_birth": birth.strftime("%d/%m/%Y"), "gender": gender}

    def cccd(self, gender: str, birth: date, *, province: str | None = None) -> str:
        while True:
            number = (f"{province or self.r.choice(self.provinces)}{idn.cccd_digit(birth.year, gender)}"
                      f"{birth.year % 100:02d}{self.r.randrange(10**6):06d}")
            if number not in self.ids:
                self.ids.add(number)
                return number

    def when(self) -> datetime:
        return START + timedelta(seconds=self.r.randrange(SPAN_SECONDS))

    def row(self, holder: dict[str, str], *, at: datetime | None = None, shop: str | None = None,
            iccid: str | None = None, verified: str = "yes", quiet: bool = True) -> dict[str, str]:
        r = self.r
        at = at or self.when()
        first = at + timedelta(minutes=r.randrange(5, 600))
        calls, callees, sms = (r.randrange(0, 25), r.randrange(0, 15), r.randrange(0, 20)) if quiet else (
            r.randrange(150, 600), r.randrange(80, 400), r.randrange(0, 800))
        return {"msisdn": self.phone(), **holder, "activated_at": at.isoformat(timespec="seconds"),
                "point_of_sale": shop or r.choice(self.shops), "iccid": iccid or self.iccid(),
                "verified_with_national_db": verified, "calls_out_24h": str(calls),
                "distinct_callees_24h": str(min(callees, calls)), "sms_out_24h": str(sms),
                "first_activity_at": first.isoformat(timespec="seconds")}


def generate(n: int, *, seed: int = 29, planted: float = 0.08) -> Generated:
    """``n`` records, about ``planted`` of them junk SIMs spread over ``PATTERNS``; shuffled."""
    m = _Maker(n, seed)
    r = m.r
    out = Generated(rows=[])

    def plant(pattern: str, row: dict[str, str]) -> None:
        out.rows.append(row)
        out.truth[row["iccid"]] = pattern

    budget = max(len(PATTERNS) * 12, int(n * planted))
    each = budget // len(PATTERNS)
    for _ in range(each):  # a CCCD that contradicts the holder's gender or birth year, or no province
        p = m.person()
        number = p["id_number"]
        kind = r.randrange(3)
        if kind == 0:
            number = number[:3] + str(int(number[3]) ^ 1) + number[4:]
        elif kind == 1:
            number = number[:4] + f"{(int(number[4:6]) + r.randrange(1, 9)) % 100:02d}" + number[6:]
        else:
            number = r.choice(("003", "099", "050", "100")) + number[3:]
        plant("cccd_mismatch", m.row({**p, "id_number": number}))
    for _ in range(each):
        p = m.person()
        p["date_of_birth"] = r.choice(("31/02/1991", "30/02/1985", "00/13/1979", "32/01/2000", "15/08/2031",
                                        "29/02/1999", "01/01/1850"))
        plant("impossible_dob", m.row(p))
    for _ in range(each):
        plant("under_age", m.row(m.person(adult=False)))
    for _ in range(each):
        p = m.person()
        if r.random() < 0.5:
            p["full_name"] = r.choice(("Nguyễn Văn A", "Trần Thị B", "Khách hàng", "Lê Văn C", "Chưa có tên"))
        else:
            p[r.choice(("full_name", "date_of_birth", "gender", "id_number"))] = ""
        plant("placeholder", m.row(p))
    for _ in range(max(each, 12)):  # the same 01/01/1990 typed for many people
        gender = r.choice("MF")
        p = m.person()
        p.update(gender=gender, date_of_birth="01/01/1990", id_number=m.cccd(gender, date(1990, 1, 1)))
        plant("repeated_dob", m.row(p))
    left = each
    while left > 0:  # one ID number registered under several names or dates of birth
        p = m.person()
        plant("shared_id", m.row(p))
        left -= 1
        for _ in range(min(left, r.randrange(1, 4))):
            if r.random() < 0.5:
                other = {**p, "full_name": m.person()["full_name"]}
            else:  # another day of the same year: the CCCD still agrees
                new_year = datetime.strptime(p["date_of_birth"], "%d/%m/%Y").date().replace(month=1, day=1)
                other = {**p, "date_of_birth": (new_year + timedelta(days=r.randrange(364))).strftime("%d/%m/%Y")}
                if other["date_of_birth"] == p["date_of_birth"]:
                    other["full_name"] = m.person()["full_name"]
            plant("shared_id", m.row(other))
            left -= 1
    left = each
    while left > 0:  # one person with more SIMs than the law allows, over months at two shops
        p, shops = m.person(), r.sample(m.shops, 2)
        for _ in range(r.randrange(12, 16)):
            plant("over_limit", m.row(p, shop=r.choice(shops)))
            left -= 1
    left = each
    while left > 0:  # a burst: many activations at one shop within minutes
        shop, at = r.choice(m.shops), m.when()
        for _ in range(r.randrange(12, 25)):
            plant("pos_burst", m.row(m.person(), shop=shop, at=at + timedelta(seconds=r.randrange(600))))
            left -= 1
    left = each
    while left > 0:  # a box of consecutive SIMs activated within the hour on different people
        size, at = r.randrange(6, 9), m.when()
        shop = r.choice(m.shops)
        for k, iccid in enumerate(m.box(size)):
            plant("iccid_run", m.row(m.person(), shop=shop, iccid=iccid, at=at + timedelta(minutes=7 * k)))
            left -= 1
    left = each
    while left > 0:  # one identity used at several dealers
        p = m.person()
        for shop in r.sample(m.shops, r.randrange(3, 6)):
            plant("cross_dealer", m.row(p, shop=shop))
            left -= 1
    for _ in range(each):
        plant("junk_traffic", m.row(m.person(), quiet=False))
    for _ in range(each):
        plant("not_verified", m.row(m.person(), verified="no"))

    while len(out.rows) < n:  # ordinary subscribers: one to three SIMs each, at one or two shops
        p = m.person()
        shops = r.sample(m.shops, 2)
        for _ in range(1 if r.random() < 0.85 else r.randrange(2, 4)):
            if len(out.rows) < n:
                out.rows.append(m.row(p, shop=shops[0] if r.random() < 0.8 else shops[1]))
    r.shuffle(out.rows)
    if len(out.rows) > n:  # a tiny n: the minimum of each pattern is more than n
        kept = out.rows[:n]
        out.truth = {x["iccid"]: out.truth[x["iccid"]] for x in kept if x["iccid"] in out.truth}
        out.rows = kept
    return out
