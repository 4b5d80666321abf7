"""The 80% range of a wait prediction, calibrated against real waits of citizens who waited.

Why: the Monte Carlo's own 10th-90th percentiles are not an honest 80% range. Tickets called at
once are covered by any range that starts at 0, so on a quiet day a raw range covers ~88% of the
real waits; the service-time model's errors widen or narrow it elsewhere. A small table of scale
factors, per load regime (waiting tickets per open counter), stretches or shrinks each side of the
simulated spread around the median so that, on simulated calibration days, the range holds 80% of
the real waits of the tickets of that regime that did wait: 10% fall below it and 10% above. The
table is fitted by `fit` (`python -m bench.prediction --fit` re-runs the whole procedure on the
calibration seeds).

Why only tickets that waited: the range matters to the citizen who waits; one called at once never
looks at it. Calibrating over all tickets let those called at once (inside any range from 0) pad
the figure: at quiet moments the ranges of the tickets that did wait came out narrower, and only
~68% of them held their real wait. The choice has a price the other way: a ticket predicted to wait
but called at once (a counter freed up) may lie below a range that starts above 0, so over all
tickets the range can hold somewhat less or more than 80% (the bench prints both).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

RAW_LOW_Q = 0.1
RAW_HIGH_Q = 0.9


def quantile(sorted_values: Sequence[float], p: float) -> float:
    x = p * (len(sorted_values) - 1)
    lo = int(x)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (x - lo)


@dataclass(frozen=True, slots=True)
class Regime:
    """Tickets issued while the office's load (waiting tickets per open counter) is at most `max_load`:
    the low side of the range is the median minus `low_factor` times the simulated median-to-10th
    percentile distance, the high side the median plus `high_factor` times the median-to-90th."""

    max_load: float
    low_factor: float
    high_factor: float


@dataclass(frozen=True, slots=True)
class IntervalCalibration:
    """Regimes in increasing load; the last one takes any higher load."""

    regimes: tuple[Regime, ...]
    target: float = 0.8

    def regime(self, load: float) -> Regime:
        for r in self.regimes:
            if load <= r.max_load:
                return r
        return self.regimes[-1]


def interval(
    waits: Sequence[float], load: float, calibration: IntervalCalibration | None
) -> tuple[float, float, float]:
    """(expected, low, high) from a ticket's sorted simulated waits; low <= expected <= high always."""
    median = quantile(waits, 0.5)
    low, high = quantile(waits, RAW_LOW_Q), quantile(waits, RAW_HIGH_Q)
    if calibration is None or not calibration.regimes:
        return median, low, high
    r = calibration.regime(load)
    return median, max(0.0, median - r.low_factor * (median - low)), median + r.high_factor * (high - median)


@dataclass(frozen=True, slots=True)
class Observation:
    """What calibration needs from one backtested ticket: its sorted simulated waits, the office's
    load when it was issued, and the wait that really followed (0: called at once)."""

    waits: Sequence[float]
    load: float
    actual_s: float


MIN_FACTOR = 0.2  # never shrink a side to (almost) nothing: a range of one minute says nothing


def _side_factor(scores: list[float], allowed_outside: float) -> float:
    """The smallest factor that leaves at most `allowed_outside` of these scores above it (an infinite
    score is outside whatever the factor: then the largest finite one)."""
    keep = len(scores) - int(allowed_outside)
    if not scores:
        return 1.0
    if keep <= 0:
        return MIN_FACTOR
    ordered = sorted(scores)
    factor = ordered[keep - 1]
    if math.isinf(factor):
        factor = max((x for x in ordered if not math.isinf(x)), default=1.0)
    return max(factor, MIN_FACTOR)


def waited(o: Observation) -> bool:
    """The ticket was not called at once (in the simulator, a free counter calls it the same second)."""
    return o.actual_s > 0


def fit(observations: Sequence[Observation], regimes: int = 4, target: float = 0.8) -> IntervalCalibration:
    """Split conformal calibration, per load regime, over the tickets that waited.

    Tickets called at once are left out (see the module's docstring): the guarantee is for those who
    wait. The regimes are equal-count bins of the remaining observations' loads. In each, each side's
    factor is chosen so that at most (1 - target) / 2 of the regime's tickets fall outside on that
    side: the score of a ticket is how many simulated median-to-percentile distances its real wait
    lay from the median (a ticket predicted [0, 0] that waited is outside whatever the factor).
    """
    observations = [o for o in observations if waited(o)]
    loads = sorted(o.load for o in observations)
    if not loads:
        raise ValueError("no observations to calibrate on")
    edges = [quantile(loads, k / regimes) for k in range(1, regimes)] + [math.inf]
    tail = (1.0 - target) / 2
    out: list[Regime] = []
    lower = -math.inf
    for edge in edges:
        group = [o for o in observations if lower < o.load <= edge]
        lower = edge
        if not group:
            continue
        low_scores: list[float] = []
        high_scores: list[float] = []
        for o in group:
            median = quantile(o.waits, 0.5)
            low, high = quantile(o.waits, RAW_LOW_Q), quantile(o.waits, RAW_HIGH_Q)
            if high <= 0:  # called at once in every simulation: its range is [0, 0], it waited
                high_scores.append(math.inf)
                continue
            low_scores.append((median - o.actual_s) / max(median - low, 1.0))
            high_scores.append((o.actual_s - median) / max(high - median, 1.0))
        out.append(Regime(edge, _side_factor(low_scores, tail * len(group)),
                          _side_factor(high_scores, tail * len(group))))
    if not out:
        raise ValueError("no observations to calibrate on")
    return IntervalCalibration(tuple(out), target)


def render(calibration: IntervalCalibration, provenance: str) -> str:
    """The source of counters/insight/prediction_fitted.py for a fitted calibration."""
    rows = "\n".join(
        f"        Regime({'math.inf' if math.isinf(r.max_load) else repr(r.max_load)}, "
        f"{r.low_factor:.3f}, {r.high_factor:.3f}),"
        for r in calibration.regimes
    )
    return (
        f'"""Generated by `python -m bench.prediction --fit`: do not edit by hand.\n\n{provenance}\n"""\n\n'
        "import math\n\nfrom counters.insight.prediction_calibration import IntervalCalibration, Regime\n\n"
        "FITTED = IntervalCalibration(\n"
        f"    (\n{rows}\n    ),\n    {calibration.target!r},\n)\n"
    )
