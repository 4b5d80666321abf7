"""Staffing advice: Erlang C against textbook values, and the advice built on it."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from counters.insight.prediction import OpenCounter, QueueSnapshot, ServiceTimeModel, WaitingTicket
from counters.insight.staffing import (
    advise_staffing,
    erlang_c,
    estimate_arrival_rate,
    prob_wait_exceeds,
    suggest_open_counters,
)

NOW = datetime(2026, 11, 23, 9, 0)


def erlang_c_by_definition(a: float, n: int) -> float:
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


def test_erlang_c_textbook_values() -> None:
    assert abs(erlang_c(2.0, 3) - 4 / 9) < 1e-12  # 0.4444
    assert abs(erlang_c(1.0, 2) - 1 / 3) < 1e-12
    for a, n in [(5.0, 6), (10.0, 12), (0.5, 1), (7.3, 9)]:
        assert abs(erlang_c(a, n) - erlang_c_by_definition(a, n)) < 1e-9
    assert erlang_c(3.0, 3) == 1.0 and erlang_c(4.0, 3) == 1.0  # overloaded: everyone waits
    assert erlang_c(0.0, 2) == 0.0


def test_wait_tail_probability() -> None:
    # A = 30/h x 600 s = 5 erlangs; with 6 counters P(W > t) = C * exp(-(6 - 5) t / 600).
    c = erlang_c(5.0, 6)
    assert abs(prob_wait_exceeds(30, 600, 6, 600) - c * math.exp(-1)) < 1e-12
    assert prob_wait_exceeds(30, 600, 5, 600) == 1.0


def test_suggestion_is_the_fewest_counters_meeting_the_level() -> None:
    n = suggest_open_counters(30, 600, 900, service_level=0.8)
    assert prob_wait_exceeds(30, 600, n, 900) <= 0.2 < prob_wait_exceeds(30, 600, n - 1, 900)
    assert n == 6
    assert suggest_open_counters(60, 600, 900) > n  # more people, more counters
    assert suggest_open_counters(30, 600, 900, service_level=0.95) >= n
    assert suggest_open_counters(1000, 600, 60, max_counters=8) == 8
    assert suggest_open_counters(0, 600, 900) == 0


def test_arrival_rate_sees_a_surge_and_the_backlog() -> None:
    steady = [NOW - timedelta(minutes=3 * k + 1.5) for k in range(20)]  # 20 in the last hour, evenly
    assert estimate_arrival_rate(steady, NOW) == 20
    surge = [NOW - timedelta(minutes=k) for k in range(20)]  # all 20 in the last 20 minutes
    assert estimate_arrival_rate(surge, NOW) == 40
    assert estimate_arrival_rate([], NOW, waiting=45) == 45


def test_advice_per_desk_group() -> None:
    counters = (
        OpenCounter(1, "do_it_now", (1,)),
        OpenCounter(2, "standard", (2, 3)),
        OpenCounter(3, "standard", (2,), state="paused"),
    )
    waiting = tuple(WaitingTicket(i, 2, False, NOW - timedelta(minutes=i)) for i in range(1, 11))
    snap = QueueSnapshot(NOW, counters, waiting)
    issues = [(2, NOW - timedelta(minutes=2 * k + 1)) for k in range(30)] + [(1, NOW - timedelta(minutes=10))]
    model = ServiceTimeModel.fit([], NOW, {1: 270, 2: 600, 3: 900})
    advice = {a.group: a for a in advise_staffing(snap, issues, model, target_wait_s=900)}
    assert set(advice) == {"do_it_now", "standard"}
    std = advice["standard"]
    assert std.service_ids == (2, 3) and std.open_counters == 1
    assert std.arrival_rate_per_h == 30
    assert std.suggested_counters == suggest_open_counters(30, model.mean_s(2), 900)
    assert std.shortfall > 0
    assert advice["do_it_now"].open_counters == 1 and advice["do_it_now"].suggested_counters == 1


def test_a_handful_of_early_tickets_is_no_hourly_rate() -> None:
    """16 tickets in the first 4 minutes: not 240 an hour (the field case that advised 7 of 6 counters)."""
    early = [NOW - timedelta(seconds=15 * k) for k in range(16)]
    assert estimate_arrival_rate(early, NOW) == 16
    assert estimate_arrival_rate(early, NOW, waiting=30) == 30  # the people there still count


def test_advice_never_exceeds_the_counters_that_can_serve_and_waits_for_a_queue() -> None:
    counters = (OpenCounter(1, "do_it_now", (1,)), OpenCounter(2, "standard", (2,)))
    waiting = tuple(WaitingTicket(i, 2, False, NOW - timedelta(minutes=1)) for i in range(1, 41))
    snap = QueueSnapshot(NOW, counters, waiting)
    issues = [(1, NOW - timedelta(seconds=15 * k)) for k in range(16)] + \
        [(2, NOW - timedelta(seconds=5 * k)) for k in range(40)]
    model = ServiceTimeModel.fit([], NOW, {1: 600, 2: 900})
    advice = {a.group: a for a in advise_staffing(snap, issues, model, 900, capacity={"do_it_now": 1, "standard": 5})}
    # service 1: 16 tickets in 4 minutes, all served already (nobody waits): no more than the open desk
    assert advice["do_it_now"].suggested_counters == 1
    # service 2: 40 waiting; Erlang asks for far more, the office has 5 counters for it
    assert advice["standard"].suggested_counters == 5
    uncapped = {a.group: a for a in advise_staffing(snap, issues, model, 900)}
    assert uncapped["standard"].suggested_counters > 5
