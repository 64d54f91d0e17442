"""Sharing scam intelligence: STIX 2.1 bundles, MISP events and TLP 2.0 markings (pure, no I/O).

The rest of the product hands this module :class:`SharedIndicator` values; where they come from
(the intelligence store, an import) does not matter here.

STIX mapping (one indicator becomes):

* a cyber-observable: ``phone-number`` and ``bank-account`` through the stix2extensions
  extension definitions (new SCOs, ids embedded below), ``url``, ``domain-name``, and
  ``user-account`` for e-wallets (``account_type`` ``e-wallet``) and social-media profiles;
* an ``indicator`` with a STIX pattern over that observable, ``valid_from`` = first seen,
  ``modified`` = last seen, ``confidence`` from the score, ``labels`` = the scam categories, and
  the postguard property extension (verdict, score, reports, first/last seen) so that a bundle we
  export reads back to the same values;
* a ``based-on`` relationship indicator → observable, and an ``indicates`` relationship to an
  ``attack-pattern`` per scam category;
* every object marked with its TLP 2.0 marking definition (the OASIS ids).
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from postguard.errors import FieldError, InvalidInput

TYPES = ("phone", "bank_account", "ewallet", "url", "domain", "social")
VERDICTS = ("reported", "corroborated", "confirmed", "disputed", "delisted")
TLPS = ("clear", "green", "amber")

# --- identifiers --------------------------------------------------------------------------------
# stix2extensions (dogesec) extension definitions for the phone-number and bank-account SCOs.
PHONE_NUMBER_EXTENSION = "extension-definition--14a97ee2-e666-5ada-a6bd-b7177f79e211"
BANK_ACCOUNT_EXTENSION = "extension-definition--f19f3291-6a84-5674-b311-d75a925d5bd9"
# OASIS TLP 2.0 marking extension and its marking definitions (cti-stix-common-objects).
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_MARKINGS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
_TLP_BY_MARKING = {v: k for k, v in TLP_MARKINGS.items()}
# Namespace of our deterministic object ids, and the SCO namespace of STIX 2.1 (section 2.9).
_NS = uuid.UUID("5f0c7d0a-3c47-4b38-9e0b-6b0f1d2c9a11")
_SCO_NS = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
_EXT_CREATED = "2026-01-01T00:00:00.000Z"
# MISP object templates (MISP/misp-objects).
MISP_PHONE_NUMBER_TEMPLATE = ("c4b5a67c-63d2-11ec-90d6-0242ac120003", "1")
MISP_BANK_ACCOUNT_TEMPLATE = ("b4712203-95a8-4883-80e9-b566f5df11c9", "1")

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_BANK = re.compile(r"^([0-9]{6}):([0-9A-Za-z]{4,30})$")
_EWALLET = re.compile(r"^([a-z0-9][a-z0-9_-]{0,31}):(\S{3,64})$")
_DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _utc(dt: datetime, name: str) -> datetime:
    if not isinstance(dt, datetime) or dt.tzinfo is None:
        raise InvalidInput("Indicator times must be timezone-aware.", [FieldError(name, "timezone-aware datetime")])
    return dt.astimezone(UTC)


@dataclass(frozen=True)
class SharedIndicator:
    """One scam indicator as it is shared: a normalised value and what is known about it."""

    type: str
    value: str
    verdict: str
    score: float
    first_seen: datetime
    last_seen: datetime
    reports: int
    categories: tuple[str, ...] = field(default_factory=tuple)
    tlp: str = "green"

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if self.type not in TYPES:
            errors.append(FieldError("type", f"one of {', '.join(TYPES)}"))
        elif not _value_ok(self.type, self.value):
            errors.append(FieldError("value", f"not a normalised {self.type} value"))
        if self.verdict not in VERDICTS:
            errors.append(FieldError("verdict", f"one of {', '.join(VERDICTS)}"))
        if not isinstance(self.score, (int, float)) or not math.isfinite(self.score) or not 0 <= self.score <= 1:
            errors.append(FieldError("score", "a number from 0 to 1"))
        if not isinstance(self.reports, int) or self.reports < 0:
            errors.append(FieldError("reports", "a whole number, 0 or more"))
        if self.tlp not in TLPS:
            errors.append(FieldError("tlp", f"one of {', '.join(TLPS)}"))
        bad = [c for c in self.categories if not isinstance(c, str) or not _CATEGORY.match(c)]
        if bad:
            errors.append(FieldError("categories", "lower-case words of letters, digits, '-' or '_'"))
        first = _utc(self.first_seen, "first_seen")
        last = _utc(self.last_seen, "last_seen")
        if last < first:
            errors.append(FieldError("last_seen", "not before first_seen"))
        if errors:
            raise InvalidInput("The indicator is not valid.", errors)
        object.__setattr__(self, "first_seen", first)
        object.__setattr__(self, "last_seen", last)
        object.__setattr__(self, "score", float(self.score))
        object.__setattr__(self, "categories", tuple(sorted(set(self.categories))))


def _value_ok(kind: str, value: str) -> bool:
    if not isinstance(value, str) or not value or len(value) > 2048 or value != value.strip():
        return False
    if kind == "phone":
        return bool(_E164.match(value))
    if kind == "bank_account":
        return bool(_BANK.match(value))
    if kind == "ewallet":
        return bool(_EWALLET.match(value))
    if kind == "domain":
        return bool(_DOMAIN.match(value))
    # url, social: absolute http(s) URLs: a host, then no whitespace, double quotes, angle brackets
    # or backslashes (single quotes are legal in URLs and escaped in STIX patterns)
    return bool(re.match(r'^https?://[A-Za-z0-9.:\[\]-]+(?:[/?#](?:[^\s"<>\\%]|%[0-9A-Fa-f]{2})*)?$', value))


# --- STIX ---------------------------------------------------------------------------------------
def stix_time(dt: datetime) -> str:
    """RFC 3339 UTC with microseconds, as STIX timestamps allow."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stix_time(text: str) -> datetime:
    m = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6})\d*)?Z$", text or "")
    if not m:
        raise ValueError("not a STIX timestamp")
    base = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return base.replace(microsecond=int((m.group(2) or "0").ljust(6, "0")))


