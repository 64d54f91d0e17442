"""Carriers' subscriber records: protected import, the junk-SIM audit and the re-verification queue.

A carrier's SIM registrations enter as vault ciphertext (number, ID number, name, date of birth,
each sealed under a record key of its own like shipments' fields), with truncated blind indexes for
lookups, keyed digests for grouping and the findings decided at import (``validation``). The audit
(``checks.run``) reads no personal value: a number is opened only to match it against the scam
database's numbers (purpose ``subscriber_scam_match``) and when a SIM is suspended
(``subscriber_suspend``); a clerk opens a flagged SIM's holder data through the door
(``subscriber_reverify``), logged first.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import IO, TYPE_CHECKING, Any, Protocol, cast

import numpy as np
from sqlalchemy import CursorResult, Table, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from postguard.csvimport import CsvRows, ImportReport, fresh_only, valid_batches
from postguard.db.base import utcnow
from postguard.db.engine import placeholder
from postguard.errors import Conflict, FieldError, InvalidInput, NotFound
from postguard.logging import get_logger
from postguard.orgs.models import Organisation
from postguard.phones import InvalidPhone, normalize_phone
from postguard.principals import ApiKeyPrincipal, Principal
from postguard.subscribers import checks
from postguard.subscribers.identity import fold
from postguard.subscribers.models import PERSONAL_FIELDS, Subscriber, SubscriberCase, SubscriberCaseEvent
from postguard.subscribers.validation import COLUMNS, OPTIONAL, VIETNAM, SubscriberInput, validate
from postguard.vault.masking import mask_party
from postguard.vault.service import FieldLayout, SealedFields

if TYPE_CHECKING:
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.orgs.service import OrgService
    from postguard.settings import Settings
    from postguard.vault.service import Vault

log = get_logger("postguard.subscribers")
LAYOUT = FieldLayout("subscribers", PERSONAL_FIELDS)
STATES = ("flagged", "contacted", "reverified", "suspended", "cleared")
OPEN_STATES = ("flagged", "contacted", "suspended")
TRANSITIONS: dict[str, frozenset[str]] = {
    "flagged": frozenset({"contacted", "suspended", "cleared"}),
    "contacted": frozenset({"reverified", "suspended", "cleared"}),
    "suspended": frozenset({"reverified", "cleared"}),  # the holder came back with their papers, or a mistake
    "reverified": frozenset(),
    "cleared": frozenset(),
}
QUEUE_ROLES = ("cs", "admin")
MAX_PAGE = 500
MAX_NOTE = 500
MAX_SCAM_CANDIDATES = 100_000  # numbers opened to match the scam database, at most, per audit
SUSPENDED_PURPOSE = "subscriber-suspended"  # the platform secret of the suspended numbers' digests
INSERT_COLUMNS = (
    "org_id", "iccid", "imported_at", "activated_at", "first_activity_at", "point_of_sale", "id_type", "gender",
    "verified", "has_guardian", "calls_out_24h", "distinct_callees_24h", "sms_out_24h", "local_flags", "age_years",
    "dek_key_version", "dek", *(f"{c}_ct" for c in PERSONAL_FIELDS),
    "msisdn_bidx", "id_bidx", "id_link", "holder_link", "dob_link", "msisdn_last3", "name_masked",
)
_personal = operator.attrgetter(*PERSONAL_FIELDS)


class Protection:
    """How a batch's personal data is protected: sealed under record keys, blind-indexed and linked by
    keyed digests under the organisation's index key (the benchmark swaps in a plaintext stand-in)."""

    def __init__(self, vault: Vault, session: Session, *, org: Organisation, count: int) -> None:
        sealer = vault.sealer(session, org_id=org.id, count=count)
        self.key_version: int | None = sealer.version
        self.seal = partial(sealer.seal_many, layout=LAYOUT)
        self.bits = org.blind_index_bits  # the ID number's blind index: its link's first bits
        self.index = vault.blind_indexer(session, org_id=org.id, bits=org.blind_index_bits)
        self.link = vault.linker(session, org_id=org.id, purpose=b"id")
        self.holder = vault.linker(session, org_id=org.id, purpose=b"holder")
        self.dob = vault.linker(session, org_id=org.id, purpose=b"dob")


