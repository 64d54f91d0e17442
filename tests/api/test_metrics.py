"""``/metrics`` after every service has worked: each service's series moved by what was done, in
Prometheus' own text format, and not one phone number, waybill, name or address reached the output.
Then the dashboard (deploy/grafana/postguard.json) and the alerts of docs/operations.md: every query
parsed by Prometheus' own parser (promql-parser: balanced, known functions and operators), naming
only metrics that this very scrape exposes and only labels those metrics carry."""

from __future__ import annotations

import time

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import promql_parser
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from postguard import jobs
from postguard.app import create_app
from postguard.audit.witness import Witness
from postguard.errors import Forbidden
from postguard.intel.models import Indicator
from postguard.phones import normalize_phone
from postguard.platform import Platform
from postguard.synthetic import Faker
from postguard.takedown.service import ContactIn
from tests.api.test_api import METRICS_TOKEN
from tests.conftest import csv_bytes
from tests.integration.test_lookalikes import hit
from tests.world import ORG, World, add_leaks_and_intel, add_privacy_and_calls, build_world, prebuilt_world

SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def _world(p: Platform, faker: Faker) -> World:
    return add_privacy_and_calls(add_leaks_and_intel(build_world(p, faker), faker), faker)


ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "postguard.json"
TARGET_LABELS = {"job", "instance"}  # added by Prometheus to every scraped series
PROMETHEUS_MADE = {"up"}  # a series Prometheus writes for every target


@pytest.fixture
def env(prebuilt, faker, tmp_path):
    # One witness, never listening: its submissions fail, and its series are served.
    wkey = Witness.init(tmp_path / "witness", "witness.test")
    w = prebuilt_world(prebuilt, _world, faker=faker, password_time_cost=1, password_memory_kib=1024,
                       notifier="memory", metrics_token=METRICS_TOKEN, intel_check_rate="8/minute",
                       metrics_query_seconds=0, audit_witnesses=[f"http://127.0.0.1:9 {wkey}"],
                       audit_witness_timeout_seconds=0.5)
    with TestClient(create_app(w.platform.settings, platform=w.platform)) as client:  # with the jobs running
        yield client, w
    w.platform.close()


def scrape(client: TestClient) -> dict[str, dict[tuple, float]]:
    """Every sample of ``/metrics`` by name, then by its labels (sorted pairs)."""
    r = client.get("/metrics", headers=SCRAPE)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(r.text):
        out.setdefault(family.name, {})
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def exposed(client: TestClient) -> dict[str, set[str]]:
    """The metric names a query may use, each with the labels its samples carry: every family and
    sample name, and ``<name>_total`` of every counter (one whose labels have not been seen yet has
    no sample)."""
    text = client.get("/metrics", headers=SCRAPE).text
    names: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        names.setdefault(family.name, set())
        if family.type == "counter":
            names.setdefault(family.name + "_total", set())
        for sample in family.samples:
            names.setdefault(sample.name, set()).update(sample.labels)
            names[family.name].update(sample.labels)
    return names


def value(metrics: dict, metric: str, **labels: str) -> float:
    return metrics.get(metric, {}).get(tuple(sorted(labels.items())), 0.0)


