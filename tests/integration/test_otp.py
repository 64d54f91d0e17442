"""One-time codes: sent through the notifier, stored only as keyed digests, used once, limited attempts,
checked only with the challenge handle returned to whoever asked for them, rate limited per number and
per client; proofs bind purpose, number and expiry."""

import hmac
import threading
from concurrent.futures import ThreadPoolExecutor
from unittest.mock import patch

import pytest
from sqlalchemy import select

from postguard.errors import InvalidInput, RateLimited, Unauthenticated
from postguard.notify import MemoryNotifier
from postguard.otp import MAX_ATTEMPTS, OtpChallenge, challenge_digest

pytestmark = pytest.mark.both_databases  # dialect behaviour matters: claims through UPDATE … RETURNING, concurrent guesses

PHONE = "0912 345 678"
E164 = "+84912345678"
OTHER = "0987 654 321"
OTHER_E164 = "+84987654321"


@pytest.fixture
def otp(make_settings):
    from postguard.platform import Platform

    p = Platform(make_settings(notifier="memory"))
    yield p
    p.close()


def wrong(code: str, i: int = 1) -> str:
    return f"{(int(code) + i) % 10**6:06d}"


def test_a_code_proves_the_number_once_and_is_not_stored(otp):
    sent = otp.otp.send(purpose="recipient", phone=PHONE, client="1.2.3.4")
    notifier: MemoryNotifier = otp.notifier
    code = notifier.last_code(E164)
    assert len(sent.challenge) >= 22 and not hasattr(sent, "challenge_id")
    assert otp.otp.verify(purpose="recipient", phone="+84 912.345.678", code=code, challenge=sent.challenge) == E164
    with pytest.raises(Unauthenticated):
        otp.otp.verify(purpose="recipient", phone=PHONE, code=code, challenge=sent.challenge)  # used once
    with otp.db.read_session() as s:
        row = s.execute(select(OtpChallenge)).scalar_one()
    assert code.encode() not in row.code_mac and b"912345678" not in row.phone_digest
    assert row.challenge_digest == challenge_digest(sent.challenge)  # the handle itself is not stored
    assert sent.challenge.encode() not in row.challenge_digest


def test_a_stranger_cannot_spend_the_owners_code(otp):
    """Anyone may know a number. A stranger asks for codes for the owner's number from another client,
    guesses wrong on each well past the attempt limit, guesses with no handle, a made-up one and one too
    long, and asks for the owner's own handle with wrong codes: the owner's code and handle still prove the
    number. (Before handles, the guesses spent the attempts of the newest code sent to the number.)"""
    owner = otp.otp.send(purpose="recipient", phone=PHONE, client="10.0.0.1")
    owner_code = otp.notifier.last_code(E164)
    for _ in range(3):
        theirs = otp.otp.send(purpose="recipient", phone=PHONE, client="203.0.113.9")
        their_code = otp.notifier.last_code(E164)
        for i in range(MAX_ATTEMPTS + 2):
            with pytest.raises(Unauthenticated):
                otp.otp.verify(purpose="recipient", phone=PHONE, code=wrong(their_code, i + 1),
                               challenge=theirs.challenge)
    for handle in (None, "", "made-up-handle", "A" * 2000, 12345):
        for guess in (owner_code, wrong(owner_code)):
            with pytest.raises(Unauthenticated, match="wrong or has expired"):
                otp.otp.verify(purpose="recipient", phone=PHONE, code=guess, challenge=handle)
    with otp.db.read_session() as s:
        attempts = dict(s.execute(select(OtpChallenge.challenge_digest, OtpChallenge.attempts)).all())
    assert attempts[challenge_digest(owner.challenge)] == 0  # no guess above touched the owner's code
    assert otp.otp.verify(purpose="recipient", phone=PHONE, code=owner_code, challenge=owner.challenge) == E164


