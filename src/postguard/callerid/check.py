"""The citizen check: "is this number a real courier delivering to me, and what may they ask of me?"

Outcomes (``outcome`` in every answer):

- ``not_courier``: the number is neither an active courier's verified number nor an operator's proxy
  number. Warning, advice, official hotlines, and a one-step report.
- ``courier``: a real courier (or masked-calling) number of operator Y, and the citizen has not proved
  control of their own number yet. Whether this courier delivers to them is not said: distinguishing
  the two answers below needs proof, so an anonymous prober learns nothing about who a number's
  parcels go to. A waybill is not proof (it is printed on every label): with a waybill and no proof
  the answer is this one, inviting the proof.
- ``verified``: the citizen proved control of their number with a one-time code, and the courier is
  now assigned a parcel addressed to that number (out for delivery, window open; narrowed to the
  waybill when one is given). Shipment details follow: COD, window, the courier's given name, today's
  spoken code.
- ``courier_no_delivery``: proof given, real courier, but no active delivery to this citizen.

Requests the caller made (``asked``: transfer, fee, otp, app, link; ``amount_vnd``) are flagged in
every answer: a genuine courier never asks for any of them, and an amount other than the recorded
COD is flagged once the parcel is known.

A number that is not a courier's is flagged when it is foreign (``foreign_number``) and when it is a
VoIP, personal or (foreign) universal-access number (``voip_number``, ``postguard.phones.virtual_kind``):
a danger when the caller claimed to be a courier or a bank (``claims``, the ``operator`` they named, or
the transcript), a warning otherwise. An optional ``transcript`` of the call (at most
``MAX_TRANSCRIPT_BYTES``) is read by the message check's rules (``Transcripts``, handed in by the
wiring): what it asks for joins ``asked``, its other red flags are ``said_*`` flags, and the accounts
and wallets it asks to be paid into join the ``payee`` given. The COD rule (``CodAccounts``): a payee
that is no operator's registered COD account is ``unregistered_payee``, a danger when the proven number
has a parcel in delivery; a registered one is said (``registered_cod_account``). Nothing of the
transcript or the payee is kept or logged. ``verdict`` sums the answer up: ``danger`` (a danger flag),
``warning`` (a warning flag, or not a courier delivering to the citizen), ``ok`` (a proven delivery
with no flag) or ``unverified`` (a courier's number, no proof).

The anonymous path costs one indexed query by keyed phone digest (no argon2, no decryption, keys
cached). Checks are rate limited per client; checks with proof that match nothing are limited harder
per client and per proven number (repeated probing is refused with a clear message).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple, Protocol

import orjson
from sqlalchemy import and_, select

from postguard.access.models import Assignment, Staff
from postguard.amounts import amount_field
from postguard.callerid.claims import claim_of, parse_claims, parse_operator
from postguard.callerid.codes import VN, code_matches, spoken_code, vn_today
from postguard.callerid.directory import MISSING, Directory, Signal
from postguard.callerid.keys import phone_field
from postguard.callerid.models import CallIntent, CourierPhone, MaskedCall, ProxyNumber, ScamReport
from postguard.callerid.ports import Payee, TranscriptReading
from postguard.db.base import utcnow
from postguard.db.engine import placeholder
from postguard.errors import FieldError, InvalidInput, RateLimited, Unauthenticated
from postguard.intel.normalize import detect
from postguard.metrics import Meter
from postguard.orgs.models import Organisation
from postguard.orgs.service import OrgService
from postguard.phones import InvalidPhone, caller_field, national_format, org_number, org_number_field, virtual_kind
from postguard.principals import ProvenCitizen
from postguard.shipments.models import Shipment

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.callerid.keys import CallerIdKeys
    from postguard.callerid.ports import CodAccounts, PhoneCodes, Transcripts
    from postguard.db import Database
    from postguard.intel.reports import ReportIntake
    from postguard.ratelimit import RateLimiter
    from postguard.settings import Settings
    from postguard.vault.service import Vault
from postguard.shipments.validation import case_forms, waybill_field, without_format_chars
from postguard.vault.masking import mask_phone

ASKED = ("transfer", "fee", "otp", "app", "link")
NEVER_ASKS = ("transfer", "otp", "app", "fee")  # personal-account transfers, OTPs, app installs, storage fees
INTENT_RECENT = timedelta(minutes=30)
# A call the operator's app started to this person this recently vouches for the caller; without one,
# from an operator whose app records its calls, the number may be spoofed.
APP_CALL_RECENT = timedelta(minutes=15)
APP_CALLS_IN_USE = timedelta(days=7)  # an operator whose app recorded a call this recently records them
KEPT_BODY_BYTES = 256  # request bodies longer than this are answered, never kept as keys (see CallCheck.quick)
MAX_TRANSCRIPT_BYTES = 4096  # a transcript of the call, in UTF-8
MAX_PAYEE = 100
_NUMBERISH = re.compile(r"\(?\+?[\d\s.\-()]+")  # a number written as people write them, not a code
MAX_PAYEES = 3  # accounts and wallets checked against the COD registry, the given one first
SAID_DANGER_AT = 0.5  # a red flag of the transcript this strong on its own is a danger, a weaker one a warning
PROBE_MESSAGE = ("Too many checks that matched nothing from here. Wait and try later, or call the operator's "
                 "official hotline.")

# One indexed lookup: the number as a verified courier phone (by keyed digest) or as a proxy number.
# Run as a driver statement on a pooled connection of the primary (replicas may lag, and a suspension
# must count at the next check).
_LOOKUP_SQL = (
    "SELECT 'courier', cp.org_id, st.id, st.status, st.display_name, o.code, o.name, o.hotline "
    "FROM courier_phones cp JOIN staff st ON st.id = cp.staff_id JOIN organisations o ON o.id = cp.org_id "
    "WHERE cp.phone_digest = {p} AND cp.status = 'verified' "
    "UNION ALL "
    "SELECT 'proxy', px.org_id, px.id, px.status, NULL, o.code, o.name, o.hotline "
    "FROM proxy_numbers px JOIN organisations o ON o.id = px.org_id WHERE px.number = {p}"
)


class Caller(NamedTuple):
    kind: str
    org_id: int
    ref: int
    status: str
    display_name: str | None
    code: str
    name: str
    hotline: str | None


@dataclass(frozen=True)
class CheckInput:
    caller: str
    phone: str | None = None
    waybill: str | None = None
    amount_vnd: int | None = None
    asked: tuple[str, ...] = ()


def assess_requests(asked: Sequence[str], amount_vnd: int | None,
                    cod_amount_vnd: int | None) -> list[dict[str, str | int]]:
    """Flags for what the caller asked (pure). ``cod_amount_vnd`` is None while the parcel is unknown."""
    flags: list[dict[str, str | int]] = [{"code": a, "severity": "danger"} for a in ASKED if a in asked]
    if amount_vnd is not None and amount_vnd > 0:
        if cod_amount_vnd is None:
            flags.append({"code": "amount_unverified", "severity": "warning"})
        elif amount_vnd != cod_amount_vnd:
            flags.append({"code": "amount_differs", "severity": "danger", "cod_amount_vnd": cod_amount_vnd})
    return flags


def parse_asked(values) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [v for v in values.replace(";", ",").split(",") if v.strip()]
    out = []
    for v in values:
        v = str(v).strip().lower()
        if v not in ASKED:
            raise InvalidInput("Unknown request kind.", [FieldError("asked", f"each one of {', '.join(ASKED)}")])
        if v not in out:
            out.append(v)
    return tuple(out)


def parse_amount(value) -> int | None:
    """The amount the caller asked for, as people write it (``postguard.amounts``); 0 is no amount."""
    return amount_field(value, "amount_vnd", minimum=0)


CALLED_AT_PAST = timedelta(days=1)  # a call checked at most a day after it came
CALLED_AT_SKEW = timedelta(minutes=5)  # a phone's clock ahead of ours by at most this


def parse_called_at(value, *, now: datetime) -> datetime | None:
    """When the call came, as an aware UTC datetime: ISO 8601 with an offset, or without one read as
    Viet Nam time; None when absent. ``InvalidInput`` naming ``called_at`` for anything else, a time
    more than ``CALLED_AT_SKEW`` ahead of ``now`` or more than ``CALLED_AT_PAST`` before it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidInput("The call's time could not be read.",
                           [FieldError("called_at", "must be an ISO 8601 date and time", code="invalid")])
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("The call's time could not be read.", [FieldError(
            "called_at", "must be an ISO 8601 date and time, e.g. 2026-12-07T10:42:00+07:00", code="invalid")]) from None
    at = (at if at.tzinfo is not None else at.replace(tzinfo=VN)).astimezone(now.tzinfo)
    if at > now + CALLED_AT_SKEW:
        raise InvalidInput("The call's time is in the future.",
                           [FieldError("called_at", "is later than now", code="in_future")])
    if at < now - CALLED_AT_PAST:
        raise InvalidInput("The call is too old to check.", [FieldError(
            "called_at", "is more than a day ago: what an operator recorded then is no longer compared",
            code="too_old")])
    return at


