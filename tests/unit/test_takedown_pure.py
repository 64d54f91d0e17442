"""Takedown requests' pure parts: who is asked (built-in tables, no invention), contacts an analyst
enters (no header injection), and the pack (every file hashed in the manifest, deterministic)."""

import hashlib
import io
import json
import zipfile
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.errors import InvalidInput
from postguard.takedown import contacts, pack


@given(st.text(max_size=60), st.sampled_from(["\r", "\n", "\r\n", "\x00", ",", " ", "<", ">"]), st.text(max_size=20))
def test_an_entered_address_never_carries_a_second_header_or_address(head, bad, tail):
    with pytest.raises(InvalidInput) as e:
        contacts.analyst_contact("hosting", name=None, email=f"{head}abuse{bad}x@example.com{tail}", url=None)
    assert e.value.errors[0].field == "hosting.email"


def test_entered_contacts():
    c = contacts.analyst_contact("hosting", name=None, email=" abuse@host.example ", url=None)
    assert c == contacts.Contact("host.example", email="abuse@host.example", source="analyst")
    assert contacts.analyst_contact("hosting", name="", email="", url="") is None
    for url in ("http://example.com/abuse", "javascript:alert(1)", "https://exa mple.com/", "https://x/" + "a" * 600):
        with pytest.raises(InvalidInput):
            contacts.analyst_contact("platform", name=None, email=None, url=url)


def test_recipients_come_from_the_tables_or_need_a_contact():
    vn = contacts.recipients(host="shop.vnpost-giao.vn", registrable="vnpost-giao.vn")
    assert [(r.kind, r.contact.source if r.contact else None) for r in vn] == [
        ("registrar", "builtin:registry:vn"), ("hosting", None)]
    com = contacts.recipients(host="a.example.com", registrable="example.com")
    assert [(r.kind, r.contact) for r in com] == [("registrar", None), ("hosting", None)]
    assert com[0].name == "Registrar (needs a contact)"
    for parent in contacts.PLATFORMS:
        (only,) = contacts.recipients(host=f"lua-dao.{parent}", registrable=f"lua-dao.{parent}")
        assert only.kind == "platform" and only.contact is contacts.PLATFORMS[parent]
        assert only.contact.reference and only.contact.reference.startswith("https://")  # where it came from
        assert only.contact.email or only.contact.url
    assert contacts.platform_of("sites.google.com", path="/view/x") == "sites.google.com"
    assert contacts.platform_of("sites.google.com", path="/") is None
    assert contacts.platform_of("notvercel.app") is None  # whole labels only
    ip = contacts.recipients(host="203.0.113.9", registrable=None)
    assert [r.kind for r in ip] == ["hosting"]


@given(st.lists(st.binary(min_size=1, max_size=200), max_size=5))
def test_the_manifest_hashes_every_file_and_the_zip_is_deterministic(blobs):
    files = [pack.PackFile(pack.evidence_name(i + 1, 100 + i, "image/png"), "image/png", b) for i, b in enumerate(blobs)]
    when = datetime(2026, 12, 1, tzinfo=timezone.utc)
    data, manifest = pack.build({"request": "TD-1"}, files, letter_text="thư", when=when)
    assert pack.build({"request": "TD-1"}, files, letter_text="thư", when=when)[0] == data
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        stored = {n: z.read(n) for n in z.namelist()}
    assert json.loads(stored.pop("manifest.json")) == manifest
    assert {f["name"]: f["sha256"] for f in manifest["files"]} == {
        n: hashlib.sha256(b).hexdigest() for n, b in stored.items()}
