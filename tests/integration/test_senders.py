"""Message templates, recorded notifications and the COD rule, on both databases: the digests are
recorded concurrently and a duplicate template races (unique constraints and ``ON CONFLICT`` differ by
dialect), nothing readable is stored, the door is passed for the parcel check."""

import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from postguard.audit.models import AuditEntry
from postguard.db.base import utcnow
from postguard.errors import Conflict, Forbidden, InvalidInput, Unauthenticated
from postguard.intel.seed import seed_official
from postguard.platform import Platform
from postguard.principals import ApiKeyPrincipal
from postguard.senders.models import SentNotification
from postguard.senders.seed import EXAMPLE_TEMPLATES, example_values, seed_senders
from postguard.senders.service import ProvenPhone
from postguard.senders.text import render
from tests.conftest import csv_bytes

pytestmark = pytest.mark.both_databases
ME = "+84912345678"


@pytest.fixture
def world(make_settings, faker):
    p = Platform(make_settings(notifier="memory"))
    seed_official(p.intel, p.orgs)
    seed_senders(p.senders, p.intel)
    org = p.orgs.get("VIETTELPOST")
    key = ApiKeyPrincipal(org_id=org.id, org_code="VIETTELPOST", actor="key:vtp",
                          scopes=frozenset({"notifications:write", "intel:official", "shipments:write"}))
    yield p, key, faker
    p.close()


def _template(p, code, n=0):
    return [t for t in p.senders.template_list(org_code=code, status="verified")][n]


def test_every_demo_template_is_judged_a_match(world):
    p, _, _ = world
    seen = 0
    for code, wordings in EXAMPLE_TEMPLATES.items():
        for t in p.senders.template_list(org_code=code, status="verified"):
            message = render(t["text"], {k: v for k, v in example_values(code).items() if "{" + k + "}" in t["text"]})
            got = p.senders.match_message(message)
            assert (got.outcome, got.org, got.template_id) == ("template", code, t["id"]), (message, got)
            assert got.legit
            seen += 1
        assert len(wordings) == len(p.senders.template_list(org_code=code, status="verified"))
    assert seen == sum(len(w) for w in EXAMPLE_TEMPLATES.values())


def test_recorded_notification_is_answered_only_to_the_proven_number(world):
    p, key, _ = world
    t = _template(p, "VIETTELPOST")
    values = {"time": "10:42", "amount": "350.000đ", "link": "https://viettelpost.com.vn/tra-cuu"}
    sent_at = utcnow() - timedelta(hours=1)
    out = p.senders.record(key, [{"template_id": t["id"], "phone": "0912 345 678", "waybill": "VTP123456789",
                                  "sent_at": sent_at.isoformat(), "values": values}])
    assert out == {"received": 1, "recorded": 1, "already_recorded": 0}
    message = render(t["text"], {**values, "waybill": "VTP123456789"})
    # pasted with other line breaks, case and without diacritics: still the same message
    pasted = "  " + message.upper().replace(" ", "\n", 3) + " "
    got = p.senders.match_message(pasted, phone=ProvenPhone(ME))
    assert got.outcome == "sent" and got.sent_at is not None and abs(got.sent_at - sent_at) < timedelta(seconds=1)
    assert "Viettel Post" in got.text_en and "sent this at" in got.text_en
    assert p.senders.match_message(pasted, phone=ProvenPhone("+84987654321")).outcome == "not_sent"
    other = render(t["text"], {**values, "waybill": "VTP999999999"})
    assert p.senders.match_message(other, phone=ProvenPhone(ME)).outcome == "not_sent"
    # nothing readable is stored: no number, waybill or wording in the notifications table
    with p.db.read_session() as s:
        rows = s.execute(select(SentNotification)).scalars().all()
    blob = repr([(r.digest, r.org_id, r.template_id) for r in rows])
    assert len(rows) == 1 and "912345678" not in blob and "VTP123456789" not in blob.upper()
    # the proof decides the number: a forged or absent token is refused
    with pytest.raises(Unauthenticated):
        p.senders.proven("not-a-proof")
    token = p.otp.issue_proof(purpose="recipient", phone=ME)
    assert p.senders.proven(token) == ProvenPhone(ME)


