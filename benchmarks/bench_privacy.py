"""The person's "who accessed my data" view: how long it takes, against the operator's own phone search.

    .venv/bin/python benchmarks/bench_privacy.py                         # 20,000 shipments, 50,000 log entries
    .venv/bin/python benchmarks/bench_privacy.py --shipments 2000 --entries 5000   # a quick run

Prints JSON lines (DESIGN.md §4):
- ``my_data_ms``: median time of ``PrivacyService.my_data`` for a person with 3 parcels (finding them
  through the blind index and the door, logging the view, signing a checkpoint, reading each parcel's
  access history from the log and building and checking an inclusion proof per entry), against
  ``phone_search_ms``: ``ShipmentService.search_by_phone`` for the same number in the same run (blind
  index and door, no history or proofs).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from postguard.platform import Platform
from postguard.settings import Settings
from postguard.synthetic import Faker, write_csv

PHONE = "+84912345678"


def emit(metric, value, baseline_metric, baseline):
    print(json.dumps({"bench": "privacy", "metric": metric, "value": round(value, 2),
                      "baseline_metric": baseline_metric, "baseline": round(baseline, 2),
                      "ratio": round(value / baseline, 3)}), flush=True)


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shipments", type=int, default=20000)
    ap.add_argument("--entries", type=int, default=50000)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        p = Platform(Settings(data_dir=Path(d), log_level="WARNING", notifier="memory"))
        p.orgs.create(code="BENCH", name="Bench")
        system = p.orgs.principal("BENCH", actor="bench")
        rows = list(Faker(7).rows(args.shipments, prefix="BP"))
        mine = [rows[i]["waybill"] for i in (0, 1, 2)]
        for i in (0, 1, 2):
            rows[i]["recipient_phone"] = "0912345678"
        buf = io.StringIO()
        write_csv(rows, buf)
        p.shipments.import_csv(system, io.BytesIO(buf.getvalue().encode()))
        rnd = random.Random(1)
        waybills = [r["waybill"] for r in rows]
        org_id = p.orgs.get("BENCH").id
        batch = []
        for k in range(args.entries):  # reveals spread over every parcel; ~1 in 2,000 is one of the person's
            w = mine[k % 3] if k % 2000 == 0 else rnd.choice(waybills)
            batch.append({"actor": f"staff:{k % 50}", "action": "reveal", "org_id": org_id, "subject": w,
                          "purpose": "customer_service", "details": {"columns": ["recipient_phone"],
                                                                     "waybills": [w]}})
            if len(batch) == 1000:
                p.audit.append_many(batch)
                batch = []
        if batch:
            p.audit.append_many(batch)
        p.audit.checkpoint()
        got = p.privacy.my_data(PHONE)
        assert {s["waybill"] for s in got["shipments"]} == set(mine) and got["all_verified"]
        search = median_ms(lambda: p.shipments.search_by_phone(system, PHONE), args.runs)
        view = median_ms(lambda: p.privacy.my_data(PHONE), args.runs)
        emit("my_data_ms", view, "phone_search_ms", search)
        p.close()


if __name__ == "__main__":
    main()
