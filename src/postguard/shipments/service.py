"""Shipments: create, import, read (masked), search by phone, status lifecycle, retention.

Personal data enters only as vault ciphertext plus the masked projection a label shows; it is read
back in plaintext only through the access door.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import IO, TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy import CursorResult, delete, func, or_, select, update
from sqlalchemy.orm import Session

from postguard import places
from postguard.csvimport import CsvRows, fresh_only, shown, valid_batches
from postguard.csvimport import ImportReport as CsvImportReport
from postguard.db.base import utcnow
from postguard.db.engine import placeholder
from postguard.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
)
from postguard.events import EventBus, Matched
from postguard.logging import get_logger
from postguard.metrics import Meter
from postguard.orgs.models import Organisation
from postguard.phones import InvalidPhone, normalize_phone
from postguard.principals import ApiKeyPrincipal, Principal
from postguard.shipments.models import (
    PERSONAL_FIELDS,
    LabelToken,
    Shipment,
    ShipmentEvent,
)
from postguard.shipments.validation import COLUMNS, ShipmentInput, best_match, case_forms, typed_waybill, validate
from postguard.vault.masking import mask_address, mask_party, mask_phone_last3
from postguard.vault.service import FieldLayout

if TYPE_CHECKING:
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.orgs.service import OrgService
    from postguard.settings import Settings
    from postguard.vault.service import Vault

KINDS = PERSONAL_FIELDS
STATUSES = ("created", "picked_up", "in_transit", "out_for_delivery", "delivered", "returned", "cancelled")
TERMINAL = frozenset({"delivered", "returned", "cancelled"})
TRANSITIONS = {
    "created": {"picked_up", "cancelled"},
    "picked_up": {"in_transit", "returned", "cancelled"},
    "in_transit": {"out_for_delivery", "returned"},
    "out_for_delivery": {"delivered", "returned", "in_transit"},  # a failed attempt goes back to the hub
    "delivered": set(),
    "returned": set(),
    "cancelled": set(),
}
MAX_RENAMED_EXAMPLES = 20
log = get_logger("postguard.shipments")


@dataclass
class ImportReport(CsvImportReport):
    """The CSV import's report, with the rows whose places were named as before 2025."""

    renamed: int = 0  # rows whose province or ward was named as before the 2025 reorganisation
    renamed_examples: list[str] = field(default_factory=list)  # "line N: how it was read", the first few

    def examples(self) -> list[str]:
        return list(self.renamed_examples)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "renamed": self.renamed, "renamed_examples": list(self.renamed_examples)}


LAYOUT = FieldLayout("shipments", KINDS)

# Column order of the bulk insert (the driver's executemany, prepared once per dialect); the
# wrapped record key and the ciphertexts are adjacent, in the order ``Protection.seal`` returns them.
INSERT_COLUMNS = (
    "org_id", "waybill", "status", "created_at", "status_changed_at", "recipient_province_code",
    "recipient_ward_code", "cod_amount_vnd", "weight_grams", "dek_key_version", "dek",
    *(f"{c}_ct" for c in KINDS),
    "sender_phone_bidx", "recipient_phone_bidx", "sender_name_masked", "recipient_name_masked",
    "sender_phone_last3", "recipient_phone_last3",
)


# The personal values of a ShipmentInput, in KINDS order (the order of LAYOUT's columns).
_personal = operator.attrgetter(*KINDS)


class Protection:
    """How a batch's personal data is protected: sealed (AEAD) and blind-indexed by the vault.

    This is the seam the import benchmark replaces with a plaintext stand-in to measure what
    protection costs. ``seal(records)`` takes ``(waybill, values in KINDS order)`` pairs and returns,
    per record, ``(wrapped record key, one value per KINDS column)``; ``key_version`` is stored next
    to the wrapped key; ``index(e164)`` is a phone's blind index.
    """

    def __init__(self, vault, session: Session, *, org: Organisation, count: int) -> None:
        sealer = vault.sealer(session, org_id=org.id, count=count)
        self.key_version = sealer.version
        self.seal = partial(sealer.seal_many, layout=LAYOUT)
        self.index = vault.blind_indexer(session, org_id=org.id, bits=org.blind_index_bits)


