"""Urgent writes (a clerk's call) on SQLite: on the event loop when the writer is idle, never waiting there."""
from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session, SQLModel

import server.models  # noqa: F401 - all tables
import ticket_printer.models  # noqa: F401
from counters.models import Office
from server.db import Database
from server.errors import ApiError


def _fresh() -> tuple[Database, Path]:
    path = Path(tempfile.mkdtemp()) / "u.db"
    db = Database(f"sqlite:///{path}")
    SQLModel.metadata.create_all(db.engine)
    return db, path


def _add_office(code: str, where: list[str]) -> object:
    def run(s: Session) -> int:
        where.append(threading.current_thread().name)
        o = Office(name=f"Phường {code}", code=code)
        s.add(o)
        s.flush()
        return o.id or 0
    return run


def _codes(db: Database) -> list[str]:
    return db.read_sync(lambda s: sorted(s.execute(select(Office.code)).scalars()))


def test_an_urgent_write_runs_on_the_loop_when_the_writer_is_idle_and_an_ordinary_one_does_not() -> None:
    db, _ = _fresh()
    where: list[str] = []

    async def go() -> None:
        await db.write_staged(_add_office("U", where), urgent=True)
        await db.write_staged(_add_office("N", where))
    asyncio.run(go())
    assert where[0] == threading.main_thread().name
    assert where[1].startswith("qms-sqlite-writer")
    assert _codes(db) == ["N", "U"]


def test_an_urgent_write_goes_to_the_writer_thread_while_the_writer_is_busy() -> None:
    db, _ = _fresh()
    where: list[str] = []
    started, release = threading.Event(), threading.Event()

    def slow(s: Session) -> None:
        started.set()
        release.wait(5)
        s.add(Office(name="Phường chậm", code="SLOW"))

    async def go() -> list[float]:
        loop = asyncio.get_running_loop()
        background = loop.run_in_executor(None, db.write_sync, slow)  # e.g. a fold, in the writer's lock
        while not started.is_set():
            await asyncio.sleep(0.001)
        ticks: list[float] = []

        async def tick() -> None:
            while not release.is_set():
                ticks.append(time.monotonic())
                await asyncio.sleep(0.005)
        ticker = asyncio.create_task(tick())
        urgent = asyncio.create_task(db.write_staged(_add_office("U", where), urgent=True))
        await asyncio.sleep(0.1)
        assert not urgent.done()  # waiting for the writer, in the writer thread's queue...
        release.set()
        await asyncio.gather(background, urgent, ticker)
        return ticks
    ticks = asyncio.run(go())
    assert len(ticks) >= 10  # ...while the loop kept running
    assert where == [w for w in where if w.startswith("qms-sqlite-writer")] and len(where) == 1
    assert _codes(db) == ["SLOW", "U"]


def test_another_process_holding_the_database_sends_an_urgent_write_to_the_writer_thread() -> None:
    db, path = _fresh()
    where: list[str] = []
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another program writing to the same file

    async def go() -> float:
        loop = asyncio.get_running_loop()
        t0 = time.monotonic()
        urgent = asyncio.create_task(db.write_staged(_add_office("U", where), urgent=True))
        await asyncio.sleep(0)  # the urgent write tried the loop once and went to the writer thread
        stalled = time.monotonic() - t0
        await asyncio.sleep(0.2)
        assert not urgent.done()
        await loop.run_in_executor(None, other.rollback)
        await urgent
        return stalled
    stalled = asyncio.run(go())
    other.close()
    assert stalled < 0.5  # the loop did not sit in SQLite's 30 s busy wait
    assert len(where) == 1 and where[0].startswith("qms-sqlite-writer")  # the loop's BEGIN failed before it
    assert _codes(db) == ["U"]


def test_a_refused_urgent_write_changes_nothing_and_frees_the_writer() -> None:
    db, _ = _fresh()

    def refuse(s: Session) -> None:
        s.add(Office(name="Phường X", code="X"))
        s.flush()
        raise ApiError(409, "state_conflict", "no")

    async def go() -> None:
        with pytest.raises(ApiError):
            await db.write_staged(refuse, urgent=True)
        await db.write_staged(_add_office("U", []), urgent=True)
    asyncio.run(go())
    assert _codes(db) == ["U"]
