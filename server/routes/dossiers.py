"""Dossiers of the one-stop system linked to visits: link, unlink, list a ticket's links, look a code up.

The rules (code shape, states, the day, the events) live in counters.engine.dossiers; here: who may act.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field
from sqlmodel import Session, col, select

from counters.engine import dossiers as rules
from counters.models import Counter, DossierLink, Ticket

from ..api import STAFF, Call, EndpointGroup, page
from ..auth import Actor, require_office
from ..errors import ApiError
from ..lookup import load, office_of
from ..models import User
from ..schemas import Body, ListOut, Out, TicketOut

endpoints = EndpointGroup("dossiers")


class DossierLinkBody(Body):
    code: str = Field(max_length=200, description="the dossier's code as printed on the receipt (trimmed and "
                      "upper-cased, then checked against the office's dossier_code_pattern)")
    procedure: str | None = Field(default=None, max_length=1000, description="the administrative procedure's "
                                  "name (reports group_by=procedure)")


class DossierLinkOut(Out):
    id: int
    ticket_id: int
    code: str
    procedure: str | None
    linked_at: str
    counter_id: int | None
    clerk_id: int | None


class CounterRef(Out):
    id: int
    number: int
    name: str


class ClerkRef(Out):
    id: int
    full_name: str | None


class DossierVisit(Out):
    ticket: TicketOut | None
    counter: CounterRef | None
    clerk: ClerkRef | None
    linked_at: str
    procedure: str | None
    rating: str | None


class DossierOut(Out):
    code: str
    visits: list[DossierVisit]


def require_link_actor(session: Session, actor: Actor, ticket: Ticket, link: DossierLink | None = None) -> None:
    """Heads and admins; a clerk for the tickets of the counter they work or the visits they served.

    A ticket at no counter (waiting) is left to the state check, which answers 409 with its status.
    """
    if actor.kind in ("admin", "head"):
        return
    if actor.kind != "clerk":
        raise ApiError(403, "forbidden", "Only staff link dossiers.")
    if ticket.counter_id is None or ticket.status == "waiting":
        return
    if actor.id in (ticket.clerk_id, link.clerk_id if link else None):
        return
    counter = session.get(Counter, ticket.counter_id)
    if counter is not None and counter.clerk_id == actor.id:
        return
    raise ApiError(403, "forbidden", "That ticket was served at another clerk's counter.",
                   counter_id=ticket.counter_id)


@endpoints("POST", "/api/v1/tickets/{ticket_id:int}/dossiers", summary="Link a dossier code to a called, "
           "serving or done ticket of today (422 invalid_value for a code not of the office's shape, 409 "
           "already_linked / ticket_state)", allow=STAFF, body=DossierLinkBody, response=DossierLinkOut, status=201)
async def link(call: Call) -> Any:
    body: DossierLinkBody = call.body

    def run(session: Session) -> dict[str, Any]:
        t = load(session, Ticket, call.param("ticket_id"), call.actor)
        require_link_actor(session, call.actor, t)
        office = office_of(session, t)
        row = rules.link(session, call.ctx(), office, t, code=body.code, procedure=body.procedure)
        return rules.link_view(row, office.timezone)
    return await call.write(run)


@endpoints("GET", "/api/v1/tickets/{ticket_id:int}/dossiers", summary="The dossier links of a ticket (staff), "
           "with their ids for unlinking", allow=STAFF, response=ListOut)
async def ticket_links(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        t = load(session, Ticket, call.param("ticket_id"), call.actor, read_only=True)
        tz = office_of(session, t).timezone
        items = [rules.link_view(r, tz) for r in rules.ticket_links(session, t.id or 0)]
        return page(items, len(items))
    return await call.read(run)


@endpoints("DELETE", "/api/v1/dossier-links/{link_id:int}", summary="Unlink a dossier linked by mistake (the "
           "same actors, the same day; 409 not_today after)", allow=STAFF, response=DossierLinkOut)
async def unlink(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        row = load(session, DossierLink, call.param("link_id"), call.actor, what="dossier link")
        t = session.get(Ticket, row.ticket_id)
        if t is None:
            raise ApiError(404, "not_found", f"Dossier link {row.id} does not exist.")
        require_link_actor(session, call.actor, t, row)
        office = office_of(session, t)
        view = rules.link_view(row, office.timezone)
        rules.unlink(session, call.ctx(), office, row)
        return view
    return await call.write(run)


@endpoints("GET", "/api/v1/offices/{office_id:int}/dossiers/{code}", summary="The visits of the office that "
           "handled a dossier, with counter, clerk and rating (404 when no ticket carries it)", allow=STAFF,
           response=DossierOut)
async def lookup(call: Call) -> Any:
    raw = call.param("code")

    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, call.actor, call.param("office_id"), read_only=True)
        code, visits = rules.visits(session, office, raw)
        if not visits:
            raise ApiError(404, "not_found", f"No ticket of this office carries dossier {code}.", dossier=code)
        ids = sorted({v["clerk"]["id"] for v in visits if v["clerk"]})
        names = {u.id: u.full_name or u.username for u in session.exec(
            select(User).where(col(User.id).in_(ids)))} if ids else {}
        for v in visits:
            if v["clerk"]:
                v["clerk"]["full_name"] = names.get(v["clerk"]["id"])
        return {"code": code, "visits": visits}
    return await call.read(run)