def masked_view(s: Shipment) -> dict:
    """The masked projection, identical for every audience."""
    prov, ward = places.province(s.recipient_province_code), places.ward(s.recipient_ward_code)
    shredded = s.shredded_at is not None
    return {
        "waybill": s.waybill,
        "status": s.status,
        "created_at": s.created_at.isoformat(),
        "status_changed_at": s.status_changed_at.isoformat(),
        "sender": {
            "name": s.sender_name_masked,
            "phone": None if shredded else mask_phone_last3(s.sender_phone_last3),
        },
        "recipient": {
            "name": s.recipient_name_masked,
            "phone": None if shredded else mask_phone_last3(s.recipient_phone_last3),
            "address": mask_address(ward=ward.name, province=prov.name),
            "province_code": prov.code,
            "ward_code": ward.code,
        },
        "cod_amount_vnd": s.cod_amount_vnd,
        "weight_grams": s.weight_grams,
        "personal_data": "shredded" if shredded else "protected",
    }


def find_shipment(session: Session, org_id: int, waybill: str) -> Shipment | None:
    """The organisation's shipment with ``waybill`` as a person typed it (any letter case, spaces;
    ``validation.typed_waybill``); None when there is none or the text cannot be a waybill. One
    indexed query (``waybill IN`` its case forms); ``InvalidInput`` when several stored waybills
    differ only in letter case and none is written as typed or in capitals."""
    typed = typed_waybill(waybill)
    if typed is None:
        return None
    rows = session.execute(select(Shipment).where(
        Shipment.org_id == org_id, Shipment.waybill.in_(case_forms(typed)))).scalars().all()
    return best_match(rows, typed, operator.attrgetter("waybill"))


class ShipmentDoor(Protocol):
    """The door (``postguard.access.door.Door``, a layer above): the only way to the plaintext."""

    def open_shipments(
        self, session: Session, *, principal: Principal, shipments: Sequence[Shipment], columns: tuple[str, ...],
        purpose: str, details: dict[str, Any] | None = None,
    ) -> builtins.list[dict[str, str | None]]: ...


class EndAssignments(Protocol):
    """Ends couriers' access to a shipment that reached a final status, in the caller's transaction
    (``postguard.access.service.AccessService.end_assignments``)."""

    def __call__(self, session: Session, *, shipment_id: int, reason: str) -> None: ...


class ShredHook(Protocol):
    """Erases what others keep of shipments being shredded, in the caller's transaction, before the
    shipments themselves (``postguard.callerid.calls.CallService.erase_for_shipments``: their calls)."""

    def __call__(self, session: Session, shipment_ids: Sequence[int], *, at: datetime) -> None: ...


class KeyHolder(Protocol):
    """A service with data sealed under an organisation's data keys too (canaries, calls, intelligence)."""

    def key_versions_in_use(self, session: Session, *, org_id: int) -> set[int]: ...


