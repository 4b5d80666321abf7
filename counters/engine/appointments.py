"""Appointments (lịch hẹn) and walk-ins in one queue: slots, booking, cancelling, check-in, missed.

Why one queue: a checked-in appointment becomes an ordinary ticket whose `queue_at` is its booked start, so
the calling order (queue.calling_order: priority group, then queue time) puts it behind everyone who was
already waiting at that moment and ahead of everyone who came later, under either priority policy, and
positions and estimates (which read the same order) agree with the calls (DOMAIN.md "Appointments").

Slots are `booking_slot_min` long, counted from the start of each issuing window of the day and ending
inside it; an office that is always open (`opening_hours` null) books over DEFAULT_BOOKING_HOURS.
Capacity holds under concurrent bookings: the booking transaction locks the service's row (PostgreSQL
`FOR UPDATE`; SQLite has one writer) before counting the slot's live bookings.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from counters.engine import events
from counters.clock import iso, office_day, zone
from counters.context import Ctx
from counters.errors import InvalidValue, NotFound, StateConflict
from counters.engine.issuing import issue_ticket
from counters.models import Appointment, Office, Service, Ticket
from counters.engine.schedule import Window, windows_on
from counters.tables import rowcount
from counters.types import Channel

BOOKED, CHECKED_IN, CANCELLED, MISSED = "booked", "checked_in", "cancelled", "missed"
STATUSES = (BOOKED, CHECKED_IN, CANCELLED, MISSED)
LIVE = (BOOKED, CHECKED_IN)  # the bookings that hold a seat of their slot
# an office that is always open books over the usual hours of a one-stop centre, Monday to Friday
DEFAULT_BOOKING_HOURS = {d: [["07:30", "11:30"], ["13:00", "16:30"]] for d in ("mon", "tue", "wed", "thu", "fri")}
# no 0/O, 1/I/L, 2/Z, 5/S, 8/B, G/6: read out over a counter or typed on a kiosk without mistakes
CODE_ALPHABET = "ACDEFHJKMNPQRTUVWXY34679"
CODE_LENGTH = 7
OFFICE_LIMITS = {"booking_slot_min": (1, 240), "booking_days_ahead": (0, 365), "checkin_early_min": (0, 240),
                 "checkin_late_min": (0, 240)}
PER_SLOT_LIMITS = (1, 100)


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    free: int


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_manage_code() -> str:
    """128 random bits, URL-safe: the citizen's only key to see or cancel a booking."""
    return secrets.token_urlsafe(16)


def normalize_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def booking_windows(office: Office, day: date) -> list[Window]:
    windows = windows_on(day, office.opening_hours, office.extra_sessions)
    if windows is None:
        windows = windows_on(day, DEFAULT_BOOKING_HOURS, None) or []
    return windows


def _grid(office: Office, day: date) -> list[tuple[datetime, datetime]]:
    """Every slot of the day (UTC start, end), started or not, for any bookable service."""
    step = timedelta(minutes=max(1, office.booking_slot_min))
    tz = zone(office.timezone)
    out = []
    for w in booking_windows(office, day):
        t = datetime.combine(day, w.start, tzinfo=tz)
        end = datetime.combine(day, w.end, tzinfo=tz)
        while t + step <= end:
            out.append((t.astimezone(UTC), (t + step).astimezone(UTC)))
            t += step
    return out


def last_bookable_day(office: Office, now: datetime) -> date:
    return office_day(now, office.timezone) + timedelta(days=office.booking_days_ahead)


def booking_days(office: Office, now: datetime) -> list[date]:
    """The days from today to `booking_days_ahead` that have a slot still to come."""
    today = office_day(now, office.timezone)
    days = [today + timedelta(days=i) for i in range(office.booking_days_ahead + 1)]
    return [d for d in days if any(a > now for a, _ in _grid(office, d))]


def _taken(session: Session, service_id: int, starts: list[datetime]) -> dict[datetime, int]:
    if not starts:
        return {}
    rows = session.execute(select(Appointment.start, func.count()).where(
        col(Appointment.service_id) == service_id, col(Appointment.start).in_(starts),
        col(Appointment.status).in_(LIVE)).group_by(col(Appointment.start))).all()
    return {start: n for start, n in rows}


def slots(session: Session, office: Office, service: Service, day: date, now: datetime) -> list[Slot]:
    """The slots of `day` still to come and within `booking_days_ahead`, with their free seats."""
    if not service.bookable or not service.active or service.archived:
        return []
    if day < office_day(now, office.timezone) or day > last_bookable_day(office, now):
        return []
    grid = [(a, b) for a, b in _grid(office, day) if a > now]
    taken = _taken(session, service.id or 0, [a for a, _ in grid])
    return [Slot(a, b, max(0, service.booking_per_slot - taken.get(a, 0))) for a, b in grid]


