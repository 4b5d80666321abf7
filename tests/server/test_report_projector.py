"""The report projector: the action's transaction folds nothing; the projector folds the committed log from
its checkpoint, in batches, idempotently; it catches up after a crash or a restart by itself; and what it
built equals a fold of the same log from scratch."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from counters.context import Ctx
from counters.engine import appointments, serving
from counters.models import Appointment, Event, Office, ProjectionCheckpoint, Service, Ticket
from counters.projections import checkpoint, facts
from server.db import Database
from server.report_projector import ReportProjector
from tests.counters.test_reports import DAY, Script, _dump, at, play_day
from tests.support.projections import scratch


class LiveScript(Script):
    """The scripted day written the way the server writes: `write_admitted` on the event loop's writer
    thread, with the report projector running beside it (the script itself runs on a worker thread)."""

    loop: asyncio.AbstractEventLoop | None = None

    def step(self, when: Any, clerk: int, fn: Callable[[Session, Ctx, Office], Any]) -> Any:
        def run(s: Session) -> Any:
            return fn(s, Ctx(self.who[clerk], when), s.get(Office, self.office_id))  # type: ignore[arg-type]
        if self.loop is None:
            return self.db.write_sync(run)[0]
        return asyncio.run_coroutine_threadsafe(self.db.write_admitted(run), self.loop).result()[0]


def mixed_day(s: Script) -> None:
    """`play_day`, and bookings (checked in, missed), a transfer, a recall and a second day's queue."""
    play_day(s)

    def book(hh: int, mm: int) -> int:
        def fn(ss: Session, ctx: Ctx, o: Office) -> int:
            svc = ss.get(Service, s.services["B"])
            assert svc is not None
            svc.bookable, svc.booking_per_slot = True, 3
            ss.add(svc)
            return appointments.book(ss, ctx, o, svc, at(hh, mm, DAY + timedelta(days=2))).id or 0
        return s.step(at(7, 0, DAY + timedelta(days=2)), 1, fn)  # type: ignore[no-any-return]
    a1, _missed = book(8, 0), book(9, 0)
    day3 = DAY + timedelta(days=2)
    s.tickets["P1"] = s.step(at(7, 55, day3), 1, lambda ss, ctx, o: appointments.check_in(
        ss, ctx, o, ss.get(Appointment, a1)).id)
    s.issue("D1", "A", at(8, 1, day3))
    s.issue("D2", "B", at(8, 2, day3))
    s.next(2, at(8, 5, day3))  # the booking first
    s.step(at(8, 6, day3), 2, lambda ss, ctx, o: serving.transfer(
        ss, ctx, o, ss.get(Ticket, s.tickets["P1"]), service=ss.get(Service, s.services["A"])))
    s.next(1, at(8, 7, day3))
    s.next(1, at(8, 15, day3))
    s.act("finish", "D1", at(8, 20, day3))
    s.next(2, at(8, 21, day3), close="no_show")
    assert s.step(at(10, 0, day3), 1, lambda ss, ctx, o: appointments.mark_missed(ss, ctx)) == 1


def _checkpoints(db: Database) -> dict[int, int]:
    return dict(db.read_sync(lambda s: s.execute(select(ProjectionCheckpoint.office_id, ProjectionCheckpoint.seq)
                                                 .where(ProjectionCheckpoint.name == "reports")).all()))


def _lag(db: Database) -> dict[int, tuple[int, int]]:
    return db.read_sync(lambda s: checkpoint.behind(s))


def test_the_projector_folds_a_mixed_day_after_the_commits_equal_to_a_fold_from_scratch() -> None:
    s = LiveScript()

    async def go() -> tuple[int, float]:
        s.loop = asyncio.get_running_loop()
        projector = ReportProjector(s.db, batch=4)  # small batches: most passes take several
        projector.start()
        await asyncio.get_running_loop().run_in_executor(None, mixed_day, s)
        started = time.monotonic()
        await projector.caught_up()
        waited = time.monotonic() - started
        await projector.stop()
        return projector.batches, waited
    batches, waited = asyncio.run(go())
    assert batches > 10
    assert waited < 1.0
    assert _lag(s.db) == {}  # every office's checkpoint is at its last seq
    built = s.db.read_sync(_dump)
    assert len(built[0]) == 10 and built[1]  # a fact per ticket
    assert built == scratch(s.db)
    by_channel = s.report("channel", DAY, DAY + timedelta(days=2))
    assert by_channel["appointment"]["appointments"] == 1 and by_channel["appointment"]["appointments_missed"] == 1


