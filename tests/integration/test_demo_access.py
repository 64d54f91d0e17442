"""The demo has a member of staff for each role and parcels out for delivery for its couriers."""

from postguard.access.models import ROLES
from postguard.demo import demo_password, seed
from postguard.intel.service import KEY_ORG
from postguard.platform import Platform


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
