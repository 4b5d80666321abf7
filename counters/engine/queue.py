"""Who is called next: the office's priority policy and routing, and the atomic claim.

The claim is the database's job (DESIGN.md): candidates are read in calling order with
`FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite serialises writers with BEGIN IMMEDIATE), then taken with
a conditional UPDATE whose row count proves that this counter, and no other, got the ticket.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from counters.models import Counter, Office, Service, Ticket
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


def calling_order(office: Office, service_order: list[int] | None, priority_first: bool) -> list[Any]:
    """ORDER BY terms: priority group, then (ordered routing) the counter's service order, then queue time."""
    is_normal = case((col(Ticket.priority).is_(None), 1), else_=0)
    terms: list[Any] = [is_normal if priority_first else -is_normal]
    if office.routing == Routing.ORDERED and service_order:
        terms.append(case({sid: i for i, sid in enumerate(service_order)}, value=Ticket.service_id,
                          else_=len(service_order)))
    terms += [Ticket.queue_at, Ticket.id]
    return terms


def candidates_filter(office: Office, counter: Counter, service_ids: list[int], day: date) -> ColumnElement[bool]:
    mine = col(Ticket.target_counter_id) == counter.id
    by_service = and_(col(Ticket.target_counter_id).is_(None), col(Ticket.service_id).in_(service_ids))
    return and_(col(Ticket.office_id) == office.id, col(Ticket.office_day) == day,
                col(Ticket.status) == TicketStatus.WAITING, or_(mine, by_service) if service_ids else mine)


def _candidates(office: Office, counter: Counter, service_ids: list[int], day: date,
                priority_first: bool) -> Select[Any]:
    """The first waiting ticket this counter may take, locked (PostgreSQL skips rows another claim holds).

    Built per call: SQLAlchemy's compiled-statement cache keys it by its shape (the values are bound
    parameters, the service list an expanding one), so compiling happens once per shape, not per call."""
    return (select(col(Ticket.id)).where(candidates_filter(office, counter, service_ids, day))
            .order_by(*calling_order(office, service_ids, priority_first)).limit(1)
            .with_for_update(skip_locked=True))


def _take(session: Session, which: Any, values: dict[str, Any], params: dict[str, Any]) -> Ticket | None:
    """`UPDATE ticket SET values WHERE id = which AND status = waiting RETURNING ticket`: the row count proves
    the take. The ORM loads the returned row into the session (`populate_existing` brings a ticket this
    transaction loaded before up to date), so nothing reads it again."""
    taken = (update(Ticket).where(col(Ticket.id) == which, col(Ticket.status) == TicketStatus.WAITING)
             .values(**values).returning(Ticket)
             .execution_options(synchronize_session=False, populate_existing=True))
    return session.execute(taken, params).scalars().first()


def claim_next(session: Session, office: Office, counter: Counter, services: dict[int, Any], day: date,
               values: dict[str, Any], params: dict[str, Any]) -> Ticket | None:
    """Take the next ticket for `counter` by the office's rules, setting `values` on it (a fixed mapping of
    columns to bound expressions, `params` their values); None if none wait."""
    service_ids = servable_service_ids(counter, services)
    priority_first = (office.priority_policy != PriorityPolicy.INTERLEAVE
                      or priority_due(session, office, day))
    query = _candidates(office, counter, service_ids, day, priority_first)
    # pick and take in one statement: `UPDATE ... WHERE id = (the candidates' first) AND status = waiting`
    ticket = _take(session, query.scalar_subquery(), values, params)
    if ticket is not None:
        return ticket
    if session.get_bind().dialect.name == "sqlite":
        return None  # one writer: nothing can change between the pick and the take, so none waits
    # none waits, or (PostgreSQL) the first candidate changed under its lock: pick, then take, in two steps
    for _ in range(CLAIM_ATTEMPTS):
        ticket_id = session.execute(query).scalar_one_or_none()
        if ticket_id is None:
            return None
        ticket = _take(session, ticket_id, values, params)
        if ticket is not None:
            return ticket
    return None
