"""Staff duties: once a confidentiality policy is in force, the door refuses personal data to staff who
have not acknowledged it (or its training, or whose acknowledgement expired), logs the refusal, and opens
again once they have; acknowledgements are the person's own (the text they saw), recorded once however
many arrive together; only administrators and the DPO publish and record; the report names who to remind."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from postguard.access.models import PolicyAcknowledgement
from postguard.audit.models import AuditEntry
from postguard.db.base import utcnow
from postguard.errors import Conflict, DutyPending, Forbidden, InvalidInput
from postguard.platform import Platform
from tests.conftest import parcel_out_for_delivery

pytestmark = pytest.mark.both_databases  # the acknowledgement's row lock and unique key, and the door's query

PASSWORD = "correct horse battery"
TEXT = "Nhân viên không tiết lộ họ tên, số điện thoại, địa chỉ của khách hàng cho bất kỳ ai."


@pytest.fixture
def world(make_settings, faker):
    p = Platform(make_settings(password_time_cost=1, password_memory_kib=1024))
    courier, rows = parcel_out_for_delivery(p, faker, password=PASSWORD, hours=3)
    dpo = p.staff.create(org_code="VNP", username="lan", display_name="Lan", role="dpo", password=PASSWORD)
    waybill = rows[0]["waybill"]
    yield p, dpo, courier, waybill
    p.close()


def _reveal(p, courier, waybill):
    return p.access.reveal(courier, waybill=waybill, purpose="delivery")


def test_the_door_refuses_until_the_policy_in_force_is_acknowledged(world):
    p, dpo, courier, waybill = world
    assert _reveal(p, courier, waybill)["recipient_name"]  # no policy published: nobody is bound yet
    policy = p.duties.publish(dpo, version="2026.1", title="Bảo mật thông tin khách hàng", body=TEXT)
    with pytest.raises(DutyPending, match="not acknowledged the confidentiality policy 2026.1") as e:
        _reveal(p, courier, waybill)
    assert e.value.status == 403 and e.value.slug == "duty-pending"
    with p.db.session() as s:
        refused = s.execute(select(AuditEntry.entry).where(AuditEntry.action == "reveal_denied")).scalars().all()
    assert any("confidentiality policy 2026.1 not acknowledged" in r for r in refused)
    with pytest.raises(Conflict, match="changed since it was shown"):
        p.duties.acknowledge(courier, version="2026.1", sha256="0" * 64)
    mine = p.duties.in_force(courier)
    assert mine is not None and mine["state"] == "not_acknowledged" and mine["body"] == TEXT
    done = p.duties.acknowledge(courier, version="2026.1", sha256=mine["sha256"])
    assert done["state"] == "current" and done["sha256"] == policy["sha256"]
    assert _reveal(p, courier, waybill)["recipient_name"]
    # a new version in force binds again; one that takes effect later does not yet
    p.duties.publish(dpo, version="2026.2", title="Bản sửa đổi", body=TEXT + " Bản sửa đổi.",
                     effective_at=utcnow() + timedelta(days=7))
    assert _reveal(p, courier, waybill)["recipient_name"]
    p.duties.publish(dpo, version="2026.3", title="Bản sửa đổi", body=TEXT + " Có hiệu lực ngay.")
    with pytest.raises(DutyPending, match="2026.3"):
        _reveal(p, courier, waybill)


def test_training_and_expiry_are_duties_too_and_the_report_names_who_to_remind(world):
    p, dpo, courier, waybill = world
    p.duties.publish(dpo, version="V1", title="Chính sách", body=TEXT, training_required=True, valid_days=30,
                     effective_at=utcnow() - timedelta(days=60))
    long_ago = utcnow() - timedelta(days=31)
    p.duties.record(dpo, username="an", version="V1", how="paper", at=long_ago)
    with pytest.raises(DutyPending, match="not completed the training"):
        _reveal(p, courier, waybill)
    p.duties.record(dpo, username="an", version="V1", training="Lớp bảo mật dữ liệu, bưu cục Hà Đông", at=long_ago)
    with pytest.raises(DutyPending, match="has expired"):
        _reveal(p, courier, waybill)
    p.duties.record(dpo, username="an", version="V1", how="paper", at=utcnow() - timedelta(days=20))
    assert _reveal(p, courier, waybill)["recipient_name"]  # due within 14 days: still allowed, and reminded
    report = p.duties.report(dpo)
    assert report["remind"] == ["an"]
    states = {m["username"]: m["state"] for m in report["staff"]}
    assert states == {"an": "due_soon", "hub": "not_acknowledged", "lan": "not_acknowledged"}
    with pytest.raises(InvalidInput):
        p.duties.record(dpo, username="an", version="V1", how="paper", at=utcnow() + timedelta(hours=1))


def test_only_administrators_and_the_dpo_publish_and_record(world):
    p, dpo, courier, _ = world
    with pytest.raises(Forbidden):
        p.duties.publish(courier, version="X", title="X", body=TEXT)
    with pytest.raises(Forbidden):
        p.duties.report(courier)
    with pytest.raises(InvalidInput) as e:
        p.duties.publish(dpo, version="", title="", body="short", valid_days=5)
    assert {f.field for f in e.value.errors} == {"version", "title", "body", "valid_days"}
    p.duties.publish(dpo, version="V1", title="Chính sách", body=TEXT)
    with pytest.raises(Conflict):
        p.duties.publish(dpo, version="V1", title="Chính sách", body=TEXT)


def test_acknowledgements_arriving_together_are_recorded_once(world):
    p, dpo, courier, waybill = world
    sha = p.duties.publish(dpo, version="V1", title="Chính sách", body=TEXT)["sha256"]
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def ack():
        try:
            start.wait()
            p.duties.acknowledge(courier, version="V1", sha256=sha)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=ack) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with p.db.session() as s:
        assert s.execute(select(func.count()).select_from(PolicyAcknowledgement)).scalar_one() == 1
    assert _reveal(p, courier, waybill)["recipient_name"]
