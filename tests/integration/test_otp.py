"""One-time codes: sent through the notifier, stored only as keyed digests, used once, limited attempts,
rate limited per number and per client; proofs bind purpose, number and expiry."""

import hmac
import threading
from concurrent.futures import ThreadPoolExecutor
from unittest.mock import patch

import pytest
from sqlalchemy import select

from postguard.errors import InvalidInput, RateLimited, Unauthenticated
from postguard.notify import MemoryNotifier
from postguard.otp import OtpChallenge

PHONE = "0912 345 678"
E164 = "+84912345678"


@pytest.fixture
def otp(make_settings):
    from postguard.platform import Platform

    p = Platform(make_settings(notifier="memory"))
    yield p
    p.close()


def test_a_code_proves_the_number_once_and_is_not_stored(otp):
    otp.otp.send(purpose="recipient", phone=PHONE, client="1.2.3.4")
    notifier: MemoryNotifier = otp.notifier
    code = notifier.last_code(E164)
    assert otp.otp.verify(purpose="recipient", phone="+84 912.345.678", code=code) == E164
    with pytest.raises(Unauthenticated):
        otp.otp.verify(purpose="recipient", phone=PHONE, code=code)  # used once
    with otp.db.read_session() as s:
        row = s.execute(select(OtpChallenge)).scalar_one()
    assert code.encode() not in row.code_mac and b"912345678" not in row.phone_digest


def test_codes_are_bound_to_their_purpose_and_die_after_five_wrong_tries(otp):
    otp.otp.send(purpose="recipient", phone=PHONE, client="c")
    code = otp.notifier.last_code(E164)
    with pytest.raises(Unauthenticated):
        otp.otp.verify(purpose="parcel", phone=PHONE, code=code)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            otp.otp.verify(purpose="recipient", phone=PHONE, code=wrong)
    with pytest.raises(Unauthenticated):
        otp.otp.verify(purpose="recipient", phone=PHONE, code=code)


def test_sending_is_rate_limited_per_number_and_per_client(otp):
    for _ in range(3):
        otp.otp.send(purpose="recipient", phone=PHONE, client="a")
    with pytest.raises(RateLimited):
        otp.otp.send(purpose="recipient", phone=PHONE, client="b")
    for i in range(7):
        otp.otp.send(purpose="recipient", phone=f"09123456{i:02d}", client="a")
    with pytest.raises(RateLimited):
        otp.otp.send(purpose="recipient", phone="0987654321", client="a")
    assert len(otp.notifier.sent) == 10


def test_bad_input_is_refused_clearly(otp):
    with pytest.raises(InvalidInput) as e:
        otp.otp.send(purpose="recipient", phone="12", client="c")
    assert e.value.errors[0].field == "phone"
    with pytest.raises(InvalidInput):
        otp.otp.send(purpose="anything", phone=PHONE, client="c")
    assert otp.notifier.sent == []


def test_proofs_round_trip_and_refuse_tampering_other_purposes_and_expiry(otp):
    token = otp.otp.issue_proof(purpose="recipient", phone=E164)
    assert otp.otp.open_proof(token, purpose="recipient") == E164
    assert E164 not in token
    for bad, purpose in ((token, "parcel"), (token[:-2] + "AA", "recipient"), ("", "recipient"),
                         (otp.otp.issue_proof(purpose="recipient", phone=E164, ttl=-1), "recipient")):
        with pytest.raises(Unauthenticated):
            otp.otp.open_proof(bad, purpose=purpose)


def test_forty_concurrent_guesses_compare_at_most_five(otp):
    """40 guesses at once against one code (39 wrong, one right): at most five are compared, so the
    right code is accepted only if it claimed one of the five attempts; otherwise the code is dead."""
    otp.otp.send(purpose="recipient", phone=PHONE, client="c")
    code = otp.notifier.last_code(E164)
    wrong = [f"{(int(code) + i) % 10**6:06d}" for i in range(1, 40)]
    compared = []
    compare_digest = hmac.compare_digest

    def counting(a, b):
        compared.append(1)
        return compare_digest(a, b)

    barrier = threading.Barrier(40)

    def guess(c):
        barrier.wait()
        try:
            return otp.otp.verify(purpose="recipient", phone=PHONE, code=c)
        except Unauthenticated:
            return None

    with patch("postguard.otp.hmac.compare_digest", counting), ThreadPoolExecutor(40) as pool:
        results = list(pool.map(guess, wrong + [code]))
    assert len(compared) <= 5
    assert results[:39] == [None] * 39
    with otp.db.read_session() as s:
        row = s.execute(select(OtpChallenge)).scalar_one()
    assert row.attempts <= 5
    if results[39] is None:  # the right code came too late: refused, and the code is dead
        assert row.attempts == 5 and row.used_at is None
        with pytest.raises(Unauthenticated):
            otp.otp.verify(purpose="recipient", phone=PHONE, code=code)
    else:
        assert results[39] == E164 and row.used_at is not None


def test_forty_concurrent_wrong_guesses_kill_the_code(otp):
    """40 wrong guesses at once, then the right code: refused (the limit is 5 attempts)."""
    otp.otp.send(purpose="recipient", phone=PHONE, client="c")
    code = otp.notifier.last_code(E164)
    barrier = threading.Barrier(40)

    def guess(i):
        barrier.wait()
        with pytest.raises(Unauthenticated):
            otp.otp.verify(purpose="recipient", phone=PHONE, code=f"{(int(code) + 1 + i) % 10**6:06d}")

    with ThreadPoolExecutor(40) as pool:
        list(pool.map(guess, range(40)))
    with pytest.raises(Unauthenticated):
        otp.otp.verify(purpose="recipient", phone=PHONE, code=code)
    with otp.db.read_session() as s:
        assert s.execute(select(OtpChallenge.attempts)).scalar_one() == 5


def test_retention_deletes_spent_challenges_and_keeps_live_ones(otp):
    """A challenge keeps a keyed digest of the number and when a code went to it: once used or expired
    it answers nothing more, and ``retention run`` deletes it."""
    from datetime import timedelta

    from sqlalchemy import update

    from postguard.db.base import utcnow

    otp.otp.send(purpose="recipient", phone=PHONE, client="1.2.3.4")
    otp.otp.verify(purpose="recipient", phone=PHONE, code=otp.notifier.last_code(E164))  # used
    expired = otp.otp.send(purpose="parcel", phone=PHONE, client="1.2.3.4").challenge_id
    live = otp.otp.send(purpose="courier_phone", phone="0987 654 321", client="1.2.3.4").challenge_id
    with otp.db.session() as s:
        s.execute(update(OtpChallenge).where(OtpChallenge.id == expired)
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    otp.shipments.run_retention()
    with otp.db.read_session() as s:
        assert s.execute(select(OtpChallenge.id)).scalars().all() == [live]
    assert otp.otp.verify(purpose="courier_phone", phone="0987654321",
                          code=otp.notifier.last_code("+84987654321")) == "+84987654321"
