"""SQLite's WAL is checkpointed after writes, off the event loop, never inside a commit."""
from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from sqlmodel import Session, SQLModel

import server.db
import server.models  # all tables
import ticket_printer.models  # noqa: F401
from counters.models import Office
from server.db import Database

WRITES, ROWS, NAME = 40, 30, "Phường Bến Thành " * 250  # ~4 kB a row: 1,200 rows fill ~1,200 pages


def _offices(batch: int) -> object:
    def run(s: Session) -> None:
        for k in range(ROWS):
            s.add(Office(name=NAME, code=f"P{batch:03d}{k:03d}"))
    return run


def test_commits_fill_the_wal_without_checkpointing_and_a_later_checkpoint_moves_it_to_the_file(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server.db, "CHECKPOINT_DELAY_S", 2.0)  # after the writes below (well under 2 s)
    path = Path(tempfile.mkdtemp()) / "c.db"
    db = Database(f"sqlite:///{path}")
    SQLModel.metadata.create_all(db.engine)
    file_before = path.stat().st_size

    async def go() -> tuple[int, int]:
        for batch in range(WRITES):  # a request's writes, as a clerk's calls are written
            await db.write_admitted(_offices(batch))
        after_writes = path.stat().st_size, Path(f"{path}-wal").stat().st_size
        for _ in range(100):
            if db.last_checkpoint is not None:
                break
            await asyncio.sleep(0.05)
        return after_writes
    file_after_writes, wal_after_writes = asyncio.run(go())

    page = db.read_sync(lambda s: s.connection().exec_driver_sql("PRAGMA page_size").scalar())
    # far past SQLite's 1,000-page automatic checkpoint, and yet no commit copied a page into the file
    assert wal_after_writes > 1100 * page
    assert file_after_writes == file_before
    assert db.last_checkpoint is not None, "no checkpoint ran after the writes"
    busy, frames, copied = db.last_checkpoint
    assert busy == 0 and frames > 1100 and copied == frames
    # the database file alone (no WAL beside it) now holds every row
    alone = Path(tempfile.mkdtemp()) / "alone.db"
    shutil.copyfile(path, alone)
    with sqlite3.connect(alone) as c:
        assert c.execute("SELECT count(*) FROM office").fetchone()[0] == WRITES * ROWS
    db.dispose()


def test_the_writer_connection_has_automatic_checkpoints_off_and_readers_keep_them() -> None:
    db = Database(f"sqlite:///{Path(tempfile.mkdtemp()) / 'p.db'}")
    with db.engine.connect() as w, db.read_engine.connect() as r:
        assert w.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        assert r.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    db.dispose()
