"""The demo office and its day types, as data for the simulator.

Why separate: the same arrivals feed the in-process simulator and a client that replays a day
against a real server, so the office, the arrival curves and `arrivals()` live apart from SimPy.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

DayType = Literal["quiet", "normal", "no_wait_surge"]
DAY_TYPES: tuple[DayType, ...] = ("quiet", "normal", "no_wait_surge")

OPENING_S = 7 * 3600 + 30 * 60  # 07:30, offset 0 of `Arrival.at_offset_s`
ISSUE_SESSIONS_S = ((7.5 * 3600, 11.5 * 3600), (13 * 3600, 16.5 * 3600))  # ticket-issuing windows
SERVE_UNTIL_S = (12 * 3600, 17 * 3600)  # clerks serve past issuing close at most until then
SLOT_S = 1800


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


DEMO_SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(1, "A", "Chứng thực", "do_it_now", 250, 0.26, 0.34, 270),
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


# 8 morning slots (07:30-11:30), 7 afternoon slots (13:00-16:30): a morning peak around 08:30-10:00.
_CURVE = (0.6, 1.2, 1.6, 1.6, 1.3, 1.0, 0.8, 0.5, 0.6, 0.9, 1.0, 0.9, 0.8, 0.6, 0.4)
_SURGE = (1.4, 2.6, 2.6, 2.0, 1.3, 1.0, 0.8, 0.5, 0.6, 0.9, 1.0, 0.9, 0.8, 0.6, 0.4)

DAY_PLANS: dict[DayType, DayPlan] = {
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
    """A day's arrivals: a Poisson process per 30-minute slot following the day's curve, the demo
    service mix and a priority share. Deterministic per (day_type, seed)."""
    plan = DAY_PLANS[day_type]  # type: ignore[index]
    rng = random.Random(f"arrivals:{day_type}:{seed}")
    slots = _slots()
    assert len(slots) == len(plan.curve)
    total_weight = sum(plan.curve)
    codes = [s.code for s in DEMO_SERVICES]
    shares = [s.share for s in DEMO_SERVICES]
    out: list[Arrival] = []
    for (start, end), weight in zip(slots, plan.curve):
        rate = plan.expected_tickets * weight / total_weight / (end - start)
        t = start
        while True:
            t += -math.log(1.0 - rng.random()) / rate
            if t >= end:
                break
            code = rng.choices(codes, shares)[0]
            out.append(Arrival(t - OPENING_S, code, rng.random() < plan.priority_share))
    return out
