"""Replays simulated office days and pairs each ticket's prediction at issue time with its real wait.

Why a module: the benchmark (bench/prediction.py) and the calibration of the 80% range
(prediction_calibration.fit) must see exactly the same predictions, made as the live system makes
them: a service-time model learnt from yesterday's and today's finished services so far (the
configured typical times as priors), today's walk-in arrival rates, how booked citizens turned up
yesterday and today so far, and the queue as it stood (the bookings still to come included).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from counters.insight.prediction import (
    ArrivalRates,
    QueueSnapshot,
    ServiceSample,
    ServiceTimeModel,
    naive_predict,
    office_load,
    simulate_waits,
)
from counters.insight.prediction_bookings import CHECKIN_LATE_S, BookingBehaviour, BookingOutcome
from counters.insight.sim_office import DAY_PLANS, DEMO_SERVICES
from counters.insight.simulation import DayTrace, simulate_day

PRIORS_S = {s.id: s.typical_s for s in DEMO_SERVICES}
DEFAULT_NO_SHOW_SHARE = 0.05


@dataclass(frozen=True, slots=True)
class Backtest:
    """One ticket: its simulated waits at issue time (sorted; None if no counter served its service),
    the office's load then, the naive estimate, the real wait and the prediction's cost in ms."""

    day_type: str
    seed: int
    ticket_id: int
    waits: list[float] | None
    load: float
    naive_s: float
    actual_s: float
    predict_ms: float
    channel: str = "walk_in"  # "appointment": a checked-in booking's ticket


def _yesterday(day_type: str, seed: int) -> DayTrace:
    """Yesterday: a normal day, or a day with appointments before one (bookings are a habit)."""
    booked = DAY_PLANS[day_type].booked_share > 0
    return simulate_day("appointments" if booked else "normal", seed + 10_000)


def yesterday_samples(seed: int, day_type: str = "normal") -> list[ServiceSample]:
    """Yesterday's finished services, moved one day back: what the model knows at opening."""
    trace = _yesterday(day_type, seed)
    return [
        ServiceSample(s.service_id, s.finished_at - timedelta(days=1), s.duration_s)
        for s in trace.samples_until(datetime.max.replace(tzinfo=trace.tickets[0].issued_at.tzinfo))
    ]


def booking_outcomes(trace: DayTrace, now: datetime, days_back: int = 0) -> list[BookingOutcome]:
    """The bookings of `trace` whose fate is known at `now` (checked in, or missed: not checked in by
    start + CHECKIN_LATE_S), moved `days_back` days back."""
    shift = timedelta(days=days_back)
    late = timedelta(seconds=CHECKIN_LATE_S)
    out = []
    for b in trace.bookings:
        if b.checked_in_at is not None and b.checked_in_at <= now:
            out.append(BookingOutcome(b.start - shift, b.checked_in_at - shift))
        elif b.start + late < now:
            out.append(BookingOutcome(b.start - shift, None))
    return out


def walk_in_rates(trace: DayTrace, now: datetime) -> ArrivalRates:
    """Walk-in arrival rates: checked-in bookings come through `snapshot.booked`, not as newcomers."""
    return ArrivalRates.from_issues(
        ((t.service_id, t.priority, t.issued_at) for t in trace.tickets
         if t.issued_at <= now and t.channel == "walk_in"), now
    )


def replay_day(day_type: str, seed: int, runs: int | None = None, *, use_booked: bool = True) -> Iterator[Backtest]:
    """Every ticket of one simulated day that was called before closing. `use_booked=False` hides the
    bookings still to come from the prediction and counts check-ins in the arrival rates, as when the
    office gives it no bookings: to measure what they are worth."""
    trace = simulate_day(day_type, seed)
    yesterday = _yesterday(day_type, seed)
    history = yesterday_samples(seed, day_type)
    history_mean = statistics.fmean(s.duration_s for s in history)
    past_bookings = booking_outcomes(yesterday, datetime.max.replace(tzinfo=history[0].finished_at.tzinfo), 1)
    for ticket in trace.tickets:
        if ticket.wait_s is None:  # still waiting at closing time: no real wait to compare with
            continue
        snap = trace.snapshots[ticket.id]
        today = trace.samples_until(snap.now)
        model = ServiceTimeModel.fit(
            history + today,
            snap.now,
            PRIORS_S,
            no_show_share=trace.no_show_share_until(snap.now) if len(today) >= 10 else DEFAULT_NO_SHOW_SHARE,
        )
        if not use_booked:
            snap = QueueSnapshot(snap.now, snap.counters, snap.waiting, snap.priority_policy, snap.interleave_every,
                                 snap.routing, snap.normals_since_priority)
        behaviour = BookingBehaviour.fit(past_bookings + booking_outcomes(trace, snap.now))
        started = time.perf_counter()
        rates = walk_in_rates(trace, snap.now) if use_booked else ArrivalRates.from_issues(
            ((t.service_id, t.priority, t.issued_at) for t in trace.tickets if t.issued_at <= snap.now), snap.now)
        sim = simulate_waits(snap, model, runs=runs, arrivals=rates, bookings=behaviour)
        ms = (time.perf_counter() - started) * 1000
        index = next(i for i, t in enumerate(snap.waiting) if t.id == ticket.id)
        avg_s = statistics.fmean(s.duration_s for s in today) if len(today) >= 5 else history_mean
        yield Backtest(day_type, seed, ticket.id, sim.waits[index], office_load(snap),
                       naive_predict(snap, avg_s)[ticket.id], ticket.wait_s, ms, ticket.channel)


def replay(
    day_types: Iterable[str], seeds: Iterable[int], runs: int | None = None, *, use_booked: bool = True
) -> list[Backtest]:
    seeds = tuple(seeds)
    return [b for day_type in day_types for seed in seeds
            for b in replay_day(day_type, seed, runs, use_booked=use_booked)]
