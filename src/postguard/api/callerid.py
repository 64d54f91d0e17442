"""Caller identification: the citizen check (public, rate limited), its one-time-code proof, spoken
codes and scam reports; masked-call routing for operators' telephony systems; terminating-side
STIR/SHAKEN verification of incoming calls; call-signing certificates."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, TypeVar

import orjson
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError, WithJsonSchema
from starlette.concurrency import run_in_threadpool

from postguard.api.deps import platform, scoped
from postguard.callerid.check import MAX_PAYEE, MAX_TRANSCRIPT_BYTES
from postguard.callerid.claims import MAX_OPERATOR
from postguard.callerid.stir.sip import MAX_TOKEN_CHARS
from postguard.callerid.stir.verification import MAX_DEST, MAX_NUMBER_CHARS
from postguard.errors import (
    FieldError,
    InvalidInput,
)
from postguard.http.address import client_ip, scope_ip
from postguard.http.params import INT32_MAX, require_json
from postguard.http.security import Responses
from postguard.orgs.service import Principal
from postguard.otp import CHALLENGE_MAX
from postguard.platform import Platform

router = APIRouter(prefix="/v1", tags=["caller identification"])
telephony = scoped("calls:route")  # refusals logged (access_denied) by OrgService.require
verifier = scoped("calls:verify")
_Model = TypeVar("_Model", bound=BaseModel)

# The call check's body: its fields and a transcript of MAX_TRANSCRIPT_BYTES, even with every character
# escaped in JSON (``\u0041`` is six bytes for one).
CALLCHECK_BODY_BYTES = 32 * 1024
PhoneText = Field(max_length=40, description="Any Vietnamese form: 0912 345 678, +84912345678, 84-912-345-678, ...")


class CallCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    caller: str = Field(max_length=40, description="The number that called (any Vietnamese form)")
    phone: str | None = Field(None, max_length=40, description="Your own number (the number the call came to)")
    proof: str | None = Field(None, max_length=400, description="Proof of your number from /v1/callcheck/otp/verify")
    waybill: str | None = Field(None, max_length=60, description="The waybill of the parcel you expect (narrows a "
                                "check with proof; alone it proves nothing)")
    amount_vnd: int | str | None = Field(None, description="The amount the caller asked for")
    asked: list[str] = Field(default_factory=list, max_length=5,
                             description="What the caller asked for: transfer, fee, otp, app, link")
    claims: str | None = Field(None, max_length=16, description="Who the caller said they were: courier (a "
                               "delivery company) or bank (a bank or an e-wallet)")
    operator: str | None = Field(None, max_length=MAX_OPERATOR, description="The operator, courier, bank or wallet "
                                 "the caller named (GHN, VNPost, Vietcombank, MoMo…)")
    payee: str | None = Field(None, max_length=MAX_PAYEE, description="The account or e-wallet the caller asked you "
                              "to pay into: MB 0123456789, MoMo 0912345678 (checked against the operators' "
                              "registered COD accounts; not kept)")
    transcript: str | None = Field(None, max_length=MAX_TRANSCRIPT_BYTES, description=(
        f"What the caller said, as text (at most {MAX_TRANSCRIPT_BYTES} bytes of UTF-8): read for red flags, "
        "claims, accounts and amounts; never kept or logged"))
    called_at: str | None = Field(None, max_length=40, description="When the call came, ISO 8601 "
                                  "(2026-12-07T10:42:00+07:00; without an offset, Viet Nam time), at most a day ago; "
                                  "default now. The operator's app records are compared up to that moment")


class PhoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = PhoneText


class PhoneCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = PhoneText
    code: str = Field(max_length=12, description="The 6-digit code sent by SMS")
    challenge: str = Field(min_length=1, max_length=CHALLENGE_MAX,
                           description="The `challenge` that `/v1/callcheck/otp` returned with this code")


class SpokenCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    waybill: str = Field(max_length=60)
    code: str = Field(max_length=12)
    proof: str | None = Field(None, max_length=400, description="Proof of your number from /v1/callcheck/otp/verify "
                              "(required: only the parcel's recipient may check its code)")
    operator: str | None = Field(None, max_length=32, description="The operator's code, when known")


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(max_length=40, description="The number that called")
    asked: list[str] = Field(default_factory=list, max_length=5)
    amount_vnd: int | str | None = None
    operator: str | None = Field(None, max_length=32, description="The operator the caller claimed to be")
    note: str | None = Field(None, max_length=500)


class RouteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    caller: str = Field(max_length=40)
    dialled: str = Field(max_length=40, description="The proxy number that was dialled")


class PassportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    passport: str = Field(max_length=16384, description="A compact PASSporT or SIP Identity header value")


Number = Annotated[str, StringConstraints(max_length=MAX_NUMBER_CHARS)]
_NUMBER_SCHEMA = {"type": "string", "maxLength": MAX_NUMBER_CHARS}


def _one_or_more(value):
    """One number (a string) as a list of one; a list as it is."""
    if isinstance(value, str):
        if len(value) > MAX_NUMBER_CHARS:
            raise ValueError(f"a number of at most {MAX_NUMBER_CHARS} characters")
        return [value]
    return value


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    identity: str | None = Field(None, max_length=MAX_TOKEN_CHARS, description=(
        "The SIP Identity header value as received (`token;info=<https://…>;alg=ES256;ppt=shaken`, or a "
        "bare compact PASSporT); omit it or send null when the INVITE had none"))
    from_: Number = Field(alias="from", description="The call's From (or P-Asserted-Identity) number: "
                          "+84912345678, 84912345678 or 0912 345 678")
    to: Annotated[list[Number], BeforeValidator(_one_or_more),
                  Field(min_length=1, max_length=MAX_DEST),
                  WithJsonSchema({"anyOf": [_NUMBER_SCHEMA, {"type": "array", "items": _NUMBER_SCHEMA,
                                                             "minItems": 1, "maxItems": MAX_DEST}]})] = Field(
        description=f"The call's To number, or a list of at most {MAX_DEST} (each must be a dest of the PASSporT)")
    received_at: datetime | None = Field(None, description=(
        "When the INVITE arrived (ISO 8601 with an offset, or Unix seconds), at most ten minutes ago; "
        "default: now. The PASSporT's iat must be at most 60 s older"))


def _body(model: type[_Model], raw: bytes) -> _Model:
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as e:
        raise InvalidInput("The request is not valid.", [
            FieldError(".".join(str(x) for x in err.get("loc", ())) or "body", err.get("msg", "invalid"), None,
                       err.get("type", "invalid")) for err in e.errors()]) from None


async def call_check_body(p: Platform, raw: bytes, scope) -> bytes:
    """``POST /v1/callcheck``, served ahead of the router (``PostguardApp.hot``): validate a
    ``CallCheckIn`` body and run the check. With the rate limiter in this process, the anonymous
    check (a body of ``caller`` and maybe ``asked``) runs on the event loop when this worker's memory
    holds the answer (for this very body, ``CallCheck.quick_kept``; for its number,
    ``CallCheck.quick``), or on a miss when the database is embedded SQLite (one indexed read,
    cheaper than a worker-thread hop). Everything else (a proof, a transcript) runs in a worker thread."""
    require_json(scope, "call check")
    cc = p.callcheck
    if cc.in_process:
        answer = cc.quick_kept(raw, scope_ip(scope))  # this very body answered since the registry last changed
        if answer is not None:
            return answer
        quick = _quick_body(raw)
        if quick is not None:
            answer = cc.quick(caller=quick[0], asked=quick[1], client=scope_ip(scope), body=raw)
            if answer is not None:
                return answer
    body = _body(CallCheckIn, raw)
    call = partial(cc.check, caller=body.caller, phone=body.phone, proof=body.proof, waybill=body.waybill,
                   amount_vnd=body.amount_vnd, asked=body.asked, claims=body.claims, operator=body.operator,
                   payee=body.payee, transcript=body.transcript, called_at=body.called_at, client=scope_ip(scope))
    # A transcript is read in a worker thread: some milliseconds of rules, not for the event loop.
    return orjson.dumps(call() if cc.in_process and cc.embedded and not body.proof and not body.transcript
                        else await run_in_threadpool(call))


_QUICK_FIELDS = frozenset(("caller", "asked"))


def _quick_body(raw: bytes) -> tuple[str, list[str]] | None:
    """``(caller, asked)`` of the usual anonymous body, once its JSON is seen to satisfy
    ``CallCheckIn`` (a caller of at most 40 characters, at most five requests, nothing else);
    None for anything else, which the model validates."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(data) is dict and data.keys() <= _QUICK_FIELDS:
        caller, asked = data.get("caller"), data.get("asked", [])
        if type(caller) is str and len(caller) <= 40 and type(asked) is list and len(asked) <= 5 \
                and all(type(a) is str for a in asked):
            return caller, asked
    return None


