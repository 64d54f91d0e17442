"""Message checks: messages per second on one core, against a bare regex scan of the same messages.

    .venv/bin/python benchmarks/bench_messages.py                      # 20,000 messages, 3 rounds
    .venv/bin/python benchmarks/bench_messages.py --messages 2000 --rounds 1   # CI smoke run

What runs:

- the messages: ``--messages`` synthetic SMS (``postguard.messages.corpus.generated``: half genuine
  notices — bank OTPs, carrier and power bills, tracking updates — and half scams with lookalike
  links, accounts, wallets and amounts), every one with its own random numbers, so no two repeat;
- the check: ``MessageService.answer`` of a real ``Platform`` on an embedded database seeded with the
  official channels and (``--flagged``) reported phone numbers, with the brands of
  ``../shared/testdata/brands.tsv`` when present: bounding and folding, extracting every indicator,
  each indicator's verdict from the intelligence index and the lookalike matcher, the red-flag rules
  and the model; in this one process (one core);
- the baseline: one compiled regular expression for links and numbers run over the same messages in
  the same run (what a bare keyword/regex filter costs).

JSON lines (DESIGN.md §4): ``messages_per_s`` against ``bare_regex_messages_per_s`` (the ratio is
for information), and against the target 5,000 (``ratio`` ≥ 1 is met); the medians of the rounds;
each round's figures go to stderr.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from postguard.messages.corpus.generated import generate  # noqa: E402

BRANDS = ROOT.parent / "shared" / "testdata" / "brands.tsv"
TARGET = 5000
BARE = re.compile(r"(?i)https?://\S+|www\.\S+|[\w\-]+\.(?:vn|com|top|xyz|vip|cc|online|site|shop|info|club)\b\S*|"
                  r"\+?\d[\d .\-]{7,14}\d")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--flagged", type=int, default=200)
    args = ap.parse_args()

    from postguard.intel.seed import seed_official
    from postguard.platform import Platform
    from postguard.settings import Settings

    texts = [t for _, _, t, _ in generate(args.messages, seed=4242)]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), intel_check_rate="1000000/second",
                            lookalike_brands_file=BRANDS if BRANDS.exists() else None)
        p = Platform(settings)
        seed_official(p.intel, p.orgs)
        for i in range(args.flagged):
            p.intel.report(indicators=[f"09{i:08d}"], category="fake_courier", client=f"bench{i}")
        service = p.messages
        for t in texts[:200]:  # warm: the model, the matcher, the index
            service.answer(t)
        ours, bare = [], []
        for r in range(args.rounds):
            t0 = time.perf_counter()
            for t in texts:
                service.answer(t)
            ours.append(len(texts) / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            found = 0
            for t in texts:
                found += len(BARE.findall(t))
            bare.append(len(texts) / (time.perf_counter() - t0))
            print(f"round {r + 1}: {ours[-1]:,.0f} messages/s, bare regex {bare[-1]:,.0f}/s", file=sys.stderr)
        p.close()
    rate, base = statistics.median(ours), statistics.median(bare)
    for line in (
        {"bench": "messages", "metric": "messages_per_s", "value": round(rate), "baseline_metric":
         "bare_regex_messages_per_s", "baseline": round(base), "ratio": round(rate / base, 4)},
        {"bench": "messages", "metric": "messages_per_s", "value": round(rate), "baseline_metric": "target",
         "baseline": TARGET, "ratio": round(rate / TARGET, 3)},
    ):
        print(json.dumps(line))


if __name__ == "__main__":
    main()
