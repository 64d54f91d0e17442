"""Request metrics kept as plain numbers come out as the Prometheus text a scraper parses: counts per
method, route and status, and a cumulative latency histogram whose buckets agree with the values."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from postguard.api.system import HttpMetrics

ROUTES = st.sampled_from([("POST", "/v1/check"), ("GET", "/v1/shipments/{waybill}")])
STATUS = st.sampled_from([200, 404, 429])
SECONDS = st.one_of(st.sampled_from(HttpMetrics.BUCKETS), st.floats(0, 20, allow_nan=False))


@given(st.lists(st.tuples(ROUTES, STATUS, SECONDS), max_size=40))
def test_scraped_counts_and_buckets_match_what_was_observed(observed):
    registry = CollectorRegistry()
    m = HttpMetrics(registry)
    for (method, route), status, seconds in observed:
        m.observe(method, route, status, seconds)
    samples = [s for f in text_string_to_metric_families(generate_latest(registry).decode()) for s in f.samples]
    for (method, route), status, _ in set((r, s, 0) for r, s, _ in observed):
        want = sum(1 for r, s, _ in observed if r == (method, route) and s == status)
        got = [x.value for x in samples if x.name == "postguard_http_requests_total"
               and x.labels == {"method": method, "route": route, "status": str(status)}]
        assert got == [want]
    for method, route in {r for r, _, _ in observed}:
        values = [sec for r, _, sec in observed if r == (method, route)]
        for bound in (*HttpMetrics.BUCKETS, float("inf")):
            le = "+Inf" if bound == float("inf") else str(bound)
            got = [x.value for x in samples if x.name == "postguard_http_request_seconds_bucket"
                   and x.labels == {"method": method, "route": route, "le": le}]
            assert got == [sum(1 for v in values if v <= bound)]
        total = [x.value for x in samples if x.name == "postguard_http_request_seconds_sum"
                 and x.labels == {"method": method, "route": route}]
        assert abs(total[0] - sum(values)) <= 1e-6 * max(1.0, sum(values))
