"""The database engine and the two ways to use it: `read` and `write` (one transaction each).

SQLite (the embedded default): WAL mode, full fsync on commit (a ticket that got its 201 survives a
crash), one writer thread whose transactions start with BEGIN IMMEDIATE (Datasette's execute_write_fn),
readers on their own connections. PostgreSQL: a pool of writer threads; the queue's claims use row
locks, and transactions that lose a deadlock or serialization race are retried.
`write` returns the events the transaction sealed so the caller publishes them after the commit.

`write_staged` (the API's writes) leaves the report facts to a later fold on SQLite: the transaction
commits the rows and the numbered events, the caller publishes and answers, and the facts and rollups
of the tickets it touched are folded FOLD_DELAY_S later in one transaction with those of every write in
between (`events.reconcile_facts`: idempotent, so `recover_folds` at start-up redoes a fold a crash
lost). A burst of calls is one fold, run once they have gone out to the displays. Reads of
facts (`settle_folds`, awaited by every API read) fold what is pending first, so a report or the live
view includes every write answered before it. The durable record of an acknowledged call is the first
commit (synchronous=FULL); facts are derived. PostgreSQL folds inside the transaction (its many writer
threads would otherwise race on a fact).

An `urgent` API write (a clerk's call, which the lobby is waiting for) runs on SQLite right on the event
loop when the writer is idle, instead of going to the writer thread and back: each of those two hand-offs
cost ~0.3 ms, and on a busy 2-core machine now and then a few ms, before the call reached a display. The
writer thread would hold the GIL for most of the transaction anyway. Both ways take the same lock, so
there is still one writer at a time; an urgent write never waits on the loop: if the writer is busy, or
another process holds the database (it then starts with no busy wait), it goes to the writer thread.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from counters.engine import events

from .drivers import require_database_driver
from .errors import ApiError
from .outbox import Outbox
from .private import private_sqlite

T = TypeVar("T")
log = logging.getLogger("qms.db")
RETRIES = 5
QUEUE_LIMIT_S = 5.0  # API writes are shed (503 busy) while the queue before the writers is this deep
FOLD_DELAY_S = 0.1  # report facts are folded this long after a write, with those of the writes in between
CHECKPOINT_DELAY_S = 1.0  # SQLite's WAL is checkpointed this long after a write (see `checkpoint_sync`)
# PostgreSQL: a connection attempt to a host that does not answer gives up after connect_timeout instead of
# the system's minutes; keepalives find a peer that vanished (a partition) while a connection sits idle
PG_CONNECT = {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
              "keepalives_count": 3}
POOL_TIMEOUT_S = 10.0  # a request waits this long for a pooled connection, then 503 database_unavailable
HEALTH_TIMEOUT_S = 3  # /healthz's own connection attempt


def normalize_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use psycopg 3 for them."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def _sqlite_engine(url: str, writer: bool) -> Engine:
    path = make_url(url).database
    if path and path != ":memory:" and not path.startswith("file:"):
        private_sqlite(path)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                           pool_size=1 if writer else 8, max_overflow=0 if writer else 8)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        if writer:  # its commits never checkpoint: Database.checkpoint_sync does, off the event loop
            cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if not writer:
            conn.exec_driver_sql("BEGIN")
        elif conn.get_execution_options().get(_NO_WAIT):  # on the event loop: fail at once if another process writes
            conn.exec_driver_sql("PRAGMA busy_timeout=0")
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            finally:
                conn.exec_driver_sql("PRAGMA busy_timeout=30000")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


_HELD = "qms_held_rows"
_NO_WAIT = "qms_no_wait"  # a connection execution option: begin without waiting for another process's write


@event.listens_for(Session, "loaded_as_persistent")
def _hold(session: Session, obj: object) -> None:
    """Write transactions keep every row they load alive until they end. The identity map holds rows
    weakly, so an office loaded by a handler is gone once the handler returns, and sealing its events
    would read it again; a transaction is short, so holding its rows costs little. (One listener for all
    sessions: registering one per transaction cost more.)"""
    held = session.info.get(_HELD)
    if held is not None:
        held.append(obj)


def _retryable(e: DBAPIError) -> bool:
    msg = str(e.orig).lower() if e.orig else str(e).lower()
    code = getattr(e.orig, "sqlstate", None)
    return code in ("40001", "40P01") or "database is locked" in msg or "deadlock" in msg


class Database:
    def __init__(self, url: str) -> None:
        require_database_driver(url)
        self.url = normalize_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        self._health_engine: Engine | None = None
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(self.url, writer=True)
            self.read_engine = _sqlite_engine(self.url, writer=False)
            self._writers = ThreadPoolExecutor(1, thread_name_prefix="qms-sqlite-writer")
            self._writing: threading.Lock | None = threading.Lock()  # the writer thread or an urgent write on the loop
        else:
            self.engine = create_engine(self.url, pool_size=20, max_overflow=10, pool_pre_ping=True,
                                        pool_timeout=POOL_TIMEOUT_S, connect_args=PG_CONNECT)
            self.read_engine = self.engine
            # the health check never waits on the pool: a fresh connection each time, with a short timeout
            self._health_engine = create_engine(self.url, poolclass=NullPool,
                                                connect_args={**PG_CONNECT, "connect_timeout": HEALTH_TIMEOUT_S})
            self._writers = ThreadPoolExecutor(20, thread_name_prefix="qms-db-writer")
            self._writing = None
        self._readers = ThreadPoolExecutor(8, thread_name_prefix="qms-db-reader")
        self._health = ThreadPoolExecutor(2, thread_name_prefix="qms-db-health")
        self._queued = 0  # API writes submitted and not finished (event loop only)
        self._queue_delay = 0.0
        self._last_write_done = 0.0  # monotonic time the latest API write finished
        self._unfolded: set[int] = set()  # tickets whose facts wait for the next fold (SQLite)
        self._fold_lock = asyncio.Lock()
        self._fold_timer: asyncio.TimerHandle | None = None
        self._checkpoint_timer: asyncio.TimerHandle | None = None
        self._checkpoint_task: asyncio.Task[None] | None = None
        self.last_checkpoint: tuple[int, int, int] | None = None  # (busy, frames in the WAL, frames copied)
        self.outbox = Outbox(cache=self.is_sqlite)  # webhook deliveries, written with their events

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def write_sync(self, fn: Callable[[Session], T]) -> tuple[T, list[dict[str, Any]]]:
        """Run `fn` in one write transaction; returns its result and the sealed event messages."""
        result, messages, _ = self._write(fn, fold=True)
        return result, messages

    def _write(self, fn: Callable[[Session], T], fold: bool) -> tuple[T, list[dict[str, Any]], list[int]]:
        """One write transaction; returns the result, the messages and the tickets left to fold."""
        with self._one_writer():
            return self._attempts(fn, fold, RETRIES)

    def _one_writer(self) -> AbstractContextManager[Any]:
        """Held by every SQLite write transaction, on the writer thread or (urgent) on the loop."""
        return self._writing if self._writing is not None else nullcontext()

    def _attempts(self, fn: Callable[[Session], T], fold: bool, tries: int,
                  no_wait: bool = False) -> tuple[T, list[dict[str, Any]], list[int]]:
        for attempt in range(tries):
            session = Session(self.engine, expire_on_commit=False)
            session.info[_HELD] = []
            try:
                with session.begin():
                    if no_wait:
                        session.connection(execution_options={_NO_WAIT: True})
                    result = fn(session)
                    sealed = events.seal_events(session, fold=fold)
                    self.outbox.enqueue(session, sealed)
                    messages = events.to_messages(session, sealed)
                self.outbox.committed(session)
                return result, messages, [] if fold else events.ticket_ids(sealed)
            except (OperationalError, DBAPIError) as e:
                events.discard(session)
                if attempt + 1 < tries and _retryable(e):
                    time.sleep(0.01 * (2 ** attempt))
                    continue
                raise
            except BaseException:
                events.discard(session)
                raise
            finally:
                self.outbox.ended(session)
                session.close()
        raise RuntimeError("unreachable")

    def read_sync(self, fn: Callable[[Session], T]) -> T:
        with Session(self.read_engine, expire_on_commit=False) as session:
            with session.begin():
                return fn(session)

    async def write(self, fn: Callable[[Session], T]) -> tuple[T, list[dict[str, Any]]]:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._writers, self.write_sync, fn)
        finally:
            self._checkpoint_soon()

    async def write_staged(self, fn: Callable[[Session], T], urgent: bool = False) -> tuple[T, list[dict[str, Any]]]:
        """`write` for the API: on SQLite the report facts are folded later, and an `urgent` write runs on the
        event loop when the writer is idle (see the module's docstring).

        A request's write is refused with 503 `busy` (nothing changed, retry shortly) while the writes
        queued before it have been waiting longer than QUEUE_LIMIT_S: past that, more queueing only makes
        every kiosk wait, and an overloaded server should answer at once rather than after a minute.
        """
        self.admit_write()
        loop = asyncio.get_running_loop()
        defer = self.is_sqlite
        queued_at = time.monotonic()

        def timed() -> tuple[T, list[dict[str, Any]], list[int]]:
            self._queue_delay = time.monotonic() - queued_at  # how long the latest write waited for a writer
            return self._write(fn, not defer)
        self._queued += 1
        try:
            done = self._write_here(fn) if urgent and self._queued == 1 else None
            if done is None:
                done = await loop.run_in_executor(self._writers, timed)
            result, messages, left = done
        finally:
            self._queued -= 1
            self._last_write_done = time.monotonic()
            self._checkpoint_soon()
        if left:
            self._unfolded.update(left)
            if self._fold_timer is None:
                self._fold_timer = loop.call_later(FOLD_DELAY_S, lambda: loop.create_task(self._fold_due()))
        return result, messages

    def _write_here(self, fn: Callable[[Session], T]) -> tuple[T, list[dict[str, Any]], list[int]] | None:
        """Run an urgent write on the calling (event loop) thread if the SQLite writer is free at once; None
        if it is not (busy here, or another process is writing), and nothing was changed."""
        if self._writing is None or not self._writing.acquire(blocking=False):
            return None
        try:
            self._queue_delay = 0.0
            return self._attempts(fn, False, 1, no_wait=True)
        except OperationalError as e:
            if _retryable(e):
                return None
            raise
        finally:
            self._writing.release()

    async def _fold_due(self) -> None:
        try:
            await self.settle_folds()
        except Exception:  # kept for the next fold; start-up recovery is the last resort
            log.exception("folding report facts failed; will try again")

    async def settle_folds(self) -> None:
        """Fold the facts of every write answered so far (a no-op when none wait)."""
        if not self._unfolded and not self._fold_lock.locked():
            return
        async with self._fold_lock:
            if self._fold_timer is not None:
                self._fold_timer.cancel()
                self._fold_timer = None
            if not self._unfolded:
                return
            tickets = sorted(self._unfolded)
            self._unfolded.clear()
            try:
                await asyncio.get_running_loop().run_in_executor(self._writers, self.fold_sync, tickets)
            except Exception:
                self._unfolded.update(tickets)  # the next fold (or start-up's recovery) takes them again
                raise

    def _checkpoint_soon(self) -> None:
        """Checkpoint CHECKPOINT_DELAY_S after a write, once for all the writes in between (SQLite)."""
        if not self.is_sqlite or self._checkpoint_timer is not None:
            return
        loop = asyncio.get_running_loop()

        def due() -> None:
            self._checkpoint_task = loop.create_task(self._checkpoint_due())
        self._checkpoint_timer = loop.call_later(CHECKPOINT_DELAY_S, due)

    async def _checkpoint_due(self) -> None:
        self._checkpoint_timer = None
        await self.lull()  # its fsync should not share the disk with a call's commit
        try:
            self.last_checkpoint = await asyncio.get_running_loop().run_in_executor(self._readers,
                                                                                    self.checkpoint_sync)
        except Exception:  # the next write schedules another; the WAL only grows meanwhile
            log.exception("checkpointing the SQLite WAL failed; will try again after the next write")

    def checkpoint_sync(self) -> tuple[int, int, int]:
        """Copy the WAL's committed pages into the database file; returns (busy, WAL frames, frames copied).

        PASSIVE: it waits for no reader or writer, and copies what it can. The writer's connection has
        SQLite's automatic checkpoint off, which would run inside whichever commit filled the WAL past 1,000
        pages; an urgent write commits on the event loop, and there a checkpoint's page writes and fsync
        would hold every display's socket. Run here on a reader's connection (the writer's is the writers'
        only one), outside any transaction.
        """
        with self.read_engine.connect() as conn:
            raw: Any = conn.connection.driver_connection
            busy, frames, copied = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(frames), int(copied)

    async def lull(self, gap_s: float = 0.05, at_most_s: float = 0.5) -> None:
        """Wait (up to `at_most_s`) for a moment with no API write in flight and none for `gap_s`: background
        work started then is less likely to share the GIL with a call being written and fanned out."""
        deadline = time.monotonic() + at_most_s
        while time.monotonic() < deadline:
            quiet = time.monotonic() - self._last_write_done
            if not self._queued and quiet >= gap_s:
                return
            await asyncio.sleep(max(0.005, gap_s - quiet) if not self._queued else 0.005)

    def admit_write(self) -> None:
        """Refuse (503 busy) a request's write while the queue before the writers is too deep; cheap, so the
        API asks before authenticating: under overload a refusal must cost next to nothing."""
        if self._queued and self._queue_delay > QUEUE_LIMIT_S:
            raise ApiError(503, "busy", "The server is busy; nothing was changed. Try again in a moment.",
                           retry=True, retry_after_s=1)

    def fold_sync(self, ticket_ids: list[int]) -> int:
        """Bring these tickets' report facts up to date with their events (one transaction)."""
        for attempt in range(RETRIES):
            try:
                with self._one_writer(), Session(self.engine, expire_on_commit=False) as session, session.begin():
                    return events.reconcile_facts(session, ticket_ids)
            except (OperationalError, DBAPIError) as e:
                if attempt + 1 < RETRIES and _retryable(e):
                    time.sleep(0.01 * (2 ** attempt))
                    continue
                raise
        raise RuntimeError("unreachable")

    def recover_folds(self) -> int:
        """At start-up: fold what a crash between a commit and its fold left out (a no-op otherwise)."""
        if not self.is_sqlite:
            return 0  # PostgreSQL folds inside the transaction
        with self._one_writer(), Session(self.engine) as session, session.begin():
            return events.reconcile_facts(session, events.recent_ticket_ids(session))

    async def read(self, fn: Callable[[Session], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._readers, self.read_sync, fn)

    def ping(self) -> bool:
        try:
            with (self._health_engine or self.read_engine).connect() as c:
                c.execute(text("SELECT 1"))
            return True
        except Exception as e:  # noqa: BLE001 - health check reports, never raises
            log.warning("database ping failed: %s", e)
            return False

    async def healthy(self) -> bool:
        """`ping` on the health threads, answered within HEALTH_TIMEOUT_S + 2 s whatever the database does:
        after an outage, requests may still hold every pooled connection and every reader thread, and a
        health check queued behind them would say nothing for as long as they hang."""
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._health, self.ping), HEALTH_TIMEOUT_S + 2)
        except TimeoutError:
            log.warning("database ping did not answer within %s s", HEALTH_TIMEOUT_S + 2)
            return False

    def dispose(self) -> None:
        for pending in (self._checkpoint_timer, self._checkpoint_task):
            if pending is not None:
                pending.cancel()
        self._writers.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self._health.shutdown(wait=False)
        self.engine.dispose()
        if self._health_engine is not None:
            self._health_engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
