"""Bench: wait prediction at issue time against the wait that really followed, in simulated days.

For every ticket of every simulated day, the queue as it stood when the ticket was issued is given
to `predict` (its service-time model learnt from yesterday's and today's finished services so far,
plus the configured typical time of each service as a prior) and to `naive_predict` (people ahead x
average service time / counters); both are compared with the real wait. Evaluation seeds are not the
seeds used while calibrating the model (`--calibration` prints those instead).

    python -m bench.prediction [--calibration] [--seeds N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from counters.prediction import (
    ArrivalRates,
    OpenCounter,
    QueueSnapshot,
    ServiceSample,
    ServiceTimeModel,
    WaitingTicket,
    naive_predict,
    predict,
)
from counters.sim_office import DAY_TYPES, DEMO_SERVICES
from counters.simulation import DayTrace, simulate_day

CALIBRATION_SEEDS = tuple(range(1, 6))
EVALUATION_SEEDS = tuple(range(101, 111))
PRIORS_S = {s.id: s.typical_s for s in DEMO_SERVICES}
DEFAULT_NO_SHOW_SHARE = 0.05


@dataclass
class DayFigures:
    day_type: str
    tickets: int = 0
    abs_err_model: float = 0.0
    abs_err_naive: float = 0.0
    covered: int = 0
    below: int = 0
    above: int = 0
    unpredictable: int = 0
    predicted_wait: int = 0  # tickets whose interval was not [0, 0] (a counter was free for them)
    predicted_wait_covered: int = 0
    predict_ms: float = 0.0

    @property
    def mae_model(self) -> float:
        return self.abs_err_model / self.tickets

    @property
    def mae_naive(self) -> float:
        return self.abs_err_naive / self.tickets

    @property
    def improvement_pct(self) -> float:
        return 100.0 * (1.0 - self.mae_model / self.mae_naive)

    @property
    def coverage_pct(self) -> float:
        return 100.0 * self.covered / self.tickets

    @property
    def waiting_coverage_pct(self) -> float:
        return 100.0 * self.predicted_wait_covered / max(self.predicted_wait, 1)


def yesterday_samples(seed: int) -> list[ServiceSample]:
    """A normal day's finished services, moved one day back: what the model knows at opening."""
    trace = simulate_day("normal", seed + 10_000)
    return [
        ServiceSample(s.service_id, s.finished_at - timedelta(days=1), s.duration_s)
        for s in trace.samples_until(datetime.max.replace(tzinfo=trace.tickets[0].issued_at.tzinfo))
    ]


def evaluate_day(trace: DayTrace, history: list[ServiceSample], figures: DayFigures) -> None:
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
        avg_s = statistics.fmean(s.duration_s for s in today) if len(today) >= 5 else history_mean
        started = time.perf_counter()
        rates = ArrivalRates.from_issues(
            ((t.service_id, t.priority, t.issued_at) for t in trace.tickets if t.issued_at <= snap.now), snap.now
        )
        pred = predict(snap, model, arrivals=rates)[ticket.id]
        figures.predict_ms += (time.perf_counter() - started) * 1000
        naive = naive_predict(snap, avg_s)[ticket.id]
        actual = ticket.wait_s
        figures.tickets += 1
        figures.abs_err_naive += abs(naive - actual)
        if pred.expected_s is None or pred.low_s is None or pred.high_s is None:
            figures.unpredictable += 1
            figures.abs_err_model += abs(naive - actual)
            continue
        figures.abs_err_model += abs(pred.expected_s - actual)
        inside = pred.low_s <= actual <= pred.high_s
        if pred.high_s > 0:
            figures.predicted_wait += 1
            figures.predicted_wait_covered += inside
        if inside:
            figures.covered += 1
        elif actual < pred.low_s:
            figures.below += 1
        else:
            figures.above += 1


def large_snapshot() -> QueueSnapshot:
    """10 counters (one do-it-now), 5 services, 300 waiting tickets, most counters busy."""
    now = datetime(2026, 11, 23, 9, 30)
    counters = [OpenCounter(1, "do_it_now", (1,), 1, now - timedelta(seconds=100))]
    for k in range(2, 11):
        services = (2 + k % 4, 2 + (k + 1) % 4)
        counters.append(OpenCounter(k, "standard", services, services[0], now - timedelta(seconds=60 * k)))
    waiting = [
        WaitingTicket(i, 1 + i % 5, i % 9 == 0, now - timedelta(seconds=3 * (300 - i)))
        for i in range(1, 301)
    ]
    return QueueSnapshot(now, tuple(counters), tuple(waiting))


def time_large_snapshot(repeat: int = 7) -> tuple[float, float]:
    snap = large_snapshot()
    model = ServiceTimeModel.fit([], snap.now, PRIORS_S, no_show_share=0.05)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        predict(snap, model)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calibration", action="store_true", help="use the calibration seeds")
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds per day type")
    args = parser.parse_args(argv)
    seeds = CALIBRATION_SEEDS if args.calibration else EVALUATION_SEEDS
    if args.seeds:
        seeds = seeds[: args.seeds]
    label = "calibration" if args.calibration else "evaluation"
    print(f"Wait prediction at issue time, {label} seeds {seeds[0]}..{seeds[-1]} ({len(seeds)} days per type)")
    print(
        f"{'day type':<15}{'tickets':>8}{'MAE naive':>11}{'MAE model':>11}{'better':>8}"
        f"{'80% cover':>11}{'below':>7}{'above':>7}{'cover|wait':>12}{'ms/pred':>9}"
    )
    mae_ok = cover_all_ok = cover_wait_ok = True
    for day_type in DAY_TYPES:
        figures = DayFigures(day_type)
        for seed in seeds:
            evaluate_day(simulate_day(day_type, seed), yesterday_samples(seed), figures)
        n = figures.tickets
        print(
            f"{day_type:<15}{n:>8}{figures.mae_naive / 60:>9.1f}m{figures.mae_model / 60:>10.1f}m"
            f"{figures.improvement_pct:>7.1f}%{figures.coverage_pct:>10.1f}%"
            f"{100 * figures.below / n:>6.1f}%{100 * figures.above / n:>6.1f}%"
            f"{figures.waiting_coverage_pct:>6.1f}% n={figures.predicted_wait:<4}{figures.predict_ms / n:>7.2f}"
        )
        if figures.unpredictable:
            print(f"  ({figures.unpredictable} tickets had no counter able to serve them; naive used)")
        mae_ok = mae_ok and figures.improvement_pct >= 30
        cover_all_ok = cover_all_ok and 75 <= figures.coverage_pct <= 85
        cover_wait_ok = cover_wait_ok and 75 <= figures.waiting_coverage_pct <= 85
    median_ms, worst_ms = time_large_snapshot()
    print(f"Large snapshot (10 counters, 300 waiting): median {median_ms:.1f} ms, worst {worst_ms:.1f} ms")
    print("80% cover: real wait inside [low, high], all tickets; cover|wait: only tickets predicted to wait")
    print("(a ticket issued while a counter is free for it is predicted [0, 0] and called at once).")
    verdict = {True: "met", False: "NOT met"}
    print(f"target >=30% lower MAE than naive on every day type: {verdict[mae_ok]}")
    print(f"target 75-85% coverage, all tickets: {verdict[cover_all_ok]}; "
          f"tickets predicted to wait: {verdict[cover_wait_ok]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
