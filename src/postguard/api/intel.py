"""Scam intelligence routes: check, reports, appeals, official channels, moderation.

Values travel in POST bodies, never in a URL. ``check``, reports and appeals are open to the public
(rate limited per client address) and to API keys (limited per organisation)."""

from __future__ import annotations

from collections.abc import Awaitable

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from postguard.api.deps import (
    client_key,
    optional_principal,
    platform,
    principal,
)
from postguard.api.limits import loads_json
from postguard.errors import FieldError, InvalidInput
from postguard.http.params import RowId, require_json
from postguard.http.security import ANONYMOUS, Responses, api_key, openapi_security
from postguard.intel.service import Upload
from postguard.orgs.service import Principal
from postguard.platform import Platform
from postguard.senders.service import MAX_SENDER

MAX_PROOF = 1000
MESSAGE_FIELDS = ("sender", "proof")  # a message check's own fields

router = APIRouter(prefix="/v1", tags=["intel"])
PUBLIC_ERRORS: Responses = {429: {"description": "Too many requests from this client address (or, with a key, this "
                                      "organisation): wait `Retry-After` seconds"}}
ANALYST = openapi_security(api_key("intel:analyst"))
ADMIN = openapi_security(api_key("intel:admin"))


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str = Field(description="Anything: a phone number, bank account with its bank, e-wallet, link, domain, "
                                   "social page, SMS brand name or app; or a whole message (up to 4,096 bytes) or a "
                                   "VietQR / EMVCo QR payload, answered with a label and each indicator's verdict")
    type: str | None = Field(None, description="Force a type: phone, bank_account, ewallet, url, domain, social, "
                                               "sms_brand, app, message, qr")
    sender: str | None = Field(None, max_length=MAX_SENDER,
                               description="A message's sender: the SMS brandname, number or Zalo page it came from. "
                                           "The value is then answered as a message")
    proof: str | None = Field(None, max_length=MAX_PROOF,
                              description="A one-time-code proof of your number (as /v1/senders/match takes it): the "
                                          "operator whose template a message is then says whether it sent it to you "
                                          "(operator_sent, operator_not_sent); 401 when not live. The value is then "
                                          "answered as a message")


class IndicatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str
    type: str | None = None


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indicators: list[str | IndicatorIn] = Field(min_length=1, description="What was used (up to 10)")
    category: str
    description: str | None = None
    amount_lost_vnd: int | str | None = Field(None, description="Đồng lost: a whole number, or text as people "
                                              "write it (350.000, 350k, 1,5 triệu)")
    occurred_on: str | None = Field(None, description="YYYY-MM-DD")
    contact: str | None = Field(None, description="Optional; reports with a contact weigh more than anonymous ones")


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str
    type: str | None = None
    statement: str
    contact: str


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(description="domain, hotline, sms_brand, app, social, cod_account, ewallet")
    value: str
    label: str = ""
    org: str | None = Field(None, description="Another organisation's code (administrators only)")


class StatusNote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = ""


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(description="confirm, dispute, delist or clear")
    source: str = Field("analyst", description="analyst or official_source (confirmations)")
    note: str = ""


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(description="accept or reject")
    note: str = ""


class AppealDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uphold: bool
    note: str = ""


@router.post("/check", response_model=None, openapi_extra=openapi_security(ANONYMOUS, api_key()),
             responses={200: {"description": "The verdict, its reasons and advice"}, **PUBLIC_ERRORS,
                        401: {"description": "An API key or a `proof` that is not valid (a proof forged, expired "
                                             "or made for another purpose)"},
                        415: {"description": "The body is not JSON"}})
async def check(body: CheckIn, request: Request) -> Response:
    """Look anything up. ``unknown`` means nothing is reported: it never means safe.

    Served ahead of the router by ``check_body`` (``PostguardApp.hot``); this declaration documents
    it in the OpenAPI schema and answers the same."""
    return Response(await check_body(request.app.state.platform, await request.body(), request.scope),
                    media_type="application/json")


