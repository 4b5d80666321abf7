"""The append-only event log and the per-office sequence number.

Actions `record` events as they change rows; `seal` numbers them just before the commit with one
`UPDATE office_seq ... RETURNING`, whose row lock makes commit order equal `seq` order within an office
(so a subscriber never sees 6 before 5). Publishing happens only after the commit (server/db.py).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from . import facts
from .clock import DEFAULT_TIMEZONE, iso
from .models import Event, Office, OfficeSeq
from .types import JSON

_PENDING = "qms_pending_events"


def record(session: Session, office_id: int, type: str, at: datetime, data: JSON, *, actor: str | None,
           ticket_id: int | None = None, counter_id: int | None = None, service_id: int | None = None,
           from_status: str | None = None, to_status: str | None = None) -> Event:
    """Queue an event for this transaction; it gets its `seq` in `seal`."""
    event = Event(office_id=office_id, seq=0, type=type, at=at, data=data, actor=actor, ticket_id=ticket_id,
                  counter_id=counter_id, service_id=service_id, from_status=from_status, to_status=to_status)
    session.info.setdefault(_PENDING, []).append(event)
    return event


def pending(session: Session) -> list[Event]:
    return list(session.info.get(_PENDING, []))


def seal(session: Session) -> list[dict[str, Any]]:
    """Number and insert the transaction's events; call right before commit.

    Returns their WebSocket messages in seq order, ready to publish once the commit succeeded.
    """
    events: list[Event] = session.info.pop(_PENDING, [])
    by_office: dict[int, list[Event]] = defaultdict(list)
    for e in events:
        by_office[e.office_id].append(e)
    for office_id in sorted(by_office):  # a fixed lock order avoids deadlocks between offices
        batch = by_office[office_id]
        last = session.execute(
            update(OfficeSeq).where(OfficeSeq.office_id == office_id)  # type: ignore[arg-type]
            .values(last_seq=OfficeSeq.last_seq + len(batch)).returning(OfficeSeq.last_seq)
        ).scalar_one_or_none()
        if last is None:
            session.add(OfficeSeq(office_id=office_id, last_seq=len(batch)))
            last = len(batch)
        for i, e in enumerate(batch):
            e.seq = last - len(batch) + 1 + i
            session.add(e)
    session.flush()
    facts.apply(session, events)  # report rollups change in the same transaction as their events
    zones = {oid: _office_tz(session, oid) for oid in by_office}
    return [to_message(e, zones[e.office_id]) for e in sorted(events, key=lambda e: (e.office_id, e.seq))]


def _office_tz(session: Session, office_id: int) -> str:
    office = session.get(Office, office_id)
    return office.timezone if office else DEFAULT_TIMEZONE


def discard(session: Session) -> None:
    """Forget recorded events of a transaction that rolls back."""
    session.info.pop(_PENDING, None)


def to_message(event: Event, tz: str) -> dict[str, Any]:
    """The WebSocket envelope of an event (API.md: type, seq, at, office_id, data)."""
    return {"type": event.type, "seq": event.seq, "at": iso(event.at, tz), "office_id": event.office_id,
            "data": event.data or {}}
