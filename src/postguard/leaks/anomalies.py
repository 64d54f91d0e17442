"""Access anomaly detection, as pure functions: per-actor features from access-log entries, then each
actor against the peer group of the same role.

Features (counted over the scanned span):

- ``reveals_per_hour``: the most reveals (``reveal``/``break_glass``, phone searches excluded) in one hour;
- ``outside_assignment``: reveals or refused reveal attempts by a courier of parcels not assigned to
  them at that moment;
- ``after_delivery``: reveals or attempts on parcels already delivered, returned or cancelled;
- ``phone_searches``: phone searches;
- ``exports``: exports of personal data;
- ``refusals``: refused reveals and refused pages.

An actor is flagged on a feature when its value reaches ``min_events`` AND ``ratio`` × the peer
median (a median below 1 counts as 1) AND a robust z-score (0.6745 · (x − median) / MAD) of ``z``
(an infinite score when the peers' MAD is 0). Volume features (reveals per hour, phone searches)
are compared with the peers who did any of that work; counts of bad events with every peer. Peer groups smaller than ``min_peers`` cannot be
compared; there only values of ``ratio`` × ``min_events`` or more are flagged. The absolute minimum
keeps a quiet peer group (everyone at 0 or 1) from flagging anyone who does a little.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

FEATURES = ("reveals_per_hour", "outside_assignment", "after_delivery", "phone_searches", "exports", "refusals")
DESCRIBE = {
    "reveals_per_hour": "reveals in one hour",
    "outside_assignment": "reveals or attempts on parcels not assigned to them",
    "after_delivery": "reveals or attempts on parcels after delivery",
    "phone_searches": "phone searches",
    "exports": "exports of personal data",
    "refusals": "refused reveals or pages",
}
SEVERITY = {"outside_assignment": "high", "after_delivery": "high", "exports": "high"}
REVEALS = ("reveal", "break_glass")
# Volume features depend on the day's workload: they are compared with the peers who did any of it
# (a courier on leave is not a peer of one out delivering). Counts of bad events are compared with all.
VOLUME = frozenset({"reveals_per_hour", "phone_searches"})


@dataclass(frozen=True)
class LogEntry:
    """What the detector needs of one access-log entry."""

    actor: str
    action: str
    at: datetime
    purpose: str | None = None
    waybills: tuple[str, ...] = ()


@dataclass(frozen=True)
class Thresholds:
    ratio: float = 5.0
    z: float = 3.5
    min_events: int = 10
    min_peers: int = 3


@dataclass(frozen=True)
class Finding:
    actor: str
    role: str
    feature: str
    value: float
    peer_median: float
    peers: int
    z: float
    reason: str
    severity: str = "medium"


@dataclass
class Context:
    """Facts from outside the log: when each parcel was finished, and each courier's assignments
    (actor → waybill → list of (start, end or None))."""

    finished_at: Mapping[str, datetime] = field(default_factory=dict)
    assignments: Mapping[str, Mapping[str, list[tuple[datetime, datetime | None]]]] = field(default_factory=dict)


def _assigned(ctx: Context, actor: str, waybill: str, at: datetime) -> bool:
    return any(start <= at and (end is None or at <= end)
               for start, end in ctx.assignments.get(actor, {}).get(waybill, ()))


def features(entries: Iterable[LogEntry], roles: Mapping[str, str], ctx: Context) -> dict[str, dict[str, float]]:
    """Per actor in ``roles`` (every member, so quiet peers count as zeros) and per feature."""
    out = {a: dict.fromkeys(FEATURES, 0.0) for a in roles}
    hourly: dict[str, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    for e in entries:
        f = out.get(e.actor)
        if f is None:
            continue
        if e.purpose == "phone_search":
            f["phone_searches"] += 1
            continue
        if e.action == "export":
            f["exports"] += 1
        if e.action in ("reveal_denied", "access_denied"):
            f["refusals"] += 1
        if e.action in REVEALS:
            hourly[e.actor][e.at.replace(minute=0, second=0, microsecond=0)] += 1
        if e.action in (*REVEALS, "reveal_denied", "export"):
            for w in e.waybills:
                done = ctx.finished_at.get(w)
                if done is not None and e.at > done:
                    f["after_delivery"] += 1
                if roles.get(e.actor) == "courier" and not _assigned(ctx, e.actor, w, e.at):
                    f["outside_assignment"] += 1
    for actor, hours in hourly.items():
        out[actor]["reveals_per_hour"] = float(max(hours.values()))
    return out


def robust_z(value: float, peers: list[float]) -> tuple[float, float]:
    """(median of peers, robust z-score of value against them)."""
    med = statistics.median(peers)
    mad = statistics.median([abs(x - med) for x in peers])
    if mad == 0:
        return med, (math.inf if value > med else 0.0)
    return med, 0.6745 * (value - med) / mad


def score(feats: Mapping[str, Mapping[str, float]], roles: Mapping[str, str], th: Thresholds) -> list[Finding]:
    """Every (actor, feature) that stands out from the actor's peers, with a reason."""
    groups: dict[str, list[str]] = defaultdict(list)
    for a, r in roles.items():
        groups[r].append(a)
    found = []
    for actor, role in sorted(roles.items()):
        peers_of = [p for p in groups[role] if p != actor]
        for name in FEATURES:
            v = feats.get(actor, {}).get(name, 0.0)
            if v < th.min_events:
                continue
            peers = [feats.get(p, {}).get(name, 0.0) for p in peers_of]
            if name in VOLUME:
                peers = [x for x in peers if x > 0]
            if len(peers) < th.min_peers:
                if v < th.ratio * th.min_events:
                    continue
                med, z = (statistics.median(peers) if peers else 0.0), math.inf
                why = f"with too few {role} peers to compare ({len(peers)}), over the absolute limit " \
                      f"{th.ratio * th.min_events:g}"
            else:
                med, z = robust_z(v, peers)
                if v < th.ratio * max(med, 1.0) or z < th.z:
                    continue
                zs = "∞" if math.isinf(z) else f"{z:.1f}"
                why = f"{v / max(med, 1.0):.1f}× the median of {len(peers)} {role} peers ({med:g}), robust z {zs}"
            found.append(Finding(actor, role, name, v, med, len(peers), z,
                                 f"{actor} ({role}): {v:g} {DESCRIBE[name]} — {why}.", SEVERITY.get(name, "medium")))
    return found
