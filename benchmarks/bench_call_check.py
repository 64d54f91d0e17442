"""The citizen check over real HTTP: requests per second of ``POST /v1/callcheck`` against a bare ASGI
app that returns a constant, both served by uvicorn and driven by the same load generator in the
same run.

    .venv/bin/python benchmarks/bench_call_check.py                 # 5 rounds of 5 s each
    .venv/bin/python benchmarks/bench_call_check.py --seconds 1 --rounds 1 --phones 500   # CI smoke run

The database (SQLite, a temporary directory) holds ``--phones`` verified courier numbers. Servers
and load come from ``benchmarks/httpload.py`` (uvicorn with httptools and uvloop, one process each;
``wrk`` with ``--connections`` keep-alive connections, 3 s of warm-up before each measured run).
Asked numbers rotate over registered couriers (``courier`` answers) and unknown numbers
(``not_courier`` answers), one in four unknown. Prints JSON lines (DESIGN.md §4):
``checks_per_s`` against ``bare_asgi_per_s``, and the ratio against the 0.60 target;
``paired_ratio_median`` is the median of the per-round ratios (each round measures the bare app,
then the check, back to back), which drift on a shared machine disturbs less. The request list
repeats, as checks of the same numbers do, so after the warm-up each worker answers a body it has
seen from memory; ``--fresh`` adds a run per round over 320,000 distinct bodies (each number in
five written forms with sixteen ``asked`` lists, more than a run sends), which measures the path
that reads and normalises every body (``fresh_checks_per_s``, for information). The check's rate
limit is set to ``100000/second``: one client address sends everything, and the limiter still does
its full per-request work (the production default would refuse the run).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parents[1] / "src")]  # this checkout, in the client and the servers

from benchmarks import httpload  # noqa: E402

TARGET = 0.60
bare_app = httpload.bare_asgi(b'{"outcome":"courier","operator":{"code":"BENCH","name":"Bench","hotline":"1900 0000"}}')


def seed(data_dir: str, phones: int) -> list[str]:
    """An operator with ``phones`` verified courier numbers (inserted directly, digests and ciphertext
    as the registry makes them); returns the numbers to ask about."""
    from postguard.access.models import Staff
    from postguard.callerid.models import CourierPhone
    from postguard.platform import Platform
    from postguard.settings import Settings
    from postguard.vault.masking import phone_last3

    p = Platform(Settings(data_dir=Path(data_dir), notifier="memory", password_time_cost=1,
                          password_memory_kib=1024, log_level="WARNING"))
    org = p.orgs.create(code="BENCH", name="Bưu chính Bench", hotline="1900 0000")
    numbers = [f"+8491{i:07d}" for i in range(phones)]
    keys = p.callerid_keys  # loads its secrets: before the write transaction below
    with p.db.session() as s:
        staff = [Staff(org_id=org.id, username=f"c{i}", display_name=f"Nguyễn Văn C{i}", role="courier",
                       status="active", password_hash="x") for i in range(max(1, phones // 10))]
        s.add_all(staff)
        s.flush()
        s.add_all(
            CourierPhone(id=i + 1, org_id=org.id, staff_id=staff[i % len(staff)].id, phone_last3=phone_last3(n),
                         phone_digest=keys.phone_digest(n), status="verified",
                         phone_ct=p.vault.encrypt(n.encode(), session=s, org_id=org.id, table="courier_phones",
                                                  column="phone", record_id=str(i + 1)))
            for i, n in enumerate(numbers))
    p.close()
    return numbers


def fresh_requests(asked: list[str]) -> list[tuple[str, bytes]]:
    """Distinct bodies: each asked number in five written forms, with sixteen ``asked`` lists (320,000)."""
    kinds = ["fee", "otp", "transfer", "app", "link"]
    lists = [[]] + [[k] for k in kinds] + [[a, b] for i, a in enumerate(kinds) for b in kinds[i + 1:]]
    forms = [lambda d: "0" + d, lambda d: f"0{d[:3]} {d[3:6]} {d[6:]}", lambda d: f"0{d[:3]}.{d[3:6]}.{d[6:]}",
             lambda d: "+84" + d, lambda d: f"+84 {d[:3]} {d[3:6]} {d[6:]}"]
    numbers = [n[3:] for n in asked]
    out = [httpload.post("/v1/callcheck", {"caller": form(d), "asked": lst})
           for lst in lists for form in forms for d in numbers]
    random.Random(7).shuffle(out)
    return out


def measure(kind: str, env: dict, requests, seconds: float, connections: int) -> float:
    target = ("benchmarks.bench_call_check:bare_app", False) if kind == "bare" else ("postguard.app:create_app", True)
    proc, port = httpload.serve(target[0], factory=target[1], env=env)
    try:
        got = httpload.load(port, requests, connections=connections, seconds=seconds)
    finally:
        httpload.stop(proc)
    if got.errors:
        raise RuntimeError(f"{kind}: {got.errors} requests failed")
    print(f"{kind}: {got.requests_per_s:.0f} requests/s, p99 {got.p99_ms:.1f} ms ({got.generator})", file=sys.stderr)
    return got.requests_per_s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--phones", type=int, default=20000)
    ap.add_argument("--fresh", action="store_true", help="also measure bodies never seen before")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        numbers = seed(d, args.phones)
        asked = [n for i, n in enumerate(numbers[:4000]) if i % 4] + [f"+8498{i:07d}" for i in range(1000)]
        requests = [httpload.post("/v1/callcheck", {"caller": "0" + n[3:], "asked": ["fee"]}) for n in asked]
        env = {**os.environ, "POSTGUARD_DATA_DIR": d, "POSTGUARD_NOTIFIER": "memory", "POSTGUARD_LOG_LEVEL": "WARNING",
               "POSTGUARD_CALLCHECK_RATE_LIMIT": "100000/second", "POSTGUARD_ANOMALY_SCAN_INTERVAL_SECONDS": "0",
               "POSTGUARD_RATE_LIMIT_STORAGE": os.environ.get("BENCH_LIMITS", "memory://")}
        fresh = fresh_requests(asked) if args.fresh else None
        app_runs, bare_runs, fresh_runs = [], [], []
        for _ in range(args.rounds):  # interleaved, so drift on a shared machine hits both alike
            bare_runs.append(measure("bare", env, requests, args.seconds, args.connections))
            app_runs.append(measure("app", env, requests, args.seconds, args.connections))
            if fresh:
                fresh_runs.append(measure("app, fresh bodies", env, fresh, args.seconds, args.connections))
    value, baseline = statistics.median(app_runs), statistics.median(bare_runs)
    print(json.dumps({"bench": "call_check", "metric": "checks_per_s", "value": round(value, 1),
                      "baseline_metric": "bare_asgi_per_s", "baseline": round(baseline, 1),
                      "ratio": round(value / baseline, 3)}), flush=True)
    print(json.dumps({"bench": "call_check", "metric": "checks_vs_bare_ratio", "value": round(value / baseline, 3),
                      "baseline_metric": "target_ratio", "baseline": TARGET,
                      "ratio": round(value / baseline / TARGET, 3)}), flush=True)
    paired = statistics.median(a / b for a, b in zip(app_runs, bare_runs))
    print(json.dumps({"bench": "call_check", "metric": "paired_ratio_median", "value": round(paired, 3),
                      "baseline_metric": "target_ratio", "baseline": TARGET, "ratio": round(paired / TARGET, 3)}),
          flush=True)
    if fresh_runs:
        cold = statistics.median(fresh_runs)
        print(json.dumps({"bench": "call_check", "metric": "fresh_checks_per_s", "value": round(cold, 1),
                          "baseline_metric": "bare_asgi_per_s", "baseline": round(baseline, 1),
                          "ratio": round(cold / baseline, 3)}), flush=True)
    print(json.dumps({"bench": "call_check", "metric": "runs", "value": [round(x) for x in app_runs],
                      "baseline_metric": "bare_runs", "baseline": [round(x) for x in bare_runs],
                      "ratio": round(value / baseline, 3)}), flush=True)


if __name__ == "__main__":
    main()