def parse_transcript(value) -> str | None:
    """The transcript in NFC, or None when absent or blank; ``InvalidInput`` naming ``transcript`` when
    it is not text, not valid Unicode or longer than ``MAX_TRANSCRIPT_BYTES`` in UTF-8 (never echoed)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("The transcript could not be read.",
                           [FieldError("transcript", "must be text", code="string_type")])
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidInput("The transcript could not be read.",
                           [FieldError("transcript", "is not valid Unicode text", code="invalid_encoding")]) from None
    if size > MAX_TRANSCRIPT_BYTES:
        raise InvalidInput("The transcript is too long.", [
            FieldError("transcript", f"at most {MAX_TRANSCRIPT_BYTES} bytes of UTF-8", code="too_long")])
    text = unicodedata.normalize("NFC", value)
    return text if text.strip() else None


def parse_payee(value) -> Payee | None:
    """The account or e-wallet the caller asked to be paid into (``MB 0123456789``, ``MoMo 0912345678``),
    or None; ``InvalidInput`` naming ``payee`` for anything else (never echoed)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    wanted = FieldError("payee", "a bank account (MB 0123456789) or an e-wallet (MoMo 0912345678)")
    if not isinstance(value, str) or len(value) > MAX_PAYEE:
        raise InvalidInput("The account is not valid.", [wanted])
    try:
        n = detect(value)
    except InvalidInput:
        n = None
    if n is None or n.type not in ("bank_account", "ewallet"):
        raise InvalidInput("The account is not valid.", [wanted])
    return Payee(n.type, n.value, n.display)


