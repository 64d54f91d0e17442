"""The junk-SIM rules, pure: what an ID number's structure says (hypothesis properties over every
province, century, gender and day), what a record's import finds, and each batch check on generated
cases, with the generator's planted patterns found by the whole pipeline."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.subscribers import checks
from postguard.subscribers import identity as idn
from postguard.subscribers.generate import PATTERNS, generate
from postguard.subscribers.validation import validate

provinces = st.sampled_from(sorted(idn.PROVINCES))
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2399, 12, 31))
genders = st.sampled_from("MF")
serials = st.integers(0, 999_999)


def cccd(province: str, gender: str, birth: date, serial: int) -> str:
    return f"{province}{idn.cccd_digit(birth.year, gender)}{birth.year % 100:02d}{serial:06d}"


@given(provinces, genders, births, serials)
def test_a_cccd_built_by_the_rule_agrees_with_its_holder(province, gender, birth, serial):
    number = cccd(province, gender, birth, serial)
    assert len(number) == 12 and idn.id_form_ok("cccd", number)
    assert idn.cccd_findings(number, gender=gender, birth=birth) == 0
    start, coded = idn.cccd_century_gender(int(number[3]))
    assert coded == gender and start <= birth.year < start + 100


@given(provinces, genders, births, serials)
def test_the_other_gender_or_another_birth_year_is_caught(province, gender, birth, serial):
    number = cccd(province, gender, birth, serial)
    other = "F" if gender == "M" else "M"
    assert idn.cccd_findings(number, gender=other, birth=birth) == idn.F_GENDER
    later = birth.replace(year=birth.year + 1) if birth.year < 2399 and not (birth.month == 2 and birth.day == 29) \
        else birth.replace(year=birth.year - 1, day=min(birth.day, 28))
    assert idn.cccd_findings(number, gender=gender, birth=later) == idn.F_BIRTH_YEAR
    # the same two digits a century apart: the century digit tells them apart
    if 2000 <= birth.year < 2100:
        assert idn.cccd_findings(number, gender=gender, birth=birth.replace(year=birth.year - 100,
                                                                           day=min(birth.day, 28))) == idn.F_BIRTH_YEAR


@given(st.integers(0, 999).map(lambda n: f"{n:03d}").filter(lambda c: c not in idn.PROVINCES), genders, births,
       serials)
def test_a_number_of_no_province_is_caught(code, gender, birth, serial):
    number = cccd(code, gender, birth, serial)
    assert idn.cccd_findings(number, gender=gender, birth=birth) == idn.F_PROVINCE


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_a_date_of_birth_reads_back_however_it_is_written(day):
    for text in (day.isoformat(), day.strftime("%d/%m/%Y"), day.strftime("%d-%m-%Y"), day.strftime("%d.%m.%Y"),
                 f"{day.day}/{day.month}/{day.year}"):
        assert idn.parse_birth(text) == day


@given(st.integers(1900, 2100), st.integers(1, 12), st.integers(29, 40))
def test_a_day_that_does_not_exist_is_no_date(year, month, day):
    try:
        real = date(year, month, day)
    except ValueError:
        real = None
    assert idn.parse_birth(f"{day:02d}/{month:02d}/{year}") == real


def test_forms_of_legacy_cards_and_passports():
    assert idn.id_form_ok("cmnd", "012345678") and not idn.id_form_ok("cmnd", "0123456789")
    assert idn.id_form_ok("passport", "C1234567") and not idn.id_form_ok("passport", "ABCDEFGH")
    assert not idn.id_form_ok("cccd", "07909001234") and not idn.id_form_ok("cccd", "07909001234X")
    assert idn.normalize_id("cccd", "079 090 001 234") == "079090001234"


@pytest.mark.parametrize("name", ["Nguyễn Văn A", "NGUYEN VAN A", "Trần Thị B", "Khách hàng", "khach le", "A B C"])
def test_placeholder_names(name):
    assert idn.placeholder_name(name)


@pytest.mark.parametrize("name", ["Nguyễn Văn An", "Trần Thị Bích", "Lê A Lử", "Phạm Khách"])
def test_real_names_are_not_placeholders(name):
    assert not idn.placeholder_name(name)


def _row(**over) -> dict:
    base = {"msisdn": "0912345678", "id_type": "cccd", "id_number": "079090001234", "full_name": "Nguyễn Văn An",
            "date_of_birth": "15/06/1990", "gender": "M", "activated_at": "2026-03-01T09:30:00+07:00",
            "point_of_sale": "DL001", "iccid": "8984011234567890123", "verified_with_national_db": "yes"}
    return {**base, **over}


@pytest.mark.parametrize(("over", "flag"), [
    ({}, 0),
    ({"gender": "F"}, idn.F_GENDER),
    ({"date_of_birth": "15/06/1991"}, idn.F_BIRTH_YEAR),
    ({"id_number": "003090001234"}, idn.F_PROVINCE),
    ({"id_number": "07909000123"}, idn.F_ID_FORMAT),
    ({"date_of_birth": "31/02/1990"}, idn.F_DOB_INVALID),
    ({"date_of_birth": "01/01/2030"}, idn.F_DOB_INVALID),
    ({"full_name": ""}, idn.F_INCOMPLETE),
    ({"full_name": "Nguyễn Văn A"}, idn.F_PLACEHOLDER_NAME),
    ({"id_type": "cmnd", "id_number": "012345678"}, idn.F_CMND_EXPIRED),
    ({"verified_with_national_db": "no"}, idn.F_NOT_VERIFIED),
    ({"verified_with_national_db": ""}, idn.F_NOT_CHECKED),
])
def test_what_an_import_finds_in_one_record(over, flag):
    item, errors = validate(_row(**over), row=2)
    assert errors == [] and item is not None
    assert item.flags == flag


@pytest.mark.parametrize(("over", "field", "code"), [
    ({"msisdn": "12"}, "msisdn", "invalid_phone"),
    ({"iccid": "1234"}, "iccid", "invalid"),
    ({"activated_at": "hôm qua"}, "activated_at", "invalid"),
    ({"id_type": "bang_lai"}, "id_type", "invalid"),
    ({"gender": "x"}, "gender", "invalid"),
    ({"full_name": "Nguyễn\u202eVăn"}, "full_name", "encoding"),
    ({"calls_out_24h": "-3"}, "calls_out_24h", "invalid_number"),
])
def test_what_cannot_be_stored_is_refused_by_line_and_field(over, field, code):
    item, errors = validate(_row(**over), row=7)
    assert item is None and [(e.field, e.row, e.code) for e in errors] == [(field, 7, code)]
    assert all("0912345678" not in e.message for e in errors)


def test_the_age_at_activation():
    item, _ = validate(_row(date_of_birth="02/03/2012", id_number="079212001234"))
    assert item is not None and item.age_years == 13 and item.flags == 0


# -- batch checks ------------------------------------------------------------------------------------
def batch(n: int, **cols) -> checks.Batch:
    """``n`` quiet, unrelated SIMs a day apart at distinct shops; ``cols`` overrides columns."""
    base = dict(flags=np.zeros(n, np.int64), age=np.full(n, 30, np.int64), guardian=np.zeros(n, bool),
                id_link=np.arange(1, n + 1, dtype=np.int64) * 7919, holder_link=np.arange(n, dtype=np.int64) + 10**6,
                dob_link=np.arange(n, dtype=np.int64) + 10**7, shop=np.arange(n, dtype=np.int64),
                activated=np.arange(n, dtype=np.int64) * 86400 + 1_750_000_000,
                iccid=np.arange(n, dtype=np.int64) * 1000 + 10**15, calls=np.full(n, 3, np.int64),
                callees=np.full(n, 2, np.int64), sms=np.full(n, 1, np.int64), first_activity=np.full(n, -1, np.int64))
    base.update({k: np.asarray(v, dtype=base[k].dtype) for k, v in cols.items()})
    return checks.Batch(**base)


def flagged(b: checks.Batch, code: str, **kw) -> list[int]:
    return np.flatnonzero(checks.run(b, **kw) & checks.BIT[code]).tolist()


def test_quiet_unrelated_sims_raise_nothing():
    assert not checks.run(batch(500)).any()


@given(st.integers(0, 18), st.booleans())
def test_under_age_needs_a_guardian(age, guardian):
    b = batch(3, age=[age, 40, -1], guardian=[guardian, False, False])
    assert flagged(b, "under_age") == ([0] if age < 14 and not guardian else [])


def test_over_the_legal_number_of_subscriptions_per_id():
    ids = [5] * 11 + [6] * 10 + list(range(100, 120))
    b = batch(len(ids), id_link=ids, holder_link=[1] * 21 + list(range(20)), shop=[0] * len(ids))
    assert flagged(b, "id_over_limit") == list(range(11))
    assert flagged(b, "id_over_limit", t=checks.Thresholds(max_per_id=9)) == list(range(21))


def test_one_id_with_several_holders_and_at_several_dealers():
    b = batch(8, id_link=[1, 1, 2, 2, 3, 3, 3, 4], holder_link=[1, 2, 3, 3, 4, 4, 4, 5], shop=[0, 0, 1, 1, 2, 3, 4, 5])
    assert flagged(b, "id_many_holders") == [0, 1]
    assert flagged(b, "id_cross_dealer") == [4, 5, 6]


def test_a_burst_at_one_point_of_sale():
    n = 40
    t0 = 1_750_000_000
    shop = [7] * 10 + [8] * 9 + list(range(100, 121))
    at = [t0 + 60 * k for k in range(10)] + [t0 + 60 * k for k in range(9)] + [t0 + 86400 * k for k in range(21)]
    b = batch(n, shop=shop, activated=at)
    assert flagged(b, "pos_burst") == list(range(10))  # nine in ten minutes is no burst


def test_consecutive_iccids_on_different_identities_within_the_hour():
    t0 = 1_750_000_000
    run = [10**15 + k for k in range(6)]
    b = batch(18, iccid=run + [2 * 10**15 + k for k in range(6)] + [3 * 10**15 + k for k in range(6)],
              activated=[t0 + 600 * k for k in range(6)] + [t0 + 86400 * k for k in range(6)]
              + [t0 + 60 * k for k in range(6)], id_link=list(range(12)) + [99] * 6)
    # the second box was sold over days, the third to one person: neither is a junk run
    assert flagged(b, "iccid_run") == list(range(6))


def test_a_new_sim_that_mass_calls_or_texts():
    b = batch(4, calls=[300, 300, 5, 300], callees=[120, 10, 1, 120], sms=[0, 0, 500, 0],
              activated=[0, 0, 0, 0], first_activity=[3600, 3600, 60, 10 * 86400])
    assert flagged(b, "junk_traffic") == [0, 2]  # few callees is no spam; a SIM used for ten days is not new


def test_a_date_of_birth_typed_for_many_people():
    n = 200
    dobs = list(range(n - 12)) + [42] * 12
    b = batch(n, dob_link=dobs)
    assert flagged(b, "dob_repeated") == [42, *range(n - 12, n)]  # and the one person born that day
    one_person = batch(30, dob_link=[7] * 30, holder_link=[1] * 30, id_link=[1] * 30)
    assert flagged(one_person, "dob_repeated") == []


def test_scam_numbers_come_first():
    masks = checks.run(batch(3, flags=[idn.F_INCOMPLETE] * 3), scam={1: "confirmed", 2: "reported"})
    assert [checks.priority(int(m)) for m in masks] == [35, 100, 90]
    assert checks.codes(int(masks[1]))[0] == "scam_confirmed"


def test_every_reason_has_both_languages():
    for r in checks.REASONS:
        assert r.vi and r.en and r.vi != r.en and 0 < r.priority <= 100


def test_the_generator_plants_what_the_checks_find():
    """The whole pure pipeline (import findings, keyed links stood in by Python hashes, batch checks)
    finds every planted pattern with few false alarms."""
    from postguard.subscribers.identity import fold

    made = generate(4000, seed=3)
    items = [validate(r)[0] for r in made.rows]
    assert all(it is not None for it in items)
    shops: dict = {}

    def h(text):
        return hash(text) & (2**62 - 1)

    def ident(it):
        return f"{it.id_type}:{it.id_number}" if it.id_number else None

    b = checks.Batch(
        flags=np.array([it.flags for it in items]), age=np.array([-1 if it.age_years is None else it.age_years
                                                                  for it in items]),
        guardian=np.array([it.has_guardian for it in items]),
        id_link=np.array([h(ident(it)) if ident(it) else -1 for it in items]),
        holder_link=np.array([h(f"{ident(it)}|{fold(it.full_name or '')}|{it.date_of_birth}") for it in items]),
        dob_link=np.array([h(it.date_of_birth) if it.date_of_birth else -1 for it in items]),
        shop=np.array([shops.setdefault(it.point_of_sale, len(shops)) for it in items]),
        activated=np.array([int(it.activated_at.timestamp()) for it in items]),
        iccid=np.array([int(it.iccid[:-1][-18:]) for it in items]),
        calls=np.array([it.calls_out_24h for it in items]), callees=np.array([it.distinct_callees_24h for it in items]),
        sms=np.array([it.sms_out_24h for it in items]),
        first_activity=np.array([int(it.first_activity_at.timestamp()) for it in items]))
    masks = checks.run(b)
    reasons = {it.iccid: checks.codes(int(m)) for it, m in zip(items, masks, strict=True) if m}
    measured = checks.measure(list(reasons), made.truth, reasons)
    assert set(measured["recall_by_pattern"]) == set(PATTERNS)
    assert measured["recall"] >= 0.95 and measured["precision"] >= 0.9, measured
    assert all(v >= 0.9 for v in measured["recall_by_pattern"].values()), measured


def test_the_generator_is_reproducible_and_synthetic():
    a, b = generate(300, seed=5), generate(300, seed=5)
    assert a.rows == b.rows and a.truth == b.truth
    assert len({r["iccid"] for r in a.rows}) == 300 and len({r["msisdn"] for r in a.rows}) == 300
    ages = [d for d in (idn.parse_birth(r["date_of_birth"]) for r in a.rows) if d]
    assert min(ages) > date(1900, 1, 1) and max(ages) < date.today() + timedelta(days=1)
