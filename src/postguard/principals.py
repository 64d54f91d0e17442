"""Who is acting: the kinds of principal, as types.

Every principal has an ``actor`` (what the access log records) and an ``org_id`` (the organisation it
acts at). Code that decides what a principal may do tells the kinds apart by their type (``match
principal: case StaffPrincipal(role=role): ...``), never by probing attributes:

* ``ApiKeyPrincipal``  an organisation's API key with its scopes (the command line acts with every scope);
* ``StaffPrincipal``   a signed-in member of staff with a role;
* ``DataSubject``      the person a phone number belongs to, proven with a one-time code, at one operator;
* ``ProvenCitizen``    a citizen who proved their phone number to check a call against one operator's parcels;
* ``SystemActor``      the platform itself acting for an organisation (a telephony bridge driven from the
  command line, a background job) where no person or key is behind the action.

This module imports nothing of postguard: every layer may use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

SCOPES = {
    "shipments:read": "list and get shipments (masked)",
    "shipments:write": "create, import and update shipments",
    "shipments:search": "search shipments by phone (candidates filtered server-side)",
    "labels:print": "print privacy labels",
    "keys:admin": "rotate data keys",
    "intel:read": "read shared scam indicators (TAXII, STIX and MISP exports; TLP:CLEAR and TLP:GREEN)",
    "intel:amber": "also read TLP:AMBER indicators (with intel:read)",
    "screen:transfer": "screen bank transfers for scam risk",
    "warnings:publish": "publish scam warnings (sent to webhook subscribers)",
    "audit:read": "read access-log proofs, alerts and leak triangulations",
    "alerts:ack": "acknowledge alerts",
    "telephony": "report calls and messages received on canary numbers",
    "intel:report": "report scams as an organisation (reports weigh more than the public's)",
    "intel:official": "register the organisation's own official channels (verified by an administrator)",
    "intel:analyst": "moderate: the review queue, confirm, dispute or delist indicators, decide appeals",
    "intel:scanner": "the lookalike-website scanner of the platform: send its hits (nothing else)",
    "intel:admin": "platform administrators: verify and revoke official channels of any organisation",
    "assignments:write": "assign parcels to couriers for a delivery window (reveals are for staff only)",
    "calls:route": "route masked calls (telephony systems)",
    "notifications:write": "record the notifications the organisation sent (kept as keyed digests only)",
    "calls:verify": "verify the STIR/SHAKEN Identity header of incoming calls (telephony systems)",
    "subscribers:write": "import the carrier's subscriber records (SIM registrations; sealed at import)",
    "subscribers:audit": "run the junk-SIM audit and read its results (aggregates and reason codes)",
    "subscribers:review": "work the re-verification queue: read a flagged SIM's holder data (logged) and move "
                          "its case",
    "messages:review": "review the message-check feedback: read the messages people said were judged wrongly "
                       "(logged), accept or reject them, export the accepted ones for training",
}


@runtime_checkable
class Principal(Protocol):
    """Anything that acts: what the access log records and the organisation it acts at."""

    @property
    def actor(self) -> str: ...

    @property
    def org_id(self) -> int: ...


@dataclass(frozen=True)
class ApiKeyPrincipal:
    """An organisation acting through an API key, with what the key may do. The CLI acts with every
    scope (``OrgService.principal``)."""

    org_id: int
    org_code: str
    actor: str
    scopes: frozenset[str] = field(default_factory=lambda: frozenset(SCOPES))

    def can(self, scope: str) -> bool:
        return scope in self.scopes


@dataclass(frozen=True)
class StaffPrincipal:
    """A signed-in member of staff of one organisation, with one role."""

    staff_id: int
    org_id: int
    org_code: str
    username: str
    role: str

    @property
    def actor(self) -> str:
        return f"staff:{self.staff_id}"


@dataclass(frozen=True)
class DataSubject:
    """The person a phone number belongs to, acting on their own data at one operator (after proving
    the number with a one-time code). The actor names a keyed digest of the number, never the number."""

    org_id: int
    digest: bytes

    @property
    def actor(self) -> str:
        return f"subject:{self.digest[:8].hex()}"


@dataclass(frozen=True)
class ProvenCitizen:
    """A citizen who proved control of their phone number with a one-time code, checking a call
    against one operator's parcels. Known to the access log only by a keyed digest of the number."""

    org_id: int
    digest_hex: str

    @property
    def actor(self) -> str:
        return f"citizen:{self.digest_hex[:16]}"


@dataclass(frozen=True)
class SystemActor:
    """The platform acting for an organisation with no person or key behind the action: the command
    line's telephony bridge, a background job. ``actor`` says which (``cli``, ``telephony`` …)."""

    org_id: int
    actor: str
