"""The server side of ticket_printer/hooks.py: events go to the queue's log, figures come from the live model.

`hooks_for(live)` is the app's: a printed ticket's place and wait are read from this worker's live model
(no estimate inside the print job's transaction). `HOOKS` (tests, tools without an app) builds the
office's model from the session it is given.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from counters.engine import events
from counters.models import Ticket
from counters.projections import live_model
from counters.types import WaitFigures
from ticket_printer.hooks import PrintHooks


def record(session: Session, office_id: int, type: str, at: datetime, data: dict[str, Any], *,
           actor: str, ticket_id: int | None = None) -> None:
    events.record(session, office_id, type, at, data, actor=actor, ticket_id=ticket_id)


def figures(session: Session, ticket: Ticket, at: datetime) -> WaitFigures:
    model = live_model.load(session, ticket.office_id, at)
    return model.figures(ticket.id or 0, at) if model else WaitFigures(None, None, None, True)


HOOKS = PrintHooks(record=record, figures=figures)


def hooks_for(live: Any) -> PrintHooks:
    """The app's hooks: figures from its `LiveProjector` (server/live_projector.py)."""
    return PrintHooks(record=record, figures=live.figures_now)
