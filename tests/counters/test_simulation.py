"""The office-day simulator: deterministic, conserving tickets, and shaped like a real day."""

from __future__ import annotations

from collections import Counter

import pytest

from counters.prediction import QueueSnapshot
from counters.sim_office import DAY_PLANS, DAY_TYPES, OPENING_S, arrivals
from counters.simulation import simulate_day


def fingerprint(day_type: str, seed: int) -> list[tuple[object, ...]]:
    trace = simulate_day(day_type, seed)
    return [(t.id, t.service_code, t.priority, t.issued_at, t.called_at, t.finished_at, t.counter_id, t.no_show)
            for t in trace.tickets]


def test_deterministic_per_seed() -> None:
    assert fingerprint("normal", 3) == fingerprint("normal", 3)
    assert fingerprint("normal", 3) != fingerprint("normal", 4)
    assert arrivals("quiet", 1) == arrivals("quiet", 1)


@pytest.mark.parametrize("day_type", DAY_TYPES)
def test_tickets_are_conserved(day_type: str) -> None:
    trace = simulate_day(day_type, 11)
    assert len(trace.tickets) == len(arrivals(day_type, 11)) > 50
    done, absent, left = trace.served, trace.no_shows, trace.left_waiting
    assert len(done) + len(absent) + len(left) == len(trace.tickets)
    assert not {t.id for t in done} & {t.id for t in absent}
    assert 0 < len(absent) < 0.15 * len(trace.tickets)
    for t in trace.tickets:
        if t.called_at is not None:
            assert t.issued_at <= t.called_at
        if t.finished_at is not None:
            assert t.called_at is not None and t.started_at is not None
            assert t.called_at < t.started_at < t.finished_at


def test_morning_peak_is_visible() -> None:
    per_hour: Counter[int] = Counter()
    for seed in range(1, 6):
        for a in arrivals("normal", seed):
            per_hour[int((OPENING_S + a.at_offset_s) // 3600)] += 1
    assert per_hour[12] == 0  # lunch: the kiosk does not issue
    assert max(per_hour, key=per_hour.__getitem__) in (8, 9)
    assert per_hour[9] > 1.5 * per_hour[15]
    surge = sum(1 for a in arrivals("no_wait_surge", 1) if a.at_offset_s < 2 * 3600)
    normal = sum(1 for a in arrivals("normal", 1) if a.at_offset_s < 2 * 3600)
    assert surge > normal


def test_calling_rules_are_respected() -> None:
    trace = simulate_day("normal", 5)
    specs = {c.id: c for c in DAY_PLANS["normal"].counters}
    for t in trace.tickets:
        if t.counter_id is not None:
            assert t.service_id in specs[t.counter_id].service_ids
            assert (t.service_code == "A") == (specs[t.counter_id].desk == "do_it_now")
    waits = [t.wait_s for t in trace.tickets if t.wait_s is not None]
    prio = [t.wait_s for t in trace.tickets if t.priority and t.wait_s is not None]
    assert sum(prio) / len(prio) < sum(waits) / len(waits)  # strict policy: priority waits less


def test_snapshot_at_each_issue() -> None:
    seen: list[tuple[QueueSnapshot, int]] = []
    trace = simulate_day("quiet", 2, on_issue=lambda snap, tid: seen.append((snap, tid)))
    assert [tid for _, tid in seen] == [t.id for t in trace.tickets]
    for snap, tid in seen:
        assert snap is trace.snapshots[tid]
        assert tid in {w.id for w in snap.waiting}
        assert snap.counters  # someone is open while the kiosk issues
        assert all(c.state in ("open", "paused") for c in snap.counters)
    paused = [s for s, _ in seen if any(c.state == "paused" for c in s.counters)]
    assert paused  # counter 2 pauses at 14:00 on a quiet day


def test_unknown_day_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown day type"):
        simulate_day("holiday", 1)
