"""Subscriber records: encrypted import vs the same pipeline with encryption off, the junk-SIM audit's
throughput, and its recall and precision on the generator's planted patterns.

Run with no arguments (1,000,000 subscribers, one round: about half an hour on one core)::

    .venv/bin/python benchmarks/bench_subscribers.py
    .venv/bin/python benchmarks/bench_subscribers.py --rows 20000 --rounds 3   # while developing

One synthetic CSV (``postguard.subscribers.generate``, about 8% planted junk SIMs) is written once;
each round imports it into a fresh SQLite database twice, sealed and in plaintext (interleaved, the
order alternating), then audits the sealed database. Pinned to one core; the median of the rounds
is printed as JSON lines (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

from postguard.logging import configure_logging
from postguard.platform import Platform
from postguard.settings import Settings
from postguard.subscribers.checks import measure
from postguard.subscribers.generate import generate, write_csv

TARGET_RATIO = 0.7
TARGET_AUDIT_PER_S = 100_000.0
TARGET_RECALL = 0.95
TARGET_PRECISION = 0.9


class Plaintext:
    """``subscribers.service.Protection`` with encryption off, for the baseline only: the same columns
    receive each value's UTF-8 bytes (no record key), the blind indexes an unkeyed CRC-32 truncated like
    them, the grouping digests an unkeyed CRC-64 stand-in. Everything else is the product's own code."""

    key_version = None

    def __init__(self, vault, session, *, org, count: int) -> None:
        shift = 32 - org.blind_index_bits
        self.bits = org.blind_index_bits
        self.index = lambda text: zlib.crc32(text.encode()) >> shift
        self.link = self.holder = self.dob = lambda text: (zlib.crc32(text.encode()) << 31) ^ zlib.adler32(text.encode())

    @staticmethod
    def seal(records):
        return [(None, *[None if v is None else bytearray(v, "utf-8") for v in values]) for _, values in records]


def import_once(csv_path: Path, data_dir: Path, *, protection=None) -> float:
    platform = Platform(Settings(data_dir=data_dir))
    try:
        org = platform.orgs.create(code="BENCH", name="Benchmark carrier")
        principal = platform.orgs.principal(org.code, actor="bench")
        kwargs = {"protection": protection} if protection else {}
        gc.collect()
        with csv_path.open("rb") as f:
            start = time.perf_counter()
            report = platform.subscribers.import_csv(principal, f, **kwargs)
            elapsed = time.perf_counter() - start
        if report.invalid or report.imported != report.rows:
            raise SystemExit(f"import went wrong: {report.as_dict() | {'errors': report.as_dict()['errors'][:5]}}")
        return report.rows / elapsed
    finally:
        platform.close()


def audit_once(data_dir: Path, truth: dict[str, str]) -> dict:
    platform = Platform(Settings(data_dir=data_dir))
    try:
        principal = platform.orgs.principal("BENCH", actor="bench")
        gc.collect()
        start = time.perf_counter()
        result = platform.subscribers.run_audit(principal)
        elapsed = time.perf_counter() - start
        measured = measure(list(result.flagged_iccids), truth, result.flagged_iccids)
        return {"records": result.records, "total_s": elapsed, "seconds": result.seconds, "measured": measured}
    finally:
        platform.close()


def line(metric: str, value: float, baseline_metric: str, baseline: float) -> str:
    digits = 1 if baseline >= 100 else 3
    return json.dumps({"bench": "subscribers", "metric": metric, "value": round(value, digits),
                       "baseline_metric": baseline_metric, "baseline": round(baseline, digits),
                       "ratio": round(value / baseline, 3)})


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="subscribers in the synthetic CSV (default 1000000)")
    ap.add_argument("--rounds", type=int, default=1, help="interleaved rounds; the median is reported (default 1)")
    ap.add_argument("--seed", type=int, default=29)
    args = ap.parse_args(argv)

    configure_logging(Settings(log_level="WARNING"), stream=sys.stderr)  # stdout carries only the figures
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})  # one core: the figures are per core
    work = Path(tempfile.mkdtemp(prefix="pg-bench-subscribers-"))
    try:
        t = time.perf_counter()
        made = generate(args.rows, seed=args.seed)
        csv_path = work / "subscribers.csv"
        with csv_path.open("w", encoding="utf-8", newline="") as f:
            write_csv(made.rows, f)
        truth, made = made.truth, None
        print(f"# generated {args.rows:,} rows in {time.perf_counter() - t:.0f} s", file=sys.stderr)

        encrypted: list[float] = []
        plaintext: list[float] = []
        audits: list[dict] = []
        for i in range(max(1, args.rounds)):
            sealed_dir, plain_dir = work / f"sealed{i}", work / f"plain{i}"
            runs = [lambda d=sealed_dir: encrypted.append(import_once(csv_path, d)),
                    lambda d=plain_dir: plaintext.append(import_once(csv_path, d, protection=Plaintext))]
            for run in runs if i % 2 == 0 else runs[::-1]:  # alternate the order: drift favours no side
                run()
            shutil.rmtree(plain_dir, ignore_errors=True)
            audits.append(audit_once(sealed_dir, truth))
            shutil.rmtree(sealed_dir, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    e, p = statistics.median(encrypted), statistics.median(plaintext)
    checks_rate = statistics.median(a["records"] / max(a["seconds"]["checks"], 1e-9) for a in audits)
    audit_rate = statistics.median(a["records"] / a["total_s"] for a in audits)
    recall = statistics.median(a["measured"]["recall"] for a in audits)
    precision = statistics.median(a["measured"]["precision"] for a in audits)
    print(line("encrypted_rows_per_s", e, "plaintext_rows_per_s", p))
    print(line("encrypted_to_plaintext", e / p, "target_encrypted_to_plaintext", TARGET_RATIO))
    print(line("audit_checks_records_per_s", checks_rate, "target_records_per_s", TARGET_AUDIT_PER_S))
    print(line("audit_total_records_per_s", audit_rate, "target_records_per_s", TARGET_AUDIT_PER_S))
    print(line("recall", recall, "target_recall", TARGET_RECALL))
    print(line("precision", precision, "target_precision", TARGET_PRECISION))
    last = audits[-1]
    print(f"# {args.rows:,} rows, {args.rounds} rounds on cpu {cpu}, Python {sys.version.split()[0]}; import rows/s "
          f"per round: encrypted {[round(x) for x in encrypted]}, plaintext {[round(x) for x in plaintext]}; audit "
          f"phases (s) {last['seconds']}, total {last['total_s']:.1f} s; recall by pattern "
          f"{last['measured']['recall_by_pattern']}", file=sys.stderr)


if __name__ == "__main__":
    main()
