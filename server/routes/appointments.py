"""Appointments: public slots, booking and its manage link; check-in at the kiosk or by staff; the day's list.

Thin handlers over counters.engine.appointments. A citizen's phone and ID number never leave the office: the
ID number is kept only as a keyed hash (counters.engine.id_card.keyed_hash with the server's secret key), the
phone is shown to the office's staff only, and neither is written into events or logs.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlmodel import Session, col, select
from starlette.responses import Response

from counters.engine import appointments as appts
from counters.engine import id_card
from counters.clock import iso, office_day
from counters.context import Ctx, Who
from counters.models import Appointment, Office, Service, Ticket

from ..api import ANYONE, STAFF, Call, EndpointGroup, page
from ..auth import require_office
from ..errors import ApiError
from ..schemas import (AppointmentCreate, AppointmentOut, BookedOut, BookingInfoOut, CheckInBody, IssuedTicketOut,
                       ListOut, SlotsOut)
from ..throttle import Throttle
from .printing import qr_svg
from .tickets import issued_out, write_issue

endpoints = EndpointGroup("appointments")
log = logging.getLogger("qms.appointments")
CHECKIN_ACTORS = frozenset({"admin", "head", "clerk", "kiosk"})
BOOKINGS_PER_MINUTE = 30  # per address (API.md asks for at least 10)
MISSED_EVERY_S = 30.0


def _public_ctx(call: Call) -> Ctx:
    return Ctx(Who("public"), call.now(), call.qms.announcer)


def _office(session: Session, office_id: int) -> Office:
    office = session.get(Office, office_id)
    if office is None:
        raise ApiError(404, "not_found", f"Office {office_id} does not exist.")
    return office


def _service(session: Session, office: Office, service_id: int) -> Service:
    service = session.get(Service, service_id)
    if service is None or service.office_id != office.id or service.archived:
        raise ApiError(422, "invalid_value", "service_id is not a service of this office", field="service_id")
    return service


def _day(call: Call, office: Office) -> date:
    raw = call.query("date")
    if not raw:
        return office_day(call.now(), office.timezone)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(422, "invalid_value", "date is YYYY-MM-DD", field="date") from None




def _holder_view(session: Session, a: Appointment, office: Office, now: Any) -> dict[str, Any]:
    """What the booking's holder sees by its manage code: no phone, no ID hash."""
    service = session.get(Service, a.service_id)
    ticket = session.get(Ticket, a.ticket_id) if a.ticket_id else None
    opens, closes = appts.checkin_window(office, a)
    out = appts.appointment_view(a, office.timezone)
    out.pop("has_id_number", None)
    out.update({"status": appts.effective_status(a, office, now),
                "service": {"id": service.id, "name": service.name, "name_en": service.name_en} if service else None,
                "office": {"id": office.id, "name": office.name, "address": office.address},
                "checkin_from": iso(opens, office.timezone), "checkin_until": iso(closes, office.timezone),
                "ticket": {"display_number": ticket.display_number, "track_code": ticket.track_code}
                if ticket else None})
    return out


@endpoints("GET", "/api/v1/offices/{office_id:int}/booking", summary="What the public booking page needs: the "
           "office, its bookable services and the days with slots (public)", allow=ANYONE, response=BookingInfoOut)
