"""Legal clocks: working days in Viet Nam (weekends and public holidays), the 2-working-day
acknowledgement, the 15-day completion and the 72-hour breach notification."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.privacy import deadlines as dl

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))


@given(days, st.integers(1, 30))
def test_result_is_a_working_day_at_least_n_calendar_days_later_with_exactly_n_working_days(start, n):
    end = dl.add_working_days(start, n)
    assert dl.is_working_day(end)
    assert end >= start + timedelta(days=n)
    between = [start + timedelta(days=k) for k in range(1, (end - start).days + 1)]
    assert sum(dl.is_working_day(d) for d in between) == n


@given(days, days, st.integers(1, 10))
def test_adding_working_days_is_monotone(a, b, n):
    a, b = min(a, b), max(a, b)
    assert dl.add_working_days(a, n) <= dl.add_working_days(b, n)


@given(moments, moments)
def test_acknowledgement_is_never_before_two_days_and_monotone(r1, r2):
    r1, r2 = min(r1, r2), max(r1, r2)
    due = dl.acknowledge_due(r1)
    assert due >= r1 + timedelta(days=2)
    assert dl.is_working_day(dl.local_date(due))
    assert due <= dl.acknowledge_due(r2)


@given(moments)
def test_completion_and_breach_clocks(at):
    assert dl.complete_due(at) - at == timedelta(days=15)
    assert dl.breach_notify_due(at) - at == timedelta(hours=72)


@pytest.mark.parametrize(("received", "due"), [
    (date(2026, 11, 20), date(2026, 11, 25)),  # Friday; Viet Nam Culture Day on Tuesday 24th
    (date(2026, 2, 13), date(2026, 2, 24)),  # the Friday before Tết Bính Ngọ
    (date(2025, 4, 3), date(2025, 4, 8)),  # Thursday; Hùng Kings' day on Monday 7th
    (date(2027, 4, 29), date(2027, 5, 5)),  # Reunification Day Friday, Labour Day's day in lieu Monday
    (date(2028, 3, 6), date(2028, 3, 8)),  # a year without a table: weekends and fixed dates still count
])
def test_known_calendars(received, due):
    assert dl.add_working_days(received, 2) == due


def test_the_deadline_is_the_end_of_the_day_in_viet_nam():
    received = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)  # 23:30 on Monday in Hà Nội
    due = dl.acknowledge_due(received)
    assert due == datetime(2026, 11, 26, 16, 59, 59, 999999, tzinfo=UTC)  # Thursday 23:59:59 (Tuesday is a holiday)
    with pytest.raises(ValueError):
        dl.acknowledge_due(datetime(2026, 11, 23, 9, 0))


@given(moments, st.one_of(st.none(), moments), moments)
def test_clock_states(due, done, now):
    c = dl.clock(due, done, now)
    if done is None:
        assert c == ("open" if now <= due else "overdue")
    else:
        assert c == ("done" if done <= due else "late")
    assert dl.is_overdue(due, done, now) == (c in ("overdue", "late"))


def test_every_listed_holiday_is_in_its_year_and_not_a_working_day():
    for year, listed in dl.YEAR_HOLIDAYS.items():
        for d in listed:
            assert d.year == year and not dl.is_working_day(d)
    for month, day in dl.FIXED_HOLIDAYS:
        assert not dl.is_working_day(date(2031, month, day))
    with pytest.raises(ValueError):
        dl.add_working_days(date(2026, 1, 5), 0)
