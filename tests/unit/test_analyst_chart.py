"""The reports-per-day chart geometry (pure): bars stack inside the plot, heights are proportional to
the counts, and every non-zero count has exactly one segment."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from postguard.intel.service import CATEGORIES
from postguard.web.analyst import COLOURS, chart

CATS = list(CATEGORIES)


def _stats(counts: dict[str, list[int]], days: int) -> dict:
    start = date(2026, 3, 1)
    series = [{"category": c, "counts": counts[c], "total": sum(counts[c])} for c in CATS if c in counts]
    totals = [sum(s["counts"][i] for s in series) for i in range(days)]
    return {"days": [(start + timedelta(days=i)).isoformat() for i in range(days)], "series": series,
            "totals": totals, "total": sum(totals)}


@st.composite
def stats(draw):
    days = draw(st.integers(1, 40))
    cats = draw(st.lists(st.sampled_from(CATS), unique=True, max_size=6))
    counts = {c: draw(st.lists(st.integers(0, 500), min_size=days, max_size=days)) for c in cats}
    return _stats(counts, days)


@given(stats())
def test_bars_stack_inside_the_plot_in_proportion(s):
    g = chart(s)
    assert len(g["bars"]) == sum(1 for x in s["series"] for n in x["counts"] if n)
    top = max(s["totals"], default=0)
    for i, day in enumerate(s["days"]):
        segs = [b for b in g["bars"] if b["day"] == day]
        assert sum(b["count"] for b in segs) == s["totals"][i]
        for b in segs:
            assert g["axis_x"] <= b["x"] and b["x"] + b["w"] <= g["plot_right"] + 0.01
            assert 0 <= b["y"] + 0.011 and b["y"] + b["h"] <= g["axis_y"] + 0.011  # positions rounded to 0.01
            assert b["colour"] == COLOURS[b["category"]]
        if segs and top:
            height = sum(b["h"] for b in segs)
            tallest = (g["axis_y"] - 8) * s["totals"][i] / top
            assert abs(height - tallest) < 0.05 * len(segs)
    assert g["ticks"][0]["value"] == 0 and g["ticks"][-1]["value"] <= max(1, top)


def test_an_empty_month_draws_no_bars_but_an_axis():
    g = chart(_stats({}, 30))
    assert g["bars"] == [] and g["ticks"][0]["value"] == 0 and len(g["labels"]) == 7 and g["labels"][-1]["anchor"] == "end"


def test_every_report_category_has_its_own_colour():
    assert set(COLOURS) == set(CATEGORIES) and len(set(COLOURS.values())) == len(COLOURS)
