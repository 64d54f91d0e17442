"""The API documentation and the error pages in a real browser: Swagger UI at /docs draws every
operation from the app's own files under the pages' CSP, asking no other host for anything; an
unknown address shows the Vietnamese error page (the browser's own ``Accept`` header chooses it)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from postguard.app import create_app
from postguard.platform import Platform
from postguard.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]  # one chromium, on one worker


@pytest.fixture
def served(tmp_path, live_server, migrated_sqlite):
    migrated_sqlite(tmp_path / "data" / "pg.db")
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{(tmp_path / 'data' / 'pg.db').as_posix()}")
    p = Platform(settings)
    yield live_server(create_app(settings, platform=p))
    p.close()


def test_swagger_ui_draws_every_operation_offline(served, page):
    hosts, problems = set(), []
    page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{served}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    assert page.locator(".opblock").count() > 80
    assert page.locator(".scheme-container .authorize").count() == 1  # the security schemes are offered
    page.click(".opblock-post:has([data-path='/v1/shipments'])")
    page.wait_for_selector(".responses-table")
    assert "application/problem+json" in page.inner_text(".responses-wrapper")
    assert hosts == {urlsplit(served).netloc}, hosts
    assert not problems, problems  # no CSP violation, no script error


def test_an_unknown_address_shows_the_vietnamese_page(served, page):
    resp = page.goto(f"{served}/khong-co-trang-nay")
    assert resp.status == 404
    assert page.inner_text("h1") == "Không tìm thấy"
    assert page.inner_text("section[lang=en] h2") == "Not found"
    page.click("text=Về trang chủ")
    page.wait_for_url(f"{served}/")
