"""The junk-SIM checks (pure, vectorised over a whole carrier's records at once).

Input is a ``Batch`` of columns (numpy arrays, one entry per SIM) holding nothing personal on its
own: findings decided at import (``identity.F_*``), the age at activation, keyed digests that say
whether two SIMs share an identity, a holder or a date of birth, the shop, the activation time, the
ICCID and the first day's traffic. ``run`` answers one bit mask of ``REASONS`` per SIM. Each reason
has a code, a priority (the queue's order) and a text a clerk can act on, in Vietnamese and English.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from postguard.subscribers import identity as idn


@dataclass(frozen=True)
class Reason:
    code: str
    priority: int
    vi: str
    en: str


REASONS: tuple[Reason, ...] = (
    Reason("scam_confirmed", 100, "Số thuê bao đã được xác nhận lừa đảo trong cơ sở dữ liệu lừa đảo: tạm khóa và "
           "xác minh lại chủ thuê bao.", "The number is confirmed as a scam in the scam database: suspend it and "
           "re-verify the holder."),
    Reason("scam_reported", 90, "Số thuê bao bị báo cáo lừa đảo: liên hệ chủ thuê bao và xác minh lại ngay.",
           "The number was reported as a scam: contact the holder and re-verify now."),
    Reason("junk_traffic", 80, "SIM mới, ngày đầu gọi hoặc nhắn tin hàng loạt tới nhiều số khác nhau: dấu hiệu "
           "SIM rác.", "A new SIM whose first day is mass calls or messages to many different numbers: a junk "
           "SIM's sign."),
    Reason("pos_burst", 70, "Nhiều SIM được kích hoạt tại cùng điểm bán trong vài phút: kiểm tra điểm bán và "
           "giấy tờ từng thuê bao.", "Many SIMs activated at one point of sale within minutes: check the shop and "
           "each holder's papers."),
    Reason("iccid_run", 70, "Dãy ICCID liên tiếp được kích hoạt trong vòng một giờ cho nhiều giấy tờ khác nhau.",
           "Consecutive ICCIDs activated within the hour on different identity papers."),
    Reason("id_many_holders", 65, "Cùng một số giấy tờ được đăng ký với họ tên hoặc ngày sinh khác nhau.",
           "One ID number registered with different names or dates of birth."),
    Reason("id_over_limit", 60, "Một cá nhân đứng tên quá số thuê bao di động cho phép.",
           "One person holds more mobile subscriptions than allowed."),
    Reason("id_cross_dealer", 60, "Cùng giấy tờ được dùng để kích hoạt SIM tại nhiều đại lý khác nhau.",
           "The same identity was used to activate SIMs at several dealers."),
    Reason("cccd_province", 55, "Ba chữ số đầu của số CCCD không phải mã tỉnh, thành phố nào.",
           "The first three digits of the citizen ID number are no province code."),
    Reason("cccd_gender", 55, "Chữ số thứ tư của số CCCD (thế kỷ và giới tính) không khớp giới tính đã khai.",
           "The citizen ID's 4th digit (century and gender) disagrees with the recorded gender."),
    Reason("cccd_birth_year", 55, "Năm sinh mã hóa trong số CCCD không khớp ngày sinh đã khai.",
           "The birth year coded in the citizen ID disagrees with the recorded date of birth."),
    Reason("id_format", 50, "Số giấy tờ không đúng định dạng (CCCD 12 số, CMND 9 số, hộ chiếu).",
           "The ID number does not have its document's form (CCCD 12 digits, CMND 9, passport)."),
    Reason("dob_invalid", 50, "Ngày sinh không hợp lệ (không có ngày này, ở tương lai hoặc trước năm 1900).",
           "The date of birth is impossible (no such day, in the future or before 1900)."),
    Reason("not_verified", 50, "Thông tin không khớp Cơ sở dữ liệu quốc gia về dân cư.",
           "The identity did not match the national population database."),
    Reason("under_age", 45, "Chủ thuê bao chưa đủ tuổi đăng ký mà không có người giám hộ đứng tên.",
           "The holder is under the registration age and no guardian is recorded."),
    Reason("dob_repeated", 40, "Ngày sinh trùng lặp bất thường với rất nhiều thuê bao khác (ngày sinh điền sẵn).",
           "The date of birth recurs across unusually many subscribers (a filled-in placeholder)."),
    Reason("placeholder_name", 40, "Họ tên là tên giả hoặc điền sẵn (ví dụ \"Nguyễn Văn A\").",
           "The name is a placeholder (such as \"Nguyen Van A\")."),
    Reason("incomplete", 35, "Thiếu thông tin bắt buộc (giấy tờ, họ tên, ngày sinh, giới tính hoặc điểm bán).",
           "Required information is missing (ID, name, date of birth, gender or point of sale)."),
    Reason("cmnd_expired", 30, "Kích hoạt bằng CMND 9 số sau ngày 31/12/2024, khi CMND đã hết giá trị.",
           "Activated with a 9-digit CMND after 31/12/2024, when CMND cards stopped being valid."),
    Reason("not_checked", 20, "Chưa đối chiếu với Cơ sở dữ liệu quốc gia về dân cư.",
           "Not checked against the national population database."),
)
BIT = {r.code: 1 << i for i, r in enumerate(REASONS)}
BY_CODE = {r.code: r for r in REASONS}
# import findings -> reasons
LOCAL = {idn.F_ID_FORMAT: "id_format", idn.F_PROVINCE: "cccd_province", idn.F_GENDER: "cccd_gender",
         idn.F_BIRTH_YEAR: "cccd_birth_year", idn.F_DOB_INVALID: "dob_invalid", idn.F_INCOMPLETE: "incomplete",
         idn.F_PLACEHOLDER_NAME: "placeholder_name", idn.F_CMND_EXPIRED: "cmnd_expired",
         idn.F_NOT_VERIFIED: "not_verified", idn.F_NOT_CHECKED: "not_checked"}
# every combination of import findings -> its reason bits, so that a whole batch maps in one lookup
_LOCAL_TABLE = np.array([sum(BIT[code] for flag, code in LOCAL.items() if combo & flag)
                         for combo in range(2 * max(LOCAL))], dtype=np.int64)


@dataclass(frozen=True)
class Thresholds:
    """What counts as suspicious; every value is a setting (``POSTGUARD_SUBSCRIBER_*``, docs/configuration.md)."""

    min_age: int = 14  # under this age a subscription is registered by a parent or guardian
    max_per_id: int = 10  # mobile subscriptions per individual (Decree 163/2024/ND-CP)
    burst_count: int = 10  # activations at one shop …
    burst_seconds: int = 600  # … within this many seconds
    run_length: int = 5  # consecutive ICCIDs on as many identities …
    run_seconds: int = 3600  # … activated within this many seconds
    dealers_per_id: int = 3  # one identity at this many shops
    junk_calls: int = 100  # first-day outbound calls …
    junk_callees: int = 50  # … to at least this many numbers
    junk_sms: int = 200  # or first-day outbound messages
    new_sim_seconds: int = 72 * 3600  # first activity this soon after activation: a new SIM
    dob_floor: int = 8  # a date of birth of at least this many people …
    dob_factor: float = 4.0  # … and this many times the average per date is a placeholder


@dataclass
class Batch:
    """One carrier's SIMs as columns (``NONE`` = -1 where a value is absent)."""

    flags: np.ndarray  # int64, identity.F_* bits
    age: np.ndarray  # int64, years at activation
    guardian: np.ndarray  # bool
    id_link: np.ndarray  # int64 keyed digests (NONE: no identity)
    holder_link: np.ndarray  # int64
    dob_link: np.ndarray  # int64
    shop: np.ndarray  # int64 shop number (NONE: no shop)
    activated: np.ndarray  # int64 seconds
    iccid: np.ndarray  # int64, the ICCID without its check digit (last 18 digits)
    calls: np.ndarray  # int64
    callees: np.ndarray  # int64
    sms: np.ndarray  # int64
    first_activity: np.ndarray  # int64 seconds

    def __len__(self) -> int:
        return len(self.flags)