def verdict_of(answer: dict) -> str:
    """The answer summed up: ``danger``, ``warning``, ``ok`` or ``unverified`` (see the module)."""
    severities = {f["severity"] for f in answer.get("flags", ())}
    if "danger" in severities:
        return "danger"
    if "warning" in severities or answer["outcome"] in ("not_courier", "courier_no_delivery"):
        return "warning"
    return "ok" if answer["outcome"] == "verified" else "unverified"


def parse_waybill(value) -> str | None:
    """The waybill as typed (any letter case, spaces dropped: ``shipments.validation.typed_waybill``),
    None when not given; looked up in every letter case (``case_forms``)."""
    if value is None or not str(value).strip():
        return None
    return waybill_field(str(value))


def caller_suffix(e164: str) -> str:
    """How the access log names a checked call: the caller's last three digits (``…678``)."""
    return "…" + e164[-3:]


def given_name(display_name: str | None) -> str | None:
    """A Vietnamese given name is the last word of the full name."""
    words = without_format_chars(display_name).split() if display_name else []
    return words[-1] if words else None


class ScamNumbers(Protocol):
    """What the call check asks the scam database about a caller's number (``CheckService``)."""

    def phone_may_be_known(self, e164: str) -> bool: ...

    def phone_standing(self, e164: str) -> dict | None: ...


