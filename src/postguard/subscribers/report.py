"""The audit's HTML report (pure): one self-contained page, charts drawn as inline SVG, no script.

It holds aggregates only (counts by reason, by point of sale and by day): no number, name or ID.
"""

from __future__ import annotations

from html import escape

from postguard.subscribers.checks import BY_CODE

PALETTE = ("#b91c1c", "#c2410c", "#a16207", "#15803d", "#0e7490", "#1d4ed8", "#6d28d9", "#be185d")


def _bars(by_reason: dict[str, int]) -> str:
    """Horizontal bars: flagged SIMs by reason."""
    items = [(c, n) for c, n in sorted(by_reason.items(), key=lambda kv: -kv[1]) if n]
    if not items:
        return "<p>Không có cờ nào. / No flags.</p>"
    top = max(n for _, n in items)
    row, label_w, bar_w = 22, 170, 420
    parts = [f'<svg role="img" aria-label="Flags by reason" width="{label_w + bar_w + 80}" '
             f'height="{row * len(items) + 10}" xmlns="http://www.w3.org/2000/svg" font-size="12">']
    for k, (code, n) in enumerate(items):
        y = 5 + k * row
        w = max(1, round(bar_w * n / top))
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{escape(code)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row - 6}" fill="{PALETTE[k % 8]}">'
                     f'<title>{escape(BY_CODE[code].en)}</title></rect>'
                     f'<text x="{label_w + w + 4}" y="{y + 14}">{n:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _lines(series: dict[str, dict[str, int]]) -> str:
    """One line per point of sale: flagged activations per day."""
    days = sorted({d for per in series.values() for d in per})
    if not days:
        return "<p>Không có dữ liệu. / No data.</p>"
    width, height, left, bottom = 720, 260, 40, 30
    top = max(max(per.values()) for per in series.values() if per) or 1
    span = max(1, len(days) - 1)
    index = {d: i for i, d in enumerate(days)}

    def x(d: str) -> float:
        return left + (width - left - 10) * index[d] / span

    def y(n: int) -> float:
        return height - bottom - (height - bottom - 10) * n / top

    parts = [f'<svg role="img" aria-label="Flags by point of sale over time" width="{width}" height="{height + 20 * len(series)}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="11">',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#555"/>',
             f'<line x1="{left}" y1="10" x2="{left}" y2="{height - bottom}" stroke="#555"/>',
             f'<text x="{left - 4}" y="14" text-anchor="end">{top}</text>',
             f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end">0</text>',
             f'<text x="{left}" y="{height - bottom + 16}">{escape(days[0])}</text>',
             f'<text x="{width - 10}" y="{height - bottom + 16}" text-anchor="end">{escape(days[-1])}</text>']
    for k, (shop, per) in enumerate(series.items()):
        color = PALETTE[k % 8]
        points = " ".join(f"{x(d):.1f},{y(per.get(d, 0)):.1f}" for d in days)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{points}">'
                     f'<title>{escape(shop)}</title></polyline>')
        parts.append(f'<rect x="{left}" y="{height + 20 * k + 2}" width="12" height="12" fill="{color}"/>'
                     f'<text x="{left + 18}" y="{height + 20 * k + 12}">{escape(shop)} ({sum(per.values()):,})</text>')
    parts.append("</svg>")
    return "".join(parts)


def render(result: dict, *, measured: dict | None = None) -> str:
    """The page for ``AuditResult.as_dict()`` (and, with ``measured``, recall and precision)."""
    reasons = "".join(
        f"<tr><td><code>{escape(r['code'])}</code></td><td>{result['by_reason'].get(r['code'], 0):,}</td>"
        f"<td>{escape(r['vi'])}<br><span class=en>{escape(r['en'])}</span></td></tr>"
        for r in result["reasons"] if result["by_reason"].get(r["code"]))
    shops = "".join(f"<tr><td>{k + 1}</td><td>{escape(s['point_of_sale'])}</td><td>{s['flagged']:,}</td></tr>"
                    for k, s in enumerate(result["top_points_of_sale"]))
    quality = ""
    if measured:
        per = "".join(f"<tr><td>{escape(p)}</td><td>{v if v is not None else '-'}</td></tr>"
                      for p, v in measured["recall_by_pattern"].items())
        quality = (f"<h2>Độ chính xác trên mẫu cài sẵn / Recall and precision on planted patterns</h2>"
                   f"<p>recall {measured['recall']} · precision {measured['precision']} · planted "
                   f"{measured['planted']:,} · flagged {measured['flagged']:,}</p><table><tr><th>pattern</th>"
                   f"<th>recall</th></tr>{per}</table>")
    share = result["flagged"] / result["records"] if result["records"] else 0
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Rà soát SIM rác – {escape(result['org'])}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#111}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}
.en{{color:#555}}h1{{font-size:1.5em}}</style></head><body>
<h1>Rà soát thông tin thuê bao và SIM rác <span class=en>/ Subscriber and junk-SIM audit</span></h1>
<p>Nhà mạng / carrier <b>{escape(result['org'])}</b> · {escape(result['at'])}</p>
<p><b>{result['records']:,}</b> thuê bao đã rà soát / SIMs audited · <b>{result['flagged']:,}</b> bị gắn cờ / flagged
({share:.1%}) · {result['cases_opened']:,} hồ sơ mới / new cases · {result['cases_updated']:,} cập nhật / updated</p>
<h2>Cờ theo lý do <span class=en>/ Flags by reason</span></h2>
{_bars(result['by_reason'])}
<table><tr><th>lý do / reason</th><th>SIM</th><th>việc cần làm / what to do</th></tr>{reasons}</table>
<h2>Cờ theo điểm bán theo thời gian <span class=en>/ Flags by point of sale over time</span></h2>
{_lines(result['by_point_of_sale_day'])}
<h2>Điểm bán có nhiều kích hoạt bị gắn cờ nhất <span class=en>/ Points of sale with the most flagged activations</span></h2>
<table><tr><th>#</th><th>điểm bán / point of sale</th><th>SIM bị gắn cờ / flagged</th></tr>{shops}</table>
{quality}
<p class=en>Chỉ số liệu tổng hợp: báo cáo không chứa số thuê bao, họ tên hay số giấy tờ. / Aggregates only: no
number, name or ID number is in this report.</p>
</body></html>
"""
