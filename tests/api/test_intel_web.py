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


@pytest.mark.parametrize("typed,stored", [("350000đ", 350_000), ("350k", 350_000), ("1.500.000 đồng", 1_500_000),
                                          ("1,5 triệu", 1_500_000), ("350.000 VND", 350_000), ("2tr", 2_000_000)])
def test_report_form_reads_amounts_as_people_write_them(client, platform, typed, stored):
    """Finding: "350000đ", "350k" or "1.500.000 đồng" threw the whole report away."""
    from sqlalchemy import select

    from postguard.intel.models import Report

    page = client.get("/bao-cao")
    r = client.post("/bao-cao", data={"values": "0977 222 333", "category": "fake_courier", "amount_lost_vnd": typed,
                                      "form_token": _token(page.text)})
    assert r.status_code == 201, r.text[-600:]
    with platform.db.session() as s:
        assert s.execute(select(Report.amount_lost_vnd)).scalar_one() == stored


@pytest.mark.parametrize("lang,name,reason", [
    ("vi", 'Số tiền bị mất (<span lang="en">Amount lost</span>)', "Không đọc được số tiền"),
    ("en", 'Amount lost (<span lang="vi">Số tiền bị mất</span>)', "The amount could not be read"),
])
def test_report_form_keeps_what_was_typed_and_names_the_field(client, platform, lang, name, reason):
    """A refused report comes back with every field as typed (hostile text escaped, a leading newline
    kept) and the refused field named in both languages, the other marked with its language; nothing is
    stored."""
    from sqlalchemy import func, select

    from postguard.intel.models import Report

    page = client.get(f"/bao-cao?lang={lang}")
    typed = {"values": "\n0977 222 333\nhttps://vnpost-phi.example.net/a", "category": "fake_bank",
             "description": 'Gọi tự xưng bưu điện <script>alert("x")</script>', "amount_lost_vnd": "350 tỷ đô",
             "contact": "nguoi-bao@example.org"}
    files = {"evidence": ("s.png", b"\x89PNG\r\n\x1a\n" + b"x" * 40, "image/png")}
    r = client.post(f"/bao-cao?lang={lang}", data={**typed, "form_token": _token(page.text)}, files=files)
    assert r.status_code == 422
    errors = r.text.split('id="report-errors"')[1].split("</section>")[0]
    assert f'data-field="amount_lost_vnd"><strong>{name}</strong>: {reason}' in errors
    assert 'name="amount_lost_vnd" type="text" inputmode="text" maxlength="40" value="350 tỷ đô"' in r.text
    assert 'aria-invalid="true"' in r.text.split('id="amount_lost_vnd"')[1].split(">")[0]
    assert '>\n\n0977 222 333\nhttps://vnpost-phi.example.net/a</textarea>' in r.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</textarea>" in r.text and "<script>alert" not in r.text
    assert '<option value="fake_bank" selected>' in r.text and 'value="nguoi-bao@example.org"' in r.text
    assert ("chọn lại tệp" if lang == "vi" else "choose the evidence files again") in errors
    with platform.db.session() as s:
        assert s.execute(select(func.count()).select_from(Report)).scalar_one() == 0
    # A bad value on the second line is named by its line in the form, in both languages.
    r = client.post(f"/bao-cao?lang={lang}", data={**typed, "values": "0977 222 333\n\n!!!",
                                                    "amount_lost_vnd": "1,5 triệu", "form_token": _token(page.text)})
    assert r.status_code == 422 and 'value="1,5 triệu"' in r.text
    assert ('Số điện thoại, tài khoản, link (<span lang="en">Numbers, accounts, links</span>) — dòng 3' if lang == "vi"
            else 'Numbers, accounts, links (<span lang="vi">Số điện thoại, tài khoản, link</span>) — line 3') in r.text
    # an expired form (an hour spent writing) stores nothing and gives the text back to send again
    r = client.post(f"/bao-cao?lang={lang}", data={**typed, "form_token": "expired"})
    assert r.status_code == 403 and 'value="350 tỷ đô"' in r.text and 'value="nguoi-bao@example.org"' in r.text
