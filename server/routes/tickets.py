"""Tickets: issue, read, list, the actions on one ticket, and public tracking."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from counters.engine import id_card, issuing, serving
from counters.clock import office_day
from counters.insight.estimates import estimate_queue
from counters.models import Counter, Office, Service, Ticket
from counters.engine.queue import calling_order
from counters.views import counter_brief, ticket_view
from ticket_printer.worker import enqueue

from ..api import ANYONE, STAFF, Call, EndpointGroup, page
from ..auth import require_office
from ..errors import ApiError
from ..lookup import load, office_of, require_ticket_actor
from ..schemas import IssuedTicketOut, ListOut, TicketCreate, TicketOut, TrackOut, TransferBody

endpoints = EndpointGroup("tickets")
ISSUERS = frozenset({"admin", "head", "clerk", "kiosk"})
STATUSES = ("waiting", "called", "serving", "done", "no_show", "cancelled")


def ticket_out(session: Session, office: Office, t: Ticket, now: Any) -> dict[str, Any]:
    """The ticket's view without wait figures: inside a transaction no estimate is computed; a waiting
    ticket's answer gets them after the commit from the live model (`LiveProjector.with_figures`)."""
    return ticket_view(t, office.timezone)


@endpoints("POST", "/api/v1/offices/{office_id:int}/tickets", summary="Issue a ticket (kiosk or staff); "
           "queues a print job, never waits for the printer", allow=ISSUERS, body=TicketCreate,
           response=IssuedTicketOut, status=201)
async def issue(call: Call) -> Any:
    body: TicketCreate = call.body
    actor = call.actor
    if actor.kind == "kiosk":
        await call.qms.issue_throttle.hit(f"device:{actor.id}")
    channel = body.channel or ("kiosk" if actor.kind == "kiosk" else "staff")
    # the card's QR holds a name and an address: read what the queue needs now, keep none of the text
    card = id_card.parse(body.id_card_qr) if body.id_card_qr is not None else None
    card_hash = call.qms.id_card_hash(card.number) if card is not None else None
    body.id_card_qr = None

    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, actor, call.param("office_id"))
        service = session.get(Service, body.service_id)
        if service is None or service.office_id != office.id or service.archived:
            raise ApiError(422, "invalid_value", "service_id is not a service of this office", field="service_id")
        ctx = call.ctx()
        ticket = issuing.issue_ticket(session, ctx, office, service, priority=body.priority, channel=channel,
                                      lang=body.lang, device_id=actor.id if actor.is_device else None,
                                      id_card=card, id_card_hash=card_hash)
        return issued_out(call, session, office, ticket, ctx.now, print_it=body.print)
    return await write_issue(call, run)


def issued_out(call: Call, session: Session, office: Office, ticket: Ticket, now: Any, *,
               print_it: bool) -> dict[str, Any]:
    """A new ticket's answer: the ticket and its print job (the kiosk's printer, else the office default),
    queued in the issuing transaction so issuing never waits for the printer."""
    actor = call.actor
    job = enqueue(session, office, ticket, actor.printer_id if actor.kind == "kiosk" else None,
                  base_url=str(call.request.base_url), hooks=call.qms.print_hooks) if print_it else None
    out = ticket_out(session, office, ticket, now)
    out["print_job"] = {"id": job.id, "status": job.status} if job else None
    return out


async def write_issue(call: Call, run: Callable[[Session], dict[str, Any]]) -> dict[str, Any]:
    """Commit an issuing write, wake the print workers if it queued a job, and answer with the ticket's
    place and wait from the live model (which has applied this write's events already)."""
    result = await call.write(run)
    if result.get("print_job"):
        call.qms.wake_printers()
    return await call.qms.live.with_figures(result)


