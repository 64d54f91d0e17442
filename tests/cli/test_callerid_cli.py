"""Courier numbers, the proxy pool and the console telephony adapter from the command line."""

import json
import re
import time
from datetime import UTC, datetime, timedelta

from postguard.callerid.stir import passport as pp
from postguard.callerid.stir.sip import identity_header
from postguard.platform import Platform
from tests.callerid_world import PROXY, window
from tests.cli.test_cli import run  # noqa: F401  (the fixture)
from tests.integration.test_passport_x5u import _pem, https, site, tls  # noqa: F401  (fixtures)


def test_courier_phones_proxy_pool_and_console_routing(run, settings, faker):  # noqa: F811
    assert run("orgs", "create", "vnp", "--name", "Bưu điện Thử", "--hotline", "1900 1234")[0] == 0
    p = Platform(settings.model_copy(update={"password_time_cost": 1, "password_memory_kib": 1024}))
    try:
        for u, role in (("hub", "hub"), ("an", "courier")):
            p.staff.create(org_code="VNP", username=u, display_name=f"Nguyễn Văn {u}", role=role,
                           password="mật khẩu đủ dài 123")
    finally:
        p.close()
    code, out, err = run("couriers", "phones", "add", "--org", "VNP", "--username", "an", "--phone", "0912 000 111")
    added = json.loads(out)
    challenge = added.pop("challenge")  # printed once; ``phones verify`` needs it with the code
    expires = datetime.fromisoformat(added.pop("expires_at"))  # …before the code expires
    assert code == 0 and challenge and added == {"phone": "*******111", "status": "pending"}
    assert timedelta(minutes=4) < expires - datetime.now(UTC) <= timedelta(minutes=5)
    sms = re.search(r"\b(\d{6})\b", err).group(1)  # the console notifier prints the code, number masked
    assert "0912000111" not in err and "912000111" not in err
    code, out, err = run("couriers", "phones", "verify", "--org", "VNP", "--username", "an", "--phone",
                         "+84 912.000.111", "--code", "000000" if sms != "000000" else "111111")
    assert code == 2 and "--challenge" in err  # the challenge printed by ``phones add`` is required
    code, out, err = run("couriers", "phones", "verify", "--org", "VNP", "--username", "an", "--phone",
                         "+84 912.000.111", "--code", "000000" if sms != "000000" else "111111",
                         "--challenge", challenge)
    assert code == 5 and "wrong" in err
    code, out, _ = run("couriers", "phones", "verify", "--org", "VNP", "--username", "an", "--phone",
                       "84912000111", "--code", sms, "--challenge", challenge)
    assert code == 0 and json.loads(out)["status"] == "verified"
    code, out, _ = run("couriers", "phones", "list", "--org", "VNP")
    assert json.loads(out)[0]["phone"] == "*******111" and json.loads(out)[0]["courier_status"] == "active"
    code, out, err = run("couriers", "phones", "add", "--org", "VNP", "--username", "hub", "--phone", "0912000222")
    assert code == 2 and "username: not a courier" in err

    assert run("proxy-pool", "add", "028 3800 1001", "--org", "VNP")[0] == 0
    assert run("proxy-pool", "add", PROXY, "--org", "VNP")[0] == 4  # already in a pool
    code, out, _ = run("proxy-pool", "list", "--org", "VNP")
    assert json.loads(out) == [{"number": PROXY, "status": "active", "live_sessions": 0}]
    code, out, _ = run("calls", "route", "--caller", "0912000111", "--dialled", "02838001001")
    assert code == 0 and json.loads(out)["reason"] == "no_active_delivery"
    code, _, err = run("calls", "route", "--caller", "12", "--dialled", "02838001001")
    assert code == 2 and "caller" in err

    # a live session: the courier starts a call; the console adapter connects both ways
    p = Platform(settings.model_copy(update={"password_time_cost": 1, "password_memory_kib": 1024}))
    try:
        rows = list(faker.rows(1, prefix="CL"))
        system = p.orgs.principal("VNP", actor="test")
        p.shipments.create(system, {**rows[0], "recipient_province": rows[0]["recipient_province"]})
        for status in ("picked_up", "in_transit", "out_for_delivery"):
            p.shipments.set_status(system, rows[0]["waybill"], status)
        hub = p.staff.sign_in(org_code="VNP", username="hub", password="mật khẩu đủ dài 123").principal
        an = p.staff.sign_in(org_code="VNP", username="an", password="mật khẩu đủ dài 123").principal
        p.access.assign(hub, waybill=rows[0]["waybill"], courier="an", **window())
        assert p.calls.start_call(an, waybill=rows[0]["waybill"])["proxy"] == "02838001001"
    finally:
        p.close()
    code, out, _ = run("calls", "route", "--caller", "0912000111", "--dialled", "02838001001")
    got = json.loads(out)
    assert got["action"] == "connect" and got["to"] == "recipient" and got["present_as"] == PROXY


