"""Lookup (``POST /v1/check``) throughput and latency against a bare ASGI app, and the memory of
the in-memory index of known indicators at 10 million entries.

    .venv/bin/python benchmarks/bench_check.py                       # 3 rounds of 2 x 5 s, 10M index
    .venv/bin/python benchmarks/bench_check.py --seconds 1 --rounds 1 --index 100000   # CI smoke run

What runs:

- the real app (``create_app``) under uvicorn (httptools, uvloop) in its own process, on an
  embedded database seeded with ``--flagged`` reported phone numbers (citizen reports
  through ``IntelService.report``); the per-client lookup limit is raised so that the load
  generator, one address, is not refused;
- a bare ASGI app under the same uvicorn settings that answers every request with a constant
  JSON body: the baseline;
- one load generator (``benchmarks/httpload.py``: ``wrk``, ``--connections`` keep-alive
  connections, 3 s of warm-up before each measured run) against each, alternately, ``--rounds``
  times: the bodies are synthetic Vietnamese mobile numbers written the way people type them, one
  in ten of them a flagged one (graded from the database once per worker, then answered from the
  worker's memory until anything stored changes; every hit is counted). The 5,000 bodies repeat,
  as lookups of the same numbers do, so after the warm-up a worker answers most bodies from
  memory (``CheckService.respond``, ``postguard.intel.kept``); ``--fresh`` adds a run per round in which no clean lookup
  repeats (200,000 distinct numbers, more than a run sends; the flagged ones repeat as before),
  which measures the path that reads and normalises every body (``fresh_requests_per_s``, for
  information); ``--links SHARE`` makes that share of the clean lookups links as scam messages
  carry them (lookalike courier sites, some written to deceive), to measure the link parser;
- the index: keyed BLAKE2b digests of ``--index`` distinct synthetic numbers (the check path's
  key), loaded into ``postguard.intel.known`` (a sorted ``uint64`` array behind a bitmap), in a fresh process; its
  RSS growth and peak against the 2 GB target.

JSON lines (DESIGN.md §4): ``requests_per_s`` against ``bare_asgi_requests_per_s`` (target ratio
0.6), ``p99_ms`` against the 20 ms target (ratio ≤ 1 is met), ``bare_p99_ms``, and
``index_rss_mb`` / ``index_peak_rss_mb`` against ``target_mb`` 2048 (ratio ≤ 1 is met). The
medians of the rounds are printed; each round's figures go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from benchmarks import httpload  # noqa: E402

TARGET_RATIO, TARGET_P99_MS, TARGET_MB = 0.6, 20.0, 2048.0


def emit(metric, value, baseline_metric, baseline):
    print(json.dumps({"bench": "check", "metric": metric, "value": round(value, 3),
                      "baseline_metric": baseline_metric, "baseline": round(baseline, 3),
                      "ratio": round(value / baseline, 3) if baseline else None}), flush=True)


BARE_BODY = json.dumps({"type": "phone", "display": "*******678", "verdict": "unknown", "score": 0}).encode()
bare_app = httpload.bare_asgi(BARE_BODY)


# -- seed -------------------------------------------------------------------------------------------
def synthetic_numbers(n: int, rng: random.Random) -> list[str]:
    prefixes = ["90", "91", "93", "94", "96", "97", "98", "32", "33", "34", "35", "36", "37", "38", "39",
                "70", "76", "77", "78", "79", "81", "82", "83", "84", "85", "86", "88", "89"]
    from postguard.errors import InvalidInput
    from postguard.intel.normalize import norm_phone

    out = set()
    while len(out) < n:
        digits = rng.choice(prefixes) + f"{rng.randrange(10**7):07d}"
        try:
            norm_phone("0" + digits)
        except InvalidInput:
            continue  # an unassigned range
        out.add(digits)
    return sorted(out)


def written(digits: str, rng: random.Random) -> str:
    local = "0" + digits
    return rng.choice([local, f"{local[:4]} {local[4:7]} {local[7:]}", f"+84 {digits}", f"+84 {digits[:2]} {digits[2:5]} {digits[5:]}"])


def link(digits: str, rng: random.Random) -> str:
    """A link as scam messages carry them: a lookalike courier site, or one written to deceive."""
    return rng.choice([f"https://vnpost-{digits[-4:]}.example.com/tra-cuu?ma=EB{digits}VN",
                       f"vnpost.vn.phi-{digits[-3:]}.example.net/phi-luu-kho/{digits}",
                       f"https://evil-pay{digits[-2:]}.example.com\\@vnpost.vn/phi-luu-kho/{digits}",
                       f"HTTPS://bưuđiện-{digits[-3:]}.example.org/./a/../{digits}#x"])


def seed(env: dict, flagged: list[str]) -> None:
    os.environ.update(env)
    from postguard.platform import Platform
    from postguard.settings import Settings

    p = Platform(Settings())
    try:
        for i, digits in enumerate(flagged):
            p.intel.report(indicators=["0" + digits], category="fake_courier", client=f"seed-{i}")
    finally:
        p.close()


# -- index memory ------------------------------------------------------------------------------------
def rss_kb(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def index_memory(n: int) -> dict:
    """In this (fresh) process: build the check path's index of ``n`` keyed digests."""
    import hashlib

    import numpy as np

    from postguard.intel.known import build, contains

    key = os.urandom(32)
    before, peak_before = rss_kb(), rss_kb("VmHWM")
    chunks = []
    start = time.perf_counter()
    step = 1_000_000
    for lo in range(0, n, step):
        buf = bytearray()
        for k in range(lo, min(n, lo + step)):
            buf += hashlib.blake2b(f"phone\0+849{k:08d}".encode(), key=key, digest_size=32).digest()[:8]
        chunks.append(np.frombuffer(bytes(buf), dtype=">u8").astype(np.uint64))
    arr = np.concatenate(chunks)
    del chunks, buf
    index = build(arr)
    del arr
    built = time.perf_counter() - start
    import gc

    gc.collect()
    after = rss_kb()
    probe = hashlib.blake2b("phone\0+84900000001".encode(), key=key, digest_size=32).digest()
    t0 = time.perf_counter()
    for _ in range(100_000):
        contains(index, int.from_bytes(probe[:8], "big"))
    per_lookup_us = (time.perf_counter() - t0) / 100_000 * 1e6
    return {"entries": int(index.keys.size), "rss_mb": (after - before) / 1024,
            "peak_mb": (rss_kb("VmHWM") - peak_before) / 1024, "table_mb": index.nbytes / 2**20,
            "build_s": built, "lookup_us": per_lookup_us}


