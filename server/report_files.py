"""Report rows as files: CSV (UTF-8 with a BOM, for Excel) and XLSX, for machines or for people.

`columns="json"` (the contract's default) writes a header of the JSON field names and durations in
seconds, for scripts. `columns="people"` writes headers in the report's language, the key and label
columns named for the grouping (one date column when grouping by day, not a date twice), and durations
in minutes with one decimal, which is how a head reads and charts them in a spreadsheet.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

COLUMN_STYLES = ("json", "people")

# key/label headers per grouping; None: the label repeats the key in people's form, so one column
KEY_LABEL: dict[str, dict[str, tuple[str, str | None]]] = {
    "vi": {"day": ("Ngày", None), "hour": ("Giờ", None), "service": ("Mã lĩnh vực", "Lĩnh vực"),
           "counter": ("Quầy", "Tên quầy"), "clerk": ("Tên đăng nhập", "Cán bộ"),
           "procedure": ("Thủ tục", None), "channel": ("Kênh lấy số", None), "ticket": ("Mã lượt", "Số")},
    "en": {"day": ("Date", None), "hour": ("Hour", None), "service": ("Service code", "Service"),
           "counter": ("Counter", "Counter name"), "clerk": ("Username", "Clerk"),
           "procedure": ("Procedure", None), "channel": ("Channel", None), "ticket": ("Visit key", "Number")},
}
HEADERS: dict[str, dict[str, str]] = {
    "vi": {"issued": "Lấy số", "served": "Đã phục vụ", "no_show": "Vắng mặt", "cancelled": "Hủy",
           "avg_wait_s": "Chờ trung bình (phút)", "p90_wait_s": "Chờ p90 (phút)",
           "avg_service_s": "Phục vụ trung bình (phút)", "p90_service_s": "Phục vụ p90 (phút)",
           "within_target_pct": "Chờ đạt chỉ tiêu (%)", "ratings": "Lượt đánh giá",
           "satisfaction_pct": "Hài lòng (%)", "do_it_now_served": "Làm ngay: đã phục vụ",
           "do_it_now_within_target_pct": "Làm ngay đúng hạn (%)", "no_wait_waited": "Ngày không chờ: lượt chờ",
           "no_wait_within_target_pct": "Ngày không chờ đạt (%)", "avg_trips": "Số lần đi lại trung bình",
           "one_trip_pct": "Xong trong một lần (%)", "appointments": "Lịch hẹn",
           "appointments_missed": "Lịch hẹn bỏ lỡ", "served_started": "Phục vụ có bắt đầu",
           "closed_unstarted": "Đóng khi chưa bắt đầu", "dossiers": "Mã hồ sơ", "office": "Đơn vị", "day": "Ngày",
           "service": "Lĩnh vực", "counter": "Quầy", "clerk": "Cán bộ", "status": "Trạng thái",
           "priority": "Ưu tiên", "issued_at": "Lấy số lúc", "called_at": "Gọi lúc", "finished_at": "Xong lúc",
           "wait_s": "Chờ (phút)", "service_s": "Phục vụ (phút)", "rating": "Đánh giá", "trips": "Số lần đi lại",
           "procedures": "Thủ tục"},
    "en": {"issued": "Issued", "served": "Served", "no_show": "No-show", "cancelled": "Cancelled",
           "avg_wait_s": "Average wait (min)", "p90_wait_s": "p90 wait (min)",
           "avg_service_s": "Average service (min)", "p90_service_s": "p90 service (min)",
           "within_target_pct": "Wait within target (%)", "ratings": "Ratings",
           "satisfaction_pct": "Satisfied (%)", "do_it_now_served": "Do-it-now served",
           "do_it_now_within_target_pct": "Do-it-now in time (%)", "no_wait_waited": "No-wait day: waited",
           "no_wait_within_target_pct": "No-wait day met (%)", "avg_trips": "Average trips",
           "one_trip_pct": "Done in one trip (%)", "appointments": "Appointments",
           "appointments_missed": "Appointments missed", "served_started": "Served after start",
           "closed_unstarted": "Closed without start", "dossiers": "Dossier codes", "office": "Office",
           "day": "Date", "service": "Service", "counter": "Counter", "clerk": "Clerk", "status": "Status",
           "priority": "Priority", "issued_at": "Issued at", "called_at": "Called at", "finished_at": "Finished at",
           "wait_s": "Wait (min)", "service_s": "Service (min)", "rating": "Rating", "trips": "Trips",
           "procedures": "Procedures"},
}


def _minutes(seconds: Any) -> Any:
    return None if seconds is None else round(seconds / 60, 1)


def _cell(v: Any) -> Any:
    """A list (a visit's dossier codes) is one cell, codes separated by "; "."""
    return "; ".join(str(x) for x in v) if isinstance(v, list) else v


def table(rows: Sequence[dict[str, Any]], fields: Sequence[str], *, columns: str = "json", group_by: str = "day",
          lang: str = "vi") -> tuple[list[str], list[list[Any]]]:
    """The header and the cells of a report file, in the chosen column style."""
    if columns == "json":
        return list(fields), [[_cell(r.get(f)) for f in fields] for r in rows]
    words = HEADERS.get(lang, HEADERS["vi"])
    key_head, label_head = KEY_LABEL.get(lang, KEY_LABEL["vi"]).get(group_by, (words.get("key", "key"), "label"))
    out_fields = [f for f in fields if not (f == "key" and label_head is None)]
    header = []
    for f in out_fields:
        if f == "key":
            header.append(key_head)
        elif f == "label":
            header.append(label_head or key_head)
        else:
            header.append(words.get(f, f))
    body = []
    for r in rows:
        body.append([_minutes(r.get(f)) if f.endswith("_s") else _cell(r.get(f)) for f in out_fields])
    return header, body


def to_csv(header: Sequence[str], body: Sequence[Sequence[Any]]) -> bytes:
    """Comma separated, UTF-8 with a BOM so Excel reads Vietnamese."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    for cells in body:
        w.writerow(["" if v is None else v for v in cells])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(header: Sequence[str], body: Sequence[Sequence[Any]], title: str) -> bytes:
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(list(header))
    for cells in body:
        ws.append(list(cells))
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