def _check_fields(raw: bytes) -> tuple[str, str | None, dict[str, str]]:
    """The ``CheckIn`` fields (value, type, and the message fields given), with the same
    problem+json errors as the model's validation."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("The request is not valid.", [FieldError("body", "JSON decode error",
                                                                    code="json_invalid")]) from None
    if not isinstance(data, dict):
        raise InvalidInput("The request is not valid.", [FieldError("body", "a JSON object", code="model_type")])
    value, type_ = data.get("value"), data.get("type")
    if isinstance(value, str) and (type_ is None or isinstance(type_, str)) and len(data) <= 1 + ("type" in data):
        return value, type_, {}  # the common lookup
    errors = []
    if not isinstance(value, str):
        errors.append(FieldError("value", "Field required" if "value" not in data else "Input should be a valid string",
                                 code="missing" if "value" not in data else "string_type"))
    if type_ is not None and not isinstance(type_, str):
        errors.append(FieldError("type", "Input should be a valid string", code="string_type"))
    extra: dict[str, str] = {}
    for k, most in zip(MESSAGE_FIELDS, (MAX_SENDER, MAX_PROOF), strict=True):
        v = data.get(k)
        if v is None:
            continue
        if not isinstance(v, str):
            errors.append(FieldError(k, "Input should be a valid string", code="string_type"))
        elif len(v) > most:
            errors.append(FieldError(k, f"String should have at most {most} characters", code="string_too_long"))
        elif v.strip():
            extra[k] = v.strip()
    errors += [FieldError(k, "Extra inputs are not permitted", code="extra_forbidden")
               for k in data if k not in ("value", "type", *MESSAGE_FIELDS)]
    if extra and isinstance(type_, str) and type_ not in ("message", "qr"):
        errors.append(FieldError(next(iter(extra)), "goes with a message (type message or qr)", code="message_only"))
    if errors or not isinstance(value, str) or not (type_ is None or isinstance(type_, str)):
        raise InvalidInput("The request is not valid.", errors)
    return value, type_, extra


class _MessageBody:
    """One ``POST /v1/check`` request read for ``CheckService.respond``, with a message's sender and
    proof: a value that comes with either is answered as a message (``type`` ``message`` unless
    ``qr``), with the proven number when the proof is live (401 when it is not)."""

    __slots__ = ("extra", "p")

    def __init__(self, p: Platform) -> None:
        self.p = p
        self.extra: dict[str, str] = {}

    def read(self, raw: bytes) -> tuple[str, str | None]:
        value, type_, self.extra = _check_fields(raw)
        return value, ("message" if self.extra and type_ is None else type_)

    async def answer(self, value: str, type_: str | None, error: InvalidInput) -> bytes:
        proof = self.extra.get("proof")
        phone = await run_in_threadpool(self.p.senders.proven, proof) if proof else None
        return await self.p.messages.respond(value, type_, error, sender=self.extra.get("sender"), phone=phone)


def check_body(p: Platform, raw: bytes, scope) -> Awaitable[bytes]:
    """``POST /v1/check``, the benchmarked hot path (benchmarks/bench_check.py), answered by
    ``CheckService.respond`` on the event loop (awaited by the caller: no coroutine of its own in
    between). API-key authentication goes to the thread pool first."""
    require_json(scope, "lookup")
    if any(k == b"authorization" for k, _ in scope["headers"]):
        return _keyed_check(p, raw, scope)
    body = _MessageBody(p)
    return p.intel.checks.respond(raw, client_key(scope, None), body.read, body.answer)


async def _keyed_check(p: Platform, raw: bytes, scope) -> bytes:
    who = await run_in_threadpool(optional_principal, Request(scope))
    body = _MessageBody(p)
    return await p.intel.checks.respond(raw, client_key(scope, who), body.read, body.answer)


REPORT_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": ReportIn.model_json_schema()},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "report": {"type": "string", "description": "The report as JSON"},
        "evidence": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}}


@router.post("/reports", status_code=201, openapi_extra={**REPORT_BODY, **openapi_security(ANONYMOUS, api_key("intel:report"))},
             responses={**PUBLIC_ERRORS, 413: {"description": "The body, an evidence file or their count is over "
                                                              "its limit"}})
async def report(request: Request, who: Principal | None = Depends(optional_principal),
                 p: Platform = Depends(platform)) -> dict:
    """Report a scam: JSON, or multipart with a ``report`` JSON field and ``evidence`` files
    (images, PDFs, audio; type decided by content; size and count capped)."""
    s = p.settings
    # The body's size is bounded by ``BodyLimit`` (app.py): ``Settings.report_body_bytes`` on this path.
    uploads: list[Upload] = []
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form(max_files=s.intel_evidence_max_files + 1, max_fields=10,
                                  max_part_size=s.intel_evidence_max_bytes + 1)
        raw = form.get("report")
        if not isinstance(raw, str):
            raise InvalidInput("The report was not accepted.", [FieldError("report", "a JSON field is required")])
        for f in form.getlist("evidence"):
            if isinstance(f, str):
                continue
            content = await f.read(s.intel_evidence_max_bytes + 1)
            uploads.append(Upload(content, f.content_type))
    else:
        raw = (await request.body()).decode("utf-8", "replace")
    try:
        body = ReportIn.model_validate(loads_json(raw, "report"))
    except InvalidInput as e:
        raise InvalidInput("The report was not accepted.", e.errors) from None
    except (ValueError, TypeError) as e:
        errors = getattr(e, "errors", None)
        fields = [FieldError(".".join(str(x) for x in err["loc"]) or "report", err["msg"])
                  for err in errors()] if callable(errors) else [FieldError("report", "not valid JSON")]
        raise InvalidInput("The report was not accepted.", fields) from None
    data = body.model_dump()
    data["indicators"] = [i if isinstance(i, str) else {"value": i["value"], "type": i["type"]}
                          for i in data["indicators"]]
    return await run_in_threadpool(lambda: p.intel.report(**data, evidence=uploads, principal=who,
                                                          client=client_key(request.scope, who)))


@router.post("/appeals", status_code=201,
             responses={**PUBLIC_ERRORS, 409: {"description": "The indicator is not reported, or an appeal for it "
                                                              "is already open"}})
def appeal(body: AppealIn, request: Request, who: Principal | None = Depends(optional_principal),
           p: Platform = Depends(platform)) -> dict:
    """The owner of a flagged indicator asks for review; shown as disputed until decided."""
    return p.intel.appeal(**body.model_dump(), principal=who, client=client_key(request.scope, who))


@router.get("/intel/official")
def official_list(org: str | None = None, p: Platform = Depends(platform)) -> dict:
    """Verified official channels (public information)."""
    return {"items": p.intel.official_list(org_code=org, status="verified")}


@router.post("/intel/official", status_code=201,
             openapi_extra=openapi_security(api_key("intel:official"), api_key("intel:admin")),
             responses={409: {"description": "The channel is already registered"}})
def official_add(body: ChannelIn, who: Principal = Depends(principal), p: Platform = Depends(platform)) -> dict:
    """Register an official channel of your organisation (``intel:official``), or of any organisation
    named in ``org`` (``intel:admin``); pending until a platform administrator verifies it."""
    return p.intel.official_add(who, kind=body.kind, value=body.value, label=body.label, org_code=body.org)


@router.post("/intel/official/{channel_id}/verify", openapi_extra=ADMIN)
def official_verify(channel_id: RowId, body: StatusNote | None = None, who: Principal = Depends(principal),
                    p: Platform = Depends(platform)) -> dict:
    """Verify a pending official channel (platform administrators): reports never flag it afterwards."""
    return p.intel.official_set_status(who, channel_id, status="verified", note=body.note if body else "")


@router.post("/intel/official/{channel_id}/revoke", openapi_extra=ADMIN)
def official_revoke(channel_id: RowId, body: StatusNote | None = None, who: Principal = Depends(principal),
                    p: Platform = Depends(platform)) -> dict:
    """Revoke an official channel (platform administrators)."""
    return p.intel.official_set_status(who, channel_id, status="revoked", note=body.note if body else "")


@router.get("/intel/queue", openapi_extra=ANALYST)
def queue(limit: int = Query(50, ge=1, le=500), who: Principal = Depends(principal),
          p: Platform = Depends(platform)) -> dict:
    """The analysts' review queue: open appeals (overdue first), held reports, corroborated indicators."""
    return {"items": p.intel.queue(who, limit=limit)}


