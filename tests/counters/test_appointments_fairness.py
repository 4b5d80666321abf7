"""Fair queuing with appointments over random office mornings, with the real engine on a real SQLite file.

Property (DOMAIN.md "Appointments"): an appointment checked in on time never waits longer than a walk-in
issued at its booked start would have. Pairwise, for a normal (non-priority) appointment ticket A with
booked start S and a normal walk-in W of the same queue:
- W issued after S and called after A checked in  =>  A is called before W (nobody who came later jumps it);
- W issued before S and still waiting when A is called  =>  impossible (A does not jump those who came earlier).
Also every booking not checked in is marked missed once its window closes, with one event each.
"""
from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel, select

import server.models  # noqa: F401 - all tables
import ticket_printer.models  # noqa: F401
from counters.engine import appointments, calling, issuing, setup
from counters.context import Ctx, Who
from counters.errors import StateConflict
from counters.models import Appointment, Counter, Event, Office, Service, Ticket
from server.db import Database

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OPEN = datetime(2026, 11, 23, 7, 30, tzinfo=TZ).astimezone(UTC)  # a Monday, office-local 07:30
WHO = Who("user:1", 1, None, "Cán bộ")


def _fresh_db() -> Database:
    db = Database(f"sqlite:///{Path(tempfile.mkdtemp()) / 'fair.db'}")
    SQLModel.metadata.create_all(db.engine)
    return db


day = st.fixed_dictionaries({
    "policy": st.sampled_from(["strict", "interleave"]),
    "counters": st.integers(1, 2),
    # walk-ins: minute of arrival after 07:30, and whether a priority ticket
    "walk_ins": st.lists(st.integers(0, 150), min_size=3, max_size=30),
    "priority": st.lists(st.integers(0, 150), max_size=4),
    # bookings: slot index (15-minute slots from 07:30), check-in offset in minutes (-15..+10, or None: missed)
    "bookings": st.lists(st.tuples(st.integers(1, 9), st.one_of(st.none(), st.integers(-15, 10))),
                         min_size=1, max_size=8),
    "service_min": st.lists(st.integers(2, 12), min_size=10, max_size=10),
})


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=day)
def test_on_time_appointments_never_wait_behind_later_walk_ins(plan: dict) -> None:  # type: ignore[type-arg]
    db = _fresh_db()

    def seed(s):  # type: ignore[no-untyped-def]
        ctx = Ctx(WHO, OPEN - timedelta(hours=1))
        o = setup.create_office(s, ctx, "F", "Phường", priority_policy=plan["policy"], interleave_every=2,
                                opening_hours={"mon": [["07:30", "11:30"]]})
        svc = setup.create_service(s, ctx, o, {"code": "B", "name": "B", "bookable": True, "booking_per_slot": 3})
        cs = [setup.create_counter(s, ctx, o, {"number": n, "name": str(n), "service_ids": [svc.id]})
              for n in range(1, plan["counters"] + 1)]
        booked = []
        for slot, _ in plan["bookings"]:
            try:
                booked.append(appointments.book(s, ctx, o, svc, OPEN + timedelta(minutes=15 * slot)).id)
            except StateConflict:  # a full slot: that booking is simply not made
                booked.append(None)
        for k in cs:
            calling.set_counter_state(s, ctx, o, k, "open")  # type: ignore[arg-type]
        return o.id, svc.id, [k.id for k in cs], booked
    (office_id, service_id, counter_ids, booked), _ = db.write_sync(seed)

    # the morning's arrivals, minute by minute: walk-ins, priority walk-ins, check-ins
    arrivals: dict[int, list[tuple[str, int]]] = {}
    for minute in plan["walk_ins"]:
        arrivals.setdefault(minute, []).append(("walk_in", 0))
    for minute in plan["priority"]:
        arrivals.setdefault(minute, []).append(("priority", 0))
    for (slot, offset), appointment_id in zip(plan["bookings"], booked, strict=True):
        if appointment_id is not None and offset is not None:
            arrivals.setdefault(15 * slot + offset, []).append(("check_in", appointment_id))
    busy_until = {cid: OPEN for cid in counter_ids}
    served = 0
    for minute in range(0, 200):
        now = OPEN + timedelta(minutes=minute)
        ctx = Ctx(WHO, now)

        def step(s, minute=minute, ctx=ctx):  # type: ignore[no-untyped-def]
            nonlocal served
            office = s.get(Office, office_id)
            service = s.get(Service, service_id)
            for kind, ident in arrivals.get(minute, []):
                if kind == "check_in":
                    appointments.check_in(s, ctx, office, s.get(Appointment, ident))
                else:
                    issuing.issue_ticket(s, ctx, office, service, priority="elderly" if kind == "priority" else None)
            for cid in counter_ids:
                if busy_until[cid] <= ctx.now:
                    t = calling.call_next(s, ctx, office, s.get(Counter, cid))
                    if t is not None:
                        busy_until[cid] = ctx.now + timedelta(minutes=plan["service_min"][served % 10])
                        served += 1
            appointments.mark_missed(s, ctx)
        db.write_sync(step)

    def check(s):  # type: ignore[no-untyped-def]
        tickets = list(s.exec(select(Ticket)))
        booked_rows = {a.id: a for a in s.exec(select(Appointment))}
        seq: dict[tuple[str, int], int] = {}  # (event type, ticket id) -> the first such event's seq
        for e in s.exec(select(Event).where(Event.ticket_id.is_not(None)).order_by(Event.seq)):  # type: ignore[union-attr]
            seq.setdefault((e.type, e.ticket_id), e.seq)
        never = 10**9
        normal = [t for t in tickets if t.priority is None]
        checked_in = [t for t in normal if t.appointment_id is not None]
        for a in checked_in:
            start = booked_rows[a.appointment_id].start
            assert a.queue_at == start
            a_in, a_called = seq[("ticket.issued", a.id)], seq.get(("ticket.called", a.id), never)
            for w in (t for t in normal if t.appointment_id is None):
                w_in, w_called = seq[("ticket.issued", w.id)], seq.get(("ticket.called", w.id), never)
                if w.issued_at > start and a_in < w_called < never:
                    assert a_called < w_called, "a walk-in who came after the booked start was called first"
                if w.issued_at < start and w_in < a_called < never:
                    assert w_called < a_called, "the appointment jumped a walk-in who came before its start"
        # bookings never checked in were marked missed, one event each
        missed_events = list(s.exec(select(Event).where(Event.type == "appointment.missed")))
        not_checked = [a for a in booked_rows.values() if a.ticket_id is None]
        assert all(a.status == "missed" for a in not_checked)
        assert sorted(e.data["appointment"]["id"] for e in missed_events) == sorted(a.id for a in not_checked)
        return len(checked_in)
    assert db.read_sync(check) >= 0
