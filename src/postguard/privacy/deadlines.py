"""Legal clocks as pure functions: working days in Viet Nam, request and breach deadlines.

- A data-subject request is acknowledged by the end of the 2nd working day after the day it was
  received, and completed within 15 days of receipt.
- A personal-data breach is notified to the authority within 72 hours of its detection.

Working days are Monday to Friday in Viet Nam time (UTC+7, no daylight saving), except the public
holidays below. The holiday table is data: the fixed-date holidays of the Labour Code (art. 112) for
every year, plus, for 2025–2027, the lunar holidays (Tết, Hùng Kings' day), the second National Day
day and the days off given in lieu when a holiday falls on a weekend. Days swapped only in the civil
service calendar are *not* holidays here. A year missing from the table counts only its fixed-date
holidays, which can only make a deadline earlier, never later.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

VN = timezone(timedelta(hours=7), "ICT")
ACK_WORKING_DAYS = 2
COMPLETE_WITHIN = timedelta(days=15)
BREACH_NOTIFY_WITHIN = timedelta(hours=72)

# (month, day) of every year: New Year, Reunification Day, Labour Day, National Day.
FIXED_HOLIDAYS = ((1, 1), (4, 30), (5, 1), (9, 2))

# The lunar holidays and the other days off of each year, as announced.
YEAR_HOLIDAYS: dict[int, tuple[date, ...]] = {
    2025: (
        date(2025, 1, 27), date(2025, 1, 28), date(2025, 1, 29), date(2025, 1, 30), date(2025, 1, 31),
        date(2025, 2, 1),  # Tết Ất Tỵ
        date(2025, 4, 7),  # Hùng Kings' Commemoration (10th day of the 3rd lunar month)
        date(2025, 9, 1),  # National Day, second day
    ),
    2026: (
        date(2026, 2, 16), date(2026, 2, 17), date(2026, 2, 18), date(2026, 2, 19), date(2026, 2, 20),  # Tết Bính Ngọ
        date(2026, 4, 26), date(2026, 4, 27),  # Hùng Kings' Commemoration (a Sunday) and the day in lieu
        date(2026, 9, 1),  # National Day, second day
        date(2026, 11, 24),  # Viet Nam Culture Day (from 2026)
    ),
    2027: (
        date(2027, 2, 4), date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8),
        date(2027, 2, 9), date(2027, 2, 10),  # Tết Đinh Mùi (two of its days fall on a weekend)
        date(2027, 4, 16),  # Hùng Kings' Commemoration
        date(2027, 5, 3),  # Labour Day (a Saturday): the day in lieu
        date(2027, 9, 3),  # National Day, second day
        date(2027, 11, 24),  # Viet Nam Culture Day
    ),
}
KNOWN_YEARS = frozenset(YEAR_HOLIDAYS)
_HOLIDAYS = frozenset(d for days in YEAR_HOLIDAYS.values() for d in days)


def is_holiday(d: date) -> bool:
    return (d.month, d.day) in FIXED_HOLIDAYS or d in _HOLIDAYS


def is_working_day(d: date) -> bool:
    return d.weekday() < 5 and not is_holiday(d)


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself never counts; ``n`` ≥ 1)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    d = start
    while n:
        d += timedelta(days=1)
        if is_working_day(d):
            n -= 1
    return d


def local_date(at: datetime) -> date:
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    return at.astimezone(VN).date()


def end_of_day(d: date) -> datetime:
    """The last microsecond of ``d`` in Viet Nam, in UTC."""
    return datetime.combine(d, time.max, tzinfo=VN).astimezone(UTC)


def acknowledge_due(received_at: datetime) -> datetime:
    """End of the 2nd working day after the (Viet Nam) day of receipt."""
    return end_of_day(add_working_days(local_date(received_at), ACK_WORKING_DAYS))


def complete_due(received_at: datetime) -> datetime:
    return received_at.astimezone(UTC) + COMPLETE_WITHIN


def breach_notify_due(detected_at: datetime) -> datetime:
    return detected_at.astimezone(UTC) + BREACH_NOTIFY_WITHIN


def clock(due: datetime, done_at: datetime | None, now: datetime) -> str:
    """``done`` (in time), ``late`` (done after the deadline), ``open`` or ``overdue``."""
    if done_at is not None:
        return "done" if done_at <= due else "late"
    return "open" if now <= due else "overdue"


def is_overdue(due: datetime, done_at: datetime | None, now: datetime) -> bool:
    """Past the deadline and not done, or done late (late stays highlighted)."""
    return clock(due, done_at, now) in ("overdue", "late")