@endpoints("GET", "/api/v1/tickets/{ticket_id:int}", summary="A ticket (staff)", allow=STAFF, response=TicketOut)
async def get_ticket(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        t = load(session, Ticket, call.param("ticket_id"), call.actor, read_only=True)
        return ticket_out(session, office_of(session, t), t, call.now())
    return await call.qms.live.with_figures(await call.read(run))


@endpoints("GET", "/api/v1/offices/{office_id:int}/tickets", summary="Tickets of a day; waiting ones in calling "
           "order", allow=STAFF, response=ListOut,
           query={"status": "waiting|called|serving|done|no_show|cancelled", "service_id": "int",
                  "date": "YYYY-MM-DD (office-local, default today)", "limit": "int", "offset": "int"})
async def list_tickets(call: Call) -> Any:
    status = call.query("status")
    if status is not None and status not in STATUSES:
        raise ApiError(422, "invalid_value", f"status is one of {', '.join(STATUSES)}", field="status")
    service_id = call.query_int("service_id", 0, 0) or None
    limit, offset = call.query_int("limit", 100, 1, 1000), call.query_int("offset", 0)
    raw_date = call.query("date")
    try:
        day_arg = date.fromisoformat(raw_date) if raw_date else None
    except ValueError:
        raise ApiError(422, "invalid_value", "date is YYYY-MM-DD", field="date") from None

    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, call.actor, call.param("office_id"), read_only=True)
        now = call.now()
        day = day_arg or office_day(now, office.timezone)
        conds = [Ticket.office_id == office.id, Ticket.office_day == day]
        if status:
            conds.append(Ticket.status == status)
        if service_id:
            conds.append(Ticket.service_id == service_id)
        total = session.execute(select(func.count()).select_from(Ticket).where(*conds)).scalar_one()
        order = calling_order(office, None, True) if status == "waiting" else [Ticket.id]
        rows = session.exec(select(Ticket).where(*conds).order_by(*order).limit(limit).offset(offset)).all()
        est = estimate_queue(session, office, day, now)
        items = [ticket_view(t, office.timezone, position=est.positions.get(t.id or 0),
                             estimated_wait_s=est.waits.get(t.id or 0),
                             estimated_wait_range_s=est.ranges.get(t.id or 0),
                             serving_now=(t.id or 0) not in est.unserved) for t in rows]
        return page(items, total)
    return await call.read(run)


def _ticket_action(action: str) -> Any:
    async def handler(call: Call) -> Any:
        def run(session: Session) -> dict[str, Any]:
            t = load(session, Ticket, call.param("ticket_id"), call.actor)
            require_ticket_actor(session, call.actor, t)
            office = office_of(session, t)
            ctx = call.ctx()
            if action == "transfer":
                body: TransferBody = call.body
                service = counter = None
                if body.service_id is not None:
                    service = session.get(Service, body.service_id)
                    if service is None:
                        raise ApiError(422, "invalid_value", "service_id is not a service", field="service_id")
                if body.counter_id is not None:
                    counter = session.get(Counter, body.counter_id)
                    if counter is None:
                        raise ApiError(422, "invalid_value", "counter_id is not a counter", field="counter_id")
                serving.transfer(session, ctx, office, t, service=service, counter=counter, note=body.note)
            else:
                getattr(serving, action)(session, ctx, office, t)
            return ticket_out(session, office, t, ctx.now)
        return await call.qms.live.with_figures(await call.write(run))
    return handler


for _action, _path, _summary in (
        ("start", "start", "The citizen arrived: serving"),
        ("finish", "finish", "Service finished (done); asks the counter's tablet for a rating"),
        ("no_show", "no-show", "The called citizen did not come"),
        ("cancel", "cancel", "Cancel a ticket")):
    endpoints("POST", f"/api/v1/tickets/{{ticket_id:int}}/{_path}", summary=_summary, allow=STAFF,
              response=TicketOut, auth_in_write=True)(_ticket_action(_action))
endpoints("POST", "/api/v1/tickets/{ticket_id:int}/transfer", summary="Send back to waiting in another "
          "service's or counter's queue, keeping its place by issue time", allow=STAFF, body=TransferBody,
          response=TicketOut, auth_in_write=True)(_ticket_action("transfer"))


@endpoints("GET", "/api/v1/track/{track_code}", summary="Public tracking of one ticket by its code",
           allow=ANYONE, response=TrackOut)
async def track(call: Call) -> Any:
    code = call.param("track_code")
    if not (8 <= len(code) <= 64):
        raise ApiError(404, "not_found", "Unknown ticket.")

    def run(session: Session) -> dict[str, Any]:
        t = session.exec(select(Ticket).where(Ticket.track_code == code)).first()
        if t is None:
            raise ApiError(404, "not_found", "Unknown ticket.")
        office = office_of(session, t)
        service = session.get(Service, t.service_id)
        counter = session.get(Counter, t.counter_id) if t.counter_id else None
        return {"display_number": t.display_number, "ticket_id": t.id, "office_id": office.id,
                "office": {"id": office.id, "name": office.name},
                "service": {"id": service.id, "name": service.name, "name_en": service.name_en} if service else None,
                "status": t.status, "position": None, "estimated_wait_s": None,
                "estimated_wait_range_s": None, "serving_now": True,
                "counter": counter_brief(counter) if counter and t.status in ("called", "serving") else None,
                "issued_at": ticket_view(t, office.timezone)["issued_at"]}
    out = await call.read(run)
    if out["status"] == "waiting":  # the place and wait come from the live model, not from this read
        f = await call.qms.live.figures(out["office_id"], out["ticket_id"])
        out.update(position=f.position, estimated_wait_s=f.expected_s,
                   estimated_wait_range_s=list(f.range_s) if f.range_s else None, serving_now=f.serving_now)
    return out
