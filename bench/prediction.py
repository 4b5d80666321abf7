"""Bench: wait prediction at issue time against the wait that really followed, in simulated days.

For every ticket of every simulated day, the queue as it stood when the ticket was issued is given
to `predict` (its service-time model learnt from yesterday's and today's finished services so far,
plus the configured typical time of each service as a prior) and to `naive_predict` (people ahead x
average service time / counters); both are compared with the real wait (counters/insight/prediction_backtest.py).
The "appointments" day (30% of visits booked) is also shown by ticket channel, and replayed with the
bookings still to come not given to the prediction (check-ins counted in the arrival rates instead).
Evaluation seeds are never the seeds the 80% range is calibrated on: `--fit` replays the calibration
seeds, fits the range's scale factors per load regime over the tickets that waited
(prediction_calibration.fit) and rewrites counters/insight/prediction_fitted.py; `--calibration` prints the
figures on the calibration seeds.

    python -m bench.prediction [--calibration] [--seeds N] [--fit]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from counters.insight.prediction import OpenCounter, QueueSnapshot, ServiceTimeModel, WaitingTicket, predict
from counters.insight.prediction_backtest import PRIORS_S, Backtest, replay
from counters.insight.prediction_calibration import IntervalCalibration, Observation, fit, interval, render
from counters.insight.prediction_fitted import FITTED
from counters.insight.sim_office import DAY_PLANS, DAY_TYPES

CALIBRATION_SEEDS = tuple(range(1, 21))
EVALUATION_SEEDS = tuple(range(101, 111))
REGIMES = 4
FITTED_PATH = Path(__file__).resolve().parent.parent / "counters" / "insight" / "prediction_fitted.py"


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
    waited: int = 0  # tickets not called at once (real wait > 0): those the range matters to
    waited_covered: int = 0
    raw_covered: int = 0  # the uncalibrated 10th-90th percentiles, for comparison
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
    def raw_coverage_pct(self) -> float:
        return 100.0 * self.raw_covered / self.tickets

    @property
    def waiting_coverage_pct(self) -> float:
        return 100.0 * self.waited_covered / max(self.waited, 1)

    def add(self, b: Backtest, calibration: IntervalCalibration | None) -> None:
        """One ticket; its range as `predict` rounds it, with the given calibration."""
        self.tickets += 1
        self.predict_ms += b.predict_ms
        self.abs_err_naive += abs(b.naive_s - b.actual_s)
        if b.waits is None:
            self.unpredictable += 1
            self.abs_err_model += abs(b.naive_s - b.actual_s)
            return
        expected, low, high = (round(x) for x in interval(b.waits, b.load, calibration))
        _, raw_low, raw_high = (round(x) for x in interval(b.waits, b.load, None))
        self.raw_covered += raw_low <= b.actual_s <= raw_high
        self.abs_err_model += abs(expected - b.actual_s)
        inside = low <= b.actual_s <= high
        if b.actual_s > 0:
            self.waited += 1
            self.waited_covered += inside
        if inside:
            self.covered += 1
        elif b.actual_s < low:
            self.below += 1
        else:
            self.above += 1


def observations(backtests: list[Backtest]) -> list[Observation]:
    return [Observation(b.waits, b.load, b.actual_s) for b in backtests if b.waits is not None]


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


def refit(seeds: tuple[int, ...]) -> tuple[IntervalCalibration, list[Backtest]]:
    """The documented procedure: replay the calibration days, fit, rewrite prediction_fitted.py."""
    backtests = replay(DAY_TYPES, seeds)
    calibration = fit(observations(backtests), REGIMES)
    provenance = (
        f"Fitted by prediction_calibration.fit(regimes={REGIMES}, target={calibration.target}) on the\n"
        f"backtests of day types {', '.join(DAY_TYPES)}, calibration seeds {seeds[0]}..{seeds[-1]}\n"
        f"({len(backtests)} tickets, {sum(b.actual_s > 0 for b in backtests)} of which waited: "
        "those it is fitted on);\n"
        f"the evaluation seeds were not used."
    )
    FITTED_PATH.write_text(render(calibration, provenance))
    print(f"wrote {FITTED_PATH}:")
    for r in calibration.regimes:
        print(f"  load <= {r.max_load:.2f}: low x{r.low_factor:.3f}, high x{r.high_factor:.3f}")
    return calibration, backtests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calibration", action="store_true", help="use the calibration seeds")
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds per day type")
    parser.add_argument("--fit", action="store_true",
                        help=("refit the 80%% range on the calibration seeds and rewrite "
                              "counters/insight/prediction_fitted.py"))
    # `qms bench --only prediction` calls main() with its own command line in sys.argv: defaults then.
    args = parser.parse_args(argv if argv is not None else [])
    calibration = FITTED
    seeds = CALIBRATION_SEEDS if args.calibration or args.fit else EVALUATION_SEEDS
    if args.seeds:
        seeds = seeds[: args.seeds]
    backtests: list[Backtest] | None = None
    if args.fit:  # then the figures below are those of the calibration seeds, in sample
        calibration, backtests = refit(seeds)
    label = "calibration" if args.calibration or args.fit else "evaluation"
    print(f"Wait prediction at issue time, {label} seeds {seeds[0]}..{seeds[-1]} ({len(seeds)} days per type)")
    print(
        f"{'day type':<15}{'tickets':>8}{'MAE naive':>11}{'MAE model':>11}{'better':>8}"
        f"{'cover all':>11}{'below':>7}{'above':>7}{'cover|waited':>18}{'raw cover':>11}{'ms/pred':>9}"
    )
    mae_ok = cover_waited_ok = True
    notes: list[str] = []
    for day_type in DAY_TYPES:
        figures = DayFigures(day_type)
        day = [b for b in (replay([day_type], seeds) if backtests is None else backtests) if b.day_type == day_type]
        for b in day:
            figures.add(b, calibration)
        print(row(figures))
        if figures.unpredictable:
            print(f"  ({figures.unpredictable} tickets had no counter able to serve them; naive used)")
        mae_ok = mae_ok and figures.improvement_pct >= 30
        cover_waited_ok = cover_waited_ok and 75 <= figures.waiting_coverage_pct <= 85
        if DAY_PLANS[day_type].booked_share > 0:
            notes += booking_notes(day_type, day, seeds, calibration)
    for line in notes:
        print(line)
    median_ms, worst_ms = time_large_snapshot()
    print(f"Large snapshot (10 counters, 300 waiting): median {median_ms:.1f} ms, worst {worst_ms:.1f} ms")
    print("cover all: real wait inside the calibrated [low, high], all tickets; cover|waited: only tickets that")
    print("waited (not called at once: those the range is for, and is calibrated on); raw cover: the")
    print("uncalibrated simulated 10th-90th percentiles, all tickets.")
    verdict = {True: "met", False: "NOT met"}
    print(f"target >=30% lower MAE than naive on every day type: {verdict[mae_ok]}")
    print(f"target 75-85% coverage of the real waits of tickets that waited, on every day type: "
          f"{verdict[cover_waited_ok]}")
    return 0


def row(figures: DayFigures, indent: str = "") -> str:
    n = figures.tickets
    return (
        f"{indent + figures.day_type:<15}{n:>8}{figures.mae_naive / 60:>9.1f}m{figures.mae_model / 60:>10.1f}m"
        f"{figures.improvement_pct:>7.1f}%{figures.coverage_pct:>10.1f}%"
        f"{100 * figures.below / n:>6.1f}%{100 * figures.above / n:>6.1f}%"
        f"{figures.waiting_coverage_pct:>9.1f}% n={figures.waited:<5}"
        f"{figures.raw_coverage_pct:>10.1f}%{figures.predict_ms / n:>9.2f}"
    )


def booking_notes(
    day_type: str, day: list[Backtest], seeds: tuple[int, ...], calibration: IntervalCalibration
) -> list[str]:
    """A day with bookings: the error by channel, and the same day predicted without modelling them."""
    lines = [f"{day_type}, by ticket:"]
    for channel in ("walk_in", "appointment"):
        figures = DayFigures(channel)
        for b in day:
            if b.channel == channel:
                figures.add(b, calibration)
        if figures.tickets:
            lines.append(row(figures, "  "))
    before = DayFigures("unmodelled")
    for b in replay([day_type], seeds, use_booked=False):
        before.add(b, calibration)
    lines.append(row(before, "  ") + "  (bookings to come not given, check-ins counted in the arrival rates)")
    return lines


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
