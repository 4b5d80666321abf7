"""How booked citizens turn up: the share who check in and when, learnt from past bookings.

Why: a booking still to come delays the tickets queued after its start only if its citizen checks
in, and one not checked in ten minutes after opening its window is less likely to come than one whose
window has not opened. `BookingBehaviour` gives the prediction both: the probability that a booking
not checked in by now still will, and a draw of when.

Learnt from the bookings whose fate is known (checked in, or missed: not checked in by the end of the
window), shrunk towards a prior when there are few: `prior_strength` pseudo bookings kept at
`prior_show_share`, checking in evenly over the window. A citizen who came too late and took a walk-in
ticket counts as missed here (that ticket is a walk-in, counted in the arrival rates).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

CHECKIN_EARLY_S = 900.0  # the office settings' defaults (API.md "Appointments")
CHECKIN_LATE_S = 600.0


@dataclass(frozen=True, slots=True)
class BookingOutcome:
    """A booking whose window has closed: its start and when it was checked in (None: missed)."""

    start: datetime
    checked_in_at: datetime | None


@dataclass(frozen=True)
class BookingBehaviour:
    """`show_share`: share of bookings checked in inside the window; `offsets_s`: sorted check-in
    times relative to the start (negative: early) of those checked in, the prior's pseudo ones included."""

    show_share: float
    offsets_s: tuple[float, ...]
    early_s: float = CHECKIN_EARLY_S
    late_s: float = CHECKIN_LATE_S

    @classmethod
    def fit(
        cls,
        outcomes: Iterable[BookingOutcome],
        *,
        early_s: float = CHECKIN_EARLY_S,
        late_s: float = CHECKIN_LATE_S,
        prior_show_share: float = 0.85,
        prior_strength: int = 5,
    ) -> BookingBehaviour:
        shown = missed = 0
        offsets: list[float] = []
        for o in outcomes:
            if o.checked_in_at is None:
                missed += 1
                continue
            shown += 1
            offsets.append(min(max((o.checked_in_at - o.start).total_seconds(), -early_s), late_s))
        k = prior_strength
        share = (k * prior_show_share + shown) / (k + shown + missed)
        # The prior's pseudo check-ins, evenly spread over the window (midpoints of k equal parts).
        offsets += [-early_s + (early_s + late_s) * (j + 0.5) / k for j in range(k)]
        return cls(share, tuple(sorted(offsets)), early_s, late_s)

    @cached_property
    def _knots(self) -> tuple[list[float], list[float], list[float]]:
        """The survival curve of check-in times, P(offset > x), piecewise linear: 1 at the window's
        opening, 1 - k/(N+1) at the k-th of the N offsets, 0 at its end (nobody checks in later)."""
        n = len(self.offsets_s)
        xs = [-self.early_s, *self.offsets_s, self.late_s]
        ss = [1.0] + [1.0 - k / (n + 1) for k in range(1, n + 1)] + [0.0]
        return xs, ss, [-x for x in ss]

    def survival(self, elapsed_s: float) -> float:
        """P(a citizen who will check in does so later than `elapsed_s` after the start)."""
        xs, ss, _ = self._knots
        if elapsed_s < xs[0]:
            return 1.0
        if elapsed_s >= xs[-1]:
            return 0.0
        i = bisect.bisect_right(xs, elapsed_s) - 1
        return ss[i] + (ss[i + 1] - ss[i]) * (elapsed_s - xs[i]) / (xs[i + 1] - xs[i])

    def show_probability(self, elapsed_s: float) -> float:
        """P(checks in later | not checked in `elapsed_s` after its start): Bayes over "will come but
        later than now" against "will not come"."""
        still = self.show_share * self.survival(elapsed_s)
        return still / (still + 1.0 - self.show_share) if still > 0 else 0.0

    def draw_offset_s(self, elapsed_s: float, u: float) -> float:
        """A check-in time (relative to the start) not before `elapsed_s`, drawn with u in [0, 1) by
        inverting the survival curve beyond `elapsed_s`."""
        target = self.survival(elapsed_s) * (1.0 - u)
        if target <= 0.0:
            return max(elapsed_s, self.late_s)
        xs, ss, rising = self._knots
        # ss falls strictly from 1 to 0: the last i with ss[i] >= target (then target > ss[i + 1]).
        i = min(bisect.bisect_right(rising, -target) - 1, len(ss) - 2)
        x = xs[i] + (xs[i + 1] - xs[i]) * (ss[i] - target) / (ss[i] - ss[i + 1])
        return max(x, elapsed_s)


PRIOR = BookingBehaviour.fit(())
