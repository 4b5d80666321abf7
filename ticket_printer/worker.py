"""Print jobs in the database: enqueued in the issuing transaction, printed later by a worker.

Issuing only writes a `queued` row; it never waits for, or fails because of, the printer. The
`PrintWorker` (one per server process) wakes when a ticket is issued and once a second, claims due
jobs one printer at a time (a conditional UPDATE, so several processes can run it), prints in a
thread, and records the outcome. It is given the server's `write`/`read` functions rather than
importing the server (ticket_printer never imports server).
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from counters.models import Office, Ticket

from .hooks import PrintHooks
from .jobs import (
    SERVER_TRANSPORTS,
    ClaimedJob,
    PrinterConfig,
    announce_due_agent_jobs,
    claim,
    due_printers,
    expire_old,
    fail_stale,
    job_event,
    job_view,
    next_due_job,
    record_outcome,
)
from .models import Printer, PrintJob
from .printer_state import note_printer_state
from .printing import paper_status, print_ticket
from .transports import TransportError

T = TypeVar("T")
Write = Callable[[Callable[[Session], Any]], Awaitable[Any]]
log = logging.getLogger("qms.printing")

__all__ = ["PrintWorker", "enqueue", "job_view", "printer_for"]


def printer_for(session: Session, office: Office, kiosk_printer_id: int | None) -> Printer | None:
    """The kiosk's own printer, else the office's default printer, if either exists."""
    for pid in (kiosk_printer_id, office.default_printer_id):
        if pid is None:
            continue
        p = session.get(Printer, pid)
        if p is not None and not p.archived and p.office_id == office.id:
            return p
    return None


def enqueue(session: Session, office: Office, ticket: Ticket, kiosk_printer_id: int | None,
            base_url: str | None = None, *, hooks: PrintHooks) -> PrintJob | None:
    """A queued job for the ticket on its printer (and its `print.job` event), or None without a printer."""
    printer = printer_for(session, office, kiosk_printer_id)
    if printer is None:
        return None
    agent = printer.transport == "agent"  # announced now by the event; the agent claims it
    job = PrintJob(office_id=office.id or 0, ticket_id=ticket.id or 0, printer_id=printer.id or 0,
                   status="queued", created_at=ticket.issued_at,
                   next_attempt_at=None if agent else ticket.issued_at, base_url=base_url)
    session.add(job)
    session.flush()
    job_event(session, job, printer, ticket.issued_at, hooks)
    return job


class PrintWorker:
    """Prints the jobs of the printers this server reaches itself (network, USB, serial, file)."""

    def __init__(self, write: Write, read: Write, now: Callable[[], datetime], wakeup: asyncio.Event, *,
                 hooks: PrintHooks, public_url: str | None = None, poll_s: float = 1.0, housekeeping_s: float = 5.0,
                 probe_s: float = 30.0, threads: int = 4) -> None:
        self.write, self.read, self.now, self.wakeup = write, read, now, wakeup
        self.public_url, self.hooks = public_url, hooks
        self.poll_s, self.housekeeping_s, self.probe_s = poll_s, housekeeping_s, probe_s
        self.name = f"worker:{socket.gethostname()}:{os.getpid()}"
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="qms-printer")
        self._draining: dict[int, asyncio.Task[None]] = {}
        self._again: set[int] = set()  # woken while draining: look once more before stopping
        self._silent_until: dict[int, float] = {}  # printers that do not answer DLE EOT: ask again later
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._last_housekeeping = 0.0
        self._last_probe = time.monotonic()

    # ---- life cycle
    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="qms-print-worker")

    async def stop(self) -> None:
        self._stopping = True
        self.wakeup.set()
        tasks = [t for t in [self._task, *self._draining.values()] if t is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def run(self) -> None:
        while not self._stopping:
            self.wakeup.clear()  # a wake-up during the tick is kept for the wait below
            try:
                delay = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("print worker tick failed")
                delay = self.poll_s
            try:
                await asyncio.wait_for(self.wakeup.wait(), timeout=max(0.05, delay))
            except TimeoutError:
                pass

    async def tick(self) -> float:
        """Start draining every printer with due jobs; the seconds until the next job falls due."""
        now = self.now()
        mono = time.monotonic()
        if mono - self._last_housekeeping >= self.housekeeping_s:
            self._last_housekeeping = mono
            h = self.hooks
            await self.write(lambda s: (fail_stale(s, now, h), expire_old(s, now, h),
                                        announce_due_agent_jobs(s, now, h)))
        if mono - self._last_probe >= self.probe_s:
            self._last_probe = mono
            self._spawn(-1, self.probe_printers())
        due, later = await self.read(lambda s: due_printers(s, now))
        for pid in due:
            self._spawn(pid, self._drain(pid))
        if later is None:
            return self.poll_s
        return min(self.poll_s, (later - now).total_seconds())

    def _spawn(self, key: int, coro: Any) -> None:
        if key in self._draining and not self._draining[key].done():
            coro.close()
            self._again.add(key)
            return
        task = asyncio.create_task(coro)
        self._draining[key] = task

        def forget(t: asyncio.Task[None], k: int = key) -> None:
            if self._draining.get(k) is t:
                self._draining.pop(k, None)
        task.add_done_callback(forget)

    # ---- printing
    async def _drain(self, printer_id: int) -> None:
        """Print this printer's due jobs in order, one at a time (a printer takes one job at a time)."""
        while not self._stopping:
            now = self.now()

            def take(session: Session, now: datetime = now) -> ClaimedJob | None:
                job_id = next_due_job(session, printer_id, now)
                return (claim(session, job_id, self.name, now, self.public_url, self.hooks)
                        if job_id is not None else None)
            self._again.discard(printer_id)
            claimed = await self.write(take)
            if claimed is None:
                if printer_id in self._again:
                    continue
                return
            await self.print_claimed(claimed)

    async def print_claimed(self, job: ClaimedJob) -> None:
        loop = asyncio.get_running_loop()
        p = job.printer
        paper: str | None = None
        try:
            paper = await loop.run_in_executor(self._pool, self._paper, p)
            if paper == "out":
                raise TransportError(f"printer {p.name} is out of paper", permanent=False)
            await loop.run_in_executor(self._pool, partial(
                print_ticket, job.ticket, transport=p.transport, address=p.address, width_px=p.width_px,
                mode=p.mode, profile=p.profile))
        except TransportError as e:
            log.warning("print job %s (ticket %s) attempt %s failed: %s", job.job_id, job.ticket.display_number,
                        job.attempts, e.message)
            await self._outcome(job, printed=False, error=e.message, permanent=e.permanent,
                                online=paper == "out", paper=paper)
            return
        except Exception as e:
            log.exception("print job %s failed", job.job_id)
            await self._outcome(job, printed=False, error=f"internal error: {e}", permanent=True, online=False)
            return
        await self._outcome(job, printed=True, online=True, paper=paper)

    async def _outcome(self, job: ClaimedJob, **kw: Any) -> None:
        now = self.now()
        await self.write(lambda s: record_outcome(s, job.job_id, now, hooks=self.hooks, **kw))

    def _paper(self, p: PrinterConfig) -> str | None:
        """DLE EOT paper status before printing; None where the printer is known not to answer."""
        if self._silent_until.get(p.id, 0.0) > time.monotonic():
            return None
        paper = paper_status(p.transport, p.address)
        if paper == "unknown":
            self._silent_until[p.id] = time.monotonic() + 60.0
        return paper

    async def probe_printers(self) -> None:
        """Ask printers that are offline or short of paper how they are, so alerts clear without a job."""
        def which(session: Session) -> list[PrinterConfig]:
            rows = session.exec(select(Printer).where(Printer.archived == False,  # noqa: E712
                                                      col(Printer.transport).in_(SERVER_TRANSPORTS))).all()
            return [PrinterConfig.of(p) for p in rows if not p.online or p.paper in ("out", "near_end")]
        loop = asyncio.get_running_loop()
        for p in await self.read(which):
            try:
                paper = await loop.run_in_executor(self._pool, paper_status, p.transport, p.address)
                online, error = True, None
            except TransportError as e:
                paper, online, error = None, False, e.message
            await self.write(partial(_note, printer_id=p.id, now=self.now(), online=online, paper=paper, error=error,
                                     hooks=self.hooks))


def _note(session: Session, *, printer_id: int, now: datetime, online: bool, paper: str | None,
          error: str | None, hooks: PrintHooks) -> None:
    note_printer_state(session, printer_id, now, online=online, paper=paper, error=error, record=hooks.record)
