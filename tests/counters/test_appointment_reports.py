"""Reports count appointments: `appointments` (checked-in appointment tickets) and `appointments_missed` (bookings
not checked in by the end of their window) per row, and `channel` as a grouping; the rollups stay equal to a
rebuild from the event log; staffing advice counts the bookings due within its window."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from counters.engine import appointments
from counters.projections import facts
from counters.context import Ctx
from counters.insight.estimates import estimate_queue
from counters.projections.live import live_state
from counters.models import Appointment, Office, Service
from tests.counters.test_reports import DAY, Script, _dump, at


def _book(day: Script, hh: int, mm: int) -> int:
    def fn(s: Session, ctx: Ctx, o: Office) -> int:
        svc = s.get(Service, day.services["B"])
        assert svc is not None
        if not svc.bookable:
            svc.bookable, svc.booking_per_slot = True, 3
            s.add(svc)
        return appointments.book(s, ctx, o, svc, at(hh, mm)).id or 0
    return day.step(at(7, 5), 1, fn)  # type: ignore[no-any-return]


def test_reports_count_appointments_and_missed_ones_by_channel_and_service() -> None:
    day = Script()
    a1, a2, a3 = _book(day, 8, 0), _book(day, 8, 0), _book(day, 9, 0)
    day.issue("W1", "B", at(7, 55))
    day.tickets["A1"] = day.step(at(7, 50), 1, lambda s, ctx, o: appointments.check_in(
        s, ctx, o, s.get(Appointment, a1)).id)
    day.next(2, at(8, 1))  # W1 (07:55) first, then the booking standing at 08:00
    day.next(2, at(8, 10))
    day.next(2, at(8, 20))
    # a2's window closes at 08:10, a3's at 09:10: the 09:30 sweep marks both missed, once
    assert day.step(at(9, 30), 1, lambda s, ctx, o: appointments.mark_missed(s, ctx)) == 2
    assert day.step(at(9, 31), 1, lambda s, ctx, o: appointments.mark_missed(s, ctx)) == 0
    del a2, a3

    by_channel = day.report("channel")
    assert set(by_channel) == {"kiosk", "appointment"}
    assert by_channel["appointment"]["issued"] == 1 and by_channel["appointment"]["served"] == 1
    assert by_channel["appointment"]["appointments"] == 1 and by_channel["appointment"]["appointments_missed"] == 2
    assert by_channel["appointment"]["label"] == "Lịch hẹn"
    assert by_channel["kiosk"]["appointments"] == 0 and by_channel["kiosk"]["issued"] == 1
    by_service = day.report("service")
    assert by_service["B"]["appointments"] == 1 and by_service["B"]["appointments_missed"] == 2
    by_hour = day.report("hour")
    assert by_hour["08"]["appointments_missed"] == 1 and by_hour["09"]["appointments_missed"] == 1
    assert day.report("day")[DAY.isoformat()]["appointments_missed"] == 2
    # the parent office's rows hold its branch's
    assert day.report("channel", office_id=day.parent_id)["appointment"]["appointments_missed"] == 2

    before = day.db.read_sync(_dump)
    day.db.write_sync(lambda s: facts.rebuild(s))
    assert day.db.read_sync(_dump) == before


def test_estimates_live_view_and_staffing_count_the_bookings_to_come() -> None:
    day = Script()
    for hh, mm in ((8, 15), (8, 30), (8, 30), (8, 45), (10, 0)):
        _book(day, hh, mm)
    now = at(8, 0)

    def read(s: Session) -> tuple[int, int, dict[str, object]]:
        o = s.get(Office, day.office_id)
        assert o is not None
        est = estimate_queue(s, o, DAY, now)
        assert est.snapshot is not None
        return len(est.snapshot.booked), est.snapshot.booked[0].start == at(8, 15), live_state(s, o, now)
    booked, first_ok, live = day.db.read_sync(read)
    assert booked == 5 and first_ok
    row = next(r for r in live["services"] if r["code"] == "B")  # type: ignore[index, union-attr]
    assert row["booked_ahead"] == 5
    # four bookings due within the hour: advice for the standard desks reflects them with no walk-in yet
    standard = next(g for g in live["staffing"]["groups"] if g["group"] == "standard")  # type: ignore[index]
    assert standard["arrival_rate_per_h"] >= 4
    later = day.db.read_sync(lambda s: live_state(s, s.get(Office, day.office_id), now + timedelta(hours=3)))
    assert next(r for r in later["services"] if r["code"] == "B")["booked_ahead"] == 0
