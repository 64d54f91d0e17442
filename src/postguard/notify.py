"""How postguard reaches a person's phone: one ``Notifier`` interface, a console notifier for development,
and an in-memory outbox for tests. A production deployment plugs in its SMS gateway here."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Protocol

from postguard.vault.masking import mask_phone


class Notifier(Protocol):
    def send_sms(self, phone: str, text: str) -> None:
        """Deliver ``text`` to the E.164 ``phone``; raise ``postguard.errors.PostguardError`` on failure."""


class ConsoleNotifier:
    """Development only: prints the message with the number masked (codes are not personal data)."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr

    def send_sms(self, phone: str, text: str) -> None:
        print(f"[sms to {mask_phone(phone)}] {text}", file=self.stream, flush=True)


@dataclass
class MemoryNotifier:
    """Keeps what was sent, newest last (tests read the codes from here)."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    def send_sms(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))

    def last_code(self, phone: str) -> str:
        import re

        for to, text in reversed(self.sent):
            if to == phone and (m := re.search(r"\b(\d{6})\b", text)):
                return m.group(1)
        raise LookupError("no code was sent to that number")


def build_notifier(kind: str) -> Notifier:
    kinds: dict[str, type[ConsoleNotifier] | type[MemoryNotifier]] = {"console": ConsoleNotifier, "memory": MemoryNotifier}
    return kinds[kind]()
