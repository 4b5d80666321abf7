"""Satisfaction ratings from counter tablets, and the list heads read; the rules live in counters.engine.feedback."""
from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field, StrictInt
from sqlalchemy import func
from sqlmodel import Session, col, select

from counters.engine import feedback as rules
from counters.clock import day_bounds
from counters.models import Counter, Feedback, Ticket

from ..api import HEADS, Call, EndpointGroup, page
from ..auth import require_office
from ..errors import ApiError
from ..models import User
from ..schemas import Body, ListOut, Out

endpoints = EndpointGroup("satisfaction")
TABLET = frozenset({"tablet"})


class FeedbackBody(Body):
    ticket_id: int
    rating: str = Field(max_length=40, description="very_satisfied | satisfied | neutral | unsatisfied | "
                        "very_unsatisfied: only the levels of the office's rating_scale (3: very_satisfied, "
                        "satisfied, unsatisfied)")
    reasons: list[str] | None = Field(default=None, max_length=10, description="attitude | waiting_time | "
                                      "guidance | procedure")
    comment: str | None = Field(default=None, max_length=5000, description="at most 500 characters")
    trips: StrictInt | None = Field(default=None, description="how many trips the visit took: 1, 2 or 3 (three or "
                                    "more); asked when the office's ask_trips is on")


class FeedbackOut(Out):
    id: int
    ticket_id: int
    counter_id: int
    rating: str
    reasons: list[str]
    comment: str | None
    trips: int | None = None
    created_at: str | None


@endpoints("POST", "/api/v1/feedback", summary="A counter's tablet rates the ticket just served: once, within "
           "the window, only levels of the office's scale (403 wrong_counter, 409 already_rated / "
           "ticket_not_done / rating_window_closed, 422 invalid_rating / invalid_reason)", allow=TABLET,
           body=FeedbackBody, response=FeedbackOut, status=201)
async def submit(call: Call) -> Any:
    body: FeedbackBody = call.body
    actor = call.actor

    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, actor, actor.office_id or 0)
        ticket = session.get(Ticket, body.ticket_id)
        if ticket is None or ticket.office_id != office.id:
            raise ApiError(404, "not_found", f"Ticket {body.ticket_id} does not exist.")
        fb = rules.submit_rating(session, call.ctx(), office, ticket, tablet_counter_id=actor.counter_id,
                                 rating=body.rating, reasons=body.reasons, comment=body.comment,
                                 trips=body.trips)
        return rules.feedback_view(fb, office.timezone, ticket, session.get(Counter, fb.counter_id))
    return await call.write(run)


@endpoints("GET", "/api/v1/offices/{office_id:int}/feedback", summary="Ratings of an office, newest first "
           "(heads)", allow=HEADS, response=ListOut,
           query={"from": "YYYY-MM-DD (office-local)", "to": "YYYY-MM-DD (inclusive)", "counter_id": "int",
                  "rating": "a rating level", "limit": "int", "offset": "int"})
async def list_feedback(call: Call) -> Any:
    limit, offset = call.query_int("limit", 50, 1, 500), call.query_int("offset", 0)
    counter_id = call.query_int("counter_id", 0) or None
    rating = call.query("rating") or None
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        raw = call.query(name)
        try:
            days[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            raise ApiError(422, "invalid_value", f"{name} is YYYY-MM-DD", field=name) from None

    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, call.actor, call.param("office_id"), read_only=True)
        conds: list[Any] = [Feedback.office_id == office.id]
        if days["from"]:
            conds.append(col(Feedback.created_at) >= day_bounds(days["from"], office.timezone)[0])
        if days["to"]:
            conds.append(col(Feedback.created_at) < day_bounds(days["to"], office.timezone)[1])
        if counter_id:
            conds.append(Feedback.counter_id == counter_id)
        if rating:
            conds.append(Feedback.rating == rating)
        total = session.execute(select(func.count()).select_from(Feedback).where(*conds)).scalar_one()
        rows = session.exec(select(Feedback).where(*conds).order_by(col(Feedback.id).desc())
                            .limit(limit).offset(offset)).all()
        tickets = {t.id: t for t in session.exec(select(Ticket).where(
            col(Ticket.id).in_([f.ticket_id for f in rows])))} if rows else {}
        counters = {c.id: c for c in session.exec(select(Counter).where(Counter.office_id == office.id))}
        clerks = {u.id: u.full_name or u.username for u in session.exec(select(User).where(
            col(User.id).in_([f.clerk_id for f in rows if f.clerk_id])))} if rows else {}
        items = [rules.feedback_view(f, office.timezone, tickets.get(f.ticket_id), counters.get(f.counter_id),
                                     clerks.get(f.clerk_id)) for f in rows]
        return page(items, int(total))
    return await call.read(run)
