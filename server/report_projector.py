"""The report projector: folds the committed event log into report facts and rollups, after the commits.

Why: an action's transaction carries only the action (server/db.py); the reports are a projection of the
log, brought up to date by one folder per deployment from a stored checkpoint
(counters/projections/checkpoint.py: a batch and its checkpoint commit together, so a crash loses
neither half and a batch run twice folds once).

It is woken after each local commit (and folds FOLD_DELAY_S later, so a burst of calls is one batch, run
once they have gone out to the displays) and every TICK_S, to take other workers' commits. It folds in
batches of `batch` events on the writer thread(s), so on SQLite it is one more turn of the one writer.
At start-up it simply finds the checkpoints behind the log and catches up: there is no other recovery.

On PostgreSQL with several workers exactly one process folds: the one holding a session-level advisory
lock (`pg_try_advisory_lock`) on a dedicated connection. The others try again every ELECT_S; when the
leader dies its connection closes, the database releases the lock and another worker takes over.

Reads that must include every write answered before them (reports, the live view's figures, the
WebSocket snapshot) `await caught_up()`: it waits, at most WAIT_S, until the checkpoints reach each
office's last seq as it was when the read began.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from counters.projections import checkpoint

from .db import PG_CONNECT, Database

log = logging.getLogger("qms.reports")
FOLD_DELAY_S = 0.1  # a commit is folded this long after it, with those of the commits in between
TICK_S = 0.5  # how often the leader looks for other workers' commits
ELECT_S = 3.0  # how often a worker that is not the leader tries to become it
WAIT_S = 3.0  # a read waits at most this long for the fold of the writes answered before it
POLL_S = 0.02  # a read waiting on another process's fold looks at the checkpoints this often
RETRY_S = (0.5, 1.0, 2.0, 5.0)  # pauses after failed batches (the last repeats)
LOCK_KEY = 0x716D735F72707473  # "qms_rpts": the advisory lock of the deployment's report folder
LOCK_APPLICATION = "qms-report-projector"  # the lock connection's application_name (with the process id)


class ReportProjector:
    def __init__(self, db: Database, batch: int = 200, pause_s: float = 0.0) -> None:
        self.db = db
        self.batch = batch
        self.pause_s = pause_s  # tests only: hold each batch's transaction open this long
        self.leader = db.is_sqlite  # SQLite: one process, it folds; PostgreSQL: elected
        self.batches = 0  # batches committed by this process (non-empty)
        self._wakeup = asyncio.Event()
        self._hurry = asyncio.Event()  # a read waits: fold now, not FOLD_DELAY_S later
        self._folded = asyncio.Event()  # set (and replaced) after each pass
        self._clean_at = -1  # db.commits when a pass last found nothing behind
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._lock_engine: Engine | None = None
        self._lock_conn: Connection | None = None
        self._elector = ThreadPoolExecutor(1, thread_name_prefix="qms-report-election")

    # ---- life cycle
    def start(self) -> None:
        self.db.after_commit.append(self.wake)
        self._task = asyncio.create_task(self._run(), name="qms-report-projector")

    async def stop(self) -> None:
        if self.wake in self.db.after_commit:
            self.db.after_commit.remove(self.wake)
        self._stopping = True  # as well as the cancel: a wait that ends as it is cancelled may swallow it
        self._wakeup.set()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await asyncio.get_running_loop().run_in_executor(self._elector, self._resign)
        self._elector.shutdown(wait=False)

    def wake(self) -> None:
        self._wakeup.set()

    # ---- folding
    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            if not self.leader:
                self.leader = await asyncio.get_running_loop().run_in_executor(self._elector, self._elect)
                if not self.leader:
                    await asyncio.sleep(ELECT_S)
                    continue
                log.info("this worker folds the reports (elected)")
            try:
                async with asyncio.timeout(TICK_S):
                    await self._wakeup.wait()
                async with asyncio.timeout(FOLD_DELAY_S):
                    await self._hurry.wait()
            except TimeoutError:
                pass
            if self._stopping:
                return
            self._wakeup.clear()
            self._hurry.clear()
            try:
                await self._catch_up()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:  # nothing is lost: the checkpoint did not move, the next pass folds it
                log.exception("folding report facts failed; will try again")
                await asyncio.sleep(RETRY_S[min(failures, len(RETRY_S) - 1)])
                failures += 1
            finally:
                self._folded.set()
                self._folded = asyncio.Event()
            if not self.db.is_sqlite:
                self.leader = await asyncio.get_running_loop().run_in_executor(self._elector, self._still_leader)

    async def _catch_up(self) -> None:
        """Fold batches until one leaves nothing behind: then every commit counted before the pass is folded."""
        mark = self.db.commits
        if not await self._behind(None):  # a reader's look first: no turn of the writer when nothing is behind
            self._clean_at = mark
            return
        while True:
            folded, more = await self.db.on_writer(self.db.fold_reports_sync, self.batch, self.pause_s)
            if folded:
                self.batches += 1
            if not more:
                self._clean_at = mark
                return

    # ---- reads
    async def caught_up(self, office_ids: Iterable[int] | None = None) -> None:
        """Wait until the report facts include every event committed before this call (of these offices,
        or of all), or WAIT_S passed: then the read answers with what there is, and says so in the log."""
        if self.leader and self._clean_at == self.db.commits and self.db.is_sqlite:
            return  # this process is the only writer and its last pass found nothing behind since
        ids = list(office_ids) if office_ids is not None else None
        targets = {o: last for o, (_, last) in (await self._behind(ids)).items()}
        deadline = time.monotonic() + WAIT_S
        while targets:
            left = deadline - time.monotonic()
            if left <= 0:
                log.warning("report facts of %d office(s) are still being folded; answering with what there is",
                            len(targets))
                return
            if self.leader:
                self._hurry.set()
                self.wake()
                try:
                    async with asyncio.timeout(left):
                        await self._folded.wait()
                except TimeoutError:
                    continue
            else:
                await asyncio.sleep(min(POLL_S, left))
            now = await self._behind(list(targets))
            targets = {o: t for o, t in targets.items() if o in now and now[o][0] < t}

    async def _behind(self, office_ids: list[int] | None) -> dict[int, tuple[int, int]]:
        return await self.db.read(lambda s: checkpoint.behind(s, office_ids))

    # ---- election (PostgreSQL; on the election thread)
    def _elect(self) -> bool:
        try:
            if self._lock_conn is None:
                if self._lock_engine is None:
                    # named after this process, so an operator (or a test) sees in pg_stat_activity who folds
                    self._lock_engine = create_engine(self.db.url, poolclass=NullPool, connect_args={
                        **PG_CONNECT, "application_name": f"{LOCK_APPLICATION}:{os.getpid()}"})
                self._lock_conn = self._lock_engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got: Any = self._lock_conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar()
            return bool(got)
        except Exception as e:  # noqa: BLE001 - the database is away: not the leader, try again later
            log.warning("report projector election failed: %s", e)
            self._drop()
            return False

    def _still_leader(self) -> bool:
        """The lock lives as long as its connection: if that is gone, so is the leadership."""
        try:
            assert self._lock_conn is not None
            self._lock_conn.execute(text("SELECT 1"))
            return True
        except Exception as e:  # noqa: BLE001 - lost the connection, so the lock: let another worker fold
            log.warning("report projector lost its lock connection: %s", e)
            self._drop()
            return False

    def _drop(self) -> None:
        if self._lock_conn is not None:
            try:
                self._lock_conn.invalidate()
            except Exception:  # noqa: BLE001 - already broken
                pass
            self._lock_conn = None

    def _resign(self) -> None:
        if self._lock_conn is not None:
            try:
                self._lock_conn.close()  # closing the session releases its advisory lock
            except Exception:  # noqa: BLE001 - the database released it with the connection anyway
                pass
            self._lock_conn = None
        if self._lock_engine is not None:
            self._lock_engine.dispose()