def test_a_batch_run_again_changes_nothing_and_a_restart_catches_up() -> None:
    s = LiveScript()
    mixed_day(s)  # written with nothing folding, as if the process died after each commit
    lag = _lag(s.db)
    assert lag and all(done == 0 for done, _ in lag.values())
    assert s.db.read_sync(_dump) == ([], [])  # the actions' transactions folded nothing
    folded, more = s.db.fold_reports_sync(10)  # one batch: the checkpoints moved past exactly what it folded
    assert more and 5 <= folded <= 10 and sum(_checkpoints(s.db).values()) == folded
    path = s.db.url.removeprefix("sqlite:///")
    s.db.dispose()

    db = Database(f"sqlite:///{path}")  # "restarted": a new process on the same file

    async def restart() -> None:
        projector = ReportProjector(db, batch=7)
        projector.start()
        for _ in range(200):
            if not await db.read(lambda ss: checkpoint.behind(ss)):
                break
            await asyncio.sleep(0.05)
        await projector.stop()
    asyncio.run(restart())
    assert _lag(db) == {}
    built = db.read_sync(_dump)
    assert built == scratch(db)
    assert db.fold_reports_sync(5) == (0, False)  # caught up: running a batch again folds nothing...
    assert db.fold_all_reports_sync() == 0
    assert db.read_sync(_dump) == built  # ...and changes nothing
    db.dispose()


def test_a_batch_that_fails_half_way_changes_nothing_and_is_folded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    s = LiveScript()
    mixed_day(s)
    before, marks = s.db.read_sync(_dump), _checkpoints(s.db)
    apply_missed = facts.apply_missed

    def crash(session: Session, batch: Any) -> None:  # after the facts were written, before the checkpoint
        raise RuntimeError("the process died here")
    monkeypatch.setattr(facts, "apply_missed", crash)
    with pytest.raises(RuntimeError):
        s.db.fold_reports_sync(50)
    assert s.db.read_sync(_dump) == before and _checkpoints(s.db) == marks  # rolled back together
    monkeypatch.setattr(facts, "apply_missed", apply_missed)
    s.db.fold_all_reports_sync(limit=6)
    assert s.db.read_sync(_dump) == scratch(s.db)


def test_the_projector_logs_a_failed_batch_and_retries_it(monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    s = LiveScript()
    s.issue("Y1", "A", at(8, 0))
    real = checkpoint.fold_batch
    failures = [1]

    def flaky(session: Session, limit: int, name: str = "reports") -> tuple[int, bool]:
        if failures[0]:
            failures[0] -= 1
            raise RuntimeError("database hiccup")
        return real(session, limit, name)
    monkeypatch.setattr(checkpoint, "fold_batch", flaky)

    async def go() -> None:
        projector = ReportProjector(s.db)
        projector.start()
        projector.wake()
        for _ in range(100):
            if not failures[0] and not await s.db.read(lambda ss: checkpoint.behind(ss)):
                break
            await asyncio.sleep(0.05)
        await projector.stop()
    with caplog.at_level(logging.ERROR, "qms.reports"):
        asyncio.run(go())
    assert "folding report facts failed" in caplog.text
    assert _lag(s.db) == {}
    assert s.db.read_sync(_dump) == scratch(s.db)


def test_rebuild_moves_the_checkpoint_so_the_projector_never_folds_twice() -> None:
    s = LiveScript()
    mixed_day(s)
    assert s.db.read_sync(lambda ss: len(ss.execute(select(Event.id)).all())) > 30  # a day worth folding
    s.db.write_sync(lambda ss: facts.rebuild(ss))
    assert _lag(s.db) == {}
    built = s.db.read_sync(_dump)
    assert s.db.fold_all_reports_sync() == 0 and s.db.read_sync(_dump) == built
