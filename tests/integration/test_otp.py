"""One-time codes: sent through the notifier, stored only as keyed digests, used once, limited attempts,
rate limited per number and per client; proofs bind purpose, number and expiry."""

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