# -- main -------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="measured seconds per run (after 1 s warm-up)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--flagged", type=int, default=200, help="flagged numbers seeded into the database")
    ap.add_argument("--flagged-share", type=float, default=0.1, help="share of lookups of flagged numbers")
    ap.add_argument("--index", type=int, default=10_000_000, help="entries of the index-memory figure (0: skip)")
    ap.add_argument("--fresh", action="store_true", help="also measure clean lookups never seen before")
    ap.add_argument("--links", type=float, default=0.0, help="share of clean lookups that are links, not numbers")
    ap.add_argument("--index-only", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.index_only is not None:
        print(json.dumps(index_memory(args.index_only)))
        return

    rng = random.Random(20261123)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "POSTGUARD_DATA_DIR": tmp, "POSTGUARD_INTEL_CHECK_RATE": "1000000000/minute",
               "POSTGUARD_INTEL_REPORT_RATE": "1000000/hour", "POSTGUARD_LOG_LEVEL": "WARNING",
               "POSTGUARD_LOG_FORMAT": "json", "POSTGUARD_ANOMALY_SCAN_INTERVAL_SECONDS": "0",
               "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
        numbers = synthetic_numbers(2000 + args.flagged, rng)
        flagged, clean = numbers[:args.flagged], numbers[args.flagged:]
        seed_env = {k: v for k, v in env.items() if k.startswith("POSTGUARD_")}
        subprocess.run([sys.executable, "-c", "import sys, json; sys.path.insert(0, %r); "
                        "from benchmarks.bench_check import seed; seed(json.loads(sys.argv[1]), json.loads(sys.argv[2]))"
                        % str(ROOT), json.dumps(seed_env), json.dumps(flagged)], env=env, cwd=ROOT, check=True)
        def value(clean_numbers):
            if flagged and rng.random() < args.flagged_share:
                return written(rng.choice(flagged), rng)
            return (link if rng.random() < args.links else written)(clean_numbers(), rng)

        def lookups(clean_numbers, n):
            return [httpload.post("/v1/check", {"value": value(clean_numbers)}) for _ in range(n)]

        requests = lookups(lambda: rng.choice(clean), 5000)
        fresh = None
        if args.fresh:
            unseen = iter(synthetic_numbers(200_000 + len(numbers), random.Random(7)))
            taken = set(numbers)
            fresh = lookups(lambda: next(d for d in unseen if d not in taken), 200_000)
        runs = {"bare": ([], []), "app": ([], []), "fresh": ([], [])}
        for r in range(args.rounds):
            for kind in ("bare", "app", "fresh") if fresh else ("bare", "app"):
                target = ("benchmarks.bench_check:bare_app", False) if kind == "bare" else ("postguard.app:create_app", True)
                proc, port = httpload.serve(target[0], factory=target[1], env=env)
                try:
                    got = httpload.load(port, fresh if kind == "fresh" else requests, connections=args.connections,
                                        seconds=args.seconds)
                finally:
                    httpload.stop(proc)
                if got.errors:
                    raise SystemExit(f"{kind}: {got.errors} requests failed")
                runs[kind][0].append(got.requests_per_s)
                runs[kind][1].append(got.p99_ms)
                print(f"round {r + 1} {kind}: {got.requests_per_s:.0f} requests/s, p99 {got.p99_ms:.1f} ms "
                      f"({got.generator})", file=sys.stderr)
    (bare_rates, bare_p99s), (rates, p99s) = runs["bare"], runs["app"]
    ratios = [a / b for a, b in zip(rates, bare_rates)]
    emit("requests_per_s", statistics.median(rates), "bare_asgi_requests_per_s", statistics.median(bare_rates))
    emit("requests_per_s_ratio", statistics.median(ratios), "target_ratio", TARGET_RATIO)
    emit("p99_ms", statistics.median(p99s), "target_p99_ms", TARGET_P99_MS)
    emit("bare_p99_ms", statistics.median(bare_p99s), "target_p99_ms", TARGET_P99_MS)
    if runs["fresh"][0]:
        emit("fresh_requests_per_s", statistics.median(runs["fresh"][0]), "bare_asgi_requests_per_s",
             statistics.median(bare_rates))
        emit("fresh_p99_ms", statistics.median(runs["fresh"][1]), "target_p99_ms", TARGET_P99_MS)
    if args.index:
        out = subprocess.run([sys.executable, __file__, "--index-only", str(args.index)], env=env,
                             capture_output=True, text=True, check=True)
        idx = json.loads(out.stdout)
        print(f"index: {idx}", file=sys.stderr)
        emit(f"index_rss_mb_{idx['entries']}", idx["rss_mb"], "target_mb", TARGET_MB)
        emit(f"index_peak_rss_mb_{idx['entries']}", idx["peak_mb"], "target_mb", TARGET_MB)


if __name__ == "__main__":
    main()