NONE = -1


class _Groups:
    """Entries grouped by a key (one sort), to count per group what its entries hold."""

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = keys
        _, self.inverse, self.sizes = np.unique(keys, return_inverse=True, return_counts=True)

    def distinct(self, value: np.ndarray) -> np.ndarray:
        """Per group, how many distinct ``value``s its entries hold. Pairs are folded into one 64-bit
        key (wrapping multiplication: two of a carrier's pairs collide as rarely as two random 64-bit
        numbers), so that it costs one more sort of plain integers, not a sort of rows."""
        with np.errstate(over="ignore"):
            pair = self.keys * np.int64(0x9E3779B97F4A7C15 - 2**64) + value
        _, first = np.unique(pair, return_index=True)
        return np.bincount(self.inverse[first], minlength=len(self.sizes))


def _windows(order: np.ndarray, keys: np.ndarray, times: np.ndarray, *, count: int, seconds: int) -> np.ndarray:
    """Entries in some window of ``seconds`` holding at least ``count`` entries of one key."""
    k, t = keys[order], times[order]
    composite = (k << 34) + (t - t.min())  # keys apart by far more than any span of time (2^34 s)
    ends = np.searchsorted(composite, composite + seconds, side="right")
    starts = np.flatnonzero(ends - np.arange(len(order)) >= count)
    mark = np.bincount(starts, minlength=len(order) + 1) - np.bincount(ends[starts], minlength=len(order) + 1)
    hit = np.zeros(len(order), dtype=bool)
    hit[order] = np.cumsum(mark[:-1]) > 0
    return hit


