"""Structured logs (structlog) with a processor that redacts personal data before anything is written.

Two layers: keys that name personal data are replaced whatever their value, and any string value is
scrubbed of things that look like phone numbers. JSON lines in production, readable lines in
development.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import logging
import re
import sys

import structlog

from postguard.settings import Settings

SENSITIVE_KEYS = frozenset({
    "name", "phone", "address", "goods", "goods_description", "sender_name", "sender_phone",
    "sender_address", "recipient_name", "recipient_phone", "recipient_address", "password", "token",
    "api_key", "authorization", "secret", "otp", "code_value", "email", "challenge",
})
REDACTED = "[redacted]"
# 9-13 digits with optional +, spaces, dots or dashes between them: any phone number as written.
_PHONE_LIKE = re.compile(r"\+?\d(?:[\s.\-]?\d){8,12}")


def scrub(text: str) -> str:
    return _PHONE_LIKE.sub("[phone]", text)


def redact_pii(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if key.lower() in SENSITIVE_KEYS:
            event_dict[key] = REDACTED
        elif isinstance(value, str):
            event_dict[key] = scrub(value)
        elif isinstance(value, (dict, list, tuple)):
            event_dict[key] = _deep(value)
    return event_dict


def _deep(value):
    if isinstance(value, dict):
        return {k: REDACTED if str(k).lower() in SENSITIVE_KEYS else _deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_deep(v) for v in value]
    if isinstance(value, str):
        return scrub(value)
    return value


def configure_logging(settings: Settings, *, stream=None) -> None:
    level = logging.getLevelName(settings.log_level.upper())
    renderer = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_pii,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level if isinstance(level, int) else logging.INFO),
        # sys.stderr is looked up at each use, so a replaced stderr (tests, daemons) is honoured
        logger_factory=lambda *_: structlog.PrintLogger(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str = "postguard"):
    return structlog.get_logger(name)
