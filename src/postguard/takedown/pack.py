"""The evidence pack and the letter (pure functions, no I/O).

A pack is a ZIP: ``letter.txt`` (Vietnamese, then English: also the e-mail's body), the evidence
files under ``evidence/``, report texts an analyst chose to include under ``reports/``, and
``manifest.json``, which describes the site and the decision and lists every other file with its size
and SHA-256. The ZIP is deterministic: the same request and the same stored evidence give the same
bytes (entries in a fixed order, dated when the request was created), so the SHA-256 recorded when a
pack is sent identifies it later.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

FORMAT = "postguard-takedown-pack/1"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
              "image/heic": "heic", "application/pdf": "pdf", "audio/mpeg": "mp3", "audio/mp4": "m4a",
              "audio/ogg": "ogg", "audio/wav": "wav", "audio/amr": "amr", "text/plain": "txt"}
VN_TIME = timezone(timedelta(hours=7), "ICT")
KIND_VI = {"registrar": "nhà đăng ký / cơ quan quản lý tên miền", "hosting": "nhà cung cấp dịch vụ lưu trữ (hosting)",
           "platform": "nền tảng tạo / lưu trữ trang web"}
KIND_EN = {"registrar": "domain registrar / registry", "hosting": "hosting provider",
           "platform": "website platform"}


@dataclass(frozen=True)
class PackFile:
    name: str
    media_type: str
    data: bytes

    def entry(self) -> dict[str, Any]:
        return {"name": self.name, "media_type": self.media_type, "size": len(self.data),
                "sha256": hashlib.sha256(self.data).hexdigest()}


def evidence_name(position: int, evidence_id: int, media_type: str) -> str:
    return f"evidence/{position:02d}-{evidence_id}.{EXTENSIONS.get(media_type, 'bin')}"


def _day(iso: str | None) -> str:
    if not iso:
        return "—"
    return datetime.fromisoformat(iso).astimezone(VN_TIME).strftime("%Y-%m-%d %H:%M (UTC+7)")


def letter(m: dict[str, Any], *, sender_name: str, sender_email: str) -> str:
    """The letter for the manifest ``m`` (without its ``files``): Vietnamese first, then English. It
    names the site, the imitated brand and its official domains when known, the reasons, the report
    counts and the decision; never a reporter."""
    site, rec, brand = m["site"], m["recipient"], m.get("brand") or {}
    name, official = brand.get("name"), brand.get("official_domains") or []
    reasons = [*(m["reasons"].get("scanner") or []), *(r["text"] for r in m["reasons"].get("verdict") or [])]
    analyst = m["reasons"].get("analyst") or ""
    rep, dec = m["reports"], m["decision"]
    files = m.get("evidence_files", 0)
    target = site["value"] if site["type"] == "url" else site["host"]
    vi = [f"Kính gửi {rec['name']} ({KIND_VI[rec['kind']]}),", "",
          f"{sender_name} đề nghị quý đơn vị gỡ bỏ / tạm ngưng trang web lừa đảo sau:", "",
          f"  Trang web: {target}",
          f"  Tên miền: {site['host']}"]
    en = [f"To {rec['name']} ({KIND_EN[rec['kind']]}),", "",
          f"{sender_name} asks you to take down / suspend the following scam website:", "",
          f"  Website: {target}",
          f"  Domain: {site['host']}"]
    if name:
        vi.append(f"  Giả mạo thương hiệu: {name}")
        en.append(f"  Imitates the brand: {name}")
        if official:
            vi.append(f"  Tên miền chính thức của thương hiệu: {', '.join(official)}")
            en.append(f"  The brand's official domains: {', '.join(official)}")
    else:
        vi.append("  Thương hiệu bị giả mạo: chưa xác định")
        en.append("  Imitated brand: not determined")
    if brand.get("technique"):
        vi.append(f"  Kỹ thuật: {brand['technique']}")
        en.append(f"  Technique: {brand['technique']}")
    vi += [f"  Phát hiện lần đầu: {_day(site.get('first_seen'))}",
           f"  Số báo cáo từ người dân và tổ chức: {rep['count']} (từ {rep['distinct_reporters']} nguồn khác nhau)",
           f"  Kết luận của chuyên viên phân tích: lừa đảo (xác nhận lúc {_day(dec.get('at'))})"]
    en += [f"  First seen: {_day(site.get('first_seen'))}",
           f"  Reports from citizens and organisations: {rep['count']} (from {rep['distinct_reporters']} distinct sources)",
           f"  Analysts' decision: scam (confirmed {_day(dec.get('at'))})"]
    if reasons or analyst:
        vi += ["", "Lý do:"]
        en += ["", "Reasons:"]
        for r in reasons:
            vi.append(f"  - {r}")
            en.append(f"  - {r}")
        if analyst:
            vi.append(f"  - {analyst}")
            en.append(f"  - {analyst}")
    vi += ["", f"Bằng chứng đính kèm (tệp ZIP, manifest.json liệt kê SHA-256 của từng tệp): {files} tệp bằng chứng.",
           f"Vui lòng phản hồi về {sender_email}, ghi mã yêu cầu {m['request']}.", "",
           f"Trân trọng,\n{sender_name}"]
    en += ["", f"Evidence attached (ZIP; manifest.json lists the SHA-256 of every file): {files} evidence file(s).",
           f"Please reply to {sender_email} quoting request {m['request']}.", "",
           f"Kind regards,\n{sender_name}"]
    return "\n".join([*vi, "", "-" * 60, "", *en, ""])


def build(manifest: dict[str, Any], files: Sequence[PackFile], *, letter_text: str, when: datetime) -> tuple[bytes, dict[str, Any]]:
    """The ZIP of ``letter.txt``, ``files`` and ``manifest.json`` (``manifest`` with ``files``: each
    other file's name, type, size and SHA-256), and the manifest as written."""
    all_files = [PackFile("letter.txt", "text/plain", letter_text.encode("utf-8")), *files]
    full = {**manifest, "files": [f.entry() for f in all_files]}
    body = json.dumps(full, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    stamp = max(when.astimezone(timezone.utc), datetime(1980, 1, 1, tzinfo=timezone.utc)).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for f in [*all_files, PackFile("manifest.json", "application/json", body)]:
            info = zipfile.ZipInfo(f.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, f.data)
    return out.getvalue(), full
