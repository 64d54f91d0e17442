"""Scam-intelligence routes: STIX / MISP exports, transfer screening, publishing warnings."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from postguard.api.deps import platform, principal, scoped
from postguard.http.security import api_key, openapi_security
from postguard.orgs.service import Principal
from postguard.platform import Platform

router = APIRouter(prefix="/v1", tags=["intelligence"])
screener = scoped("screen:transfer")
publisher = scoped("warnings:publish")


class Payee(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bank: str | None = Field(None, description="6-digit BIN (e.g. 970436) or a bank code (VCB, BIDV, ...)",
                             max_length=32)
    wallet: str | None = Field(None, description="an e-wallet instead of a bank: MoMo, ZaloPay, ViettelMoney, "
                               "VNPT Money, ShopeePay", max_length=32)
    account: str = Field(max_length=40, description="the account number, or the wallet's phone number")


class Payer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ip: str = Field(max_length=64, description="The payer's IP address (IPv4 or IPv6)")
    account_type: Literal["business", "personal"]
    new_payee: bool = Field(description="True when the payer never paid this payee before")


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payee: Payee
    amount: int = Field(gt=0, le=10**15, description="Amount in VND")
    payer: Payer
    purpose: Literal["cod", "fee", "refund", "other"] | None = Field(
        None, description="what the transfer is for, when the bank knows: cod, fee and refund to a payee that is "
                          "no operator's registered COD account are a risk of their own")


class WarningIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: str
    title_vi: str
    title_en: str
    body_vi: str
    body_en: str


@router.get("/intel/export", openapi_extra=openapi_security(api_key("intel:read")))
def export(format: Literal["stix", "misp"] = Query("stix"), who: Principal = Depends(principal),
           p: Platform = Depends(platform)) -> JSONResponse:
    """The indicators this key may read, as a STIX 2.1 bundle or a MISP event (TLP:AMBER ones only with
    ``intel:amber`` besides ``intel:read``)."""
    if format == "stix":
        return JSONResponse(p.sharing.export_stix(who), media_type="application/stix+json;version=2.1")
    return JSONResponse(p.sharing.export_misp(who))


@router.post("/screen/transfer")
def screen_transfer(body: TransferIn, who: Principal = Depends(screener),
                    p: Platform = Depends(platform)) -> dict:
    """Risk of a transfer: `low`, `medium` or `high`, a score from 0 to 100 and the reasons."""
    p.limiter.hit("600/minute", "screen", who.actor)
    return p.screening.screen(bank=body.payee.bank, wallet=body.payee.wallet, account=body.payee.account,
                              amount=body.amount, purpose=body.purpose,
                              ip=body.payer.ip, account_type=body.payer.account_type,
                              new_payee=body.payer.new_payee).as_dict()


@router.post("/warnings", status_code=201)
def publish_warning(body: WarningIn, who: Principal = Depends(publisher),
                    p: Platform = Depends(platform)) -> dict:
    """Publish a warning (Vietnamese and English); it is queued for every webhook subscriber."""
    return p.warnings.publish(author=f"{who.org_code}/{who.actor}", **body.model_dump()).as_dict()
