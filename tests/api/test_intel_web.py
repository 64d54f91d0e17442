"""The citizen pages: check and report, Vietnamese first, English switch, never "safe"."""

import re

import pytest
from fastapi.testclient import TestClient

from postguard.app import create_app


@pytest.fixture
def client(settings, platform):
    return TestClient(create_app(settings, platform=platform))


def _token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("lang,unknown,safe_words", [
    ("vi", "KHÔNG có nghĩa là an toàn", ["An toàn", "an toàn."]),
    ("en", "does NOT mean it is safe", ["Safe", "is safe."]),
])
def test_unknown_is_never_rendered_as_safe(client, lang, unknown, safe_words):
    page = client.get(f"/kiem-tra?lang={lang}")
    assert page.status_code == 200 and 'name="value"' in page.text
    r = client.post(f"/kiem-tra?lang={lang}", data={"value": "0966 345 679", "form_token": _token(page.text)})
    assert r.status_code == 200
    assert 'data-verdict="unknown"' in r.text and unknown in r.text
    verdict_block = r.text.split('data-verdict="unknown"')[1].split("</section>")[0]
    for w in safe_words:
        assert w not in verdict_block.replace(unknown, "")
    assert "0966 345 679" not in r.text and "966345679" not in r.text and "*******679" in r.text  # masked


def test_check_page_shows_reports_and_errors(client, platform):
    platform.intel.report(indicators=["0912345678"], category="fake_courier", client="a")
    page = client.get("/kiem-tra")
    r = client.post("/kiem-tra", data={"value": "+84 912 345 678", "form_token": _token(page.text)})
    assert 'data-verdict="reported"' in r.text and "Đã bị báo cáo" in r.text
    r = client.post("/kiem-tra", data={"value": "!!!", "form_token": _token(page.text)})
    assert r.status_code == 422 and "role=\"alert\"" in r.text
    r = client.post("/kiem-tra", data={"value": "0912345678", "form_token": "forged"})
    assert r.status_code == 403


def test_report_page(client, platform):
    page = client.get("/bao-cao?lang=en")
    assert page.status_code == 200 and "Report a scam" in page.text
    files = {"evidence": ("s.png", b"\x89PNG\r\n\x1a\n" + b"x" * 40, "image/png")}
    r = client.post("/bao-cao", data={"values": "0977 222 333\nhttps://vnpost-phi.example.net/a",
                                      "category": "fake_courier", "contact": "", "form_token": _token(page.text)},
                    files=files)
    assert r.status_code == 201 and "Thank you" in r.text  # the language chosen sticks
    assert platform.intel.check("0977222333", client="z")["verdict"] == "reported"
    r = client.post("/bao-cao", data={"values": "0977 222 333", "category": "bogus", "form_token": _token(page.text)})
    assert r.status_code == 422 and "category" in r.text


@pytest.mark.parametrize("lang,headline,reason", [
    ("vi", "Liên kết này được ngụy trang: thực chất nó dẫn tới evil-pay.com", "trình duyệt coi nó như &#39;/&#39;"),
    ("en", "This link is disguised: it really goes to evil-pay.com", "a browser reads it as &#39;/&#39;"),
])
def test_check_page_explains_a_disguised_link(client, lang, headline, reason):
    page = client.get(f"/kiem-tra?lang={lang}")
    r = client.post(f"/kiem-tra?lang={lang}", data={"value": "https://evil-pay.com\\@vnpost.vn/phi-luu-kho",
                                                     "form_token": _token(page.text)})
    assert r.status_code == 200 and 'data-verdict="suspicious"' in r.text
    block = r.text.split('data-verdict="suspicious"')[1].split("</section>")[0]
    assert headline in block and reason in block and "evil-pay.com/@vnpost.vn/phi-luu-kho" in block
    r = client.post(f"/kiem-tra?lang={lang}", data={"value": "https://vnp\u043est.vn/a", "form_token": _token(page.text)})
    assert "vnp\u043est.vn/a (xn--vnpst-lye.vn)" in r.text  # both forms
    assert re.search(r'<p class="note">[^<]*xn--vnpst-lye\.vn\.</p>', r.text)