def test_masked_only_delivery_from_the_command_line(run, settings):  # noqa: F811
    assert run("orgs", "create", "vnp", "--name", "Bưu điện Thử")[0] == 0
    assert run("proxy-pool", "add", PROXY, "--org", "VNP")[0] == 0
    code, out, _ = run("proxy-pool", "masked-only", "--org", "VNP", "--on")
    assert code == 0 and json.loads(out) == {"org": "VNP", "masked_only": True, "proxy_numbers": 1}
    p = Platform(settings)
    try:
        assert p.orgs.get("VNP").masked_only is True
    finally:
        p.close()
    code, out, _ = run("proxy-pool", "masked-only", "--org", "VNP", "--off")
    assert code == 0 and json.loads(out)["masked_only"] is False
    code, _, err = run("proxy-pool", "masked-only", "--org", "NOPE", "--on")
    assert code != 0 and "Traceback" not in err
    assert run("proxy-pool", "masked-only", "--org", "VNP")[0] == 2  # --on or --off is required


def test_verify_an_identity_header_from_the_command_line(run, site, https, tls, tmp_path, monkeypatch):  # noqa: F811
    """``calls verify``: the terminating side's verstat, with the platform's own fetcher configured by
    the settings (the loopback server's TLS certificate trusted through ``SSL_CERT_FILE``)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls[2]))
    monkeypatch.setenv("POSTGUARD_X5U_ALLOWED_HOSTS", '["127.0.0.1"]')
    (tmp_path / "sti-ca.pem").write_bytes(_pem(site.ca))
    monkeypatch.setenv("POSTGUARD_STIR_TRUSTED_CA_FILE", str(tmp_path / "sti-ca.pem"))
    x5u = https.url("/chain.pem")
    token = pp.sign(key=site.key, x5u=x5u, orig_tn="84912340123", dest_tns=["84987654321"], iat=int(time.time()),
                    attest="A")
    code, out, err = run("calls", "verify", "--identity", identity_header(token, info_url=x5u),
                         "--from", "0912 340 123", "--to", "0987654321")
    got = json.loads(out)
    assert code == 0 and got["verstat"] == "TN-Validation-Passed" and got["attest"] == "A", err
    assert "912340123" not in err and "*******123" in err  # logged, masked
    code, out, _ = run("calls", "verify", "--from", "84912340123", "--to", "84987654321")
    assert code == 0 and json.loads(out)["verstat"] == "No-TN-Validation"
    redirect = pp.sign(key=site.key, x5u=https.url("/redirect"), orig_tn="84912340123", dest_tns=["84987654321"],
                       iat=int(time.time()), attest="A")
    code, out, _ = run("calls", "verify", "--identity", redirect, "--from", "84912340123", "--to", "84987654321",
                       "--received-at", str(int(time.time())))
    assert code == 0 and json.loads(out)["reason"] == {**json.loads(out)["reason"], "code": 436,
                                                       "text": "Bad Identity Info"}
    code, _, err = run("calls", "verify", "--identity", token, "--from", "12ab", "--to", "84987654321", "--to",
                       "x", "--received-at", "2026-03-01T08:30:00")
    assert code == 2 and "from: not a telephone number" in err and "to.1:" in err and "received_at:" in err
