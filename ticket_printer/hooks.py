"""What the server lends the printing room: the event log and a ticket's wait figures.

The house rule lets `ticket_printer` take only plain data from `counters`: it never runs the queue's
logic (estimates) nor writes the queue's event log itself. The server hands it these two functions
(server/print_hooks.py); a print job then carries the ticket's figures as plain `WaitFigures`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session

from counters.models import Ticket
from counters.types import WaitFigures


class RecordEvent(Protocol):
    """Append an event (`print.job`, `alert.raised`, `alert.cleared`) to the office's log in this transaction."""

    def __call__(self, session: Session, office_id: int, type: str, at: datetime, data: dict[str, Any], *,
                 actor: str, ticket_id: int | None = None) -> None: ...


class TicketFigures(Protocol):
    """The ticket's place, expected wait, 80% range and whether a counter serves it now."""

    def __call__(self, session: Session, ticket: Ticket, at: datetime) -> WaitFigures: ...


@dataclass(frozen=True)
class PrintHooks:
    record: RecordEvent
    figures: TicketFigures
