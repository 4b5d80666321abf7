"""Resuming displays: the oldest replayable seq is read once per office and minute, not once per socket."""
from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from counters.engine import events, setup
from counters.context import Ctx, Who
from counters.models import Event
from counters.types import EventType
from server.migrate import upgrade
from server.settings import Settings
from server.state import NOTHING_REPLAYABLE, REPLAY_WINDOW, REPLAYABLE_TTL, Qms

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


class Office:
    """A Qms on a fresh SQLite file whose clock the test moves, counting its database reads."""

    def __init__(self) -> None:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'q.sqlite3'}"
        self.now = T0
        self.qms = Qms(Settings.load(env={}, database_url=url), clock=lambda: self.now)
        upgrade(self.qms.db.engine)
        self.reads = 0
        read = self.qms.db.read

        async def counted(fn: Any) -> Any:
            self.reads += 1
            return await read(fn)
        self.qms.db.read = counted  # type: ignore[method-assign]

    def open_office(self, code: str) -> int:
        def create(s: Session) -> int:
            return setup.create_office(s, Ctx(Who.system(), T0 - timedelta(days=3)), code, f"Phường {code}").id or 0
        return self.qms.db.write_sync(create)[0]  # its events are days old: outside the replay window

    def log(self, office_id: int, at: datetime) -> None:
        self.qms.db.write_sync(lambda s: events.record(s, office_id, EventType.OFFICE_UPDATED, at, {}, actor="system"))

    def oldest_for(self, office_id: int, sockets: int) -> list[int]:
        async def storm() -> list[int]:
            return list(await asyncio.gather(*(self.qms.replayable_from(office_id) for _ in range(sockets))))
        return asyncio.run(storm())


def _first_seq(qms: Qms, office_id: int, since: datetime) -> int:
    def run(s: Session) -> int:
        return min(e.seq for e in s.exec(select(Event).where(Event.office_id == office_id, Event.at >= since)))
    return qms.db.read_sync(run)


def test_a_storm_of_resuming_sockets_reads_the_window_once_and_a_minute_later_again() -> None:
    office = Office()
    oid = office.open_office("P1")
    for hours in (40, 30, 1):  # one event already outside the 36-hour window
        office.log(oid, T0 - timedelta(hours=hours))
    first = _first_seq(office.qms, oid, T0 - REPLAY_WINDOW)
    assert office.oldest_for(oid, 200) == [first] * 200
    assert office.reads == 1, "200 sockets resuming at once read the window once"
    office.now += REPLAYABLE_TTL / 2
    assert office.oldest_for(oid, 5) == [first] * 5 and office.reads == 1

    office.now = T0 + timedelta(hours=7)  # the event of 30 hours before has left the window
    assert office.oldest_for(oid, 3) == [first + 1] * 3, "a minute later (and more) the window is read again"
    assert office.reads == 2
    assert _first_seq(office.qms, oid, office.now - REPLAY_WINDOW) == first + 1


def test_an_office_with_nothing_to_replay_yet_is_asked_again_once_it_has() -> None:
    office = Office()
    oid, other = office.open_office("P1"), office.open_office("P2")
    assert office.oldest_for(oid, 3) == [NOTHING_REPLAYABLE] * 3
    office.log(oid, T0)
    first = _first_seq(office.qms, oid, T0 - REPLAY_WINDOW)
    assert office.oldest_for(oid, 2) == [first] * 2, "the first event starts the window at once, not a minute later"
    assert office.oldest_for(other, 1) == [NOTHING_REPLAYABLE], "offices are kept apart"


def test_a_failed_read_is_not_reused() -> None:
    office = Office()
    oid = office.open_office("P1")
    office.log(oid, T0)
    real = office.qms.db.read
    failures = [RuntimeError("database is gone")]

    async def flaky(fn: Any) -> Any:
        if failures:
            raise failures.pop()
        return await real(fn)
    office.qms.db.read = flaky  # type: ignore[method-assign]

    async def twice() -> tuple[BaseException | int, int]:
        try:
            first: BaseException | int = await office.qms.replayable_from(oid)
        except RuntimeError as e:
            first = e
        return first, await office.qms.replayable_from(oid)
    failed, second = asyncio.run(twice())
    assert isinstance(failed, RuntimeError) and second == _first_seq(office.qms, oid, T0 - REPLAY_WINDOW)
