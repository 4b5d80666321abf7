"""Property-based tests of the queue engine: random issue/next/call/transfer/no-show/cancel/finish
sequences across counters and services keep the invariants (no ticket in two places, calling order by
the office's policy, do-it-now only at do-it-now desks, monotonic times, unique numbers, gapless seq)."""
from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel, select

import server.models  # noqa: F401 - all tables
import ticket_printer.models  # noqa: F401
from counters.engine import calling, issuing, serving, setup
from counters.context import Ctx, Who
from counters.errors import QueueError
from counters.models import Counter, Event, Office, Service, Ticket
from server.db import Database

START = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # 08:30 in Hanoi, a Monday

op = st.one_of(
    st.tuples(st.just("issue"), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("next"), st.integers(0, 3), st.sampled_from(["done", "no_show"])),
    st.tuples(st.just("call"), st.integers(0, 3), st.integers(0, 40)),
    st.tuples(st.just("transfer"), st.integers(0, 40), st.integers(0, 5)),
    st.tuples(st.just("no_show"), st.integers(0, 3), st.just(0)),
    st.tuples(st.just("cancel"), st.integers(0, 40), st.just(0)),
    st.tuples(st.just("finish"), st.integers(0, 3), st.just(0)),
    st.tuples(st.just("start"), st.integers(0, 3), st.just(0)),
    st.tuples(st.just("toggle"), st.integers(0, 3), st.just(0)),
)


def _fresh_db() -> Database:
    db = Database(f"sqlite:///{Path(tempfile.mkdtemp()) / 'p.db'}")
    SQLModel.metadata.create_all(db.engine)
    return db


def _key(office: Office, t: Ticket, order: list[int], priority_first: bool) -> tuple:
    normal = 0 if t.priority else 1
    pr = normal if priority_first else -normal
    idx = order.index(t.service_id) if (office.routing == "ordered" and t.service_id in order) else len(order)
    return (pr, idx if office.routing == "ordered" else 0, t.queue_at, t.id)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op, min_size=5, max_size=60), routing=st.sampled_from(["fifo", "ordered"]),
       policy=st.sampled_from(["strict", "interleave"]), gaps=st.lists(st.integers(0, 120), min_size=60,
                                                                      max_size=60))
