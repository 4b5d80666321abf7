"""The demo office and its day types, as data for the simulator.

Why separate: the same arrivals feed the in-process simulator and a client that replays a day
against a real server, so the office, the arrival curves and `arrivals()` live apart from SimPy.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

DayType = Literal["quiet", "normal", "no_wait_surge", "appointments"]
DAY_TYPES: tuple[DayType, ...] = ("quiet", "normal", "no_wait_surge", "appointments")

OPENING_S = 7 * 3600 + 30 * 60  # 07:30, offset 0 of `Arrival.at_offset_s`
ISSUE_SESSIONS_S = ((7.5 * 3600, 11.5 * 3600), (13 * 3600, 16.5 * 3600))  # ticket-issuing windows
SERVE_UNTIL_S = (12 * 3600, 17 * 3600)  # clerks serve past issuing close at most until then
SLOT_S = 1800
# Appointments, as the office settings' defaults (API.md "Appointments"): 15-minute booking slots counted
# from the start of each issuing window, check-in from 15 minutes before a slot to 10 minutes after it.
BOOKING_SLOT_S = 900
CHECKIN_EARLY_S = 900
CHECKIN_LATE_S = 600


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    id: int
    code: str
    name: str
    desk: Literal["standard", "do_it_now"]
    median_s: float  # true median in the simulated world (varied per day by the seed)
    sigma: float  # lognormal shape
    share: float  # share of arrivals
    typical_s: float  # what an office head would configure as "typical" (the model's prior)
    booking_per_slot: int = 1  # appointments per 15-minute slot


DEMO_SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(1, "A", "Chứng thực", "do_it_now", 250, 0.26, 0.34, 270, 2),
    ServiceSpec(2, "B", "Hộ tịch", "standard", 640, 0.25, 0.26, 690),
    ServiceSpec(3, "C", "Đất đai – Xây dựng", "standard", 1250, 0.28, 0.14, 1350),
    ServiceSpec(4, "D", "Đăng ký kinh doanh", "standard", 800, 0.32, 0.12, 900),
    ServiceSpec(5, "E", "Lao động – Thương binh và Xã hội", "standard", 520, 0.32, 0.14, 540),
)
SERVICE_BY_CODE = {s.code: s for s in DEMO_SERVICES}


@dataclass(frozen=True, slots=True)
class CounterSpec:
    """A counter's day: open windows (seconds since midnight) and pauses inside them."""

    id: int
    number: int
    desk: Literal["standard", "do_it_now"]
    service_ids: tuple[int, ...]
    windows: tuple[tuple[float, float], ...]
    pauses: tuple[tuple[float, float], ...] = ()


def _h(hh: int, mm: int = 0) -> float:
    return hh * 3600.0 + mm * 60.0


FULL_DAY = ((_h(7, 30), SERVE_UNTIL_S[0]), (_h(13), SERVE_UNTIL_S[1]))


def _counters(open_ids: set[int], extra: dict[int, CounterSpec] | None = None) -> tuple[CounterSpec, ...]:
    base = {
        1: CounterSpec(1, 1, "do_it_now", (1,), FULL_DAY),
        2: CounterSpec(2, 2, "standard", (2, 5), FULL_DAY),
        3: CounterSpec(3, 3, "standard", (2, 4), FULL_DAY),
        4: CounterSpec(4, 4, "standard", (3, 2), FULL_DAY),
        5: CounterSpec(5, 5, "standard", (3, 4), FULL_DAY),
        6: CounterSpec(6, 6, "standard", (5, 2, 4), FULL_DAY),
        # Extra desks staffed from the back office on no-wait days.
        7: CounterSpec(7, 7, "do_it_now", (1,), ((_h(7, 30), SERVE_UNTIL_S[0]),)),
        8: CounterSpec(8, 8, "standard", (2, 4, 5), ((_h(7, 30), SERVE_UNTIL_S[0]),)),
    }
    base.update(extra or {})
    return tuple(spec for cid, spec in sorted(base.items()) if cid in open_ids)


