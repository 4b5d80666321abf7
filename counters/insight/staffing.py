"""Staffing advice: how many counters should be open to meet a wait target (Erlang C).

Why Erlang C: with c counters, Poisson arrivals and exponential-ish service, it gives the share of
citizens who will wait longer than the target; the smallest c that keeps that share under
1 - service_level is the advice. It is the standard call-centre sizing rule and needs only an
arrival rate and a mean service time, both of which the office has live.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from counters.insight.prediction import QueueSnapshot, ServiceTimeModel

# Minimum evidence: the busier second half of the window counts as a surge only when it holds at least
# this many tickets. A handful of tickets in the first minutes of the day (people who queued at the door)
# is not an hourly rate: 16 tickets in 4 minutes read as 240 an hour and advised 7 counters in an office of 6.
MIN_SURGE_TICKETS = 20


def erlang_c(traffic_erlangs: float, counters: int) -> float:
    """Probability that an arrival has to wait at all, with `counters` servers and offered traffic
    A = arrival rate x mean service time. 1.0 when the counters cannot keep up (A >= c)."""
    if traffic_erlangs <= 0:
        return 0.0
    if counters <= traffic_erlangs:
        return 1.0
    erlang_b = 1.0  # Erlang B by the stable recursion B(k) = A B(k-1) / (k + A B(k-1))
    for k in range(1, counters + 1):
        erlang_b = traffic_erlangs * erlang_b / (k + traffic_erlangs * erlang_b)
    return counters * erlang_b / (counters - traffic_erlangs * (1.0 - erlang_b))


def prob_wait_exceeds(arrival_rate_per_h: float, mean_service_s: float, counters: int, wait_s: float) -> float:
    """P(wait > wait_s) = C(c, A) * exp(-(c - A) * wait_s / mean_service_s)."""
    traffic = arrival_rate_per_h * mean_service_s / 3600.0
    c = erlang_c(traffic, counters)
    if counters <= traffic:
        return 1.0 if traffic > 0 else 0.0
    return c * math.exp(-(counters - traffic) * wait_s / mean_service_s)


def suggest_open_counters(
    arrival_rate_per_h: float,
    mean_service_s: float,
    target_wait_s: float,
    service_level: float = 0.8,
    max_counters: int = 50,
) -> int:
    """Fewest counters so that at most 1 - service_level of citizens wait longer than the target;
    `max_counters` when even that many cannot (0 when nobody arrives)."""
    if arrival_rate_per_h <= 0 or mean_service_s <= 0:
        return 0
    allowed = 1.0 - service_level
    for c in range(1, max_counters + 1):
        if prob_wait_exceeds(arrival_rate_per_h, mean_service_s, c, target_wait_s) <= allowed:
            return c
    return max_counters


def estimate_arrival_rate(
    issued_at: Iterable[datetime],
    now: datetime,
    *,
    window_s: float = 3600.0,
    waiting: int = 0,
    min_surge: int = MIN_SURGE_TICKETS,
) -> float:
    """Tickets per hour lately: the busier of the last `window_s` and its second half (a surge shows
    at once, once that half holds at least `min_surge` tickets), and at least the backlog `waiting`
    spread over the window (people who already came in a surge still need counters even if the kiosk
    has gone quiet)."""
    times = [(now - t).total_seconds() for t in issued_at]
    full = sum(1 for age in times if 0 <= age <= window_s) * 3600.0 / window_s
    half = sum(1 for age in times if 0 <= age <= window_s / 2)
    recent = half * 7200.0 / window_s if half >= min_surge else 0.0
    backlog = waiting * 3600.0 / window_s
    return max(full, recent, backlog)


@dataclass(frozen=True, slots=True)
class StaffingAdvice:
    """For one group of services (the do-it-now desk, the standard desks): open now vs advised."""

    group: str
    service_ids: tuple[int, ...]
    arrival_rate_per_h: float
    mean_service_s: float
    open_counters: int
    suggested_counters: int

    @property
    def shortfall(self) -> int:
        """Counters to open (positive) or that could be released (negative)."""
        return self.suggested_counters - self.open_counters


def advise_staffing(
    snapshot: QueueSnapshot,
    issues: Sequence[tuple[int, datetime]],
    model: ServiceTimeModel,
    target_wait_s: float,
    *,
    service_level: float = 0.8,
    window_s: float = 3600.0,
    groups: Mapping[str, Sequence[int]] | None = None,
    max_counters: int = 50,
    capacity: Mapping[str, int] | None = None,
) -> list[StaffingAdvice]:
    """Advice per service group from today's issues `(service_id, issued_at)`.

    Default groups follow the desks: services served at open or paused do-it-now counters form
    "do_it_now", every other service "standard" (the two kinds of counter are not interchangeable).
    The advice never exceeds `capacity[group]` (the counters that exist and can serve the group); a
    group nobody waits for is never advised more counters than it has open (they keep up), and one
    where people wait gets at least one.
    """
    if groups is None:
        quick = {sid for c in snapshot.counters if c.desk == "do_it_now" for sid in c.service_ids}
        seen = {sid for sid, _ in issues} | {t.service_id for t in snapshot.waiting}
        seen |= {sid for c in snapshot.counters for sid in c.service_ids}
        groups = {"do_it_now": sorted(quick), "standard": sorted(seen - quick)}
    out: list[StaffingAdvice] = []
    for name, service_ids in groups.items():
        members = set(service_ids)
        if not members:
            continue
        times = [t for sid, t in issues if sid in members]
        waiting = sum(1 for t in snapshot.waiting if t.service_id in members)
        rate = estimate_arrival_rate(times, snapshot.now, window_s=window_s, waiting=waiting)
        # bookings due within the window will arrive too (API.md "Appointments")
        due = sum(1 for b in snapshot.booked if b.service_id in members
                  and 0 <= (b.start - snapshot.now).total_seconds() <= window_s)
        rate += due * 3600.0 / window_s
        recent = [sid for sid, t in issues if sid in members and 0 <= (snapshot.now - t).total_seconds() <= window_s]
        weights = recent or sorted(members)  # arrival-weighted mean, or plain mean when quiet
        mean_s = sum(model.mean_s(sid) for sid in weights) / len(weights)
        open_now = sum(
            1 for c in snapshot.counters if c.state == "open" and members.intersection(c.service_ids)
        )
        suggested = suggest_open_counters(rate, mean_s, target_wait_s, service_level, max_counters)
        suggested = max(suggested, 1) if waiting else min(suggested, open_now)
        if capacity is not None:
            suggested = min(suggested, capacity.get(name, 0))
        out.append(StaffingAdvice(name, tuple(sorted(members)), rate, mean_s, open_now, suggested))
    return out
