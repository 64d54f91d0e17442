"""Content negotiation of error answers (``postguard.http.answers.prefers_html``): browsers get pages,
programs problem+json, and a tie or anything unclear is a program's."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.http.answers import prefers_html

BROWSERS = [
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
    "application/signed-exchange;v=b3;q=0.7",  # Chromium
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",  # Firefox, Safari
    "text/html",
    "TEXT/HTML; charset=utf-8",
    "text/*, application/json;q=0.5",
]
PROGRAMS = ["", "*/*", "application/json", "application/problem+json", "application/json, text/plain, */*",
            "application/json, text/html", "text/html;q=0.5, application/problem+json", "text/html;q=0",
            "text/html;q=0.8, */*", "text/html;q=bad", "application/*, text/html;q=0.9", "text/plain",
            "application/taxii+json;version=2.1"]


@pytest.mark.parametrize("accept", BROWSERS)
def test_browsers_get_pages(accept):
    assert prefers_html(accept)


@pytest.mark.parametrize("accept", [*PROGRAMS, None])
def test_programs_get_problems(accept):
    assert not prefers_html(accept)


MEDIA = st.sampled_from(["text/html", "text/*", "*/*", "application/json", "application/problem+json",
                         "application/*", "application/xml", "image/webp", "text/plain"])
Q = st.sampled_from(["", ";q=0", ";q=0.1", ";q=0.5", ";q=0.9", ";q=1", ";q=1.0", ";level=1"])


@given(st.lists(st.tuples(MEDIA, Q), max_size=8))
def test_json_named_first_at_full_quality_always_wins(ranges):
    accept = ",".join(m + q for m, q in ranges)
    for json in ("application/json", "application/problem+json"):
        assert not prefers_html(f"{json},{accept}")
    # and without HTML (or text/*) named, never a page
    if not any(m in ("text/html", "text/*") for m, _ in ranges):
        assert not prefers_html(accept)


@given(st.text(max_size=3000))
def test_any_header_is_read_without_error(accept):
    assert prefers_html(accept) in (True, False)