@router.get("/intel/indicators/{indicator_id}", openapi_extra=ANALYST)
def indicator(indicator_id: RowId, reveal: bool = False, who: Principal = Depends(principal),
              p: Platform = Depends(platform)) -> dict:
    """An indicator for analysts; ``reveal=true`` decrypts report texts and contacts (logged first)."""
    return p.intel.indicator(who, indicator_id, reveal=reveal)


@router.post("/intel/indicators/{indicator_id}/decision", openapi_extra=ANALYST,
             responses={409: {"description": "A verified official channel cannot be confirmed as a scam"}})
def decide(indicator_id: RowId, body: DecisionIn, who: Principal = Depends(principal),
           p: Platform = Depends(platform)) -> dict:
    """An analyst's decision on an indicator (confirm, dispute, delist or clear), in its history and the
    access log."""
    return p.intel.decide(who, indicator_id, action=body.action, note=body.note, source=body.source)


@router.post("/intel/reports/{report_id}/review", openapi_extra=ANALYST,
             responses={409: {"description": "A merged duplicate is reviewed with the report it was merged into"}})
def review(report_id: str, body: ReviewIn, who: Principal = Depends(principal),
           p: Platform = Depends(platform)) -> dict:
    """Accept a held report (it counts towards the verdict) or reject an abusive one."""
    return p.intel.review_report(who, report_id, action=body.action, note=body.note)


@router.post("/intel/appeals/{appeal_id}/decision", openapi_extra=ANALYST,
             responses={409: {"description": "The appeal was already decided"}})
def decide_appeal(appeal_id: str, body: AppealDecisionIn, who: Principal = Depends(principal),
                  p: Platform = Depends(platform)) -> dict:
    """Decide an appeal: uphold it (the indicator is delisted) or reject it (the reports stand)."""
    return p.intel.decide_appeal(who, appeal_id, uphold=body.uphold, note=body.note)


@router.get("/intel/losses", openapi_extra=ANALYST)
def losses(months: int = Query(12, ge=1, le=60), who: Principal = Depends(principal),
           p: Platform = Depends(platform)) -> dict:
    """Reports and the amounts people reported losing, per category and month (Viet Nam time), for analysts."""
    return p.intel.losses.for_analysts(who, months=months)


@router.get("/losses", openapi_extra=openapi_security(ANONYMOUS))
def public_losses(months: int = Query(12, ge=1, le=60), p: Platform = Depends(platform)) -> dict:
    """Anonymous totals of reported scam losses per category and month: a category's figure for a month is
    shown only when at least five reports make it up (smaller ones are counted under ``other``)."""
    return p.intel.losses.public(months=months)
