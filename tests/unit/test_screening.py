"""Transfer scoring: reasons, levels, monotonicity (hypothesis), and the packaged IP database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.errors import InvalidInput
from postguard.screening.scoring import VERDICT_WEIGHT, score_transfer
from postguard.screening.service import country_of, normalise_bank_account

HIGH = 10_000_000
verdicts = st.sampled_from([None, *VERDICT_WEIGHT])
contexts = st.fixed_dictionaries({
    "account_type": st.sampled_from(["business", "personal"]),
    "new_payee": st.booleans(),
    "ip_country": st.sampled_from([None, "VN", "US", "KH"]),
    "payee_verdict": verdicts,
    "payee_score": st.floats(0, 1),
})


def codes(result):
    return [r.code for r in result.reasons]


def test_a_clean_domestic_transfer_is_low():
    r = score_transfer(amount=200_000, high_amount=HIGH, account_type="personal", new_payee=False, ip_country="VN")
    assert (r.risk, r.score, r.reasons) == ("low", 0.0, ())


def test_reported_payee_business_abroad_new_payee_high_amount_is_high():
    r = score_transfer(amount=50_000_000, high_amount=HIGH, account_type="business", new_payee=True,
                       ip_country="KH", payee_verdict="confirmed", payee_reports=12, payee_score=0.9)
    assert r.risk == "high" and r.score == 100.0
    assert set(codes(r)) == {"reported_payee", "business_foreign_ip", "new_payee_high_amount"}


def test_each_reason_on_its_own():
    base = dict(amount=100_000, high_amount=HIGH, account_type="personal", new_payee=False, ip_country="VN")
    assert codes(score_transfer(**{**base, "payee_verdict": "reported", "payee_reports": 1})) == ["reported_payee"]
    assert codes(score_transfer(**{**base, "account_type": "business", "ip_country": "SG"})) == ["business_foreign_ip"]
    assert score_transfer(**{**base, "account_type": "business", "ip_country": "SG"}).risk == "medium"
    assert codes(score_transfer(**{**base, "ip_country": "SG"})) == ["foreign_ip"]
    assert codes(score_transfer(**{**base, "new_payee": True, "amount": HIGH})) == ["new_payee_high_amount"]
    assert codes(score_transfer(**{**base, "new_payee": True})) == ["new_payee"]
    assert codes(score_transfer(**{**base, "payee_verdict": "delisted", "payee_reports": 50})) == []


def test_unknown_country_is_never_silent():
    r = score_transfer(amount=1, high_amount=HIGH, account_type="business", new_payee=False, ip_country=None)
    assert codes(r) == ["ip_country_unknown"] and r.score > 0


@given(contexts, st.integers(0, 10**4), st.integers(0, 10**4), st.integers(1, 10**12))
def test_monotone_in_reports(ctx, a, b, amount):
    lo, hi = sorted((a, b))
    r1 = score_transfer(amount=amount, high_amount=HIGH, payee_reports=lo, **ctx)
    r2 = score_transfer(amount=amount, high_amount=HIGH, payee_reports=hi, **ctx)
    assert r1.score <= r2.score
    assert ["low", "medium", "high"].index(r1.risk) <= ["low", "medium", "high"].index(r2.risk)


@given(contexts, st.integers(0, 10**4), st.integers(1, 10**13), st.integers(1, 10**13))
def test_monotone_in_amount(ctx, reports, a, b):
    lo, hi = sorted((a, b))
    r1 = score_transfer(amount=lo, high_amount=HIGH, payee_reports=reports, **ctx)
    r2 = score_transfer(amount=hi, high_amount=HIGH, payee_reports=reports, **ctx)
    assert r1.score <= r2.score
    assert 0 <= r1.score <= 100 and 0 <= r2.score <= 100


@given(contexts, st.integers(0, 100), st.integers(1, 10**9))
def test_a_reported_payee_never_lowers_the_score(ctx, reports, amount):
    ctx = {**ctx, "payee_verdict": None}
    clean = score_transfer(amount=amount, high_amount=HIGH, **ctx)
    for verdict in ("reported", "corroborated", "confirmed"):
        assert score_transfer(amount=amount, high_amount=HIGH, **{**ctx, "payee_verdict": verdict},
                              payee_reports=reports).score >= clean.score


def test_bank_accounts_are_normalised():
    assert normalise_bank_account("970436", "0123 456 789") == "970436:0123456789"
    assert normalise_bank_account("vcb", "0123-456-789") == "970436:0123456789"
    with pytest.raises(InvalidInput) as e:
        normalise_bank_account("NOBANK", "12")
    assert {fe.field for fe in e.value.errors} == {"payee.bank", "payee.account"}


def test_packaged_ip_database_works_offline():
    # Addresses from the VNPT and Google ranges; private and documentation ranges have no country.
    assert country_of("14.160.0.1") == "VN"
    assert country_of("8.8.8.8") == "US"
    assert country_of("10.1.2.3") is None
    assert country_of("192.0.2.1") is None
    with pytest.raises(ValueError):
        country_of("not-an-ip")
