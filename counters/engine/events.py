"""The append-only event log and the per-office sequence number.

Actions `record` events as they change rows; `seal` numbers them just before the commit with one
`UPDATE office_seq ... RETURNING`, whose row lock makes commit order equal `seq` order within an office
(so a subscriber never sees 6 before 5). Publishing happens only after the commit (server/db.py).

The action's transaction does nothing else with its events: report facts and rollups are folded
from the committed log afterwards, by the report projector, from a stored checkpoint
(projections/checkpoint.py, server/report_projector.py).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, col

from counters.clock import DEFAULT_TIMEZONE, iso
from counters.models import Event, Office, OfficeSeq
from counters.tables import table_of
from counters.types import JSON

_PENDING = "qms_pending_events"


@dataclass(slots=True)
class NewEvent:
    """An event recorded in this transaction, not yet numbered: the fields of an `Event` row, without the
    ORM's instance machinery (the log is inserted with one Core statement, and an action records several)."""

    office_id: int
    seq: int
    type: str
    at: datetime
    data: JSON
    actor: str | None
    ticket_id: int | None = None
    counter_id: int | None = None
    service_id: int | None = None
    from_status: str | None = None
    to_status: str | None = None


def record(session: Session, office_id: int, type: str, at: datetime, data: JSON, *, actor: str | None,
           ticket_id: int | None = None, counter_id: int | None = None, service_id: int | None = None,
           from_status: str | None = None, to_status: str | None = None) -> NewEvent:
    """Queue an event for this transaction; it gets its `seq` in `seal`."""
    event = NewEvent(office_id, 0, str(type), at, data, actor, ticket_id, counter_id, service_id, from_status,
                     to_status)
    session.info.setdefault(_PENDING, []).append(event)
    return event


def pending(session: Session) -> list[NewEvent]:
    return list(session.info.get(_PENDING, []))


_BUMP = (update(OfficeSeq).where(col(OfficeSeq.office_id) == bindparam("oid"))
         .values(last_seq=OfficeSeq.last_seq + bindparam("n")).returning(col(OfficeSeq.last_seq)))
# the table's own INSERT (not the ORM's bulk insert, which splits rows by which columns are None): one
# executemany for all of a transaction's events
_INSERT = insert(table_of(Event))
_COLUMNS = ("office_id", "seq", "type", "at", "ticket_id", "counter_id", "service_id", "actor", "from_status",
            "to_status", "data")


def seal(session: Session) -> list[dict[str, Any]]:
    """Number and insert the transaction's events; call right before commit.

    Returns their WebSocket messages in seq order, ready to publish once the commit succeeded.
    """
    return to_messages(session, seal_events(session))


def seal_events(session: Session) -> list[NewEvent]:
    """`seal` without the messages: the events, numbered and inserted (one statement per office)."""
    events: list[NewEvent] = session.info.pop(_PENDING, [])
    if not events:
        return []
    by_office: dict[int, list[NewEvent]] = defaultdict(list)
    for e in events:
        by_office[e.office_id].append(e)
    session.flush()  # the rows the events describe go first (foreign keys, and FOR UPDATE order on PostgreSQL)
    for office_id in sorted(by_office):  # a fixed lock order avoids deadlocks between offices
        batch = by_office[office_id]
        last = session.connection().execute(_BUMP, {"oid": office_id, "n": len(batch)}).scalar_one_or_none()
        if last is None:
            session.add(OfficeSeq(office_id=office_id, last_seq=len(batch)))
            session.flush()
            last = len(batch)
        for i, e in enumerate(batch):
            e.seq = last - len(batch) + 1 + i
    # one executemany; the log is append-only, so the rows need no ORM identity afterwards
    session.connection().execute(_INSERT, [{c: getattr(e, c) for c in _COLUMNS} for e in events])
    events.sort(key=lambda e: (e.office_id, e.seq))
    return events


def to_messages(session: Session, events: list[NewEvent]) -> list[dict[str, Any]]:
    zones = {oid: _office_tz(session, oid) for oid in {e.office_id for e in events}}
    return [to_message(e, zones[e.office_id]) for e in events]


def _office_tz(session: Session, office_id: int) -> str:
    office = session.get(Office, office_id)
    return office.timezone if office else DEFAULT_TIMEZONE


def discard(session: Session) -> None:
    """Forget recorded events of a transaction that rolls back."""
    session.info.pop(_PENDING, None)


def to_message(event: Event | NewEvent, tz: str) -> dict[str, Any]:
    """The WebSocket envelope of an event (API.md: type, seq, at, office_id, data)."""
    return {"type": event.type, "seq": event.seq, "at": iso(event.at, tz), "office_id": event.office_id,
            "data": event.data or {}}
