"""A SimPy simulator of office days in the demo office.

Why: to check wait predictions against waits that really happened under the real calling rules
(priority policy, routing, do-it-now desk, pauses, lunch, no-shows), at the moment each ticket was
issued. Deterministic per seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Literal

import simpy

from counters.prediction import (
    OpenCounter,
    PriorityPolicy,
    QueueSnapshot,
    Routing,
    ServiceSample,
    WaitingTicket,
    choose_next,
)
from counters.sim_office import (
    DAY_PLANS,
    DAY_TYPES,
    DEMO_SERVICES,
    OPENING_S,
    SERVICE_BY_CODE,
    Arrival,
    CounterSpec,
    DayPlan,
    DayType,
    ServiceSpec,
    arrivals,
)

__all__ = [
    "DAY_TYPES",
    "DEMO_SERVICES",
    "Arrival",
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

    @property
    def wait_s(self) -> float | None:
        """Issued to first called, as the API defines a wait."""
        return None if self.called_at is None else (self.called_at - self.issued_at).total_seconds()


@dataclass(slots=True)
class DayTrace:
    day_type: str
    seed: int
    tickets: list[TicketRecord]
    snapshots: dict[int, QueueSnapshot]  # the queue as it stood when each ticket was issued
    counters: tuple[CounterSpec, ...]
    services: tuple[ServiceSpec, ...] = DEMO_SERVICES

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
        )

    def issue(self, day_arrivals: list[Arrival]):  # type: ignore[no-untyped-def]
        for ticket_id, arrival in enumerate(day_arrivals, start=1):
            yield self.env.timeout(max(OPENING_S + arrival.at_offset_s - self.env.now, 0.0))
            service = SERVICE_BY_CODE[arrival.service_code]
            now = self.at(self.env.now)
            self.records[ticket_id] = TicketRecord(ticket_id, service.id, service.code, arrival.priority, now)
            self.waiting.append(WaitingTicket(ticket_id, service.id, arrival.priority, now))
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

    def run_counter(self, c: _Counter):  # type: ignore[no-untyped-def]
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

    def serve(self, c: _Counter, ticket: WaitingTicket):  # type: ignore[no-untyped-def]
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
    plan = DAY_PLANS[day_type]  # type: ignore[index]
    office = _Office(plan, seed, on_issue, priority_policy, interleave_every, routing)
    office.env.process(office.issue(arrivals(day_type, seed)))
    for c in office.counters:
        office.env.process(office.run_counter(c))
    office.env.run(until=24 * 3600)
    tickets = [office.records[k] for k in sorted(office.records)]
    return DayTrace(str(day_type), seed, tickets, office.snapshots, plan.counters)
