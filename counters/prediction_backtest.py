"""Replays simulated office days and pairs each ticket's prediction at issue time with its real wait.

Why a module: the benchmark (bench/prediction.py) and the calibration of the 80% range
(prediction_calibration.fit) must see exactly the same predictions, made as the live system makes
them: a service-time model learnt from yesterday's and today's finished services so far (the
configured typical times as priors), today's arrival rates, and the queue as it stood.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from .prediction import (
    ArrivalRates,
    ServiceSample,
    ServiceTimeModel,
    naive_predict,
    office_load,
    simulate_waits,
)
from .sim_office import DEMO_SERVICES
from .simulation import simulate_day

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


def yesterday_samples(seed: int) -> list[ServiceSample]:
    """A normal day's finished services, moved one day back: what the model knows at opening."""
    trace = simulate_day("normal", seed + 10_000)
    return [
        ServiceSample(s.service_id, s.finished_at - timedelta(days=1), s.duration_s)
        for s in trace.samples_until(datetime.max.replace(tzinfo=trace.tickets[0].issued_at.tzinfo))
    ]


def replay_day(day_type: str, seed: int, runs: int | None = None) -> Iterator[Backtest]:
    """Every ticket of one simulated day that was called before closing."""
    trace = simulate_day(day_type, seed)
    history = yesterday_samples(seed)
    history_mean = statistics.fmean(s.duration_s for s in history)
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
        started = time.perf_counter()
        rates = ArrivalRates.from_issues(
            ((t.service_id, t.priority, t.issued_at) for t in trace.tickets if t.issued_at <= snap.now), snap.now
        )
        sim = simulate_waits(snap, model, runs=runs, arrivals=rates)
        ms = (time.perf_counter() - started) * 1000
        index = next(i for i, t in enumerate(snap.waiting) if t.id == ticket.id)
        avg_s = statistics.fmean(s.duration_s for s in today) if len(today) >= 5 else history_mean
        yield Backtest(day_type, seed, ticket.id, sim.waits[index], office_load(snap),
                       naive_predict(snap, avg_s)[ticket.id], ticket.wait_s, ms)


def replay(day_types: Iterable[str], seeds: Iterable[int], runs: int | None = None) -> list[Backtest]:
    seeds = tuple(seeds)
    return [b for day_type in day_types for seed in seeds for b in replay_day(day_type, seed, runs)]
