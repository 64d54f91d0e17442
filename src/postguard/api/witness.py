"""The witness's HTTP interface (C2SP tlog-witness), served by ``postguard witness serve``.

A separate app, never mounted in the platform's: a witness is run by another party, with its own
key and state (``postguard.audit.witness.Witness``) and no database. Errors leave as
problem+json like the API's, except the protocol's ``409``, which carries the witness's size as
``text/x.tlog.size``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from postguard.api import problems
from postguard.audit.witness import MAX_REQUEST_BYTES, SIZE_MEDIA_TYPE, Witness
from postguard.errors import PayloadTooLarge, WitnessConflict


def create_witness_app(witness: Witness) -> FastAPI:
    """The witness's HTTP interface (ASGI)."""
    app = FastAPI(title="postguard witness", docs_url=None, redoc_url=None, openapi_url=None)
    problems.install(app)

    @app.exception_handler(WitnessConflict)
    async def _conflict(request: Request, err: WitnessConflict):
        return Response(f"{err.size}\n", status_code=409, media_type=SIZE_MEDIA_TYPE)

    @app.post("/add-checkpoint")
    async def add_checkpoint(request: Request):
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_REQUEST_BYTES:
                raise PayloadTooLarge(f"The request is larger than {MAX_REQUEST_BYTES} bytes.")
            chunks.append(chunk)
        line = await run_in_threadpool(witness.add_checkpoint, b"".join(chunks))
        return PlainTextResponse(line)

    @app.get("/checkpoint")
    def checkpoint(origin: str):
        return PlainTextResponse(witness.latest(origin))

    @app.get("/key")
    def key():
        return PlainTextResponse(witness.verifier_key() + "\n")

    return app
