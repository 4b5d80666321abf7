"""Who is called next: the office's priority policy and routing, and the atomic claim.

The claim is the database's job (DESIGN.md): candidates are read in calling order with
`FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite serialises writers with BEGIN IMMEDIATE), then taken with
a conditional UPDATE whose row count proves that this counter, and no other, got the ticket.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, or_, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlmodel import Session, col

from counters.models import Counter, Office, Service, Ticket
from counters.tables import table_of
from counters.types import Desk, PriorityPolicy, Routing, TicketStatus

CLAIM_ATTEMPTS = 20


def servable_service_ids(counter: Counter, services: dict[int, Service]) -> list[int]:
    """The counter's services it may really serve, in its order: do-it-now ones only at do-it-now desks."""
    out = []
    for sid in counter.service_ids or []:
        s = services.get(sid)
        if s is None or s.archived:
            continue
        if s.desk == Desk.DO_IT_NOW and counter.desk != Desk.DO_IT_NOW:
            continue
        out.append(sid)
    return out


def priority_due(session: Session, office: Office, day: date) -> bool:
    """Interleave policy: is it a priority ticket's turn (N normal calls since the last priority one)?"""
    last_priority = session.execute(
        select(func.max(Ticket.called_at)).where(
            col(Ticket.office_id) == office.id, col(Ticket.office_day) == day, col(Ticket.priority).is_not(None),
            col(Ticket.called_at).is_not(None))
    ).scalar_one_or_none()
    conds = [col(Ticket.office_id) == office.id, col(Ticket.office_day) == day, col(Ticket.priority).is_(None),
             col(Ticket.called_at).is_not(None)]
    if last_priority is not None:
        conds.append(col(Ticket.called_at) > last_priority)
    normal_since = session.execute(select(func.count()).select_from(Ticket).where(*conds)).scalar_one()
    return int(normal_since) >= max(1, office.interleave_every)


def calling_order(office: Office | SimpleNamespace, service_order: list[int] | None, priority_first: bool) -> list[Any]:
    """ORDER BY terms: priority group, then (ordered routing) the counter's service order, then queue time."""
    is_normal = case((col(Ticket.priority).is_(None), 1), else_=0)
    terms: list[Any] = [is_normal if priority_first else -is_normal]
    if office.routing == Routing.ORDERED and service_order:
        terms.append(case({sid: i for i, sid in enumerate(service_order)}, value=Ticket.service_id,
                          else_=len(service_order)))
    terms += [Ticket.queue_at, Ticket.id]
    return terms


def candidates_filter(office: Office | SimpleNamespace, counter: Counter | SimpleNamespace, service_ids: list[int],
                      day: date | BindParameter[date]) -> ColumnElement[bool]:
    mine = col(Ticket.target_counter_id) == counter.id
    by_service = and_(col(Ticket.target_counter_id).is_(None), col(Ticket.service_id).in_(service_ids))
    return and_(col(Ticket.office_id) == office.id, col(Ticket.office_day) == day,
                col(Ticket.status) == TicketStatus.WAITING, or_(mine, by_service) if service_ids else mine)


@lru_cache(maxsize=1024)
def _claim_query(routing: str, service_ids: tuple[int, ...], priority_first: bool) -> Select[Any]:
    """The candidates' SELECT for one shape of counter, built once: building it cost more than running it.
    The office, counter and day are bound at execution (`claim_office`, `claim_counter`, `claim_day`: not
    column names, which an UPDATE reserves for its SET clause)."""
    office = SimpleNamespace(id=bindparam("claim_office"), routing=routing)
    counter = SimpleNamespace(id=bindparam("claim_counter"))
    return (select(col(Ticket.id)).where(candidates_filter(office, counter, list(service_ids), bindparam("claim_day")))
            .order_by(*calling_order(office, list(service_ids), priority_first)).limit(1)
            .with_for_update(skip_locked=True))


_TICKET_COLUMNS = tuple(table_of(Ticket).c)
_TAKE = (update(Ticket).where(col(Ticket.id) == bindparam("take_id"),
                              col(Ticket.status) == TicketStatus.WAITING).returning(*_TICKET_COLUMNS))


@lru_cache(maxsize=8)
def _take(values: tuple[tuple[str, Any], ...]) -> Any:
    return _TAKE.values(**dict(values))


@lru_cache(maxsize=1024)
def _take_first(query: Select[Any], values: tuple[tuple[str, Any], ...]) -> Any:
    """Pick and take in one statement: `UPDATE ... WHERE id = (the candidates' first) AND status = waiting`."""
    return (update(Ticket).where(col(Ticket.id) == query.scalar_subquery(),
                                 col(Ticket.status) == TicketStatus.WAITING)
            .values(**dict(values)).returning(*_TICKET_COLUMNS))


def _taken(session: Session, row: Any) -> Ticket:
    """The session's Ticket for a row a claim returned. The claim runs on the connection, past the ORM's
    statement layer (which cost more than the statement), so the ticket is attached from the row as it is
    now, without reading it again."""
    key = session.identity_key(Ticket, (row.id,))
    held: Ticket | None = session.identity_map.get(key)
    if held is not None:  # loaded earlier in this transaction: bring it up to date
        session.refresh(held)
        return held
    ticket = Ticket(**row._mapping)
    make_transient_to_detached(ticket)
    session.add(ticket)
    return ticket


def claim_next(session: Session, office: Office, counter: Counter, services: dict[int, Service], day: date,
               values: dict[str, Any], params: dict[str, Any]) -> Ticket | None:
    """Take the next ticket for `counter` by the office's rules, setting `values` on it (a fixed mapping of
    columns to bound expressions, `params` their values); None if none wait."""
    service_ids = servable_service_ids(counter, services)
    priority_first = (office.priority_policy != PriorityPolicy.INTERLEAVE
                      or priority_due(session, office, day))
    query = _claim_query(str(office.routing), tuple(service_ids), priority_first)
    where = {"claim_office": office.id, "claim_counter": counter.id, "claim_day": day}
    fixed = tuple(values.items())
    connection = session.connection()
    row = connection.execute(_take_first(query, fixed), {**where, **params}).first()
    if row is not None:
        return _taken(session, row)
    if connection.dialect.name == "sqlite":
        return None  # one writer: nothing can change between the pick and the take, so none waits
    # none waits, or (PostgreSQL) the first candidate changed under its lock: pick, then take, in two steps
    for _ in range(CLAIM_ATTEMPTS):
        ticket_id = connection.execute(query, where).scalar_one_or_none()
        if ticket_id is None:
            return None
        row = connection.execute(  # the conditional update returns the row it took: one round trip
            _take(fixed), {"take_id": ticket_id, **params}).first()
        if row is not None:
            return _taken(session, row)
    return None