class CallCheck:
    def __init__(self, *, db: Database, settings: Settings, vault: Vault, audit: AuditLog, door: Door,
                 limiter: RateLimiter, otp: PhoneCodes, intel: ReportIntake, registry_signal: Signal,
                 keys: Callable[[], CallerIdKeys], scams: ScamNumbers | None = None,
                 transcripts: Transcripts | None = None, cod: Callable[[], CodAccounts] | None = None,
                 meter: Meter | None = None) -> None:
        """``intel``: where scam calls citizens report go; ``registry_signal``: news of courier-registry
        changes made anywhere; ``keys``: the caller-ID secrets, loaded on first use (in a write
        transaction of their own); ``scams``: what the scam database says of a number (its count
        and grade are shown with the answer); ``transcripts``: reads a call's transcript (without it a
        transcript is accepted and not read); ``cod``: the operators' registered COD accounts, reached
        on first use (without it no payee is checked); ``meter``: counts checks by verdict
        (``postguard_callerid_checks_total``)."""
        self._checked = (meter or Meter()).counter(
            "postguard_callerid_checks", "Call checks (/v1/callcheck, the call-check page) by verdict", ("verdict",)).inc
        self.scams = scams
        self.transcripts = transcripts
        self._cod = cod
        self.db = db
        self.settings = settings
        self.vault = vault
        self.audit = audit
        self.door = door
        self.limiter = limiter
        self.otp = otp
        self.intel = intel
        self._keys = keys
        self._hotlines: tuple[float, int | None, tuple[list[dict], list[dict]]] = (0.0, None, ([], []))
        self._sql = _LOOKUP_SQL.format(p=placeholder(db.engine.dialect))
        self._local = threading.local()
        self._conns: list = []
        self._conns_lock = threading.Lock()
        self.directory = Directory(registry_signal)
        # The rate limiter in this process: the anonymous check may run on the event loop, always on
        # SQLite (a read of ~10 µs), and on PostgreSQL when the directory already holds the answer.
        self.in_process = limiter.in_process
        self.embedded = db.dialect == "sqlite"
        self._rules = [r.strip() for r in settings.callcheck_rate_limit.split(";") if r.strip()]

    @property
    def keys(self) -> CallerIdKeys:
        return self._keys()

    def close(self) -> None:
        """Close the per-thread lookup connections (``Platform.close``)."""
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for c in conns:
            with contextlib.suppress(Exception):  # shutting down; another thread may be mid-query
                c.close()
        self._local = threading.local()

    # -- limits ----------------------------------------------------------------------------------
    def _limit(self, client: str) -> None:
        for rule in self._rules:
            self.limiter.hit(rule, "callcheck", client,
                               message="Too many checks from here; wait a little and try again.")

    def _probing(self, client: str, proven: str, *, count: bool) -> None:
        """Checks with proof that matched nothing, counted per client and per proven number: refused
        once over the limit."""
        rule = self.settings.callcheck_probe_limit
        keys = (("callcheck-miss", client), ("callcheck-miss-phone", self.keys.phone_digest(proven).hex()))
        if not count:
            for key in keys:
                if not self.limiter.test(rule, *key):
                    raise RateLimited(PROBE_MESSAGE)
            return
        for key in keys:
            self.limiter.hit(rule, *key, message=PROBE_MESSAGE)

    def hotlines(self) -> list[dict]:
        """Every operator's official hotline (public)."""
        return self._view()[0]

    def hotline_owner(self, text: str | None) -> dict | None:
        """The operator (``code``, ``name``, ``hotline``) whose official hotline ``text`` is, in any
        written form (``1900 54 54 81``, ``1900.545.481``, ``+84 1900 545481``), or None."""
        try:
            e164 = org_number(text) if text else None
        except InvalidPhone:
            return None
        for op in self.hotlines() if e164 else ():
            try:
                if org_number(op["hotline"]) == e164:
                    return op
            except InvalidPhone:  # a hotline stored before hotlines were checked
                continue
        return None

    def participants(self) -> list[dict]:
        """The operators taking part in the check: those with a verified courier number or an active
        masked-calling number (public), by name. A number that is none of theirs is "not of these N
        operators", never "of no operator": the others are simply not asked."""
        return self._view()[1]

    def _view(self) -> tuple[list[dict], list[dict]]:
        """The hotlines and the participants, kept for at most a minute, and while the registry does
        not change (both are part of it) when that can be known."""
        at, version, cached = self._hotlines
        now = time.monotonic()
        current = self.directory.signal.current()
        if now - at < 60 and (current is None or current == version):
            return cached
        with self.db.read_session() as s:
            rows = s.execute(select(Organisation.code, Organisation.name, Organisation.hotline)
                             .where(Organisation.hotline.is_not(None)).order_by(Organisation.name)).all()
            taking_part = set(s.execute(select(CourierPhone.org_id).where(CourierPhone.status == "verified")
                                        .distinct()).scalars())
            taking_part |= set(s.execute(select(ProxyNumber.org_id).where(ProxyNumber.status == "active")
                                         .distinct()).scalars())
            orgs = s.execute(select(Organisation.code, Organisation.name).where(Organisation.id.in_(taking_part))
                             .order_by(Organisation.name)).all() if taking_part else []
        out = ([{"code": c, "name": n, "hotline": h} for c, n, h in rows], [{"code": c, "name": n} for c, n in orgs])
        self._hotlines = (now, current, out)
        return out

    # -- the check -------------------------------------------------------------------------------
    def lookup(self, e164: str) -> Caller | None:
        """The caller's registry row or None: from this worker's directory, else one indexed query by
        keyed digest (and proxy number)."""
        digest = self.keys.phone_digest(e164)
        return self.directory.get(digest, lambda: self._query(digest, e164))

    def _query(self, digest: bytes, e164: str) -> Caller | None:
        params = (digest, e164)
        if self.db.dialect == "sqlite":
            # One connection per thread, kept: SQLite opens no transaction for a SELECT, so each
            # lookup reads the latest committed state (a suspension counts at the next check).
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = self.db.engine.raw_connection()
                conn.detach()  # this thread's own, outside the pool; closed by close()
                with self._conns_lock:
                    self._conns.append(conn)
            cur = conn.cursor()
            try:
                cur.execute(self._sql, params)
                rows = cur.fetchall()
            finally:
                cur.close()
        else:
            conn = self.db.engine.raw_connection()
            try:
                cur = conn.cursor()
                cur.execute(self._sql, params)
                rows = cur.fetchall()
                cur.close()
            finally:
                conn.close()
        return Caller(*rows[0]) if rows else None

    def quick_kept(self, body: bytes, client: str) -> bytes | None:
        """The answer JSON ``quick`` kept for exactly this request ``body``, counted against the
        client's limit like any check; None when none is kept (then parse the body and call
        ``quick``). Dropped with the rest of the directory whenever the registry changes."""
        if len(body) > KEPT_BODY_BYTES:  # never kept: not worth hashing
            return None
        kept = self.directory.derived()
        entry = None if kept is None else kept.get(body)
        if entry is None:
            return None
        self._limit(client)
        self._checked(entry[1])
        return entry[0]

    def quick(self, *, caller: str, asked=None, amount_vnd=None, client: str,
              body: bytes | None = None) -> bytes | None:
        """The anonymous check (no proof, waybill or own number) answered from this worker's memory,
        as the answer's JSON; None when it needs the database (nothing counted: call ``check``).

        The answer depends only on the registry row, what was asked and the amount, so its JSON is
        kept per (digest, asked, amount) while the registry does not change; and per request
        ``body`` when the caller passes the body these arguments were read from (``quick_kept``) and
        it is at most ``KEPT_BODY_BYTES`` long (whitespace can pad a valid body: the cap bounds memory)."""
        e164 = caller_field(caller, "caller")
        asked_ = parse_asked(asked)
        amount = parse_amount(amount_vnd)
        kept = self.directory.derived()
        if kept is None or (self.scams is not None and self.scams.phone_may_be_known(e164)):
            return None  # a number the scam database may know is answered with its standing, by ``check``
        digest = self.keys.phone_digest(e164)
        key = (digest, asked_, amount)
        entry = kept.get(key)  # (the answer's JSON, its verdict)
        if entry is None:
            row = self.directory.peek(digest)
            if row is MISSING:
                return None
            answer = self._anonymous(row, asked_, amount, e164)
            entry = (orjson.dumps(answer), answer["verdict"])
            self.directory.keep(kept, key, entry)
        if body is not None and len(body) <= KEPT_BODY_BYTES:
            self.directory.keep(kept, body, entry)
        self._limit(client)
        self._checked(entry[1])
        return entry[0]

    def check(self, *, caller: str, phone: str | None = None, proof: str | None = None, waybill: str | None = None,
              amount_vnd=None, asked=None, claims=None, operator=None, payee=None, transcript=None,
              called_at=None, client: str) -> dict:
        """The answer for a call from ``caller`` to the citizen (``phone``, proven by ``proof``); what
        the caller asked (``asked``, ``amount_vnd``), claimed to be (``claims``: courier or bank;
        ``operator``: the operator, courier, bank or wallet they named) and asked to be paid into
        (``payee``), and what they said (``transcript``); ``called_at``: when the call came (default
        now), the moment the operator's app records are compared with: see the module."""
        e164 = caller_field(caller, "caller")
        citizen = phone_field(phone, "phone", required=False)
        waybill = parse_waybill(waybill)
        amount = parse_amount(amount_vnd)
        asked_ = parse_asked(asked)
        claimed = parse_claims(claims)
        named = parse_operator(operator)
        given = parse_payee(payee)
        text = parse_transcript(transcript)
        at = parse_called_at(called_at, now=utcnow())
        self._limit(client)
        heard = self.transcripts(text) if text is not None and self.transcripts is not None else None
        if heard is not None:
            asked_ = tuple(a for a in ASKED if a in asked_ or a in heard.asked)
            if amount is None and heard.amount_vnd is not None and 0 < heard.amount_vnd <= 10**12:
                amount = heard.amount_vnd
        claims_ = self._claims(claimed, named, heard)
        payees = list({(x.type, x.value): x for x in (given, *(heard.payees if heard else ())) if x}.values())
        proven = None
        if proof:
            proven = self.otp.open_proof(proof, purpose="parcel")
            if citizen is not None and citizen != proven:
                raise Unauthenticated("The proof is for another phone number; confirm this number first.")
        # A waybill is printed on every label: it narrows a proven check, it proves nothing alone.
        if proven is not None:
            self._probing(client, proven, count=False)
        row = self.lookup(e164)
        if proven is None or row is None or row.status != "active":
            answer = self._anonymous(row, asked_, amount, e164, claims_)
        else:
            base = {"operator": {"code": row.code, "name": row.name, "hotline": row.hotline},
                    "via": "proxy" if row.kind == "proxy" else "direct"}
            with self.db.read_session() as s:
                found = self._delivery(s, row, caller=e164, citizen_e164=proven, waybill=waybill)
            answer = self._bound(row, base, found, caller=e164, proven=proven, asked=asked_, amount=amount,
                                 client=client, at=at)
        return self._finish(answer, e164, heard=heard, claims=claims_, payees=payees[:MAX_PAYEES], proven=proven)

    def _claims(self, claimed: str | None, named: str | None, heard: TranscriptReading | None) -> tuple[str, ...]:
        """Who the caller claimed to be (courier, bank), by the citizen's word, the name they gave and the
        transcript."""
        said = {claimed} if claimed else set()
        claim = claim_of(named, [*self.participants(), *self.hotlines()]) if named is not None else None
        if claim is None and self.hotline_owner(named) is not None:  # the operator's hotline, as a number
            claim = "courier"
        if claim is not None:
            said.add(claim)
        if heard is not None:
            said.update(heard.claims)
        return tuple(c for c in ("courier", "bank") if c in said)

    def _finish(self, answer: dict, e164: str, *, heard: TranscriptReading | None, claims: tuple[str, ...],
                payees: list[Payee], proven: str | None) -> dict:
        """``answer`` with what the transcript said, the COD rule for the payees, the scam database's
        standing of the number, and the verdict."""
        flags = answer["flags"]
        if claims:
            answer["claims"] = list(claims)
        if heard is not None:
            flags.extend({"code": "said_" + f.code, "severity": "danger" if f.weight >= SAID_DANGER_AT else "warning",
                          "text_vi": f.text_vi, "text_en": f.text_en} for f in heard.flags)
            answer["transcript"] = {"asked": list(heard.asked), "claims": list(heard.claims),
                                    "payees": [x.display for x in heard.payees], "amount_vnd": heard.amount_vnd}
        if payees and self._cod is not None:
            flags.extend(self._payees(self._cod(), payees, proven))
        answer = self._with_standing(answer, e164)
        answer["verdict"] = verdict_of(answer)
        self._checked(answer["verdict"])
        return answer

    @staticmethod
    def _payees(cod: CodAccounts, payees: list[Payee], proven: str | None) -> list[dict]:
        """The COD rule: a payee that is an operator's registered COD account or wallet is said to be; any
        other is ``unregistered_payee``, a danger when the proven number has a parcel in delivery (at any
        operator), else a warning (no parcel in delivery, or no proof to know)."""
        out: list[dict] = []
        parcels: list[str] | None = None
        for x in payees:
            owner = cod.registered_cod(x.type, x.value)
            if owner is not None:
                out.append({"code": "registered_cod_account", "severity": "info", "payee": x.display, "operator": owner,
                            "text_vi": f"{x.display} là tài khoản thu hộ (COD) đã đăng ký của {owner}.",
                            "text_en": f"{x.display} is a COD account {owner} registered."})
                continue
            if proven is not None and parcels is None:
                parcels = list(cod.in_delivery(proven))
            flag: dict = {"code": "unregistered_payee", "payee": x.display,
                          "parcels_in_delivery": len(parcels) if parcels is not None else None}
            if parcels:
                names = list(dict.fromkeys(parcels))
                flag.update(severity="danger", operators=names,
                            text_vi=f"Nguy hiểm: bạn có bưu gửi đang giao ({', '.join(names)}) và người gọi yêu cầu "
                                    f"chuyển tiền vào {x.display}, không phải tài khoản thu hộ (COD) đã đăng ký của hãng "
                                    "nào. Kẻ lừa đảo biết thông tin bưu gửi của bạn: đừng chuyển tiền.",
                            text_en=f"Danger: you have a parcel in delivery ({', '.join(names)}) and the caller asks "
                                    f"for money to {x.display}, which is no operator's registered COD account. "
                                    "Scammers know your parcel: do not transfer.")
            elif parcels is not None:
                flag.update(severity="warning",
                            text_vi=f"Người gọi yêu cầu chuyển tiền vào {x.display}, không phải tài khoản thu hộ (COD) "
                                    "đã đăng ký của hãng nào, và không có bưu gửi nào đang giao đến số của bạn. Đừng "
                                    "chuyển tiền.",
                            text_en=f"The caller asks for money to {x.display}, which is no operator's registered COD "
                                    "account, and no parcel is in delivery to your number. Do not transfer.")
            else:
                flag.update(severity="warning",
                            text_vi=f"Người gọi yêu cầu chuyển tiền vào {x.display}, không phải tài khoản thu hộ (COD) "
                                    "đã đăng ký của hãng nào. Đừng chuyển tiền; trả COD cho shipper khi nhận hàng. Xác "
                                    "nhận số của bạn để biết bạn có bưu gửi đang giao không.",
                            text_en=f"The caller asks for money to {x.display}, which is no operator's registered COD "
                                    "account. Do not transfer; pay COD to the courier on delivery. Confirm your number "
                                    "to learn whether a parcel is in delivery to you.")
            out.append(flag)
        return out

    def _with_standing(self, answer: dict, e164: str) -> dict:
        """``answer`` with what the scam database says of the number (``reported``: verdict, score,
        report count), when it flags it: a danger flag on top of the others."""
        standing = self.scams.phone_standing(e164) if self.scams is not None else None
        if standing is None:
            return answer
        answer["reported"] = standing
        answer["flags"] = [{"code": "reported_number", "severity": "danger", "reports": standing["reports"] or 0,
                            "verdict": standing["verdict"]}, *answer.get("flags", [])]
        return answer

    def _anonymous(self, row: Caller | None, asked, amount, caller: str | None = None,
                   claims: tuple[str, ...] = ()) -> dict:
        """The answer without proof: courier of Y, or not a courier."""
        if row is None or row.status != "active":
            return self._not_courier(asked, amount, caller, claims)
        answer = {"outcome": "courier", "operator": {"code": row.code, "name": row.name, "hotline": row.hotline},
                  "via": "proxy" if row.kind == "proxy" else "direct", "flags": assess_requests(asked, amount, None),
                  "never_asks": list(NEVER_ASKS), "proof_needed": True}
        answer["verdict"] = verdict_of(answer)
        return answer

    def _not_courier(self, asked, amount, caller: str | None = None, claims: tuple[str, ...] = ()) -> dict:
        flags = assess_requests(asked, amount, None)
        if caller is not None:
            kind = virtual_kind(caller)
            if kind is not None:
                # bound to no line or SIM: whoever calls from it can be anywhere, under any name
                flags.insert(0, {"code": "voip_number", "severity": "danger" if claims else "warning", "kind": kind})
            if not caller.startswith("+84"):
                # a foreign number: a Vietnamese courier calls from a Vietnamese number
                flags.insert(0, {"code": "foreign_number", "severity": "danger"})
        answer = {"outcome": "not_courier", "flags": flags,
                  "never_asks": list(NEVER_ASKS), "hotlines": self.hotlines(), "participants": self.participants(),
                  "can_report": True}
        answer["verdict"] = verdict_of(answer)
        return answer

    def _delivery(self, s, row, *, caller: str, citizen_e164: str | None, waybill: str | None):
        """The shipment (and assignment) this courier or proxy number is now delivering to the citizen."""
        now = utcnow()
        live = and_(Assignment.ended_at.is_(None), Assignment.window_start <= now, Assignment.window_end >= now,
                    Shipment.status == "out_for_delivery", Shipment.shredded_at.is_(None))
        if row.kind == "proxy":
            proxied = (select(Shipment, Assignment, MaskedCall)
                       .join(Assignment, Assignment.id == MaskedCall.assignment_id)
                       .join(Shipment, Shipment.id == MaskedCall.shipment_id)
                       .join(Staff, Staff.id == MaskedCall.courier_id)
                       .where(MaskedCall.proxy_id == row.ref, MaskedCall.ended_at.is_(None),
                              MaskedCall.ends_at >= now, Staff.status == "active", live))
            if citizen_e164 is not None:
                proxied = proxied.where(MaskedCall.recipient_digest == self.keys.phone_digest(citizen_e164))
            if waybill is not None:
                proxied = proxied.where(Shipment.waybill.in_(case_forms(waybill)))
            hit = s.execute(proxied.limit(1)).first()
            return (hit[0], hit[1], hit[2].courier_id) if hit else None
        q = (select(Shipment, Assignment).join(Assignment, Assignment.shipment_id == Shipment.id)
             .where(Assignment.courier_id == row.ref, Shipment.org_id == row.org_id, live))
        if waybill is not None:
            q = q.where(Shipment.waybill.in_(case_forms(waybill)))
        if citizen_e164 is not None:
            org = OrgService.by_id(s, row.org_id)
            bidx = self.vault.blind_indexer(s, org_id=org.id, bits=org.blind_index_bits)(citizen_e164)
            q = q.where(Shipment.recipient_phone_bidx == bidx)
        candidates = s.execute(q.order_by(Shipment.id)).all()
        if citizen_e164 is None:
            return (candidates[0][0], candidates[0][1], row.ref) if candidates else None
        mine = self._addressed_to(s, [c[0] for c in candidates], citizen_e164, org_id=row.org_id,
                                  details={"caller": caller_suffix(caller)})
        for sh, a in candidates:
            if sh.id in mine:
                return sh, a, row.ref
        return None

    def _addressed_to(self, s, shipments: list[Shipment], e164: str, *, org_id: int, details: dict) -> set[int]:
        """The ids of ``shipments`` (blind-index candidates) whose recipient phone is ``e164``: the door
        logs (purpose ``call_check``), then opens their recipient phones to compare, server-side."""
        if not shipments:
            return set()
        who = ProvenCitizen(org_id=org_id, digest_hex=self.keys.phone_digest(e164).hex())
        opened = self.door.open_shipments(s, principal=who, shipments=shipments, columns=("recipient_phone",),
                                            purpose="call_check", details=details)
        return {sh.id for sh, values in zip(shipments, opened, strict=True) if values["recipient_phone"] == e164}

    def _bound(self, row, base, found, *, caller, proven, asked, amount, client, at: datetime | None = None) -> dict:
        said = {"proof": "phone_proof", "via": base["via"], "caller": caller_suffix(caller)}
        if found is None:
            self._probing(client, proven, count=True)
            self.audit.append(actor="citizen", action="call_check", org_id=row.org_id, subject=None,
                                details={"outcome": "courier_no_delivery", **said})
            return {"outcome": "courier_no_delivery", **base, "flags": assess_requests(asked, amount, None),
                    "never_asks": list(NEVER_ASKS)}
        sh, a, courier_id = found
        now = at or utcnow()  # the call's moment: the app's records up to it are compared
        with self.db.read_session() as s:
            courier = s.get(Staff, courier_id)
            intent = s.execute(
                select(CallIntent.origid, CallIntent.created_at)
                .where(CallIntent.shipment_id == sh.id, CallIntent.courier_id == courier_id,
                       CallIntent.created_at >= now - INTENT_RECENT, CallIntent.created_at <= now + CALLED_AT_SKEW)
                .order_by(CallIntent.id.desc()).limit(1)
            ).first()
            app_calls = intent is not None or s.execute(
                select(CallIntent.id).where(CallIntent.org_id == row.org_id,
                                            CallIntent.created_at >= now - APP_CALLS_IN_USE).limit(1)).first() is not None
        flags = assess_requests(asked, amount, sh.cod_amount_vnd)
        if app_calls and (intent is None or intent.created_at < now - APP_CALL_RECENT):
            flags.insert(0, {"code": "no_app_call", "severity": "warning"})
        self.audit.append(actor="citizen", action="call_check", org_id=row.org_id, subject=sh.waybill,
                            details={"outcome": "verified", **said, "courier": f"staff:{courier_id}"})
        return {
            "outcome": "verified", **base,
            "shipment": {
                "waybill_suffix": sh.waybill[-4:],
                "cod_amount_vnd": sh.cod_amount_vnd,
                "window": {"start": _local(a.window_start), "end": _local(a.window_end)},
                "courier_given_name": given_name(courier.display_name if courier else None),
                "spoken_code": spoken_code(self.keys.code_key, shipment_id=sh.id, day=vn_today()),
            },
            "intent": {"origid": intent.origid, "at": _local(intent.created_at)} if intent else None,
            "flags": flags,
            "never_asks": list(NEVER_ASKS),
        }

    # -- one-time-code proof of the citizen's number ----------------------------------------------
    def send_code(self, *, phone: str, client: str) -> dict:
        e164 = phone_field(phone, "phone")
        self._limit(client)
        sent = self.otp.send(purpose="parcel", phone=e164, client=client)
        return {"sent": True, "challenge": sent.challenge, "expires_at": sent.expires_at.isoformat()}

    def confirm_code(self, *, phone: str, code: str, challenge: str | None, client: str) -> str:
        """A proof token for the citizen's number (valid 30 minutes), for the code sent with the
        challenge handle ``send_code`` returned."""
        e164 = phone_field(phone, "phone")
        self._limit(client)
        self.otp.verify(purpose="parcel", phone=e164, code=code, challenge=challenge)
        return self.otp.issue_proof(purpose="parcel", phone=e164, ttl=1800)

    # -- spoken codes ----------------------------------------------------------------------------
    def check_spoken_code(self, *, waybill: str, code: str, proof: str | None, operator: str | None = None,
                          client: str) -> dict:
        """Whether ``code`` is today's spoken code of the waybill, for the parcel's recipient only: the
        proof of their number must match the parcel's recipient phone (compared through the door), so
        a stranger holding a label can neither find the code by trying nor use up the recipient's
        tries. At most ``callcheck_code_limit`` tries per client and per proven number."""
        w = parse_waybill(waybill)
        if w is None:
            raise InvalidInput("A waybill is required.", [FieldError("waybill", "required", code="required")])
        if not (isinstance(code, str) and code.strip()):
            raise InvalidInput("A code is required.", [FieldError("code", "required", code="required")])
        self._limit(client)
        proven = self.otp.open_proof(proof, purpose="parcel")
        rule, message = self.settings.callcheck_code_limit, "Too many codes tried today; call the operator's hotline."
        self.limiter.hit(rule, "spoken-code", client, message=message)
        self.limiter.hit(rule, "spoken-code-phone", self.keys.phone_digest(proven).hex(), message=message)
        q = (select(Shipment, Organisation).join(Organisation, Organisation.id == Shipment.org_id)
             .where(Shipment.waybill.in_(case_forms(w)), Shipment.shredded_at.is_(None),
                    Shipment.status.not_in(("delivered", "returned", "cancelled"))))
        if operator:
            q = q.where(Organisation.code == operator.upper())
        today = vn_today()
        valid = False
        with self.db.read_session() as s:
            for sh, org in s.execute(q).all():
                bidx = self.vault.blind_indexer(s, org_id=org.id, bits=org.blind_index_bits)(proven)
                if sh.recipient_phone_bidx != bidx:
                    continue  # not addressed to this number: nothing opened, nothing logged
                if self._addressed_to(s, [sh], proven, org_id=org.id, details={"check": "spoken_code"}):
                    valid = valid or code_matches(self.keys.code_key, shipment_id=sh.id, day=today, code=code)
        return {"valid": valid}

    # -- scam reports ----------------------------------------------------------------------------
    def report(self, *, number: str, asked=None, amount_vnd=None, operator: str | None = None,
               note: str | None = None, client: str) -> dict:
        """Store a one-step report of a caller (for the scam-intelligence feature to consume)."""
        e164 = caller_field(number, "number")
        asked_ = parse_asked(asked)
        amount = parse_amount(amount_vnd)
        note = (note or "").strip() or None
        if note and len(note) > 500:
            raise InvalidInput("The note is too long.", [FieldError("note", "at most 500 characters")])
        claimed_number = None
        if operator and _NUMBERISH.fullmatch(operator.strip()):
            # Not a code: the hotline the caller claimed to call from, in any written form
            try:
                claimed_number = org_number_field(operator, "operator")
            except InvalidInput:
                raise InvalidInput("Unknown operator code.", [FieldError(
                    "operator", "an operator code, or the hotline the caller named (1900 54 54 81)")]) from None
            owner = self.hotline_owner(operator)
            operator = owner["code"] if owner is not None else None
        if operator and (len(operator) > 32 or not operator.replace("-", "").replace("_", "").isalnum()):
            raise InvalidInput("Unknown operator code.", [FieldError(
                "operator", "an operator code, or the hotline the caller named (1900 54 54 81)")])
        self.limiter.hit(self.settings.callcheck_report_limit, "callcheck-report", client,
                           message="Too many reports from here; thank you, try again later.")
        client_digest = self.keys.client_digest(client)
        row = self.lookup(e164)
        verdict = "not_courier" if row is None or row.status != "active" else "courier"
        # Scam intelligence takes the report now: the number is kept there (encrypted, graded with the
        # other reports); this row keeps what the call check saw, with the number masked.
        asked_text = ", ".join(asked_)
        description = " · ".join(x for x in (
            "Báo cáo từ trang kiểm tra cuộc gọi shipper",
            f"yêu cầu: {asked_text}" if asked_text else "",
            f"tự xưng: {operator.upper()}" if operator else "",
            f"số tự xưng: {national_format(claimed_number)}" if claimed_number and not operator else "", note or "") if x)
        intel = self.intel.report(indicators=[e164], category="fake_courier", description=description[:2000],
                                    client=client)
        with self.db.session() as s:
            rep = ScamReport(number=mask_phone(e164), asked=",".join(asked_), amount_vnd=amount,
                             claimed_operator=operator.upper() if operator else None, note=note, verdict=verdict,
                             client_digest=client_digest, consumed_at=utcnow())
            s.add(rep)
            s.flush()
            rid = rep.id
        return {"id": rid, "stored": True, "verdict": verdict, "intel_report": intel["report"]}


def _local(at: datetime) -> str:
    return at.astimezone(VN).isoformat(timespec="minutes")