class ShipmentService:
    def __init__(self, *, db: Database, settings: Settings, vault: Vault, audit: AuditLog, orgs: OrgService,
                 door: ShipmentDoor, bus: EventBus, end_assignments: EndAssignments, on_shred: ShredHook,
                 key_holders: Callable[[], Iterable[KeyHolder]], purge_spent: Callable[[], object],
                 meter: Meter | None = None) -> None:
        """``key_holders``: what else is sealed under an organisation's keys, asked when its keys
        rotate; ``purge_spent``: purges spent one-time codes, with every retention run. A phone search
        publishes ``Matched`` on ``bus`` for the shipments it shows (canary alerts subscribe).
        ``meter``: counts imported rows by outcome (``postguard_shipments_import_rows_total``)."""
        self._import_rows = (meter or Meter()).counter(
            "postguard_shipments_import_rows", "CSV import rows by outcome: imported, already_present, refused "
            "(invalid)", ("outcome",))
        self.db = db
        self.settings = settings
        self.vault = vault
        self.audit = audit
        self.orgs = orgs
        self.door = door
        self.bus = bus
        self.end_assignments = end_assignments
        self.on_shred = on_shred
        self.key_holders = key_holders
        self.purge_spent = purge_spent

    # -- writing -----------------------------------------------------------------------------
    @staticmethod
    def _rows(org_id: int, items: list[ShipmentInput], prot: Protection, now) -> list[tuple]:
        """The INSERT_COLUMNS values of each item: the batch is sealed in one call."""
        sealed = prot.seal([(it.waybill, _personal(it)) for it in items])
        index, version = prot.index, prot.key_version
        return [
            (org_id, it.waybill, "created", now, now, it.province_code, it.ward_code, it.cod_amount_vnd,
             it.weight_grams, version, *protected,
             index(it.sender_phone), index(it.recipient_phone), mask_party(it.sender_name),
             mask_party(it.recipient_name), it.sender_phone[-3:], it.recipient_phone[-3:])
            for it, protected in zip(items, sealed, strict=True)
        ]

    @staticmethod
    def _existing(session: Session, org_id: int, waybills: list[str]) -> set[str]:
        """Which of ``waybills`` are stored, with the driver's own query (no ORM result rows), in
        chunks that stay under every driver's limit on parameters."""
        conn = session.connection()
        mark = placeholder(conn.dialect)
        found: set[str] = set()
        for i in range(0, len(waybills), 5000):
            chunk = waybills[i : i + 5000]
            # Only placeholders are formatted in; the values are bound (S608).
            sql = f"SELECT waybill FROM shipments WHERE org_id = {mark} AND waybill IN ({', '.join([mark] * len(chunk))})"  # noqa: S608
            found.update(w for (w,) in conn.exec_driver_sql(sql, (org_id, *chunk)))
        return found

    def _insert(self, session: Session, org_id: int, items, prot: Protection) -> int:
        """Insert new shipments with the driver's executemany (one prepared statement, no ORM),
        skipping waybills that already exist."""
        conn = session.connection()
        dialect = conn.dialect
        mark = placeholder(dialect)
        sql = (  # column names from INSERT_COLUMNS and placeholders only: the values are bound
            f"INSERT INTO shipments ({', '.join(INSERT_COLUMNS)}) VALUES ({', '.join([mark] * len(INSERT_COLUMNS))})"  # noqa: S608
            " ON CONFLICT (org_id, waybill) DO NOTHING"
        )
        now = Shipment.__table__.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
        stamp = now(utcnow()) if now else utcnow()
        return conn.exec_driver_sql(sql, self._rows(org_id, list(items), prot, stamp)).rowcount

    def _org(self, session: Session, principal: ApiKeyPrincipal) -> Organisation:
        return self.orgs.by_id(session, principal.org_id)

    def create(self, principal: ApiKeyPrincipal, data: dict) -> dict:
        self.orgs.require(principal, "shipments:write")
        item, errors = validate(data)
        if errors or item is None:  # item is None exactly when there are errors
            raise InvalidInput("The shipment was not created.", errors)
        with self.db.session() as s:
            org = self._org(s, principal)
            prot = Protection(self.vault, s, org=org, count=1)
            if self._insert(s, org.id, [item], prot) != 1:
                raise Conflict(f"A shipment with waybill {item.waybill} already exists.")
            return masked_view(self._by_waybill(s, principal, item.waybill))

    def import_csv(
        self,
        principal: ApiKeyPrincipal,
        stream: IO[bytes],
        *,
        progress: Callable[[int], None] | None = None,
        protection: Callable[..., Protection] = Protection,
    ) -> ImportReport:
        """Stream a CSV in atomic batches; bounded memory.

        Read as a spreadsheet writes it: UTF-8 (with or without BOM), UTF-16 or UTF-32 with a byte
        order mark, or Windows-1258 when the file is not UTF-8 at all (``postguard.csvimport``); fields separated
        by commas, semicolons or tabs, whichever the header row uses. The report says
        how the file was read (``encoding``, ``delimiter``, ``notes``) and notes a file with no rows.
        Invalid rows are reported (line and field) and nothing of them is stored; valid rows are
        imported; rows whose waybill is already stored are counted, not duplicated. ``protection``
        exists for the benchmark's plaintext baseline.
        """
        self.orgs.require(principal, "shipments:write")
        report = ImportReport()
        rows = CsvRows(stream, columns=COLUMNS, report=report)

        def renamed(line: int, item: ShipmentInput) -> None:
            if item.notes:
                report.renamed += 1
                if len(report.renamed_examples) < MAX_RENAMED_EXAMPLES:
                    report.renamed_examples.extend(f"line {line}: {n}" for n in item.notes)

        for batch in valid_batches(rows, validate, size=self.settings.import_batch_size, progress=progress,
                                   seen=renamed):
            self._import_batch(principal, batch, report, protection)
        if report.renamed:
            count = f"{report.renamed:,} row" + ("s" if report.renamed != 1 else "")
            report.notes.append(f"{count} named a province or ward as before the 2025 "
                                "reorganisation; recorded under the 2025 units.")
        log.info("shipments imported", org=principal.org_code, actor=principal.actor, rows=report.rows,
                 imported=report.imported, already_present=report.already_present, invalid=report.invalid)
        for outcome, n in (("imported", report.imported), ("already_present", report.already_present),
                           ("refused", report.invalid)):
            self._import_rows.inc(outcome, amount=n)
        return report

    def _import_batch(self, principal: ApiKeyPrincipal, batch: list[ShipmentInput], report: ImportReport,
                      protection) -> None:
        with self.db.session() as s:
            org = self._org(s, principal)
            existing = self._existing(s, org.id, [it.waybill for it in batch])
            fresh = fresh_only(batch, lambda it: it.waybill, existing, report)
            if not fresh:
                return
            prot = protection(self.vault, s, org=org, count=len(fresh))
            inserted = self._insert(s, org.id, fresh.values(), prot)
            report.imported += inserted
            report.already_present += len(fresh) - inserted

    # -- reading (masked) --------------------------------------------------------------------
    def _by_waybill(self, session: Session, principal: ApiKeyPrincipal, waybill: str) -> Shipment:
        s = find_shipment(session, principal.org_id, waybill)
        if s is None:
            raise NotFound(f"No shipment with waybill {shown(waybill[:40])}.", code="no_shipment",
                           params={"waybill": shown(waybill[:40])})
        return s

    def get(self, principal: ApiKeyPrincipal, waybill: str) -> dict:
        self.orgs.require(principal, "shipments:read")
        with self.db.read_session() as s:
            return masked_view(self._by_waybill(s, principal, waybill))

    def list(self, principal: ApiKeyPrincipal, *, status: str | None = None, limit: int = 50,
             after: str | None = None) -> dict:
        """Masked shipments in waybill order; ``after`` is the cursor (the last waybill seen)."""
        self.orgs.require(principal, "shipments:read")
        if status is not None and status not in STATUSES:
            raise InvalidInput("Unknown status.", [FieldError("status", f"one of {', '.join(STATUSES)}")])
        if not 1 <= limit <= 500:
            raise InvalidInput("Bad page size.", [FieldError("limit", "between 1 and 500")])
        q = select(Shipment).where(Shipment.org_id == principal.org_id)
        if status:
            q = q.where(Shipment.status == status)
        if after:
            q = q.where(Shipment.waybill > after)
        with self.db.read_session() as s:
            items = [masked_view(x) for x in s.execute(q.order_by(Shipment.waybill).limit(limit)).scalars()]
        return {"items": items, "next": items[-1]["waybill"] if len(items) == limit else None}

    def search_by_phone(self, principal: ApiKeyPrincipal, phone: str) -> builtins.list[dict]:
        """Shipments where ``phone`` is the sender's or recipient's: blind-index candidates,
        decrypted and filtered server-side, returned masked."""
        self.orgs.require(principal, "shipments:search")
        try:
            e164 = normalize_phone(phone)
        except InvalidPhone as e:
            raise InvalidInput("Not a phone number.", [FieldError("phone", str(e), None, "invalid_phone")]) from None
        out = []
        with self.db.session() as s:
            org = self._org(s, principal)
            b = self.vault.blind_indexer(s, org_id=org.id, bits=org.blind_index_bits)(e164)
            candidates = s.execute(
                select(Shipment).where(
                    Shipment.org_id == org.id,
                    or_(Shipment.recipient_phone_bidx == b, Shipment.sender_phone_bidx == b),
                ).order_by(Shipment.waybill)
            ).scalars().all()
            # One log entry per search, naming every candidate whose phones are decrypted to filter.
            opened = self.door.open_shipments(
                s, principal=principal, shipments=candidates, columns=("sender_phone", "recipient_phone"),
                purpose="phone_search",
            ) if candidates else []
            hits = []
            for c, phones in zip(candidates, opened, strict=True):
                roles = [r for r in ("sender", "recipient") if phones[f"{r}_phone"] == e164]
                if roles:
                    hits.append(c)
                    out.append({**masked_view(c), "matched_as": roles})
            if hits:  # a search that finds a canary is a reveal of it: alert before answering
                self.bus.publish(Matched(principal=principal, purpose="phone_search", org_id=principal.org_id,
                                         waybills=tuple(h.waybill for h in hits), session=s))
        return out

    # -- lifecycle ---------------------------------------------------------------------------
    def set_status(self, principal: ApiKeyPrincipal, waybill: str, status: str) -> dict:
        self.orgs.require(principal, "shipments:write")
        if status not in STATUSES:
            raise InvalidInput("Unknown status.", [FieldError("status", f"one of {', '.join(STATUSES)}")])
        with self.db.session() as s:
            sh = self._by_waybill(s, principal, waybill)
            if status not in TRANSITIONS[sh.status]:
                allowed = ", ".join(sorted(TRANSITIONS[sh.status])) or "none (final status)"
                raise Conflict(f"Cannot move a shipment from {sh.status} to {status}; allowed: {allowed}.")
            s.add(ShipmentEvent(shipment_id=sh.id, from_status=sh.status, to_status=status, actor=principal.actor))
            sh.status, sh.status_changed_at = status, utcnow()
            if status in TERMINAL:  # a courier's access ends by itself with the delivery
                self.end_assignments(s, shipment_id=sh.id, reason=status)
            s.flush()
            return masked_view(sh)

    # -- retention and shredding -------------------------------------------------------------
    _SHRED = {
        "dek": None,
        "shredded_at": None,  # set per call
        **{f"{c}_ct": None for c in PERSONAL_FIELDS},
        "sender_phone_bidx": None,
        "recipient_phone_bidx": None,
        "sender_name_masked": None,
        "recipient_name_masked": None,
        "sender_phone_last3": None,
        "recipient_phone_last3": None,
    }

    def _shred_where(self, session: Session, *conditions) -> int:
        now = utcnow()
        values = {**self._SHRED, "shredded_at": now}
        # Lock the shipments first (PostgreSQL): a call being started re-reads its shipment with the same
        # lock before sealing anything, so it either commits before the call records are erased here or
        # finds the shipment shredded.
        ids = session.execute(select(Shipment.id).where(Shipment.shredded_at.is_(None), *conditions)
                              .with_for_update()).scalars().all()
        if not ids:
            return 0
        session.execute(delete(LabelToken).where(LabelToken.shipment_id.in_(ids)))
        self.on_shred(session, ids, at=now)  # the parcel's calls go with it
        res = cast(CursorResult[Any], session.execute(
            update(Shipment).where(Shipment.id.in_(ids), Shipment.shredded_at.is_(None)).values(**values)
            .execution_options(synchronize_session=False)
        ))
        return res.rowcount

    def shred(self, principal: ApiKeyPrincipal, waybill: str) -> None:
        """Destroy one shipment's data key and personal data now (statistics stay)."""
        self.orgs.require(principal, "shipments:write")
        with self.db.session() as s:
            sh = self._by_waybill(s, principal, waybill)
            self._shred_where(s, Shipment.id == sh.id)
        self._compact()

    def shred_ids(self, session: Session, shipment_ids: builtins.list[int]) -> int:
        """Shred these shipments inside the caller's transaction (a data-subject deletion); call
        ``compact`` once it has committed."""
        return self._shred_where(session, Shipment.id.in_(shipment_ids)) if shipment_ids else 0

    def compact(self) -> None:
        self._compact()

    def run_retention(self, *, now: datetime | None = None, batch: int = 5000) -> int:
        """Shred personal data of shipments finished more than ``retention_days`` ago."""
        cutoff = (now or utcnow()) - timedelta(days=self.settings.retention_days)
        total = 0
        while True:
            with self.db.session() as s:
                ids = s.execute(
                    select(Shipment.id).where(
                        Shipment.status.in_(TERMINAL), Shipment.status_changed_at < cutoff,
                        Shipment.shredded_at.is_(None),
                    ).limit(batch)
                ).scalars().all()
                if not ids:
                    break
                total += self._shred_where(s, Shipment.id.in_(ids))
        # Spent one-time-code challenges hold a keyed digest of a phone number with times: none is kept.
        self.purge_spent()
        if total:
            self._compact()
        return total

    def _compact(self) -> None:
        """SQLite: push the WAL into the (secure-delete) file and truncate it, so no old page
        image holding a shredded key stays on disk."""
        if self.db.dialect == "sqlite":
            with self.db.engine.connect() as c:
                c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def stats(self, principal: ApiKeyPrincipal) -> dict:
        """Anonymous statistics, kept after shredding: counts by status and by province."""
        self.orgs.require(principal, "shipments:read")
        with self.db.read_session() as s:
            by_status = dict(s.execute(
                select(Shipment.status, func.count()).where(Shipment.org_id == principal.org_id)
                .group_by(Shipment.status)).all())
            by_province = {
                places.province(code).name: n for code, n in s.execute(
                    select(Shipment.recipient_province_code, func.count())
                    .where(Shipment.org_id == principal.org_id).group_by(Shipment.recipient_province_code)).all()
            }
            shredded = s.execute(select(func.count()).where(
                Shipment.org_id == principal.org_id, Shipment.shredded_at.is_not(None))).scalar_one()
            cod = s.execute(select(func.coalesce(func.sum(Shipment.cod_amount_vnd), 0)).where(
                Shipment.org_id == principal.org_id)).scalar_one()
        return {"by_status": by_status, "by_province": by_province, "shredded": shredded,
                "total": sum(by_status.values()), "cod_amount_vnd_total": int(cod)}

    # -- key rotation ------------------------------------------------------------------------
    def rewrap(self, principal: ApiKeyPrincipal, *, batch: int = 1000,
               progress: Callable[[int], None] | None = None) -> dict:
        """Move every shipment's data key to the active data-key version, one short transaction
        per batch (the service keeps serving), then destroy versions no longer used."""
        self.orgs.require(principal, "keys:admin")
        moved, last_id = 0, 0
        while True:
            with self.db.session() as s:
                org = self._org(s, principal)
                active = self.vault.active_version(s, org_id=org.id)
                rows = s.execute(
                    select(Shipment.id, Shipment.waybill, Shipment.dek, Shipment.dek_key_version)
                    .where(Shipment.org_id == org.id, Shipment.id > last_id)
                    .order_by(Shipment.id)
                    .limit(batch)
                ).all()
                todo = [(r.id, r.waybill, r.dek) for r in rows if r.dek is not None and r.dek_key_version != active]
                sealer = self.vault.sealer(s, org_id=org.id, count=len(todo)) if todo else None
                for sid, waybill, dek in todo:
                    if sealer is None:  # never: there is one whenever todo is not empty
                        break
                    # only the key that was read: a record shredded meanwhile keeps no key
                    moved += cast(CursorResult[Any], s.execute(
                        update(Shipment).where(Shipment.id == sid, Shipment.dek == dek).values(
                            dek=self.vault.rewrap_dek(s, org_id=org.id, table="shipments", record_id=waybill,
                                                      dek=dek, sealer=sealer),
                            dek_key_version=sealer.version,
                        ).execution_options(synchronize_session=False)
                    )).rowcount
            if progress:
                progress(moved)
            if len(rows) < batch:
                break
            last_id = rows[-1][0]
        with self.db.session() as s:
            in_use = {v for v in s.execute(select(Shipment.dek_key_version).where(
                Shipment.org_id == principal.org_id, Shipment.dek.is_not(None)).distinct()).scalars() if v is not None}
            for holder in self.key_holders():  # what else is sealed under the org key
                in_use |= holder.key_versions_in_use(s, org_id=principal.org_id)
            destroyed = self.vault.destroy_retired(s, org_id=principal.org_id, in_use=in_use)
        self._compact()
        self.audit.append(actor=principal.actor, action="key_rewrap", org_id=principal.org_id,
                            details={"rewrapped": moved, "destroyed_versions": destroyed})
        return {"rewrapped": moved, "destroyed_versions": destroyed}

    def waybills_for_labels(self, session: Session, principal: ApiKeyPrincipal, waybills: Iterable[str]) -> builtins.list[Shipment]:
        """The shipments of ``waybills`` (as typed: any letter case, spaces), in order, once each."""
        wanted = list(dict.fromkeys(waybills))
        typed = {w: typed_waybill(w) for w in wanted}
        forms = list(dict.fromkeys(f for t in typed.values() if t is not None for f in case_forms(t)))
        stored: builtins.list[Shipment] = []
        for i in range(0, len(forms), 5000):  # under every driver's limit on parameters
            stored += session.execute(select(Shipment).where(
                Shipment.org_id == principal.org_id, Shipment.waybill.in_(forms[i : i + 5000]))).scalars().all()
        by_form: dict[str, builtins.list[Shipment]] = {}
        for sh in stored:
            by_form.setdefault(sh.waybill.upper(), []).append(sh)
        found: dict[str, Shipment] = {}
        for w, t in typed.items():
            hit = best_match(by_form.get(t.upper(), ()), t, operator.attrgetter("waybill")) if t is not None else None
            if hit is not None:
                found[w] = hit
        missing = [w for w in wanted if w not in found]
        if missing:
            raise NotFound(f"No shipment with waybill {', '.join(shown(w[:40]) for w in missing[:10])}"
                           + (" …" if len(missing) > 10 else "") + ".")
        return list({found[w].id: found[w] for w in wanted}.values())
