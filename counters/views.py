"""Plain-dict views of queue rows in the contract's shapes (API.md), with office-local timestamps."""
from __future__ import annotations

from typing import Any

from counters.clock import iso
from counters.models import Announcement, Counter, Office, Service, Ticket
from counters.types import TicketStatus, WaitFigures

AUDIO_URL = "/api/v1/announcements/{id}.wav"


def ticket_view(t: Ticket, tz: str, *, position: int | None = None,
                estimated_wait_s: int | None = None,
                estimated_wait_range_s: tuple[int, int] | None = None,
                serving_now: bool = True) -> dict[str, Any]:
    """`serving_now` is False while no open counter can serve the waiting ticket (its wait is then null)."""
    waiting = t.status == TicketStatus.WAITING
    return {
        "id": t.id, "office_id": t.office_id, "service_id": t.service_id, "number": t.number,
        "display_number": t.display_number, "priority": t.priority, "channel": t.channel,
        "status": t.status, "lang": t.lang,
        "issued_at": iso(t.issued_at, tz), "queue_at": iso(t.queue_at, tz), "called_at": iso(t.called_at, tz),
        "started_at": iso(t.started_at, tz), "finished_at": iso(t.finished_at, tz),
        "counter_id": t.counter_id, "clerk_id": t.clerk_id, "target_counter_id": t.target_counter_id,
        "recalls": t.recalls, "transfers": t.transfers, "note": t.note,
        "position": position if waiting else None,
        "estimated_wait_s": estimated_wait_s if waiting else None,
        "estimated_wait_range_s": list(estimated_wait_range_s) if waiting and estimated_wait_range_s else None,
        "serving_now": serving_now or not waiting,
        "track_code": t.track_code, "appointment_id": t.appointment_id,
        "dossiers": list(t.dossiers or []),
        "id_checked": bool(t.id_checked),
    }


def ticket_view_with(t: Ticket, tz: str, f: WaitFigures) -> dict[str, Any]:
    """The ticket with its wait figures (from the live model: `counters.projections.live_model`)."""
    return ticket_view(t, tz, position=f.position, estimated_wait_s=f.expected_s,
                       estimated_wait_range_s=f.range_s, serving_now=f.serving_now)


def counter_brief(c: Counter) -> dict[str, Any]:
    return {"id": c.id, "number": c.number, "name": c.name}


def counter_view(c: Counter, current_ticket: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": c.id, "office_id": c.office_id, "number": c.number, "name": c.name, "desk": c.desk,
        "service_ids": list(c.service_ids or []), "state": c.state, "clerk_id": c.clerk_id,
        "clerk": {"id": c.clerk_id, "full_name": c.clerk_name} if c.clerk_id else None,
        "current_ticket": current_ticket,
    }


def service_view(s: Service) -> dict[str, Any]:
    return {
        "id": s.id, "office_id": s.office_id, "code": s.code, "name": s.name, "name_en": s.name_en,
        "desk": s.desk, "number_start": s.number_start, "daily_limit": s.daily_limit,
        "target_wait_min": s.target_wait_min, "target_total_min": s.target_total_min, "active": s.active,
        "sort_order": s.sort_order, "bookable": s.bookable, "booking_per_slot": s.booking_per_slot,
    }


def office_view(o: Office) -> dict[str, Any]:
    return {
        "id": o.id, "name": o.name, "code": o.code, "parent_id": o.parent_id, "timezone": o.timezone,
        "address": o.address, "opening_hours": o.opening_hours, "extra_sessions": o.extra_sessions or [],
        "no_wait_days": o.no_wait_days or [], "no_wait_target_min": o.no_wait_target_min,
        "priority_policy": o.priority_policy, "interleave_every": o.interleave_every, "routing": o.routing,
        "rating_scale": o.rating_scale, "number_format": o.number_format,
        "announcement_template": o.announcement_template, "announcement_repeat": o.announcement_repeat,
        "default_printer_id": o.default_printer_id, "feedback_window_min": o.feedback_window_min,
        "dossier_code_pattern": o.dossier_code_pattern, "dossier_lookup_url": o.dossier_lookup_url,
        "ask_trips": o.ask_trips, "booking_slot_min": o.booking_slot_min,
        "booking_days_ahead": o.booking_days_ahead, "checkin_early_min": o.checkin_early_min,
        "checkin_late_min": o.checkin_late_min,
    }


def announcement_view(a: Announcement) -> dict[str, Any]:
    return {"id": a.id, "ticket_id": a.ticket_id, "counter_id": a.counter_id, "text": a.text,
            "lang": a.lang, "audio_url": AUDIO_URL.format(id=a.id)}
