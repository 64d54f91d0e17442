"""Private lookups: the k-anonymity bucket, a bare evaluation and the offline snapshot.

The server never receives the value being checked: only a short bucket prefix of an unkeyed hash
and a blinded OPRF element (see postguard.intel.lookup_client and docs/private-lookups.md). Every
evaluation counts against the caller's limit; nothing about a lookup is stored or logged."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from postguard.api.deps import client_key, optional_principal, platform
from postguard.orgs.service import Principal
from postguard.platform import Platform

router = APIRouter(prefix="/v1/lookup", tags=["private lookups"], responses={
    429: {"description": "Too many lookups from this client address (or, with a key, this organisation)"}})


class BucketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prefix: str = Field(description="The bucket: the first 8, 12 or 16 bits (2-4 hex digits) of SHA-256('postguard/intel/"
                                    "bucket/v1\\0' || type '\\0' normal form)", max_length=4)
    blinded: str = Field(description="RFC 9497 blinded element (ristretto255-SHA512), base64", max_length=64)


class EvaluateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    blinded: str = Field(description="RFC 9497 blinded element (ristretto255-SHA512), base64", max_length=64)


class BucketOut(BaseModel):
    evaluated: str = Field(description="The evaluated element, base64")
    outputs: list[str] = Field(description="Truncated (16-byte) OPRF outputs of every flagged indicator in the "
                                           "bucket, base64, sorted")
    prefix_bits: int
    key_id: str


class EvaluateOut(BaseModel):
    evaluated: str
    key_id: str


class SnapshotOut(BaseModel):
    format: str
    version: str
    key_id: str
    truncated_size: int
    count: int
    outputs: str = Field(description="The sorted truncated outputs, concatenated, base64")


@router.post("/bucket", response_model=BucketOut)
def bucket(body: BucketIn, request: Request, who: Principal | None = Depends(optional_principal),
           p: Platform = Depends(platform)) -> dict:
    """Evaluate a blinded element and return the flagged outputs of one bucket: the client finalizes
    the OPRF and looks for its output in the list. Rate limited (each call tests one guess)."""
    return p.lookups.bucket(prefix=body.prefix.lower(), blinded=body.blinded, client=client_key(request.scope, who))


@router.post("/evaluate", response_model=EvaluateOut)
def evaluate(body: EvaluateIn, request: Request, who: Principal | None = Depends(optional_principal),
             p: Platform = Depends(platform)) -> dict:
    """Evaluate a blinded element only (no bucket: nothing about the value is revealed), for
    clients that match against a downloaded snapshot. Shares the bucket endpoint's limit."""
    return p.lookups.evaluate(blinded=body.blinded, client=client_key(request.scope, who))


@router.get("/snapshot", response_model=SnapshotOut)
def snapshot(request: Request, response: Response, who: Principal | None = Depends(optional_principal),
             p: Platform = Depends(platform)):
    """Every flagged indicator's truncated OPRF output: without the server's key they cannot be
    tested against guesses, so the snapshot alone enumerates nothing. ``ETag`` is the version."""
    version = p.lookups.snapshot_version()
    etag = f'"{version}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    body = p.lookups.snapshot(client=client_key(request.scope, who))
    response.headers["ETag"] = f'"{body["version"]}"'
    return body
