"""The one authorisation check: ``OrgService.require`` (scopes for API keys, roles for staff) and
``OrgService.refuse``: every refusal is an ``access_denied`` entry in the access log, then Forbidden."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from postguard.access.models import ROLES
from postguard.access.staff import StaffPrincipal
from postguard.audit.models import AuditEntry
from postguard.errors import AuditUnavailable, Forbidden
from postguard.orgs.service import SCOPES, Principal


def _denials(platform) -> list[dict]:
    with platform.db.read_session() as s:
        rows = s.execute(select(AuditEntry.actor, AuditEntry.subject, AuditEntry.entry)
                         .where(AuditEntry.action == "access_denied").order_by(AuditEntry.idx)).all()
    return [{"actor": a, "subject": sub, "details": json.loads(e).get("details")} for a, sub, e in rows]


def test_a_key_with_the_scope_passes_without_a_log_entry(platform, org):
    who = Principal(org_id=org.id, org_code=org.code, actor="apikey:abcd", scopes=frozenset({"audit:read"}))
    assert platform.orgs.require(who, "audit:read") is who
    assert _denials(platform) == []


def test_a_key_without_the_scope_is_refused_and_logged(platform, org):
    who = Principal(org_id=org.id, org_code=org.code, actor="apikey:abcd", scopes=frozenset({"audit:read"}))
    with pytest.raises(Forbidden, match="lacks the telephony scope"):
        platform.orgs.require(who, "telephony", subject="/v1/canaries/contacts")
    (entry,) = _denials(platform)
    assert entry["actor"] == "apikey:abcd" and entry["subject"] == "/v1/canaries/contacts"
    assert entry["details"]["reason"] == "needs the telephony scope"
    assert platform.audit.verify().ok


def test_staff_are_judged_by_role_never_by_scope(platform, org):
    auditor = StaffPrincipal(staff_id=7, org_id=org.id, org_code=org.code, username="kiem", role="auditor")
    assert platform.orgs.require(auditor, "audit:read", roles=("auditor", "dpo")) is auditor
    with pytest.raises(Forbidden, match="role does not allow"):
        platform.orgs.require(auditor, "audit:read")  # no roles given: staff may not
    (entry,) = _denials(platform)
    assert entry["actor"] == "staff:7" and entry["details"]["reason"] == "role auditor may not do this"


def test_no_principal_is_refused_and_logged_as_the_public(platform):
    with pytest.raises(Forbidden):
        platform.orgs.require(None, "intel:report")
    assert [e["actor"] for e in _denials(platform)] == ["public"]


def test_a_refusal_that_cannot_be_logged_still_refuses(platform, org, monkeypatch):
    def broken(**kw):
        raise AuditUnavailable("the log is down")

    monkeypatch.setattr(platform.audit, "append", broken)
    who = Principal(org_id=org.id, org_code=org.code, actor="apikey:abcd", scopes=frozenset())
    with pytest.raises(Forbidden):
        platform.orgs.require(who, "shipments:read")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(held=st.sets(st.sampled_from(sorted(SCOPES))), wanted=st.sampled_from(sorted(SCOPES)),
       role=st.none() | st.sampled_from(ROLES), allowed=st.sets(st.sampled_from(ROLES)))
def test_require_allows_exactly_the_matrix(platform, org, held, wanted, role, allowed):
    if role is None:
        who = Principal(org_id=org.id, org_code=org.code, actor="apikey:prop", scopes=frozenset(held))
        ok = wanted in held
    else:
        who = StaffPrincipal(staff_id=1, org_id=org.id, org_code=org.code, username="x", role=role)
        ok = role in allowed
    before = len(_denials(platform))
    if ok:
        assert platform.orgs.require(who, wanted, roles=allowed) is who
    else:
        with pytest.raises(Forbidden):
            platform.orgs.require(who, wanted, roles=allowed)
    assert len(_denials(platform)) == before + (0 if ok else 1)


def test_an_alert_acknowledged_by_who_triggered_it_is_refused_and_logged(platform, org):
    boss = StaffPrincipal(staff_id=3, org_id=org.id, org_code=org.code, username="boss", role="auditor")
    alert = platform.access_alerts.raise_alert(org_id=org.id, kind="anomaly", severity="low", reason="many reveals",
                                        actor=boss.actor)
    with pytest.raises(Forbidden, match="person who triggered it"):
        platform.access_alerts.acknowledge(boss, alert)
    (entry,) = _denials(platform)
    assert entry["subject"] == f"alert:{alert}" and entry["actor"] == "staff:3"
    other = StaffPrincipal(staff_id=4, org_id=org.id, org_code=org.code, username="dpo", role="dpo")
    assert platform.access_alerts.acknowledge(other, alert)["acknowledged_by"] == "staff:4"
