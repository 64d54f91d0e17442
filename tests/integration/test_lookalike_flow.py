"""The whole way of a lookalike site: a feed is scanned, the hits are taken in, a lookup answers
``lookalike``, an analyst confirms one (it enters the signed blocklist, and its takedown request
carries what the scanner found) and dismisses another (it is never raised again)."""

from __future__ import annotations

import io
import json
import zipfile

import orjson
import pytest

from postguard.blocklist.service import verify
from postguard.intel.seed import seed_official
from postguard.lookalike.scan import ScanStats, names_of, read_lines, scan
from postguard.platform import Platform
from postguard.takedown.service import ContactIn

pytestmark = pytest.mark.both_databases

FEED = b"""{"data": {"leaf_cert": {"all_domains": ["*.vnpost-cskh.top", "vnpost-cskh.top"]}}}
bakery-hanoi.com
viettelpost.com.vn.tra-cuu.xyz
shopee.vn
vnpost.vn
"""


@pytest.fixture
def p(make_settings):
    platform = Platform(make_settings(intel_check_rate="1000/minute"))
    seed_official(platform.intel, platform.orgs)  # Vietnam Post, Viettel Post, Shopee… verified
    yield platform
    platform.close()


def test_from_a_feed_to_the_blocklist_and_a_takedown_request(p):
    stats = ScanStats()
    hits = list(scan(p.intel.brands.model(), names_of(read_lines(io.BytesIO(FEED), stats), stats)))
    assert [h["host"] for h in hits] == ["vnpost-cskh.top", "viettelpost.com.vn.tra-cuu.xyz"]
    assert stats.repeats == 1  # the certificate's wildcard and bare name are one site

    system = p.orgs.platform_principal(actor="scanner")
    hits = [orjson.loads(orjson.dumps(h)) for h in hits]  # as the scanner's JSON lines carry them
    assert p.intel.scanner.ingest(system, hits)["new"] == 2
    answer = p.intel.check("https://vnpost-cskh.top/dang-nhap", client="citizen")
    assert answer["verdict"] == "lookalike" and answer["lookalike"]["official"][0] == "vnpost.vn"

    analyst = p.intel.cli_principal()
    p.intel.scanner.confirm(analyst, "vnpost-cskh.top", note="asks for the OTP")
    p.intel.scanner.dismiss(analyst, "viettelpost.com.vn.tra-cuu.xyz", note="a test page of the operator")

    listed = p.blocklist.get("json")
    assert verify(listed.body, listed.signature, p.blocklist.public_key())
    assert [e["value"] for e in json.loads(listed.body)["entries"]] == ["vnpost-cskh.top"]
    assert "vnpost-cskh.top CNAME ." in p.blocklist.get("rpz").body.decode()

    confirmed = p.intel.check("vnpost-cskh.top", client="citizen")
    assert confirmed["verdict"] == "confirmed" and confirmed["lookalike"]["brand"] == "Vietnam Post"
    dismissed = p.intel.check("viettelpost.com.vn.tra-cuu.xyz", client="citizen")
    # not raised as a lookalike again; written to deceive (the brand's domain first), it stays suspicious
    assert dismissed["verdict"] == "suspicious" and "lookalike" not in dismissed
    again = p.intel.scanner.ingest(system, hits)
    assert again["skipped_dismissed"] == 1 and again["updated"] == 1 and again["new"] == 0

    site = p.intel.scanner.hits(analyst, status="confirmed")["items"][0]
    out = p.takedowns.create(analyst, indicator_id=site["indicator"],
                             hosting=ContactIn(email="abuse@hosting.example"))
    hosting = next(r for r in out["requests"] if r["recipient"]["kind"] == "hosting")
    with zipfile.ZipFile(io.BytesIO(p.takedowns.pack(analyst, hosting["ref"])[1])) as z:
        manifest = json.loads(z.read("manifest.json"))
        letter = z.read("letter.txt").decode()
    assert manifest["brand"]["name"] == "Vietnam Post" and manifest["brand"]["official_domains"] == ["vnpost.vn"]
    assert manifest["brand"]["technique"] == "combosquat"
    assert any("scam words: cskh" in r for r in manifest["reasons"]["scanner"])
    assert "vnpost.vn" in letter
