"""What scams cost: the amounts people reported losing, per category and month (Viet Nam's calendar).

Analysts see every figure (``Losses.for_analysts``); everyone sees the anonymous totals
(``Losses.public``): a category's figure for a month is shown only when at least ``MIN_REPORTS``
reports make it up (a smaller cell could single out a person's report), otherwise it is folded into
"other". Sums and counts are computed in the database (one grouped query, its month bucket in Viet Nam
time on each dialect); merged duplicates and rejected reports do not count.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from postguard.db.base import utcnow
from postguard.intel.models import Report
from postguard.intel.reports import CATEGORIES
from postguard.intel.store import bad_field
from postguard.principals import Principal

if TYPE_CHECKING:
    from postguard.db import Database
    from postguard.orgs.service import OrgService

MIN_REPORTS = 5
VN_OFFSET_HOURS = 7  # Viet Nam keeps UTC+7 all year
_VN = timezone(timedelta(hours=VN_OFFSET_HOURS), "ICT")


def _month(dialect: str) -> ColumnElement[str]:
    if dialect == "postgresql":
        return func.to_char(func.timezone("Asia/Ho_Chi_Minh", Report.created_at), "YYYY-MM")
    return func.strftime("%Y-%m", Report.created_at, literal_column(f"'+{VN_OFFSET_HOURS} hours'"))


def _months_back(local: datetime, months: int) -> list[str]:
    """The ``months`` calendar months up to ``local``'s, oldest first, as ``YYYY-MM``."""
    y, m = local.year, local.month
    out = []
    for _ in range(months):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


PUBLIC_SECONDS = 300  # the public page's figures are kept this long per worker (one grouped query, not one a visit)


class Losses:
    def __init__(self, *, db: Database, orgs: OrgService) -> None:
        self.db, self.orgs = db, orgs
        self._public: dict[int, tuple[float, dict[str, Any]]] = {}

    def _rows(self, months: int, now: datetime) -> tuple[list[str], list[tuple[str, str, int, int, int]]]:
        if not 1 <= months <= 60:
            raise bad_field("months", "between 1 and 60")
        local = now.astimezone(_VN)
        wanted = _months_back(local, months)
        start = datetime(int(wanted[0][:4]), int(wanted[0][5:]), 1, tzinfo=_VN)
        with self.db.read_session() as s:
            month = _month(s.get_bind().dialect.name)
            rows = s.execute(select(month, Report.category, func.count(), func.count(Report.amount_lost_vnd),
                                    func.coalesce(func.sum(Report.amount_lost_vnd), 0))
                             .where(Report.created_at >= start, Report.status.not_in(("merged", "rejected")))
                             .group_by(month, Report.category)).all()
        return wanted, [(m, c, n, k, int(total or 0)) for m, c, n, k, total in rows if m in wanted]

    def for_analysts(self, principal: Principal, *, months: int = 12, now: datetime | None = None) -> dict[str, Any]:
        self.orgs.require(principal, "intel:analyst", subject="intel:losses")
        wanted, rows = self._rows(months, now or utcnow())
        cells = {(m, c): {"reports": n, "with_amount": k, "lost_vnd": t} for m, c, n, k, t in rows}
        series = [{"category": c, "months": [cells.get((m, c), {"reports": 0, "with_amount": 0, "lost_vnd": 0})
                                             for m in wanted]}
                  for c in CATEGORIES if any((m, c) in cells for m in wanted)]
        return {"months": wanted, "series": series, **_totals(wanted, rows)}

    def public(self, *, months: int = 12, now: datetime | None = None) -> dict[str, Any]:
        """Anonymous totals: cells of fewer than ``MIN_REPORTS`` reports are folded into ``other``. Kept
        ``PUBLIC_SECONDS`` per worker (``now`` given: computed afresh)."""
        kept = self._public.get(months)
        if now is None and kept is not None and kept[0] > time.monotonic():
            return kept[1]
        answer = self._anonymous(months, now or utcnow())
        if now is None:
            self._public[months] = (time.monotonic() + PUBLIC_SECONDS, answer)
        return answer

    def _anonymous(self, months: int, now: datetime) -> dict[str, Any]:
        wanted, rows = self._rows(months, now)
        shown: dict[tuple[str, str], list[int]] = {}
        folded: set[tuple[str, str]] = set()  # fewer than MIN_REPORTS: counted under "other", shown as withheld
        for m, c, n, _k, t in rows:
            if n < MIN_REPORTS:
                folded.add((m, c))
            cell = shown.setdefault((m, c if n >= MIN_REPORTS else "other"), [0, 0])
            cell[0], cell[1] = cell[0] + n, cell[1] + t
        withheld = {"reports": None, "lost_vnd": None}
        out = []
        for c in (*[c for c in CATEGORIES if c != "other"], "other"):
            if not any((m, c) in shown for m in wanted):
                continue
            cells = []
            for m in wanted:
                n, t = shown.get((m, c), [0, 0])
                small = (m, c) in folded or 0 < n < MIN_REPORTS  # "other" itself too small is withheld too
                cells.append(withheld if small else {"reports": n, "lost_vnd": t})
            out.append({"category": c, "months": cells})
        totals = _totals(wanted, rows)
        return {"months": wanted, "series": out, "min_reports": MIN_REPORTS,
                "reports": [n if n >= MIN_REPORTS or n == 0 else None for n in totals["reports"]],
                "lost_vnd": [t if n >= MIN_REPORTS or n == 0 else None
                             for n, t in zip(totals["reports"], totals["lost_vnd"], strict=True)],
                "total_lost_vnd": totals["total_lost_vnd"] if totals["total_reports"] >= MIN_REPORTS else None}


def _totals(wanted: list[str], rows: list[tuple[str, str, int, int, int]]) -> dict[str, Any]:
    reports = {m: 0 for m in wanted}
    lost = {m: 0 for m in wanted}
    for m, _c, n, _k, t in rows:
        reports[m] += n
        lost[m] += t
    return {"reports": list(reports.values()), "lost_vnd": list(lost.values()),
            "total_reports": sum(reports.values()), "total_lost_vnd": sum(lost.values())}

