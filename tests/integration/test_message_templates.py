"""The message check reads the operators' registered templates: every demo operator's template,
filled in, is judged legit (pasted alone or from the operator's brandname); a message that names an
operator but is none of its templates carries that as a red flag."""

from __future__ import annotations

import pytest

from postguard.intel.seed import seed_official
from postguard.platform import Platform
from postguard.senders import text as tx
from postguard.senders.seed import EXAMPLE_BRANDNAMES, EXAMPLE_TEMPLATES, example_values, seed_senders

pytestmark = pytest.mark.both_databases




@pytest.fixture
def p(make_settings):
    platform = Platform(make_settings())
    seed_official(platform.intel, platform.orgs)
    seed_senders(platform.senders, platform.intel)
    yield platform
    platform.close()


def test_every_registered_template_of_the_demo_operators_is_judged_legit(p):
    checked = 0
    for code, wordings in EXAMPLE_TEMPLATES.items():
        for wording in wordings:
            values = {k: v for k, v in example_values(code).items() if k in tx.placeholders(wording)}
            message = tx.render(wording, values)
            answer = p.messages.answer(message)
            assert answer["label"] == "legit", (message, answer["reasons"])
            assert answer["operator"]["outcome"] == "template" and answer["operator"]["org"] == code
            assert "operator_template" in {r["code"] for r in answer["reasons"]}
            # and from the operator's registered brandname
            answer = p.messages.answer(message, sender=EXAMPLE_BRANDNAMES[code][0])
            assert answer["label"] == "legit", (message, answer["reasons"])
            assert answer["operator"]["outcome"] == "template" and "registered_sender" in answer["operator"]["reasons"]
            checked += 1
    assert checked == sum(len(w) for w in EXAMPLE_TEMPLATES.values()) >= 5


def test_a_message_naming_an_operator_but_none_of_its_templates_is_flagged(p):
    fake = ("ViettelPost: Don hang cua ban giao khong thanh cong do sai dia chi. Vui long thanh toan phi luu kho "
            "25.000d tai http://viettelpost-vn.top de duoc giao lai.")
    answer = p.messages.answer(fake)
    assert answer["label"] in ("scam", "suspicious")
    assert answer["operator"]["outcome"] == "suspicious"
    assert "operator_suspicious" in {r["code"] for r in answer["reasons"]}


def test_a_message_naming_no_operator_has_no_operator_block(p):
    answer = p.messages.answer("Chao ban, hen gap lai vao cuoi tuan nhe.")
    assert "operator" not in answer and answer["label"] == "legit"


def test_a_template_verified_on_one_worker_is_read_on_another_within_the_registry_interval(p, monkeypatch):
    import time

    from postguard.senders import service

    monkeypatch.setattr(service, "REGISTRY_SECONDS", 0.2)
    other = Platform(p.settings)
    try:
        message = "VNPost: Quy khach co thu moi tai buu cuc, vui long mang CCCD den nhan truoc 17:00."
        assert other.senders.match_message(message).outcome == "suspicious"  # names VNPost, no such wording yet
        admin = p.intel.cli_principal()
        t = p.senders.template_add(admin, text="VNPost: Quy khach co thu moi tai buu cuc, vui long mang CCCD den "
                                              "nhan truoc {time}.", org_code="VNPOST")
        p.senders.template_set_status(admin, t["id"], status="verified")
        assert p.senders.match_message(message).outcome == "template"  # this worker: at once
        time.sleep(0.25)
        assert other.senders.match_message(message).outcome == "template"  # another: within the interval
    finally:
        other.close()


def test_a_payment_to_an_account_that_is_no_operators_cod_account_is_a_red_flag(p):
    scam = "Don hang cua ban bi giu do sai dia chi. Vui long chuyen khoan phi 25.000d vao tai khoan MB 0912345678 de giao lai."
    answer = p.messages.answer(scam)
    codes = {r["code"] for r in answer["reasons"]}
    assert "unregistered_payee" in codes and answer["label"] == "scam"
    genuine = "Tien thu ho (COD) don hang cua ban la 350.000d, ban co the chuyen khoan vao tai khoan MB 9999000001."
    answer = p.messages.answer(genuine)
    assert "registered_cod_account" in {r["code"] for r in answer["reasons"]}
    assert "unregistered_payee" not in {r["code"] for r in answer["reasons"]}
    # no payment asked: an account number alone is not judged against the COD accounts
    answer = p.messages.answer("So tai khoan MB 0912345678 cua em day anh nhe, hom nao tra cung duoc.")
    assert not {"unregistered_payee", "registered_cod_account"} & {r["code"] for r in answer["reasons"]}
