"""Refines wait estimates after the commit, off the writer and off the actions.

The figures of each action come from the live model's quick estimate (server/live_projector.py). Right
after a write that moved an office's queue, this runs the full prediction in a reader thread (which also
primes the cache that reads use), and when the expected waits moved noticeably (or the last refined
frame is REFRESH_S old) it publishes a refined `queue.updated` frame, from which every worker's live model
learns the waits per place: derived, with the office's latest `seq` and no slot of its own, never
written to the log. Displays, kiosks and tracking pages show the refined figures within about a second.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from sqlmodel import Session

from counters.clock import office_day
from counters.insight.estimates import QueueEstimate, estimate_queue
from counters.models import Office

from .live_projector import queue_frame

log = logging.getLogger("qms.estimator")
DEBOUNCE_S = 0.5
MAX_DELAY_S = 5.0
CPU_SHARE = 0.25  # of the host's cores, shared by its workers
MIN_CHANGE_S = 30
REFRESH_S = 300.0  # the live models' learned rates are kept fresh (they expire after 15 minutes)
QUEUE_EVENTS = frozenset({"ticket.issued", "ticket.called", "ticket.cancelled", "ticket.transferred",
                          "ticket.finished", "ticket.no_show", "counter.updated"})


class Estimator:
    """One refiner per process. Offices whose queue moved wait in a dirty set; each is refined once it has
    been still for DEBOUNCE_S, or MAX_DELAY_S after its first change if it never is: a burst of issues or
    a run of calls is one refinement, and its CPU and `queue.updated` frames stay out of the calls' way.
    After a refinement that took t seconds the refiner rests until t is `share` of the time gone by, where
    `share` is CPU_SHARE of this host's cores divided among its workers: however many offices are busy,
    refinements never take more than a quarter of the machine from the calls and issues themselves.
    """

    def __init__(self, qms: Any) -> None:
        self.qms = qms
        workers = max(1, int(getattr(getattr(qms, "settings", None), "workers", 1) or 1))
        self.share = min(1.0, CPU_SHARE * (os.cpu_count() or 1) / workers)
        self._dirty: dict[int, tuple[float, float]] = {}  # office → (first, last) change not yet refined
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._published: dict[int, dict[int, int | None]] = {}
        self._serving: dict[int, dict[int, bool]] = {}
        self._sent_at: dict[int, float] = {}  # office → monotonic time of its last refined frame

    def touch(self, messages: list[dict[str, Any]]) -> None:
        now = time.monotonic()
        for office_id in {m["office_id"] for m in messages if m["type"] in QUEUE_EVENTS}:
            first, _ = self._dirty.get(office_id, (now, now))
            self._dirty[office_id] = (first, now)
        if not self._dirty:
            return
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._run())
        assert self._wake is not None
        self._wake.set()

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._dirty:
                due = {o: min(last + DEBOUNCE_S, first + MAX_DELAY_S) for o, (first, last) in self._dirty.items()}
                office_id = min(due, key=due.__getitem__)
                early = due[office_id] - time.monotonic()
                if early > 0:
                    await asyncio.sleep(early)
                    continue
                await self.qms.db.lull()  # a call in flight goes first: its fan-out must not wait on the GIL
                if office_id not in self._dirty:
                    continue
                del self._dirty[office_id]
                started = time.perf_counter()
                await self._refine(office_id)
                took = time.perf_counter() - started
                await asyncio.sleep(took / self.share - took)

    async def _refine(self, office_id: int) -> None:
        try:
            now = self.qms.now()
            model = await self.qms.live.office(office_id)
            if model is None:
                return

            def full(session: Session) -> QueueEstimate | None:  # the bookings and arrivals come from the tables
                office = session.get(Office, office_id)
                if office is None:
                    return None
                return estimate_queue(session, office, office_day(now, office.timezone), now)
            est = await self.qms.db.read(full)
            if est is None:
                return
            services = est.services
            waits = {row["id"]: row.get("estimated_wait_s") for row in services}
            serving = {row["id"]: row.get("serving_now", True) for row in services}
            before = self._published.get(office_id, {})
            if all(abs((waits.get(k) or 0) - (before.get(k) or 0)) < MIN_CHANGE_S for k in waits | before) \
                    and serving == self._serving.get(office_id, serving) \
                    and time.monotonic() - self._sent_at.get(office_id, 0.0) < REFRESH_S:
                return  # nothing moved enough, no counter for a service opened or closed, rates still fresh
            self._published[office_id], self._serving[office_id] = waits, serving
            self._sent_at[office_id] = time.monotonic()
            model = await self.qms.live.office(office_id) or model  # its seq as of now: the read saw that far
            await self.qms.publish([queue_frame(model, now, services, refined=True)])
        except asyncio.CancelledError:
            raise
        except Exception:  # estimates are advisory; the queue goes on without them
            log.exception("refining wait estimates for office %s failed", office_id)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
