"""The server side of ticket_printer/hooks.py: events go to the queue's log, figures come from estimates."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from counters.engine import events
from counters.insight.estimates import ticket_figures
from counters.models import Office, Ticket
from counters.types import WaitFigures
from ticket_printer.hooks import PrintHooks


def record(session: Session, office_id: int, type: str, at: datetime, data: dict[str, Any], *,
           actor: str, ticket_id: int | None = None) -> None:
    events.record(session, office_id, type, at, data, actor=actor, ticket_id=ticket_id)


def figures(session: Session, ticket: Ticket, at: datetime) -> WaitFigures:
    office = session.get(Office, ticket.office_id)
    assert office is not None
    return ticket_figures(session, office, ticket, at)


HOOKS = PrintHooks(record=record, figures=figures)
