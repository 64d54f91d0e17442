"""The server runs every periodic job of ``postguard.jobs`` itself, in its lifespan."""

import time
from datetime import timedelta

from sqlalchemy import select, update
from starlette.testclient import TestClient

from postguard.app import create_app
from postguard.callerid.models import MaskedCall
from postguard.db.base import utcnow
from tests.callerid_world import PROXY, prebuilt_world


def test_the_server_ends_masked_calls_whose_time_is_up(prebuilt, faker):
    world = prebuilt_world(prebuilt, faker, password_time_cost=1, password_memory_kib=1024, notifier="memory",
                           masked_call_end_interval_seconds=1)
    p = world.p
    try:
        p.calls.proxy_add(org_code="VNP", number=PROXY)
        p.calls.start_call(world.people["an"], waybill=world.waybill)
        with p.db.session() as s:
            s.execute(update(MaskedCall).values(ends_at=utcnow() - timedelta(minutes=1)))  # its window closed

        def ended():
            with p.db.read_session() as s:
                return s.execute(select(MaskedCall.ended_at, MaskedCall.ended_reason)).one()

        assert ended() == (None, None)  # routing refuses it already; nothing has ended it yet
        with TestClient(create_app(p.settings, platform=p)):
            deadline = time.monotonic() + 15
            while ended()[0] is None:
                assert time.monotonic() < deadline, "the expired call was not ended"
                time.sleep(0.1)
        assert ended()[1] == "window_closed"
    finally:
        p.close()
