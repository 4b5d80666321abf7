"""Refines wait estimates after the commit, off the writer.

Write transactions estimate waits quickly (counters/estimates.py QUICK mode). Right after a write that
moved an office's queue, this runs the full prediction in a reader thread (which also primes the cache
that reads use), and when the expected waits moved noticeably it records a `queue.updated` event with
them, so displays, kiosks and tracking pages show the refined figures within about a second.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlmodel import Session

from counters import events
from counters.clock import office_day
from counters.estimates import estimate_queue
from counters.models import Office
from counters.types import EventType

log = logging.getLogger("qms.estimator")
DEBOUNCE_S = 0.5
CPU_SHARE = 0.25  # after a refinement that took t seconds, wait at least t / CPU_SHARE before the next
MIN_CHANGE_S = 30
QUEUE_EVENTS = frozenset({"ticket.issued", "ticket.called", "ticket.cancelled", "ticket.transferred",
                          "ticket.finished", "ticket.no_show", "counter.updated"})


class Estimator:
    def __init__(self, qms: Any) -> None:
        self.qms = qms
        self._pending: dict[int, asyncio.Task[None]] = {}
        self._published: dict[int, dict[int, int | None]] = {}
        self._cost: dict[int, float] = {}

    def touch(self, messages: list[dict[str, Any]]) -> None:
        for office_id in {m["office_id"] for m in messages if m["type"] in QUEUE_EVENTS}:
            if office_id not in self._pending:
                self._pending[office_id] = asyncio.create_task(self._refine(office_id))

    async def _refine(self, office_id: int) -> None:
        try:
            await asyncio.sleep(max(DEBOUNCE_S, self._cost.get(office_id, 0.0) / CPU_SHARE))
            del self._pending[office_id]
            now = self.qms.now()
            started = time.perf_counter()

            def full(session: Session) -> list[dict[str, Any]] | None:
                office = session.get(Office, office_id)
                if office is None:
                    return None
                return estimate_queue(session, office, office_day(now, office.timezone), now).services
            services = await self.qms.db.read(full)
            self._cost[office_id] = time.perf_counter() - started
            if services is None:
                return
            waits = {row["id"]: row.get("estimated_wait_s") for row in services}
            before = self._published.get(office_id, {})
            if all(abs((waits.get(k) or 0) - (before.get(k) or 0)) < MIN_CHANGE_S for k in waits | before):
                return
            self._published[office_id] = waits
            await self.qms.write(lambda s: events.record(s, office_id, EventType.QUEUE_UPDATED, now,
                                                         {"services": services, "refined": True},
                                                         actor="system"))
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - estimates are advisory; the queue goes on without them
            self._pending.pop(office_id, None)
            log.exception("refining wait estimates for office %s failed", office_id)

    def stop(self) -> None:
        for t in self._pending.values():
            t.cancel()