def exercise(client: TestClient, w: World) -> list[str]:
    """Do something with every service, through the API where a route does it; returns the personal
    values used (phones in each form, waybills, names, addresses), none of which may be scraped."""
    p, faker = w.platform, w.faker
    key = {scope: {"Authorization": f"Bearer {token}"} for scope, token in w.keys.items()}
    # Imports: 2 rows in, 1 refused, then the same file again (already present).
    rows = list(faker.rows(3, prefix="MT"))
    rows[2]["recipient_phone"] = "12"
    csv = {**key["shipments:write"], "content-type": "text/csv"}
    for _ in range(2):
        assert client.post("/v1/shipments/import", content=csv_bytes(rows), headers=csv).status_code == 200
    # The door: a courier's reveal, a refusal, an administrator's break-glass (and its alert).
    p.access.reveal(w.role("courier"), waybill=w.assigned["waybill"], purpose="delivery")
    with pytest.raises(Forbidden):
        p.access.reveal(w.role("courier"), waybill=w.other["waybill"], purpose="delivery")
    p.access.reveal(w.role("admin"), waybill=w.other["waybill"], purpose="break_glass",
                    justification="court order 2026-117 for this parcel")
    # One-time codes: one sent, one wrong guess, one right.
    sent = w.fresh_code("recipient")
    with pytest.raises(Exception, match="wrong"):
        p.otp.verify(purpose="recipient", phone=sent["phone"], code="000000" if sent["code"] != "000000" else "111111",
                     challenge=sent["challenge"])
    p.otp.verify(purpose="recipient", phone=sent["phone"], code=sent["code"], challenge=sent["challenge"])
    # Citizens' checks: a reported number, an unknown one, a message, then calls.
    scam, unknown = w.ids["scam_phone"], faker.phone_e164()
    for value_ in (scam, unknown, scam):  # the third is answered from memory (the body kept): counted too
        assert client.post("/v1/check", json={"value": value_}).status_code == 200
    message = f"Bưu cục: đơn {rows[0]['waybill']} bị giữ, chuyển phí 30k về {scam} ngay kẻo hủy đơn"
    assert client.post("/v1/check", json={"value": message, "type": "message"}).json()["verdict"] in (
        "scam", "suspicious")
    calls = [client.post("/v1/callcheck", json={"caller": unknown}).json()["verdict"] for _ in range(2)]
    assert calls[0] == calls[1]  # the second answered from memory
    w.ids["call_verdict"] = calls[0]
    # The check's rate: 8 a minute, 4 used above.
    statuses = [client.post("/v1/check", json={"value": faker.phone_e164()}).status_code for _ in range(6)]
    assert statuses.count(429) >= 1
    # Reports, an analyst's decision, a lookalike hit.
    r = client.post("/v1/reports", json={"indicators": [unknown], "category": "fake_courier"}, headers=key["intel:report"])
    assert r.status_code == 201, r.text
    cli = p.intel.cli_principal()
    p.intel.decide(cli, w.ids["indicator_id"], action="confirm", note="many reports")
    p.intel.report(indicators=["phi-luu-kho-vnp.com"], category="fake_courier", client="203.0.113.9")
    with p.db.read_session() as s:
        site_id = s.execute(select(Indicator.id).where(Indicator.value == "phi-luu-kho-vnp.com")).scalar_one()
    p.intel.decide(cli, site_id, action="confirm")
    made = p.takedowns.create(cli, indicator_id=site_id, hosting=ContactIn(email="abuse@hosting.example"))
    w.ids["takedowns"] = len(made["requests"])
    assert client.post("/v1/lookalikes", json={"hits": [hit("vnpost-vn.com")]}, headers=key["intel:scanner"]
                       ).status_code == 200
    # A webhook that cannot be reached: the attempt is retried.
    p.webhooks.subscribe(url="https://127.0.0.1:9/hook", label="bank")
    p.warnings.publish(category="courier-impersonation", title_vi="Giả danh shipper", title_en="Fake courier",
                       body_vi="Shipper thật không thu phí.", body_en="Real couriers charge no fee.", author="analyst")
    assert p.webhooks.deliver_due(now=datetime.now(UTC))["retrying"] == 1
    p.audit.checkpoint()
    # A periodic job that fails at every run, for a moment: each failure counted.

    async def failing_for_a_moment() -> None:
        job = jobs.Job("always failing", 0.01, lambda _: (lambda: 1 / 0), on_loop=True, at_start=True)
        task = asyncio.create_task(jobs.run(job, p, 0.01))
        await asyncio.sleep(0.2)
        task.cancel()

    asyncio.run(failing_for_a_moment())
    personal = [sent["phone"], scam, unknown, w.subject_phone, w.ids["courier_phone"]]
    personal += [normalize_phone(r[k]) for r in (*w.rows, *rows[:2]) for k in ("recipient_phone", "sender_phone")]
    personal += ["0" + n[3:] for n in personal if n.startswith("+84")]
    personal += [r[k] for r in (*w.rows, *rows) for k in ("waybill", "recipient_name", "recipient_address")]
    return personal


