"""Staff accounts: argon2id passwords, lockout, sessions that end at once on suspension, CSRF."""

import pytest

from postguard.errors import Conflict, Forbidden, InvalidInput, Unauthenticated
from postguard.platform import Platform

PASSWORD = "correct horse battery"


@pytest.fixture
def fast(make_settings):
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024))
    p.orgs.create(code="VNP", name="Bưu điện")
    yield p
    p.close()


def test_sign_in_session_and_csrf(fast):
    fast.staff.create(org_code="VNP", username="an.nguyen", display_name="Nguyễn An", role="courier",
                      password=PASSWORD)
    signed = fast.staff.sign_in(org_code="vnp", username="An.Nguyen", password=PASSWORD)
    who, csrf = fast.staff.session(signed.token)
    assert (who.role, who.org_code, csrf) == ("courier", "VNP", signed.csrf)
    fast.staff.check_csrf(csrf, signed.csrf)
    with pytest.raises(Forbidden):
        fast.staff.check_csrf(csrf, "forged")
    fast.staff.sign_out(signed.token)
    with pytest.raises(Unauthenticated):
        fast.staff.session(signed.token)


def test_lockout_after_five_failures_and_no_account_oracle(fast):
    fast.staff.create(org_code="VNP", username="binh", display_name="Bình", role="cs", password=PASSWORD)
    messages = set()
    for _ in range(5):
        with pytest.raises(Unauthenticated) as e:
            fast.staff.sign_in(org_code="VNP", username="binh", password="wrong password!")
        messages.add(str(e.value))
    with pytest.raises(Unauthenticated) as e:  # locked now, even with the right password
        fast.staff.sign_in(org_code="VNP", username="binh", password=PASSWORD)
    messages.add(str(e.value))
    with pytest.raises(Unauthenticated) as e:
        fast.staff.sign_in(org_code="VNP", username="nobody", password=PASSWORD)
    messages.add(str(e.value))
    assert len(messages) == 1


def test_suspension_ends_sessions_at_once(fast):
    fast.staff.create(org_code="VNP", username="cuong", display_name="Cường", role="courier", password=PASSWORD)
    token = fast.staff.sign_in(org_code="VNP", username="cuong", password=PASSWORD).token
    fast.staff.set_status(org_code="VNP", username="cuong", status="suspended")
    with pytest.raises(Unauthenticated):
        fast.staff.session(token)
    with pytest.raises(Unauthenticated):
        fast.staff.sign_in(org_code="VNP", username="cuong", password=PASSWORD)


def test_bad_accounts_are_refused_clearly(fast):
    with pytest.raises(InvalidInput) as e:
        fast.staff.create(org_code="VNP", username="A B", display_name="", role="boss", password="short")
    assert {x.field for x in e.value.errors} == {"username", "role", "password", "display_name"}
    fast.staff.create(org_code="VNP", username="dung", display_name="Dũng", role="auditor", password=PASSWORD)
    with pytest.raises(Conflict):
        fast.staff.create(org_code="VNP", username="dung", display_name="Dũng", role="auditor", password=PASSWORD)


def test_sign_ins_and_status_changes_are_logged(fast):
    import json

    from sqlalchemy import select

    from postguard.audit.models import AuditEntry

    fast.staff.create(org_code="VNP", username="giang", display_name="Giang", role="hub", password=PASSWORD)
    fast.staff.sign_in(org_code="VNP", username="giang", password=PASSWORD)
    with pytest.raises(Unauthenticated):
        fast.staff.sign_in(org_code="VNP", username="giang", password="not the password")
    fast.staff.set_status(org_code="VNP", username="giang", status="offboarded", actor="staff:1")
    with fast.db.session() as s:
        entries = [json.loads(e) for e in s.execute(select(AuditEntry.entry).order_by(AuditEntry.idx)).scalars()]
    assert [(e["action"], e["details"]) for e in entries] == [
        ("login", {}), ("login_failed", {"outcome": "wrong_password"}), ("staff_status", {"status": "offboarded"})]
    assert PASSWORD not in str(entries)
