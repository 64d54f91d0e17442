"""The data subject's routes (``/v1/me``): prove a phone number with a one-time code, then see who
accessed your data (with inclusion proofs), file requests, download your export and receipts.

The proof earned with the code is sent as ``Authorization: Bearer <proof>`` or travels in the
``pg_me`` cookie (HttpOnly, SameSite=Strict) that ``/v1/me/verify`` sets. Every route is rate limited
per client; the answers never say whether a number has any shipment before it is proven.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from postguard.api.deps import platform
from postguard.http.address import client_ip
from postguard.http.proof import PROOF_COOKIE, PROOF_PURPOSE, PROOF_TTL, proof_token, set_proof_cookie
from postguard.http.security import Responses, declares
from postguard.otp import CHALLENGE_MAX
from postguard.platform import Platform

router = APIRouter(prefix="/v1/me", tags=["data subjects"])
LIMITED: Responses = {429: {"description": "Too many requests from this client address: wait `Retry-After` seconds"}}


class PhoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(max_length=40, description="Your phone number, any Vietnamese form")


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(max_length=40)
    code: str = Field(max_length=12, description="The 6-digit code sent by SMS")
    challenge: str = Field(min_length=1, max_length=CHALLENGE_MAX,
                           description="The `challenge` that `/v1/me/code` returned with this code")


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(description="access, deletion or correction")
    org: str = Field(max_length=32, description="The operator's code")


def limit(request: Request, p: Platform = Depends(platform)) -> None:
    p.limiter.hit("60/minute", "me", client_ip(request), message="Too many requests from here; wait a minute.")


@declares({"subjectProof": []}, {"subjectProofCookie": []})
def subject_phone(request: Request, p: Platform = Depends(platform), _: None = Depends(limit)) -> str:
    """The E.164 number the caller proved (``Unauthenticated`` otherwise)."""
    return p.otp.open_proof(proof_token(request), purpose=PROOF_PURPOSE)


@router.post("/code", status_code=202, dependencies=[Depends(limit)], responses=LIMITED)
def send_code(body: PhoneIn, request: Request, p: Platform = Depends(platform)) -> dict:
    """Send a one-time code to the number (limited per number and per client) and return its
    ``challenge``, to send back with the code to ``/v1/me/verify``. The answer is the same whether or
    not the number has shipments."""
    sent = p.otp.send(purpose=PROOF_PURPOSE, phone=body.phone, client=client_ip(request))
    return {"sent": True, "challenge": sent.challenge, "expires_at": sent.expires_at.isoformat()}


@router.post("/verify", dependencies=[Depends(limit)],
             responses={**LIMITED, 401: {"description": "The code is wrong, expired or used, or the challenge is "
                                                       "not its own"}})
def verify(body: VerifyIn, request: Request, p: Platform = Depends(platform)) -> JSONResponse:
    """Check the code with the ``challenge`` that ``/v1/me/code`` returned; returns a proof (also set
    as the ``pg_me`` cookie) valid for 30 minutes."""
    ip = client_ip(request)
    p.limiter.hit("20/10 minutes", "me-verify", ip, message="Too many codes tried from here; wait a few minutes.")
    e164 = p.otp.verify(purpose=PROOF_PURPOSE, phone=body.phone, code=body.code, challenge=body.challenge)
    token = p.otp.issue_proof(purpose=PROOF_PURPOSE, phone=e164, ttl=PROOF_TTL)
    resp = JSONResponse({"token": token, "token_type": "bearer", "expires_in": PROOF_TTL})
    set_proof_cookie(request, resp, token)
    return resp


@router.post("/sign-out", status_code=204)
def sign_out() -> Response:
    """Forget the proof: the ``pg_me`` cookie is cleared."""
    resp = Response(status_code=204)
    resp.delete_cookie(PROOF_COOKIE, path="/")
    return resp


@router.get("/shipments", responses=LIMITED)
def my_shipments(phone: str = Depends(subject_phone), p: Platform = Depends(platform)) -> dict:
    """Your shipments at every operator (masked) and who accessed each, when and why, each entry with
    an inclusion proof against the latest signed checkpoint. This view is itself logged."""
    return p.privacy.my_data(phone)


@router.get("/requests", responses=LIMITED)
def my_requests(phone: str = Depends(subject_phone), p: Platform = Depends(platform)) -> dict:
    """Your requests to operators (access, deletion, correction) with their status and legal clocks."""
    return {"items": p.privacy.my_requests(phone)}


@router.post("/requests", status_code=201,
             responses={**LIMITED, 409: {"description": "A request of this kind to this operator is already open"}})
def file_request(body: RequestIn, phone: str = Depends(subject_phone), p: Platform = Depends(platform)) -> dict:
    """Ask an operator for an access export, a deletion or a correction; the legal clocks start now."""
    return p.privacy.file_request(phone, org_code=body.org, kind=body.kind)


@router.get("/requests/{ref}/export", responses={
    **LIMITED, 409: {"description": "Not an access request, or not completed yet"}})
def export(ref: str, phone: str = Depends(subject_phone), p: Platform = Depends(platform)) -> JSONResponse:
    """The export of your completed access request (generated now, logged; nothing is stored)."""
    data = p.privacy.export_for_subject(phone, ref)
    return JSONResponse(data, headers={"Content-Disposition": f'attachment; filename="{data["request"]}.json"'})


@router.get("/requests/{ref}/receipt", responses=LIMITED)
def receipt(ref: str, phone: str = Depends(subject_phone), p: Platform = Depends(platform)) -> dict:
    """The deletion receipt of your request with its inclusion proof."""
    return p.privacy.receipt_for_subject(phone, ref)