class SubscriberDoor(Protocol):
    """The door (``postguard.access.door.Door``, a layer above): the only way to the plaintext."""

    def open_records(self, session: Session, principal: Principal, purpose: str, records: Sequence[SealedFields],
                     *, subject: str | None = None, details: dict[str, Any] | None = None,
                     ) -> builtins.list[dict[str, str | None]]: ...


@dataclass
class Meta:
    """What the audit keeps per SIM besides the checks' columns (in the same order)."""

    ids: np.ndarray
    msisdn_bidx: np.ndarray
    iccids: Sequence[str]
    shops: Sequence[str | None]


@dataclass
class AuditResult:
    """One audit: the records looked at, the flags by reason and by point of sale, and the cases."""

    org: str
    at: datetime
    records: int
    flagged: int
    by_reason: dict[str, int]
    by_shop: dict[str, int]  # flagged activations per point of sale
    by_shop_day: dict[str, dict[str, int]]  # point of sale -> day -> flagged activations (top shops)
    by_day: dict[str, dict[str, int]]  # day -> reason -> flagged activations
    cases_opened: int
    cases_updated: int
    seconds: dict[str, float]
    flagged_iccids: dict[str, list[str]]  # ICCID -> reason codes (for measuring against planted patterns)

    def as_dict(self, *, with_iccids: bool = False) -> dict:
        top = sorted(self.by_shop.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
        out = {
            "org": self.org, "at": self.at.isoformat(), "records": self.records, "flagged": self.flagged,
            "by_reason": self.by_reason, "top_points_of_sale": [{"point_of_sale": s, "flagged": n} for s, n in top],
            "by_day": self.by_day, "by_point_of_sale_day": self.by_shop_day,
            "cases_opened": self.cases_opened, "cases_updated": self.cases_updated, "seconds": self.seconds,
            "reasons": [{"code": r.code, "priority": r.priority, "vi": r.vi, "en": r.en} for r in checks.REASONS],
        }
        if with_iccids:
            out["flagged_iccids"] = self.flagged_iccids
        return out


def _reasons(codes: str) -> list[dict]:
    return [{"code": c, "vi": checks.BY_CODE[c].vi, "en": checks.BY_CODE[c].en} for c in codes.split(",") if c]


def case_view(c: SubscriberCase, sub: Subscriber, *, now: datetime) -> dict:
    """A case as the queue shows it: masked, with its reasons in both languages."""
    return {
        "case_id": c.id, "state": c.state, "priority": c.priority, "scam": c.scam, "reasons": _reasons(c.reasons),
        "iccid": sub.iccid, "msisdn": f"*******{sub.msisdn_last3}" if sub.msisdn_last3 else None,
        "name": sub.name_masked, "id_type": sub.id_type, "point_of_sale": sub.point_of_sale,
        "activated_at": sub.activated_at.isoformat(), "opened_at": c.opened_at.isoformat(),
        "deadline_at": c.deadline_at.isoformat(), "overdue": c.state in ("flagged", "contacted") and c.deadline_at < now,
        "updated_at": c.updated_at.isoformat(), "updated_by": c.updated_by, "note": c.note, "version": c.version,
        "allowed": sorted(TRANSITIONS[c.state]),
    }


class Subscribers:
    def __init__(self, *, db: Database, settings: Settings, vault: Vault, audit: AuditLog, orgs: OrgService,
                 door: SubscriberDoor, scam_numbers: Callable[[], dict[str, str]]) -> None:
        """``scam_numbers``: the scam database's phone numbers (E.164) that are reported or confirmed,
        with that verdict (filled in by the wiring from the intelligence store)."""
        self.db = db
        self.settings = settings
        self.vault = vault
        self.audit = audit
        self.orgs = orgs
        self.door = door
        self.scam_numbers = scam_numbers
        self.suspended_digest = vault.kept_digest(db.session, purpose=SUSPENDED_PURPOSE)

    def thresholds(self) -> checks.Thresholds:
        return checks.Thresholds(min_age=self.settings.subscriber_min_age,
                                 max_per_id=self.settings.subscriber_max_per_id)

    # -- import --------------------------------------------------------------------------------
    def import_csv(self, principal: ApiKeyPrincipal, stream: IO[bytes], *,
                   progress: Callable[[int], None] | None = None,
                   protection: Callable[..., Protection] = Protection) -> ImportReport:
        """Stream a carrier's CSV in atomic batches (read as ``postguard.csvimport`` reads every
        import); records already stored (same ICCID) are counted, not duplicated."""
        self.orgs.require(principal, "subscribers:write")
        rows = CsvRows(stream, columns=COLUMNS, optional=OPTIONAL)
        report = rows.report
        for batch in valid_batches(rows, validate, size=self.settings.import_batch_size, progress=progress):
            self._import_batch(principal, batch, report, protection)
        log.info("subscribers imported", org=principal.org_code, actor=principal.actor, rows=report.rows,
                 imported=report.imported, already_present=report.already_present, invalid=report.invalid)
        return report

    def _import_batch(self, principal: ApiKeyPrincipal, batch: list[SubscriberInput], report: ImportReport,
                      protection: Callable[..., Protection]) -> None:
        with self.db.session() as s:
            org = self.orgs.by_id(s, principal.org_id)
            conn = s.connection()
            mark = placeholder(conn.dialect)
            existing: set[str] = set()
            iccids = [it.iccid for it in batch]
            for i in range(0, len(iccids), 5000):
                chunk = iccids[i : i + 5000]
                sql = f"SELECT iccid FROM subscribers WHERE org_id = {mark} AND iccid IN ({', '.join([mark] * len(chunk))})"  # noqa: S608
                existing.update(w for (w,) in conn.exec_driver_sql(sql, (org.id, *chunk)))
            fresh = fresh_only(batch, lambda it: it.iccid, existing, report)
            if not fresh:
                return
            prot = protection(self.vault, s, org=org, count=len(fresh))
            inserted = self._insert(s, org.id, list(fresh.values()), prot)
            report.imported += inserted
            report.already_present += len(fresh) - inserted

    @staticmethod
    def _insert(session: Session, org_id: int, items: list[SubscriberInput], prot: Protection) -> int:
        conn = session.connection()
        dialect = conn.dialect
        mark = placeholder(dialect)
        sql = (f"INSERT INTO subscribers ({', '.join(INSERT_COLUMNS)}) VALUES ({', '.join([mark] * len(INSERT_COLUMNS))})"  # noqa: S608
               " ON CONFLICT (org_id, iccid) DO NOTHING")
        bind = Subscriber.__table__.c.activated_at.type.dialect_impl(dialect).bind_processor(dialect)
        when = bind or (lambda v: v)
        now = when(utcnow())
        sealed = prot.seal([(it.iccid, _personal(it)) for it in items])
        index, link, holder, dob = prot.index, prot.link, prot.holder, prot.dob
        shift = 63 - prot.bits
        rows = []
        for it, protected in zip(items, sealed, strict=True):
            ident = f"{it.id_type}:{it.id_number}" if it.id_number and it.id_type else None
            linked = link(ident) if ident else None
            rows.append((
                org_id, it.iccid, now, when(it.activated_at),
                when(it.first_activity_at) if it.first_activity_at else None, it.point_of_sale, it.id_type, it.gender,
                it.verified, it.has_guardian, it.calls_out_24h, it.distinct_callees_24h, it.sms_out_24h, it.flags,
                it.age_years, prot.key_version, *protected, index(it.msisdn),
                linked >> shift if linked is not None else None, linked,
                holder(f"{ident}|{fold(it.full_name or '')}|{it.date_of_birth or ''}") if ident else None,
                dob(it.date_of_birth) if it.date_of_birth else None,
                it.msisdn[-3:], mask_party(it.full_name) if it.full_name else None,
            ))
        return conn.exec_driver_sql(sql, rows).rowcount

    # -- audit ---------------------------------------------------------------------------------
    def _columns(self, session: Session, org_id: int) -> tuple[checks.Batch, Meta]:
        """Every SIM of the organisation as the checks' columns, in one query read by the driver
        (absent values as ``checks.NONE``, times as epoch seconds, the ICCID's digits as a number)."""
        if self.db.dialect == "sqlite":
            def epoch(c: str) -> str:
                return f"COALESCE(CAST(strftime('%s', {c}) AS INTEGER), -1)"
        else:
            def epoch(c: str) -> str:
                return f"COALESCE(CAST(EXTRACT(EPOCH FROM {c}) AS BIGINT), -1)"
        numeric = ("local_flags", "COALESCE(age_years, -1)", "CASE WHEN has_guardian THEN 1 ELSE 0 END",
                   "COALESCE(id_link, -1)", "COALESCE(holder_link, -1)", "COALESCE(dob_link, -1)",
                   epoch("activated_at"), "CAST(substr(iccid, length(iccid) - 18, 18) AS BIGINT)",
                   "COALESCE(calls_out_24h, -1)", "COALESCE(distinct_callees_24h, -1)", "COALESCE(sms_out_24h, -1)",
                   epoch("first_activity_at"), "id", "COALESCE(msisdn_bidx, -1)")
        conn = session.connection()
        sql = (f"SELECT {', '.join(numeric)}, iccid, point_of_sale FROM subscribers "  # noqa: S608  constants only
               f"WHERE org_id = {placeholder(conn.dialect)} ORDER BY id")
        rows = conn.exec_driver_sql(sql, (org_id,)).fetchall()
        n = len(rows)
        cols = list(zip(*rows, strict=True)) if rows else [()] * (len(numeric) + 2)
        del rows
        ints = [np.array(c, dtype=np.int64) for c in cols[: len(numeric)]]
        shops: dict[str | None, int] = {None: checks.NONE}
        shop = np.fromiter((shops.setdefault(v, len(shops) - 1) for v in cols[-1]), dtype=np.int64, count=n)
        batch = checks.Batch(flags=ints[0], age=ints[1], guardian=ints[2].astype(bool), id_link=ints[3],
                             holder_link=ints[4], dob_link=ints[5], shop=shop, activated=ints[6], iccid=ints[7],
                             calls=ints[8], callees=ints[9], sms=ints[10], first_activity=ints[11])
        return batch, Meta(ids=ints[12], msisdn_bidx=ints[13], iccids=cols[-2], shops=cols[-1])

    def _scam_matches(self, session: Session, principal: ApiKeyPrincipal, org: Organisation,
                      meta: Meta) -> dict[int, str]:
        """Entries whose number the scam database reports or confirms: blind-index candidates,
        opened through the door (one entry for the whole audit) and compared server-side."""
        numbers = self.scam_numbers()
        if not numbers:
            return {}
        index = self.vault.blind_indexer(session, org_id=org.id, bits=org.blind_index_bits)
        wanted = np.array(sorted({index(e164) for e164 in numbers}), dtype=np.int64)
        candidates = np.flatnonzero(np.isin(meta.msisdn_bidx, wanted))[:MAX_SCAM_CANDIDATES].tolist()
        if not candidates:
            return {}
        by_id: dict[int, Subscriber] = {}
        for k in range(0, len(candidates), 5000):
            chunk = [int(meta.ids[i]) for i in candidates[k : k + 5000]]
            by_id.update((x.id, x) for x in session.execute(select(Subscriber).where(Subscriber.id.in_(chunk))).scalars())
        chosen = [i for i in candidates if int(meta.ids[i]) in by_id]
        opened = self.door.open_records(session, principal, "subscriber_scam_match", [
            self._sealed(by_id[int(meta.ids[i])], ("msisdn",)) for i in chosen], details={"scam_numbers": len(numbers)})
        return {i: numbers[o["msisdn"]] for i, o in zip(chosen, opened, strict=True)
                if o["msisdn"] in numbers}

    @staticmethod
    def _sealed(sub: Subscriber, columns: tuple[str, ...]) -> SealedFields:
        return SealedFields(org_id=sub.org_id, table="subscribers", record_id=sub.iccid, dek=sub.dek,
                            fields={c: getattr(sub, f"{c}_ct") for c in columns})

    def run_audit(self, principal: ApiKeyPrincipal, *, top_shops: int = 10) -> AuditResult:
        """Run every check over the organisation's SIMs, open or update a case for each flagged one,
        and answer the aggregates (nothing personal)."""
        import time

        self.orgs.require(principal, "subscribers:audit")
        t0 = time.perf_counter()
        with self.db.session() as s:
            org = self.orgs.by_id(s, principal.org_id)
            batch, meta = self._columns(s, org.id)
            t1 = time.perf_counter()
            scam = self._scam_matches(s, principal, org, meta)
            t2 = time.perf_counter()
            masks = checks.run(batch, self.thresholds(), scam=scam)
            t3 = time.perf_counter()
            flagged = np.flatnonzero(masks)
            opened, updated = self._open_cases(s, principal, org.id, [
                (int(meta.ids[i]), int(masks[i]), scam.get(int(i))) for i in flagged])
        t4 = time.perf_counter()
        by_shop: dict[str, int] = {}
        by_day: dict[str, dict[str, int]] = {}
        days_of_shop: dict[str, dict[str, int]] = {}
        flagged_iccids: dict[str, list[str]] = {}
        for i in flagged.tolist():
            iccid, shop, at = meta.iccids[i], meta.shops[i], int(batch.activated[i])
            codes = checks.codes(int(masks[i]))
            flagged_iccids[iccid] = codes
            day = datetime.fromtimestamp(at, VIETNAM).date().isoformat()
            shop = shop or "-"
            by_shop[shop] = by_shop.get(shop, 0) + 1
            per = by_day.setdefault(day, {})
            for c in codes:
                per[c] = per.get(c, 0) + 1
            d = days_of_shop.setdefault(shop, {})
            d[day] = d.get(day, 0) + 1
        top = sorted(by_shop, key=lambda k: (-by_shop[k], k))[:top_shops]
        result = AuditResult(
            org=principal.org_code, at=utcnow(), records=len(batch), flagged=len(flagged),
            by_reason=checks.counts_by_reason(masks), by_shop=by_shop,
            by_shop_day={k: dict(sorted(days_of_shop[k].items())) for k in top}, by_day=dict(sorted(by_day.items())),
            cases_opened=opened, cases_updated=updated,
            seconds={"load": round(t1 - t0, 3), "scam_match": round(t2 - t1, 3), "checks": round(t3 - t2, 3),
                     "cases": round(t4 - t3, 3)},
            flagged_iccids=flagged_iccids)
        self.audit.append(actor=principal.actor, action="subscriber_audit", org_id=principal.org_id,
                          details={"records": result.records, "flagged": result.flagged, "opened": opened,
                                   "updated": updated})
        return result

    def _open_cases(self, session: Session, principal: ApiKeyPrincipal, org_id: int,
                    found: list[tuple[int, int, str | None]]) -> tuple[int, int]:
        """A case for each flagged SIM: new ones flagged with the contact deadline; open ones keep their
        state and take the new reasons and priority."""
        now = utcnow()
        existing = dict(session.execute(select(SubscriberCase.subscriber_id, SubscriberCase.id).where(
            SubscriberCase.org_id == org_id)).all())
        new, changed = [], []
        for sub_id, mask, scam in found:
            reasons = ",".join(checks.codes(mask))
            prio = checks.priority(mask)
            if sub_id in existing:
                changed.append({"cid": existing[sub_id], "reasons": reasons, "priority": prio, "scam": scam})
            else:
                new.append({"org_id": org_id, "subscriber_id": sub_id, "state": "flagged", "reasons": reasons,
                            "priority": prio, "scam": scam, "opened_at": now,
                            "deadline_at": now + timedelta(days=self.settings.subscriber_contact_days),
                            "updated_at": now, "updated_by": principal.actor, "note": "", "version": 1})
        t = cast(Table, SubscriberCase.__table__)
        if new:
            session.execute(t.insert(), new)
        if changed:
            still_open = or_(*(t.c.state == state for state in OPEN_STATES))  # no IN: executemany binds no list
            session.execute(t.update().where(t.c.id == bindparam("cid"), still_open).values(
                reasons=bindparam("reasons"), priority=bindparam("priority"), scam=bindparam("scam")), changed)
        return len(new), len(changed)

    # -- the queue -------------------------------------------------------------------------------
    def _require_queue(self, principal: Principal) -> Principal:
        return self.orgs.require(principal, "subscribers:review", roles=QUEUE_ROLES)

    def queue(self, principal: Principal, *, state: str | None = "open", limit: int = 100,
              reason: str | None = None) -> list[dict]:
        """Cases, most urgent first (priority, then deadline): ``state`` one of ``STATES``, ``open``
        (flagged, contacted, suspended) or None for every state."""
        self._require_queue(principal)
        if state is not None and state not in (*STATES, "open"):
            raise InvalidInput("Unknown state.", [FieldError("state", f"open or one of {', '.join(STATES)}")])
        if reason is not None and reason not in checks.BY_CODE:
            raise InvalidInput("Unknown reason.", [FieldError("reason", "a reason code of the audit")])
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput("Bad page size.", [FieldError("limit", f"between 1 and {MAX_PAGE}")])
        q = select(SubscriberCase, Subscriber).join(Subscriber, Subscriber.id == SubscriberCase.subscriber_id).where(
            SubscriberCase.org_id == principal.org_id)
        if state == "open":
            q = q.where(SubscriberCase.state.in_(OPEN_STATES))
        elif state is not None:
            q = q.where(SubscriberCase.state == state)
        if reason is not None:
            q = q.where(SubscriberCase.reasons.contains(reason))
        q = q.order_by(SubscriberCase.priority.desc(), SubscriberCase.deadline_at, SubscriberCase.id).limit(limit)
        now = utcnow()
        with self.db.read_session() as s:
            return [case_view(c, sub, now=now) for c, sub in s.execute(q).all()]

    def _case(self, session: Session, principal: Principal, case_id: int) -> tuple[SubscriberCase, Subscriber]:
        row = session.execute(select(SubscriberCase, Subscriber).join(
            Subscriber, Subscriber.id == SubscriberCase.subscriber_id).where(
            SubscriberCase.id == case_id, SubscriberCase.org_id == principal.org_id)).first()
        if row is None:
            raise NotFound("No such case.")
        return row[0], row[1]

    def show(self, principal: Principal, case_id: int, *, reveal: bool = False, reason: str = "") -> dict:
        """One case with its history; ``reveal``: with the holder's data, opened through the door
        (purpose ``subscriber_reverify``, logged first) to contact them and compare with their papers."""
        self._require_queue(principal)
        with self.db.session() as s:
            case, sub = self._case(s, principal, case_id)
            out = case_view(case, sub, now=utcnow())
            out["history"] = [{"from": e.from_state, "to": e.to_state, "actor": e.actor, "at": e.at.isoformat(),
                               "note": e.note} for e in s.execute(select(SubscriberCaseEvent).where(
                                   SubscriberCaseEvent.case_id == case.id).order_by(SubscriberCaseEvent.id)).scalars()]
            if reveal:
                if not reason.strip():
                    raise InvalidInput("A reason is required to see the holder's data.",
                                       [FieldError("reason", "required", code="required")])
                opened = self.door.open_records(s, principal, "subscriber_reverify", [
                    self._sealed(sub, tuple(PERSONAL_FIELDS))], subject=sub.iccid,
                    details={"case": case.id, "reason": reason[:200]})[0]
                out["holder"] = opened
            return out

    def transition(self, principal: Principal, case_id: int, *, to: str, version: int, note: str = "") -> dict:
        """Move a case (``TRANSITIONS``) if it is still at ``version``: one conditional ``UPDATE``, so
        of two clerks moving one case at once exactly one succeeds and the other gets 409."""
        self._require_queue(principal)
        if to not in STATES:
            raise InvalidInput("Unknown state.", [FieldError("to", f"one of {', '.join(STATES)}")])
        if len(note) > MAX_NOTE:
            raise InvalidInput("The note is too long.", [FieldError("note", f"at most {MAX_NOTE} characters")])
        now = utcnow()
        with self.db.session() as s:
            case, sub = self._case(s, principal, case_id)
            if case.version != version:
                raise Conflict("The case changed meanwhile; reload it and try again.")
            if to not in TRANSITIONS[case.state]:
                allowed = ", ".join(sorted(TRANSITIONS[case.state])) or "none (final state)"
                raise Conflict(f"Cannot move a case from {case.state} to {to}; allowed: {allowed}.")
            values: dict[str, Any] = {"state": to, "version": version + 1, "updated_at": now,
                                      "updated_by": principal.actor, "note": note}
            if to == "contacted":
                values["deadline_at"] = now + timedelta(days=self.settings.subscriber_reverify_days)
            if to == "suspended":
                number = self.door.open_records(s, principal, "subscriber_suspend", [self._sealed(sub, ("msisdn",))],
                                                subject=sub.iccid, details={"case": case.id})[0]["msisdn"]
                values["suspended_digest"] = self.suspended_digest(number) if number else None
            elif case.state == "suspended":
                values["suspended_digest"] = None
            res = cast(CursorResult[Any], s.execute(
                update(SubscriberCase).where(SubscriberCase.id == case.id, SubscriberCase.state == case.state,
                                             SubscriberCase.version == version)
                .values(**values).execution_options(synchronize_session=False)))
            if res.rowcount != 1:
                raise Conflict("The case changed meanwhile; reload it and try again.")
            s.add(SubscriberCaseEvent(case_id=case.id, from_state=case.state, to_state=to, actor=principal.actor,
                                      at=now, note=note))
            s.flush()
            s.expire(case)
            return case_view(s.get(SubscriberCase, case.id) or case, sub, now=now)

    def summary(self, principal: Principal) -> dict:
        """The queue's aggregates (for the carrier and, without any record, the regulator): cases by
        state and by reason, and the points of sale with the most flagged activations."""
        self.orgs.require(principal, "subscribers:audit", roles=QUEUE_ROLES)
        with self.db.read_session() as s:
            by_state = dict(s.execute(select(SubscriberCase.state, func.count()).where(
                SubscriberCase.org_id == principal.org_id).group_by(SubscriberCase.state)).all())
            by_reason: dict[str, int] = {}
            for reasons, n in s.execute(select(SubscriberCase.reasons, func.count()).where(
                    SubscriberCase.org_id == principal.org_id).group_by(SubscriberCase.reasons)).all():
                for c in reasons.split(","):
                    by_reason[c] = by_reason.get(c, 0) + n
            shops = s.execute(select(Subscriber.point_of_sale, func.count()).join(
                SubscriberCase, SubscriberCase.subscriber_id == Subscriber.id).where(
                SubscriberCase.org_id == principal.org_id).group_by(Subscriber.point_of_sale)
                .order_by(func.count().desc(), Subscriber.point_of_sale).limit(20)).all()
            total = s.execute(select(func.count()).select_from(Subscriber).where(
                Subscriber.org_id == principal.org_id)).scalar_one()
        return {"subscribers": total, "cases": sum(by_state.values()), "by_state": by_state,
                "by_reason": dict(sorted(by_reason.items(), key=lambda kv: -kv[1])),
                "top_points_of_sale": [{"point_of_sale": p or "-", "flagged": n} for p, n in shops]}

    # -- the scam check's side --------------------------------------------------------------------
    def suspensions(self, phone: str) -> list[dict]:
        """The carriers that suspended ``phone`` in their re-verification queue (code and since when)."""
        try:
            e164 = normalize_phone(phone)
        except InvalidPhone:
            return []
        digest = self.suspended_digest(e164)
        with self.db.read_session() as s:
            rows = s.execute(select(Organisation.code, Organisation.name, SubscriberCase.updated_at).join(
                Organisation, Organisation.id == SubscriberCase.org_id).where(
                SubscriberCase.suspended_digest == digest, SubscriberCase.state == "suspended")).all()
        return [{"carrier": code, "name": name, "since": at.isoformat()} for code, name, at in rows]

    def key_versions_in_use(self, session: Session, *, org_id: int) -> set[int]:
        """Data-key versions that wrap subscribers' record keys (a rotation must keep them)."""
        return {v for v in session.execute(select(Subscriber.dek_key_version).where(
            Subscriber.org_id == org_id, Subscriber.dek.is_not(None)).distinct()).scalars() if v is not None}