PUBLIC_ERRORS: Responses = {429: {"description": "Too many requests from this client address: wait `Retry-After` seconds"}}


@router.post("/callcheck", response_class=Response, openapi_extra={"requestBody": {
    "required": True, "content": {"application/json": {"schema": CallCheckIn.model_json_schema()}}}},
    responses={200: {"description": "The verdict, its reasons and advice"}, **PUBLIC_ERRORS,
               401: {"description": "A proof that is not valid (forged, expired or made for another purpose)"},
               413: {"description": "The body is larger than 32 KiB"},
               415: {"description": "The body is not JSON"}})
async def call_check(request: Request) -> Response:
    """Is this number a real courier delivering to me, and what may they ask of me?

    Served ahead of the router by ``call_check_body``; this route documents it and answers the same."""
    return Response(await call_check_body(request.app.state.platform, await request.body(), request.scope),
                    media_type="application/json")


@router.post("/callcheck/otp", status_code=202, responses=PUBLIC_ERRORS)
def call_check_send_code(body: PhoneIn, request: Request, p: Platform = Depends(platform)) -> dict:
    """Send a one-time code to your own number (to prove the parcel is yours); the answer's
    ``challenge`` goes back with the code to ``/v1/callcheck/otp/verify``."""
    return p.callcheck.send_code(phone=body.phone, client=client_ip(request))


