"""The scam-intelligence store: its keys, sealed values, and indicator and reporter rows.

Indicators are stored by a keyed digest of their normal form (see ``postguard.intel.normalize``);
personal values (phones, accounts, wallets), report texts, contacts and evidence files are vault
ciphertext under the platform's own organisation (``KEY_ORG``), whose keys rotate like any other.
Nothing is opened here: callers open what ``sealed`` names through the door (``postguard.access.door``,
purposes ``indicator_review``, ``report_review``, ``appeal_review``), and ``values_of`` opens indicator
values for the platform's own use (``indicator_share``, ``lookup_index``), logged first.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postguard.db.base import Base, utcnow
from postguard.errors import DecryptionFailed, FieldError, InvalidInput, NotFound
from postguard.intel.known import KnownIndex
from postguard.intel.models import Appeal, Evidence, Indicator, Report, Reporter
from postguard.intel.normalize import Normal
from postguard.orgs.models import Organisation
from postguard.orgs.service import PLATFORM_ORG
from postguard.principals import ApiKeyPrincipal, SystemActor
from postguard.vault.service import SealedValue, versions_sealed_in

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.db import Database
    from postguard.intel.lookups import PrivateLookups
    from postguard.orgs.service import OrgService
    from postguard.settings import Settings
    from postguard.vault.service import Vault

KEY_ORG = PLATFORM_ORG  # the platform organisation (``OrgService.platform_org_id``) holds the keys

RowT = TypeVar("RowT", bound=Base)


def bad_field(field: str, message: str, code: str = "invalid") -> InvalidInput:
    """The refusal of a request over one field."""
    return InvalidInput("The request was refused.", [FieldError(field, message, code=code)])


def table_of(model: type[Base]) -> Table:
    """The table a model is mapped to (for Core statements: upserts, executemany updates)."""
    table = model.__table__
    if not isinstance(table, Table):  # every model here maps one table
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


def get_row(s: Session, model: type[RowT], row_id: int, what: str) -> RowT:
    """The row ``row_id`` of ``model``, or ``NotFound`` ("No <what> <id>.") when there is none
    (never was, or deleted meanwhile by another transaction)."""
    row = s.get(model, row_id)
    if row is None:
        raise NotFound(f"No {what} {row_id}.")
    return row


class IntelStore:
    def __init__(self, *, db: Database, settings: Settings, vault: Vault, orgs: OrgService, door: Door,
                 lookups: PrivateLookups) -> None:
        """``lookups``: the private-lookup index, which every new indicator gets an entry in."""
        self.db = db
        self.settings = settings
        self.vault = vault
        self.orgs = orgs
        self.door = door
        self.lookups = lookups
        self._digest = vault.kept_digest(db.session, purpose="intel-indicator")

    @cached_property
    def known(self) -> KnownIndex:
        """Every stored indicator's digest, in memory (``postguard.intel.known``)."""
        return KnownIndex(self.db, refresh_seconds=self.settings.intel_index_refresh_seconds)

    # -- keys --------------------------------------------------------------------------------
    def digest(self, text: str) -> bytes:
        """The keyed digest (``intel-indicator``) of ``text``: indicators, reporters and report
        fingerprints are stored under it."""
        return self._digest(text)

    def ready(self) -> None:
        """Create (once) the keys intelligence uses, before any session is open: on SQLite a write
        inside another session would wait on the database lock."""
        self.digest("")
        self.key_org_id()
        self.lookups.ready()

    def digest_of(self, n: Normal) -> bytes:
        """The lookup key of a normal form (also what private lookups and sharing match on)."""
        return self.digest(f"{n.type}\0{n.value}")

    def key_versions_in_use(self, session: Session, *, org_id: int) -> set[int]:
        """Data-key versions that intelligence data is sealed under: the platform organisation's
        (a key rotation must not destroy them)."""
        code = session.execute(select(Organisation.code).where(Organisation.id == org_id)).scalar_one_or_none()
        if code != KEY_ORG:
            return set()
        return set().union(*(versions_sealed_in(session, column) for column in (
            Indicator.value_ct, Report.description_ct, Report.contact_ct, Evidence.content_ct,
            Appeal.statement_ct, Appeal.contact_ct)))

    def key_org_id(self) -> int:
        """The platform's own organisation, whose vault keys protect intelligence data."""
        return self.orgs.platform_org_id()

    def cli_principal(self) -> ApiKeyPrincipal:
        """The command line acts as the platform, with every scope."""
        return self.orgs.platform_principal(actor="cli")

    # -- sealed values -------------------------------------------------------------------------
    def seal(self, s: Session, text: str | bytes | None, *, table: str, column: str, record_id: int) -> bytes | None:
        if text is None or text == "":
            return None
        data = text.encode("utf-8") if isinstance(text, str) else text
        return self.vault.encrypt(data, session=s, org_id=self.key_org_id(), table=table, column=column,
                                    record_id=str(record_id))

    def sealed(self, blob: bytes | None, *, table: str, column: str, record_id: int) -> SealedValue:
        """A value sealed by ``seal``, to open through the door."""
        return SealedValue(org_id=self.key_org_id(), table=table, column=column, record_id=str(record_id), blob=blob)

    def values_of(self, s: Session, inds: Sequence[Indicator], *, purpose: str) -> list[str]:
        """The normal forms of stored indicators, personal ones opened through the door by the platform
        itself (one log entry for the lot), for the service's own use: ``indicator_share`` (the shared
        feed) or ``lookup_index`` (the private-lookup index). ``s`` must hold no write yet."""
        personal = [i for i in inds if i.value is None]
        opened = dict(zip((i.id for i in personal), self.door.open(
            s, SystemActor(org_id=self.key_org_id(), actor="postguard:intel"), purpose,
            [self.sealed(i.value_ct, table="intel_indicators", column="value", record_id=i.id) for i in personal],
        ), strict=True)) if personal else {}
        return [i.value if i.value is not None else self._opened_value(opened[i.id]) for i in inds]

    @staticmethod
    def _opened_value(raw: str | None) -> str:
        """A personal indicator's opened normal form: text, sealed when the indicator was created."""
        if raw is None:
            raise DecryptionFailed()
        return raw

    # -- rows ------------------------------------------------------------------------------------
    def find(self, s: Session, n: Normal) -> Indicator | None:
        return s.execute(select(Indicator).where(Indicator.digest == self.digest_of(n))).scalar_one_or_none()

    @staticmethod
    def indicator(s: Session, indicator_id: int) -> Indicator:
        """The indicator ``indicator_id``, or ``NotFound``."""
        return get_row(s, Indicator, indicator_id, "indicator")

    def get_or_create(self, s: Session, n: Normal) -> Indicator:
        found = self.find(s, n)
        if found is not None:
            return found
        ind = Indicator(type=n.type, digest=self.digest_of(n), display=n.display[:300],
                        value=None if n.personal else n.value, domain=n.domain, qualifier=n.bank,
                        verdict="unknown", score=0)
        ind.lookup_bucket, ind.lookup_output = self.lookups.entry(n.type, n.value)
        try:
            with s.begin_nested():  # another report may create the same indicator at the same moment
                s.add(ind)
                s.flush()
        except IntegrityError:  # the other one's row exists now
            return s.execute(select(Indicator).where(Indicator.digest == self.digest_of(n))).scalar_one()
        self.known.add(ind.digest)
        if n.personal:
            ind.value_ct = self.seal(s, n.value, table="intel_indicators", column="value", record_id=ind.id)
        return ind

    def reporter(self, s: Session, *, principal: ApiKeyPrincipal | None, client: str,
                 source: str | None = None) -> Reporter:
        """The reporting identity, created on its first report. An upsert (``INSERT ... ON CONFLICT DO
        NOTHING``, then read): two first reports from one client at once both get the one row.
        ``source`` names one of the platform's own sources instead (``scanner``: the lookalike
        scanner), whatever key sends its findings: one identity of kind ``system``."""
        if source is not None:
            key, kind = self.digest(f"reporter\0system\0{source}"), "system"
        else:
            key = self.digest(f"reporter\0org\0{principal.org_id}" if principal else f"reporter\0client\0{client}")
            kind = "org" if principal else "public"
        ins = (postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert)(table_of(Reporter))
        s.execute(ins.values(key=key, kind=kind, reports=0, upheld=0, rejected=0,
                             created_at=utcnow()).on_conflict_do_nothing(index_elements=["key"]))
        return s.execute(select(Reporter).where(Reporter.key == key)).scalar_one()

    @staticmethod
    def count_report(s: Session, reporter: Reporter) -> None:
        """One more report on the reporter's record, incremented in the database (never read, add, write)."""
        s.execute(update(Reporter).where(Reporter.id == reporter.id).values(reports=Reporter.reports + 1)
                  .execution_options(synchronize_session=False))
