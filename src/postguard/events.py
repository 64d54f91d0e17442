"""A small in-process event bus, and the events the services publish on it.

Publishers name an event type, not the services that care: subscribers are attached by the wiring
(``postguard.platform``), so a publisher imports none of them. Delivery is synchronous, in the order
of subscription, in the publisher's thread; an exception in a subscriber propagates to the publisher
(which decides what it means: for ``Revealed``, that nothing is decrypted).

This module imports nothing of postguard but ``postguard.principals``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from postguard.principals import Principal

E = TypeVar("E")


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type, tuple[Callable[[Any], object], ...]] = {}
        self._lock = threading.Lock()

    def subscribe(self, event_type: type[E], handler: Callable[[E], object]) -> None:
        with self._lock:  # copy-on-write: a publish in flight sees the list it started with
            self._handlers[event_type] = (*self._handlers.get(event_type, ()), handler)

    def publish(self, event: object) -> None:
        for handler in self._handlers.get(type(event), ()):
            handler(event)


@dataclass(frozen=True)
class Matched:
    """A phone search of ``principal`` matched the shipments ``waybills`` of ``org_id`` and is about to
    show them (masked). Its candidates were opened through the door for ``purpose`` (``Revealed``);
    the hits are what it shows. A subscriber that raises stops the answer. ``session`` is the
    search's database session."""

    principal: Principal
    purpose: str
    org_id: int
    waybills: tuple[str, ...]
    session: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class IndicatorDecided:
    """An analyst's decision on the scam indicator ``indicator_id`` (of type ``type``: ``domain``,
    ``url``, ``phone`` …) is committed and in the access log: ``action`` is ``confirm``, ``dispute``,
    ``delist``, ``clear`` or ``appeal_upheld``, by ``actor``. Published after the commit, so a
    subscriber reads the indicator as decided (the blocklist publishes or withdraws it); the decision
    stands whatever a subscriber does."""

    indicator_id: int
    type: str
    action: str
    actor: str


@dataclass(frozen=True)
class Revealed:
    """The door allowed ``principal`` to open protected data for ``purpose`` and the decision is in the
    access log at ``log_index``; nothing is decrypted yet. ``kind`` names what is opened (``shipment``,
    ``courier_phone`` …, see ``postguard.access.door``) and ``subjects`` which records (waybills for
    shipments, record ids otherwise), all of organisation ``org_id``. A subscriber that raises stops
    the reveal. ``session`` is the door's database session: subscribers read with it (a second
    connection per reveal would starve a small pool under concurrent reveals)."""

    principal: Principal
    purpose: str
    kind: str
    org_id: int
    subjects: tuple[str, ...]
    log_index: int
    details: dict = field(default_factory=dict, compare=False)
    session: Any = field(default=None, compare=False, repr=False)
