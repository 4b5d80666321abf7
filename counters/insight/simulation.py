"""A SimPy simulator of office days in the demo office.

Why: to check wait predictions against waits that really happened under the real calling rules
(priority policy, routing, do-it-now desk, pauses, lunch, no-shows, appointments checked in and
queued as if issued at their booked start), at the moment each ticket was issued. Deterministic per
seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal

import simpy

from counters.insight.prediction import (
    BookedVisit,
    OpenCounter,
    PriorityPolicy,
    QueueSnapshot,
    Routing,
    ServiceSample,
    WaitingTicket,
    choose_next,
)
from counters.insight.sim_office import (
    CHECKIN_EARLY_S,
    CHECKIN_LATE_S,
    DAY_PLANS,
    DAY_TYPES,
    DEMO_SERVICES,
    ISSUE_SESSIONS_S,
    OPENING_S,
    SERVICE_BY_CODE,
    Arrival,
    Booking,
    CounterSpec,
    DayPlan,
    DayType,
    ServiceSpec,
    arrivals,
    bookings,
)

__all__ = [
    "DAY_TYPES",
    "DEMO_SERVICES",
    "Arrival",
    "BookingRecord",
    "DayTrace",
    "TicketRecord",
    "arrivals",
    "simulate_day",
]

VN_TZ = timezone(timedelta(hours=7))
SIM_DATE = date(2026, 11, 23)  # a Monday
WALK_S = (10.0, 40.0)  # from the call to the citizen at the counter


@dataclass(slots=True)
class TicketRecord:
    id: int
    service_id: int
    service_code: str
    priority: bool
    issued_at: datetime
    called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    counter_id: int | None = None
    no_show: bool = False
    channel: Literal["walk_in", "appointment"] = "walk_in"
    queue_at: datetime | None = None  # an appointment's booked start (its place in the queue)
    booking_id: int | None = None  # the booking this ticket came from (checked in or too late)

    @property
    def wait_s(self) -> float | None:
        """Issued to first called, as the API defines a wait."""
        return None if self.called_at is None else (self.called_at - self.issued_at).total_seconds()


@dataclass(slots=True)
class BookingRecord:
    """An appointment of the day and what became of it: checked in (with its ticket) or missed (not
    checked in by start + CHECKIN_LATE_S; `walk_in_ticket_id` if the citizen came later and walked in)."""

    id: int
    service_id: int
    priority: bool
    start: datetime
    checked_in_at: datetime | None = None
    ticket_id: int | None = None
    walk_in_ticket_id: int | None = None

    @property
    def status(self) -> Literal["checked_in", "missed"]:
        return "checked_in" if self.checked_in_at is not None else "missed"


@dataclass(slots=True)
class DayTrace:
    day_type: str
    seed: int
    tickets: list[TicketRecord]
    snapshots: dict[int, QueueSnapshot]  # the queue as it stood when each ticket was issued
    counters: tuple[CounterSpec, ...]
    services: tuple[ServiceSpec, ...] = DEMO_SERVICES
    bookings: list[BookingRecord] = field(default_factory=list)

    @property
    def served(self) -> list[TicketRecord]:
        return [t for t in self.tickets if t.finished_at is not None]

    @property
    def no_shows(self) -> list[TicketRecord]:
        return [t for t in self.tickets if t.no_show]

    @property
    def left_waiting(self) -> list[TicketRecord]:
        return [t for t in self.tickets if t.called_at is None]

    def samples_until(self, now: datetime) -> list[ServiceSample]:
        """Finished services known at `now`: counter time from call to finish, as the model wants."""
        return [
            ServiceSample(t.service_id, t.finished_at, (t.finished_at - t.called_at).total_seconds())
            for t in self.tickets
            if t.finished_at is not None and t.called_at is not None and t.finished_at <= now
        ]

    def no_show_share_until(self, now: datetime) -> float:
        called = [t for t in self.tickets if t.called_at is not None and t.called_at <= now]
        return sum(t.no_show for t in called) / len(called) if called else 0.0


@dataclass(slots=True)
class _Counter:
    spec: CounterSpec
    state: Literal["closed", "open", "paused"] = "closed"
    serving: TicketRecord | None = None
    as_open: OpenCounter = field(init=False)

    def __post_init__(self) -> None:
        self.as_open = OpenCounter(self.spec.id, self.spec.desk, self.spec.service_ids)


class _Office:
    def __init__(
        self,
        plan: DayPlan,
        seed: int,
        on_issue: Callable[[QueueSnapshot, int], None] | None,
        priority_policy: PriorityPolicy,
        interleave_every: int,
        routing: Routing,
    ) -> None:
        self.env = simpy.Environment(initial_time=0)
        self.plan = plan
        self.rng = random.Random(f"service:{plan.day_type}:{seed}")
        # The day's true speed per service differs from the configured typical time.
        self.day_median = {s.id: s.median_s * math.exp(self.rng.gauss(0.0, 0.12)) for s in DEMO_SERVICES}
        self.sigma = {s.id: s.sigma for s in DEMO_SERVICES}
        self.on_issue = on_issue
        self.policy, self.every, self.routing = priority_policy, interleave_every, routing
        self.counters = [_Counter(spec) for spec in plan.counters]
        self.waiting: list[WaitingTicket] = []
        self.normals_since_priority = 0  # office-wide, as the queue engine counts it
        self.records: dict[int, TicketRecord] = {}
        self.snapshots: dict[int, QueueSnapshot] = {}
        self.bookings: dict[int, BookingRecord] = {}
        self.new_ticket = self.env.event()

    def at(self, t: float) -> datetime:
        return datetime(SIM_DATE.year, SIM_DATE.month, SIM_DATE.day, tzinfo=VN_TZ) + timedelta(seconds=t)

    def snapshot(self) -> QueueSnapshot:
        counters = tuple(
            OpenCounter(
                c.spec.id,
                c.spec.desk,
                c.spec.service_ids,
                c.serving.service_id if c.serving else None,
                c.serving.called_at if c.serving else None,
                "paused" if c.state == "paused" else "open",
            )
            for c in self.counters
            if c.state in ("open", "paused")
        )
        return QueueSnapshot(
            now=self.at(self.env.now),
            counters=counters,
            waiting=tuple(self.waiting),
            priority_policy=self.policy,
            interleave_every=self.every,
            routing=self.routing,
            normals_since_priority=self.normals_since_priority,
            booked=self.booked(),
        )

    def booked(self) -> tuple[BookedVisit, ...]:
        """Bookings still to come: not checked in and not yet missed (now <= start + CHECKIN_LATE_S)."""
        now = self.at(self.env.now)
        late = timedelta(seconds=CHECKIN_LATE_S)
        return tuple(
            BookedVisit(b.service_id, b.start)
            for b in self.bookings.values()
            if b.checked_in_at is None and now <= b.start + late
        )

    def issue(self, day_arrivals: list[Arrival], day_bookings: list[Booking]) -> Generator[simpy.Event, Any, None]:
        """Walk-ins, check-ins and booked citizens too late to check in, in the order they reach the kiosk."""
        for b in day_bookings:
            service = SERVICE_BY_CODE[b.service_code]
            self.bookings[b.id] = BookingRecord(b.id, service.id, b.priority, self.at(OPENING_S + b.start_offset_s))
        visits: list[tuple[float, int, Arrival | Booking]] = [(a.at_offset_s, k, a) for k, a in enumerate(day_arrivals)]
        visits += [(max(b.arrives_offset_s, 0.0), len(visits) + k, b)
                   for k, b in enumerate(day_bookings) if b.arrives_offset_s is not None]
        visits.sort(key=lambda v: (v[0], v[1]))
        ticket_id = 0
        for at_offset_s, _, visit in visits:
            yield self.env.timeout(max(OPENING_S + at_offset_s - self.env.now, 0.0))
            service = SERVICE_BY_CODE[visit.service_code]
            now = self.at(self.env.now)
            queue_at = now
            checks_in = False
            rec_booking: BookingRecord | None = None
            if isinstance(visit, Booking):
                rec_booking = self.bookings[visit.id]
                if self.env.now > OPENING_S + visit.start_offset_s + CHECKIN_LATE_S:  # too late: a walk-in
                    if not any(a <= self.env.now < b for a, b in ISSUE_SESSIONS_S):
                        continue  # the kiosk no longer issues: the citizen goes home
                else:
                    assert self.env.now >= OPENING_S + visit.start_offset_s - CHECKIN_EARLY_S
                    queue_at, checks_in = rec_booking.start, True
            ticket_id += 1
            record = TicketRecord(ticket_id, service.id, service.code, visit.priority, now)
            if rec_booking is not None:
                record.booking_id = rec_booking.id
                if checks_in:
                    record.channel, record.queue_at = "appointment", queue_at
                    rec_booking.checked_in_at, rec_booking.ticket_id = now, ticket_id
                else:
                    rec_booking.walk_in_ticket_id = ticket_id
            self.records[ticket_id] = record
            self.waiting.append(WaitingTicket(ticket_id, service.id, visit.priority, queue_at))
            snap = self.snapshot()
            self.snapshots[ticket_id] = snap
            if self.on_issue is not None:
                self.on_issue(snap, ticket_id)
            woken, self.new_ticket = self.new_ticket, self.env.event()
            woken.succeed()

    def service_time(self, service_id: int) -> float:
        d = math.exp(math.log(self.day_median[service_id]) + self.sigma[service_id] * self.rng.gauss(0, 1))
        if self.rng.random() < self.plan.outlier_share:
            d *= self.rng.uniform(2.0, 3.0)
        return d

    def run_counter(self, c: _Counter) -> Generator[simpy.Event, Any, None]:
        env = self.env
        issuing_close = (11.5 * 3600, 16.5 * 3600)
        for open_s, close_s in c.spec.windows:
            if env.now < open_s:
                yield env.timeout(open_s - env.now)
            soft_close = next((x for x in issuing_close if open_s < x <= close_s), close_s)
            c.state = "open"
            while env.now < close_s:
                pause = next((p for p in c.spec.pauses if p[0] <= env.now < p[1]), None)
                if pause is not None:
                    c.state = "paused"
                    yield env.timeout(pause[1] - env.now)
                    c.state = "open"
                    continue
                ticket = choose_next(
                    c.as_open, self.waiting, self.policy, self.every, self.routing, self.normals_since_priority
                )
                if ticket is None:
                    if env.now >= soft_close:
                        break  # issuing is closed and nobody waits for this counter: lunch / home
                    next_change = min(
                        [p[0] for p in c.spec.pauses if p[0] > env.now] + [soft_close, close_s]
                    )
                    yield self.new_ticket | env.timeout(next_change - env.now)
                    continue
                yield from self.serve(c, ticket)
            c.state = "closed"

    def serve(self, c: _Counter, ticket: WaitingTicket) -> Generator[simpy.Event, Any, None]:
        env = self.env
        self.waiting.remove(ticket)
        self.normals_since_priority = 0 if ticket.priority else self.normals_since_priority + 1
        rec = self.records[ticket.id]
        rec.called_at, rec.counter_id = self.at(env.now), c.spec.id
        c.serving = rec
        if self.rng.random() < self.plan.no_show_share:
            yield env.timeout(self.plan.no_show_wait_s)
            rec.no_show = True
        else:
            walk = self.rng.uniform(*WALK_S)
            rec.started_at = self.at(env.now + walk)
            yield env.timeout(walk + self.service_time(ticket.service_id))
            rec.finished_at = self.at(env.now)
        c.serving = None


def simulate_day(
    day_type: DayType | str,
    seed: int,
    on_issue: Callable[[QueueSnapshot, int], None] | None = None,
    *,
    priority_policy: PriorityPolicy = "strict",
    interleave_every: int = 3,
    routing: Routing = "fifo",
) -> DayTrace:
    """Simulate one office day; `on_issue(snapshot, ticket_id)` sees the queue as each ticket is
    issued (the new ticket included), before any counter reacts to it."""
    if day_type not in DAY_PLANS:
        raise ValueError(f"unknown day type {day_type!r}; use one of {', '.join(DAY_TYPES)}")
    plan = DAY_PLANS[day_type]
    office = _Office(plan, seed, on_issue, priority_policy, interleave_every, routing)
    office.env.process(office.issue(arrivals(day_type, seed), bookings(day_type, seed)))
    for c in office.counters:
        office.env.process(office.run_counter(c))
    office.env.run(until=24 * 3600)
    tickets = [office.records[k] for k in sorted(office.records)]
    return DayTrace(str(day_type), seed, tickets, office.snapshots, plan.counters,
                    bookings=[office.bookings[k] for k in sorted(office.bookings)])
