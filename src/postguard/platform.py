"""The platform: every service wired to one set of injected settings.

Shells (API, web, CLI) build one ``Platform`` and call its services; nothing here is created at
import time. This is the wiring, above the services: it hands the model registry
(``postguard.models``) to the migrator and the vault's keys to the access log, so that the kernels
below (``crypto``, ``db``, ``settings``) and ``audit`` import no service.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from postguard.callerid import directory
from postguard.db import Database, migrate
from postguard.files import private_dir
from postguard.models import metadata
from postguard.settings import Settings
from postguard.vault.kek import LocalKeyFile
from postguard.vault.keycheck import open_key_file
from postguard.vault.service import Vault

if TYPE_CHECKING:
    from postguard.blocklist.service import Blocklist
    from postguard.intel.feed import IntelFeed
    from postguard.intel.lookups import PrivateLookups
    from postguard.access.duties import Duties
    from postguard.privacy.dossiers import SystemFacts
    from postguard.intel.service import IntelService
    from postguard.intel.sharing import SharedIndicator
    from postguard.privacy.service import PrivacyService
    from postguard.callerid.calls import CallService
    from postguard.callerid.check import CallCheck
    from postguard.callerid.keys import CallerIdKeys
    from postguard.callerid.registry import CourierRegistry
    from postguard.callerid.stir.fetch import CertificateFetcher
    from postguard.callerid.stir.verification import VerificationService
    from postguard.shipments.labels import LabelService
    from postguard.shipments.service import ShipmentService
    from postguard.events import EventBus
    from postguard.leaks.alerts import AlertService
    from postguard.leaks.canaries import CanaryService
    from postguard.leaks.service import LeakService
    from postguard.access.door import Door
    from postguard.access.service import AccessService
    from postguard.access.staff import StaffService
    from postguard.audit.log import AuditLog
    from postguard.audit.witnessing import Witnessing
    from postguard.alerts.service import WarningService
    from postguard.alerts.webhooks import WebhookService
    from postguard.notify import Notifier
    from postguard.orgs.service import OrgService
    from postguard.otp import OtpService
    from postguard.ratelimit import RateLimiter
    from postguard.messages.feedback import MessageFeedback
    from postguard.messages.service import MessageService
    from postguard.screening.service import ScreeningService
    from postguard.senders.service import Senders
    from postguard.takedown.service import TakedownService


class Platform:
    def __init__(self, settings: Settings, *, migrate_on_start: bool = True) -> None:
        self.settings = settings
        if settings.data_dir.exists():
            private_dir(settings.data_dir)  # 0700: it holds the database, the key file, logs
        self.db = Database(settings)
        if migrate_on_start:
            migrate.upgrade(self.db.engine, metadata=metadata)
        # Every worker learns of courier-registry changes made anywhere (postguard.callerid.directory).
        self.registry_signal = directory.signal_for(self.db.engine)
        directory.watch(self.db.primary_sessions, self.registry_signal)
        try:
            self.kek  # noqa: B018  created on first start (development) or refused (production) right away
        except Exception:
            self.close()
            raise

    @cached_property
    def kek(self) -> LocalKeyFile:
        """The key file; refused when protected data is stored and it does not match it."""
        return open_key_file(self.settings, self.db)

    @cached_property
    def vault(self) -> Vault:
        return Vault(self.kek, nonce_budget=self.settings.nonce_budget)

    @cached_property
    def x5u_fetcher(self) -> CertificateFetcher:
        """The STIR/SHAKEN certificate fetcher: only ``POSTGUARD_X5U_ALLOWED_HOSTS`` (none by default)."""
        from postguard.callerid.stir.fetch import CertificateFetcher

        return CertificateFetcher.from_settings(self.settings)

    @cached_property
    def stir_trusted_cas(self) -> list[bytes]:
        """The DER of each CA in ``POSTGUARD_STIR_TRUSTED_CA_FILE`` (empty: no fetched chain is trusted)."""
        from postguard.callerid.stir.fetch import load_trusted_cas

        path = self.settings.stir_trusted_ca_file
        return load_trusted_cas(path.read_bytes() if path is not None and path.exists() else None,
                                configured=path is not None)

    @cached_property
    def stir(self) -> VerificationService:
        """Terminating-side STIR/SHAKEN verification: an Identity header and the call's numbers in,
        ``verstat`` out (through ``x5u_fetcher`` and ``stir_trusted_cas``)."""
        from postguard.callerid.stir.verification import VerificationService

        return VerificationService(fetcher=self.x5u_fetcher, trusted_cas=self.stir_trusted_cas,
                                   callers=self.callcheck)

    @cached_property
    def orgs(self) -> OrgService:
        from postguard.orgs.service import OrgService

        return OrgService(db=self.db, settings=self.settings, vault=self.vault, audit=self.audit)

    @cached_property
    def shipments(self) -> ShipmentService:
        from postguard.access.service import AccessService
        from postguard.callerid.calls import CallService
        from postguard.shipments.service import ShipmentService

        return ShipmentService(
            db=self.db, settings=self.settings, vault=self.vault, audit=self.audit, orgs=self.orgs, door=self.door,
            bus=self.events, end_assignments=AccessService.end_assignments, on_shred=CallService.erase_for_shipments,
            key_holders=lambda: (self.canaries, self.calls, self.intel, self.message_feedback), purge_spent=self.otp.purge_spent)

    @cached_property
    def limiter(self) -> RateLimiter:
        from postguard.ratelimit import RateLimiter

        return RateLimiter(self.settings.rate_limit_storage)

    @cached_property
    def audit(self) -> AuditLog:
        from postguard.audit.log import AuditLog

        return AuditLog(self.db, origin=self.settings.audit_origin, keys=self.audit_keys)

    def audit_keys(self, session) -> tuple[bytes, bytes]:
        """The access log's checkpoint-signing and MAC keys: platform service secrets, wrapped by the
        KEK and created on first use (``session``: the log's own unit of work)."""
        return (self.vault.service_secret(session, purpose="audit-signing"),
                self.vault.service_secret(session, purpose="audit-mac"))

    @cached_property
    def witnessing(self) -> Witnessing:
        from postguard.audit.witnessing import Witnessing

        return Witnessing(db=self.db, log=self.audit, witnesses=self.settings.audit_witnesses,
                          timeout=self.settings.audit_witness_timeout_seconds)

    @cached_property
    def access(self) -> AccessService:
        from postguard.access.service import AccessService

        return AccessService(db=self.db, audit=self.audit, orgs=self.orgs, door=self.door, calls=self.calls)

    @cached_property
    def staff(self) -> StaffService:
        from postguard.access.staff import StaffService

        return StaffService(db=self.db, settings=self.settings, audit=self.audit, orgs=self.orgs)

    @cached_property
    def duties(self) -> Duties:
        """Staff duties: the confidentiality policy's versions and acknowledgements; the door asks it."""
        from postguard.access.duties import Duties

        return Duties(db=self.db, audit=self.audit, orgs=self.orgs)

    @cached_property
    def events(self) -> EventBus:
        """The in-process event bus, with its subscribers: a reveal (``Revealed``, published by the door
        after logging and before decrypting) raises the break-glass alert, then any canary alert; so
        does a phone search that shows a canary (``Matched``). A committed decision on a domain or link
        (``IndicatorDecided``) is published in, or withdrawn from, the blocklist."""
        from postguard.events import EventBus, IndicatorDecided, Matched, Revealed

        bus = EventBus()
        bus.subscribe(Revealed, lambda event: self.access_alerts.on_revealed(event))
        bus.subscribe(Revealed, lambda event: self.canaries.on_revealed(event))
        bus.subscribe(Matched, lambda event: self.canaries.on_matched(event))
        bus.subscribe(IndicatorDecided, lambda event: self.blocklist.on_decided(event))
        return bus

    @cached_property
    def door(self) -> Door:
        """The one door to protected data: the only holder of the vault's opener."""
        from postguard.access.door import Door
        from postguard.vault.service import VaultOpener

        return Door(log=self.audit, opener=VaultOpener(self.vault), bus=self.events, duties=self.duties.check)

    @cached_property
    def labels(self) -> LabelService:
        from postguard.shipments.labels import LabelService

        return LabelService(db=self.db, settings=self.settings, orgs=self.orgs, shipments=self.shipments)

    @cached_property
    def notifier(self) -> Notifier:
        from postguard.notify import build_notifier

        return build_notifier(self.settings.notifier)

    @cached_property
    def otp(self) -> OtpService:
        from postguard.otp import OtpService

        return OtpService(db=self.db, vault=self.vault, limiter=self.limiter, notifier=self.notifier)

    def intel_feed(self) -> list[SharedIndicator]:
        """Every scam indicator this platform shares (``SharedIndicator``), from the intelligence
        store: reported and above (delisted ones marked), never unknown or official."""
        return self.intel.shared_feed()

    def intel_lookup(self, type_: str, value: str) -> SharedIndicator | None:
        """The shared view of one normalised value, graded now, or None when nothing flags it."""
        return self.intel.shared_lookup(type_, value)

    @cached_property
    def lookups(self) -> PrivateLookups:
        from postguard.intel.lookups import PrivateLookups

        return PrivateLookups(db=self.db, settings=self.settings, vault=self.vault, limiter=self.limiter,
                              store=lambda: self.intel.store)

    @cached_property
    def sharing(self) -> IntelFeed:
        from postguard.intel.feed import IntelFeed

        return IntelFeed(settings=self.settings, audit=self.audit, orgs=self.orgs, shared=self.intel.shared)

    @cached_property
    def warnings(self) -> WarningService:
        from postguard.alerts.service import WarningService

        return WarningService(db=self.db, settings=self.settings, audit=self.audit, webhooks=self.webhooks)

    @cached_property
    def webhooks(self) -> WebhookService:
        from postguard.alerts.webhooks import WebhookService

        return WebhookService(db=self.db, settings=self.settings, audit=self.audit, vault=self.vault)

    @cached_property
    def screening(self) -> ScreeningService:
        from postguard.screening.service import ScreeningService

        return ScreeningService(settings=self.settings, lookup=self.intel_lookup,
                                cod_owner=lambda type_, value: self.senders.registered_cod(type_, value))

    @cached_property
    def senders(self) -> Senders:
        """Operators' message templates, the digests of the notifications they sent, "did my operator
        really send this?" and the COD rule (through the door, purpose ``payment_check``)."""
        from postguard.senders.service import Senders

        return Senders(db=self.db, vault=self.vault, audit=self.audit, orgs=self.orgs, door=self.door,
                       store=self.intel.store, grader=self.intel.grader, proofs=self.otp)

    @cached_property
    def messages(self) -> MessageService:
        """The message check: a pasted message or QR code read as a whole (nothing of it is kept)."""
        from postguard.messages.service import MessageService

        return MessageService(checks=self.intel.checks, brands=self.intel.brands.brands,
                              match=self.intel.brands.match,
                              templates=lambda text, *, phone=None, sender=None: self.senders.match_message(
                                  text, phone=phone, sender=sender),
                              cod=lambda type_, value: self.senders.registered_cod(type_, value))

    @cached_property
    def message_feedback(self) -> MessageFeedback:
        """Verdicts of the message check marked wrong (with consent): the reviewers' queue (through the
        door, purposes ``message_feedback_review`` and ``message_feedback_export``) and the next training set."""
        from postguard.messages.feedback import MessageFeedback

        return MessageFeedback(db=self.db, settings=self.settings, vault=self.vault, audit=self.audit, orgs=self.orgs,
                               door=self.door, limiter=self.limiter, messages=self.messages)

    @cached_property
    def access_alerts(self) -> AlertService:
        """Auditors' alerts (break-glass, canaries, anomalies); scam warnings are ``warnings``."""
        from postguard.leaks.alerts import AlertService

        return AlertService(db=self.db, audit=self.audit, orgs=self.orgs)

    @cached_property
    def canaries(self) -> CanaryService:
        from postguard.leaks.canaries import CanaryService

        return CanaryService(db=self.db, vault=self.vault, audit=self.audit, orgs=self.orgs, door=self.door,
                             shipments=self.shipments, access_alerts=self.access_alerts)

    @cached_property
    def leaks(self) -> LeakService:
        from postguard.leaks.service import LeakService

        return LeakService(db=self.db, settings=self.settings, audit=self.audit, orgs=self.orgs,
                           access_alerts=self.access_alerts)

    @cached_property
    def intel(self) -> IntelService:
        from postguard.intel.service import IntelService

        return IntelService(db=self.db, settings=self.settings, vault=self.vault, audit=self.audit, orgs=self.orgs,
                            door=self.door, limiter=self.limiter, lookups=self.lookups, bus=self.events)

    @cached_property
    def blocklist(self) -> Blocklist:
        """The signed blocklist of confirmed domains and links (RPZ, hosts, JSON), signed with the
        platform's service secret ``blocklist-signing``."""
        from postguard.blocklist.service import KEY_PURPOSE, Blocklist

        return Blocklist(db=self.db, settings=self.settings, limiter=self.limiter, store=self.intel.store,
                         signing_seed=lambda session: self.vault.service_secret(session, purpose=KEY_PURPOSE))

    @cached_property
    def privacy(self) -> PrivacyService:
        from postguard.privacy.service import PrivacyService

        return PrivacyService(db=self.db, vault=self.vault, audit=self.audit, witnessing=self.witnessing,
                              orgs=self.orgs, door=self.door, limiter=self.limiter, shipments=self.shipments,
                              otp=self.otp, notifier=self.notifier, facts=self.system_facts)

    def system_facts(self) -> SystemFacts:
        """What the dossiers state about this installation: every sealed column and keyed digest the
        models declare, and the settings that protect them."""
        from postguard.privacy.dossiers import SystemFacts

        cols = [(t.name, c.name) for t in metadata.sorted_tables for c in t.columns]
        st = self.settings
        return SystemFacts(
            protected=tuple((t, c.removesuffix("_ct")) for t, c in cols if c.endswith("_ct")),
            pseudonymised=tuple((t, c) for t, c in cols if c.endswith(("_bidx", "_digest")) and c != "challenge_digest"),
            dialect=self.db.dialect, mode=st.mode, retention_days=st.retention_days,
            blind_index_bits=st.blind_index_bits, witnesses=len(st.audit_witnesses),
            replicas=len(st.database_replica_urls), key_provider=f"tệp khoá cục bộ ({Path(str(st.key_file)).name})",
            metrics=bool(st.metrics_token), trusted_proxies=len(st.trusted_proxies),
            feedback_retention_days=st.message_feedback_retention_days)

    @cached_property
    def takedowns(self) -> TakedownService:
        """Takedown requests for confirmed scam sites, with what the lookalike scanner recorded about
        each (``HitFacts``). The sender is chosen by ``POSTGUARD_TAKEDOWN_SENDER`` (the local outbox by
        default)."""
        from postguard.takedown.facts import HitFacts
        from postguard.takedown.senders import build_sender
        from postguard.takedown.service import TakedownService

        return TakedownService(db=self.db, settings=self.settings, audit=self.audit, orgs=self.orgs, door=self.door,
                               store=self.intel.store, grader=self.intel.grader,
                               facts=HitFacts(official_of=self.intel.brands.official_of),
                               sender=build_sender(self.settings))

    @cached_property
    def callerid_keys(self) -> CallerIdKeys:
        """Loads its secrets when built, in a write transaction of its own: services that use it are
        handed a way to reach it (``lambda: self.callerid_keys``), not the keys themselves."""
        from postguard.callerid.keys import CallerIdKeys

        return CallerIdKeys(db=self.db, vault=self.vault)

    @cached_property
    def couriers(self) -> CourierRegistry:
        from postguard.callerid.registry import CourierRegistry

        return CourierRegistry(db=self.db, vault=self.vault, audit=self.audit, orgs=self.orgs, door=self.door,
                               otp=self.otp, keys=lambda: self.callerid_keys)

    @cached_property
    def callcheck(self) -> CallCheck:
        """The citizen's call check; a call's transcript is read by the message check's rules, payees
        against the operators' registered COD accounts (``senders``, reached on first use)."""
        from postguard.callerid.check import CallCheck
        from postguard.messages.transcript import read_transcript

        return CallCheck(db=self.db, settings=self.settings, vault=self.vault, audit=self.audit, door=self.door,
                         limiter=self.limiter, otp=self.otp, intel=self.intel.intake,
                         registry_signal=self.registry_signal, keys=lambda: self.callerid_keys,
                         scams=self.intel.checks,
                         transcripts=lambda text: read_transcript(text, brands=self.intel.brands.brands()),
                         cod=lambda: self.senders)

    @cached_property
    def calls(self) -> CallService:
        from postguard.callerid.calls import CallService

        return CallService(db=self.db, settings=self.settings, vault=self.vault, audit=self.audit, orgs=self.orgs,
                           door=self.door, couriers=self.couriers, keys=lambda: self.callerid_keys)

    def close(self) -> None:
        if "callcheck" in self.__dict__:
            self.callcheck.close()
        if "intel" in self.__dict__:
            self.intel.flush_lookups()
        if "witnessing" in self.__dict__:
            self.witnessing.close()
        self.registry_signal.close()
        self.db.dispose()
