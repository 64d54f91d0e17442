"""The feedback loop of the message check over HTTP, the page and the command line: a person marks a
verdict wrong (``POST /v1/check/feedback``, or the form under the answer on ``/kiem-tra``) with
consent; reviewers list, read and decide (``/v1/messages/feedback``, ``messages:review``); the accepted
cases are exported as a corpus TSV that ``read_tsv`` and ``postguard messages train --extra`` take.
Hostile input is a clear 4xx. Runs on SQLite and PostgreSQL (the same flow is stored and decided by
each database)."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from postguard.app import create_app
from postguard.intel.seed import seed_official
from postguard.messages.corpus import read_tsv
from postguard.messages.models import FeedbackCase, FeedbackSubmission
from postguard.platform import Platform
from tests.api.test_api import assert_problem
from tests.cli.test_cli import run  # noqa: F401  (the fixture)

pytestmark = pytest.mark.both_databases

GENUINE = ("Chào cả nhà, mình là Lan ở tổ dân phố số 5. Tối nay họp lúc 7 giờ ở nhà văn hoá, ai bận thì gọi "
           "0912 345 678 hoặc mail lan.synthetic@gmail.com nhé.")
SCAM = ("VNPost: Bưu phẩm của bạn bị giữ do thiếu phí lưu kho 25.000đ. Thanh toán tại http://vnpost-vn.com/pay "
        "trong 24h để tránh bị hủy.")


@pytest.fixture
def world(settings):
    p = Platform(settings)
    seed_official(p.intel, p.orgs)
    p.orgs.create(code="VNPOSTX", name="Bưu chính Thử")
    yield p
    p.close()


@pytest.fixture
def api(world):
    return TestClient(create_app(world.settings, platform=world))


def _key(p: Platform, *scopes: str) -> dict:
    return {"Authorization": f"Bearer {p.orgs.create_api_key(org_code='VNPOSTX', scopes=list(scopes)).token}"}


def _body(**kw) -> dict:
    return {"text": GENUINE, "label": "legit", "expected": "scam", "consent": True} | kw


def _stored(p: Platform) -> tuple[int, int]:
    with p.db.read_session() as s:
        return (s.execute(select(func.count()).select_from(FeedbackCase)).scalar_one(),
                s.execute(select(func.count()).select_from(FeedbackSubmission)).scalar_one())


def test_submit_queue_review_export_and_train(api, world, run, tmp_path):  # noqa: F811
    check = api.post("/v1/check", json={"value": GENUINE})
    assert check.status_code == 200 and check.json()["label"] == "legit"
    r = api.post("/v1/check/feedback", json=_body(label=check.json()["label"], comment="Đây là tin thật của tổ dân phố"))
    assert r.status_code == 201, r.text
    case = r.json()["case"]
    assert r.json()["system_label"] == "legit" and r.json()["status"] == "pending" and r.json()["kept_until"]
    again = api.post("/v1/check/feedback", json=_body(expected="suspicious"))
    assert again.status_code == 201 and again.json()["case"] == case and again.json()["submissions"] == 2

    key = _key(world, "messages:review")
    queue = api.get("/v1/messages/feedback", params={"status": "pending"}, headers=key)
    assert queue.status_code == 200, queue.text
    [item] = queue.json()["items"]
    assert item["id"] == case and item["expected"] == {"scam": 1, "suspicious": 1, "legit": 0}
    assert "0912" not in queue.text and "Lan" not in queue.text  # the list never holds the text
    shown = api.get(f"/v1/messages/feedback/{case}", headers=key)
    assert shown.status_code == 200 and shown.json()["text"] == GENUINE
    assert shown.json()["submissions_detail"][0]["comment"] == "Đây là tin thật của tổ dân phố"

    decided = api.post(f"/v1/messages/feedback/{case}/review", headers=key,
                       json={"decision": "accept", "label": "suspicious", "note": "mời họp thật, nhưng thử nghiệm"})
    assert decided.status_code == 200 and decided.json()["status"] == "accepted"
    late = api.post(f"/v1/messages/feedback/{case}/review", headers=key, json={"decision": "reject"})
    assert_problem(late, 409)
    assert api.get("/v1/messages/feedback", params={"status": "pending"}, headers=key).json()["items"] == []
    assert api.get("/v1/messages/feedback", params={"status": "accepted"},
                   headers=key).json()["items"][0]["final_label"] == "suspicious"

    out = tmp_path / "feedback.tsv"
    code, stdout, err = run("messages", "feedback", "export", "--out", str(out), "--by", "lan-reviewer")
    assert code == 0, err
    assert json.loads(stdout)["rows"] == 1 and oct(out.stat().st_mode & 0o777) == "0o600"
    with open(out, encoding="utf-8", newline="") as f:
        [row] = list(read_tsv(f))
    assert (row["label"], row["language"], row["source"]) == ("suspicious", "vi", f"feedback:{case}")
    assert "091x xxx xxx" in row["text"] and "x@example.com" in row["text"]
    assert "345 678" not in row["text"] and "gmail" not in row["text"] and "Chào cả nhà" in row["text"]
    model = tmp_path / "model.npz"
    code, stdout, err = run("messages", "train", "--extra", str(out), "--out", str(model))
    assert code == 0, err
    assert "feedback" in json.loads(stdout)["sources"] and model.exists()


def test_consent_is_required_and_nothing_is_kept_without_it(api, world):
    for consent in ({}, {"consent": False}, {"consent": None}):
        body = {k: v for k, v in _body().items() if k != "consent"} | consent
        r = api.post("/v1/check/feedback", json=body)
        assert_problem(r, 422)
        assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("consent", "consent_required")]
    r = api.post("/v1/check/feedback", json=_body(consent="true"))  # a string is not consent
    assert_problem(r, 422)
    assert r.json()["errors"][0]["field"] == "consent"
    assert _stored(world) == (0, 0)


@pytest.mark.parametrize(("body", "field"), [
    (_body(label="fraud"), "label"),
    (_body(expected="maybe"), "expected"),
    (_body(expected="legit"), "expected"),  # the same as the label given
    (_body(text=""), "text"),
    (_body(text="   \u200b "), "text"),
    (_body(text="x" * 5000), "text"),
    (_body(text="ư" * 1400), "text"),  # 4,200 bytes of UTF-8 in 1,400 characters
    (_body(text=123), "text"),
    (_body(text={"nested": ["x"]}), "text"),
    (_body(label=["scam"]), "label"),
    (_body(comment="c" * 501), "comment"),
    (_body(comment="bad\x00nul"), "comment"),
    (_body(type="sms"), "type"),
    (_body(text="0912345678"), "text"),  # one value, not a message
    (_body(extra="field"), "extra"),
    (_body(text="000201010211" + "x" * 20, type="qr"), "text"),  # a QR payload that does not read
])
def test_hostile_or_wrong_input_is_a_clear_422_naming_the_field(api, world, body, field):
    r = api.post("/v1/check/feedback", json=body)
    assert_problem(r, 422)
    assert field in [e["field"] for e in r.json()["errors"]], r.text
    assert "Traceback" not in r.text and "Lan" not in r.text
    assert _stored(world) == (0, 0)


def test_malformed_bodies_are_refused_before_anything_is_checked(api, world):
    nested = b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    for raw, ctype, status in ((nested, "application/json", 422), (b"{not json", "application/json", 422),
                               (b"\xff\xfe\x00t", "application/json", 422), (b"[1, 2]", "application/json", 422),
                               (b"text=hi", "application/x-www-form-urlencoded", 422),
                               (b"x" * (world.settings.max_body_bytes + 1), "application/json", 413)):
        r = api.post("/v1/check/feedback", content=raw, headers={"Content-Type": ctype})
        assert_problem(r, status)
    assert _stored(world) == (0, 0)


def test_nothing_to_correct_is_a_409_and_keeps_nothing(api, world):
    r = api.post("/v1/check/feedback", json=_body(text=SCAM, label="legit", expected="scam"))
    assert_problem(r, 409)
    assert "nothing to correct" in r.json()["detail"] and _stored(world) == (0, 0)


def test_the_queue_needs_messages_review_and_refusals_are_logged(api, world):
    case = api.post("/v1/check/feedback", json=_body()).json()["case"]
    for path, method, body in ((f"/v1/messages/feedback/{case}", "GET", None),
                               ("/v1/messages/feedback", "GET", None),
                               (f"/v1/messages/feedback/{case}/review", "POST", {"decision": "reject"})):
        assert_problem(api.request(method, path, json=body), 401)
        assert_problem(api.request(method, path, json=body, headers=_key(world, "intel:analyst")), 403)
    key = _key(world, "messages:review")
    assert_problem(api.get("/v1/messages/feedback/not-a-case", headers=key), 404)
    assert_problem(api.get("/v1/messages/feedback/" + "x" * 300, headers=key), 404)
    assert_problem(api.get("/v1/messages/feedback", params={"status": "all"}, headers=key), 422)
    assert_problem(api.get("/v1/messages/feedback", params={"limit": 10**30}, headers=key), 422)
    for body, field in (({"decision": "maybe"}, "decision"), ({"decision": "accept"}, "label"),
                        ({"decision": "accept", "label": "fraud"}, "label"),
                        ({"decision": "reject", "version": "1"}, "version"),
                        ({"decision": "reject", "note": "n" * 2001}, "note")):
        r = api.post(f"/v1/messages/feedback/{case}/review", json=body, headers=key)
        assert_problem(r, 422)
        assert field in [e["field"] for e in r.json()["errors"]], r.text


def _token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def test_the_form_under_a_message_answer_asks_for_consent_and_sends(api, world):
    page = api.get("/kiem-tra")
    token = _token(page.text)
    phone = api.post("/kiem-tra", data={"form_token": token, "value": "0912345678"})
    assert phone.status_code == 200 and "/kiem-tra/phan-hoi" not in phone.text  # one value: no form
    answer = api.post("/kiem-tra", data={"form_token": token, "value": GENUINE})
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert 'action="/kiem-tra/phan-hoi"' in answer.text and "Kết quả này sai?" in answer.text
    assert "Is this verdict wrong?" in answer.text and 'name="consent"' in answer.text
    assert "0912 345 678" in answer.text  # the message that would be sent, shown to be edited
    assert re.search(r'name="label" value="legit"', answer.text)
    form = {"form_token": token, "label": "legit", "text": GENUINE, "expected": "scam", "comment": ""}
    refused = api.post("/kiem-tra/phan-hoi", data=form)
    assert refused.status_code == 422 and "Bạn cần đánh dấu ô đồng ý" in refused.text
    assert refused.headers["cache-control"] == "no-store" and _stored(world) == (0, 0)
    assert api.post("/kiem-tra/phan-hoi", data=form | {"consent": "yes", "form_token": "forged"}).status_code == 403
    sent = api.post("/kiem-tra/phan-hoi?lang=en", data=form | {"consent": "yes"})
    assert sent.status_code == 201 and "Thank you" in sent.text and 'data-feedback="pending"' in sent.text
    assert _stored(world) == (1, 1)
    nothing = api.post("/kiem-tra/phan-hoi", data=form | {"consent": "yes", "text": SCAM, "expected": "scam"})
    assert nothing.status_code == 409 and 'data-feedback="nothing_to_correct"' in nothing.text


def test_submissions_are_limited_per_client(make_settings):
    p = Platform(make_settings(message_feedback_rate="2/hour"))
    try:
        api = TestClient(create_app(p.settings, platform=p))
        assert [api.post("/v1/check/feedback", json=_body(text=GENUINE + f" Lần {i}.")).status_code
                for i in range(3)] == [201, 201, 429]
        r = api.post("/v1/check/feedback", json=_body(text=GENUINE + " Lần 9."))
        assert_problem(r, 429)
        assert int(r.headers["retry-after"]) > 0
    finally:
        p.close()