def test_a_handle_answers_only_for_its_own_number_and_purpose(otp):
    """A handle is no key to another number or purpose, and its attempts are spent whoever guesses."""
    sent = otp.otp.send(purpose="recipient", phone=PHONE, client="c")
    code = otp.notifier.last_code(E164)
    other = otp.otp.send(purpose="recipient", phone=OTHER, client="c")
    other_code = otp.notifier.last_code(OTHER_E164)
    for purpose, phone, guess in (("parcel", PHONE, code), ("courier_phone", PHONE, code),
                                  ("recipient", OTHER, other_code), ("recipient", OTHER, code)):
        with pytest.raises(Unauthenticated):
            otp.otp.verify(purpose=purpose, phone=phone, code=guess, challenge=sent.challenge)
    with pytest.raises(Unauthenticated):  # the other number's handle for this number
        otp.otp.verify(purpose="recipient", phone=PHONE, code=code, challenge=other.challenge)
    assert otp.otp.verify(purpose="recipient", phone=PHONE, code=code, challenge=sent.challenge) == E164
    assert otp.otp.verify(purpose="recipient", phone=OTHER, code=other_code, challenge=other.challenge) == OTHER_E164


def test_codes_die_after_five_wrong_tries(otp):
    sent = otp.otp.send(purpose="recipient", phone=PHONE, client="c")
    code = otp.notifier.last_code(E164)
    for i in range(MAX_ATTEMPTS):
        with pytest.raises(Unauthenticated):
            otp.otp.verify(purpose="recipient", phone=PHONE, code=wrong(code, i + 1), challenge=sent.challenge)
    with pytest.raises(Unauthenticated):
        otp.otp.verify(purpose="recipient", phone=PHONE, code=code, challenge=sent.challenge)


def test_sending_is_rate_limited_per_client_per_number_and_client_and_per_number(otp):
    """A stranger's three codes to a number from one client do not stop the owner asking from another;
    12 an hour per number and purpose from every client together; 10 an hour per client."""
    for _ in range(3):
        otp.otp.send(purpose="recipient", phone=PHONE, client="203.0.113.9")
    with pytest.raises(RateLimited):
        otp.otp.send(purpose="recipient", phone=PHONE, client="203.0.113.9")
    owner = otp.otp.send(purpose="recipient", phone=PHONE, client="10.0.0.1")  # the owner still gets a code
    owner_code = otp.notifier.last_code(E164)
    otp.otp.send(purpose="parcel", phone=PHONE, client="203.0.113.9")  # per purpose
    for client in ("203.0.113.10", "203.0.113.11", "203.0.113.12"):
        for _ in range(3 if client != "203.0.113.12" else 2):
            otp.otp.send(purpose="recipient", phone=PHONE, client=client)
    with pytest.raises(RateLimited):  # 12 codes this hour: the per-number cap bites for every client
        otp.otp.send(purpose="recipient", phone=PHONE, client="10.0.0.1")
    with pytest.raises(RateLimited):
        otp.otp.send(purpose="recipient", phone=PHONE, client="198.51.100.7")
    # the owner's code already sent still works
    assert otp.otp.verify(purpose="recipient", phone=PHONE, code=owner_code, challenge=owner.challenge) == E164
    for i in range(5):  # 203.0.113.9 has asked 5 times this hour (its refused fourth code counts too)
        otp.otp.send(purpose="recipient", phone=f"09123456{i:02d}", client="203.0.113.9")
    with pytest.raises(RateLimited):
        otp.otp.send(purpose="recipient", phone="0987654321", client="203.0.113.9")
    assert len(otp.notifier.sent) == 18


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
    """40 guesses at once against one handle (39 wrong, one right): at most five are compared, so the
    right code is accepted only if it claimed one of the five attempts; otherwise the code is dead. A
    code the owner asked for meanwhile, with its own handle, is untouched."""
    sent = otp.otp.send(purpose="recipient", phone=PHONE, client="c")
    code = otp.notifier.last_code(E164)
    owner = otp.otp.send(purpose="recipient", phone=PHONE, client="owner")
    owner_code = otp.notifier.last_code(E164)
    guesses = [wrong(code, i) for i in range(1, 40)]
    compared = []
    compare_digest = hmac.compare_digest

    def counting(a, b):
        compared.append(1)
        return compare_digest(a, b)

    barrier = threading.Barrier(40)

    def guess(c):
        barrier.wait()
        try:
            return otp.otp.verify(purpose="recipient", phone=PHONE, code=c, challenge=sent.challenge)
        except Unauthenticated:
            return None

    with patch("postguard.otp.hmac.compare_digest", counting), ThreadPoolExecutor(40) as pool:
        results = list(pool.map(guess, guesses + [code]))
    assert len(compared) <= MAX_ATTEMPTS
    assert results[:39] == [None] * 39
    with otp.db.read_session() as s:
        row = s.execute(select(OtpChallenge).where(OtpChallenge.challenge_digest == challenge_digest(sent.challenge))
                        ).scalar_one()
    assert row.attempts <= MAX_ATTEMPTS
    if results[39] is None:  # the right code came too late: refused, and the code is dead
        assert row.attempts == MAX_ATTEMPTS and row.used_at is None
        with pytest.raises(Unauthenticated):
            otp.otp.verify(purpose="recipient", phone=PHONE, code=code, challenge=sent.challenge)
    else:
        assert results[39] == E164 and row.used_at is not None
    assert otp.otp.verify(purpose="recipient", phone=PHONE, code=owner_code, challenge=owner.challenge) == E164


