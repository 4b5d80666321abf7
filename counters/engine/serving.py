"""What happens to a ticket after it is called: start, finish, no-show, cancel, transfer.

Each action checks the state machine, changes the row, frees the counter when the ticket leaves it and
records one event (plus `counter.updated` / `queue.updated` / `feedback.request` where those change).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from counters.engine import events
from counters.clock import iso
from counters.context import Ctx
from counters.errors import InvalidValue
from counters.models import Appointment, Counter, Office, Service, Ticket
from counters.engine.notify import counter_event, ticket_event
from counters.engine.states import check_move
from counters.types import RATING_SCALES, Desk, EventType, TicketStatus


def release_counter(session: Session, ticket: Ticket) -> tuple[Counter | None, bool]:
    """Free the counter whose current ticket this is; returns that counter and whether it was freed.

    The caller records the ticket's event first and then `counter.updated`, so clients see them in that order.
    """
    if ticket.counter_id is None:
        return None, False
    counter = session.get(Counter, ticket.counter_id)
    if counter is None or counter.current_ticket_id != ticket.id:
        return counter, False
    counter.current_ticket_id = None
    session.add(counter)
    return counter, True


def _freed(session: Session, ctx: Ctx, office: Office, counter: Counter | None, freed: bool) -> None:
    if counter is not None and freed:
        counter_event(session, ctx, office, counter)


def start(session: Session, ctx: Ctx, office: Office, ticket: Ticket) -> Ticket:
    check_move("start", ticket.display_number, ticket.status)
    before = ticket.status
    ticket.status, ticket.started_at = TicketStatus.SERVING, ctx.now
    session.add(ticket)
    counter = session.get(Counter, ticket.counter_id) if ticket.counter_id else None
    ticket_event(session, ctx, office, ticket, EventType.TICKET_STARTED, before, counter)
    if counter is not None and counter.current_ticket_id == ticket.id:
        counter_event(session, ctx, office, counter, ticket)
    return ticket


def finish(session: Session, ctx: Ctx, office: Office, ticket: Ticket, *, announce_free: bool = True) -> Ticket:
    """Done. `announce_free=False` when the same transaction gives the counter its next ticket."""
    check_move("finish", ticket.display_number, ticket.status)
    before = ticket.status
    ticket.status, ticket.finished_at = TicketStatus.DONE, ctx.now
    session.add(ticket)
    counter, freed = release_counter(session, ticket)
    view = ticket_event(session, ctx, office, ticket, EventType.TICKET_FINISHED, before, counter)
    if counter is not None:
        request_feedback(session, ctx, office, ticket, counter, view)
    _freed(session, ctx, office, counter, freed and announce_free)
    return ticket


def request_feedback(session: Session, ctx: Ctx, office: Office, ticket: Ticket, counter: Counter,
                     view: dict[str, object]) -> None:
    """Ask the counter's tablet for a rating of the ticket just finished."""
    expires = ctx.now + timedelta(minutes=office.feedback_window_min)
    events.record(session, office.id or 0, EventType.FEEDBACK_REQUEST, ctx.now, {
        "ticket": {"id": ticket.id, "display_number": ticket.display_number, "service_id": ticket.service_id},
        "counter": {"id": counter.id, "number": counter.number, "name": counter.name},
        "clerk": {"id": ticket.clerk_id, "full_name": counter.clerk_name} if ticket.clerk_id else None,
        "scale": office.rating_scale, "levels": list(RATING_SCALES[office.rating_scale]),
        "expires_at": iso(expires, office.timezone), "ask_trips": office.ask_trips,
    }, actor=ctx.who.actor, ticket_id=ticket.id, counter_id=counter.id, service_id=ticket.service_id)


def no_show(session: Session, ctx: Ctx, office: Office, ticket: Ticket, *, announce_free: bool = True) -> Ticket:
    check_move("no_show", ticket.display_number, ticket.status)
    before = ticket.status
    ticket.status = TicketStatus.NO_SHOW
    session.add(ticket)
    counter, freed = release_counter(session, ticket)
    ticket_event(session, ctx, office, ticket, EventType.TICKET_NO_SHOW, before, counter)
    _freed(session, ctx, office, counter, freed and announce_free)
    return ticket


def cancel(session: Session, ctx: Ctx, office: Office, ticket: Ticket) -> Ticket:
    check_move("cancel", ticket.display_number, ticket.status)
    before = ticket.status
    ticket.status = TicketStatus.CANCELLED
    session.add(ticket)
    counter, freed = release_counter(session, ticket)
    ticket_event(session, ctx, office, ticket, EventType.TICKET_CANCELLED, before, counter)
    _freed(session, ctx, office, counter, freed)
    return ticket


def _queue_from(session: Session, ticket: Ticket) -> datetime:
    """Where a ticket sent back to waiting stands: its issue time, or an appointment's booked start."""
    booking = session.get(Appointment, ticket.appointment_id) if ticket.appointment_id else None
    return booking.start if booking is not None else ticket.issued_at


def transfer(session: Session, ctx: Ctx, office: Office, ticket: Ticket, *, service: Service | None = None,
             counter: Counter | None = None, note: str | None = None) -> Ticket:
    """Send the ticket back to waiting in another queue, keeping its place by original issue time."""
    if (service is None) == (counter is None):
        raise InvalidValue("transfer needs exactly one of service_id or counter_id", field="service_id")
    if service is not None and (service.office_id != office.id or service.archived or not service.active):
        raise InvalidValue("service_id is not an active service of this office", field="service_id")
    if counter is not None:
        if counter.office_id != office.id or counter.archived:
            raise InvalidValue("counter_id is not a counter of this office", field="counter_id")
        own = session.get(Service, ticket.service_id)
        if own is not None and own.desk == Desk.DO_IT_NOW and counter.desk != Desk.DO_IT_NOW:
            raise InvalidValue("a do-it-now ticket can only go to a do-it-now counter", field="counter_id",
                               code="do_it_now_only")
    check_move("transfer", ticket.display_number, ticket.status)
    before = ticket.status
    left, freed = release_counter(session, ticket)
    if service is not None:
        ticket.service_id, ticket.target_counter_id = service.id or 0, None
    else:
        ticket.target_counter_id = counter.id if counter else None
    ticket.status, ticket.transfers = TicketStatus.WAITING, ticket.transfers + 1
    ticket.queue_at = _queue_from(session, ticket)
    ticket.note = note if note is not None else ticket.note
    session.add(ticket)
    ticket_event(session, ctx, office, ticket, EventType.TICKET_TRANSFERRED, before, left,
                 to={"service_id": ticket.service_id, "counter_id": ticket.target_counter_id}, note=note)
    _freed(session, ctx, office, left, freed)
    return ticket
