"""Staff duties: each operator's confidentiality policy, its versions, and who has acknowledged the one
in force (and completed the training it requires).

An administrator or the data-protection officer publishes a version (its text, when it takes effect,
how many days an acknowledgement lasts, whether training is required). From then on the door refuses
to open personal data for a member of staff without a current acknowledgement of the version in force
(``check``, called by the door for every staff principal; the refusal is logged like every other and
raised as ``DutyPending``, which the pages answer with what to do). Staff acknowledge in their own name
(the page, after reading the text: the text's SHA-256 is recorded with the acknowledgement); the DPO
records a paper acknowledgement and completed training. ``report`` says who is current, who is due soon
(``REMIND_DAYS`` before expiry: the reminders) and who is not; everything is logged.

An operator with no policy published binds nobody: the duty starts with its first version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postguard.access.models import PolicyAcknowledgement, PolicyVersion, Staff
from postguard.db.base import utcnow
from postguard.errors import Conflict, DutyPending, FieldError, InvalidInput, NotFound
from postguard.principals import Principal, StaffPrincipal

if TYPE_CHECKING:
    from postguard.access.door import AccessLog
    from postguard.db import Database
    from postguard.orgs.service import OrgService

MANAGERS = ("admin", "dpo")
REMIND_DAYS = 14
MAX_BODY = 50_000
HOW = ("web", "paper")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


@dataclass(frozen=True)
class Standing:
    """One member of staff against the version in force."""

    state: str  # current, due_soon, expired, not_acknowledged, training_missing
    acknowledged_at: datetime | None
    expires_at: datetime | None
    trained_at: datetime | None


def standing(policy: PolicyVersion, ack: PolicyAcknowledgement | None, now: datetime) -> Standing:
    acked = ack.acknowledged_at if ack else None
    trained = ack.trained_at if ack else None
    expires = acked + timedelta(days=policy.valid_days) if acked else None
    if acked is None:
        state = "not_acknowledged"
    elif policy.training_required and trained is None:
        state = "training_missing"
    elif expires is not None and expires <= now:
        state = "expired"
    elif expires is not None and expires - now <= timedelta(days=REMIND_DAYS):
        state = "due_soon"
    else:
        state = "current"
    return Standing(state, acked, expires, trained)


WHY = {"not_acknowledged": "you have not acknowledged the confidentiality policy {v} in force",
       "training_missing": "you have not completed the training the confidentiality policy {v} requires",
       "expired": "your acknowledgement of the confidentiality policy {v} has expired"}


class Duties:
    def __init__(self, *, db: Database, audit: AccessLog, orgs: OrgService) -> None:
        self.db, self.audit, self.orgs = db, audit, orgs

    # -- the door's question ----------------------------------------------------------------------
    def check(self, session: Session, principal: StaffPrincipal, now: datetime | None = None) -> DutyPending | None:
        """Why ``principal`` may not open personal data now (None: they may). One indexed query."""
        now = now or utcnow()
        row = session.execute(
            select(PolicyVersion, PolicyAcknowledgement)
            .outerjoin(PolicyAcknowledgement, and_(PolicyAcknowledgement.policy_id == PolicyVersion.id,
                                                   PolicyAcknowledgement.staff_id == principal.staff_id))
            .where(PolicyVersion.org_id == principal.org_id, PolicyVersion.effective_at <= now)
            .order_by(PolicyVersion.effective_at.desc(), PolicyVersion.id.desc()).limit(1)).first()
        if row is None:
            return None
        st = standing(row[0], row[1], now)
        if st.state in ("current", "due_soon"):
            return None
        return DutyPending(f"Not allowed: {WHY[st.state].format(v=row[0].version)}. Read and acknowledge it on "
                           "your staff page first.", row[0].version)

    # -- the operator's policy ----------------------------------------------------------------------
    def publish(self, principal: Principal, *, version: str, title: str, body: str,
                effective_at: datetime | None = None, valid_days: int = 365,
                training_required: bool = False) -> dict[str, Any]:
        staff = self._manager(principal)
        errors: list[FieldError] = []
        version, title, body = (version or "").strip(), (title or "").strip(), (body or "").strip()
        if not 1 <= len(version) <= 32:
            errors.append(FieldError("version", "1-32 characters, e.g. 2026.1"))
        if not 1 <= len(title) <= 200:
            errors.append(FieldError("title", "required, at most 200 characters"))
        if not 20 <= len(body) <= MAX_BODY:
            errors.append(FieldError("body", f"the policy text, 20 to {MAX_BODY:,} characters"))
        if not 30 <= valid_days <= 1095:
            errors.append(FieldError("valid_days", "30 to 1095 days"))
        when = effective_at or utcnow()
        if when.tzinfo is None:
            errors.append(FieldError("effective_at", "a date and time with its offset"))
        if errors:
            raise InvalidInput("The policy version was not published.", errors)
        try:
            with self.db.session() as s:
                row = PolicyVersion(org_id=staff.org_id, version=version, title=title, body=body,
                                    body_sha256=_sha256(body), effective_at=when, valid_days=valid_days,
                                    training_required=training_required, created_by=staff.actor)
                s.add(row)
                s.flush()
                view = self._view(row)
        except IntegrityError:
            raise Conflict(f"Version {version} of the policy already exists.") from None
        self.audit.append(actor=staff.actor, action="policy_published", org_id=staff.org_id,
                          subject=f"policy:{version}", details={"sha256": view["sha256"],
                                                                "effective_at": view["effective_at"]})
        return view

    def in_force(self, principal: StaffPrincipal, now: datetime | None = None) -> dict[str, Any] | None:
        """The version in force at the principal's organisation, with their standing against it."""
        now = now or utcnow()
        with self.db.read_session() as s:
            policy = self._current(s, principal.org_id, now)
            if policy is None:
                return None
            ack = self._ack(s, policy.id, principal.staff_id)
            return {**self._view(policy), "body": policy.body, **self._standing(policy, ack, now)}

    def acknowledge(self, principal: StaffPrincipal, *, version: str, sha256: str) -> dict[str, Any]:
        """The member of staff acknowledges, in their own name, the text they were shown (its digest)."""
        return self._record(principal, principal, version=version, how="web", sha256=sha256)

    def record(self, principal: Principal, *, username: str, version: str, how: str | None = None,
               training: str | None = None, at: datetime | None = None) -> dict[str, Any]:
        """The DPO or an administrator records a paper acknowledgement (``how="paper"``) and/or the
        training a member of staff completed (``training``: which course)."""
        manager = self._manager(principal)
        with self.db.read_session() as s:
            row = s.execute(select(Staff).where(Staff.org_id == manager.org_id,
                                                Staff.username == (username or "").strip().lower())).scalar_one_or_none()
        if row is None:
            raise NotFound(f"No staff {username}.")
        whom = StaffPrincipal(row.id, row.org_id, manager.org_code, row.username, row.role)
        return self._record(manager, whom, version=version, how=how, training=training, at=at)

    def _record(self, actor: StaffPrincipal, whom: StaffPrincipal, *, version: str, how: str | None,
                sha256: str | None = None, training: str | None = None, at: datetime | None = None) -> dict[str, Any]:
        now = utcnow()
        at = at or now
        if how is not None and how not in HOW:
            raise InvalidInput("Nothing was recorded.", [FieldError("how", "web or paper")])
        if how is None and not training:
            raise InvalidInput("Nothing was recorded.", [FieldError("training", "an acknowledgement or a training")])
        if training is not None and not 2 <= len(training.strip()) <= 200:
            raise InvalidInput("Nothing was recorded.", [FieldError("training", "2-200 characters")])
        if at.tzinfo is None or at > now:
            raise InvalidInput("Nothing was recorded.", [FieldError("at", "not in the future, with its offset")])
        try:
            return self._write(actor, whom, version=version, how=how, sha256=sha256, training=training, at=at,
                               now=now)
        except IntegrityError:  # the same person's first record, twice at once: the second updates the first
            return self._write(actor, whom, version=version, how=how, sha256=sha256, training=training, at=at,
                               now=now)

    def _write(self, actor: StaffPrincipal, whom: StaffPrincipal, *, version: str, how: str | None,
               sha256: str | None, training: str | None, at: datetime, now: datetime) -> dict[str, Any]:
        with self.db.session() as s:
            policy = s.execute(select(PolicyVersion).where(PolicyVersion.org_id == whom.org_id,
                                                           PolicyVersion.version == (version or "").strip())
                               ).scalar_one_or_none()
            if policy is None:
                raise NotFound(f"No policy version {version}.")
            if sha256 is not None and sha256 != policy.body_sha256:
                raise Conflict("The policy text changed since it was shown: read it again.")
            ack = self._ack(s, policy.id, whom.staff_id, lock=True)
            if ack is None:
                ack = PolicyAcknowledgement(policy_id=policy.id, staff_id=whom.staff_id, recorded_by=actor.actor)
                s.add(ack)
            if how is not None:
                ack.acknowledged_at, ack.how, ack.body_sha256 = at, how, policy.body_sha256
            if training:
                ack.trained_at, ack.training = at, training.strip()
            ack.recorded_by = actor.actor
            s.flush()
            result = {**self._view(policy), "username": whom.username, **self._standing(policy, ack, now)}
        self.audit.append(actor=actor.actor, action="policy_acknowledged" if how else "policy_training",
                          org_id=whom.org_id, subject=f"staff:{whom.staff_id}",
                          details={"version": policy.version, "how": how, "training": bool(training)})
        return result

    def report(self, principal: Principal, now: datetime | None = None) -> dict[str, Any]:
        """Who is current with the version in force, who is due soon (the reminders) and who is not."""
        manager = self._manager(principal, read=True)
        now = now or utcnow()
        with self.db.read_session() as s:
            policy = self._current(s, manager.org_id, now)
            staff = s.execute(select(Staff).where(Staff.org_id == manager.org_id, Staff.status == "active")
                              .order_by(Staff.username)).scalars().all()
            acks = {} if policy is None else {a.staff_id: a for a in s.execute(
                select(PolicyAcknowledgement).where(PolicyAcknowledgement.policy_id == policy.id)).scalars()}
            people = [{"username": m.username, "display_name": m.display_name, "role": m.role,
                       **(self._standing(policy, acks.get(m.id), now) if policy else {"state": "no_policy"})}
                      for m in staff]
        counts: dict[str, int] = {}
        for p in people:
            counts[p["state"]] = counts.get(p["state"], 0) + 1
        return {"policy": self._view(policy) if policy else None, "counts": counts, "staff": people,
                "remind": [p["username"] for p in people if p["state"] == "due_soon"]}

    def member(self, org_code: str, username: str) -> StaffPrincipal:
        """An active member of staff by name (the command line acts in a named person's name)."""
        org = self.orgs.get(org_code)
        with self.db.read_session() as s:
            row = s.execute(select(Staff).where(Staff.org_id == org.id, Staff.status == "active",
                                                Staff.username == (username or "").strip().lower())).scalar_one_or_none()
        if row is None:
            raise NotFound(f"No active staff {username} at {org.code}.")
        return StaffPrincipal(row.id, org.id, org.code, row.username, row.role)

    # -- helpers ------------------------------------------------------------------------------------
    def _manager(self, principal: Principal, *, read: bool = False) -> StaffPrincipal:
        allowed = self.orgs.require(principal, None, roles=MANAGERS, subject="policy",
                                    message="Only an administrator or the data-protection officer may do this.")
        if isinstance(allowed, StaffPrincipal):
            return allowed
        self.orgs.refuse(principal, reason="for staff only", subject="policy")

    @staticmethod
    def _current(s: Session, org_id: int, now: datetime) -> PolicyVersion | None:
        return s.execute(select(PolicyVersion).where(PolicyVersion.org_id == org_id, PolicyVersion.effective_at <= now)
                         .order_by(PolicyVersion.effective_at.desc(), PolicyVersion.id.desc()).limit(1)
                         ).scalar_one_or_none()

    @staticmethod
    def _ack(s: Session, policy_id: int, staff_id: int, *, lock: bool = False) -> PolicyAcknowledgement | None:
        q = select(PolicyAcknowledgement).where(PolicyAcknowledgement.policy_id == policy_id,
                                                PolicyAcknowledgement.staff_id == staff_id)
        return s.execute(q.with_for_update() if lock else q).scalar_one_or_none()

    @staticmethod
    def _view(p: PolicyVersion) -> dict[str, Any]:
        return {"version": p.version, "title": p.title, "sha256": p.body_sha256, "effective_at": _iso(p.effective_at),
                "valid_days": p.valid_days, "training_required": p.training_required}

    @staticmethod
    def _standing(policy: PolicyVersion, ack: PolicyAcknowledgement | None, now: datetime) -> dict[str, Any]:
        st = standing(policy, ack, now)
        return {"state": st.state, "acknowledged_at": _iso(st.acknowledged_at), "expires_at": _iso(st.expires_at),
                "trained_at": _iso(st.trained_at)}
