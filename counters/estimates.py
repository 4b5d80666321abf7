"""Positions and expected waits of today's queue, for tickets, the kiosk and `queue.updated` events.

The wait model itself lives in `prediction.py`; this module gathers its inputs from the tables.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from sqlmodel import Session, select

from .models import Counter, Office, Service, Ticket
from .queue import positions, servable_service_ids, served_since, waiting_tickets
from .types import CounterState

DEFAULT_SERVICE_S = 300.0
LEARN_WINDOW = timedelta(hours=12)


@dataclass(frozen=True)
class QueueEstimate:
    positions: dict[int, int]
    waits: dict[int, int]
    services: list[dict[str, object]]


def _open_counters(session: Session, office: Office) -> list[Counter]:
    return list(session.exec(select(Counter).where(Counter.office_id == office.id,
                                                   Counter.state == CounterState.OPEN,
                                                   Counter.archived == False)))  # noqa: E712


def estimate_queue(session: Session, office: Office, day: date, now: datetime,
                   only_services: set[int] | None = None) -> QueueEstimate:
    """Position and a simple expected wait for every waiting ticket, and a summary per service."""
    services = {s.id: s for s in session.exec(select(Service).where(Service.office_id == office.id))}
    waiting = waiting_tickets(session, office, day)
    pos = positions(waiting)
    samples: dict[int, list[float]] = {}
    for sid, secs in served_since(session, office.id or 0, now - LEARN_WINDOW):
        samples.setdefault(sid, []).append(secs)
    mean_s = {sid: median(v) for sid, v in samples.items()}
    serving: dict[int, int] = {}
    for c in _open_counters(session, office):
        for sid in servable_service_ids(c, services):  # type: ignore[arg-type]
            serving[sid] = serving.get(sid, 0) + 1
    waits: dict[int, int] = {}
    for t in waiting:
        n = max(1, serving.get(t.service_id, 0))
        waits[t.id or 0] = int((pos[t.id or 0] // n + 1) * mean_s.get(t.service_id, DEFAULT_SERVICE_S)
                               if serving.get(t.service_id) else (pos[t.id or 0] + 1) * DEFAULT_SERVICE_S)
    summary = []
    for sid, s in services.items():
        if s.archived or (only_services is not None and sid not in only_services):
            continue
        mine = [t for t in waiting if t.service_id == sid]
        summary.append({
            "id": sid, "service_id": sid, "code": s.code, "waiting": len(mine),
            "estimated_wait_s": waits[mine[-1].id or 0] if mine else 0,
            "longest_wait_s": int((now - min(t.issued_at for t in mine)).total_seconds()) if mine else 0,
        })
    return QueueEstimate(pos, waits, summary)


def ticket_estimate(session: Session, office: Office, ticket: Ticket, now: datetime) -> tuple[int | None, int | None]:
    if ticket.status != "waiting":
        return None, None
    est = estimate_queue(session, office, ticket.office_day, now, only_services={ticket.service_id})
    return est.positions.get(ticket.id or 0), est.waits.get(ticket.id or 0)
