"""The published indicator feed: STIX and MISP exports, and the pages of the read-only TAXII 2.1
collection. What a caller sees depends on its scopes: ``intel:read`` gives TLP:CLEAR and
TLP:GREEN indicators, ``intel:amber`` adds TLP:AMBER."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from postguard.errors import FieldError, InvalidInput
from postguard.intel.sharing import (
    SharedIndicator,
    from_stix_bundle,
    parse_stix_time,
    stix_objects,
    stix_time,
    to_misp_event,
    to_stix_bundle,
)

COLLECTION_ID = "2f8d7c1e-55a3-4c8b-9d41-6a0e3b7f9c20"
STIX_MEDIA = "application/stix+json;version=2.1"


@dataclass(frozen=True)
class Page:
    objects: list[dict[str, Any]]
    more: bool
    next: str | None
    first: datetime | None
    last: datetime | None
    dates: list[datetime]


def _token(when: datetime, obj_id: str) -> str:
    return base64.urlsafe_b64encode(f"{stix_time(when)}|{obj_id}".encode()).decode().rstrip("=")


def _untoken(token: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        when, obj_id = raw.split("|", 1)
        return parse_stix_time(when), obj_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("The page token is not valid.", [FieldError("next", "a token from a previous page")]) \
            from None


if TYPE_CHECKING:
    from postguard.audit.log import AuditLog
    from postguard.intel.shared_feed import SharedFeed
    from postguard.orgs.service import OrgService
    from postguard.settings import Settings


class IntelFeed:
    def __init__(self, *, settings: Settings, audit: AuditLog, orgs: OrgService, shared: SharedFeed) -> None:
        """``shared``: the intelligence store's shared feed."""
        self.settings = settings
        self.audit = audit
        self.orgs = orgs
        self.shared = shared

    def visible(self, principal) -> list[SharedIndicator]:
        """The shared indicators ``principal`` may read. Amber ones carry personal values (phone
        numbers, accounts): reading them is logged in the access log before they are decrypted."""
        self.orgs.require(principal, "intel:read")
        amber = principal.can("intel:amber")
        allowed = {"clear", "green"} | ({"amber"} if amber else set())
        self.audit.append(actor=principal.actor, action="intel_export", org_id=principal.org_id or None,
                            subject="intel_indicators", purpose="sharing", details={"amber": amber})
        return [i for i in self.shared.shared_feed() if i.tlp in allowed]

    def export_stix(self, principal) -> dict[str, Any]:
        return to_stix_bundle(self.visible(principal), identity_name=self.settings.intel_identity_name)

    def export_misp(self, principal) -> dict[str, Any]:
        return to_misp_event(self.visible(principal),
                             info=f"{self.settings.intel_identity_name}: scam indicators")

    def import_stix(self, data: bytes | str | dict, *, principal, source: str = "") -> dict[str, int]:
        """A partner's STIX bundle, imported as reports by the partner organisation ``principal``
        (see ``IntelService.import_shared``); all or nothing."""
        indicators = from_stix_bundle(data)
        return self.shared.import_shared(principal, indicators, source=source)

    def page(self, principal, *, added_after: str | None = None, limit: int | None = None,
             next_token: str | None = None, types: list[str] | None = None,
             ids: list[str] | None = None) -> Page:
        """One page of the TAXII collection, ordered by (date added, id)."""
        max_size = self.settings.taxii_max_page_size
        if limit is None:
            limit = min(100, max_size)
        if not 1 <= limit:
            raise InvalidInput("The request is not valid.", [FieldError("limit", "1 or more")])
        limit = min(limit, max_size)
        after = None
        if added_after:
            try:
                after = parse_stix_time(added_after)
            except ValueError:
                raise InvalidInput("The request is not valid.",
                                   [FieldError("added_after", "a UTC timestamp like 2025-01-31T00:00:00.000Z")]) \
                    from None
        entries = sorted(stix_objects(self.visible(principal), identity_name=self.settings.intel_identity_name),
                         key=lambda e: (e[0], e[1]["id"]))
        if after is not None:
            entries = [e for e in entries if e[0] > after]
        if types:
            entries = [e for e in entries if e[1]["type"] in set(types)]
        if ids:
            entries = [e for e in entries if e[1]["id"] in set(ids)]
        if next_token:
            cursor = _untoken(next_token)
            entries = [e for e in entries if (e[0], e[1]["id"]) > cursor]
        chunk, more = entries[:limit], len(entries) > limit
        return Page(
            objects=[o for _, o in chunk], more=more,
            next=_token(chunk[-1][0], chunk[-1][1]["id"]) if more else None,
            first=chunk[0][0] if chunk else None, last=chunk[-1][0] if chunk else None,
            dates=[d for d, _ in chunk],
        )


def collection_info() -> dict[str, Any]:
    return {"id": COLLECTION_ID, "title": "Scam indicators",
            "description": "Phone numbers, bank accounts, e-wallets, links, domains and social profiles "
            "reported in scams, with verdicts and TLP 2.0 markings.",
            "can_read": True, "can_write": False, "media_types": [STIX_MEDIA]}
