"""Settings, read from the environment (prefix ``POSTGUARD_``) and injected into every factory.

Nothing here is built at import time: ``Settings()`` is called by the shells (``create_app``, the
CLI) and by tests, each with their own values. Every field is documented in docs/configuration.md;
a test keeps the two in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


LOCAL_SITE_URL = "http://127.0.0.1:8000"  # where `postguard serve` listens by default


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POSTGUARD_", extra="ignore")

    mode: Literal["development", "production"] = Field(
        "development",
        description="development or production; production refuses development keys and secrets.",
    )
    data_dir: Path = Field(
        Path("./var"), description="Directory for the embedded database, the local key file and logs."
    )
    database_url: str | None = Field(
        None,
        description="Any SQLAlchemy URL (sqlite:///..., postgresql+psycopg://...). "
        "Default: a SQLite file postguard.db under data_dir.",
    )
    database_replica_urls: list[str] = Field(
        default_factory=list,
        description="Read replicas (JSON list of URLs) used for read-only queries; empty means the primary.",
    )
    database_pool_size: int = Field(
        20, ge=1, le=1000,
        description="Connections each worker keeps to the primary database (and to each replica) for requests; "
        "the access-log writer has one of its own besides.",
    )
    key_file: Path | None = Field(
        None,
        description="Local key-encryption key file. Default: kek.json under data_dir, created with mode 0600 "
        "on first start in development mode.",
    )
    nonce_budget: int = Field(
        2**32,
        ge=16,
        le=2**32,
        description="Encryptions allowed under one data-key version before it is rotated "
        "(random 96-bit nonces: at most 2^32).",
    )
    blind_index_bits: int = Field(
        16,
        ge=8,
        le=31,
        description="Bits kept of each phone blind index for a new organisation (see docs/security.md).",
    )
    retention_days: int = Field(
        90, ge=0, description="Days after delivery (or return/cancellation) before personal data is shredded."
    )
    import_batch_size: int = Field(2000, ge=1, le=100_000, description="Rows per atomic import batch.")
    subscriber_min_age: int = Field(
        14, ge=0, le=18, description="Subscribers younger than this at activation, with no guardian recorded, are "
        "flagged for re-verification (docs/security.md, \"Junk SIMs\").")
    subscriber_max_per_id: int = Field(
        10, ge=1, le=1000, description="Mobile subscriptions one individual may hold at the carrier (Decree "
        "163/2024/ND-CP: 10); more on one ID number is flagged.")
    subscriber_contact_days: int = Field(
        5, ge=1, le=90, description="Days to contact the holder of a flagged SIM (the case's first deadline).")
    subscriber_reverify_days: int = Field(
        30, ge=1, le=365, description="Days for a contacted holder to re-verify before the SIM is to be suspended.")
    public_base_url: str | None = Field(
        None, description="The site's public address, in links on labels (QR codes, the call-check address), "
        "feeds and webhooks. Unset: the address each request came on (without a request: http://127.0.0.1:8000)."
    )
    log_format: Literal["console", "json"] = Field(
        "console", description="console (development) or json (production) log lines."
    )
    log_level: str = Field("INFO", description="Minimum log level.")
    rate_limit_storage: str = Field(
        "memory://",
        description="Storage URI for rate limits shared between workers, e.g. redis://127.0.0.1:6379/0.",
    )
    max_upload_bytes: int = Field(
        512 * 1024 * 1024, ge=1024, description="Largest CSV accepted by the API upload, in bytes."
    )
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024,
        description="Largest request body of every route, in bytes (413 beyond), counted as it arrives; "
                    "the CSV import (max_upload_bytes) and scam reports with evidence have their own allowance.",
    )

    audit_origin: str = Field(
        "postguard.example/access-log",
        pattern=r"^[^\s+]+$",
        description="Origin line and key name of the access log's signed checkpoints (no spaces or '+').",
    )
    audit_witnesses: list[str] = Field(
        default_factory=list,
        description="Witnesses that co-sign the access log's checkpoints (JSON list of '<URL> <witness verifier "
        "key>', e.g. '[\"https://witness.example/ w.example+1a2b3c4d+BA…\"]'). Empty: no witnessing.",
    )
    audit_witness_timeout_seconds: float = Field(
        5.0, gt=0, le=60, description="Time allowed for one witness to answer one checkpoint submission."
    )

    @field_validator("audit_witnesses")
    @classmethod
    def _witnesses(cls, entries: list[str]) -> list[str]:
        from postguard.crypto.notes import parse_witness_entry

        for entry in entries:
            parse_witness_entry(entry)
        return entries

    password_time_cost: int = Field(3, ge=1, le=20, description="argon2id passes for staff passwords.")
    password_memory_kib: int = Field(
        65536, ge=1024, le=4 * 1024 * 1024, description="argon2id memory for staff passwords, in KiB."
    )
    notifier: Literal["console", "memory"] = Field(
        "console",
        description="How one-time codes reach phones: console (printed, development) or memory (kept, tests). "
        "Production deployments plug an SMS gateway into postguard.notify.",
    )
    cookie_secure: bool | None = Field(
        None, description="Send session cookies with the Secure flag. Default: on in production mode."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (JSON list, e.g. [\"10.0.0.5\", \"10.1.0.0/16\"]) of the reverse "
        "proxies whose X-Forwarded-For and X-Forwarded-Proto headers are believed. Empty (the default): "
        "none, so per-address limits count the connecting peer.",
    )
    metrics_token: str | None = Field(
        None,
        min_length=32,
        description="Bearer token (at least 32 characters) a scraper must send to GET /metrics. "
        "Unset (the default): /metrics is not served.",
    )
    metrics_query_seconds: float = Field(
        10.0,
        ge=0,
        le=300,
        description="How long a gauge read from the database for /metrics (queues, the latest checkpoint) is "
        "kept before it is read again, however many scrapers ask; 0 reads it at every scrape.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, proxies: list[str]) -> list[str]:
        import ipaddress

        out = []
        for p in proxies:
            try:
                out.append(str(ipaddress.ip_network(p.strip(), strict=False)))
            except ValueError:
                raise ValueError(f"not an IP address or network: {p!r}") from None
        return out

    x5u_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts (JSON list; '*.example.vn' for any name below example.vn) whose x5u certificate "
        "URLs may be fetched. Empty: fetching is off.",
    )
    x5u_timeout_seconds: float = Field(
        2.0, gt=0, le=30, description="Time allowed for one x5u certificate fetch, connection to last byte."
    )
    x5u_max_bytes: int = Field(
        64 * 1024, ge=1024, le=1024 * 1024, description="Largest x5u certificate chain read, in bytes."
    )
    x5u_cache_seconds: int = Field(
        3600, ge=0, le=7 * 86_400, description="How long a fetched x5u chain is reused (0: never cached)."
    )
    stir_trusted_ca_file: Path | None = Field(
        None,
        description="PEM bundle of the STI certification authorities trusted for fetched x5u chains. "
        "Without it, fetched certificates are never trusted.",
    )

    @field_validator("lookalike_brands_file")
    @classmethod
    def _brands_file_readable(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise ValueError(f"no brands file at {v}")
        return v

    @field_validator("x5u_allowed_hosts")
    @classmethod
    def _x5u_hosts(cls, hosts: list[str]) -> list[str]:
        from postguard.hosts import normalise_host_pattern

        return list(dict.fromkeys(normalise_host_pattern(h) for h in hosts))

    intel_identity_name: str = Field(
        "postguard", min_length=1, max_length=200,
        description="Producer name written into shared STIX bundles (the identity object) and TAXII discovery.",
    )
    taxii_max_page_size: int = Field(
        1000, ge=1, le=10_000, description="Largest `limit` a TAXII client may ask for (objects per page)."
    )
    webhook_max_attempts: int = Field(
        8, ge=1, le=20, description="Delivery attempts of one webhook message before it is marked failed."
    )
    webhook_timeout_seconds: float = Field(
        5.0, gt=0, le=60, description="Time allowed for a subscriber to answer one webhook delivery."
    )
    screen_high_amount_vnd: int = Field(
        10_000_000, ge=1, description="Transfer amount (VND) from which a transfer to a new payee counts as high."
    )
    screen_home_country: str = Field(
        "VN", pattern=r"^[A-Z]{2}$",
        description="ISO country code treated as domestic when screening transfers (payer IP addresses).",
    )

    anomaly_window_hours: int = Field(
        24, ge=1, le=24 * 90, description="Hours of the access log an anomaly scan looks at when no start is given."
    )
    anomaly_ratio: float = Field(
        5.0, ge=1.0, description="A staff member's feature must reach this multiple of the peer-group median "
        "(a median below 1 counts as 1) to raise an anomaly alert."
    )
    anomaly_z: float = Field(
        3.5, ge=0.0, description="…and a robust z-score (median and MAD of the peer group) of at least this."
    )
    anomaly_min_events: int = Field(
        10, ge=1, description="…and at least this many events: a quiet peer group never flags everyone."
    )
    anomaly_min_peers: int = Field(
        3, ge=1, description="Smallest peer group (same role, the member excluded) compared statistically; "
        "smaller groups flag only values of anomaly_ratio × anomaly_min_events or more."
    )
    anomaly_scan_interval_seconds: int = Field(
        3600, ge=0, description="How often the server scans every organisation for access anomalies; 0 turns it off."
    )

    lookalike_brands_file: Path | None = Field(
        None, description="Brands file (brand<TAB>official domain[,official domain…]) whose lookalikes a lookup "
        "answers as such, besides the verified official domains of the registry. Default: the registry alone."
    )
    lookalike_refresh_seconds: float = Field(
        30.0, ge=0, description="How often a server rebuilds its lookalike matcher when verified official domains "
        "changed (0 turns the job off; the matcher is then built once)."
    )
    intel_check_rate: str = Field(
        "30/minute", description="Lookups (check) allowed per client: an API key, or an address for the public."
    )
    intel_report_rate: str = Field("5/hour", description="Scam reports accepted per client.")
    intel_lookup_rate: str = Field(
        "30/hour", description="Private-lookup evaluations (bucket and evaluate requests) per client: each one "
        "tests one guess, so this is what stops enumeration."
    )
    intel_lookup_global_rate: str = Field(
        "20000/hour", description="Private-lookup evaluations for all clients together (many addresses cannot "
        "enumerate faster than this)."
    )
    intel_snapshot_rate: str = Field("10/hour", description="Private-lookup snapshot downloads per client.")
    intel_index_refresh_seconds: float = Field(
        1.0, ge=0, le=300, description="How stale a worker's in-memory index of known indicators may get before "
        "it looks for new ones (lookups of values it knows always read the database)."
    )
    intel_regrade_interval_seconds: int = Field(
        86400, ge=0, description="How often the server grades every reported indicator afresh, so that stored "
        "verdicts (sharing, feeds, the review queue, private lookups) decay without new reports; 0 turns it off. "
        "Lookups always grade afresh."
    )
    intel_appeal_rate: str = Field("3/day", description="Appeals accepted per client.")
    intel_half_life_days: float = Field(
        90.0, gt=0, description="Days after which a reporter's weight on a verdict halves without new reports."
    )
    intel_confirmed_days: float = Field(
        365.0, gt=0, description="Days a confirmation holds without new reports before the verdict decays."
    )
    intel_appeal_days: int = Field(14, ge=1, le=365, description="Days analysts have to decide an appeal.")
    intel_evidence_max_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024, description="Largest evidence file accepted, in bytes."
    )
    intel_evidence_max_files: int = Field(5, ge=0, le=20, description="Evidence files accepted per report.")

    message_feedback_rate: str = Field(
        "10/hour", description="Message-check feedback (a verdict marked wrong) accepted per client: an API key, or "
        "an address for the public."
    )
    message_feedback_retention_days: int = Field(
        90, ge=1, le=3650, description="Days a message sent as feedback is kept after its latest submission; then it "
        "is deleted with its submissions and comments, reviewed or not (export the accepted ones before)."
    )
    message_feedback_purge_interval_seconds: int = Field(
        3600, ge=0, description="How often the server deletes message-check feedback past its retention; 0 turns it "
        "off (`postguard messages feedback purge` does it by hand)."
    )

    lookalike_body_bytes: int = Field(
        16 * 1024 * 1024, ge=64 * 1024, le=256 * 1024 * 1024, description="Largest body of POST /v1/lookalikes "
        "(up to 10,000 hits of the lookalike scanner)."
    )
    blocklist_rate: str = Field(
        "120/hour", description="Blocklist downloads (every format, its signature and the key) per client: an API "
        "key, or an address for the public. A 304 answer counts too."
    )
    blocklist_refresh_seconds: float = Field(
        5.0, ge=0, le=60, description="How long a worker serves its rendered blocklist before it compares the "
        "stored version with it again (one small query); a decision on any worker shows on every worker within "
        "this (and always within a minute)."
    )
    blocklist_reconcile_interval_seconds: int = Field(
        60, ge=0, description="How often the server brings the published blocklist in line with the stored "
        "verdicts (confirmations that lapsed, appeals opened, a decision whose publication failed); 0 turns it off."
    )
    blocklist_rpz_zone: str = Field(
        "rpz.postguard.invalid", max_length=120, pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        description="The name of the response policy zone ($ORIGIN of the RPZ file): the resolver's zone "
        "statement must use the same name."
    )
    blocklist_ttl_seconds: int = Field(300, ge=30, le=86400, description="TTL of the RPZ records ($TTL).")

    callcheck_rate_limit: str = Field(
        "20/minute;200/day",
        description="Citizen call checks allowed per client address (rules separated by ';').",
    )
    callcheck_probe_limit: str = Field(
        "5/hour",
        description="Checks with proof (a confirmed phone) that match no delivery, per client address and per "
        "proven number, before further proof checks are refused.",
    )
    callcheck_code_limit: str = Field(
        "5/day", description="Spoken-code tries per client address and per proven number (recipients only)."
    )
    callcheck_report_limit: str = Field("5/hour", description="Scam reports accepted per client address.")
    masked_call_end_interval_seconds: int = Field(
        60, ge=0, description="How often the server ends masked-call sessions whose window closed or whose delivery "
        "ended (routing refuses them either way; this records when and why they ended); 0 turns it off."
    )
    callerid_cert_base_url: str = Field(
        "https://postguard.example/v1/callerid/certs",
        pattern=r"^https://[^\s]+$",
        description="Public https base of the call-signing certificates; a PASSporT's x5u is "
        "<base>/<ORG>/<version>.pem (served by GET /v1/callerid/certs/<ORG>/<version>.pem).",
    )

    takedown_sender: Literal["outbox", "smtp"] = Field(
        "outbox", description="How takedown requests are sent: outbox (an .eml file per message in "
        "takedown_outbox_dir, sent by hand or by another system) or smtp (the takedown_smtp_* server)."
    )
    takedown_outbox_dir: Path | None = Field(
        None, description="Directory the outbox sender writes .eml files to (mode 0700). Default: "
        "takedown-outbox under data_dir."
    )
    takedown_smtp_host: str | None = Field(
        None, max_length=253, description="SMTP server of the smtp sender (required when takedown_sender is smtp)."
    )
    takedown_smtp_port: int = Field(587, ge=1, le=65535, description="SMTP server port.")
    takedown_smtp_security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="starttls (upgrade the connection; refused if the server does not offer it), tls "
        "(implicit TLS, usually port 465) or none (local relays only)."
    )
    takedown_smtp_user: str | None = Field(None, max_length=320, description="SMTP user name (unset: no login).")
    takedown_smtp_password: SecretStr | None = Field(
        None, description="SMTP password; never logged, printed or stored in the database."
    )
    takedown_smtp_timeout_seconds: float = Field(
        30.0, gt=0, le=300, description="Time allowed for one SMTP conversation, connection to last reply."
    )
    takedown_from: str = Field(
        "takedown@postguard.example", pattern=r"^[^\s@<>\"]+@[^\s@<>\"]+$", max_length=254,
        description="The From address of takedown requests (recipients reply to it)."
    )
    takedown_from_name: str = Field(
        "postguard", min_length=1, max_length=100, description="The name shown with the From address and signing the letters."
    )
    takedown_overdue_days: int = Field(
        5, ge=1, le=365, description="Days a sent takedown request may wait for an answer before it is listed as overdue."
    )
    takedown_pack_max_bytes: int = Field(
        20 * 1024 * 1024, ge=64 * 1024, le=200 * 1024 * 1024,
        description="Largest total of evidence files in one takedown pack, in bytes; the manifest names what was left out."
    )
    takedown_pack_max_files: int = Field(
        20, ge=0, le=200, description="Most evidence files in one takedown pack; the manifest names what was left out."
    )

    @model_validator(mode="after")
    def _takedown_smtp(self) -> "Settings":
        if self.takedown_sender == "smtp" and not self.takedown_smtp_host:
            raise ValueError("takedown_sender smtp needs takedown_smtp_host")
        return self

    @model_validator(mode="after")
    def _defaults(self) -> "Settings":
        if self.database_url is None:
            self.database_url = f"sqlite:///{(self.data_dir / 'postguard.db').as_posix()}"
        if self.key_file is None:
            self.key_file = self.data_dir / "kek.json"
        if self.takedown_outbox_dir is None:
            self.takedown_outbox_dir = self.data_dir / "takedown-outbox"
        if self.cookie_secure is None:
            self.cookie_secure = self.mode == "production"
        if self.mode == "production" and self.log_format != "json":
            self.log_format = "json"
        return self

    def site_url(self, served: str | None = None) -> str:
        """The site's address for links: the configured public address, else ``served`` (the address a
        request came on), else the address ``serve`` listens on by default; no trailing slash."""
        return (self.public_base_url or served or LOCAL_SITE_URL).rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return str(self.database_url).startswith("sqlite")

    @property
    def report_body_bytes(self) -> int:
        """The body allowance of a scam report: every evidence file at its largest, plus the report."""
        return self.intel_evidence_max_bytes * max(1, self.intel_evidence_max_files) + 64 * 1024
