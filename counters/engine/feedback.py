"""Satisfaction ratings: the rules that keep the office's official figures impossible to stuff.

One rating per served ticket, only from the tablet of the counter that finished it, only within the
office's window after the finish, only levels of the office's scale, reasons from a fixed set. Every
refusal is raised before anything is written, so a refused rating changes no figure.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from counters.engine import events
from counters.clock import iso
from counters.context import Ctx
from counters.errors import Forbidden, InvalidValue, NotFound, StateConflict
from counters.models import Counter, Feedback, Office, Ticket
from counters.types import RATING_SCALES, EventType, TicketStatus

REASONS = ("attitude", "waiting_time", "guidance", "procedure")
COMMENT_MAX = 500
TRIPS = (1, 2, 3)


def check_values(office: Office, rating: str, reasons: Sequence[str] | None,
                 comment: str | None) -> tuple[list[str], str | None]:
    """Refuse a level outside the office's scale, an unknown reason or a long comment (422)."""
    levels = [str(level) for level in RATING_SCALES.get(office.rating_scale, RATING_SCALES[3])]
    if rating not in levels:
        raise InvalidValue(f"rating {rating!r} is not a level of this office's {office.rating_scale}-level scale; "
                           f"use one of {', '.join(levels)}", code="invalid_rating", field="rating", levels=levels)
    clean: list[str] = []
    for r in reasons or []:
        if r not in REASONS:
            raise InvalidValue(f"reason {r!r} is unknown; use {', '.join(REASONS)}", code="invalid_reason",
                               field="reasons", allowed=list(REASONS))
        if r not in clean:
            clean.append(r)
    text = (comment or "").strip() or None
    if text is not None and len(text) > COMMENT_MAX:
        raise InvalidValue(f"comment is at most {COMMENT_MAX} characters", code="comment_too_long",
                           field="comment", max=COMMENT_MAX)
    return clean, text


def check_trips(trips: int | None) -> None:
    """How many trips the visit took, as the national rating form asks: 1, 2 or 3 (= three or more)."""
    if trips is not None and (isinstance(trips, bool) or trips not in TRIPS):
        raise InvalidValue("trips is 1, 2 or 3 (three or more)", code="invalid_value", field="trips",
                           allowed=list(TRIPS))


def submit_rating(session: Session, ctx: Ctx, office: Office, ticket: Ticket, *, tablet_counter_id: int | None,
                  rating: str, reasons: Sequence[str] | None = None, comment: str | None = None,
                  trips: int | None = None) -> Feedback:
    """Store a tablet's rating of a finished ticket, or refuse it (403, 404, 422, then 409) changing nothing."""
    if ticket.office_id != office.id:
        raise NotFound(f"Ticket {ticket.id} does not exist.")
    if tablet_counter_id is None or ticket.counter_id != tablet_counter_id:
        raise Forbidden(f"Ticket {ticket.display_number} was not served at this tablet's counter; only the "
                        "tablet of the counter that finished it may rate it.", code="wrong_counter",
                        tablet_counter_id=tablet_counter_id)
    clean_reasons, text = check_values(office, rating, reasons, comment)
    check_trips(trips)
    if ticket.status != TicketStatus.DONE or ticket.finished_at is None:
        raise StateConflict(f"Ticket {ticket.display_number} is {ticket.status}: only a finished ticket can be "
                            "rated.", code="ticket_not_done", status=ticket.status)
    if session.exec(select(Feedback.id).where(Feedback.ticket_id == ticket.id)).first() is not None:
        raise StateConflict(f"Ticket {ticket.display_number} has been rated already.", code="already_rated")
    closes = ticket.finished_at + timedelta(minutes=office.feedback_window_min)
    if ctx.now > closes:
        raise StateConflict(f"The rating window for {ticket.display_number} closed "
                            f"{office.feedback_window_min} minutes after the service.", code="rating_window_closed",
                            closed_at=iso(closes, office.timezone))
    fb = Feedback(office_id=office.id or 0, ticket_id=ticket.id or 0, counter_id=ticket.counter_id or 0,
                  clerk_id=ticket.clerk_id, device_id=ctx.who.device_id, rating=rating, reasons=clean_reasons or None,
                  comment=text, trips=trips, created_at=ctx.now)
    try:
        with session.begin_nested():  # two tablets racing: the unique ticket_id decides, the loser is told
            session.add(fb)
            session.flush()
    except IntegrityError:
        raise StateConflict(f"Ticket {ticket.display_number} has been rated already.", code="already_rated") from None
    counter = session.get(Counter, fb.counter_id)
    events.record(session, office.id or 0, EventType.FEEDBACK_RECEIVED, ctx.now, {
        "feedback": feedback_view(fb, office.timezone, ticket, counter),
        "ticket": {"id": ticket.id, "display_number": ticket.display_number, "service_id": ticket.service_id},
        "counter": {"id": fb.counter_id, "number": counter.number if counter else None,
                    "name": counter.name if counter else None},
    }, actor=ctx.who.actor, ticket_id=ticket.id, counter_id=fb.counter_id, service_id=ticket.service_id)
    return fb


def feedback_view(fb: Feedback, tz: str, ticket: Ticket | None = None, counter: Counter | None = None,
                  clerk_name: str | None = None) -> dict[str, Any]:
    return {"id": fb.id, "ticket_id": fb.ticket_id,
            "display_number": ticket.display_number if ticket else None,
            "service_id": ticket.service_id if ticket else None,
            "counter_id": fb.counter_id, "counter_number": counter.number if counter else None,
            "clerk_id": fb.clerk_id, "clerk_name": clerk_name, "device_id": fb.device_id, "rating": fb.rating,
            "reasons": list(fb.reasons or []), "comment": fb.comment, "trips": fb.trips,
            "created_at": iso(fb.created_at, tz)}
