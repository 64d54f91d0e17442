"""Lookalike scanning: throughput per core, recall on planted lookalikes and false positives per
million ordinary names, against an exact-match baseline of dnstwist-style permutations.

    .venv/bin/python benchmarks/bench_lookalike.py                         # 1,000,000 names, brands.tsv
    .venv/bin/python benchmarks/bench_lookalike.py --names 50000 --planted 1000   # CI smoke run

What runs:

- the brands: ``../shared/testdata/brands.tsv`` (46 Vietnamese brands; ``--brands`` for another);
- the feed: ``--names`` distinct hostnames (no name repeats), ``--planted`` of them lookalikes and the
  rest ordinary names. Ordinary names are built from a vocabulary of English and Vietnamese words and
  syllables (a tenth of them shop, bank, post, pay, express and other words of the brands' trades),
  digits and hyphens, under a spread of suffixes (com, vn, com.vn, net, shop, xyz, top, …), a
  quarter with subdomains; no brand token is in the vocabulary. Planted lookalikes imitate the
  brands the way reported fake sites do (brand + Vietnamese scam words, brand + digits on cheap TLDs,
  TLD swaps, brand in a subdomain of another domain, fake suffixes, misspellings alone or inside a
  longer label, homoglyphs in punycode, digit tricks and free-hosting sites), each drawn at random
  from its family, so no two repeat. Acronym brands (ACB, VIB, GHN, MoMo…) are imitated mostly with a
  word, "vn" or a number attached, since their bare names are registered under every common TLD;
  three in ten of their plants are bare all the same;
- the matcher (``postguard.lookalike.match.Matcher``) over the whole feed in one process: names/s,
  and the baseline: membership in the set of every permutation ``postguard lookalike permutations``
  makes of every official domain (the exact-match approach of permutation tools), over the same
  feed in the same run.

JSON lines (DESIGN.md §4): ``names_per_s`` (target ≥ 100,000 per core) against the baseline's
``exact_match_names_per_s``; ``recall`` against the baseline's recall (target ≥ 0.95); and
``false_positives_per_million`` against the target 100 (ratio ≤ 1 is met), with the baseline's.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from postguard.lookalike.brands import fold_name, load_brands  # noqa: E402
from postguard.lookalike.match import Matcher  # noqa: E402
from postguard.lookalike.permutations import permutations  # noqa: E402

BRANDS = ROOT.parent / "shared" / "testdata" / "brands.tsv"
WORDS = """
about account active adventure air alpha amber anchor angel apple arena art atlas auto autumn baby bakery
balance bamboo basic beach bean bear beauty bee best bike bird black bloom blue boat body book boost bread
bridge bright brother build cafe camp candle capital car care castle cat cell center chef city class clean
clear cloud club coast code coffee color comfort cook cool corner cosmo country craft cream creative crown
crystal cube daily dance data dawn day deal deep delta design dev diamond digital dog dream drive dune eagle
earth east easy eco edge elite energy epic event expert eye fabric face fair family farm fashion fast field
film fire first fish fit flag flash flower fly focus food forest fox fresh friend fruit fun future game
garden gate gear gem giant glass global gold golden good grand green grid group grow guide happy harbor
health heart hero high hill home honey hope horizon hotel house hub idea image infinity ink inn iron island
jade jet joy jungle key kid king kitchen lab lake land laser leaf learn legend life light lime line link
lion little live local logic loop lotus love lucky luna magic main maker maple market master max media
metro micro mind mint mobile modern moon motion mountain move music nature net new next night noble north
nova oak ocean office one open orange orbit paper park party path peak pearl pet phoenix photo pixel
planet plant play plus point polar power prime pro pure quest quick rain rainbow real red river road rock
rocket rose royal ruby run safe sail salt sand sea season secret seed sharp shine silver simple sky smart
smile snow social solar solid song soul sound south space spark speed spirit spring square star stone
storm story studio style sugar summit sun super swift table tea team tech tiger time tiny top tower town
track trade travel tree trend tribe true trust turbo twin ultra unity urban valley vision vista vital
wave way web west white wild wind wing wise wolf wood world yellow young zen zone
an anh ba bac bao binh cam chau chi cuong dai dang dat dep dong duc dung gia giang ha hai hang hanh hao
hien hieu hoa hoang hong hung huong huy khanh khoa kim lam lan lang linh loc long mai manh minh my nam
ngan ngoc nguyen nhan nhat nhu phat phong phu phuc phuong quan quang que quoc quynh sang sao son tam tan
thai thanh thao thien thinh thu thuy tien tin toan trang tri trung tu tuan tuyet van viet vinh vu xuan
yen hanoi saigon danang hue cantho haiphong nhatrang dalat vungtau sapa halong mientay mienbac mientrung
nhahang quancafe khachsan dulich noithat thoitrang mypham thucpham giadung dienthoai maytinh xemay oto
""".split()
TRADE = "shop store mall market post express delivery logistics ship bank finance pay money wallet card credit loan " \
        "telecom mobile net service support care online app".split()
SUFFIXES = ["com"] * 40 + ["vn"] * 10 + ["com.vn"] * 6 + ["net"] * 6 + ["org"] * 4 + ["io", "co", "info", "biz", "me",
            "shop", "store", "online", "site", "xyz", "top", "club", "asia", "net.vn", "edu.vn", "org.vn", "vip",
            "app", "dev", "tech", "live", "cc", "tv", "us", "uk", "de", "jp", "au", "ca", "fr", "co.uk", "com.au"]
SUB = ["www", "mail", "api", "shop", "cdn", "app", "blog", "m", "static", "admin", "portal", "dev", "test", "img"]
SCAM = ["cskh", "hotro", "hoantien", "giaohang", "quatang", "khuyenmai", "vay", "tracuu", "xacminh", "nhanqua",
        "uudai", "trungthuong", "dangnhap", "online", "vn", "login", "app", "otp", "support", "tichdiem", "vandon"]
CHEAP = ["top", "xyz", "vip", "cc", "club", "online", "site", "icu", "shop", "live", "info", "buzz", "com", "net", "vn"]
FREE = ["vercel.app", "netlify.app", "github.io", "pages.dev", "weebly.com", "web.app", "firebaseapp.com",
        "blogspot.com", "wixsite.com", "glitch.me"]
CYR = {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "i": "і", "s": "ѕ", "h": "һ"}
ACCENT = {"a": "à", "e": "é", "o": "ô", "u": "ư", "i": "í", "y": "ý", "d": "đ"}


def ordinary(rng: random.Random) -> str:
    words = [rng.choice(TRADE if rng.random() < 0.1 else WORDS) for _ in range(rng.choice((1, 1, 2, 2, 2, 3)))]
    label = rng.choice(("", "-", "")).join(words)
    if rng.random() < 0.15:
        label += str(rng.randrange(1, 10_000))
    host = f"{label[:60]}.{rng.choice(SUFFIXES)}"
    if rng.random() < 0.25:
        host = f"{rng.choice(SUB + WORDS)}.{host}"
    return host


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(4)
    if op == 0:
        return word[:i] + word[i + 1:]
    if op == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == 2:
        return word[:i] + rng.choice("abcdefghiklmnoprstuvy") + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def planted(rng: random.Random, brands: list[tuple[str, list[str]]]) -> str:
    name, domains = rng.choice(brands)
    official = rng.choice(domains)
    label = official.split(".")[0]
    token = label if len(label) >= 3 else fold_name(name)
    scam, tld = rng.choice(SCAM), rng.choice(CHEAP)
    n = rng.randrange(1, 1000)
    if len(token) < 5 and rng.random() < 0.7:
        # every short name is registered already under the common TLDs: fake sites of acronym brands
        # carry a word, "vn" or a number with them
        token = rng.choice((f"{token}-{scam}", f"{token}{scam}", f"{token}-vn", f"{token}vn", f"{scam}-{token}"))
    family = rng.randrange(10)
    if family == 0:  # brand + scam word
        return f"{rng.choice((f'{token}-{scam}', f'{scam}-{token}', f'{token}{scam}'))}{rng.choice(('', n))}.{tld}"
    if family == 1:  # brand + digits on a cheap TLD
        return f"{token}{n}.{rng.choice(CHEAP[:10])}"
    if family == 2:  # TLD swap
        return f"{token}.{rng.choice(['top', 'xyz', 'vip', 'cc', 'online', 'site', 'shop', 'info', 'net', 'org'])}"
    if family == 3:  # the brand in a subdomain of another domain
        other = f"{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.randrange(100)}.{tld}"
        return f"{rng.choice((token, token + '-' + scam, scam + '.' + token))}.{other}"
    if family == 4:  # fake suffix
        return f"{official}{rng.choice(('-', '.'))}{rng.choice(SCAM)}{rng.randrange(100)}.{tld}"
    if family == 5 and len(label) >= 6:  # misspelled, alone (a misspelled acronym is another acronym)
        return f"{_typo(rng, label)}.{rng.choice(('com', 'vn', 'com.vn', 'net', 'top', 'xyz', 'online'))}"
    if family == 6 and len(label) >= 6:  # misspelled, with a scam word
        return f"{_typo(rng, label)}-{scam}.{tld}"
    if family == 7:  # homoglyphs: Cyrillic or Vietnamese diacritics, in punycode
        table = rng.choice((CYR, ACCENT))
        spots = [i for i, c in enumerate(token) if c in table]
        if spots:
            i = rng.choice(spots)
            return (token[:i] + table[token[i]] + token[i + 1:] + rng.choice(("", f"-{scam}")) + "."
                    + rng.choice(("com", "vn", "net", "top"))).encode("idna").decode("ascii")
    if family == 8:  # digit tricks
        if "o" in token or "l" in token or "i" in token:
            return f"{token.replace('o', '0', 1) if 'o' in token else token.replace('l', '1', 1).replace('i', '1', 1)}" \
                   f"{rng.choice(('', '-' + scam))}.{rng.choice(('com', 'vn', 'net', 'top'))}"
    # free hosting
    return f"{rng.choice((token, f'{token}-{scam}', f'{token}-vn', f'{token}{n}'))}.{rng.choice(FREE)}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--names", type=int, default=1_000_000)
    ap.add_argument("--planted", type=int, default=10_000)
    ap.add_argument("--brands", type=Path, default=BRANDS)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    if not args.brands.is_file():
        sys.exit(f"no brands file at {args.brands} (pass --brands)")
    model = load_brands(args.brands)
    brands = [(b.name, b.official) for b in model.brands]
    rng = random.Random(args.seed)
    official = set(model.official)
    plant: set[str] = set()
    while len(plant) < args.planted:
        h = planted(rng, brands).lower()
        if h.split(".", 1)[-1] not in official and h not in official:
            plant.add(h)
    names: set[str] = set(plant)
    while len(names) < args.names:
        names.add(ordinary(rng))
    feed = list(names)
    rng.shuffle(feed)
    print(f"feed: {len(feed)} distinct names, {len(plant)} planted", file=sys.stderr)

    started = time.perf_counter()
    matcher = Matcher(model)
    build_s = time.perf_counter() - started
    t = time.perf_counter()
    hits = {h for h in feed if matcher.match(h) is not None}
    seconds = time.perf_counter() - t
    rate = len(feed) / seconds

    perms = {p for d in model.official for _, p in permutations(d)}
    t = time.perf_counter()
    base_hits = {h for h in feed if h in perms}
    base_seconds = time.perf_counter() - t
    base_rate = len(feed) / base_seconds

    ordinary_n = len(feed) - len(plant)
    recall = len(hits & plant) / len(plant)
    base_recall = len(base_hits & plant) / len(plant)
    fp = len(hits - plant) / ordinary_n * 1e6
    base_fp = len(base_hits - plant) / ordinary_n * 1e6
    missed = sorted(plant - hits)
    print(f"matcher built in {build_s * 1000:.0f} ms; {len(perms)} baseline permutations", file=sys.stderr)
    print("missed (sample): " + ", ".join(missed[:15]), file=sys.stderr)
    print("false positives (sample): " + ", ".join(sorted(hits - plant)[:15]), file=sys.stderr)
    for line in (
        {"bench": "lookalike", "metric": "names_per_s", "value": round(rate), "baseline_metric": "exact_match_names_per_s",
         "baseline": round(base_rate), "ratio": round(rate / base_rate, 4), "target": 100_000},
        {"bench": "lookalike", "metric": "recall", "value": round(recall, 4), "baseline_metric": "exact_match_recall",
         "baseline": round(base_recall, 4), "ratio": round(recall / base_recall, 2) if base_recall else None,
         "target": 0.95},
        {"bench": "lookalike", "metric": "false_positives_per_million", "value": round(fp, 1),
         "baseline_metric": "target", "baseline": 100, "ratio": round(fp / 100, 3),
         "exact_match_false_positives_per_million": round(base_fp, 1)},
    ):
        print(json.dumps(line))


if __name__ == "__main__":
    main()
