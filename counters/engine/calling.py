"""Calling: next by the office's rules, a chosen ticket out of order, and recall.

A call closes the counter's current ticket first (done or no-show), takes the next ticket with an
atomic claim (queue.claim_next), writes the announcement and the `ticket.called` event.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, insert, update
from sqlmodel import Session, col, select

from counters.clock import office_day
from counters.context import Ctx
from counters.errors import InvalidValue, StateConflict
from counters.models import Announcement, Counter, Office, Service, Ticket
from counters.engine.notify import counter_event, ticket_event
from counters.engine.queue import claim_next
from counters.engine.serving import finish, no_show
from counters.engine.states import check_move
from counters.tables import rowcount, table_of
from counters.types import CounterState, Desk, EventType, TicketStatus
from counters.views import announcement_view


def _lock_counter(session: Session, counter: Counter) -> Counter:
    """Re-read the counter under a row lock so one counter's presses run one after another.

    SQLite has no row locks: its writer transaction (BEGIN IMMEDIATE) already excludes every other
    writer, so a counter read in this transaction is current and is not read again.
    """
    if counter in session and session.get_bind().dialect.name == "sqlite":
        return counter
    locked = session.get(Counter, counter.id, with_for_update=True, populate_existing=True)
    assert locked is not None
    return locked


def _require_open(counter: Counter) -> None:
    if counter.state != CounterState.OPEN:
        raise StateConflict(f"Counter {counter.number} is {counter.state}; open it first.",
                            code="counter_not_open", state=counter.state)


def _close_current(session: Session, ctx: Ctx, office: Office, counter: Counter, close_current: str,
                   expected_current_id: int | None) -> None:
    if close_current not in ("done", "no_show"):
        raise InvalidValue("close_current must be done or no_show", field="close_current")
    if expected_current_id is not None and expected_current_id != (counter.current_ticket_id or 0):
        raise StateConflict("The counter's current ticket changed (another tab or a double press); reload.",
                            code="counter_changed", current_ticket_id=counter.current_ticket_id)
    if counter.current_ticket_id is None:
        return
    current = session.get(Ticket, counter.current_ticket_id)
    if current is None or current.status not in (TicketStatus.CALLED, TicketStatus.SERVING):
        counter.current_ticket_id = None
        return
    # the counter's own counter.updated comes with its next ticket (or, if none waits, from call_next)
    if close_current == "no_show" and current.status == TicketStatus.CALLED:
        no_show(session, ctx, office, current, announce_free=False)
    else:
        finish(session, ctx, office, current, announce_free=False)
    # finish/no_show freed the counter on this very object (the session's identity map): no re-read


# announcements are written once and never changed in a transaction: inserted past the ORM's unit of work
_ANNOUNCE = insert(table_of(Announcement)).returning(table_of(Announcement).c.id)


def _announce(session: Session, ctx: Ctx, office: Office, ticket: Ticket, counter: Counter) -> dict[str, Any]:
    words = ctx.announcer(office, ticket, counter)
    row: dict[str, Any] = {"office_id": office.id or 0, "ticket_id": ticket.id or 0, "counter_id": counter.id or 0,
                           "text": words.text, "speech": words.speech, "lang": words.lang, "created_at": ctx.now}
    return announcement_view(Announcement(id=session.connection().execute(_ANNOUNCE, row).scalar_one(), **row))


def _called(session: Session, ctx: Ctx, office: Office, counter: Counter, ticket: Ticket, before: str) -> Ticket:
    counter.current_ticket_id = ticket.id
    session.add(counter)
    announcement = _announce(session, ctx, office, ticket, counter)
    ticket_event(session, ctx, office, ticket, EventType.TICKET_CALLED, before, counter, announcement=announcement)
    counter_event(session, ctx, office, counter, ticket)
    return ticket


# what a call sets on its ticket, bound per call by `_call_params` (one statement shape for SQLAlchemy's
# compiled cache, whatever the counter and time)
_CALL_VALUES: dict[str, Any] = {
    "status": TicketStatus.CALLED, "called_at": func.coalesce(Ticket.called_at, bindparam("call_now")),
    "last_called_at": bindparam("call_now"), "counter_id": bindparam("call_counter"),
    "clerk_id": bindparam("call_clerk"), "target_counter_id": None}


def _call_params(ctx: Ctx, counter: Counter) -> dict[str, Any]:
    return {"call_now": ctx.now, "call_counter": counter.id, "call_clerk": counter.clerk_id}


# only what routing needs (id, archived, desk): building whole Service objects cost more than the query; read
# on the connection, past the ORM (a call changes no service, so there is nothing to flush first)
_ROUTING = select(Service.id, Service.archived, Service.desk).where(
    Service.office_id == bindparam("office_id"))


def call_next(session: Session, ctx: Ctx, office: Office, counter: Counter, *, close_current: str = "done",
              expected_current_id: int | None = None) -> Ticket | None:
    counter = _lock_counter(session, counter)
    _require_open(counter)
    services: dict[int, Any] = {s.id: s for s in session.connection().execute(_ROUTING, {"office_id": office.id})}
    had_ticket = counter.current_ticket_id
    _close_current(session, ctx, office, counter, close_current, expected_current_id)
    # closing the current ticket changed only rows the claim does not read (a called or serving ticket, this
    # counter): they are flushed with the call's own changes, so the counter is written once, not twice
    with session.no_autoflush:
        ticket = claim_next(session, office, counter, services, office_day(ctx.now, office.timezone),
                            _CALL_VALUES, _call_params(ctx, counter))
    if ticket is None:
        if had_ticket:
            counter_event(session, ctx, office, counter)
        return None
    return _called(session, ctx, office, counter, ticket, TicketStatus.WAITING)


def call_ticket(session: Session, ctx: Ctx, office: Office, counter: Counter, ticket: Ticket, *,
                close_current: str = "done") -> Ticket:
    """Call a chosen waiting or no-show ticket out of order."""
    counter = _lock_counter(session, counter)
    _require_open(counter)
    if ticket.office_id != office.id:
        raise InvalidValue("ticket_id is not a ticket of this office", field="ticket_id")
    service = session.get(Service, ticket.service_id)
    if service is not None and service.desk == Desk.DO_IT_NOW and counter.desk != Desk.DO_IT_NOW:
        raise InvalidValue("a do-it-now ticket is served only at a do-it-now counter", field="ticket_id",
                           code="do_it_now_only")
    check_move("call", ticket.display_number, ticket.status)
    if counter.current_ticket_id == ticket.id:
        raise StateConflict("This ticket is already this counter's current ticket.", code="ticket_state",
                            status=ticket.status)
    _close_current(session, ctx, office, counter, close_current, None)
    before = ticket.status
    taken = session.execute(
        update(Ticket).where(col(Ticket.id) == ticket.id, col(Ticket.status) == before)
        .values(**_CALL_VALUES).execution_options(synchronize_session=False), _call_params(ctx, counter))
    if rowcount(taken) != 1:
        session.refresh(ticket)
        raise StateConflict(f"Ticket {ticket.display_number} was just taken by another counter.",
                            code="ticket_state", status=ticket.status)
    session.refresh(ticket)
    return _called(session, ctx, office, counter, ticket, before)


def recall(session: Session, ctx: Ctx, office: Office, counter: Counter) -> tuple[Ticket, dict[str, Any]]:
    counter = _lock_counter(session, counter)
    if counter.current_ticket_id is None:
        raise StateConflict(f"Counter {counter.number} has no current ticket to announce again.",
                            code="no_current_ticket")
    ticket = session.get(Ticket, counter.current_ticket_id)
    assert ticket is not None
    check_move("recall", ticket.display_number, ticket.status)
    ticket.recalls += 1
    ticket.last_called_at = ctx.now
    session.add(ticket)
    announcement = _announce(session, ctx, office, ticket, counter)
    ticket_event(session, ctx, office, ticket, EventType.TICKET_RECALLED, ticket.status, counter,
                 announcement=announcement)
    return ticket, announcement


def set_counter_state(session: Session, ctx: Ctx, office: Office, counter: Counter, state: CounterState) -> Counter:
    """Open (the acting clerk takes the counter), pause or close a counter."""
    counter = _lock_counter(session, counter)
    if state == CounterState.CLOSED and counter.current_ticket_id is not None:
        current = session.get(Ticket, counter.current_ticket_id)
        if current is not None and current.status in (TicketStatus.CALLED, TicketStatus.SERVING):
            raise StateConflict(f"Finish ticket {current.display_number} or mark it absent before closing.",
                                code="counter_busy", current_ticket_id=current.id)
    if state == CounterState.OPEN and ctx.who.user_id is not None:
        counter.clerk_id, counter.clerk_name = ctx.who.user_id, ctx.who.full_name
    if state == CounterState.CLOSED:
        counter.clerk_id, counter.clerk_name, counter.current_ticket_id = None, None, None
    counter.state = state
    session.add(counter)
    current = session.get(Ticket, counter.current_ticket_id) if counter.current_ticket_id else None
    counter_event(session, ctx, office, counter, current)
    return counter
