"""How pages show times and grades: one place, used by every template as Jinja filters and globals.

Times are stored in UTC; every page shows them in Viet Nam time (Asia/Ho_Chi_Minh, UTC+7 all year),
with a relative time in words that counts calendar days in Viet Nam ("hôm nay", "hôm qua",
"3 ngày trước"; "today", "yesterday", "3 days ago"), never "0 days ago". Grades are shown in words
that agree with the verdict they go with, never as a bare "5/100" beside "reported as a scam".
Pure functions: the Jinja wiring is in ``postguard.web.routes``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from postguard.i18n import N_, Texts

VN = timezone(timedelta(hours=7), "ICT")  # Asia/Ho_Chi_Minh: no daylight saving time since 1975

FORMATS = {
    "datetime": "%d/%m/%Y %H:%M",  # 02/03/2026 03:30
    "date": "%d/%m/%Y",
    "short": "%H:%M %d/%m",  # a delivery window's ends
    "time": "%H:%M",
}


def as_utc(value: datetime | str) -> datetime:
    """A stored time (a datetime, or its ISO text) as an aware datetime; a time without an offset is UTC
    (what the database keeps)."""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def vn_time(value: datetime | str | None, style: str = "datetime") -> str:
    """``value`` in Viet Nam time, in one of ``FORMATS``; empty for no value."""
    if value is None or value == "":
        return ""
    return as_utc(value).astimezone(VN).strftime(FORMATS[style])


def vn_iso(value: datetime | str | None) -> str:
    """``value`` as ISO 8601 with Viet Nam's offset (for ``<time datetime>``)."""
    if value is None or value == "":
        return ""
    return as_utc(value).astimezone(VN).isoformat(timespec="minutes")


def vn_day(value: datetime | str) -> date:
    return as_utc(value).astimezone(VN).date()


def days_words(days: int, _: Texts) -> str:
    """Whole days before (positive) or after (negative) today, in words: today, yesterday, tomorrow,
    ``n`` days ago, in ``n`` days."""
    if days == 0:
        return _("rel_today")
    if days == 1:
        return _("rel_yesterday")
    if days == -1:
        return _("rel_tomorrow")
    if days > 1:
        return _("rel_days_ago").format(n=days)
    return _("rel_in_days").format(n=-days)


def relative(value: datetime | str, texts: Texts, *, now: datetime | None = None) -> str:
    """How long ago (or ahead) ``value`` is, counted in Viet Nam calendar days."""
    today = (now or datetime.now(UTC)).astimezone(VN).date()
    return days_words((today - vn_day(value)).days, texts)


# -- grades in words -------------------------------------------------------------------------------
REPORTED_HIGH = 25  # a ``reported`` verdict at or above this score has many reports behind it
GRADES = {"corroborated": N_("grade_corroborated"), "confirmed": N_("grade_confirmed"),
          "disputed": N_("grade_disputed")}


def grade_key(verdict: str, score: int | float) -> str | None:
    """The text key of a scam lookup's grade, in words that agree with its ``verdict`` (None: no grade
    to show, as for ``unknown``, ``official`` or ``delisted``)."""
    if verdict == "reported":
        return N_("grade_reported_high") if score >= REPORTED_HIGH else N_("grade_reported_low")
    return GRADES.get(verdict)


def risk_key(label: str, score: int | float) -> str:
    """The text key of a whole message's risk, in words that agree with its ``label`` (``scam`` from 60,
    ``suspicious`` from 50, ``legit`` below)."""
    if label == "scam":
        return N_("risk_very_high") if score >= 85 else N_("risk_high")
    return N_("risk_medium") if label == "suspicious" else N_("risk_low")


# -- who acted, in words ----------------------------------------------------------------------------
ACTORS = {"staff": N_("actor_staff"), "apikey": N_("actor_apikey"), "subject": N_("actor_subject"),
          "citizen": N_("actor_citizen"), "cli": N_("actor_cli"), "postguard": N_("actor_postguard")}


def actor_words(actor: str | None, _: Texts) -> str:
    """An access-log actor (``staff:8``, ``apikey:ab12``, ``subject:…``, ``cli``) in words, never as its
    raw identifier alone: ``nhân viên #8``."""
    if not actor:
        return ""
    kind, _sep, ident = actor.partition(":")
    return _(ACTORS[kind]).format(id=ident) if kind in ACTORS else actor
