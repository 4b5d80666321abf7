"""The append-only event log and the per-office sequence number.

Actions `record` events as they change rows; `seal` numbers them just before the commit with one
`UPDATE office_seq ... RETURNING`, whose row lock makes commit order equal `seq` order within an office
(so a subscriber never sees 6 before 5). Publishing happens only after the commit (server/db.py).

Report facts are folded from the events either in the same transaction (`seal`), or, on the embedded
SQLite writer, right after the commit and the publish (`seal(..., fold=False)` then `reconcile_facts`),
so a call reaches the lobby without waiting for the rollups. `reconcile_facts` brings a ticket's fact
up to date with its events whatever was folded before, so running it again (at start-up, after a
crash between the two commits) is harmless and repairs a lost fold.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session, col

from counters.projections import facts
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


def seal(session: Session, *, fold: bool = True) -> list[dict[str, Any]]:
    """Number and insert the transaction's events; call right before commit.

    Returns their WebSocket messages in seq order, ready to publish once the commit succeeded. With
    `fold=False` the caller folds them into report facts after the commit (`reconcile_facts`).
    """
    return to_messages(session, seal_events(session, fold=fold))


def seal_events(session: Session, *, fold: bool = True) -> list[NewEvent]:
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
    if fold:
        facts.apply(session, events)  # report rollups change in the same transaction as their events
    facts.apply_missed(session, events)  # missed appointments (no ticket to reconcile later): always here
    events.sort(key=lambda e: (e.office_id, e.seq))
    return events


def to_messages(session: Session, events: list[NewEvent]) -> list[dict[str, Any]]:
    zones = {oid: _office_tz(session, oid) for oid in {e.office_id for e in events}}
    return [to_message(e, zones[e.office_id]) for e in events]


def ticket_ids(events: list[NewEvent]) -> list[int]:
    """The tickets whose report facts these events change."""
    return sorted({e.ticket_id for e in events if e.ticket_id and e.type in facts.TICKET_EVENTS})


def reconcile_facts(session: Session, ticket_ids: list[int]) -> int:
    """Fold into each ticket's fact the events it does not reflect yet; returns how many were folded.

    The stored fact equals the fold of some prefix of the ticket's events (folds commit whole, in
    order); the rest of the events are applied with `facts.apply`, so rollups move by the same delta
    as an in-transaction fold. Idempotent: a ticket already up to date gets nothing.
    """
    if not ticket_ids:
        return 0
    table = table_of(facts.TicketFact)
    stored = {r.ticket_id: facts.Fact(**{f: getattr(r, f) for f in facts.FACT_FIELDS})
              for r in session.execute(select(*[table.c[f] for f in facts.FACT_FIELDS])
                                       .where(table.c.ticket_id.in_(ticket_ids))).all()}
    log: dict[int, list[Event]] = defaultdict(list)
    for e in session.execute(select(Event).where(col(Event.ticket_id).in_(ticket_ids),
                                                 col(Event.type).in_(sorted(facts.TICKET_EVENTS)))
                             .order_by(col(Event.office_id), col(Event.seq))).scalars():
        log[e.ticket_id or 0].append(e)
    settings = facts.Settings().load(session, {e.office_id for evs in log.values() for e in evs})
    missing: list[Event] = []
    for tid, evs in log.items():
        have = stored.get(tid)
        done, f = 0, None
        for k, e in enumerate(evs, start=1):
            f = facts.fold(f, e, settings)
            if _same_fact(f, have):
                done = k
        missing += evs[done:]
    if missing:
        facts.apply(session, missing)
    return len(missing)


def _same_fact(folded: facts.Fact | None, stored: facts.Fact | None) -> bool:
    """Equal up to the targets, which a fold takes from settings that may have changed since."""
    if folded is None or stored is None:
        return folded is stored
    if folded.service_id == stored.service_id:
        folded = replace(folded, wait_target_s=stored.wait_target_s, do_it_now=stored.do_it_now,
                         total_target_s=stored.total_target_s, no_wait_day=stored.no_wait_day)
    return folded == stored


def recent_ticket_ids(session: Session, events_per_office: int = 2000) -> list[int]:
    """Tickets of each office's latest events: where a fold lost to a crash can be."""
    ids: set[int] = set()
    for office_id, last in session.execute(select(col(OfficeSeq.office_id), col(OfficeSeq.last_seq))).all():
        ids.update(t for (t,) in session.execute(
            select(col(Event.ticket_id)).where(col(Event.office_id) == office_id,
                                               col(Event.seq) > last - events_per_office,
                                               col(Event.ticket_id).is_not(None)).distinct()).all())
    return sorted(ids)


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