def test_a_message_that_names_an_operator_but_is_none_of_its_templates_is_suspicious(world):
    p, _, _ = world
    got = p.senders.match_message("ViettelPost: don hang cua ban bi giu, chuyen khoan 30.000d phi luu kho vao "
                                  "MB 0123456789 de nhan hang.")
    assert got.outcome == "suspicious" and got.org == "VIETTELPOST" and "claims_operator_no_template" in got.reasons
    t = _template(p, "VIETTELPOST")
    phish = render(t["text"], {"waybill": "VTP123456789", "time": "10:42", "amount": "350.000đ",
                               "link": "https://viettelpost-giaohang.example.net/x"})
    got = p.senders.match_message(phish)
    assert got.outcome == "suspicious" and got.reasons == ("link_not_official",)
    assert p.senders.match_message("Chao ban, hen gap lai toi nay").outcome == "unknown"
    for hostile in ("x" * 100_000, "\u202e" * 5000 + "ViettelPost", "{waybill}" * 1000, "\x00\x00"):
        assert p.senders.match_message(hostile).outcome in ("unknown", "suspicious")
    with pytest.raises(InvalidInput):
        p.senders.match_message({"text": "nested"})


def test_notifications_recorded_concurrently_are_stored_once(world):
    p, key, _ = world
    t = _template(p, "VIETTELPOST")
    items = [{"template_id": t["id"], "phone": f"09123456{i:02d}", "waybill": f"VTP0000000{i:02d}",
              "sent_at": utcnow().isoformat(), "values": {"time": "10:42", "amount": "350.000đ",
                                                          "link": "https://viettelpost.com.vn/x"}} for i in range(20)]
    results, errors = [], []

    def go():
        try:
            results.append(p.senders.record(key, items))
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=go) for _ in range(6)]
    [th.start() for th in threads]
    [th.join() for th in threads]
    assert not errors
    assert sum(r["recorded"] for r in results) == 20 and all(r["received"] == 20 for r in results)
    with p.db.read_session() as s:
        assert len(s.execute(select(SentNotification.id)).all()) == 20


def test_a_duplicate_template_registered_concurrently_is_one_template(world):
    p, key, _ = world
    wording = "ViettelPost: Buu pham {waybill} da den buu cuc, nhan truoc {date}."
    outcomes, lock = [], threading.Lock()

    def go(text):
        try:
            out = p.senders.template_add(key, text=text)
        except Conflict:
            out = "conflict"
        with lock:
            outcomes.append(out)

    variants = [wording, wording.upper(), "  " + wording.replace(" ", "  "), wording.lower()] * 2
    threads = [threading.Thread(target=go, args=(v,)) for v in variants]
    [th.start() for th in threads]
    [th.join() for th in threads]
    assert sum(o != "conflict" for o in outcomes) == 1
    assert [t["status"] for t in p.senders.template_list(org_code="VIETTELPOST")].count("pending") == 1


def test_templates_that_ask_for_money_or_codes_and_bad_batches_are_refused(world):
    p, key, _ = world
    for bad, field in (("ViettelPost: chuyen khoan {amount} vao tai khoan ca nhan de nhan {waybill}", "text"),
                       ("ViettelPost: doc ma OTP cho shipper de nhan don {waybill}", "text"),
                       ("ViettelPost: {name} oi, don {waybill} da den", "text"), ("x" * 5000, "text"), (["a"], "text")):
        with pytest.raises(InvalidInput) as e:
            p.senders.template_add(key, text=bad)
        assert e.value.errors[0].field == field
    t = _template(p, "VIETTELPOST")
    good = {"template_id": t["id"], "phone": ME, "waybill": "VTP123456789", "sent_at": utcnow().isoformat(),
            "values": {"time": "10:42", "amount": "350.000đ", "link": "https://viettelpost.com.vn/x"}}
    cases = [({**good, "phone": "12"}, "items[1].phone"), ({**good, "sent_at": "yesterday"}, "items[1].sent_at"),
             ({**good, "values": {**good["values"], "amount": "a lot"}}, "items[1].values.amount"),
             ({**good, "template_id": _template(p, "VNPOST")["id"]}, "items[1].template_id"),
             ({**good, "values": {"x": {"nested": 1}}}, "items[1].values.x"), ("[]", "items[1]")]
    for item, field in cases:
        with pytest.raises(InvalidInput) as e:
            p.senders.record(key, [good, item])
        assert e.value.errors[0].field == field
    with p.db.read_session() as s:  # all or nothing: the good item of each refused batch is not stored
        assert s.execute(select(SentNotification.id)).first() is None
    other = ApiKeyPrincipal(org_id=key.org_id, org_code=key.org_code, actor="key:other", scopes=frozenset())
    with pytest.raises(Forbidden):
        p.senders.record(other, [good])


