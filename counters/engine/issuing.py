"""Issuing a ticket: checks the service is open, claims the day's number, writes the ticket and its event."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from counters.clock import office_day
from counters.context import Ctx
from counters.errors import InvalidValue, StateConflict
from counters.engine.id_card import IdCard
from counters.models import Office, Service, Ticket
from counters.engine.notify import ticket_event
from counters.engine.numbering import claim_number, format_number
from counters.engine.schedule import is_issuing_open
from counters.types import Channel, EventType, Priority, TicketStatus


def new_track_code() -> str:
    """96 random bits, URL-safe: the only key to the public tracking page."""
    return secrets.token_urlsafe(12)


def issue_ticket(session: Session, ctx: Ctx, office: Office, service: Service, *, priority: str | None = None,
                 channel: str = Channel.KIOSK, lang: str = "vi", device_id: int | None = None,
                 id_card: IdCard | None = None, id_card_hash: str | None = None,
                 queue_at: datetime | None = None, appointment_id: int | None = None) -> Ticket:
    """A new waiting ticket. With a scanned chip ID card (`id_card`, and its number's keyed hash computed
    by the caller, who holds the key), the ticket keeps only that hash and the birth year, and a holder
    aged 60 or more on the office's today gets the elderly priority unless one was chosen. An appointment's
    check-in passes its booked start as `queue_at` (its place in the calling order) and its
    `appointment_id`: its booking already holds its place, so neither the issuing hours (its check-in window
    may open before them) nor the walk-ins' daily limit apply."""
    if priority is not None and priority not in Priority.__members__.values():
        raise InvalidValue(f"priority must be one of {', '.join(Priority)} or null", field="priority")
    if channel not in Channel.__members__.values():
        raise InvalidValue(f"channel must be one of {', '.join(Channel)}", field="channel")
    if lang not in ("vi", "en"):
        raise InvalidValue("lang must be vi or en", field="lang")
    if service.office_id != office.id or service.archived:
        raise InvalidValue("service_id is not a service of this office", field="service_id")
    if not service.active:
        raise StateConflict(f"Service {service.code} is not taking tickets now.", code="service_closed",
                            reason="inactive")
    open_now, windows = is_issuing_open(ctx.now, office.timezone, office.opening_hours, office.extra_sessions)
    if not open_now and appointment_id is None:
        raise StateConflict("Tickets are issued only during opening hours.", code="service_closed",
                            reason="outside_hours", hours=[w.as_pair() for w in windows or []])
    day = office_day(ctx.now, office.timezone)
    if service.daily_limit is not None and appointment_id is None:
        issued = session.execute(select(func.count()).select_from(Ticket).where(
            col(Ticket.issued_service_id) == service.id, col(Ticket.office_day) == day)).scalar_one()
        if issued >= service.daily_limit:
            raise StateConflict(f"Service {service.code} has issued all {service.daily_limit} tickets for today.",
                                code="daily_limit_reached", daily_limit=service.daily_limit)
    if id_card is not None and priority is None and id_card.is_elderly_on(day):
        priority = Priority.ELDERLY
    n = claim_number(session, service, day)
    ticket = Ticket(office_id=office.id or 0, service_id=service.id or 0, issued_service_id=service.id or 0,
                    office_day=day, number=n, display_number=format_number(office.number_format, service.code, n),
                    priority=priority, channel=channel, status=TicketStatus.WAITING, lang=lang,
                    issued_at=ctx.now, queue_at=queue_at or ctx.now, track_code=new_track_code(), device_id=device_id,
                    id_checked=id_card is not None, id_card_hash=id_card_hash if id_card is not None else None,
                    birth_year=id_card.birth_year if id_card is not None else None, appointment_id=appointment_id)
    session.add(ticket)
    ticket_event(session, ctx, office, ticket, EventType.TICKET_ISSUED, None)
    return ticket
