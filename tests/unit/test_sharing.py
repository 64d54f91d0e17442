"""STIX 2.1 / MISP sharing: validator-clean bundles, exact round trips, refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postguard.errors import InvalidInput
from postguard.intel.sharing import (
    BANK_ACCOUNT_EXTENSION,
    MISP_BANK_ACCOUNT_TEMPLATE,
    MISP_PHONE_NUMBER_TEMPLATE,
    PHONE_NUMBER_EXTENSION,
    TLP_MARKINGS,
    SharedIndicator,
    from_stix_bundle,
    to_misp_event,
    to_stix_bundle,
)

T0 = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


def validate(bundle: dict):
    from stix2validator import ValidationOptions, validate_instance

    return validate_instance(bundle, ValidationOptions(version="2.1"))


def sample() -> list[SharedIndicator]:
    return [
        SharedIndicator("phone", "+84912345678", "confirmed", 0.9, T0, T0 + timedelta(days=2), 7,
                        ("courier-impersonation",), "green"),
        SharedIndicator("bank_account", "970436:0123456789", "corroborated", 0.7, T0, T0, 3, ("fee-scam",), "amber"),
        SharedIndicator("ewallet", "momo:0912345678", "reported", 0.3, T0, T0, 1, (), "clear"),
        SharedIndicator("url", "https://giao-hang.example/pay?x=1&y='2'", "confirmed", 0.95, T0, T0, 10,
                        ("phishing",), "clear"),
        SharedIndicator("domain", "vnpost-hoantien.example", "disputed", 0.2, T0, T0, 2, (), "green"),
        SharedIndicator("social", "https://www.facebook.com/shipper.gia", "delisted", 0.0, T0, T0, 0, (), "green"),
    ]


# -- strategies --------------------------------------------------------------------------------
_digits = st.text("0123456789", min_size=1)
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1),
                     timezones=st.just(UTC))
values = st.one_of(
    st.tuples(st.just("phone"), st.from_regex(r"\+84[35789][0-9]{8}", fullmatch=True)),
    st.tuples(st.just("bank_account"), st.from_regex(r"9704[0-9]{2}:[0-9]{6,19}", fullmatch=True)),
    st.tuples(st.just("ewallet"), st.from_regex(r"(momo|zalopay|vnpay|viettelmoney):0[0-9]{9}", fullmatch=True)),
    st.tuples(st.just("url"), st.from_regex(r"https://[a-z]{1,10}\.example/([a-z0-9'?=&-]|%[0-9A-F]{2}){0,20}", fullmatch=True)),
    st.tuples(st.just("domain"), st.from_regex(r"[a-z]{1,12}(-[a-z]{1,5})?\.(vn|com|example)", fullmatch=True)),
    st.tuples(st.just("social"), st.from_regex(r"https://(www\.facebook\.com|zalo\.me|tiktok\.com)/[a-z0-9.]{1,20}",
                                               fullmatch=True)),
)


@st.composite
def indicators(draw):
    kind, value = draw(values)
    first = draw(times)
    last = first + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=900)))
    return SharedIndicator(
        type=kind, value=value, verdict=draw(st.sampled_from(["reported", "corroborated", "confirmed", "disputed",
                                                                "delisted"])),
        score=draw(st.floats(0, 1)), first_seen=first, last_seen=last, reports=draw(st.integers(0, 10**6)),
        categories=tuple(draw(st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True), max_size=3))),
        tlp=draw(st.sampled_from(["clear", "green", "amber"])),
    )


unique_indicators = st.lists(indicators(), max_size=8, unique_by=lambda i: (i.type, i.value))


# -- STIX --------------------------------------------------------------------------------------
def test_bundle_passes_the_stix2_validator_with_no_errors():
    inds = sample()
    bundle = to_stix_bundle(inds, identity_name="Trung tâm chống lừa đảo")
    result = validate(bundle)
    assert result.is_valid, [str(e) for e in result.errors]
    assert not result.errors


def test_bundle_uses_extension_definitions_and_tlp2_markings():
    bundle = to_stix_bundle(sample(), identity_name="postguard")
    by_type: dict[str, list[dict]] = {}
    for o in bundle["objects"]:
        by_type.setdefault(o["type"], []).append(o)
    phone = by_type["phone-number"][0]
    assert phone["value"] == "+84912345678"
    assert phone["extensions"] == {PHONE_NUMBER_EXTENSION: {"extension_type": "new-sco"}}
    bank = by_type["bank-account"][0]
    assert bank["account_number"] == "0123456789"
    assert bank["extensions"] == {BANK_ACCOUNT_EXTENSION: {"extension_type": "new-sco"}}
    ext_ids = {o["id"] for o in by_type["extension-definition"]}
    assert {PHONE_NUMBER_EXTENSION, BANK_ACCOUNT_EXTENSION} <= ext_ids
    markings = {o["id"]: o for o in by_type["marking-definition"]}
    assert set(markings) == {TLP_MARKINGS["clear"], TLP_MARKINGS["green"], TLP_MARKINGS["amber"]}
    assert markings[TLP_MARKINGS["amber"]]["name"] == "TLP:AMBER"
    amber = [o for o in by_type["indicator"] if "bank-account" in o["pattern"]][0]
    assert amber["object_marking_refs"] == [TLP_MARKINGS["amber"]]
    # relationships: based-on the observable, indicates the category's attack pattern
    rels = {(r["source_ref"], r["relationship_type"], r["target_ref"]) for r in by_type["relationship"]}
    assert (amber["id"], "based-on", bank["id"]) in rels
    ap = [a for a in by_type["attack-pattern"] if a["name"] == "fee-scam"][0]
    assert (amber["id"], "indicates", ap["id"]) in rels
    # the stix2 library reads it too
    import stix2

    parsed = stix2.parse(json.dumps(bundle), allow_custom=True)
    assert len(parsed.objects) == len(bundle["objects"])


def test_patterns_escape_quotes():
    bundle = to_stix_bundle(sample(), identity_name="p")
    url = [o for o in bundle["objects"] if o["type"] == "indicator" and o["pattern"].startswith("[url")][0]
    assert url["pattern"] == "[url:value = 'https://giao-hang.example/pay?x=1&y=\\'2\\'']"


def test_exports_are_stable():
    a = to_stix_bundle(sample(), identity_name="p")
    b = to_stix_bundle(list(reversed(sample())), identity_name="p")
    assert a["id"] == b["id"]
    assert {o["id"] for o in a["objects"]} == {o["id"] for o in b["objects"]}


@given(unique_indicators)
def test_stix_round_trip(inds):
    bundle = to_stix_bundle(inds, identity_name="postguard")
    back = from_stix_bundle(json.dumps(bundle))
    assert sorted(back, key=lambda i: (i.type, i.value)) == sorted(inds, key=lambda i: (i.type, i.value))


@settings(max_examples=25)  # the validator takes a fraction of a second per bundle
@given(st.lists(indicators(), min_size=1, max_size=4, unique_by=lambda i: (i.type, i.value)))
def test_generated_bundles_validate(inds):
    result = validate(to_stix_bundle(inds, identity_name="postguard"))
    assert not result.errors, [str(e) for e in result.errors]


def test_foreign_indicator_is_read_from_its_observable():
    bundle = {"type": "bundle", "id": "bundle--0b8f2b4e-7c83-4a0c-9d0e-3a4b5c6d7e8f", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
         "created": "2024-05-01T00:00:00Z", "modified": "2024-05-02T00:00:00Z", "valid_from": "2024-05-01T00:00:00Z",
         "pattern": "[domain-name:value = 'bad.example']", "pattern_type": "stix", "confidence": 80,
         "indicator_types": ["malicious-activity"], "labels": ["Phishing"],
         "object_marking_refs": [TLP_MARKINGS["clear"]]},
        {"type": "domain-name", "spec_version": "2.1", "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5",
         "value": "bad.example"},
        {"type": "relationship", "spec_version": "2.1", "id": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
         "created": "2024-05-01T00:00:00Z", "modified": "2024-05-01T00:00:00Z", "relationship_type": "based-on",
         "source_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
         "target_ref": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--1e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
         "created": "2024-05-01T00:00:00Z", "modified": "2024-05-02T00:00:00Z", "valid_from": "2024-05-01T00:00:00Z",
         "pattern": "[file:name = 'x']", "pattern_type": "stix"},
    ]}
    [ind] = from_stix_bundle(bundle)
    assert (ind.type, ind.value, ind.verdict, ind.score, ind.tlp, ind.categories) == (
        "domain", "bad.example", "corroborated", 0.8, "clear", ("phishing",))


@pytest.mark.parametrize("bad", ["[]", "{}", '{"type": "bundle"}', "not json", '{"type":"bundle","objects":[1]}'])
def test_malformed_bundles_are_refused(bad):
    with pytest.raises(InvalidInput) as e:
        from_stix_bundle(bad)
    assert e.value.errors


def test_a_bad_indicator_refuses_the_whole_import():
    bundle = to_stix_bundle(sample(), identity_name="p")
    ind = [o for o in bundle["objects"] if o["type"] == "indicator"][2]
    ext = next(iter(ind["extensions"].values()))
    ext["score"] = 7
    with pytest.raises(InvalidInput) as e:
        from_stix_bundle(bundle)
    assert any(fe.field == "objects.score" for fe in e.value.errors)


@pytest.mark.parametrize("kw, field", [
    ({"type": "email"}, "type"), ({"value": "0912345678"}, "value"), ({"verdict": "bad"}, "verdict"),
    ({"score": 1.5}, "score"), ({"score": float("nan")}, "score"), ({"reports": -1}, "reports"),
    ({"tlp": "red"}, "tlp"), ({"categories": ("Has Space",)}, "categories"),
    ({"last_seen": T0 - timedelta(seconds=1)}, "last_seen"), ({"first_seen": datetime(2025, 1, 1)}, "first_seen"),
])
def test_indicator_validation_names_the_field(kw, field):
    base = dict(type="phone", value="+84912345678", verdict="reported", score=0.5, first_seen=T0, last_seen=T0,
                reports=1, categories=(), tlp="green")
    base.update(kw)
    with pytest.raises(InvalidInput) as e:
        SharedIndicator(**base)
    assert field in [fe.field for fe in e.value.errors]


# -- MISP --------------------------------------------------------------------------------------
def test_misp_event_uses_the_object_templates():
    event = to_misp_event(sample(), info="Lừa đảo giả danh shipper")["Event"]
    assert event["info"] == "Lừa đảo giả danh shipper"
    assert {"name": "tlp:amber"} in event["Tag"]
    phone = [o for o in event["Object"] if o["name"] == "phone-number"][0]
    assert (phone["template_uuid"], phone["template_version"]) == MISP_PHONE_NUMBER_TEMPLATE
    a = phone["Attribute"][0]
    assert (a["object_relation"], a["type"], a["value"]) == ("phone-number", "phone-number", "+84912345678")
    banks = [o for o in event["Object"] if o["name"] == "bank-account"]
    assert {(o["template_uuid"], o["template_version"]) for o in banks} == {MISP_BANK_ACCOUNT_TEMPLATE}
    rel = {a["object_relation"]: a for o in banks for a in o["Attribute"]}
    assert rel["account"]["type"] == "bank-account-nr"
    assert {a["value"] for o in banks for a in o["Attribute"] if a["object_relation"] == "account"} == {
        "0123456789", "0912345678"}
    assert rel["institution-code"]["value"] == "970436"
    assert rel["non-banking-institution"]["value"] == "1"
    attrs = {a["type"]: a for a in event["Attribute"]}
    assert attrs["domain"]["value"] == "vnpost-hoantien.example"
    assert {a["value"] for a in event["Attribute"] if a["type"] == "url"} == {
        "https://giao-hang.example/pay?x=1&y='2'", "https://www.facebook.com/shipper.gia"}
    json.dumps(event)  # serialisable as is


def test_misp_event_needs_info():
    with pytest.raises(InvalidInput):
        to_misp_event(sample(), info="  ")


@pytest.mark.parametrize("refs", [{"source_ref": ["indicator--a"], "target_ref": "x"},
                                  {"source_ref": "indicator--a", "target_ref": {"id": "x"}},
                                  {"source_ref": {"id": "indicator--a"}, "target_ref": ["x"]}])
def test_based_on_with_malformed_refs_names_nothing(refs):
    """A ``based-on`` relationship whose refs are not ids is ignored (it names no observable), never a crash."""
    bundle = {"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "relationship", "spec_version": "2.1", "id": "relationship--1", "relationship_type": "based-on",
         **refs},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--a", "created": "2024-05-01T00:00:00Z",
         "pattern": "[file:name = 'x']", "pattern_type": "stix"},
    ]}
    assert from_stix_bundle(bundle) == []
