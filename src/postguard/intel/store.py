"""The scam-intelligence store: its keys, sealed values, and indicator and reporter rows.

Indicators are stored by a keyed digest of their normal form (see ``postguard.intel.normalize``);
personal values (phones, accounts, wallets), report texts, contacts and evidence files are vault
ciphertext under the platform's own organisation (``KEY_ORG``), whose keys rotate like any other.
Everything sealed here is opened by one of three functions, one per kind of record:
``open_value`` (an indicator's value), ``open_report_text`` (a report's description or contact)
and ``open_appeal_text`` (an appeal's statement or contact); their callers log first.
"""

from __future__ import annotations

import threading
from functools import cached_property

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postguard.db.base import utcnow
from postguard.errors import Conflict, FieldError, InvalidInput, NotFound
from postguard.intel.known import KnownIndex
from postguard.intel.models import Appeal, Evidence, Indicator, Report, Reporter
from postguard.intel.normalize import Normal
from postguard.orgs.models import Organisation
from postguard.orgs.service import SCOPES, Principal
from postguard.vault.service import versions_sealed_in

KEY_ORG = "PG-INTEL"


def bad_field(field: str, message: str, code: str = "invalid") -> InvalidInput:
    """The refusal of a request over one field."""
    return InvalidInput("The request was refused.", [FieldError(field, message, code=code)])


class IntelStore:
    def __init__(self, platform) -> None:
        self.p = platform
        self._lock = threading.Lock()
        self._digest_fn = None
        self._key_org_id: int | None = None

    @cached_property
    def known(self) -> KnownIndex:
        """Every stored indicator's digest, in memory (``postguard.intel.known``)."""
        return KnownIndex(self.p.db, refresh_seconds=self.p.settings.intel_index_refresh_seconds)

    # -- keys --------------------------------------------------------------------------------
    def digest(self, text: str) -> bytes:
        """The keyed digest (``intel-indicator``) of ``text``: indicators, reporters and report
        fingerprints are stored under it."""
        if self._digest_fn is None:
            with self._lock:
                if self._digest_fn is None:
                    with self.p.db.session() as s:
                        self._digest_fn = self.p.vault.keyed_digest(s, purpose="intel-indicator")
        return self._digest_fn(text)

    def ready(self) -> None:
        """Create (once) the keys intelligence uses, before any session is open: on SQLite a write
        inside another session would wait on the database lock."""
        self.digest("")
        self.key_org_id()
        self.p.lookups.ready()

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
        if self._key_org_id is None:
            try:
                org = self.p.orgs.get(KEY_ORG)
            except NotFound:
                try:
                    org = self.p.orgs.create(code=KEY_ORG, name="postguard platform (scam intelligence keys)")
                except Conflict:
                    org = self.p.orgs.get(KEY_ORG)
            self._key_org_id = org.id
        return self._key_org_id

    def cli_principal(self) -> Principal:
        """The command line acts as the platform, with every scope."""
        return Principal(org_id=self.key_org_id(), org_code=KEY_ORG, actor="cli", scopes=frozenset(SCOPES))

    # -- sealed values -------------------------------------------------------------------------
    def seal(self, s: Session, text: str | bytes | None, *, table: str, column: str, record_id: int) -> bytes | None:
        if text is None or text == "":
            return None
        data = text.encode("utf-8") if isinstance(text, str) else text
        return self.p.vault.encrypt(data, session=s, org_id=self.key_org_id(), table=table, column=column,
                                    record_id=str(record_id))

    def _open(self, s: Session, blob: bytes | None, *, table: str, column: str, record_id: int) -> str | None:
        if blob is None:
            return None
        return self.p.vault.decrypt(blob, session=s, org_id=self.key_org_id(), table=table, column=column,
                                    record_id=str(record_id)).decode("utf-8")

    def open_value(self, s: Session, ind: Indicator) -> str:
        """The normal form of a stored indicator, decrypted for personal types (phones, accounts,
        wallets). Callers log before anything leaves the service."""
        if ind.value is not None:
            return ind.value
        return self._open(s, ind.value_ct, table="intel_indicators", column="value", record_id=ind.id)

    def open_report_text(self, s: Session, report: Report, column: str) -> str | None:
        """A report's ``description`` or ``contact``, decrypted (logged by the caller first)."""
        return self._open(s, getattr(report, f"{column}_ct"), table="intel_reports", column=column,
                          record_id=report.id)

    def open_appeal_text(self, s: Session, appeal: Appeal, column: str) -> str | None:
        """An appeal's ``statement`` or ``contact``, decrypted (logged by the caller first)."""
        return self._open(s, getattr(appeal, f"{column}_ct"), table="intel_appeals", column=column,
                          record_id=appeal.id)

    # -- rows ------------------------------------------------------------------------------------
    def find(self, s: Session, n: Normal) -> Indicator | None:
        return s.execute(select(Indicator).where(Indicator.digest == self.digest_of(n))).scalar_one_or_none()

    def get_or_create(self, s: Session, n: Normal) -> Indicator:
        found = self.find(s, n)
        if found is not None:
            return found
        ind = Indicator(type=n.type, digest=self.digest_of(n), display=n.display[:300],
                        value=None if n.personal else n.value, domain=n.domain, qualifier=n.bank,
                        verdict="unknown", score=0)
        ind.lookup_bucket, ind.lookup_output = self.p.lookups.entry(n.type, n.value)
        try:
            with s.begin_nested():  # another report may create the same indicator at the same moment
                s.add(ind)
                s.flush()
        except IntegrityError:
            return self.find(s, n)
        self.known.add(ind.digest)
        if n.personal:
            ind.value_ct = self.seal(s, n.value, table="intel_indicators", column="value", record_id=ind.id)
        return ind

    def reporter(self, s: Session, *, principal: Principal | None, client: str) -> Reporter:
        """The reporting identity, created on its first report. An upsert (``INSERT ... ON CONFLICT DO
        NOTHING``, then read): two first reports from one client at once both get the one row."""
        key = self.digest(f"reporter\0org\0{principal.org_id}" if principal else f"reporter\0client\0{client}")
        ins = (postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert)(Reporter.__table__)
        s.execute(ins.values(key=key, kind="org" if principal else "public", reports=0, upheld=0, rejected=0,
                             created_at=utcnow()).on_conflict_do_nothing(index_elements=["key"]))
        return s.execute(select(Reporter).where(Reporter.key == key)).scalar_one()

    @staticmethod
    def count_report(s: Session, reporter: Reporter) -> None:
        """One more report on the reporter's record, incremented in the database (never read, add, write)."""
        s.execute(update(Reporter).where(Reporter.id == reporter.id).values(reports=Reporter.reports + 1)
                  .execution_options(synchronize_session=False))
