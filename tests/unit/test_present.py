"""How pages show times and grades (``postguard.web.present``): Viet Nam time for any stored time,
relative times in words that never say "0 days ago", and grades in words that agree with the verdict."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.intel.verdicts import VERDICTS
from postguard.i18n import LANGUAGES, texts
from postguard.web.present import VN, days_words, grade_key, relative, risk_key, vn_iso, vn_time

KNOWN_UTC = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)  # 03:30 on 2 March in Viet Nam


@pytest.mark.parametrize("value", [KNOWN_UTC, KNOWN_UTC.replace(tzinfo=None), "2026-03-01T20:30:00+00:00",
                                   "2026-03-01T20:30:00", "2026-03-02T03:30:00+07:00"])
def test_a_stored_time_is_shown_in_viet_nam_time(value):
    assert vn_time(value) == "02/03/2026 03:30"
    assert vn_time(value, "date") == "02/03/2026" and vn_time(value, "short") == "03:30 02/03"
    assert vn_iso(value) == "2026-03-02T03:30+07:00"
    assert vn_time(None) == vn_time("") == vn_iso(None) == ""


moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(moments, moments)
def test_relative_times_count_calendar_days_in_viet_nam_and_never_say_zero_days(at, now):
    for lang in LANGUAGES:
        words = relative(at, texts(lang), now=now)
        days = (now.astimezone(VN).date() - at.astimezone(VN).date()).days
        assert words == days_words(days, texts(lang))
        assert not re.search(r"(^|\D)0 (ngày|days)|cách đây|-", words)
        if days == 0:
            assert words == {"vi": "hôm nay", "en": "today"}[lang]
        elif days == 1:
            assert words == {"vi": "hôm qua", "en": "yesterday"}[lang]
        elif days > 1:
            assert words == {"vi": f"{days} ngày trước", "en": f"{days} days ago"}[lang]


def test_an_evening_in_utc_is_already_the_next_day_in_viet_nam():
    vi = texts("vi")
    assert relative(KNOWN_UTC, vi, now=KNOWN_UTC + timedelta(hours=1)) == "hôm nay"
    # 16:30 UTC is 23:30 on 1 March in Viet Nam: the same UTC day as 20:30, but yesterday at 03:30 on 2 March
    assert relative(KNOWN_UTC - timedelta(hours=4), vi, now=KNOWN_UTC) == "hôm qua"
    assert relative(KNOWN_UTC + timedelta(days=3), vi, now=KNOWN_UTC) == "còn 3 ngày"


@given(st.sampled_from(VERDICTS), st.integers(0, 100))
def test_a_grade_agrees_with_its_verdict(verdict, score):
    key = grade_key(verdict, score)
    if verdict in ("unknown", "official", "delisted", "suspicious", "lookalike"):
        assert key is None  # nothing to grade: no "0/100" beside "official" or "no reports"
        return
    assert key is not None and key.startswith(f"grade_{verdict}") and key in texts("vi") and key in texts("en")
    if verdict == "reported":
        assert (key == "grade_reported_low") == (score < 25)


@given(st.sampled_from(["scam", "suspicious", "legit"]), st.integers(0, 100))
def test_a_message_risk_agrees_with_its_label(label, score):
    key = risk_key(label, score)
    assert key in texts("vi") and key in texts("en")
    assert key in {"scam": ("risk_high", "risk_very_high"), "suspicious": ("risk_medium",), "legit": ("risk_low",)}[label]