@dataclass(frozen=True, slots=True)
class DayPlan:
    """What differs between day types: traffic, its curve, and who is at the counters."""

    day_type: DayType
    expected_tickets: float
    curve: tuple[float, ...]  # relative arrival intensity per 30-minute slot of the issuing windows
    counters: tuple[CounterSpec, ...]
    priority_share: float = 0.1
    no_show_share: float = 0.05
    no_show_wait_s: float = 60.0
    outlier_share: float = 0.02  # services that take 2-3x longer (a complicated dossier)
    booked_share: float = 0.0  # share of the day's visits booked ahead (the rest walk in)
    # How booked citizens turn up: never (missed), after the check-in window (they take a walk-in
    # ticket), late inside the window; the others come early inside the window.
    booking_missed_share: float = 0.08
    booking_too_late_share: float = 0.04
    booking_late_share: float = 0.18


# 8 morning slots (07:30-11:30), 7 afternoon slots (13:00-16:30): a morning peak around 08:30-10:00.
_CURVE = (0.6, 1.2, 1.6, 1.6, 1.3, 1.0, 0.8, 0.5, 0.6, 0.9, 1.0, 0.9, 0.8, 0.6, 0.4)
_SURGE = (1.4, 2.6, 2.6, 2.0, 1.3, 1.0, 0.8, 0.5, 0.6, 0.9, 1.0, 0.9, 0.8, 0.6, 0.4)

DAY_PLANS: dict[str, DayPlan] = {  # by DayType; looked up by the name a caller passes
    "quiet": DayPlan(
        "quiet",
        110,
        _CURVE,
        _counters(
            {1, 2, 4, 5},
            {2: CounterSpec(2, 2, "standard", (2, 5), FULL_DAY, pauses=((_h(14), _h(14, 20)),))},
        ),
    ),
    "normal": DayPlan(
        "normal",
        185,
        _CURVE,
        _counters(
            {1, 2, 3, 4, 5, 6},
            {
                3: CounterSpec(3, 3, "standard", (2, 4), FULL_DAY, pauses=((_h(9, 40), _h(9, 55)),)),
                6: CounterSpec(6, 6, "standard", (5, 2, 4), ((_h(8, 30), SERVE_UNTIL_S[0]),)),
            },
        ),
    ),
    "no_wait_surge": DayPlan(
        "no_wait_surge",
        220,
        _SURGE,
        _counters(
            {1, 2, 3, 4, 5, 6, 7, 8},
            {2: CounterSpec(2, 2, "standard", (2, 5), FULL_DAY, pauses=((_h(10), _h(10, 10)),))},
        ),
    ),
    # A normal day on which 30% of the visits were booked on the province's portal.
    "appointments": DayPlan(
        "appointments",
        185,
        _CURVE,
        _counters(
            {1, 2, 3, 4, 5, 6},
            {
                3: CounterSpec(3, 3, "standard", (2, 4), FULL_DAY, pauses=((_h(9, 40), _h(9, 55)),)),
                6: CounterSpec(6, 6, "standard", (5, 2, 4), ((_h(8, 30), SERVE_UNTIL_S[0]),)),
            },
        ),
        booked_share=0.3,
    ),
}


@dataclass(frozen=True, slots=True)
class Arrival:
    """A citizen taking a ticket `at_offset_s` seconds after the 07:30 opening."""

    at_offset_s: float
    service_code: str
    priority: bool


def _slots() -> list[tuple[float, float]]:
    slots = []
    for start, end in ISSUE_SESSIONS_S:
        t = start
        while t < end:
            slots.append((t, min(t + SLOT_S, end)))
            t += SLOT_S
    return slots


def arrivals(day_type: DayType | str, seed: int) -> list[Arrival]:
    """A day's walk-in arrivals: a Poisson process per 30-minute slot following the day's curve, the
    demo service mix and a priority share. Deterministic per (day_type, seed)."""
    plan = DAY_PLANS[day_type]
    rng = random.Random(f"arrivals:{day_type}:{seed}")
    slots = _slots()
    assert len(slots) == len(plan.curve)
    total_weight = sum(plan.curve)
    codes = [s.code for s in DEMO_SERVICES]
    shares = [s.share for s in DEMO_SERVICES]
    out: list[Arrival] = []
    walk_in_tickets = plan.expected_tickets * (1.0 - plan.booked_share)
    for (start, end), weight in zip(slots, plan.curve):
        rate = walk_in_tickets * weight / total_weight / (end - start)
        t = start
        while True:
            t += -math.log(1.0 - rng.random()) / rate
            if t >= end:
                break
            code = rng.choices(codes, shares)[0]
            out.append(Arrival(t - OPENING_S, code, rng.random() < plan.priority_share))
    return out


