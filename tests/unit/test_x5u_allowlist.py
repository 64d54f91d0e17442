"""The x5u host allowlist: pure pattern normalisation and matching."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.hosts import host_allowed, normalise_host_pattern

label = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
domain = st.lists(label, min_size=2, max_size=4).map(".".join)


@pytest.mark.parametrize(("pattern", "canonical"), [
    ("CR.Example.VN", "cr.example.vn"), ("cr.example.vn.", "cr.example.vn"), (" *.Certs.example.vn ",
                                                                              "*.certs.example.vn"),
    ("127.0.0.1", "127.0.0.1"), ("[::1]", "::1"), ("0:0::1", "::1"), ("xn--bu-iin-jua.vn", "xn--bu-iin-jua.vn"),
    ("localhost", "localhost"),
])
def test_normalise(pattern, canonical):
    assert normalise_host_pattern(pattern) == canonical


@pytest.mark.parametrize("bad", ["", ".", "*.", "*", "*.vn", "**.example.vn", "a.*.vn", "https://a.vn", "a.vn:443",
                                 "a.vn/x", "a b.vn", "-a.vn", "a-.vn", "a..vn", "bưu-điện.vn", "1.2.3.999",
                                 "*.127.0.0.1", "x" * 64 + ".vn", None, 5])
def test_normalise_refuses(bad):
    with pytest.raises((ValueError, TypeError)):
        normalise_host_pattern(bad)


@pytest.mark.parametrize(("url", "patterns", "allowed"), [
    ("https://cr.example.vn/a.pem", ["cr.example.vn"], True),
    ("https://CR.EXAMPLE.VN./a.pem", ["cr.example.vn"], True),
    ("https://cr.example.vn.evil.test/a.pem", ["cr.example.vn"], False),
    ("https://evilcr.example.vn/a.pem", ["cr.example.vn"], False),
    ("https://a.certs.example.vn/a.pem", ["*.certs.example.vn"], True),
    ("https://a.b.certs.example.vn/a.pem", ["*.certs.example.vn"], True),
    ("https://certs.example.vn/a.pem", ["*.certs.example.vn"], False),
    ("https://xcerts.example.vn/a.pem", ["*.certs.example.vn"], False),
    ("https://127.0.0.1:8443/a.pem", ["127.0.0.1"], True),
    ("https://127.0.0.2/a.pem", ["127.0.0.1"], False),
    ("https://[::1]/a.pem", ["::1"], True),
    ("https://[0::1]/a.pem", ["::1"], True),
    ("https://cr.example.vn/a.pem", [], False),
])
def test_host_allowed(url, patterns, allowed):
    canonical = [normalise_host_pattern(p) for p in patterns]
    assert host_allowed(urlsplit(url).hostname, canonical) is allowed


@given(host=domain, other=domain)
def test_exact_entries_match_only_themselves(host, other):
    assert host_allowed(host, [normalise_host_pattern(host)])
    assert host_allowed(host.upper() + ".", [normalise_host_pattern(host)])
    assert host_allowed(other, [normalise_host_pattern(host)]) is (other == host)
    assert not host_allowed(f"{other}.{host}.evil", [normalise_host_pattern(host)])


@given(base=domain, sub=label)
def test_a_wildcard_matches_names_below_never_the_domain_itself(base, sub):
    pattern = [normalise_host_pattern(f"*.{base}")]
    assert host_allowed(f"{sub}.{base}", pattern)
    assert not host_allowed(base, pattern)
    assert not host_allowed(f"{sub}{base}", pattern)
    assert not host_allowed(f"{base}.{sub}", pattern) or f"{base}.{sub}".endswith(f".{base}")
    assert not host_allowed(f"{base}.x--y", pattern)
