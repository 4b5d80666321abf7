"""The events queue actions emit, in one place so every action writes the same shapes.

An event carries the plain ticket view, never an estimate: estimates are projections computed after the
commit (server/live_projector.py), and `queue.updated` is a derived frame, not an event of the log.
"""
from __future__ import annotations

from typing import Any

from sqlmodel import Session

from counters.engine import events
from counters.context import Ctx
from counters.models import Counter, Office, Ticket
from counters.types import EventType
from counters.views import counter_brief, counter_view, ticket_view


def ticket_event(session: Session, ctx: Ctx, office: Office, ticket: Ticket, type: EventType,
                 from_status: str | None, counter: Counter | None = None, **extra: Any) -> dict[str, Any]:
    """Record a ticket's state change; returns the ticket view written into the event."""
    if ticket.id is None:
        session.flush()  # a new ticket needs its id; anything else is flushed by the next query that reads
    view = ticket_view(ticket, office.timezone)
    data: dict[str, Any] = {"ticket": view, "counter": counter_brief(counter) if counter else None, **extra}
    events.record(session, office.id or 0, type, ctx.now, data, actor=ctx.who.actor, ticket_id=ticket.id,
                  counter_id=counter.id if counter else ticket.counter_id, service_id=ticket.service_id,
                  from_status=from_status, to_status=ticket.status)
    return view


def counter_event(session: Session, ctx: Ctx, office: Office, counter: Counter,
                  current: Ticket | None = None) -> None:
    cur = ticket_view(current, office.timezone) if current else None
    events.record(session, office.id or 0, EventType.COUNTER_UPDATED, ctx.now,
                  {"counter": counter_view(counter, cur)}, actor=ctx.who.actor, counter_id=counter.id)

