"""The office-day simulator: deterministic, conserving tickets, and shaped like a real day."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from counters.insight.prediction import QueueSnapshot
from counters.insight.sim_office import (
    BOOKING_SLOT_S,
    CHECKIN_EARLY_S,
    CHECKIN_LATE_S,
    DAY_PLANS,
    DAY_TYPES,
    OPENING_S,
    SERVICE_BY_CODE,
    arrivals,
    booking_slots,
    bookings,
)
from counters.insight.simulation import simulate_day


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
    came = sum(1 for b in trace.bookings if b.ticket_id is not None or b.walk_in_ticket_id is not None)
    assert len(trace.bookings) == len(bookings(day_type, 11))
    assert len(trace.tickets) == len(arrivals(day_type, 11)) + came > 50  # walk-ins + booked citizens who came
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


# --------------------------------------------------------------------------- the day with appointments


def test_walk_in_days_have_no_bookings() -> None:
    for day_type in ("quiet", "normal", "no_wait_surge"):
        assert bookings(day_type, 1) == []
    trace = simulate_day("normal", 2)
    assert trace.bookings == [] and all(not s.booked for s in trace.snapshots.values())
    assert all(t.channel == "walk_in" and t.queue_at is None for t in trace.tickets)


def test_appointment_day_books_30_percent_into_slots_with_capacity() -> None:
    booked = visits = missed = too_late = 0
    slots = set(booking_slots())
    for seed in range(1, 9):
        day = bookings("appointments", seed)
        booked += len(day)
        visits += len(day) + len(arrivals("appointments", seed))
        per_slot = Counter((b.start_offset_s, b.service_code) for b in day)
        for (start, code), n in per_slot.items():
            assert OPENING_S + start in slots
            assert n <= SERVICE_BY_CODE[code].booking_per_slot
        missed += sum(b.arrives_offset_s is None for b in day)
        too_late += sum(b.arrives_offset_s is not None and b.arrives_offset_s > b.start_offset_s + CHECKIN_LATE_S
                        for b in day)
    assert 0.25 < booked / visits < 0.35
    assert 0 < missed < 0.2 * booked and 0 < too_late < 0.1 * booked
    # Slots are 15 minutes counted from each issuing window's start and end inside it.
    assert booking_slots()[:3] == [OPENING_S, OPENING_S + BOOKING_SLOT_S, OPENING_S + 2 * BOOKING_SLOT_S]
    assert 11.5 * 3600 - BOOKING_SLOT_S in slots and 11.5 * 3600 not in slots and 13 * 3600 in slots


def test_appointments_check_in_inside_their_window_and_queue_at_their_start() -> None:
    trace = simulate_day("appointments", 4)
    tickets = {t.id: t for t in trace.tickets}
    checked_in = [b for b in trace.bookings if b.status == "checked_in"]
    assert len(checked_in) > 20 and any(b.status == "missed" for b in trace.bookings)
    for b in checked_in:
        assert b.checked_in_at is not None and b.ticket_id is not None
        t = tickets[b.ticket_id]
        assert t.channel == "appointment" and t.queue_at == b.start and t.issued_at == b.checked_in_at
        early, late = timedelta(seconds=CHECKIN_EARLY_S), timedelta(seconds=CHECKIN_LATE_S)
        assert b.start - early <= t.issued_at <= b.start + late
    for b in trace.bookings:
        if b.walk_in_ticket_id is not None:  # came too late: a walk-in ticket, queued when issued
            t = tickets[b.walk_in_ticket_id]
            assert b.status == "missed" and t.channel == "walk_in" and t.queue_at is None
            assert t.issued_at > b.start + timedelta(seconds=CHECKIN_LATE_S)


def test_snapshots_carry_the_bookings_still_to_come() -> None:
    trace = simulate_day("appointments", 6)
    late = timedelta(seconds=CHECKIN_LATE_S)
    for snap in trace.snapshots.values():
        expected = sorted(
            (b.service_id, b.start) for b in trace.bookings
            if (b.checked_in_at is None or b.checked_in_at > snap.now) and snap.now <= b.start + late
        )
        assert sorted((v.service_id, v.start) for v in snap.booked) == expected
        assert [v.start for v in snap.booked] == sorted(v.start for v in snap.booked)
    assert any(snap.booked for snap in trace.snapshots.values())


@pytest.mark.parametrize("seed", [1, 2, 3, 7])
def test_an_appointment_on_time_waits_no_longer_than_a_walk_in_issued_at_its_start(seed: int) -> None:
    """The ordering rule, as it played out: an appointment checked in by its start is called no later than
    any normal walk-in of its service issued at or after its start; and no normal walk-in of its service
    issued before its start, waiting when it was called, is passed over by a normal appointment."""
    trace = simulate_day("appointments", seed)
    appointments = [t for t in trace.tickets if t.channel == "appointment" and t.called_at is not None]
    walk_ins = [t for t in trace.tickets if t.channel == "walk_in" and not t.priority]
    compared = 0
    for a in appointments:
        assert a.queue_at is not None and a.called_at is not None
        for w in walk_ins:
            if w.service_id != a.service_id:
                continue
            if a.issued_at <= a.queue_at <= w.issued_at:
                assert w.called_at is None or a.called_at <= w.called_at
                compared += 1
            if not a.priority and w.issued_at < a.queue_at and w.issued_at <= a.called_at:
                assert w.called_at is not None and w.called_at <= a.called_at
    assert compared > 20
    assert any(a.called_at < a.queue_at for a in appointments if a.called_at)  # called early when nobody is ahead