async def booking_info(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        office = _office(session, call.param("office_id"))
        services = session.execute(select(Service).where(
            col(Service.office_id) == office.id, col(Service.bookable), col(Service.active),
            col(Service.archived) == False).order_by(col(Service.sort_order), col(Service.code))).scalars()  # noqa: E712
        now = call.now()
        return {"office": {"id": office.id, "name": office.name, "address": office.address,
                           "timezone": office.timezone},
                "services": [{"id": s.id, "code": s.code, "name": s.name, "name_en": s.name_en} for s in services],
                "days": [d.isoformat() for d in appts.booking_days(office, now)],
                "booking_slot_min": office.booking_slot_min, "booking_days_ahead": office.booking_days_ahead,
                "checkin_early_min": office.checkin_early_min, "checkin_late_min": office.checkin_late_min}
    return await call.read(run)


@endpoints("GET", "/api/v1/offices/{office_id:int}/slots", summary="Bookable slots of a service on a day, with "
           "free seats (public)", allow=ANYONE, response=SlotsOut,
           query={"service_id": "int", "date": "YYYY-MM-DD (office-local, default today)"})
async def list_slots(call: Call) -> Any:
    service_id = call.query_int("service_id", 0, 1, 2**62)

    def run(session: Session) -> dict[str, Any]:
        office = _office(session, call.param("office_id"))
        service = _service(session, office, service_id)
        day = _day(call, office)
        tz = office.timezone
        return {"items": [{"start": iso(s.start, tz), "end": iso(s.end, tz), "free": s.free}
                          for s in appts.slots(session, office, service, day, call.now())],
                "date": day.isoformat(), "bookable": service.bookable,
                "days_ahead": office.booking_days_ahead}
    return await call.read(run)


@endpoints("POST", "/api/v1/offices/{office_id:int}/appointments", summary="Book a slot (public; throttled per "
           "address); returns the code for the kiosk and the manage code to see or cancel it",
           allow=ANYONE, body=AppointmentCreate, response=BookedOut, status=201)
async def book(call: Call) -> Any:
    body: AppointmentCreate = call.body
    address = call.request.client.host if call.request.client else "unknown"
    await call.qms.booking_throttle.hit(f"address:{address}")
    id_hash = call.qms.id_card_hash(body.id_number) if body.id_number else None

    def run(session: Session) -> dict[str, Any]:
        office = _office(session, call.param("office_id"))
        service = _service(session, office, body.service_id)
        ctx = _public_ctx(call)
        a = appts.book(session, ctx, office, service, appts.parse_start(body.start, office),
                       phone=body.phone, id_card_hash=id_hash, lang=body.lang)
        tz = office.timezone
        return {"id": a.id, "code": a.code, "manage_code": a.manage_code, "service_id": a.service_id,
                "start": iso(a.start, tz), "end": iso(a.end, tz), "status": a.status}
    return await call.write(run)


@endpoints("GET", "/api/v1/appointments/{manage_code}", summary="A booking by its manage code (public: the code "
           "is the key)", allow=ANYONE, response=AppointmentOut)
async def get_by_manage_code(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        a = appts.by_manage_code(session, call.param("manage_code"))
        office = _office(session, a.office_id)
        return _holder_view(session, a, office, call.now())
    return await call.read(run)


@endpoints("GET", "/api/v1/appointments/{manage_code}/qr.svg", summary="The booking's QR code (its short code, "
           "for the kiosk's scanner); public: the manage code is the key", allow=ANYONE,
           media_type="image/svg+xml")
async def booking_qr(call: Call) -> Any:
    code = await call.read(lambda s: appts.by_manage_code(s, call.param("manage_code")).code)
    return Response(qr_svg(code), media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=3600"})


@endpoints("POST", "/api/v1/appointments/{manage_code}/cancel", summary="Cancel a booking by its manage code "
           "(public)", allow=ANYONE, response=AppointmentOut)
async def cancel(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        a = appts.by_manage_code(session, call.param("manage_code"))
        office = _office(session, a.office_id)
        appts.cancel(session, _public_ctx(call), office, a)
        return _holder_view(session, a, office, call.now())
    return await call.write(run)


def _find_by_card(session: Session, office: Office, hash_of: Callable[[str], str], qr: str,
                  now: Any) -> Appointment:
    card = id_card.parse(qr)
    hashed = hash_of(card.number)
    day = office_day(now, office.timezone)
    rows = [a for a in session.execute(select(Appointment).where(
        col(Appointment.office_id) == office.id, col(Appointment.id_card_hash) == hashed)).scalars()
        if office_day(a.start, office.timezone) == day]
    if not rows:
        raise ApiError(404, "not_found", "No appointment today for this ID card.")
    # the booking still to check in whose start is nearest; else the nearest of any (its refusal says why)
    rows.sort(key=lambda a: (a.status != appts.BOOKED, abs((a.start - now).total_seconds())))
    return rows[0]


@endpoints("POST", "/api/v1/offices/{office_id:int}/appointments/check-in", summary="Check in a booking by its "
           "code or the holder's chip ID card: issues its ticket, queued as if issued at the booked start",
           allow=CHECKIN_ACTORS, body=CheckInBody, response=IssuedTicketOut, status=201)
async def check_in(call: Call) -> Any:
    body: CheckInBody = call.body
    if (body.code is None) == (body.id_card_qr is None):
        raise ApiError(422, "invalid_value", "send exactly one of code or id_card_qr", field="code")
    actor = call.actor
    if actor.kind == "kiosk":
        await call.qms.issue_throttle.hit(f"device:{actor.id}")
    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, actor, call.param("office_id"))
        ctx = call.ctx()
        a = (appts.by_code(session, office, body.code) if body.code is not None
             else _find_by_card(session, office, call.qms.id_card_hash, body.id_card_qr or "", ctx.now))
        ticket = appts.check_in(session, ctx, office, a, device_id=actor.id if actor.is_device else None)
        return issued_out(call, session, office, ticket, ctx.now, print_it=body.print)
    return await write_issue(call, run)


@endpoints("GET", "/api/v1/offices/{office_id:int}/appointments", summary="A day's bookings (staff; with the "
           "phone, for the office only); q finds a code or a phone number", allow=STAFF, response=ListOut,
           query={"date": "YYYY-MM-DD (office-local, default today)",
                  "status": "booked|checked_in|cancelled|missed", "q": "a code or part of a phone number"})
async def list_appointments(call: Call) -> Any:
    status = call.query("status") or None
    q = (call.query("q") or "").strip()[:32] or None

    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, call.actor, call.param("office_id"), read_only=True)
        now = call.now()
        rows = appts.listing(session, office, _day(call, office), status, now, q)
        items = []
        for a in rows:
            item = appts.appointment_view(a, office.timezone, private=True)
            item["status"] = appts.effective_status(a, office, now)
            items.append(item)
        return page(items, len(items))
    return await call.read(run)


async def _mark_missed_forever(qms: Any) -> None:
    """Bookings past their check-in window become `missed` (with their event) about every 30 s."""
    while True:
        await asyncio.sleep(MISSED_EVERY_S)
        try:
            await qms.write(lambda s: appts.mark_missed(s, Ctx(Who.system(), qms.now(), qms.announcer)))
        except Exception:  # the next round tries again; never let the loop die
            log.exception("marking missed appointments failed")


async def on_startup(qms: Any) -> None:
    throttle = Throttle(BOOKINGS_PER_MINUTE, 60, "bookings from this address")
    throttle.redis, throttle.namespace = qms.login_throttle.redis, qms.namespace
    qms.booking_throttle = throttle
    qms.appointments_task = asyncio.create_task(_mark_missed_forever(qms), name="qms-appointments-missed")


async def on_shutdown(qms: Any) -> None:
    task = getattr(qms, "appointments_task", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