@router.post("/callcheck/otp/verify", responses={
    **PUBLIC_ERRORS, 401: {"description": "The code is wrong, expired or used, or the challenge is not its own"}})
def call_check_confirm_code(body: PhoneCodeIn, request: Request, p: Platform = Depends(platform)) -> dict:
    """Exchange the code and its ``challenge`` for a proof of your number (valid 30 minutes)."""
    return {"proof": p.callcheck.confirm_code(phone=body.phone, code=body.code, challenge=body.challenge,
                                              client=client_ip(request)),
            "expires_in": 1800}


@router.post("/callcheck/code", responses={
    **PUBLIC_ERRORS, 401: {"description": "No proof of your number, or one that is not valid"}})
def call_check_spoken_code(body: SpokenCodeIn, request: Request, p: Platform = Depends(platform)) -> dict:
    """Check the spoken verification code a caller told you against your parcel's code of today (with
    the proof of your number)."""
    return p.callcheck.check_spoken_code(waybill=body.waybill, code=body.code, proof=body.proof,
                                         operator=body.operator, client=client_ip(request))


@router.post("/callcheck/report", status_code=201, responses=PUBLIC_ERRORS)
def call_check_report(body: ReportIn, request: Request, p: Platform = Depends(platform)) -> dict:
    """Report a caller as a likely scam (stored for the scam-intelligence feature)."""
    return p.callcheck.report(number=body.number, asked=body.asked, amount_vnd=body.amount_vnd,
                              operator=body.operator, note=body.note, client=client_ip(request))


@router.post("/calls/route", responses={404: {"description": "The parcel the proxy number was given for is gone"}})
def route_call(body: RouteIn, who: Principal = Depends(telephony), p: Platform = Depends(platform)) -> dict:
    """For a telephony system (SIP/IVR): where a call to one of your proxy numbers goes, or the refusal."""
    return p.calls.route(caller=body.caller, dialled=body.dialled, principal=who)


@router.post("/calls/verify", responses={
    400: {"description": "The PASSporT does not verify (format, algorithm, claims, signature, certificate)"},
    404: {"description": "No call intent was recorded for this PASSporT"}})
def verify_call(body: PassportIn, who: Principal = Depends(telephony), p: Platform = Depends(platform)) -> dict:
    """Verify a PASSporT postguard issued and match it to its recorded call intent."""
    got = p.calls.verify_passport(body.passport)
    got.pop("dest_tns", None)
    return got


@router.post("/callerid/verify")
def verify_identity(body: IdentityIn, who: Principal = Depends(verifier), p: Platform = Depends(platform)) -> dict:
    """For a telephony system on the terminating side (SIP/IMS): the verification status of a call's
    Identity header (RFC 8224, ATIS-1000074), to forward as `verstat`.

    `TN-Validation-Passed` with `attest` (A, B or C) and `origid`; `TN-Validation-Failed` with
    `reason` = the RFC 8224 §6.2.2 response (`code` 403 Stale Date, 436 Bad Identity Info, 437
    Unsupported Credential, 438 Invalid Identity Header; `text`; `detail`), and `spoofed_courier: true`
    when the From is a registered courier's number and the failure shows the header does not vouch for
    it (not for 436, nor for an untrusted certificate); `No-TN-Validation` (`reason` 428 Use Identity
    Header) without an Identity header. The signer's certificate is fetched from the PASSporT's x5u on
    allow-listed hosts only and must chain to the configured STI certification authorities; the
    PASSporT's orig must be the From number and each To number one of its dest numbers. Always 200
    for a request that is well formed; 422 naming the field otherwise."""
    return p.stir.verify(identity=body.identity, orig=body.from_, dest=body.to, received_at=body.received_at,
                         actor=who.actor)


@router.get("/callerid/certs/{org}/{version}.pem", response_class=Response)
def certificate(org: str, version: Annotated[int, Path(ge=1, le=INT32_MAX)],
                p: Platform = Depends(platform)) -> Response:
    """An operator's call-signing certificate (the x5u of its PASSporTs)."""
    return Response(p.calls.certificate(org_code=org, version=version), media_type="application/x-pem-file",
                    headers={"Cache-Control": "public, max-age=3600"})
