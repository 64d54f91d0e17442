"""``postguard lookalike scan`` and ``permutations`` end to end: plain and certificate-transparency
feeds, stdin, several processes, malformed and over-long lines, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import orjson
import pytest

from postguard.lookalike.scan import MAX_LINE
from tests.cli.test_cli import run  # noqa: F401  (the fixture)

BRANDS = "# brand<TAB>official domains\nViettel Post\tviettelpost.com.vn,viettelpost.vn\nShopee\tshopee.vn\n"
HITS = {"vietteipost.vn", "viettelpost.com.vn.tra-cuu.xyz", "shopee-cskh.top"}


@pytest.fixture
def brands(tmp_path):
    f = tmp_path / "brands.tsv"
    f.write_text(BRANDS, encoding="utf-8")
    return f


def _feeds(tmp_path):
    plain = tmp_path / "names.txt"
    plain.write_bytes(b"# a comment\nvietteIpost.vn\nexample.org\n\nwww.viettelpost.com.vn\n\xff\xfe not utf-8\n"
                      + b"x" * (MAX_LINE + 10) + b"\nshopee.vn\nvietteIpost.vn\n")
    ct = tmp_path / "ct.jsonl"
    ct.write_text("\n".join([
        json.dumps({"data": {"leaf_cert": {"all_domains": ["*.viettelpost.com.vn.tra-cuu.xyz", "shopee.vn"]}}}),
        json.dumps({"name_value": "shopee-cskh.top\nbakery.vn"}),
        "{not json", json.dumps({"unrelated": 1}), json.dumps([1, 2]),
    ]) + "\n", encoding="utf-8")
    return plain, ct


def test_scan_writes_only_lookalikes_with_their_reasons(run, tmp_path, brands):  # noqa: F811
    plain, ct = _feeds(tmp_path)
    out = tmp_path / "hits.jsonl"
    code, _, err = run("lookalike", "scan", str(plain), str(ct), "--brands", str(brands), "--out", str(out))
    assert code == 0, err
    hits = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert {h["host"] for h in hits} == HITS and len(hits) == 3  # repeats are written once
    for h in hits:
        assert {"host", "brand", "technique", "score", "reasons", "campaign"} <= h.keys()
        assert h["score"] == min(100, sum(r["points"] for r in h["reasons"])) >= 60
    assert "3 lookalikes" in err and "2 repeats skipped" in err  # vietteIpost.vn, and shopee.vn in both feeds
    assert "4 malformed lines" in err  # not UTF-8, over-long, not JSON, a JSON object with no names


def test_scan_from_stdin_in_several_processes(tmp_path, brands):
    plain, ct = _feeds(tmp_path)
    names = b"".join(f"shop{i}.example.com\n".encode() for i in range(5000)) + plain.read_bytes() + ct.read_bytes()
    proc = subprocess.run([sys.executable, "-m", "postguard", "lookalike", "scan", "-", "--brands", str(brands),
                           "--out", "-", "--workers", "2"], input=names, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert {orjson.loads(line)["host"] for line in proc.stdout.splitlines()} == HITS


@pytest.mark.parametrize("args, message", [
    (("lookalike", "scan", "absent.txt", "--brands", "BRANDS", "--out", "OUT"), "FEED: cannot read absent.txt"),
    (("lookalike", "scan", "FEED", "--brands", "absent.tsv", "--out", "OUT"), "cannot read"),
    (("lookalike", "scan", "FEED", "--brands", "BAD", "--out", "OUT"), "BAD.tsv:1: expected: brand<TAB>"),
    (("lookalike", "permutations", "not a domain"), "not a registrable domain"),
])
def test_bad_input_is_a_clear_error(run, tmp_path, brands, args, message):  # noqa: F811
    feed = tmp_path / "feed.txt"
    feed.write_text("shopee-cskh.top\n", encoding="utf-8")
    (tmp_path / "BAD.tsv").write_text("only a name\n", encoding="utf-8")
    names = {"BRANDS": str(brands), "FEED": str(feed), "OUT": str(tmp_path / "o.jsonl"), "BAD": str(tmp_path / "BAD.tsv"),
             "absent.txt": str(tmp_path / "absent.txt"), "absent.tsv": str(tmp_path / "absent.tsv")}
    code, _, err = run(*[names.get(a, a) for a in args])
    assert code == 2 and message.replace("absent.txt", str(tmp_path / "absent.txt")) in err
    assert "Traceback" not in err


def test_permutations_print_every_family(run):  # noqa: F811
    code, out, _ = run("lookalike", "permutations", "viettelpost.com.vn", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and {"cyrillic", "homoglyph", "combosquat", "fake-suffix", "tld-swap"} <= {r["family"] for r in rows}


@pytest.mark.both_databases
def test_scan_can_protect_the_registry_too(run, tmp_path, brands):  # noqa: F811
    assert run("intel", "official", "seed")[0] == 0  # Vietnam Post's vnpost.vn among others, verified
    feed = tmp_path / "feed.txt"
    feed.write_text("vnpost-cskh.top\nvnpost.vn\nshopee-cskh.top\n", encoding="utf-8")
    out = tmp_path / "hits.jsonl"
    assert run("lookalike", "scan", str(feed), "--brands", str(brands), "--out", str(out))[0] == 0
    assert [orjson.loads(x)["host"] for x in out.read_bytes().splitlines()] == ["shopee-cskh.top"]
    assert run("lookalike", "scan", str(feed), "--brands", str(brands), "--out", str(out), "--registry")[0] == 0
    hits = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    assert [h["host"] for h in hits] == ["vnpost-cskh.top", "shopee-cskh.top"]
    assert hits[0]["official"] == ["vnpost.vn"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pseudo-terminal as stderr")
def test_a_progress_bar_on_a_terminal_and_none_in_a_pipe(tmp_path, brands):
    import os
    import pty

    feed = tmp_path / "feed.txt"
    feed.write_bytes(b"".join(f"shop{i}.example.com\n".encode() for i in range(20000)) + b"shopee-cskh.top\n")
    command = [sys.executable, "-m", "postguard", "lookalike", "scan", str(feed), "--brands", str(brands), "--out", "-"]
    primary, secondary = pty.openpty()
    proc = subprocess.run(command, stderr=secondary, stdout=subprocess.PIPE, timeout=120)
    os.close(secondary)
    shown = b""
    try:
        while chunk := os.read(primary, 65536):
            shown += chunk
    except OSError:  # the terminal closed
        pass
    os.close(primary)
    assert proc.returncode == 0 and b"scanning" in shown and b"1 lookalike\r\n" in shown
    assert [orjson.loads(x)["host"] for x in proc.stdout.splitlines()] == ["shopee-cskh.top"]
    piped = subprocess.run(command, capture_output=True, timeout=120)
    assert b"scanning" not in piped.stderr and piped.stderr.endswith(b": 1 lookalike\n")
