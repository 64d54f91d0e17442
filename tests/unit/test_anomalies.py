"""The anomaly detector as pure functions: normal behaviour over wide ranges never alerts; a planted
outlier is caught with the right feature and reason; quiet or tiny peer groups do not flag everyone."""

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from postguard.leaks.anomalies import (
    FEATURES,
    Context,
    LogEntry,
    Thresholds,
    features,
    robust_z,
    score,
)

TH = Thresholds()
T0 = datetime(2026, 11, 20, 8, tzinfo=timezone.utc)

# Per-courier behaviour seen on a normal day: reveals per peak hour, parcels outside assignments
# (refused slips), attempts after delivery, refusals.
normal_courier = st.fixed_dictionaries({
    "reveals_per_hour": st.just(0) | st.integers(3, 14),  # off duty, or out delivering
    "outside_assignment": st.integers(0, 3),
    "after_delivery": st.integers(0, 3),
    "phone_searches": st.just(0),
    "exports": st.just(0),
    "refusals": st.integers(0, 6),
})


@given(st.lists(normal_courier, min_size=1, max_size=40))
def test_normal_behaviour_never_alerts(people):
    feats = {f"staff:{i}": {k: float(v) for k, v in f.items()} for i, f in enumerate(people)}
    roles = dict.fromkeys(feats, "courier")
    assert score(feats, roles, TH) == []


@given(st.lists(normal_courier, min_size=20, max_size=40), st.sampled_from(["outside_assignment", "after_delivery"]),
       st.integers(10, 40))
def test_a_tenfold_outlier_is_caught_with_its_reason(people, feature, times):
    feats = {f"staff:{i}": {k: float(v) for k, v in f.items()} for i, f in enumerate(people)}
    peers_max = max(f[feature] for f in feats.values())
    feats["staff:bad"] = {**dict.fromkeys(FEATURES, 0.0), feature: float(max(peers_max, 1) * times)}
    roles = dict.fromkeys(feats, "courier")
    found = score(feats, roles, TH)
    assert [(f.actor, f.feature) for f in found] == [("staff:bad", feature)]
    assert found[0].severity == "high" and "courier peers" in found[0].reason


def test_a_quiet_group_does_not_flag_a_little_activity():
    feats = {f"staff:{i}": dict.fromkeys(FEATURES, 0.0) for i in range(10)}
    feats["staff:1"]["after_delivery"] = 9.0  # ∞ z-score, 9× the median, but under the absolute minimum
    assert score(feats, dict.fromkeys(feats, "courier"), TH) == []
    feats["staff:1"]["after_delivery"] = 10.0
    (f,) = score(feats, dict.fromkeys(feats, "courier"), TH)
    assert f.feature == "after_delivery" and "∞" in f.reason


def test_reveal_volume_is_compared_with_peers_at_work():
    feats = {f"staff:{i}": dict.fromkeys(FEATURES, 0.0) for i in range(10)}
    for i in range(4):
        feats[f"staff:{i}"]["reveals_per_hour"] = 6.0 + i
    feats["staff:9"]["reveals_per_hour"] = 12.0  # busy, not strange: the six off duty do not count
    roles = dict.fromkeys(feats, "courier")
    assert score(feats, roles, TH) == []
    feats["staff:9"]["reveals_per_hour"] = 60.0
    assert [(f.actor, f.feature) for f in score(feats, roles, TH)] == [("staff:9", "reveals_per_hour")]


def test_roles_are_compared_only_with_their_own_peers():
    feats = {f"staff:c{i}": {**dict.fromkeys(FEATURES, 0.0), "reveals_per_hour": 2.0} for i in range(6)}
    feats |= {f"staff:s{i}": {**dict.fromkeys(FEATURES, 0.0), "reveals_per_hour": 40.0} for i in range(6)}
    roles = {a: ("courier" if "c" in a.split(":")[1] else "cs") for a in feats}
    assert score(feats, roles, TH) == []  # a busy customer-service desk is not compared with couriers


def test_small_groups_use_the_absolute_limit():
    feats = {"staff:1": {**dict.fromkeys(FEATURES, 0.0), "exports": 49.0},
             "staff:2": dict.fromkeys(FEATURES, 0.0)}
    roles = dict.fromkeys(feats, "dpo")
    assert score(feats, roles, TH) == []
    feats["staff:1"]["exports"] = 50.0
    (f,) = score(feats, roles, TH)
    assert f.feature == "exports" and "too few dpo peers" in f.reason


def test_thresholds_are_honoured():
    feats = {f"staff:{i}": {**dict.fromkeys(FEATURES, 0.0), "refusals": float(i % 3)} for i in range(12)}
    feats["staff:x"] = {**dict.fromkeys(FEATURES, 0.0), "refusals": 12.0}
    roles = dict.fromkeys(feats, "courier")
    assert [f.actor for f in score(feats, roles, TH)] == ["staff:x"]
    assert score(feats, roles, Thresholds(min_events=13)) == []
    assert score(feats, roles, Thresholds(ratio=13)) == []
    assert score(feats, roles, Thresholds(z=100)) == []


@given(st.floats(0, 1e6), st.lists(st.floats(0, 1e6), min_size=1, max_size=30))
def test_robust_z_is_positive_only_above_the_median(v, peers):
    med, z = robust_z(v, peers)
    assert (z > 0) == (v > med)


def test_features_from_log_entries():
    ctx = Context(finished_at={"W2": T0 + timedelta(minutes=30)},
                  assignments={"staff:1": {"W1": [(T0 - timedelta(hours=1), None)],
                                           "W2": [(T0 - timedelta(hours=1), T0 + timedelta(minutes=30))]}})
    entries = [
        LogEntry("staff:1", "reveal", T0, "delivery", ("W1",)),
        LogEntry("staff:1", "reveal", T0 + timedelta(minutes=10), "delivery", ("W2",)),
        LogEntry("staff:1", "reveal_denied", T0 + timedelta(minutes=40), "delivery", ("W2",)),  # after delivery
        LogEntry("staff:1", "reveal_denied", T0 + timedelta(minutes=50), "delivery", ("W3",)),  # never assigned
        LogEntry("staff:1", "reveal", T0 + timedelta(hours=2), "delivery", ("W1",)),
        LogEntry("apikey:k", "reveal", T0, "phone_search", ("W1", "W2", "W3")),
        LogEntry("staff:9", "export", T0, None, ("W1",)),
        LogEntry("staff:ghost", "reveal", T0, "delivery", ("W1",)),  # not a current member: ignored
    ]
    roles = {"staff:1": "courier", "staff:2": "courier", "apikey:k": "apikey", "staff:9": "dpo"}
    f = features(entries, roles, ctx)
    assert f["staff:1"] == {"reveals_per_hour": 2.0, "outside_assignment": 2.0, "after_delivery": 1.0,
                            "phone_searches": 0.0, "exports": 0.0, "refusals": 2.0}
    assert f["staff:2"] == dict.fromkeys(FEATURES, 0.0)
    assert f["apikey:k"]["phone_searches"] == 1.0 and f["apikey:k"]["outside_assignment"] == 0.0
    assert f["staff:9"]["exports"] == 1.0 and "staff:ghost" not in f
