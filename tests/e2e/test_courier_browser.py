"""A courier, in a real browser on a phone-sized screen: signs in, sees the deliveries (masked),
reveals the parcel assigned to them (full phone as a tel: link, address), and is refused another
parcel — both the reveal and the refusal are in the access log."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from postguard.app import create_app
from postguard.audit.models import AuditEntry
from postguard.phones import normalize_phone
from postguard.platform import Platform
from postguard.settings import Settings
from postguard.shipments.models import LabelToken, Shipment
from postguard.synthetic import Faker
from tests.world import ORG, PASSWORD, build_world

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]  # one chromium, on one worker


@pytest.fixture
def served(tmp_path, live_server, migrated_sqlite):
    migrated_sqlite(tmp_path / "data" / "pg.db")
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{(tmp_path / 'data' / 'pg.db').as_posix()}",
                        password_time_cost=1, password_memory_kib=1024, log_format="json")
    p = Platform(settings)
    w = build_world(p, Faker(11), keys=False)
    base = live_server(create_app(settings, platform=p))
    yield base, w
    p.close()


def _log(p: Platform, action: str) -> list[dict]:
    with p.db.read_session() as s:
        rows = s.execute(select(AuditEntry.entry).where(AuditEntry.action == action).order_by(AuditEntry.idx))
        return [json.loads(e) for e in rows.scalars()]


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_courier_reveals_the_assigned_parcel_and_is_refused_another(served, page):
    base, w = served
    p = w.platform
    mine, other = w.assigned, w.other
    courier = w.staff["an"]

    page.goto(f"{base}/staff/deliveries")  # not signed in: sent to the sign-in page, then back
    assert "/staff/login" in page.url
    page.fill("input[name=org]", ORG)
    page.fill("input[name=username]", "an")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/staff/deliveries")

    cards = page.locator("article.delivery")
    assert cards.count() == 2  # the assigned parcel and the one still in transit
    listing = page.inner_text("main")
    assert mine["waybill"] in listing and other["waybill"] not in listing
    assert normalize_phone(mine["recipient_phone"]) not in page.content()
    assert mine["recipient_address"] not in listing
    assert _fits_the_screen(page)

    card = page.locator(f'article[data-waybill="{mine["waybill"]}"]')
    card.get_by_role("button", name="Xem thông tin giao hàng").click()
    page.wait_for_url(f"{base}/staff/deliveries/{mine['waybill']}/reveal")
    phone = normalize_phone(mine["recipient_phone"])
    tel = page.locator(f'a[href="tel:{phone}"]')
    assert tel.count() == 1 and tel.inner_text() == phone
    revealed = page.inner_text("main")
    assert mine["recipient_address"] in revealed and mine["recipient_name"] in revealed
    assert "nhật ký" in revealed
    assert _fits_the_screen(page)

    # the unassigned parcel: its page (where a scanned label leads) is refused ...
    resp = page.goto(f"{base}/staff/deliveries/{other['waybill']}")
    assert resp.status == 403 and "Không được phép" in page.inner_text("main")
    # ... and so is a reveal form pointed at it (the courier edits a form's target by hand)
    page.goto(f"{base}/staff/deliveries")
    form = page.locator(f'article[data-waybill="{mine["waybill"]}"] form')
    form.evaluate("(f, w) => { f.action = '/staff/deliveries/' + w + '/reveal'; }", other["waybill"])
    with page.expect_response(lambda r: r.url.endswith(f"/{other['waybill']}/reveal")) as answer:
        form.locator("button").click()
    assert answer.value.status == 403
    page.wait_for_load_state()
    refused = page.inner_text("main")
    assert "Không được xem thông tin" in refused and "ghi vào nhật ký" in refused
    assert normalize_phone(other["recipient_phone"]) not in page.content()

    reveals = [e for e in _log(p, "reveal") if e["actor"] == courier.actor]
    assert [(e["subject"], e["purpose"]) for e in reveals] == [(mine["waybill"], "delivery")]
    denied = [e for e in _log(p, "reveal_denied") if e["actor"] == courier.actor]
    assert [e["subject"] for e in denied] == [other["waybill"]]
    assert "not assigned" in denied[0]["details"]["reason"]
    assert any(e["subject"] == f"/staff/deliveries/{other['waybill']}" for e in _log(p, "access_denied"))
    assert p.audit.verify().ok


def test_a_scanned_label_opens_the_parcel_for_its_courier(served, page):
    base, w = served
    p = w.platform
    mine = w.assigned
    p.labels.render(p.orgs.principal(ORG, actor="test"), [mine["waybill"]])
    with p.db.read_session() as s:
        token = s.execute(select(LabelToken.token).join(Shipment, Shipment.id == LabelToken.shipment_id)
                          .where(Shipment.waybill == mine["waybill"])).scalar_one()
    page.goto(f"{base}/q/{token}")  # anyone: the landing page says nothing about the parcel
    assert mine["waybill"] not in page.content() and "Mã QR" in page.inner_text("main")
    page.goto(f"{base}/staff/login?next=/q/{token}")
    page.fill("input[name=org]", ORG)
    page.fill("input[name=username]", "an")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/staff/deliveries/{mine['waybill']}")
    page.get_by_role("button", name="Xem thông tin giao hàng").click()
    page.wait_for_url(f"{base}/staff/deliveries/{mine['waybill']}/reveal")
    assert page.locator(f'a[href="tel:{normalize_phone(mine["recipient_phone"])}"]').count() == 1
