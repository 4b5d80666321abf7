"""Report facts folded after the commit (SQLite writes): lost folds are redone, folds never double count."""
from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, SQLModel

import server.models  # noqa: F401 - all tables
import ticket_printer.models  # noqa: F401
from counters.engine import calling, events, issuing, setup
from counters.projections import facts
from counters.context import Ctx, Who
from counters.projections.facts import ReportRollup, TicketFact
from counters.models import Counter, Office, Service
from server.db import FOLD_DELAY_S, Database

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
CLERK = Who("user:1", 1, None, "Một")


def _dump(s: Session) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    f, r = TicketFact.__table__, ReportRollup.__table__  # type: ignore[attr-defined]
    return ([tuple(x) for x in s.execute(select(f).order_by(f.c.ticket_id))],
            sorted(tuple(x) for x in s.execute(select(r)) if any(x[5:])))


def _office(db: Database) -> tuple[int, int, int]:
    def seed(s: Session) -> tuple[int, int, int]:
        ctx = Ctx(CLERK, T0)
        o = setup.create_office(s, ctx, "P", "Phường Một")
        a = setup.create_service(s, ctx, o, {"code": "A", "name": "Chứng thực"})
        c = setup.create_counter(s, ctx, o, {"number": 1, "name": "Quầy 1", "service_ids": [a.id]})
        calling.set_counter_state(s, ctx, o, c, "open")  # type: ignore[arg-type]
        return o.id or 0, a.id or 0, c.id or 0
    return db.write_sync(seed)[0]


def _day(db: Database, office_id: int, service_id: int, counter_id: int, fold: list[bool]) -> None:
    """Five tickets issued, then calls; step i folds in its transaction when fold[i], else leaves it out."""
    steps: list[Any] = []
    for _ in range(5):
        steps.append(lambda s, ctx, o: issuing.issue_ticket(s, ctx, o, s.get(Service, service_id)))
    for i in range(5):
        close = "no_show" if i == 2 else "done"
        steps.append(lambda s, ctx, o, close=close: calling.call_next(s, ctx, o, s.get(Counter, counter_id),
                                                                       close_current=close))
    for i, step in enumerate(steps):
        when = T0 + timedelta(minutes=3 * i)
        db._write(lambda s, step=step, when=when: step(s, Ctx(CLERK, when), s.get(Office, office_id)),
                  fold=fold[i % len(fold)])


def _fresh() -> tuple[Database, int, int, int]:
    db = Database(f"sqlite:///{Path(tempfile.mkdtemp()) / 'f.db'}")
    SQLModel.metadata.create_all(db.engine)
    return (db, *_office(db))


def test_folds_lost_between_commit_and_fold_are_redone_at_start_up() -> None:
    db, office_id, service_id, counter_id = _fresh()
    _day(db, office_id, service_id, counter_id, fold=[True, False, False])  # two of three folds "lost"
    lost = db.read_sync(_dump)
    assert db.recover_folds() > 0
    recovered = db.read_sync(_dump)
    assert recovered != lost
    db.write_sync(lambda s: facts.rebuild(s))
    assert db.read_sync(_dump) == recovered  # exactly what folding from the log gives
    assert db.recover_folds() == 0  # idempotent: nothing left to fold
    assert db.read_sync(_dump) == recovered


def test_a_staged_write_folds_after_the_commit_like_an_in_transaction_fold() -> None:
    db, office_id, service_id, counter_id = _fresh()
    _day(db, office_id, service_id, counter_id, fold=[True])
    reference = db.read_sync(_dump)

    db2, office_id, service_id, counter_id = _fresh()

    async def staged() -> None:
        for i in range(5):
            _, messages = await db2.write_staged(
                lambda s, i=i: issuing.issue_ticket(s, Ctx(CLERK, T0 + timedelta(minutes=3 * i)),
                                                    s.get(Office, office_id), s.get(Service, service_id)))
            assert [m["type"] for m in messages][0] == "ticket.issued"
            await db2.settle_folds()  # what a read does first
            assert db2.fold_sync(sorted(db2.read_sync(lambda s: events.recent_ticket_ids(s)))) == 0, \
                "a second fold of the same tickets changes nothing"
        for i in range(5):
            close = "no_show" if i == 2 else "done"
            _, messages = await db2.write_staged(
                lambda s, i=i, close=close: calling.call_next(
                    s, Ctx(CLERK, T0 + timedelta(minutes=3 * (5 + i))), s.get(Office, office_id),
                    s.get(Counter, counter_id), close_current=close))
            seqs = [m["seq"] for m in messages]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # gapless, in order
        assert db2.read_sync(_dump) != reference, "the calls' facts wait for their fold"
        await asyncio.sleep(FOLD_DELAY_S * 3)  # one fold for the five calls, on its own after the delay
        assert not db2._unfolded
    asyncio.run(staged())
    assert db2.read_sync(_dump) == reference
    assert db2.write_sync(lambda s: events.reconcile_facts(s, events.recent_ticket_ids(s)))[0] == 0
