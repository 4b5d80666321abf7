"""The database engine and the two ways to use it: `read` and `write` (one transaction each).

SQLite (the embedded default): WAL mode, full fsync on commit (a ticket that got its 201 survives a
crash), one writer thread whose transactions start with BEGIN IMMEDIATE (Datasette's execute_write_fn),
readers on their own connections. PostgreSQL: a pool of writer threads; the queue's claims use row
locks, and transactions that lose a deadlock or serialization race are retried.
`write` returns the events the transaction sealed so the caller publishes them after the commit.

A write transaction holds an action and nothing else: its rows, its numbered events, its outbound
deliveries (the outbox). Every write, a clerk's call included, runs on the writer thread(s), behind the
write admission (`write_admitted`: 503 busy when the queue is too deep). Report facts and rollups are
folded after the commit by the report projector (server/report_projector.py) in its own transactions
(`fold_reports_sync`: a batch of events past the stored checkpoint and the checkpoint, together), on
the same writer threads; the callbacks in `after_commit` wake it after each local write.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from counters.engine import events
from counters.projections import checkpoint

from .drivers import require_database_driver
from .errors import ApiError
from .outbox import Outbox
from .private import private_sqlite

T = TypeVar("T")
log = logging.getLogger("qms.db")
RETRIES = 5
QUEUE_LIMIT_S = 5.0  # API writes are shed (503 busy) while the queue before the writers is this deep
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
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine




def _retryable(e: DBAPIError) -> bool:
    msg = str(e.orig).lower() if e.orig else str(e).lower()
    code = getattr(e.orig, "sqlstate", None)
    return code in ("40001", "40P01") or "database is locked" in msg or "deadlock" in msg


def _retrying(attempt: Callable[[], T]) -> T:
    """Run one transaction; again, after a short backoff, when it lost a deadlock or serialization race or
    found the database locked (`_retryable`), up to RETRIES times."""
    for n in range(RETRIES):
        try:
            return attempt()
        except (OperationalError, DBAPIError) as e:
            if n + 1 < RETRIES and _retryable(e):
                time.sleep(0.01 * (2 ** n))
                continue
            raise
    raise RuntimeError("unreachable")


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
        else:
            self.engine = create_engine(self.url, pool_size=20, max_overflow=10, pool_pre_ping=True,
                                        pool_timeout=POOL_TIMEOUT_S, connect_args=PG_CONNECT)
            self.read_engine = self.engine
            # the health check never waits on the pool: a fresh connection each time, with a short timeout
            self._health_engine = create_engine(self.url, poolclass=NullPool,
                                                connect_args={**PG_CONNECT, "connect_timeout": HEALTH_TIMEOUT_S})
            self._writers = ThreadPoolExecutor(20, thread_name_prefix="qms-db-writer")
        self._readers = ThreadPoolExecutor(8, thread_name_prefix="qms-db-reader")
        self._health = ThreadPoolExecutor(2, thread_name_prefix="qms-db-health")
        self._queued = 0  # API writes submitted and not finished (event loop only)
        self._queue_delay = 0.0
        self._last_write_done = 0.0  # monotonic time the latest API write finished
        self.commits = 0  # local write transactions that sealed events, committed so far (event loop only)
        self.after_commit: list[Callable[[], None]] = []  # called on the loop after each local commit
        self._checkpoint_timer: asyncio.TimerHandle | None = None
        self._checkpoint_task: asyncio.Task[None] | None = None
        self.last_checkpoint: tuple[int, int, int] | None = None  # (busy, frames in the WAL, frames copied)
        self.outbox = Outbox(cache=self.is_sqlite)  # webhook deliveries, written with their events

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def write_sync(self, fn: Callable[[Session], T]) -> tuple[T, list[dict[str, Any]]]:
        """Run `fn` in one write transaction; returns its result and the sealed event messages."""
        def once() -> tuple[T, list[dict[str, Any]]]:
            session = Session(self.engine, expire_on_commit=False)
            try:
                with session.begin():
                    result = fn(session)
                    sealed = events.seal_events(session)
                    self.outbox.enqueue(session, sealed)
                    messages = events.to_messages(session, sealed)
                self.outbox.committed(session)
                return result, messages
            except BaseException:
                events.discard(session)
                raise
            finally:
                self.outbox.ended(session)
                session.close()
        return _retrying(once)

    def read_sync(self, fn: Callable[[Session], T]) -> T:
        with Session(self.read_engine, expire_on_commit=False) as session:
            with session.begin():
                return fn(session)

    async def write(self, fn: Callable[[Session], T]) -> tuple[T, list[dict[str, Any]]]:
        try:
            done = await asyncio.get_running_loop().run_in_executor(self._writers, self.write_sync, fn)
        finally:
            self._checkpoint_soon()
        self._committed(done[1])
        return done

    async def write_admitted(self, fn: Callable[[Session], T]) -> tuple[T, list[dict[str, Any]]]:
        """`write` for a request, on the writer thread(s) like every write.

        A request's write is refused with 503 `busy` (nothing changed, retry shortly) while the writes
        queued before it have been waiting longer than QUEUE_LIMIT_S: past that, more queueing only makes
        every kiosk wait, and an overloaded server should answer at once rather than after a minute.
        """
        self.admit_write()
        queued_at = time.monotonic()

        def timed() -> tuple[T, list[dict[str, Any]]]:
            self._queue_delay = time.monotonic() - queued_at  # how long the latest write waited for a writer
            return self.write_sync(fn)
        self._queued += 1
        try:
            done = await asyncio.get_running_loop().run_in_executor(self._writers, timed)
        finally:
            self._queued -= 1
            self._last_write_done = time.monotonic()
            self._checkpoint_soon()
        self._committed(done[1])
        return done

    def _committed(self, messages: list[dict[str, Any]]) -> None:
        """A local commit sealed these events: count it and wake the projectors."""
        if not messages:
            return
        self.commits += 1
        for wake in self.after_commit:
            wake()

    async def on_writer(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on the writer thread(s): background writes such as a projector's batch queue
        with the requests' writes (on SQLite, one writer at a time)."""
        return await asyncio.get_running_loop().run_in_executor(self._writers, fn, *args)

    def fold_reports_sync(self, limit: int, pause_s: float = 0.0) -> tuple[int, bool]:
        """One report projector batch (see counters/projections/checkpoint.py): up to `limit` events past the
        checkpoint folded into facts and rollups, and the checkpoint moved past them, in one transaction.
        Returns how many events were folded and whether more may be left. `pause_s` (tests only) holds the
        transaction open before the commit, so a test can kill the process in the middle of a batch."""
        def once() -> tuple[int, bool]:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                folded, more = checkpoint.fold_batch(session, limit)
                if folded and pause_s:
                    time.sleep(pause_s)
                return folded, more
        return _retrying(once)

    def fold_all_reports_sync(self, limit: int = 2000) -> int:
        """Fold report batches until the checkpoint reaches the log (CLI, tests); returns the events folded."""
        total, more = self.fold_reports_sync(limit)
        while more:
            folded, more = self.fold_reports_sync(limit)
            total += folded
        return total

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
        pages: a clerk's call would then wait for the checkpoint's page writes and fsync. Run here on a
        reader's connection (the writer's is the writers' only one), outside any transaction.
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