@dataclass(frozen=True, slots=True)
class Booking:
    """An appointment booked before the day: its slot `start_offset_s` seconds after the 07:30 opening,
    and when its citizen turns up (`arrives_offset_s`, None: never). Arriving inside the check-in
    window [start - CHECKIN_EARLY_S, start + CHECKIN_LATE_S] checks in; later, the citizen takes a
    walk-in ticket if the kiosk still issues."""

    id: int
    service_code: str
    start_offset_s: float
    priority: bool
    arrives_offset_s: float | None


def booking_slots() -> list[float]:
    """Slot starts (seconds since midnight): every BOOKING_SLOT_S from the start of each issuing window,
    ending inside it."""
    out: list[float] = []
    for start, end in ISSUE_SESSIONS_S:
        t = start
        while t + BOOKING_SLOT_S <= end:
            out.append(t)
            t += BOOKING_SLOT_S
    return out


def bookings(day_type: DayType | str, seed: int) -> list[Booking]:
    """A day's appointments: `booked_share` of the day's expected visits (Poisson), each wanting a time
    drawn from the day's curve and a service from the demo mix, given the nearest slot with room left
    for that service (`booking_per_slot`), later first; then how each citizen turns up. Deterministic
    per (day_type, seed); empty on days without bookings."""
    plan = DAY_PLANS[day_type]
    if plan.booked_share <= 0:
        return []
    rng = random.Random(f"bookings:{day_type}:{seed}")
    expected = plan.expected_tickets * plan.booked_share
    # Poisson count by inversion (expected is a few dozen: fine).
    count, p, u = 0, math.exp(-expected), rng.random()
    cdf = p
    while u > cdf:
        count += 1
        p *= expected / count
        cdf += p
    slots = booking_slots()
    arrival_slots = _slots()
    taken: dict[tuple[float, str], int] = {}
    codes = [s.code for s in DEMO_SERVICES]
    shares = [s.share for s in DEMO_SERVICES]
    out: list[Booking] = []
    for _ in range(count):
        lo, hi = rng.choices(arrival_slots, plan.curve)[0]
        wanted = rng.uniform(lo, hi)
        service = SERVICE_BY_CODE[rng.choices(codes, shares)[0]]
        free = [s for s in slots if taken.get((s, service.code), 0) < service.booking_per_slot]
        if not free:
            continue  # the service is fully booked: this citizen will walk in (not modelled)
        start = min(free, key=lambda s: (abs(s - wanted), -s))
        taken[(start, service.code)] = taken.get((start, service.code), 0) + 1
        out.append(Booking(0, service.code, start - OPENING_S, rng.random() < plan.priority_share,
                           _turn_up(plan, rng, start - OPENING_S)))
    out.sort(key=lambda b: (b.start_offset_s, b.service_code))
    return [Booking(k, b.service_code, b.start_offset_s, b.priority, b.arrives_offset_s)
            for k, b in enumerate(out, start=1)]


def _turn_up(plan: DayPlan, rng: random.Random, start: float) -> float | None:
    """When a booked citizen arrives (offset from opening), or None if they never come."""
    u = rng.random()
    if u < plan.booking_missed_share:
        return None
    u -= plan.booking_missed_share
    if u < plan.booking_too_late_share:
        return start + CHECKIN_LATE_S + rng.uniform(60.0, 1800.0)
    u -= plan.booking_too_late_share
    if u < plan.booking_late_share:
        return start + rng.uniform(0.0, CHECKIN_LATE_S)
    # Early: most a few minutes before their time, some at the window's opening.
    return start - CHECKIN_EARLY_S * rng.triangular(0.0, 1.0, 0.4)
