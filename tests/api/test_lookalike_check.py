"""``/v1/check`` and ``/kiem-tra``: a link or domain imitating a brand answers ``lookalike`` naming
the brand and its official site; official domains stay official; a host an analyst delisted is not
raised again; the registry's verified domains are brands on every worker after a refresh."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from postguard.app import create_app
from postguard.intel.seed import seed_official
from postguard.platform import Platform

pytestmark = pytest.mark.both_databases


@pytest.fixture
def brands_file(tmp_path):
    f = tmp_path / "brands.tsv"
    f.write_text("# test brands\nVietcombank\tvietcombank.com.vn\nLazada\tlazada.vn\n", encoding="utf-8")
    return f


@pytest.fixture
def world(make_settings, brands_file):
    settings = make_settings(lookalike_brands_file=brands_file, intel_check_rate="1000/minute")
    p = Platform(settings)
    seed_official(p.intel, p.orgs)  # Vietnam Post, Viettel Post, Shopee, Viettel, NCSC: verified domains
    yield settings, p
    p.close()


@pytest.fixture
def api(world):
    settings, p = world
    return TestClient(create_app(settings, platform=p))


@pytest.mark.parametrize("value,brand,official", [
    ("vnpost-vn.com", "Vietnam Post", "vnpost.vn"),
    ("https://vietteIpost.vn/tra-cuu", "Viettel Post", "viettelpost.com.vn"),
    ("viettelpost.com.vn.tra-cuu.xyz", "Viettel Post", "viettelpost.com.vn"),
    ("http://shopee.vn.аррӏе.com/", "Shopee Việt Nam", "shopee.vn"),  # the registry's name for it
    ("vietcombank-otp.top", "Vietcombank", "vietcombank.com.vn"),  # from the brands file
])
def test_a_lookalike_names_the_brand_and_its_official_site(api, value, brand, official):
    r = api.post("/v1/check", json={"value": value})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] == "lookalike" and body["official"] is None
    assert body["lookalike"]["brand"] == brand and body["lookalike"]["official"][0] == official
    assert f"Giả mạo {brand} — trang chính thức là {official}" in body["headline_vi"]
    assert body["reasons"][0]["code"].startswith("lookalike_")


@pytest.mark.parametrize("value", ["vnpost.vn", "https://www.viettelpost.com.vn/tra-cuu", "shopee.vn"])
def test_official_domains_stay_official(api, value):
    body = api.post("/v1/check", json={"value": value}).json()
    assert body["verdict"] == "official" and "lookalike" not in body


def test_ordinary_domains_stay_unknown(api):
    body = api.post("/v1/check", json={"value": "example-bakery.com"}).json()
    assert body["verdict"] == "unknown" and "lookalike" not in body


def test_reported_lookalike_is_lookalike_and_confirmed_stays_confirmed(world, api):
    _, p = world
    p.intel.report(indicators=["vnpost-vn.com"], category="fake_courier", client="c1")
    body = api.post("/v1/check", json={"value": "vnpost-vn.com"}).json()
    assert body["verdict"] == "lookalike" and body["lookalike"]["brand"] == "Vietnam Post"
    staff = p.intel.cli_principal()
    ind = next(i for i in p.intel.queue(staff, reported=True) if i["type"] == "domain")
    p.intel.decide(staff, ind["indicator"], action="confirm", note="fake courier site")
    body = api.post("/v1/check", json={"value": "vnpost-vn.com"}).json()
    assert body["verdict"] == "confirmed" and body["lookalike"]["official"][0] == "vnpost.vn"
    p.intel.decide(staff, ind["indicator"], action="delist", note="the domain now belongs to the operator")
    body = api.post("/v1/check", json={"value": "vnpost-vn.com"}).json()
    assert body["verdict"] == "delisted" and "lookalike" not in body  # an analyst's decision is not raised again


def test_a_domain_verified_on_one_worker_is_protected_on_another_after_refresh(world, make_settings, brands_file):
    settings, p = world
    other = Platform(settings)
    try:
        assert other.intel.check("tiki-khuyenmai.top", client="x")["verdict"] == "unknown"
        org = p.orgs.create(code="TIKI", name="Công ty Cổ phần Tiki (Tiki)")
        admin = p.intel.cli_principal()
        ch = p.intel.official_add(admin, kind="domain", value="tiki.vn", org_code=org.code)
        p.intel.official_set_status(admin, ch["id"], status="verified")
        assert other.intel.brands.refresh() is True and other.intel.brands.refresh() is False
        other.intel.known.refresh()
        body = other.intel.check("tiki-khuyenmai.top", client="x")
        assert body["verdict"] == "lookalike" and body["lookalike"]["brand"] == "Tiki"
        assert other.intel.check("tiki.vn", client="x")["verdict"] == "official"
    finally:
        other.close()


def test_the_check_page_says_who_is_imitated(api):
    page = api.get("/kiem-tra")
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    r = api.post("/kiem-tra", data={"value": "vnpost-vn.com", "form_token": token})
    assert r.status_code == 200 and 'data-verdict="lookalike"' in r.text
    assert "Giả mạo Vietnam Post — trang chính thức là vnpost.vn" in r.text
    r = api.post("/kiem-tra?lang=en", data={"value": "vnpost-vn.com", "form_token": token})
    assert "Imitates Vietnam Post: the official site is vnpost.vn" in r.text


def test_a_bad_brands_file_is_refused_when_settings_load(make_settings, tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        make_settings(lookalike_brands_file=tmp_path / "absent.tsv")
