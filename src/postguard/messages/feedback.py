"""Feedback on the message check (``Platform.message_feedback``): a person marks a verdict wrong, the
case goes to the reviewers' queue, and accepted cases go into the next training set.

Nothing pasted into the check is kept; a message is stored only when the person sends it here and
says so (``consent`` true). The server checks the text again itself and records what the check
answers now and the model's version: the label the person says they were shown is kept beside it,
never trusted in its place. The text alone is checked and kept: a sender or a proven number given to
the check is not asked for (the model learns from text, and neither is needed to review it).

- **Storage.** A case is one text (the same text sent twice is one case counted twice, found by a
  keyed digest under the service secret ``message-feedback`` of its kind and its words). The text and
  each comment are vault ciphertext under the platform organisation's data key, bound to
  ``message_feedback`` / column / case (``Vault.encrypt``; key rotation keeps the versions they name,
  ``key_versions_in_use``). Submissions are limited per client (``POSTGUARD_MESSAGE_FEEDBACK_RATE``)
  and logged without their text (``message_feedback_submit``).
- **Review.** Reviewers hold ``messages:review``. The queue lists cases without their text; showing one
  opens its text and comments through the door (purpose ``message_feedback_review``, logged first). A
  decision (accept with the label to learn, or reject) is one conditional ``UPDATE`` (``WHERE status =
  'pending'``, or ``WHERE version = ?`` to change an earlier decision), so two reviewers deciding at
  once get one result and the other a 409.
- **Training.** ``export`` opens the accepted cases through the door (purpose
  ``message_feedback_export``, one entry) and gives corpus rows (``label language text source note``,
  ``source`` ``feedback:<case>``) with numbers and e-mail addresses masked
  (``postguard.messages.corpus.personal``), for ``postguard messages train --extra``.
- **Retention.** ``purge`` deletes cases (with their submissions) whose latest submission is older than
  ``POSTGUARD_MESSAGE_FEEDBACK_RETENTION_DAYS``, whatever their status (a job, and by hand).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postguard.db.base import utcnow
from postguard.errors import Conflict, FieldError, InvalidInput, NotFound
from postguard.messages import vietqr
from postguard.messages.corpus import LABELS
from postguard.messages.corpus.personal import mask
from postguard.messages.models import FeedbackCase, FeedbackSubmission
from postguard.messages.text import bounded, is_message
from postguard.orgs.models import Organisation
from postguard.orgs.service import PLATFORM_ORG
from postguard.principals import Principal
from postguard.vault.service import SealedValue, versions_sealed_in

if TYPE_CHECKING:
    from postguard.access.door import Door
    from postguard.audit.log import AuditLog
    from postguard.db import Database
    from postguard.messages.service import MessageService
    from postguard.orgs.service import OrgService
    from postguard.ratelimit import RateLimiter
    from postguard.settings import Settings
    from postguard.vault.service import Vault

SCOPE = "messages:review"
KIND = "message_feedback"  # what the door and the ciphertexts' bindings call these values
DIGEST_PURPOSE = "message-feedback"  # the service secret keying the digests
STATUSES = ("pending", "accepted", "rejected")
DECISIONS = {"accept": "accepted", "reject": "rejected"}
TYPES = ("message", "qr")
MAX_COMMENT = 500
MAX_NOTE = 2000
MAX_LIST = 500
EXPORT_HEADER = ("label", "language", "text", "source", "note")
_CASE_ID = re.compile(r"^[A-Za-z0-9_-]{1,24}$")
_LINE_BREAKS = re.compile(r"[\t\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")


def _bad(errors: list[FieldError], what: str = "The feedback was not accepted.") -> InvalidInput:
    return InvalidInput(what, errors)


def _free_text(field: str, value: object, limit: int, errors: list[FieldError]) -> str:
    """Text a person or a reviewer wrote: at most ``limit`` characters, no control characters other
    than line breaks and tabs; stripped ("" when absent)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(FieldError(field, "must be text", code="string_type"))
        return ""
    value = value.strip()
    if len(value) > limit:
        errors.append(FieldError(field, f"at most {limit} characters", code="too_long"))
    elif any((ord(c) < 32 and c not in "\n\r\t") or c == "\x7f" or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        errors.append(FieldError(field, "no control characters", code="invalid"))
    return value


def _label(field: str, value: object, errors: list[FieldError]) -> str | None:
    if isinstance(value, str) and value in LABELS:
        return value
    errors.append(FieldError(field, f"one of {', '.join(LABELS)}", code="missing" if value is None else "invalid"))
    return None


def _one_line(text: str) -> str:
    """A corpus text: line breaks and tabs as one space, spaces collapsed (README.md's format)."""
    return " ".join(_LINE_BREAKS.sub(" ", text).split())


class MessageFeedback:
    def __init__(self, *, db: Database, settings: Settings, vault: Vault, audit: AuditLog, orgs: OrgService,
                 door: Door, limiter: RateLimiter, messages: MessageService) -> None:
        """``messages``: the message check, run again on every submission (without counting it as a lookup)."""
        self.db = db
        self.settings = settings
        self.vault = vault
        self.audit = audit
        self.orgs = orgs
        self.door = door
        self.limiter = limiter
        self.messages = messages
        self._digest = vault.kept_digest(db.session, purpose=DIGEST_PURPOSE)

    # -- keys ------------------------------------------------------------------------------------
    def _key_org(self) -> int:
        """The platform organisation, whose data key seals feedback (created on first use)."""
        return self.orgs.platform_org_id()

    def ready(self) -> None:
        """Create (once) the keys feedback uses before any session is open: on SQLite a write inside
        another session would wait on the database lock."""
        self._digest("")
        self._key_org()

    def key_versions_in_use(self, session: Session, *, org_id: int) -> set[int]:
        """The platform organisation's data-key versions that feedback is sealed under (a key rotation
        must not destroy them)."""
        code = session.execute(select(Organisation.code).where(Organisation.id == org_id)).scalar_one_or_none()
        if code != PLATFORM_ORG:  # asked, not created: another organisation's rotation creates nothing
            return set()
        return versions_sealed_in(session, FeedbackCase.text_ct) | versions_sealed_in(
            session, FeedbackSubmission.comment_ct)

    def _seal(self, s: Session, text: str, *, column: str, record_id: str) -> bytes:
        return self.vault.encrypt(text.encode("utf-8"), session=s, org_id=self._key_org(), table=KIND, column=column,
                                  record_id=record_id)

    def _sealed(self, blob: bytes | None, *, column: str, record_id: str) -> SealedValue:
        return SealedValue(org_id=self._key_org(), table=KIND, column=column, record_id=record_id, blob=blob)

    # -- a person's feedback ----------------------------------------------------------------------
    def submit(self, *, text: object, label: object, expected: object, consent: object, comment: object = None,
               type: object = None, principal: Principal | None = None, client: str) -> dict[str, Any]:
        """Keep ``text`` (a message, or a QR payload) as judged wrongly: the check said ``label``, the
        person thinks ``expected``. Only with ``consent`` true; limited per client (an API key's
        organisation, else the address); the server checks the text again and records its own answer.
        409 when the check now answers what the person expected (nothing to correct)."""
        errors: list[FieldError] = []
        if consent is not True:
            errors.append(FieldError("consent", "must be true: the message is kept only if you agree to it",
                                     code="consent_required"))
        try:
            text = bounded(text, "text")
        except InvalidInput as e:
            errors.extend(e.errors)
        shown = _label("label", label, errors)
        wanted = _label("expected", expected, errors)
        if shown is not None and shown == wanted:
            errors.append(FieldError("expected", "must differ from label (the verdict you say is wrong)",
                                     code="same_label"))
        note = _free_text("comment", comment, MAX_COMMENT, errors)
        if type is not None and type not in TYPES:
            errors.append(FieldError("type", "message or qr", code="invalid"))
        if errors:
            raise _bad(errors)
        assert isinstance(text, str) and shown is not None and wanted is not None  # noqa: S101  checked above
        qr = type == "qr" or (type is None and vietqr.looks_like_payload(text))
        if type is None and not qr and not is_message(text):
            raise _bad([FieldError("text", "is one value, not a message: report a scam number, account or link "
                                           "with POST /v1/reports, or appeal a verdict with POST /v1/appeals",
                                   code="not_a_message")])
        self.limiter.hit(self.settings.message_feedback_rate, "message-feedback",
                         f"org:{principal.org_id}" if principal is not None else client,
                         message="Too much feedback from this client; try again later.")
        try:
            answer = self.messages.check(None if qr else text, qr=text if qr else None, client="", limit=False)
        except InvalidInput as e:  # a QR payload that does not read: there was no verdict to correct
            raise _bad([FieldError("text", fe.message, code=fe.code) for fe in e.errors]) from None
        now_label, score = answer["label"], int(answer["score"])
        version = answer.get("model", {}).get("version")
        model_version = None if version is None else str(version)[:40]
        if now_label == wanted:
            raise Conflict(f"The check now answers {now_label!r} for this message, as you expected: there is nothing "
                           "to correct.")
        kind = "qr" if qr else "message"
        digest = self._digest(f"{kind}\0{' '.join(text.split())}")
        by = principal.actor if principal is not None else "public"
        self.ready()
        now = utcnow()
        with self.db.session() as s:
            # Lock order: the platform's data key first (every value below is sealed under it), so two
            # submissions of one new text wait for each other instead of racing to create it.
            self.vault.sealer(s, org_id=self._key_org(), count=0)
            case, new = self._case(s, digest=digest, kind=kind, text=text, language=answer["language"],
                                   label=now_label, score=score, model_version=model_version, now=now)
            sub = FeedbackSubmission(case_id=case.id, label=shown, expected=wanted, system_label=now_label,
                                     system_score=score, model_version=model_version, submitted_by=by, created_at=now)
            s.add(sub)
            s.flush()
            if note:
                sub.comment_ct = self._seal(s, note, column="comment", record_id=f"{case.public_id}.{sub.id}")
            public_id, status, count = case.public_id, case.status, case.submissions
        self.audit.append(actor=by, action="message_feedback_submit",
                          org_id=principal.org_id if principal is not None else None,
                          subject=f"{KIND}:{public_id}",
                          details={"label": shown, "expected": wanted, "system_label": now_label,
                                   "model_version": model_version, "new_case": new})
        return {"case": public_id, "status": status, "submissions": count, "new_case": new,
                "system_label": now_label, "model_version": model_version,
                "kept_until": (now + timedelta(days=self.settings.message_feedback_retention_days)).isoformat()}

    def _case(self, s: Session, *, digest: bytes, kind: str, text: str, language: str, label: str, score: int,
              model_version: str | None, now: datetime) -> tuple[FeedbackCase, bool]:
        """The case of ``digest`` with one more submission counted, created (with the text sealed) when
        there is none; and whether it is new."""
        for _ in range(3):
            case = s.execute(select(FeedbackCase).where(FeedbackCase.digest == digest)).scalar_one_or_none()
            if case is not None:
                counted = s.execute(update(FeedbackCase).where(FeedbackCase.id == case.id).values(
                    submissions=FeedbackCase.submissions + 1, last_submitted_at=now, system_label=label,
                    system_score=score, model_version=model_version).execution_options(synchronize_session=False)
                ).rowcount  # type: ignore[attr-defined]
                if not counted:  # purged since it was read: a new case
                    s.expunge(case)
                    continue
                s.refresh(case)
                return case, False
            public_id = secrets.token_urlsafe(12)
            case = FeedbackCase(public_id=public_id, digest=digest, kind=kind, language=language,
                                text_ct=self._seal(s, text, column="text", record_id=public_id), system_label=label,
                                system_score=score, model_version=model_version, submissions=1, status="pending",
                                review_note="", created_at=now, last_submitted_at=now, version=1)
            try:
                with s.begin_nested():
                    s.add(case)
            except IntegrityError:  # created meanwhile by another worker: count on it
                continue
            return case, True
        raise Conflict("The feedback could not be recorded; send it again.")

    # -- reviewers --------------------------------------------------------------------------------
    def _require(self, principal: Principal, subject: str | None = None) -> None:
        self.orgs.require(principal, SCOPE, subject=subject)

    @staticmethod
    def _find(s: Session, case_id: object) -> FeedbackCase:
        if not isinstance(case_id, str) or not _CASE_ID.match(case_id):
            raise NotFound("No such feedback case.")
        case = s.execute(select(FeedbackCase).where(FeedbackCase.public_id == case_id)).scalar_one_or_none()
        if case is None:
            raise NotFound("No such feedback case.")
        return case

    def _kept_until(self, case: FeedbackCase) -> str:
        return (case.last_submitted_at + timedelta(days=self.settings.message_feedback_retention_days)).isoformat()

    def _view(self, case: FeedbackCase, votes: dict[str, int]) -> dict[str, Any]:
        return {"id": case.public_id, "status": case.status, "kind": case.kind, "language": case.language,
                "system_label": case.system_label, "system_score": case.system_score,
                "model_version": case.model_version, "submissions": case.submissions,
                "expected": {label: votes.get(label, 0) for label in LABELS},
                "created_at": case.created_at.isoformat(), "last_submitted_at": case.last_submitted_at.isoformat(),
                "kept_until": self._kept_until(case), "final_label": case.final_label,
                "reviewed_by": case.reviewed_by, "reviewed_at": case.reviewed_at.isoformat() if case.reviewed_at else None,
                "review_note": case.review_note, "version": case.version}

    @staticmethod
    def _votes(s: Session, ids: Sequence[int]) -> dict[int, dict[str, int]]:
        out: dict[int, dict[str, int]] = {}
        if not ids:
            return out
        for case_id, expected, n in s.execute(
                select(FeedbackSubmission.case_id, FeedbackSubmission.expected, func.count())
                .where(FeedbackSubmission.case_id.in_(ids))
                .group_by(FeedbackSubmission.case_id, FeedbackSubmission.expected)):
            out.setdefault(case_id, {})[expected] = n
        return out

    def queue(self, principal: Principal, *, status: str = "pending", limit: int = 100) -> list[dict[str, Any]]:
        """Cases by status, without their text: pending ones most submitted first (then oldest first),
        decided ones most recently decided first."""
        self._require(principal, "message_feedback")
        if status not in STATUSES:
            raise _bad([FieldError("status", "pending, accepted or rejected")], "The request was refused.")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST:
            raise _bad([FieldError("limit", f"between 1 and {MAX_LIST}")], "The request was refused.")
        order = (FeedbackCase.submissions.desc(), FeedbackCase.created_at.asc()) if status == "pending" \
            else (FeedbackCase.reviewed_at.desc(),)
        with self.db.read_session() as s:
            cases = list(s.execute(select(FeedbackCase).where(FeedbackCase.status == status)
                                   .order_by(*order, FeedbackCase.id).limit(limit)).scalars())
            votes = self._votes(s, [c.id for c in cases])
            return [self._view(c, votes.get(c.id, {})) for c in cases]

    def show(self, principal: Principal, case_id: str) -> dict[str, Any]:
        """One case with its text and every submission's comment, opened through the door (purpose
        ``message_feedback_review``: logged before anything is decrypted), and what the check answers
        for it now."""
        self._require(principal, f"{KIND}:{str(case_id)[:24]}")
        self.ready()
        with self.db.read_session() as s:
            case = self._find(s, case_id)
            subs = list(s.execute(select(FeedbackSubmission).where(FeedbackSubmission.case_id == case.id)
                                  .order_by(FeedbackSubmission.id)).scalars())
            with_comment = [x for x in subs if x.comment_ct is not None]
            opened = self.door.open(
                s, principal, "message_feedback_review",
                [self._sealed(case.text_ct, column="text", record_id=case.public_id),
                 *(self._sealed(x.comment_ct, column="comment", record_id=f"{case.public_id}.{x.id}")
                   for x in with_comment)],
                subject=f"{KIND}:{case.public_id}")
            text, comments = opened[0], dict(zip((x.id for x in with_comment), opened[1:], strict=True))
            view = self._view(case, self._votes(s, [case.id]).get(case.id, {}))
            view["submissions_detail"] = [
                {"label": x.label, "expected": x.expected, "system_label": x.system_label,
                 "system_score": x.system_score, "model_version": x.model_version, "submitted_by": x.submitted_by,
                 "at": x.created_at.isoformat(), "comment": comments.get(x.id)} for x in subs]
        view["text"] = text
        if text is not None:
            try:
                now = self.messages.check(None if case.kind == "qr" else text, qr=text if case.kind == "qr" else None,
                                          client="", limit=False)
                view["check_now"] = {"label": now["label"], "score": now["score"],
                                     "model_version": str(now.get("model", {}).get("version")),
                                     "reasons": [r["code"] for r in now["reasons"]]}
            except InvalidInput:
                view["check_now"] = None
        return view

    def review(self, principal: Principal, case_id: str, *, decision: object, label: object = None, note: object = "",
               version: object = None) -> dict[str, Any]:
        """``accept`` (the message goes into the next training set as ``label``) or ``reject`` (the
        check was right; ``label``, default what it answered, is kept for the record). A pending case is
        decided once: of two reviewers deciding at once, the second gets a 409. A decided case changes
        only with the ``version`` the reviewer saw (a 409 if it changed since)."""
        self._require(principal, f"{KIND}:{str(case_id)[:24]}")
        errors: list[FieldError] = []
        if not isinstance(decision, str) or decision not in DECISIONS:
            errors.append(FieldError("decision", "accept or reject", code="missing" if decision is None else "invalid"))
        final: str | None = None
        if label is not None or decision == "accept":
            final = _label("label", label, errors)
        text_note = _free_text("note", note, MAX_NOTE, errors)
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)
                                    or not 1 <= version <= 2**31 - 1):
            errors.append(FieldError("version", "the case's version, a whole number", code="invalid"))
        if errors:
            raise _bad(errors, "The decision was not accepted.")
        assert isinstance(decision, str)  # noqa: S101  checked above
        status = DECISIONS[decision]
        with self.db.read_session() as s:
            case = self._find(s, case_id)
        if version is None and case.status != "pending":
            raise Conflict(f"Case {case.public_id} was already {case.status} by {case.reviewed_by}; send its version "
                           f"({case.version}) to change the decision.")
        if version is not None and version != case.version:
            raise Conflict(f"Case {case.public_id} changed meanwhile (version {case.version}); reload it.")
        final = final or case.system_label
        now = utcnow()
        guard = FeedbackCase.status == "pending" if version is None else FeedbackCase.version == version
        with self.db.session() as s:
            done = s.execute(update(FeedbackCase).where(FeedbackCase.id == case.id, guard).values(
                status=status, final_label=final, review_note=text_note, reviewed_by=principal.actor,
                reviewed_at=now, version=FeedbackCase.version + 1).execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
        if not done:
            raise Conflict(f"Case {case.public_id} was decided or deleted meanwhile; reload it.")
        self.audit.append(actor=principal.actor, action="message_feedback_review", org_id=principal.org_id,
                          subject=f"{KIND}:{case.public_id}",
                          details={"from": case.status, "to": status, "label": final,
                                   "system_label": case.system_label})
        return {"id": case.public_id, "from": case.status, "status": status, "final_label": final,
                "version": case.version + 1}

    # -- the next training set ----------------------------------------------------------------------
    def export(self, principal: Principal) -> list[dict[str, str]]:
        """The accepted cases as corpus rows (``EXPORT_HEADER``), oldest decision first: the text (a QR
        code's message) on one line with numbers and e-mail addresses masked, ``source`` ``feedback:<case>``. The texts are
        opened through the door (purpose ``message_feedback_export``), one entry for the lot."""
        self._require(principal, "message_feedback:export")
        self.ready()
        with self.db.read_session() as s:
            cases = list(s.execute(select(FeedbackCase).where(FeedbackCase.status == "accepted")
                                   .order_by(FeedbackCase.reviewed_at, FeedbackCase.id)).scalars())
            if not cases:
                return []
            texts = self.door.open(s, principal, "message_feedback_export",
                                   [self._sealed(c.text_ct, column="text", record_id=c.public_id) for c in cases],
                                   details={"cases": len(cases)})
        rows = []
        for c, text in zip(cases, texts, strict=True):
            line = _one_line(mask(self._words(c.kind, text or "")))
            if not line:  # a QR code without a message: nothing the model reads
                continue
            reviewed = c.reviewed_at.date().isoformat() if c.reviewed_at else ""
            rows.append({"label": c.final_label or c.system_label, "language": c.language, "text": line,
                         "source": f"feedback:{c.public_id}",
                         "note": f"message-check feedback reviewed {reviewed}; the check said {c.system_label} "
                                 f"(model {c.model_version or '?'}); {c.submissions} submission(s); numbers and "
                                 "e-mail addresses masked"})
        return rows

    @staticmethod
    def _words(kind: str, text: str) -> str:
        """What the model reads of a case: a message's text; a QR payload's message (tag 62), as the check
        reads it (the payload's digits are the payee's, not words)."""
        if kind != "qr":
            return text
        try:
            return vietqr.parse(text, field="text").message or ""
        except InvalidInput:
            return ""

    @staticmethod
    def tsv(rows: Sequence[dict[str, str]]) -> str:
        """Rows as the corpus TSV (UTF-8 text, a header, one row a line; no field holds a tab or a line break)."""
        lines = ["\t".join(EXPORT_HEADER)]
        lines += ["\t".join(_one_line(row[k]) for k in EXPORT_HEADER) for row in rows]
        return "\n".join(lines) + "\n"

    # -- retention --------------------------------------------------------------------------------
    def purge(self, *, now: datetime | None = None, actor: str = "postguard:retention") -> int:
        """Delete the cases (with their submissions and comments) whose latest submission is older than
        the retention; how many. A case sent again meanwhile is kept (the condition is re-checked by the
        ``DELETE`` itself)."""
        cutoff = (now or utcnow()) - timedelta(days=self.settings.message_feedback_retention_days)
        with self.db.session() as s:
            gone = s.execute(delete(FeedbackCase).where(FeedbackCase.last_submitted_at < cutoff)
                             .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        if gone:
            self.audit.append(actor=actor, action="message_feedback_purge",
                              details={"cases": gone, "before": cutoff.isoformat()})
        return int(gone or 0)
