"""The blocklist's formats and the scanner's hit check, as pure functions (Hypothesis): every RPZ line
is one of the zone file's few well-formed kinds and names only valid hosts, whatever was stored; the
hosts file and JSON round-trip; links never block their host; signatures fail on any change; and a hit
check never raises, whatever JSON it is given."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import orjson
from hypothesis import given
from hypothesis import strategies as st

from postguard.blocklist.service import (
    HOST,
    Entry,
    blockable,
    public_key_pem,
    render_hosts,
    render_json,
    render_rpz,
    url_host,
    verify,
)
from postguard.crypto import ed25519
from postguard.intel.scanner import Checked, check_hit

AT = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)
ZONE = "rpz.postguard.invalid"
LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
HOSTS = st.builds(lambda labels, tld: ".".join([*labels, tld]), st.lists(LABEL, min_size=1, max_size=4),
                  st.sampled_from(["com", "vn", "net", "xn--p1ai"]))
HOSTILE = st.text(max_size=80) | st.sampled_from(["evil.com\n@ IN NS attacker.", "a.com CNAME rpz-passthru.",
                                                  "$INCLUDE /etc/passwd", "x" * 260 + ".com", "*.com", ".", ""])
ENTRIES = st.lists(st.builds(
    lambda kind, host, brand: Entry(kind, host if kind == "domain" else f"{host}/login?id=1",
                                    host if kind == "domain" else url_host(f"{host}/login?id=1"), brand, AT),
    st.sampled_from(["domain", "url"]), HOSTS | HOSTILE, st.none() | st.text(max_size=30)), max_size=30)
RPZ_LINE = re.compile(r"(; [ -~]*|\$ORIGIN [a-z0-9.-]+\.|\$TTL \d+|@ IN SOA localhost\. hostmaster\.localhost\. "
                      r"\(\d+ 3600 600 604800 \d+\)|@ IN NS localhost\.|(\*\.)?(?P<host>\S+) CNAME \.)\Z")


@given(ENTRIES, st.integers(0, 2**40))
def test_every_rpz_line_is_well_formed_and_names_a_valid_host(entries, serial):
    text = render_rpz(entries, serial=serial, generated_at=AT, zone=ZONE, ttl=300).decode("ascii")
    assert text.endswith("\n")
    named = set()
    for line in text.splitlines():
        m = RPZ_LINE.match(line)
        assert m, line
        if m.group("host"):
            assert HOST.match(m.group("host")) and len(m.group("host")) + len(ZONE) + 4 <= 253
            named.add(m.group("host"))
    want = {e.host for e in entries if e.type == "domain" and blockable(e.host, ZONE)}
    assert named == want  # links never block their host; every blockable domain is there
    assert f"({serial % 2**32} " in text
    lines = text.splitlines()
    assert [ln.split()[0] for ln in lines[2:4]] == ["$ORIGIN", "$TTL"] and " SOA " in lines[4] and " NS " in lines[5]
    for host in want:
        assert f"{host} CNAME ." in lines and f"*.{host} CNAME ." in lines


@given(ENTRIES)
def test_the_hosts_file_and_json_carry_what_they_should(entries):
    hosts = render_hosts(entries, serial=3, generated_at=AT, zone=ZONE).decode("ascii").splitlines()
    blocked = [ln.split(" ", 1)[1] for ln in hosts if not ln.startswith("#")]
    assert all(ln.startswith("0.0.0.0 ") for ln in hosts if not ln.startswith("#"))
    assert set(blocked) == {e.host for e in entries if e.type == "domain" and blockable(e.host, ZONE)}
    assert all(HOST.match(h) for h in blocked) and blocked == sorted(set(blocked))
    doc = orjson.loads(render_json(entries, serial=3, generated_at=AT))
    assert set(doc) == {"version", "generated_at", "entries"} and doc["version"] == 3
    assert doc["generated_at"] == "2026-12-07T02:00:00Z"
    assert sorted((e["type"], e["value"], e["brand"] or "") for e in doc["entries"]) == sorted(
        (e.type, e.value, e.brand or "") for e in entries)
    assert all(set(e) == {"type", "value", "brand", "confirmed_at"} for e in doc["entries"])


@given(st.binary(max_size=300), st.integers(0, 299), st.integers(1, 255))
def test_a_signature_fails_on_any_change_of_the_body(body, where, flip):
    seed = bytes(range(32))
    pub = ed25519.public_key_bytes(private_key=seed)
    sig = ed25519.sign(body, private_key=seed)
    assert verify(body, sig, pub)
    if body:
        i = where % len(body)
        assert not verify(body[:i] + bytes([body[i] ^ flip]) + body[i + 1:], sig, pub)
    assert not verify(body + b"\n", sig, pub)
    assert not verify(body, sig[:-1] + bytes([sig[-1] ^ flip]), pub)
    assert public_key_pem(pub).startswith("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA")


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                    max_leaves=20)
FIELD = st.sampled_from(["host", "domain", "brand", "official", "technique", "score", "reasons", "campaign", "seen"])


@given(st.dictionaries(FIELD, JSON) | JSON)
def test_a_hit_check_never_raises(value):
    out = check_hit(value, now=AT)
    assert isinstance(out, Checked) or (isinstance(out, list) and out and all(e.field and e.message for e in out))


@given(st.sampled_from(["host", "brand", "technique", "score", "reasons", "campaign", "seen", "official"]), JSON)
def test_one_bad_field_is_named(field, bad):
    hit = {"host": "vnpost-vn.com", "domain": "vnpost-vn.com", "brand": "Vietnam Post", "official": ["vnpost.vn"],
           "technique": "typo", "score": 50, "reasons": [], "campaign": None}
    assert isinstance(check_hit(hit, now=AT), Checked)
    out = check_hit({**hit, field: bad}, now=AT)
    if not isinstance(out, Checked):
        assert {e.field.split("[")[0].split(".")[0] for e in out} <= {field, "host", "domain"}
