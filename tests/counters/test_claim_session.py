"""The claim hands back the session's own Ticket: one loaded earlier in the transaction is the very object
returned, brought up to date by the claim's UPDATE ... RETURNING (no second read, no stale copy)."""
from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, SQLModel

import server.models  # noqa: F401 - all tables
import ticket_printer.models  # noqa: F401
from counters.context import Ctx, Who
from counters.engine import calling, issuing, setup
from counters.models import Counter, Office, Service, Ticket
from counters.types import TicketStatus
from server.db import Database

START = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # 08:30 in Hanoi, a Monday


def test_a_ticket_loaded_before_the_claim_is_the_object_the_claim_returns_up_to_date() -> None:
    db = Database(f"sqlite:///{Path(tempfile.mkdtemp()) / 'c.db'}")
    SQLModel.metadata.create_all(db.engine)
    who = Who("user:1", 1, None, "Cán bộ")

    def seed(s: Session) -> tuple[int, int, int]:
        ctx = Ctx(who, START)
        o = setup.create_office(s, ctx, "P", "Phường")
        a = setup.create_service(s, ctx, o, {"code": "A", "name": "A"})
        k = setup.create_counter(s, ctx, o, {"number": 1, "name": "1", "service_ids": [a.id]})
        calling.set_counter_state(s, ctx, o, k, "open")  # type: ignore[arg-type]
        t = issuing.issue_ticket(s, ctx, o, a)
        return o.id or 0, k.id or 0, t.id or 0
    (office_id, counter_id, ticket_id), _ = db.write_sync(seed)

    def call(s: Session) -> tuple[bool, str, int | None, bool]:
        office, counter = s.get(Office, office_id), s.get(Counter, counter_id)
        assert office is not None and counter is not None
        held = s.get(Ticket, ticket_id)  # loaded before the claim, as waiting
        assert held is not None and held.status == TicketStatus.WAITING
        got = calling.call_next(s, Ctx(who, START + timedelta(minutes=3)), office, counter)
        return got is held, str(held.status), held.counter_id, held.called_at is not None
    (same, status, at_counter, called), _ = db.write_sync(call)
    assert same and status == TicketStatus.CALLED and at_counter == counter_id and called

    def nothing_left(s: Session) -> Ticket | None:
        office, counter = s.get(Office, office_id), s.get(Counter, counter_id)
        assert office is not None and counter is not None and s.get(Service, counter.service_ids[0])
        return calling.call_next(s, Ctx(who, START + timedelta(minutes=5)), office, counter)
    assert db.write_sync(nothing_left)[0] is None