def test_cod_to_an_unregistered_account_while_a_parcel_is_in_delivery_is_danger(world):
    p, key, faker = world
    rows = list(faker.rows(3))
    rows[0]["recipient_phone"] = "0912 345 678"
    p.shipments.import_csv(key, io.BytesIO(csv_bytes(rows)))
    proven = ProvenPhone(ME)
    assert p.senders.cod_danger("MB 0123456789", phone=proven).level == "warning"  # nothing in delivery yet
    for status in ("picked_up", "in_transit"):
        p.shipments.set_status(key, rows[0]["waybill"], status)
    got = p.senders.cod_danger("MB 0123456789", phone=proven, purpose="fee")
    assert got.danger and got.operators == ("Viettel Post",) and "parcel_in_delivery" in got.reasons
    assert got.payee != "MB 0123456789" and "0123456789" not in repr(got.as_dict())
    assert p.senders.cod_danger("MoMo 0999 000 002", phone=proven).level == "ok"  # a registered COD wallet
    assert p.senders.cod_danger("MB 9999000001", phone=proven).registered_to == "Vietnam Post"
    assert p.senders.cod_danger("ZaloPay 0912000111").level == "warning"  # no proof: no parcel is said
    assert p.senders.cod_danger("MB 0123456789", phone=ProvenPhone("+84987654321")).level == "warning"
    with p.db.read_session() as s:  # the parcel check went through the door, logged under the citizen
        assert any("payment_check" in e for e in s.execute(select(AuditEntry.entry).where(AuditEntry.actor.like("citizen:%"))).scalars())
    for bad in ("", "x" * 500, "https://example.com", 42):
        with pytest.raises(InvalidInput):
            p.senders.cod_danger(bad)


def _race(p, template_id: int, changes) -> list[tuple[str, str]]:
    """Run ``changes`` (status, principal) on one template at the same moment: (status, new status or
    "conflict") for each."""
    barrier, lock = threading.Barrier(len(changes)), threading.Lock()
    results: list[tuple[str, str]] = []

    def go(status: str, who) -> None:
        barrier.wait()
        try:
            out = p.senders.template_set_status(who, template_id, status=status)["status"]
        except Conflict:
            out = "conflict"
        with lock:
            results.append((status, out))

    threads = [threading.Thread(target=go, args=change) for change in changes]
    [th.start() for th in threads]
    [th.join() for th in threads]
    return results


def test_status_changes_racing_on_one_template_end_in_one_state(world):
    """Verify and revoke requests at the same moment (each a compare-and-set on the status read): every
    race ends in one state, reached by the changes that succeeded, each audited once; the others are
    refused as conflicts and change nothing."""
    import orjson

    p, key, _ = world
    admin = p.intel.cli_principal()
    owner = ApiKeyPrincipal(org_id=key.org_id, org_code=key.org_code, actor="key:owner",
                            scopes=frozenset({"intel:official"}))
    plans = [("verified", "revoked"), ("verified", "verified", "verified"), ("revoked", "verified", "revoked")] * 3
    for n, plan in enumerate(plans):
        t = p.senders.template_add(key, text=f"ViettelPost: Buu pham {{waybill}} da den buu cuc so {n}, nhan truoc {{date}}.")
        results = _race(p, t["id"], [(s, admin if s == "verified" or i % 2 else owner) for i, s in enumerate(plan)])
        assert len(results) == len(plan), results  # no other error: nothing was locked out or half-written
        done = [status for status, out in results if out != "conflict"]
        assert done and all(out in ("conflict", status) for status, out in results), results
        state = next(x["status"] for x in p.senders.template_list(org_code="VIETTELPOST") if x["id"] == t["id"])
        with p.db.read_session() as s:
            changes = [orjson.loads(e)["details"] for e in s.execute(
                select(AuditEntry.entry).where(AuditEntry.subject == f"template:{t['id']}",
                                               AuditEntry.action.in_(("senders_template_verified",
                                                                      "senders_template_revoked")))
                .order_by(AuditEntry.idx)).scalars()]
        # the audited changes chain from pending to the state the template is in, one for each success
        assert len(changes) == len(done) and changes[0]["from"] == "pending" and changes[-1]["to"] == state
        assert all(a["to"] == b["from"] for a, b in zip(changes, changes[1:], strict=False)), changes
        assert sorted(c["to"] for c in changes) == sorted(done)
        assert done.count("verified") <= 1 and done.count("revoked") <= 1
