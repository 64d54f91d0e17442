"""Feedback on the message check: a verdict marked wrong (public, with consent, rate limited), and
the reviewers' queue (``messages:review``). See ``postguard.messages.feedback``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from postguard.api.deps import client_key, optional_principal, platform, principal
from postguard.messages.feedback import MAX_COMMENT, MAX_LIST, MAX_NOTE
from postguard.http.security import api_key, openapi_security
from postguard.messages.text import MAX_BYTES
from postguard.orgs.service import Principal
from postguard.platform import Platform

router = APIRouter(prefix="/v1", tags=["messages"])
REVIEWER = openapi_security(api_key("messages:review"))


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: StrictStr = Field(max_length=MAX_BYTES, description="The message (or QR payload) as checked, at most "
                                                               "4,096 bytes of UTF-8")
    type: StrictStr | None = Field(None, description="message or qr, as given to POST /v1/check (default: the same "
                                                     "detection)")
    label: StrictStr = Field(description="The label the check gave: scam, suspicious or legit")
    expected: StrictStr = Field(description="The label you think is right: scam, suspicious or legit")
    comment: StrictStr | None = Field(None, max_length=MAX_COMMENT, description="Optional, at most 500 characters")
    consent: StrictBool | None = Field(None, description="Must be true: the message is kept (encrypted) for review "
                                                         "and training only if you agree")


class FeedbackReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: StrictStr = Field(description="accept (train on it with `label`) or reject (the check was right)")
    label: StrictStr | None = Field(None, description="The final label: scam, suspicious or legit (required to accept)")
    note: StrictStr = Field("", max_length=MAX_NOTE)
    version: StrictInt | None = Field(None, description="The version you saw: required to change an earlier decision")


@router.post("/check/feedback", status_code=201, responses={
    409: {"description": "The check now answers what you expected: nothing is kept"},
    429: {"description": "Too many submissions from this client address or organisation"}})
def feedback(body: FeedbackIn, request: Request, who: Principal | None = Depends(optional_principal),
             p: Platform = Depends(platform)) -> dict:
    """Mark a message check's verdict wrong. Without ``consent: true`` nothing is kept (422)."""
    return p.message_feedback.submit(**body.model_dump(), principal=who, client=client_key(request.scope, who))


@router.get("/messages/feedback", openapi_extra=REVIEWER)
def feedback_queue(status: str = Query("pending", max_length=16), limit: int = Query(100, ge=1, le=MAX_LIST),
                   who: Principal = Depends(principal), p: Platform = Depends(platform)) -> dict:
    """Feedback cases by status, without their text (``messages:review``)."""
    return {"items": p.message_feedback.queue(who, status=status, limit=limit)}


@router.get("/messages/feedback/{case_id}", openapi_extra=REVIEWER)
def feedback_case(case_id: str, who: Principal = Depends(principal), p: Platform = Depends(platform)) -> dict:
    """One case with its text and comments, opened through the door (logged first)."""
    return p.message_feedback.show(who, case_id)


@router.post("/messages/feedback/{case_id}/review", openapi_extra=REVIEWER,
             responses={409: {"description": "Decided or changed meanwhile: send the version you saw"}})
def feedback_review(case_id: str, body: FeedbackReviewIn, who: Principal = Depends(principal),
                    p: Platform = Depends(platform)) -> dict:
    """Accept (into the next training set, as ``label``) or reject a case; 409 if decided meanwhile."""
    return p.message_feedback.review(who, case_id, **body.model_dump())