def run(b: Batch, t: Thresholds = Thresholds(), *, scam: dict[int, str] | None = None) -> np.ndarray:
    """The reason bit mask of each SIM (``BIT``); ``scam``: entry -> the scam database's verdict
    (``confirmed`` or ``reported``) on its number."""
    n = len(b)
    out = np.zeros(n, dtype=np.int64)
    if n == 0:
        return out
    out |= _LOCAL_TABLE[b.flags & (len(_LOCAL_TABLE) - 1)]
    out[(b.age >= 0) & (b.age < t.min_age) & ~b.guardian] |= BIT["under_age"]

    has_id = np.flatnonzero(b.id_link != NONE)
    if len(has_id):
        ids = _Groups(b.id_link[has_id])
        out[has_id[ids.sizes[ids.inverse] > t.max_per_id]] |= BIT["id_over_limit"]
        out[has_id[ids.distinct(b.holder_link[has_id])[ids.inverse] > 1]] |= BIT["id_many_holders"]
        out[has_id[ids.distinct(b.shop[has_id])[ids.inverse] >= t.dealers_per_id]] |= BIT["id_cross_dealer"]

    has_dob = np.flatnonzero(b.dob_link != NONE)
    if len(has_dob):
        # people (holders), not SIMs: one person's many SIMs share their date of birth rightly
        dates = _Groups(b.dob_link[has_dob])
        people = dates.distinct(b.holder_link[has_dob])
        limit = max(t.dob_floor, t.dob_factor * people.sum() / len(people))
        out[has_dob[people[dates.inverse] >= limit]] |= BIT["dob_repeated"]

    has_shop = np.flatnonzero(b.shop != NONE)
    if len(has_shop):
        order = has_shop[np.lexsort((b.activated[has_shop], b.shop[has_shop]))]
        out[_windows(order, b.shop, b.activated, count=t.burst_count, seconds=t.burst_seconds)] |= BIT["pos_burst"]

    out[_iccid_runs(b, t)] |= BIT["iccid_run"]

    new = (b.first_activity == NONE) | (b.first_activity - b.activated <= t.new_sim_seconds)
    junk = ((b.calls >= t.junk_calls) & (b.callees >= t.junk_callees)) | (b.sms >= t.junk_sms)
    out[new & junk] |= BIT["junk_traffic"]

    for i, verdict in (scam or {}).items():
        out[i] |= BIT["scam_confirmed" if verdict == "confirmed" else "scam_reported"]
    return out


def _iccid_runs(b: Batch, t: Thresholds) -> np.ndarray:
    """SIMs in a run of at least ``run_length`` consecutive ICCIDs, activated within ``run_seconds``
    of each other, on at least as many different identities."""
    n = len(b)
    hit = np.zeros(n, dtype=bool)
    if n < t.run_length:
        return hit
    order = np.argsort(b.iccid, kind="stable")
    s = b.iccid[order]
    breaks = np.flatnonzero(np.diff(s) != 1) + 1
    starts = np.concatenate(([0], breaks))
    lengths = np.diff(np.concatenate((starts, [n])))
    long = lengths >= t.run_length
    for start, length in zip(starts[long], lengths[long], strict=True):
        members = order[start : start + length]
        times = b.activated[members]
        identities = b.id_link[members]
        if times.max() - times.min() <= t.run_seconds and len(set(identities[identities != NONE].tolist())) \
                >= t.run_length:
            hit[members] = True
    return hit


def codes(mask: int) -> list[str]:
    """The reason codes of a mask, most urgent first."""
    return [r.code for r in REASONS if mask & BIT[r.code]]


def priority(mask: int) -> int:
    return max((BY_CODE[c].priority for c in codes(mask)), default=0)


def counts_by_reason(masks: np.ndarray) -> dict[str, int]:
    return {r.code: int(np.count_nonzero(masks & BIT[r.code])) for r in REASONS}


def measure(flagged: Sequence[str], truth: dict[str, str], reasons: dict[str, list[str]]) -> dict:
    """Recall and precision of an audit against planted patterns: ``flagged`` the ICCIDs flagged,
    ``truth`` ICCID -> pattern planted, ``reasons`` ICCID -> its reason codes. A planted SIM counts
    as found only when one of its pattern's reasons is given (``generate.PATTERNS``)."""
    from postguard.subscribers.generate import PATTERNS

    flagged_set = set(flagged)
    found = {i for i, p in truth.items() if PATTERNS[p] & set(reasons.get(i, ()))}
    per = {}
    for p in PATTERNS:
        mine = [i for i, q in truth.items() if q == p]
        per[p] = round(sum(1 for i in mine if i in found) / len(mine), 4) if mine else None
    true_flags = len(flagged_set & set(truth))
    return {"planted": len(truth), "flagged": len(flagged_set), "found": len(found),
            "recall": round(len(found) / len(truth), 4) if truth else None,
            "precision": round(true_flags / len(flagged_set), 4) if flagged_set else None,
            "recall_by_pattern": per}
