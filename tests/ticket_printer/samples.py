"""A realistic ticket for tests, with any field changed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ticket_printer.layout import TicketPrint


def make_ticket(**changes: object) -> TicketPrint:
    fields: dict[str, object] = {
        "office_name": "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG",
        "office_subtitle": "PHƯỜNG BA ĐÌNH",
        "display_number": "A023",
        "service_name": "Chứng thực",
        "desk_label": "Bộ phận làm ngay",
        "people_ahead": 4,
        "estimated_wait_s": 720,
        "estimated_wait_range_s": None,
        "issued_at": datetime(2026, 11, 22, 8, 15, 3, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
        "track_url": "http://192.168.1.10:8000/t/k7Q2xZ9p",
        "lang": "vi",
        "priority_label": None,
    }
    fields.update(changes)
    return TicketPrint(**fields)  # type: ignore[arg-type]
