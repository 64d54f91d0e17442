"""The lookalike matcher: every technique on generated cases, the normaliser's properties, no
official domain ever flagged, short acronyms only at word boundaries, and the generator families."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postguard.errors import InvalidInput
from postguard.lookalike.brands import BrandModelBuilder, load_brands
from postguard.lookalike.match import Matcher
from postguard.lookalike.normal import skeleton, split_host
from postguard.lookalike.permutations import FAMILIES, permutations

SHARED_BRANDS = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "brands.tsv"
BRANDS = {  # a few of the most imitated brands (their public domains), for tests that need no file
    "Vietnam Post": ["vnpost.vn", "vietnampost.vn"],
    "Viettel Post": ["viettelpost.com.vn", "viettelpost.vn"],
    "Shopee": ["shopee.vn", "shopee.com"],
    "Vietcombank": ["vietcombank.com.vn"],
    "ACB": ["acb.com.vn"],
    "MoMo": ["momo.vn"],
    "Lazada": ["lazada.vn"],
}


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    b = BrandModelBuilder()
    for name, domains in BRANDS.items():
        b.add(name, domains)
    return Matcher(b.build())


@pytest.mark.parametrize("host,brand,technique", [
    ("vnpost-vn.com", "Vietnam Post", "combosquat"),
    ("vietteIpost.vn", "Viettel Post", "typo"),
    ("viettelpost.com.vn.tra-cuu.xyz", "Viettel Post", "fake_suffix"),
    ("shopee.vn.аррӏе.com", "Shopee", "fake_suffix"),
    ("vnpost.vn-xyz.top", "Vietnam Post", "fake_suffix"),
    ("viettelpost.top", "Viettel Post", "tld_swap"),
    ("shopee-cskh.com", "Shopee", "combosquat"),
    ("cskh-vietcombank.online", "Vietcombank", "combosquat"),
    ("shopee123.vip", "Shopee", "combosquat"),
    ("vietcombamk.com", "Vietcombank", "typo"),
    ("vietcombamk-cskh.top", "Vietcombank", "typo"),
    ("lazadda.vn", "Lazada", "typo"),
    ("vietc0mbank.com", "Vietcombank", "homoglyph"),
    ("rnomo.vn", "MoMo", "homoglyph"),
    ("vietcòmbank.com", "Vietcombank", "homoglyph"),
    ("xn--vietcmbank-" + "vietcòmbank".encode("punycode").decode()[len("vietcmbank-"):] + ".com", "Vietcombank",
     "homoglyph"),
    ("viettelpost.dangnhap.secure-login.top", "Viettel Post", "subdomain"),
    ("shopee-vn.vercel.app", "Shopee", "free_hosting"),
    ("shopee-khuyenmai.weebly.com", "Shopee", "free_hosting"),
    ("acb-nganhang.top", "ACB", "combosquat"),
    ("acbbank-online.com", "ACB", "combosquat"),
    ("*.viettelpost.com.vn.tra-cuu.xyz.", "Viettel Post", "fake_suffix"),
])
def test_each_technique(matcher, host, brand, technique):
    hit = matcher.match(host)
    assert hit is not None, host
    assert (hit.brand, hit.technique) == (brand, technique)
    assert hit.score >= matcher.threshold and hit.reasons[0].code == technique
    assert hit.score == min(100, sum(r.points for r in hit.reasons))  # the score is its reasons
    assert hit.official == tuple(BRANDS[brand])


@pytest.mark.parametrize("host", [
    "vnpost.vn", "www.vnpost.vn", "tracking.viettelpost.com.vn", "shopee.com", "m.shopee.vn", "acb.com.vn",
    "google.com", "vnexpress.net", "tacbook.com", "lacbeo.vn", "amazing-shop.com", "momotaro.jp", "theshoppe.com",
    "192.168.1.1", "com.vn", "localhost", "a.unknowntld", "", "-", "a" * 300 + ".com",
])
def test_ordinary_and_official_names_are_not_flagged(matcher, host):
    assert matcher.match(host) is None


def test_no_brands_no_lookalikes():
    empty = Matcher(BrandModelBuilder().build())
    assert empty.match("vnpost-vn.com") is None and empty.match("giao-hang.example.com") is None


def test_short_acronyms_count_only_as_words(matcher):
    assert matcher.match("acb-cskh.top") is not None
    for host in ("tacbook.top", "acbxyz-shop.top", "macbeth-cskh.top", "placebo-login.xyz"):
        assert matcher.match(host) is None, host


@pytest.mark.skipif(not SHARED_BRANDS.is_file(), reason="../shared/testdata/brands.tsv is absent")
def test_no_official_domain_in_the_brands_file_is_ever_flagged():
    model = load_brands(SHARED_BRANDS)
    m = Matcher(model)
    assert len(model.brands) >= 46
    for brand in model.brands:
        for domain in brand.official:
            for host in (domain, f"www.{domain}", f"*.{domain}", f"login.secure.{domain}", domain.upper() + "."):
                assert m.match(host) is None, host


@pytest.mark.skipif(not SHARED_BRANDS.is_file(), reason="../shared/testdata/brands.tsv is absent")
def test_generated_lookalikes_of_every_brand_are_caught():
    """Brand + scam word on a cheap TLD, and the brand before a fake suffix: for every brand."""
    model = load_brands(SHARED_BRANDS)
    m = Matcher(model)
    rng = random.Random(5)
    for brand in model.brands:
        label = brand.official[0].split(".")[0]
        for host in (f"{label}-cskh{rng.randrange(10, 999)}.top", f"{brand.official[0]}.xac-minh{rng.randrange(99)}.xyz"):
            hit = m.match(host)
            assert hit is not None and hit.brand == brand.name, host


def test_campaigns_group_names_of_one_template(matcher):
    a, b = matcher.match("shopee123.vip"), matcher.match("vnpost4567.vip")
    assert a.campaign == b.campaign == "{brand}<N>.vip"
    c, d = matcher.match("viettelpost.com.vn.tra-cuu.xyz"), matcher.match("shopee.vn.tra-cuu.xyz")
    assert c.campaign == d.campaign == "*.tra-cuu.xyz"
    assert matcher.match("shopee-cskh.top").campaign != a.campaign


# -- the normaliser ----------------------------------------------------------------------------------
LABEL = st.text(alphabet=string.ascii_lowercase + string.digits + "-đươăâêôàáảãạ", min_size=1, max_size=20)


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_skeleton_is_idempotent_and_plain(text):
    s = skeleton(text)
    assert skeleton(s) == s


@settings(max_examples=300)
@given(st.lists(LABEL, min_size=1, max_size=4), st.sampled_from(["com", "vn", "com.vn", "xyz", "vercel.app"]))
def test_split_host_round_trips(labels, suffix):
    labels = [x.strip("-") or "a" for x in labels]
    host = ".".join(labels) + "." + suffix
    h = split_host(host)
    if h is None:  # only names IDNA refuses (e.g. hyphens in the 3rd and 4th places)
        return
    assert h.suffix.endswith(suffix)  # or longer: ``de.com`` is a suffix of its own
    if host.isascii():
        assert ".".join(h.labels) + "." + h.suffix == host.lower()
    assert split_host(h.host) == h  # the A-label form splits the same
    assert split_host("*." + host.upper() + ".") == h


@pytest.mark.parametrize("text,seen", [("аррӏе", "appie"), ("vietc0mbank", "vietcombank"), ("rnomo", "momo"),
                                       ("bưuđiện", "buudien"), ("vvebsite", "website"), ("ｓｈｏｐｅｅ", "shopee")])
def test_skeleton_folds_what_deceives_the_eye(text, seen):
    assert skeleton(text) == seen


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_match_never_raises_on_any_text(matcher, text):
    hit = matcher.match(text)
    assert hit is None or hit.score >= matcher.threshold


# -- the brands file -----------------------------------------------------------------------------------
def test_a_bad_brands_file_names_its_line(tmp_path):
    f = tmp_path / "brands.tsv"
    f.write_text("# comment\nShopee\tshopee.vn\nNo tab here\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as e:
        load_brands(f)
    assert e.value.errors[0].field == "brands.tsv:3"
    f.write_text("Shopee\tshopee.vn,not a domain\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as e:
        load_brands(f)
    assert "not a registrable domain" in e.value.errors[0].message
    with pytest.raises(InvalidInput):
        load_brands(tmp_path / "absent.tsv")


# -- the generator families ------------------------------------------------------------------------------
def test_permutations_cover_every_family_once_each(matcher):
    out = list(permutations("viettelpost.com.vn"))
    assert {f for f, _ in out} == set(FAMILIES)
    domains = [d for _, d in out]
    assert len(domains) == len(set(domains)) and "viettelpost.com.vn" not in domains
    assert all(split_host(d) is not None for d in domains)


def test_permutations_include_what_dnstwist_makes():
    """Every family dnstwist has is one of ours, and for the families that do not depend on a
    keyboard layout or a glyph table, every name it makes, we make too."""
    dnstwist = pytest.importorskip("dnstwist")
    ours = {d for _, d in permutations("shopee.vn")}
    fz = dnstwist.Fuzzer("shopee.vn")
    fz.generate()
    assert {p["fuzzer"] for p in fz.domains} - {"*original"} <= set(FAMILIES)
    theirs = {p["domain"] for p in fz.domains
              if p["fuzzer"] in ("addition", "insertion", "omission", "repetition", "transposition", "hyphenation",
                                 "vowel-swap", "bitsquatting", "plural")}
    assert theirs and theirs <= ours, sorted(theirs - ours)[:20]


def test_permutations_refuse_what_is_not_a_domain():
    with pytest.raises(InvalidInput):
        list(permutations("not a domain"))
