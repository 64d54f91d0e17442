"""Shipment, label and statistics routes."""

from __future__ import annotations


from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from postguard.api.deps import platform, principal
from postguard.api.limits import import_upload
from postguard.http.address import served_url
from postguard.http.security import Responses, api_key, openapi_security
from postguard.orgs.service import Principal
from postguard.platform import Platform

router = APIRouter(prefix="/v1", tags=["shipments"])

class ShipmentIn(BaseModel):
    """A shipment as an operator's system sends it. Values are checked by the same rules as the CSV import."""

    model_config = ConfigDict(extra="forbid")
    waybill: str
    sender_name: str
    sender_phone: str
    sender_address: str
    recipient_name: str
    recipient_phone: str
    recipient_address: str
    recipient_province: str = Field(description="Official name (with or without prefix or diacritics) or code")
    recipient_ward: str = Field(description="Official name (with or without prefix or diacritics) or code")
    goods_description: str | None = None
    cod_amount_vnd: int | str = 0
    weight_grams: int | str

class PhoneQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(description="Any Vietnamese form: 0912 345 678, +84912345678, 84-912-345-678, ...")

class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str

class LabelsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    waybills: list[str] = Field(min_length=1)

PDF = {"content": {"application/pdf": {}}, "description": "Privacy labels, one 100 × 150 mm page each"}

WRITE, READ = openapi_security(api_key("shipments:write")), openapi_security(api_key("shipments:read"))
PRINT = openapi_security(api_key("labels:print"))
SHREDDED: Responses = {410: {"description": "A shipment's personal data was crypto-shredded: no label can be printed"}}


@router.post("/shipments", status_code=201, openapi_extra=WRITE,
             responses={409: {"description": "A shipment with this waybill already exists"}})
def create_shipment(body: ShipmentIn, who: Principal = Depends(principal), p: Platform = Depends(platform)) -> dict:
    """Create one shipment (the CSV columns as JSON fields, checked by the same rules as the import);
    answers its masked view."""
    return p.shipments.create(who, body.model_dump())

@router.post(
    "/shipments/import",
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True},
                   **WRITE},
)
async def import_shipments(request: Request, who: Principal = Depends(principal), p: Platform = Depends(platform)) -> dict:
    """Upload a CSV (the import format; UTF-8 with or without BOM) as the request body."""
    report = await import_upload(request, p.settings.max_upload_bytes, lambda f: p.shipments.import_csv(who, f))
    return report.as_dict()

@router.get("/shipments", openapi_extra=READ)
def list_shipments(
    status: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    after: str | None = Query(None, description="Cursor: the last waybill of the previous page"),
    who: Principal = Depends(principal),
    p: Platform = Depends(platform),
) -> dict:
    """The organisation's shipments, masked, paged by waybill (``next`` is the ``after`` of the next page)."""
    return p.shipments.list(who, status=status, limit=limit, after=after)

@router.post("/shipments/search", openapi_extra=openapi_security(api_key("shipments:search")))
def search_shipments(body: PhoneQuery, who: Principal = Depends(principal), p: Platform = Depends(platform)) -> dict:
    """Search by sender or recipient phone. The number travels in the body, never in a URL."""
    return {"items": p.shipments.search_by_phone(who, body.phone)}

@router.get("/shipments/{waybill}", openapi_extra=READ)
def get_shipment(waybill: str, who: Principal = Depends(principal), p: Platform = Depends(platform)) -> dict:
    """One shipment of the organisation, masked."""
    return p.shipments.get(who, waybill)

@router.post("/shipments/{waybill}/status", openapi_extra=WRITE,
             responses={409: {"description": "Not a step of the shipment's lifecycle from its current status"}})
def set_status(waybill: str, body: StatusIn, who: Principal = Depends(principal),
               p: Platform = Depends(platform)) -> dict:
    """Move a shipment along its lifecycle (created → picked_up → in_transit → out_for_delivery →
    delivered, returned or cancelled)."""
    return p.shipments.set_status(who, waybill, body.status)

@router.post("/shipments/{waybill}/shred", status_code=204, openapi_extra=WRITE)
def shred(waybill: str, who: Principal = Depends(principal), p: Platform = Depends(platform)) -> Response:
    """Crypto-shred the shipment's personal data now (its key is destroyed; anonymous statistics stay)."""
    p.shipments.shred(who, waybill)
    return Response(status_code=204)

@router.get("/shipments/{waybill}/label.pdf", response_class=Response, responses={200: PDF, **SHREDDED},
            openapi_extra=PRINT)
def label(waybill: str, request: Request, who: Principal = Depends(principal),
          p: Platform = Depends(platform)) -> Response:
    """One privacy label (PDF, 100 × 150 mm): masked names and phones (businesses by name), routing, COD,
    a barcode, an opaque QR token, the operator's hotline and the call-check address. Links lead to
    POSTGUARD_PUBLIC_BASE_URL, else to the address the request came on."""
    pdf = p.labels.render(who, [waybill], site=p.settings.site_url(served_url(request)))
    return Response(pdf, media_type="application/pdf")

@router.post("/labels", response_class=Response, openapi_extra=PRINT,
             responses={200: PDF, 404: {"description": "A waybill names no shipment of the organisation"}, **SHREDDED})
def labels(body: LabelsIn, request: Request, who: Principal = Depends(principal),
           p: Platform = Depends(platform)) -> Response:
    """Privacy labels of up to 5,000 waybills in one PDF, a page each; an unknown waybill is 404."""
    pdf = p.labels.render(who, body.waybills, site=p.settings.site_url(served_url(request)))
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": 'attachment; filename="labels.pdf"'})

@router.get("/stats", openapi_extra=READ)
def stats(who: Principal = Depends(principal), p: Platform = Depends(platform)) -> dict:
    """Anonymous statistics (kept after personal data is shredded)."""
    return p.shipments.stats(who)