def test_forty_concurrent_wrong_guesses_kill_the_code(otp):
    """40 wrong guesses at once, then the right code: refused (the limit is 5 attempts)."""
    sent = otp.otp.send(purpose="recipient", phone=PHONE, client="c")
    code = otp.notifier.last_code(E164)
    barrier = threading.Barrier(40)

    def guess(i):
        barrier.wait()
        with pytest.raises(Unauthenticated):
            otp.otp.verify(purpose="recipient", phone=PHONE, code=wrong(code, 1 + i), challenge=sent.challenge)

    with ThreadPoolExecutor(40) as pool:
        list(pool.map(guess, range(40)))
    with pytest.raises(Unauthenticated):
        otp.otp.verify(purpose="recipient", phone=PHONE, code=code, challenge=sent.challenge)
    with otp.db.read_session() as s:
        assert s.execute(select(OtpChallenge.attempts)).scalar_one() == MAX_ATTEMPTS


def test_retention_deletes_spent_challenges_and_keeps_live_ones(otp):
    """A challenge keeps a keyed digest of the number and when a code went to it: once used or expired
    it answers nothing more, and ``retention run`` deletes it."""
    from datetime import timedelta

    from sqlalchemy import update

    from postguard.db.base import utcnow

    used = otp.otp.send(purpose="recipient", phone=PHONE, client="1.2.3.4")
    otp.otp.verify(purpose="recipient", phone=PHONE, code=otp.notifier.last_code(E164), challenge=used.challenge)
    expired = otp.otp.send(purpose="parcel", phone=PHONE, client="1.2.3.4").challenge
    live = otp.otp.send(purpose="courier_phone", phone=OTHER, client="1.2.3.4").challenge
    with otp.db.session() as s:
        s.execute(update(OtpChallenge).where(OtpChallenge.challenge_digest == challenge_digest(expired))
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    otp.shipments.run_retention()
    with otp.db.read_session() as s:
        assert s.execute(select(OtpChallenge.challenge_digest)).scalars().all() == [challenge_digest(live)]
    assert otp.otp.verify(purpose="courier_phone", phone="0987654321", code=otp.notifier.last_code(OTHER_E164),
                          challenge=live) == OTHER_E164