def test_random_operations_keep_the_invariants(ops: list, routing: str, policy: str, gaps: list[int]) -> None:
    db = _fresh_db()
    who = Who("user:1", 1, None, "Cán bộ")
    now = START

    def seed(s):  # type: ignore[no-untyped-def]
        ctx = Ctx(who, now)
        o = setup.create_office(s, ctx, "P", "Phường", routing=routing, priority_policy=policy, interleave_every=2)
        a = setup.create_service(s, ctx, o, {"code": "A", "name": "A", "desk": "do_it_now"})
        b = setup.create_service(s, ctx, o, {"code": "B", "name": "B"})
        c = setup.create_service(s, ctx, o, {"code": "C", "name": "C"})
        cs = [setup.create_counter(s, ctx, o, {"number": 1, "name": "1", "desk": "do_it_now", "service_ids": [a.id]}),
              setup.create_counter(s, ctx, o, {"number": 2, "name": "2", "service_ids": [b.id, c.id]}),
              setup.create_counter(s, ctx, o, {"number": 3, "name": "3", "service_ids": [c.id, b.id]}),
              setup.create_counter(s, ctx, o, {"number": 4, "name": "4", "service_ids": [b.id]})]
        for k in cs:
            calling.set_counter_state(s, ctx, o, k, "open")  # type: ignore[arg-type]
        return o.id, [a.id, b.id, c.id], [k.id for k in cs]
    (office_id, service_ids, counter_ids), _ = db.write_sync(seed)

    for i, (name, x, y) in enumerate(ops):
        now = now + timedelta(seconds=gaps[i % len(gaps)])
        ctx = Ctx(who, now)

        def step(s, name=name, x=x, y=y, ctx=ctx):  # type: ignore[no-untyped-def]
            office = s.get(Office, office_id)
            if name == "issue":
                issuing.issue_ticket(s, ctx, office, s.get(Service, service_ids[x]), priority="elderly" if y else None)
            elif name == "next":
                counter = s.get(Counter, counter_ids[x])
                waiting = list(s.exec(select(Ticket).where(Ticket.status == "waiting")))
                services = {sv.id: sv for sv in s.exec(select(Service))}
                from counters.engine.queue import priority_due, servable_service_ids
                order = servable_service_ids(counter, services)
                eligible = [t for t in waiting if t.target_counter_id == counter.id
                            or (t.target_counter_id is None and t.service_id in order)]
                prio_first = policy == "strict" or priority_due(s, office, waiting[0].office_day) if waiting else True
                t = calling.call_next(s, ctx, office, counter, close_current=y)
                if t is None:
                    assert not eligible or counter.state != "open"
                else:
                    best = min(eligible, key=lambda u: _key(office, u, order, prio_first))
                    assert t.id == best.id, "calling order follows the office's policy"
                    assert services[t.service_id].desk != "do_it_now" or counter.desk == "do_it_now"
            elif name == "call":
                tickets = list(s.exec(select(Ticket).order_by(Ticket.id)))
                if tickets:
                    calling.call_ticket(s, ctx, office, s.get(Counter, counter_ids[x]), tickets[y % len(tickets)])
            elif name == "transfer":
                tickets = list(s.exec(select(Ticket).order_by(Ticket.id)))
                if tickets:
                    t = tickets[x % len(tickets)]
                    if y < 3:
                        serving.transfer(s, ctx, office, t, service=s.get(Service, service_ids[y]))
                    else:
                        serving.transfer(s, ctx, office, t, counter=s.get(Counter, counter_ids[y - 2]))
            elif name in ("no_show", "finish", "start"):
                counter = s.get(Counter, counter_ids[x])
                if counter.current_ticket_id:
                    getattr(serving, name)(s, ctx, office, s.get(Ticket, counter.current_ticket_id))
            elif name == "cancel":
                tickets = list(s.exec(select(Ticket).order_by(Ticket.id)))
                if tickets:
                    serving.cancel(s, ctx, office, tickets[x % len(tickets)])
            elif name == "toggle":
                counter = s.get(Counter, counter_ids[x])
                calling.set_counter_state(s, ctx, office, counter, "paused" if counter.state == "open" else "open")
        try:
            db.write_sync(step)
        except QueueError:
            pass  # a refused move changes nothing (the transaction rolled back)
        _check_invariants(db)


def _check_invariants(db: Database) -> None:
    def check(s):  # type: ignore[no-untyped-def]
        tickets = list(s.exec(select(Ticket)))
        counters = list(s.exec(select(Counter)))
        services = {sv.id: sv for sv in s.exec(select(Service))}
        current = [c.current_ticket_id for c in counters if c.current_ticket_id]
        assert len(current) == len(set(current)), "a ticket is current at two counters"
        by_id = {t.id: t for t in tickets}
        for c in counters:
            if c.current_ticket_id:
                t = by_id[c.current_ticket_id]
                assert t.status in ("called", "serving") and t.counter_id == c.id
                assert services[t.service_id].desk != "do_it_now" or c.desk == "do_it_now"
        for t in tickets:
            if t.status in ("called", "serving"):
                assert t.id in current, f"{t.display_number} is {t.status} but at no counter"
            times = [x for x in (t.issued_at, t.called_at, t.started_at, t.finished_at) if x is not None]
            assert times == sorted(times), "times are monotonic"
            if t.last_called_at and t.called_at:
                assert t.called_at <= t.last_called_at
        numbers = [(t.issued_service_id, t.office_day, t.number) for t in tickets]
        assert len(numbers) == len(set(numbers))
        seqs = [e.seq for e in s.exec(select(Event).order_by(Event.seq))]
        assert seqs == list(range(1, len(seqs) + 1))
    db.read_sync(check)
