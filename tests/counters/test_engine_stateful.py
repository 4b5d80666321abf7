"""Hypothesis stateful test of the engine: a RuleBasedStateMachine issues, calls, serves, transfers and
cancels across counters; the invariants of the queue are checked after every step."""
from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlmodel import select

from counters.engine import calling, issuing, serving, setup
from counters.context import Ctx, Who
from counters.errors import QueueError
from counters.models import Counter, Office, Service, Ticket
from tests.counters.test_engine_properties import START, _check_invariants, _fresh_db

WHO = Who("user:1", 1, None, "Cán bộ")


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.db = _fresh_db()
        self.now = START

        def seed(s):  # type: ignore[no-untyped-def]
            ctx = Ctx(WHO, self.now)
            o = setup.create_office(s, ctx, "S", "Phường")
            a = setup.create_service(s, ctx, o, {"code": "A", "name": "A", "desk": "do_it_now"})
            b = setup.create_service(s, ctx, o, {"code": "B", "name": "B"})
            cs = [setup.create_counter(s, ctx, o, {"number": 1, "name": "1", "desk": "do_it_now",
                                                   "service_ids": [a.id]}),
                  setup.create_counter(s, ctx, o, {"number": 2, "name": "2", "service_ids": [b.id]}),
                  setup.create_counter(s, ctx, o, {"number": 3, "name": "3", "service_ids": [b.id]})]
            for c in cs:
                calling.set_counter_state(s, ctx, o, c, "open")  # type: ignore[arg-type]
            return o.id, [a.id, b.id], [c.id for c in cs]
        (self.office_id, self.services, self.counters), _ = self.db.write_sync(seed)

    def _do(self, fn) -> None:  # type: ignore[no-untyped-def]
        self.now += timedelta(seconds=30)
        ctx = Ctx(WHO, self.now)
        try:
            self.db.write_sync(lambda s: fn(s, ctx, s.get(Office, self.office_id)))
        except QueueError:
            pass  # refused moves roll back

    def _ticket(self, s, k: int) -> Ticket | None:  # type: ignore[no-untyped-def]
        rows = list(s.exec(select(Ticket).order_by(Ticket.id)))
        return rows[k % len(rows)] if rows else None

    @rule(service=st.integers(0, 1), priority=st.booleans())
    def issue(self, service: int, priority: bool) -> None:
        self._do(lambda s, ctx, o: issuing.issue_ticket(s, ctx, o, s.get(Service, self.services[service]),
                                                        priority="pregnant" if priority else None))

    @rule(counter=st.integers(0, 2), close=st.sampled_from(["done", "no_show"]))
    def next(self, counter: int, close: str) -> None:
        self._do(lambda s, ctx, o: calling.call_next(s, ctx, o, s.get(Counter, self.counters[counter]),
                                                     close_current=close))

    @rule(counter=st.integers(0, 2), action=st.sampled_from(["start", "finish", "no_show"]))
    def act_on_current(self, counter: int, action: str) -> None:
        def fn(s, ctx, o):  # type: ignore[no-untyped-def]
            c = s.get(Counter, self.counters[counter])
            if c.current_ticket_id:
                getattr(serving, action)(s, ctx, o, s.get(Ticket, c.current_ticket_id))
        self._do(fn)

    @rule(k=st.integers(0, 50), to=st.integers(0, 1))
    def transfer(self, k: int, to: int) -> None:
        def fn(s, ctx, o):  # type: ignore[no-untyped-def]
            t = self._ticket(s, k)
            if t is not None:
                serving.transfer(s, ctx, o, t, service=s.get(Service, self.services[to]))
        self._do(fn)

    @rule(k=st.integers(0, 50))
    def cancel(self, k: int) -> None:
        def fn(s, ctx, o):  # type: ignore[no-untyped-def]
            t = self._ticket(s, k)
            if t is not None:
                serving.cancel(s, ctx, o, t)
        self._do(fn)

    @invariant()
    def queue_is_consistent(self) -> None:
        _check_invariants(self.db)


QueueMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=30, deadline=None,
                                          suppress_health_check=[HealthCheck.too_slow])
test_queue_machine = QueueMachine.TestCase
