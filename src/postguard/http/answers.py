"""What every error answer shares, whichever shell builds it: whether the client prefers a page
(content negotiation on ``Accept``) and the headers that go with an error (``Retry-After``,
``WWW-Authenticate``).

A browser navigating to a URL sends ``Accept: text/html,…,*/*;q=0.8`` and gets a page; a program that
sends ``application/json``, ``application/problem+json``, ``*/*`` or no ``Accept`` at all gets
problem+json, as it always did. HTML wins only when the client names it (``text/html`` or
``text/*``) with a quality above that of JSON: a tie is answered with JSON."""

from __future__ import annotations

from postguard.errors import PostguardError, RateLimited

MAX_ACCEPT = 2048  # longer Accept headers are read up to here (a browser's is about 150 characters)
JSON_TYPES = ("application/problem+json", "application/json")


def _ranges(accept: str) -> dict[str, float]:
    """Each media range of an ``Accept`` header with its quality (the highest when named twice)."""
    out: dict[str, float] = {}
    for part in accept[:MAX_ACCEPT].split(","):
        media, *params = part.split(";")
        media = media.strip().lower()
        if not media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0  # a quality that is not a number accepts nothing
        out[media] = max(q, out.get(media, 0.0))
    return out


def _quality(ranges: dict[str, float], media: str) -> float:
    """The quality of ``media`` under the most specific range that covers it (RFC 9110, 12.5.1)."""
    kind = media.split("/", 1)[0]
    for candidate in (media, f"{kind}/*", "*/*"):
        if candidate in ranges:
            return ranges[candidate]
    return 0.0


def prefers_html(accept: str | None) -> bool:
    """True when ``accept`` names HTML and ranks it above JSON (problem+json or plain JSON)."""
    if not accept:
        return False
    ranges = _ranges(accept)
    if "text/html" not in ranges and "text/*" not in ranges:
        return False  # */* alone, or JSON only: a program
    html = _quality(ranges, "text/html")
    return html > 0 and html > max(_quality(ranges, m) for m in JSON_TYPES)


def error_headers(err: PostguardError) -> dict[str, str]:
    """The headers an error's answer carries, page or problem+json: when to retry after a 429, and the
    authentication scheme of a 401."""
    headers = {}
    if isinstance(err, RateLimited):
        headers["Retry-After"] = str(err.retry_after)
    if err.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return headers
