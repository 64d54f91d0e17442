"""Between the intelligence store and sharing: what is shared, at which TLP, and that a shared value
reads back to the same normal form (hypothesis over synthetic numbers)."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.intel.exchange import SHARED_VERDICTS, category_of, shared_value, tlp_of, to_shared
from postguard.intel.normalize import detect

T0 = datetime(2026, 1, 1, tzinfo=UTC)
mobiles = st.builds(lambda p, n: f"0{p}{n:07d}", st.sampled_from(["91", "98", "90", "32", "70", "86"]),
                    st.integers(0, 10**7 - 1))


@given(mobiles)
def test_phones_are_amber_and_read_back(raw):
    n = detect(raw)
    assert n.type == "phone" and tlp_of(n.type, n.value) == "amber"
    out = to_shared(type_=n.type, value=n.value, verdict="reported", score=40, reports=1, categories=["fake_bank"],
                    first_seen=T0, last_seen=T0)
    assert out.value == n.value and out.tlp == "amber" and out.score == 0.4
    assert detect(out.value, out.type).value == n.value


@pytest.mark.parametrize("raw,type_,tlp", [
    ("Vietcombank 0123456789", "bank_account", "amber"),
    ("momo 0912345678", "ewallet", "amber"),
    ("https://zalo.me/0912345678", "social", "amber"),
    ("https://www.facebook.com/shipper.gia", "social", "green"),
    ("https://www.facebook.com/profile.php?id=1234567", "social", "green"),
    ("https://t.me/joinchat/AbCd12", "social", "green"),
    ("https://www.tiktok.com/@giaohang", "social", "green"),
    ("http://giao-hang-vnpost.com/phi?ma=1", "url", "green"),
    ("vnpost-hoantien.com", "domain", "green"),
])
def test_every_shared_type_reads_back(raw, type_, tlp):
    n = detect(raw)
    assert n.type == type_ and tlp_of(n.type, n.value) == tlp
    value = shared_value(n.type, n.value)
    assert detect(value, n.type).value == n.value


def test_what_is_not_shared():
    args = dict(score=10, reports=1, categories=(), first_seen=T0, last_seen=T0)
    assert to_shared(type_="phone", value="+84912345678", verdict="unknown", **args) is None
    assert to_shared(type_="phone", value="+84912345678", verdict="official", **args) is None
    assert to_shared(type_="sms_brand", value="VNPOST", verdict="confirmed", **args) is None
    assert to_shared(type_="app", value="android:com.x.y", verdict="confirmed", **args) is None
    assert to_shared(type_="phone", value="+84912345678", verdict="delisted", **args).verdict == "delisted"
    assert set(SHARED_VERDICTS) == {"reported", "corroborated", "confirmed", "disputed", "delisted"}


def test_partner_categories_map_to_ours():
    assert category_of(["courier-impersonation"]) == "fake_courier"
    assert category_of(["Fake-Bank"]) == "fake_bank"
    assert category_of(["nothing-we-know", "investment"]) == "investment"
    assert category_of([]) == "other"
