"""Staff accounts: argon2id passwords, lockout, sessions that end at once on suspension, CSRF."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from postguard.access.models import Staff
from postguard.access.staff import SignedIn
from postguard.db.base import utcnow
from postguard.errors import Conflict, Forbidden, InvalidInput, Unauthenticated
from postguard.platform import Platform
from tests.conftest import CHEAP_PASSWORDS

pytestmark = pytest.mark.both_databases  # dialect behaviour matters: claims through UPDATE … RETURNING, concurrent guesses

PASSWORD = "correct horse battery"


@pytest.fixture
def fast(make_settings):
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024))
    p.orgs.create(code="VNP", name="Bưu điện")
    yield p
    p.close()


def test_passwords_are_hashed_with_the_documented_argon2id_parameters(make_settings, monkeypatch):
    """The suite hashes with cheap parameters (tests/conftest.py); a deployment that sets none gets
    argon2id with 3 passes over 64 MiB (docs/configuration.md), and signs in with them."""
    for name in CHEAP_PASSWORDS:
        monkeypatch.delenv(name, raising=False)
    p = Platform(make_settings())
    try:
        assert (p.settings.password_time_cost, p.settings.password_memory_kib) == (3, 65536)
        p.orgs.create(code="VNP", name="Bưu điện")
        p.staff.create(org_code="VNP", username="an", display_name="An", role="cs", password=PASSWORD)
        with p.db.read_session() as s:
            stored = s.execute(select(Staff.password_hash).where(Staff.username == "an")).scalar_one()
        assert stored.startswith("$argon2id$v=19$m=65536,t=3,")
        assert p.staff.sign_in(org_code="VNP", username="an", password=PASSWORD).principal.username == "an"
    finally:
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


def _count_checks(p: Platform) -> list[str]:
    """Record every password verification the service runs: ``dummy`` or ``real``."""
    calls: list[str] = []
    hasher, dummy = p.staff._hasher, p.staff._dummy
    verify = hasher.verify

    def counting(password, hash_):
        calls.append("dummy" if hash_ == dummy else "real")
        return verify(password, hash_)

    hasher.verify = counting
    return calls


def _at_once(n: int, fn) -> list:
    """Run ``fn`` in ``n`` threads released together by a barrier; returns what each returned or raised."""
    barrier = threading.Barrier(n)

    def go(_):
        barrier.wait()
        try:
            return fn()
        except Exception as e:
            return e

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))


def test_concurrent_wrong_guesses_lock_the_account(fast):
    """30 wrong guesses at once: at most five are checked, the account is locked, the right password
    is refused afterwards."""
    fast.staff.create(org_code="VNP", username="dung", display_name="Đặng Dũng", role="cs", password=PASSWORD)
    checks = _count_checks(fast)
    results = _at_once(30, lambda: fast.staff.sign_in(org_code="VNP", username="dung", password="wrong password!"))
    assert all(isinstance(r, Unauthenticated) for r in results)
    with pytest.raises(Unauthenticated):
        fast.staff.sign_in(org_code="VNP", username="dung", password=PASSWORD)
    assert checks.count("real") == 5 and checks.count("dummy") == 26  # every guess costs the same
    with fast.db.read_session() as s:
        row = s.execute(select(Staff).where(Staff.username == "dung")).scalar_one()
    assert row.locked_until is not None and row.locked_until > utcnow()


def test_concurrent_guesses_with_the_right_one_among_them(fast):
    """The right password among 19 concurrent wrong ones: at most one session, and at most five checks
    on each side of it. A sign-in with the right password restarts the count (and lifts a lock the
    concurrent wrong guesses set meanwhile), so the wrong guesses claimed after it may use a fresh five;
    without that success the bound is five in all (the test above)."""
    fast.staff.create(org_code="VNP", username="giang", display_name="Giang", role="cs", password=PASSWORD)
    checks = _count_checks(fast)
    guesses = iter(["wrong password!"] * 19 + [PASSWORD])
    lock = threading.Lock()

    def guess():
        with lock:
            pw = next(guesses)
        return fast.staff.sign_in(org_code="VNP", username="giang", password=pw)

    signed = [r for r in _at_once(20, guess) if not isinstance(r, Unauthenticated)]
    assert checks.count("real") <= 2 * 5 and len(signed) <= 1
    assert all(isinstance(r, SignedIn) for r in signed)


def test_every_sign_in_path_costs_one_password_check(fast):
    """Unknown, suspended, locked, wrong and right: each answer runs exactly one argon2 verification,
    so the time taken does not tell them apart."""
    fast.staff.create(org_code="VNP", username="hoa", display_name="Hoa", role="cs", password=PASSWORD)
    fast.staff.create(org_code="VNP", username="khanh", display_name="Khánh", role="cs", password=PASSWORD)
    fast.staff.set_status(org_code="VNP", username="khanh", status="suspended")
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            fast.staff.sign_in(org_code="VNP", username="hoa", password="wrong password!")
    fast.staff.create(org_code="VNP", username="lan", display_name="Lan", role="cs", password=PASSWORD)
    checks = _count_checks(fast)
    for who, pw in [("nobody", PASSWORD), ("khanh", PASSWORD), ("hoa", PASSWORD), ("lan", "wrong password!")]:
        before = len(checks)
        with pytest.raises(Unauthenticated):
            fast.staff.sign_in(org_code="VNP", username=who, password=pw)
        assert len(checks) - before == 1, who
    before = len(checks)
    fast.staff.sign_in(org_code="VNP", username="lan", password=PASSWORD)
    assert len(checks) - before == 1


def test_a_lock_ends_after_its_time_and_the_count_starts_again(fast):
    fast.staff.create(org_code="VNP", username="minh", display_name="Minh", role="cs", password=PASSWORD)
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            fast.staff.sign_in(org_code="VNP", username="minh", password="wrong password!")
    with fast.db.session() as s:  # fifteen minutes later
        s.execute(update(Staff).where(Staff.username == "minh").values(locked_until=utcnow() - timedelta(seconds=1)))
    for _ in range(4):  # four fresh attempts, then the right password still signs in
        with pytest.raises(Unauthenticated):
            fast.staff.sign_in(org_code="VNP", username="minh", password="wrong password!")
    fast.staff.sign_in(org_code="VNP", username="minh", password=PASSWORD)
    with fast.db.read_session() as s:
        row = s.execute(select(Staff).where(Staff.username == "minh")).scalar_one()
    assert (row.failed_logins, row.locked_until) == (0, None)