def test_every_service_is_counted_and_nothing_personal_is_scraped(env):
    client, w = env
    before = scrape(client)
    personal = exercise(client, w)
    deadline = time.monotonic() + 15  # the witness is asked in the background: a loaded machine takes a moment
    while not any(st["failures"] for st in w.platform.witnessing.stats.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    after = scrape(client)

    def moved(metric: str, by: float | None = None, **labels: str) -> None:
        delta = value(after, metric, **labels) - value(before, metric, **labels)
        assert delta == by if by is not None else delta > 0, (metric, labels, delta)

    moved("postguard_shipments_import_rows_total", 2, outcome="imported")
    moved("postguard_shipments_import_rows_total", 2, outcome="already_present")
    moved("postguard_shipments_import_rows_total", 2, outcome="refused")
    moved("postguard_access_reveals_total", 1, purpose="delivery", kind="shipments", outcome="allowed")
    moved("postguard_access_reveals_total", 1, purpose="delivery", kind="shipments", outcome="refused")
    moved("postguard_access_reveals_total", 1, purpose="break_glass", kind="shipments", outcome="allowed")
    moved("postguard_leaks_alerts_total", 1, kind="break_glass", severity="high")
    moved("postguard_audit_entries_appended_total")
    moved("postguard_audit_batches_total")
    assert value(after, "postguard_audit_write_failures_total") == 0
    assert value(after, "postguard_audit_checkpoint_size") >= value(after, "postguard_audit_entries_appended_total")
    assert 0 <= value(after, "postguard_audit_checkpoint_age_seconds") < 60
    moved("postguard_otp_codes_sent_total", 1, purpose="recipient")
    moved("postguard_otp_verifications_total", 1, purpose="recipient", outcome="failed")
    moved("postguard_otp_verifications_total", 1, purpose="recipient", outcome="verified")
    moved("postguard_intel_checks_total", 2, verdict="reported")
    moved("postguard_intel_checks_total", verdict="unknown")
    assert sum(value(after, "postguard_messages_checks_total", verdict=v) for v in ("scam", "suspicious")) == 1
    moved("postguard_callerid_checks_total", 2, verdict=w.ids["call_verdict"])
    moved("postguard_ratelimit_refused_total", limiter="intel-check")
    moved("postguard_intel_reports_received_total", 1, category="fake_courier", reporter="org", status="accepted")
    moved("postguard_intel_decisions_total", 1, type="phone", action="confirm")
    moved("postguard_intel_decisions_total", 1, type="domain", action="confirm")
    assert value(after, "postguard_lookalike_hits", status="new") == 1
    assert value(after, "postguard_alerts_webhook_deliveries", status="pending") == 1
    # The world's data-subject requests: one correction and one access request still open.
    assert value(after, "postguard_privacy_requests", kind="correction", status="received") == 1
    assert value(after, "postguard_privacy_oldest_open_request_age_seconds", status="received") >= 0
    assert value(after, "postguard_takedown_requests", status="draft") == w.ids["takedowns"] > 0
    assert value(after, "postguard_build_info", version=__import__("postguard").__version__,
                 database=w.platform.db.dialect) == 1
    assert value(after, "process_cpu_seconds_total") > 0 or "process_cpu_seconds" in after  # Linux: /proc
    moved("postguard_http_requests_total", method="POST", route="/v1/check", status="200")
    assert value(after, "postguard_jobs_failures_total", name="always failing") >= 2
    assert value(after, "postguard_audit_witness_failures_total", witness=next(iter(
        w.platform.witnessing.stats))) >= 1  # the checkpoint job submitted to the witness, which is not there

    text = client.get("/metrics", headers=SCRAPE).text
    for v in personal:
        assert v not in text, v
    assert ORG not in text  # no organisation either


def grafana_to_promql(expr: str) -> str:
    """A panel's query as Prometheus receives it (Grafana's variables filled in)."""
    return (expr.replace("$__rate_interval", "5m").replace("$__range", "6h").replace("$__interval", "1m")
            .replace('"$job"', '".*"'))


def queries() -> list[tuple[str, str]]:
    """(where, PromQL) of every dashboard panel and every alert in docs/operations.md."""
    out = []
    for panel in json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]:
        for t in panel.get("targets", []):
            out.append((f"panel {panel['title']!r}", grafana_to_promql(t["expr"])))
    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for block in re.findall(r"```yaml\n(.*?)```", doc, re.S):
        for name, expr in re.findall(r"- alert: (\S+)\n\s+expr: (.+)", block):
            out.append((f"alert {name}", expr.strip()))
    return out


def used(expr: str) -> tuple[set[str], set[str]]:
    """The metric names and the label names (in matchers and ``by``/``without``) of a parsed query."""
    metrics: set[str] = set()
    labels: set[str] = set()

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            metrics.add(node.name)
            labels.update(m.name for m in node.matchers.matchers)
        elif isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            labels.update(node.modifier.labels)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return metrics, labels


def test_the_queries_parse_and_name_only_what_is_served(env):
    client, w = env
    exercise(client, w)
    served = exposed(client)
    found = queries()
    assert len([q for q in found if q[0].startswith("panel")]) >= 30 and len(found) > 35
    for where, expr in found:
        metrics, labels = used(expr)
        assert metrics, (where, expr)
        missing = metrics - served.keys() - PROMETHEUS_MADE
        assert not missing, f"{where}: {sorted(missing)} is not served"
        carried = set().union(*(served.get(m, set()) for m in metrics)) | TARGET_LABELS | {"le"}
        assert labels <= carried, f"{where}: labels {sorted(labels - carried)} are on none of {sorted(metrics)}"


@pytest.mark.parametrize("bad", ["sum(rate(postguard_http_requests_total[5m])",  # unbalanced
                                 "histogram_quantil(0.9, postguard_http_request_seconds_bucket)",  # no such function
                                 "sum by (route) rate(postguard_http_requests_total[5m])"])
def test_the_parser_refuses_what_prometheus_would(bad):
    with pytest.raises(ValueError):
        promql_parser.parse(bad)
