"""Verdicts: transitions, decay, brigading, official protection; evidence type and size checks."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.errors import InvalidInput, PayloadTooLarge
from postguard.intel.evidence import check_file, sniff
from postguard.intel.verdicts import SEVERITY, Policy, ReportFact, Standing, grade

NOW = datetime(2026, 6, 1, tzinfo=UTC)
P = Policy()


def fact(who, kind="citizen", days=0, evidence=0, reputation=1.0):
    return ReportFact(reporter=who, kind=kind, at=NOW - timedelta(days=days), evidence=evidence, reputation=reputation)


def test_nothing_is_unknown_never_safe():
    v = grade([], Standing(), now=NOW)
    assert v.verdict == "unknown" and v.score == 0
    assert "safe" not in v.verdict


def test_ladder_reported_then_corroborated():
    assert grade([fact("a", "anonymous")], Standing(), now=NOW).verdict == "reported"
    assert grade([fact("a"), fact("b")], Standing(), now=NOW).verdict == "reported"  # 30 < 50
    v = grade([fact("a"), fact("b"), fact("c", "org")], Standing(), now=NOW)
    assert v.verdict == "corroborated" and v.score == 70 and v.reporters == 3
    codes = [r.code for r in v.reasons]
    assert codes[:2] == ["reports", "distinct_reporters"] and "age" in codes


@given(st.integers(2, 500))
def test_brigading_one_client_never_corroborates(n):
    reports = [fact("one-client", "anonymous", evidence=1) for _ in range(n)]
    v = grade(reports, Standing(), now=NOW)
    assert v.verdict == "reported" and v.reporters == 1 and v.score <= 5 + 10


@given(st.integers(2, 300))
def test_anonymous_crowds_never_corroborate(n):
    reports = [fact(f"client-{i}", "anonymous", evidence=1) for i in range(n)]
    v = grade(reports, Standing(), now=NOW)
    assert v.verdict == "reported"
    assert any(r.code == "needs_identified_reporters" for r in v.reasons) or v.score < P.corroborated_min


def test_citizens_with_contacts_from_one_client_count_once():
    v = grade([fact("same") for _ in range(20)], Standing(), now=NOW)
    assert v.reporters == 1 and v.score == 15


def test_decay_to_unknown_without_new_reports():
    reports = [fact("a", "org", days=0), fact("b", "org", days=0)]
    assert grade(reports, Standing(), now=NOW).verdict == "corroborated"
    later = [grade(reports, Standing(), now=NOW + timedelta(days=d)) for d in (0, 30, 90, 365, 1000)]
    scores = [v.score for v in later]
    assert scores == sorted(scores, reverse=True) and scores[0] == 80 and scores[2] == 40
    assert later[2].verdict == "reported" and later[-1].verdict == "unknown"
    assert any(r.code == "decayed" for r in later[-1].reasons)


def test_confirmed_holds_then_lapses():
    st_ = Standing(decision="confirmed", decision_at=NOW, decision_source="official_source")
    v = grade([fact("a")], st_, now=NOW)
    assert v.verdict == "confirmed" and v.score == 100 and v.reasons[0].value == "official_source"
    old = grade([fact("a")], st_, now=NOW + timedelta(days=P.confirmed_days + 1))
    assert old.verdict != "confirmed" and any(r.code == "confirmation_lapsed" for r in old.reasons)


def test_dispute_and_appeal_show_disputed():
    reports = [fact("a", "org"), fact("b", "org")]
    assert grade(reports, Standing(appeal_open=True), now=NOW).verdict == "disputed"
    assert grade(reports, Standing(decision="disputed", decision_at=NOW), now=NOW).verdict == "disputed"


def test_delisting_drops_earlier_reports_but_not_later_ones():
    st_ = Standing(decision="delisted", decision_at=NOW - timedelta(days=1))
    assert grade([fact("a", "org", days=2)], st_, now=NOW).verdict == "delisted"
    assert grade([fact("a", "org", days=2), fact("b", days=0)], st_, now=NOW).verdict == "reported"


@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.sampled_from(["org", "citizen", "anonymous"]),
                          st.integers(0, 400), st.integers(0, 3)), max_size=30))
def test_official_channels_are_never_flagged(rows):
    reports = [fact(w, k, d, e) for w, k, d, e in rows]
    for decision in (None, "confirmed", "disputed"):
        v = grade(reports, Standing(official=True, official_org="Bưu điện", decision=decision, decision_at=NOW,
                                    held_reports=len(reports)), now=NOW)
        assert v.verdict == "official" and v.score == 0


@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.sampled_from(["org", "citizen", "anonymous"]),
                          st.integers(0, 400), st.integers(0, 3)), max_size=30))
def test_score_bounds_and_monotonic_in_time(rows):
    reports = [fact(w, k, d, e) for w, k, d, e in rows]
    now = grade(reports, Standing(), now=NOW)
    later = grade(reports, Standing(), now=NOW + timedelta(days=60))
    assert 0 <= later.score <= now.score <= 100
    assert SEVERITY[later.verdict] <= SEVERITY[now.verdict]


def test_reputation_weights_reports():
    good = grade([fact("a", reputation=1.5)], Standing(), now=NOW)
    bad = grade([fact("a", reputation=0.1)], Standing(), now=NOW)
    assert good.score > bad.score


# -- evidence ---------------------------------------------------------------------------------
SAMPLES = {
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\0" * 20,
    "image/png": b"\x89PNG\r\n\x1a\n" + b"\0" * 20,
    "image/gif": b"GIF89a" + b"\0" * 20,
    "image/webp": b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\0" * 20,
    "image/heic": b"\x00\x00\x00\x18ftypheic" + b"\0" * 20,
    "application/pdf": b"%PDF-1.7\n" + b"\0" * 20,
    "audio/mpeg": b"ID3\x04\x00" + b"\0" * 20,
    "audio/mp4": b"\x00\x00\x00\x20ftypM4A " + b"\0" * 20,
    "audio/ogg": b"OggS\x00\x02" + b"\0" * 20,
    "audio/wav": b"RIFF\x10\x00\x00\x00WAVEfmt " + b"\0" * 20,
    "audio/amr": b"#!AMR\n" + b"\0" * 20,
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_evidence_types_by_magic_bytes(kind):
    assert sniff(SAMPLES[kind]) == kind
    assert check_file(SAMPLES[kind], declared=None, max_bytes=1024) == kind
    assert check_file(SAMPLES[kind], declared="application/octet-stream", max_bytes=1024) == kind


@pytest.mark.parametrize("data", [b"MZ\x90\x00" + b"\0" * 30, b"<html><script>", b"PK\x03\x04zip", b"#!/bin/sh\n",
                                  b"<?xml version='1.0'?><svg/>"])
def test_other_content_is_refused_whatever_its_name(data):
    with pytest.raises(InvalidInput) as e:
        check_file(data, declared="image/png", max_bytes=1024, index=2)
    assert e.value.errors[0].field == "evidence[2]" and e.value.errors[0].code == "unsupported_type"


def test_declared_type_must_match_content():
    with pytest.raises(InvalidInput) as e:
        check_file(SAMPLES["application/pdf"], declared="image/jpeg", max_bytes=1024)
    assert e.value.errors[0].code == "type_mismatch"
    assert check_file(SAMPLES["image/jpeg"], declared="image/jpg", max_bytes=1024) == "image/jpeg"


def test_size_cap_and_empty():
    with pytest.raises(PayloadTooLarge):
        check_file(SAMPLES["image/png"] + b"\0" * 2000, declared=None, max_bytes=1024)
    assert check_file(SAMPLES["image/png"] + b"\0" * (1024 - len(SAMPLES["image/png"])), declared=None,
                      max_bytes=1024) == "image/png"
    with pytest.raises(InvalidInput):
        check_file(b"", declared=None, max_bytes=1024)


def test_a_deceptive_link_is_suspicious_at_least_and_never_official():
    from postguard.intel.verdicts import VERDICTS, judge_link

    warned = (("host_mismatch", "evil-pay.com"),)
    for verdict in ("unknown", "official", "delisted", "disputed", "suspicious"):
        assert judge_link(verdict, warned) == "suspicious"
    for verdict in ("reported", "corroborated", "confirmed"):  # graver verdicts stand
        assert judge_link(verdict, warned) == verdict
    assert all(judge_link(v, ()) == v for v in VERDICTS)  # an honest link keeps its verdict
