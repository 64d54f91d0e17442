"""Transfer risk scoring (pure, no I/O): a score from 0 to 100, a level and the reasons.

The score is a sum of capped, non-negative parts, each non-decreasing in what it measures, so the
score never falls when a payee gets more reports or the amount grows (property-tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Weight of a reported payee by the verdict on it; a delisted payee counts for nothing.
VERDICT_WEIGHT = {"confirmed": 60.0, "corroborated": 45.0, "reported": 25.0, "disputed": 10.0, "delisted": 0.0}
HIGH, MEDIUM = 60.0, 30.0


@dataclass(frozen=True)
class Reason:
    code: str
    weight: float
    message: str

    def as_dict(self) -> dict:
        return {"code": self.code, "weight": round(self.weight, 1), "message": self.message}


@dataclass(frozen=True)
class Screening:
    risk: str
    score: float
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return {"risk": self.risk, "score": self.score, "reasons": [r.as_dict() for r in self.reasons]}


def level(score: float) -> str:
    return "high" if score >= HIGH else "medium" if score >= MEDIUM else "low"


def score_transfer(
    *,
    amount: int,
    high_amount: int,
    account_type: str,
    new_payee: bool,
    ip_country: str | None,
    home_country: str = "VN",
    payee_verdict: str | None = None,
    payee_reports: int = 0,
    payee_score: float = 0.0,
    cod_purpose: bool = False,
    cod_registered: bool = False,
) -> Screening:
    """Score one transfer. ``ip_country`` is None when the payer's address has no country (private,
    reserved or not in the database): that is a reason of its own, never a sign of safety."""
    reasons: list[Reason] = []
    if cod_purpose and not cod_registered:
        reasons.append(Reason("unregistered_cod_payee", 35.0,
                              "A payment for COD, a fee or a refund to an account that is no operator's "
                              "registered COD account: operators collect COD only into registered accounts."))
    if payee_verdict is not None and payee_verdict != "delisted":
        base = VERDICT_WEIGHT.get(payee_verdict, VERDICT_WEIGHT["reported"])
        extra = min(20.0, 5.0 * math.log2(1 + max(0, payee_reports))) + 10.0 * max(0.0, min(1.0, payee_score))
        reasons.append(Reason("reported_payee", base + extra,
                              f"The payee account is in the scam database ({payee_verdict}, "
                              f"{payee_reports} reports)."))
    if ip_country is None:
        reasons.append(Reason("ip_country_unknown", 5.0 if account_type == "business" else 2.0,
                              "The payer's IP address has no known country."))
    elif ip_country != home_country:
        if account_type == "business":
            reasons.append(Reason("business_foreign_ip", 30.0,
                                  f"A business account is transacting from a foreign IP address ({ip_country})."))
        else:
            reasons.append(Reason("foreign_ip", 10.0, f"The payer's IP address is abroad ({ip_country})."))
    ratio = max(0, amount) / high_amount
    if new_payee:
        if ratio >= 1:
            reasons.append(Reason("new_payee_high_amount", 20.0 + min(10.0, 5.0 * math.log2(ratio)),
                                  "A high amount to a payee never paid before."))
        else:
            reasons.append(Reason("new_payee", 5.0, "The payee was never paid before."))
    elif ratio >= 1:
        reasons.append(Reason("high_amount", 5.0 + min(5.0, 2.5 * math.log2(ratio)), "A high amount."))
    total = round(min(100.0, sum(r.weight for r in reasons)), 1)
    reasons.sort(key=lambda r: -r.weight)
    return Screening(risk=level(total), score=total, reasons=tuple(reasons))
