"""The live estimates feed `predict` what the prediction bench measures: the office's own booking
behaviour (learnt from the last 14 days' known outcomes) and walk-in arrival rates only."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from counters.engine import appointments
from counters.clock import office_day
from counters.context import Ctx
from counters.insight.estimates import QueueEstimate, arrival_rates, booking_behaviour, estimate_queue
from counters.models import Appointment, Office, Service
from tests.counters.test_reports import DAY, Script, at

PAST = DAY - timedelta(days=7)  # the Monday before: inside the 14 days learnt from
NOW = at(9, 4)


def _bookable(s: Session, day: Script) -> Service:
    svc = s.get(Service, day.services["B"])
    assert svc is not None
    svc.bookable, svc.booking_per_slot = True, 5
    s.add(svc)
    return svc


def _check_in(day: Script, when: datetime, appointment_id: int) -> None:
    def fn(s: Session, ctx: Ctx, o: Office) -> None:
        a = s.get(Appointment, appointment_id)
        assert a is not None
        appointments.check_in(s, ctx, o, a)
    day.step(when, 1, fn)


def _office(history_shows: bool) -> Script:
    """Ten bookings a week ago, all checked in or all missed; today four booked for 09:00 (not yet
    checked in at 09:04), one missed at 08:00, two checked in for 08:30, and four walk-ins."""
    day = Script()

    def past(s: Session, ctx: Ctx, o: Office) -> list[int]:
        svc = _bookable(s, day)
        return [appointments.book(s, ctx, o, svc, at(9, 15 * (i // 5), PAST)).id or 0 for i in range(10)]
    ids = day.step(at(7, 5, PAST), 1, past)
    if history_shows:
        for i, a in enumerate(ids):
            _check_in(day, at(8, 50, PAST) + timedelta(minutes=i // 5 * 15, seconds=i), a)

    def today(s: Session, ctx: Ctx, o: Office) -> list[int]:
        svc = _bookable(s, day)
        starts = [at(8, 0), at(8, 30), at(8, 30)] + [at(9, 0)] * 4
        return [appointments.book(s, ctx, o, svc, t).id or 0 for t in starts]
    _missed, c1, c2, *_later = day.step(at(7, 5), 1, today)
    day.issue("W1", "B", at(8, 50))
    for n, a in enumerate((c1, c2)):
        _check_in(day, at(8, 25 + 3 * n), a)
    for n in range(3):
        day.issue(f"W{n + 2}", "B", at(9, 1 + n))
    return day


def _estimate(day: Script) -> QueueEstimate:
    def run(session: Session) -> QueueEstimate:
        office = session.get(Office, day.office_id)
        assert office is not None
        return estimate_queue(session, office, office_day(NOW, office.timezone), NOW)
    return day.db.read_sync(run)  # type: ignore[no-any-return]


def test_the_office_booking_history_sets_how_much_booked_starts_delay_walk_ins() -> None:
    shows, misses = _office(True), _office(False)

    def behaviour(day: Script) -> float:
        def run(session: Session) -> float:
            office = session.get(Office, day.office_id)
            assert office is not None
            return booking_behaviour(session, office, NOW).show_share
        return day.db.read_sync(run)  # type: ignore[no-any-return]
    # 5 prior pseudo bookings at 85%; today's 08:00 booking missed, the two 08:30 ones checked in,
    # the four 09:00 ones not known yet
    assert abs(behaviour(shows) - (5 * 0.85 + 10 + 2) / (5 + 13)) < 1e-9
    assert abs(behaviour(misses) - (5 * 0.85 + 2) / (5 + 13)) < 1e-9

    high, low = _estimate(shows), _estimate(misses)
    assert high.snapshot is not None and low.snapshot is not None
    assert len(high.snapshot.booked) == len(low.snapshot.booked) == 4  # the 09:00 ones, still to come
    late_h, late_l = (e.waits[d.tickets["W4"]] for e, d in ((high, shows), (low, misses)))
    early_h, early_l = (e.waits[d.tickets["W1"]] for e, d in ((high, shows), (low, misses)))
    assert late_h is not None and late_l is not None and early_h is not None and early_l is not None
    # W4 (09:03) queues behind the four 09:00 bookings: where booked citizens come, it waits longer
    assert late_h - late_l > 300, (late_h, late_l)
    # W1 (08:50) stands before their start: their behaviour barely moves it
    assert abs(early_h - early_l) < 0.25 * (late_h - late_l), (early_h, early_l, late_h, late_l)


def test_checked_in_bookings_are_not_counted_again_in_the_arrival_rates() -> None:
    day = _office(False)

    def run(session: Session) -> dict[int, float]:
        office = session.get(Office, day.office_id)
        assert office is not None
        rates, issues = arrival_rates(session, office, DAY, NOW)
        assert len(issues) == 4  # W1..W4; the two check-ins' tickets come through `booked` before check-in
        return dict(rates.normal_per_h)
    # four walk-ins within the last hour, none priority: 4 an hour (6 if the check-ins were counted)
    assert day.db.read_sync(run) == {day.services["B"]: 4.0}
