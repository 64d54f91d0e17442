"""The demo has a member of staff for each role, parcels out for delivery for its couriers, and
numbers that show every answer of the call check."""

from postguard.access.models import ROLES
from postguard.demo import SHOPS, demo_password, seed
from postguard.intel.service import KEY_ORG
from postguard.phones import normalize_phone
from postguard.platform import Platform
from postguard.vault.masking import mask_name


def test_demo_staff_sign_in_and_the_courier_can_deliver(make_settings):
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024))
    try:
        info = seed(p, shipments=20)
        assert {m["role"] for m in info["staff"]} == set(ROLES)
        again = seed(p, shipments=20)  # idempotent: same accounts, windows renewed
        assert again["staff"] == info["staff"] and again["assigned"] == info["assigned"]
        assert {m["org"] for m in info["staff"] if m["role"] == "analyst"} == {KEY_ORG}
        signed = {m["username"]: p.staff.sign_in(org_code=m["org"], username=m["username"],
                                                 password=demo_password(m["username"])) for m in info["staff"]}
        mine = p.access.deliveries(signed["shipper"].principal)
        assert len(mine) == 4 and sum(d["can_reveal"] for d in mine) == 3
        theirs = p.access.deliveries(signed["shipper2"].principal)
        assert len(theirs) == 3 and all(d["can_reveal"] for d in theirs)
        first = next(d for d in mine if d["can_reveal"])
        got = p.access.reveal(signed["shipper"].principal, waybill=first["waybill"], purpose="delivery")
        assert got["recipient_phone"].startswith("+84")
    finally:
        p.close()


def test_the_demo_shows_every_call_check_outcome_and_its_examples_find_something(make_settings):
    """What the demo prints to try: the reported scam number, the official hotline, each courier's
    verified number and the first parcel's recipient give every outcome of the call check, and the
    README's search example (0912 345 678) finds that parcel. Shops are shown by name, people masked."""
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024, notifier="memory"))
    try:
        info = seed(p, shipments=20)
        tries = info["try"]
        assert [c["username"] for c in tries["couriers"]] == ["shipper", "shipper2"]
        assert {c["status"] for c in p.couriers.list_phones(org_code="DEMO")} == {"verified"}
        assert seed(p, shipments=20)["try"] == tries  # a second start: nothing registered twice

        scam = p.callcheck.check(caller=tries["scam"], client="t1")
        assert scam["outcome"] == "not_courier" and scam["flags"][0]["code"] == "reported_number"
        assert p.intel.check(tries["official"], client="t1")["verdict"] == "official"
        shipper, shipper2 = (c["phone"] for c in tries["couriers"])
        assert p.callcheck.check(caller=shipper, client="t1")["outcome"] == "courier"
        recipient = tries["recipient"]
        sent = p.callcheck.send_code(phone=recipient["phone"], client="t1")
        code = p.notifier.last_code(normalize_phone(recipient["phone"]))
        proof = p.callcheck.confirm_code(phone=recipient["phone"], code=code, challenge=sent["challenge"], client="t1")
        verified = p.callcheck.check(caller=shipper, proof=proof, client="t1")
        assert verified["outcome"] == "verified" and verified["shipment"]["waybill_suffix"] == recipient["waybill"][-4:]
        assert p.callcheck.check(caller=shipper2, proof=proof, client="t1")["outcome"] == "courier_no_delivery"

        demo = p.orgs.principal("DEMO", actor="test")
        found = p.shipments.search_by_phone(demo, "0912 345 678")
        assert [s["waybill"] for s in found] == ["DM000000000"] == [recipient["waybill"]]
        senders = [p.shipments.get(demo, f"DM{i:09d}")["sender"]["name"] for i in range(20)]
        assert [n for n in senders if n in SHOPS] == [SHOPS[i // 5 % len(SHOPS)] for i in range(2, 20, 5)]
        assert all(n in SHOPS or n == mask_name(n) for n in senders)
    finally:
        p.close()
