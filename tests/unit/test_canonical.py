"""Canonical JSON for access-log entries: the fast encoder against the ``rfc8785`` package, and the
writer's pre-encoded entry pieces against the encoder."""

from __future__ import annotations

import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from postguard.audit import canonical as c
from postguard.audit.log import _prepare
from postguard.errors import InvalidInput

ascii_keys = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=8)
scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=20)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ascii_keys, inner, max_size=4),
                      max_leaves=20)
texts = st.text(max_size=30)  # any Unicode but lone surrogates: Vietnamese names, quotes, controls
opt_text = st.none() | texts


@given(values)
def test_canonical_equals_rfc8785(value):
    expected = rfc8785.dumps(value)
    assert c.canonical(value) == expected
    assert c.fragment(value).encode() == expected


@given(texts, texts, st.none() | st.integers(0, 2**53 - 1), opt_text, opt_text, st.dictionaries(ascii_keys, values, max_size=3),
       st.integers(0, 2**53 - 1), st.datetimes())
def test_prepared_pieces_splice_into_the_canonical_entry(actor, action, org, subject, purpose, details, i, when):
    at = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    head, mid, tail, *_ = _prepare(actor, action, org, subject, purpose, details, "entry")
    full = {"i": i, "at": at, "actor": actor, "action": action, "org": org, "subject": subject,
            "purpose": purpose, "details": details}
    assert f"{head}{at}{mid}{i}{tail}".encode() == rfc8785.dumps(full) == c.canonical(full)


def test_refusals_name_the_path():
    for bad, path in [({"a": 1.5}, "entry.a"), ({"a": [1, {"b": object()}]}, "entry.a[1].b"),
                      ({"é": 1}, "entry"), ({"a": 2**60}, "entry.a")]:
        try:
            c.check(bad)
        except InvalidInput as e:
            assert e.errors[0].field == path, (bad, e.errors)
        else:
            raise AssertionError(bad)


def test_deep_or_cyclic_values_are_refused_not_looped_on():
    deep = inner = {}
    for _ in range(c.MAX_DEPTH + 5):
        inner["x"] = {}
        inner = inner["x"]
    cyclic = {"a": []}
    cyclic["a"].append(cyclic)
    for bad in (deep, cyclic):
        try:
            c.check(bad)
        except InvalidInput as e:
            assert "nested deeper" in e.errors[0].message
        else:
            raise AssertionError("refused")