def parse_start(raw: str, office: Office) -> datetime:
    """An ISO 8601 start; without an offset it is read in the office's timezone."""
    try:
        at = datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        raise InvalidValue("start is an ISO 8601 time, e.g. 2026-11-23T08:15:00+07:00", field="start") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=zone(office.timezone))
    return at.astimezone(UTC)


def _slot_of(office: Office, start: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The slot that starts at `start`, or InvalidValue saying why it is not one (422)."""
    day = office_day(start, office.timezone)
    match = next(((a, b) for a, b in _grid(office, day) if a == start), None)
    if match is None:
        raise InvalidValue("start is not the start of a slot of this office (see GET .../slots)", field="start",
                           reason="not_a_slot")
    if start <= now:
        raise InvalidValue("That slot has already started.", field="start", reason="past")
    if day > last_bookable_day(office, now):
        raise InvalidValue(f"Bookings are taken at most {office.booking_days_ahead} days ahead.", field="start",
                           reason="too_far_ahead", days_ahead=office.booking_days_ahead)
    return match


def appointment_view(a: Appointment, tz: str, *, private: bool = False) -> dict[str, Any]:
    """The booking as staff and its holder see it; `private` adds the phone (staff of the office only).
    The ID number's hash is never shown."""
    out: dict[str, Any] = {"id": a.id, "office_id": a.office_id, "service_id": a.service_id, "code": a.code,
                           "start": iso(a.start, tz), "end": iso(a.end, tz), "status": a.status, "lang": a.lang,
                           "ticket_id": a.ticket_id, "has_id_number": a.id_card_hash is not None,
                           "created_at": iso(a.created_at, tz)}
    if private:
        out["phone"] = a.phone
    return out


def _event(session: Session, ctx: Ctx, office: Office, a: Appointment, kind: str, before: str | None,
           **extra: Any) -> None:
    """One event per change; its data never holds the phone or the ID hash (the WebSocket shows it to staff)."""
    events.record(session, office.id or 0, kind, ctx.now, {"appointment": appointment_view(a, office.timezone),
                                                           **extra},
                  actor=ctx.who.actor, service_id=a.service_id, ticket_id=a.ticket_id,
                  from_status=before, to_status=a.status)


def effective_status(a: Appointment, office: Office, now: datetime) -> str:
    """A booking past its check-in window is missed, whether or not the background task wrote it yet."""
    if a.status == BOOKED and now > a.start + timedelta(minutes=office.checkin_late_min):
        return MISSED
    return a.status


def _lock_service(session: Session, service: Service) -> None:
    """Bookings of one service run one after another (PostgreSQL); SQLite's single writer already does."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(select(Service.id).where(col(Service.id) == service.id).with_for_update())


def book(session: Session, ctx: Ctx, office: Office, service: Service, start: datetime, *,
         phone: str | None = None, id_card_hash: str | None = None, lang: str = "vi") -> Appointment:
    if service.office_id != office.id or service.archived:
        raise InvalidValue("service_id is not a service of this office", field="service_id")
    if lang not in ("vi", "en"):
        raise InvalidValue("lang must be vi or en", field="lang")
    slot_start, slot_end = _slot_of(office, start, ctx.now)
    if not service.bookable or not service.active:
        raise StateConflict(f"Service {service.code} does not take appointments.", code="service_not_bookable")
    _lock_service(session, service)
    taken = _taken(session, service.id or 0, [slot_start]).get(slot_start, 0)
    if taken >= service.booking_per_slot:
        raise StateConflict("That slot is full; choose another.", code="slot_full",
                            start=iso(slot_start, office.timezone))
    code = new_code()
    while session.execute(select(Appointment.id).where(col(Appointment.code) == code)).first():
        code = new_code()
    a = Appointment(office_id=office.id or 0, service_id=service.id or 0, start=slot_start, end=slot_end,
                    status=BOOKED, code=code, manage_code=new_manage_code(), phone=phone or None,
                    id_card_hash=id_card_hash, lang=lang, created_at=ctx.now)
    session.add(a)
    session.flush()
    _event(session, ctx, office, a, "appointment.booked", None)
    return a


def by_manage_code(session: Session, manage_code: str) -> Appointment:
    a: Appointment | None = session.execute(
        select(Appointment).where(col(Appointment.manage_code) == manage_code)).scalars().first() \
        if 16 <= len(manage_code) <= 64 else None
    if a is None:
        raise NotFound("Unknown appointment.")
    return a


def by_code(session: Session, office: Office, code: str) -> Appointment:
    a: Appointment | None = session.execute(select(Appointment).where(
        col(Appointment.office_id) == office.id, col(Appointment.code) == normalize_code(code))).scalars().first()
    if a is None:
        raise NotFound("No appointment has that code at this office.", code="not_found")
    return a


def cancel(session: Session, ctx: Ctx, office: Office, a: Appointment) -> Appointment:
    status = effective_status(a, office, ctx.now)
    if status != BOOKED:
        raise StateConflict(f"The appointment is {status}; only a booked one can be cancelled.",
                            code="appointment_state", status=status)
    a.status, a.changed_at = CANCELLED, ctx.now
    session.add(a)
    _event(session, ctx, office, a, "appointment.cancelled", BOOKED)
    return a


def checkin_window(office: Office, a: Appointment) -> tuple[datetime, datetime]:
    return (a.start - timedelta(minutes=office.checkin_early_min),
            a.start + timedelta(minutes=office.checkin_late_min))


def check_in(session: Session, ctx: Ctx, office: Office, a: Appointment, *,
             device_id: int | None = None) -> Ticket:
    """Issue the appointment's ticket, queued as if issued at the booked start (module docstring)."""
    status = effective_status(a, office, ctx.now)
    opens, closes = checkin_window(office, a)
    tz = office.timezone
    if status == CHECKED_IN:
        raise StateConflict("This appointment has already been checked in.", code="already_checked_in",
                            ticket_id=a.ticket_id)
    if status == CANCELLED:
        raise StateConflict("This appointment was cancelled.", code="appointment_cancelled", status=status)
    if status == MISSED or ctx.now > closes:
        raise StateConflict("Too late for this appointment: take a normal ticket.", code="checkin_too_late",
                            start=iso(a.start, tz), checkin_until=iso(closes, tz))
    if ctx.now < opens:
        raise StateConflict("Too early: check in from the time shown.", code="checkin_too_early",
                            start=iso(a.start, tz), checkin_from=iso(opens, tz))
    service = session.get(Service, a.service_id)
    if service is None:
        raise NotFound("The appointment's service no longer exists.")
    ticket = issue_ticket(session, ctx, office, service, channel=Channel.APPOINTMENT, lang=a.lang,
                          device_id=device_id, queue_at=a.start, appointment_id=a.id)
    a.status, a.ticket_id, a.changed_at = CHECKED_IN, ticket.id, ctx.now
    session.add(a)
    _event(session, ctx, office, a, "appointment.checked_in", BOOKED,
           ticket={"id": ticket.id, "display_number": ticket.display_number})
    return ticket


def mark_missed(session: Session, ctx: Ctx, offices: dict[int, Office] | None = None) -> int:
    """Bookings past their check-in window become `missed`, one event each; returns how many.

    Each is taken with a conditional UPDATE, so workers running this at once never write one twice."""
    rows = session.execute(select(Appointment).where(col(Appointment.status) == BOOKED,
                                                     col(Appointment.start) < ctx.now)).scalars().all()
    offices = offices if offices is not None else {}
    done = 0
    for a in rows:
        office = offices.get(a.office_id) or session.get(Office, a.office_id)
        if office is None or effective_status(a, office, ctx.now) != MISSED:
            continue
        offices[a.office_id] = office
        taken = session.execute(update(Appointment).where(col(Appointment.id) == a.id,
                                                          col(Appointment.status) == BOOKED)
                                .values(status=MISSED, changed_at=ctx.now)
                                .execution_options(synchronize_session=False))
        if rowcount(taken) != 1:
            continue
        session.refresh(a)
        _event(session, ctx, office, a, "appointment.missed", BOOKED)
        done += 1
    return done


def listing(session: Session, office: Office, day: date, status: str | None, now: datetime,
            q: str | None = None) -> list[Appointment]:
    """A day's bookings in start order; `status` filters by the effective status; `q` finds a code or phone."""
    if status is not None and status not in STATUSES:
        raise InvalidValue(f"status is one of {', '.join(STATUSES)}", field="status")
    a0 = datetime.combine(day, time(0), tzinfo=zone(office.timezone)).astimezone(UTC)
    query = select(Appointment).where(col(Appointment.office_id) == office.id, col(Appointment.start) >= a0,
                                      col(Appointment.start) < a0 + timedelta(days=1))
    rows = list(session.execute(query.order_by(col(Appointment.start), col(Appointment.id))).scalars())
    if q:
        code, digits = normalize_code(q), "".join(ch for ch in q if ch.isdigit())
        rows = [a for a in rows if a.code == code
                or (len(digits) >= 3 and digits in "".join(ch for ch in (a.phone or "") if ch.isdigit()))]
    if status is not None:
        rows = [a for a in rows if effective_status(a, office, now) == status]
    return rows