def _id(kind: str, *parts: str) -> str:
    """A stable id for an SDO/SRO: the same indicator gets the same id in every export. STIX asks
    for version-4 UUIDs there, so the name-based digest is laid out as one (version and variant bits)."""
    digest = bytearray(uuid.uuid5(_NS, json.dumps([kind, *parts])).bytes)
    digest[6] = (digest[6] & 0x0F) | 0x40
    return f"{kind}--{uuid.UUID(bytes=bytes(digest))}"


def _sco_id(kind: str, contrib: dict[str, Any]) -> str:
    canonical = json.dumps(contrib, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{kind}--{uuid.uuid5(_SCO_NS, canonical)}"


POSTGUARD_EXTENSION = _id("extension-definition", "postguard-scam-indicator-v1")


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _social_account_type(url: str) -> str:
    host = re.sub(r"^https?://", "", url).split("/", 1)[0].split(":", 1)[0].lower()
    host = host.removeprefix("www.")
    if host in ("facebook.com", "fb.com", "m.facebook.com"):
        return "facebook"
    if host in ("twitter.com", "x.com"):
        return "twitter"
    return "social-media"


def tlp_marking(tlp: str) -> dict[str, Any]:
    """The OASIS TLP 2.0 marking-definition object for ``tlp``."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_MARKINGS[tlp],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{tlp.upper()}",
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp}},
    }


def _observable(ind: SharedIndicator, marking: str) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    """The SCO for an indicator, its STIX pattern, and any supporting objects (a bank's identity)."""
    common: dict[str, Any] = {"spec_version": "2.1", "object_marking_refs": [marking]}
    extra: list[dict[str, Any]] = []
    if ind.type == "phone":
        sco = {"type": "phone-number", "id": _sco_id("phone-number", {"value": ind.value}), **common,
               "value": ind.value,
               "extensions": {PHONE_NUMBER_EXTENSION: {"extension_type": "new-sco"}}}
        pattern = f"[phone-number:value = {_quote(ind.value)}]"
    elif ind.type == "bank_account":
        bin_, account = ind.value.split(":", 1)
        bank = {"type": "identity", "spec_version": "2.1", "id": _id("identity", "bank", bin_),
                "created": _EXT_CREATED, "modified": _EXT_CREATED, "name": f"BIN {bin_}",
                "identity_class": "organization", "sectors": ["financial-services"],
                "external_references": [{"source_name": "napas-bin", "external_id": bin_}]}
        extra.append(bank)
        sco = {"type": "bank-account", "id": _sco_id("bank-account", {"account_number": account, "issuer": bin_}),
               **common, "account_number": account, "currency": "VND", "issuer_ref": bank["id"],
               "extensions": {BANK_ACCOUNT_EXTENSION: {"extension_type": "new-sco"}}}
        pattern = f"[bank-account:account_number = {_quote(account)}]"
    elif ind.type in ("ewallet", "social"):
        account_type = "e-wallet" if ind.type == "ewallet" else _social_account_type(ind.value)
        sco = {"type": "user-account",
               "id": _sco_id("user-account", {"account_type": account_type, "user_id": ind.value}),
               **common, "user_id": ind.value, "account_type": account_type}
        pattern = (f"[user-account:user_id = {_quote(ind.value)} AND "
                   f"user-account:account_type = {_quote(account_type)}]")
    elif ind.type == "url":
        sco = {"type": "url", "id": _sco_id("url", {"value": ind.value}), **common, "value": ind.value}
        pattern = f"[url:value = {_quote(ind.value)}]"
    else:
        sco = {"type": "domain-name", "id": _sco_id("domain-name", {"value": ind.value}), **common,
               "value": ind.value}
        pattern = f"[domain-name:value = {_quote(ind.value)}]"
    return sco, pattern, extra


def _extension_definitions(identity_id: str) -> list[dict[str, Any]]:
    """The extension definitions the bundle uses: stix2extensions' phone-number and bank-account
    SCOs (as the package defines them) and postguard's indicator property extension."""
    from stix2extensions import BankAccount, Phonenumber

    out = [json.loads(cls.extension_definition.serialize()) for cls in (Phonenumber, BankAccount)]
    assert [d["id"] for d in out] == [PHONE_NUMBER_EXTENSION, BANK_ACCOUNT_EXTENSION]  # noqa: S101  the installed package, not input
    out.append({
        "type": "extension-definition", "spec_version": "2.1", "id": POSTGUARD_EXTENSION,
        "created_by_ref": identity_id, "created": _EXT_CREATED, "modified": _EXT_CREATED,
        "name": "postguard scam indicator",
        "description": "Verdict, score (0-1), report count, first and last seen of a scam indicator, "
        "and its kind (phone, bank_account, ewallet, url, domain, social).",
        "schema": "https://postguard.example/stix/scam-indicator-v1.json",
        "version": "1.0", "extension_types": ["property-extension"],
    })
    return out


def stix_objects(indicators: Iterable[SharedIndicator], *,
                 identity_name: str) -> list[tuple[datetime, dict[str, Any]]]:
    """Every STIX object of the bundle with the time it was added: an indicator's objects are
    added when it last changed (its ``last_seen``); shared definitions at their creation."""
    identity_name = identity_name.strip()
    if not identity_name:
        raise InvalidInput("A producer name is needed.", [FieldError("identity_name", "required")])
    identity = {"type": "identity", "spec_version": "2.1", "id": _id("identity", identity_name),
                "created": _EXT_CREATED, "modified": _EXT_CREATED, "name": identity_name,
                "identity_class": "organization"}
    epoch = parse_stix_time(_EXT_CREATED)
    out: list[tuple[datetime, dict[str, Any]]] = [(epoch, identity)]
    out += [(epoch, d) for d in _extension_definitions(identity["id"])]
    used_tlp: set[str] = set()
    seen: dict[str, dict[str, Any]] = {}
    patterns: dict[str, dict[str, Any]] = {}
    indicators = list(indicators)
    for ind in indicators:
        key = f"{ind.type}|{ind.value}"
        if key in seen:
            raise InvalidInput("An indicator is listed twice.", [FieldError("value", f"duplicate {ind.type}")])
        marking = TLP_MARKINGS[ind.tlp]
        used_tlp.add(ind.tlp)
        sco, pattern, extra = _observable(ind, marking)
        for e in extra:
            if e["id"] not in patterns:
                patterns[e["id"]] = e
                out.append((epoch, e))
        created, modified = stix_time(ind.first_seen), stix_time(ind.last_seen)
        ind_id = _id("indicator", ind.type, ind.value)
        sdo = {
            "type": "indicator", "spec_version": "2.1", "id": ind_id, "created_by_ref": identity["id"],
            "created": created, "modified": modified, "name": f"Scam {ind.type.replace('_', ' ')} ({ind.verdict})",
            "description": f"{ind.type.replace('_', ' ').capitalize()} reported in scams: {ind.verdict}, "
            f"{ind.reports} reports, score {ind.score:.2f}.",
            "indicator_types": ["malicious-activity"] if ind.verdict in ("corroborated", "confirmed")
            else ["anomalous-activity"] if ind.verdict in ("reported", "disputed") else ["benign"],
            "pattern": pattern, "pattern_type": "stix", "pattern_version": "2.1", "valid_from": created,
            "confidence": int(round(ind.score * 100)),
            "object_marking_refs": [marking],
            "extensions": {POSTGUARD_EXTENSION: {
                "extension_type": "property-extension", "kind": ind.type, "value": ind.value,
                "verdict": ind.verdict, "score": ind.score, "reports": ind.reports,
                "first_seen": created, "last_seen": modified,
            }},
        }
        if ind.categories:
            sdo["labels"] = list(ind.categories)
        seen[key] = sdo
        when = ind.last_seen
        out.append((when, sco))
        out.append((when, sdo))
        out.append((when, {
            "type": "relationship", "spec_version": "2.1", "id": _id("relationship", ind_id, "based-on"),
            "created_by_ref": identity["id"], "created": created, "modified": modified,
            "relationship_type": "based-on", "source_ref": ind_id, "target_ref": sco["id"],
            "object_marking_refs": [marking],
        }))
        for cat in ind.categories:
            ap_id = _id("attack-pattern", cat)
            if ap_id not in patterns:
                patterns[ap_id] = {"type": "attack-pattern", "spec_version": "2.1", "id": ap_id,
                                   "created_by_ref": identity["id"], "created": _EXT_CREATED,
                                   "modified": _EXT_CREATED, "name": cat,
                                   "object_marking_refs": [TLP_MARKINGS["clear"]]}
                used_tlp.add("clear")
                out.append((epoch, patterns[ap_id]))
            out.append((when, {
                "type": "relationship", "spec_version": "2.1", "id": _id("relationship", ind_id, "indicates", cat),
                "created_by_ref": identity["id"], "created": created, "modified": modified,
                "relationship_type": "indicates", "source_ref": ind_id, "target_ref": ap_id,
                "object_marking_refs": [marking],
            }))
    for tlp in sorted(used_tlp):
        out.insert(1, (epoch, tlp_marking(tlp)))
    return out


def to_stix_bundle(indicators: Iterable[SharedIndicator], *, identity_name: str) -> dict[str, Any]:
    """A STIX 2.1 bundle of the indicators (see the module docstring for the mapping)."""
    objects = [o for _, o in stix_objects(indicators, identity_name=identity_name)]
    digest = json.dumps(sorted(o["id"] + o.get("modified", "") for o in objects))
    return {"type": "bundle", "id": _id("bundle", digest), "objects": objects}


def _bad_bundle(message: str) -> InvalidInput:
    return InvalidInput("The STIX bundle could not be read.", [FieldError("bundle", message)])


def _from_sco(sco: dict[str, Any], objects: dict[str, dict[str, Any]]) -> tuple[str, str] | None:
    t = sco.get("type")
    if t == "phone-number" and isinstance(sco.get("value"), str):
        return "phone", sco["value"]
    if t == "bank-account" and isinstance(sco.get("account_number"), str):
        issuer = objects.get(sco.get("issuer_ref") or "", {})
        bin_ = next((r.get("external_id") for r in issuer.get("external_references", [])
                     if r.get("source_name") == "napas-bin"), None)
        return ("bank_account", f"{bin_}:{sco['account_number']}") if bin_ else None
    if t == "user-account" and isinstance(sco.get("user_id"), str):
        return ("ewallet" if sco.get("account_type") == "e-wallet" else "social"), sco["user_id"]
    if t == "url" and isinstance(sco.get("value"), str):
        return "url", sco["value"]
    if t == "domain-name" and isinstance(sco.get("value"), str):
        return "domain", sco["value"].lower()
    return None


_VERDICT_BY_TYPE = {"malicious-activity": "corroborated", "anomalous-activity": "reported", "benign": "delisted"}


def from_stix_bundle(bundle: dict[str, Any] | str | bytes) -> list[SharedIndicator]:
    """Indicators of a STIX 2.1 bundle: ours read back exactly (through the postguard extension);
    others' indicators are taken from their ``based-on`` observable, confidence, labels and TLP
    marking. Indicators of kinds we do not share are skipped; a malformed bundle is refused."""
    if isinstance(bundle, (str, bytes)):
        try:
            bundle = json.loads(bundle)
        except ValueError:
            raise _bad_bundle("not JSON") from None
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle" or not isinstance(bundle.get("objects"), list):
        raise _bad_bundle("not a STIX bundle (type 'bundle' with a list of objects)")
    objects: dict[str, dict[str, Any]] = {}
    for i, o in enumerate(bundle["objects"]):
        if not isinstance(o, dict) or not isinstance(o.get("id"), str) or not isinstance(o.get("type"), str):
            raise InvalidInput("The STIX bundle could not be read.", [FieldError("objects", "object without id/type", row=i)])
        objects[o["id"]] = o
    based_on: dict[str, str] = {}
    for o in objects.values():
        if o["type"] == "relationship" and o.get("relationship_type") == "based-on":
            source, target = o.get("source_ref"), o.get("target_ref")
            if isinstance(source, str) and isinstance(target, str):  # else it names nothing in the bundle
                based_on.setdefault(source, target)
    out: list[SharedIndicator] = []
    errors: list[FieldError] = []
    for i, o in enumerate(bundle["objects"]):
        if o["type"] != "indicator" or o.get("revoked") is True:
            continue
        ext = (o.get("extensions") or {}).get(POSTGUARD_EXTENSION)
        tlp = next((_TLP_BY_MARKING[m] for m in o.get("object_marking_refs", []) if m in _TLP_BY_MARKING), "amber")
        if tlp not in TLPS:
            continue  # amber+strict and red are never re-shared
        try:
            if ext:
                out.append(SharedIndicator(
                    type=ext["kind"], value=ext["value"], verdict=ext["verdict"], score=ext["score"],
                    first_seen=parse_stix_time(ext["first_seen"]), last_seen=parse_stix_time(ext["last_seen"]),
                    reports=ext["reports"], categories=tuple(o.get("labels", ())), tlp=tlp))
                continue
            sco = objects.get(based_on.get(o["id"], ""))
            kv = _from_sco(sco, objects) if sco else None
            if kv is None:
                continue
            first = parse_stix_time(o.get("valid_from") or o["created"])
            last = max(first, parse_stix_time(o.get("modified") or o["created"]))
            verdict = next((_VERDICT_BY_TYPE[t] for t in o.get("indicator_types", []) if t in _VERDICT_BY_TYPE),
                           "reported")
            confidence = o.get("confidence", 50)
            labels = tuple(c for c in (str(x).lower() for x in o.get("labels", [])) if _CATEGORY.match(c))
            out.append(SharedIndicator(type=kv[0], value=kv[1], verdict=verdict, score=min(1.0, max(0, confidence) / 100),
                                       first_seen=first, last_seen=last, reports=0, categories=labels, tlp=tlp))
        except InvalidInput as e:
            errors += [FieldError(f"objects.{fe.field}", fe.message, row=i) for fe in e.errors]
        except (KeyError, TypeError, ValueError):
            errors.append(FieldError("objects", "indicator with missing or malformed properties", row=i))
    if errors:
        raise InvalidInput("Some indicators in the STIX bundle are not valid; nothing was imported.", errors)
    return out


# --- MISP ---------------------------------------------------------------------------------------
_THREAT_LEVEL = {"confirmed": "1", "corroborated": "2", "reported": "3", "disputed": "4", "delisted": "4"}


def _misp_tags(ind: SharedIndicator) -> list[dict[str, str]]:
    tags = [{"name": f"tlp:{ind.tlp}"}, {"name": f'postguard:verdict="{ind.verdict}"'}]
    tags += [{"name": f'postguard:category="{c}"'} for c in ind.categories]
    return tags


def to_misp_event(indicators: Iterable[SharedIndicator], *, info: str, date: datetime | None = None) -> dict[str, Any]:
    """A MISP event (core format JSON). Phone numbers use the ``phone-number`` object template,
    bank accounts and e-wallets the ``bank-account`` template (an e-wallet is a non-banking
    institution's account); URLs, social profiles and domains are attributes."""
    info = info.strip()
    if not info:
        raise InvalidInput("An event description is needed.", [FieldError("info", "required")])
    indicators = list(indicators)
    when = date or max((i.last_seen for i in indicators), default=datetime(2026, 1, 1, tzinfo=UTC))
    ev_uuid = str(uuid.uuid5(_NS, json.dumps(["misp-event", info, sorted(f"{i.type}|{i.value}" for i in indicators)])))
    attributes: list[dict[str, Any]] = []
    objects: list[dict[str, Any]] = []
    worst = "amber" if any(i.tlp == "amber" for i in indicators) else "green" if any(
        i.tlp == "green" for i in indicators) else "clear"

    def attr(ind: SharedIndicator, *, type_: str, category: str, value: str, relation: str | None = None,
             to_ids: bool = True, comment: str = "") -> dict[str, Any]:
        a = {"uuid": str(uuid.uuid5(_NS, json.dumps(["misp-attr", ind.type, ind.value, relation or type_]))),
             "type": type_, "category": category, "value": value, "to_ids": to_ids, "distribution": "5",
             "comment": comment, "first_seen": ind.first_seen.isoformat(), "last_seen": ind.last_seen.isoformat(),
             "timestamp": str(int(ind.last_seen.timestamp())), "disable_correlation": False}
        if relation:
            a["object_relation"] = relation
        else:
            a["Tag"] = _misp_tags(ind)
        return a

    for ind in indicators:
        comment = f"{ind.verdict}; score {ind.score:.2f}; {ind.reports} reports"
        if ind.type == "phone":
            template, version = MISP_PHONE_NUMBER_TEMPLATE
            objects.append({
                "name": "phone-number", "meta-category": "mobile", "description":
                "Phone number based on the E.164 international public telecommunication numbering plan",
                "template_uuid": template, "template_version": version, "distribution": "5",
                "uuid": str(uuid.uuid5(_NS, json.dumps(["misp-obj", ind.type, ind.value]))), "comment": comment,
                "first_seen": ind.first_seen.isoformat(), "last_seen": ind.last_seen.isoformat(),
                "timestamp": str(int(ind.last_seen.timestamp())),
                "Attribute": [attr(ind, type_="phone-number", category="Person", value=ind.value,
                                   relation="phone-number")],
                "Tag": _misp_tags(ind),
            })
        elif ind.type in ("bank_account", "ewallet"):
            template, version = MISP_BANK_ACCOUNT_TEMPLATE
            inst, account = ind.value.split(":", 1)
            attrs = [attr(ind, type_="bank-account-nr", category="Financial fraud", value=account, relation="account")]
            if ind.type == "bank_account":
                attrs.append(attr(ind, type_="text", category="Other", value=inst, relation="institution-code",
                                  to_ids=False))
                attrs.append(attr(ind, type_="text", category="Other", value="VND", relation="currency-code",
                                  to_ids=False))
            else:
                attrs.append(attr(ind, type_="text", category="Other", value=inst, relation="institution-name",
                                  to_ids=False))
                attrs.append(attr(ind, type_="boolean", category="Other", value="1",
                                  relation="non-banking-institution", to_ids=False))
            objects.append({
                "name": "bank-account", "meta-category": "financial", "description":
                "An object describing bank account information based on account description from goAML 4.0.",
                "template_uuid": template, "template_version": version, "distribution": "5",
                "uuid": str(uuid.uuid5(_NS, json.dumps(["misp-obj", ind.type, ind.value]))), "comment": comment,
                "first_seen": ind.first_seen.isoformat(), "last_seen": ind.last_seen.isoformat(),
                "timestamp": str(int(ind.last_seen.timestamp())), "Attribute": attrs, "Tag": _misp_tags(ind),
            })
        elif ind.type in ("url", "social"):
            attributes.append(attr(ind, type_="url", category="Network activity", value=ind.value,
                                   comment=("social-media profile; " if ind.type == "social" else "") + comment))
        else:
            attributes.append(attr(ind, type_="domain", category="Network activity", value=ind.value,
                                   comment=comment))
    threat = min((_THREAT_LEVEL[i.verdict] for i in indicators), default="4")
    return {"Event": {
        "uuid": ev_uuid, "info": info, "date": when.date().isoformat(), "threat_level_id": threat,
        "analysis": "2", "distribution": "3", "published": False, "timestamp": str(int(when.timestamp())),
        "Tag": [{"name": f"tlp:{worst}"}, {"name": 'circl:incident-classification="scam"'}],
        "Attribute": attributes, "Object": objects,
    }}
