"""This worker's live models (counters/projections/live_model.py), kept current from every published event.

Every message the pub/sub hands this worker (its own writes and, with Redis, other workers') is applied
to the office's model, in `seq` order and idempotently; an office is loaded from the database on first
need, and again after a gap in its `seq`, a set-up change the events do not spell out, or a new office day.

After a write commits, `committed` applies its events at once (before the answer is built) and publishes
a `queue.updated` frame for the services the write touched. A frame is derived, not an action: it carries
the office's latest `seq` (the event it reflects) without taking a slot, is not stored in the log, and so
is never replayed; a client that reconnects gets the waits in its snapshot.

The models belong to this object (one per app), not to the process. The event loop applies and reads
them; the print worker reads them from its threads, hence the lock.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from counters.clock import iso, office_day
from counters.models import Ticket
from counters.projections import live_model
from counters.projections.live_model import QUEUE_TYPES, Applied, OfficeLive
from counters.types import WaitFigures

from .audience import DERIVED_TYPES

log = logging.getLogger("qms.live")


def queue_frame(model: OfficeLive, now: datetime, services: list[dict[str, Any]],
                refined: bool = False) -> dict[str, Any]:
    """A `queue.updated` frame: the contract's envelope, `seq` the latest event it reflects."""
    data: dict[str, Any] = {"services": services}
    if refined:
        data["refined"] = True
    return {"type": "queue.updated", "seq": model.seq, "at": iso(now, model.timezone),
            "office_id": model.office_id, "data": data}


class LiveProjector:
    def __init__(self, read: Callable[[Callable[[Session], Any]], Awaitable[Any]], now: Callable[[], datetime],
                 publish: Callable[[list[dict[str, Any]]], Awaitable[None]]) -> None:
        self.read, self.now, self.publish = read, now, publish
        self.offices: dict[int, OfficeLive] = {}
        self._loading: dict[int, asyncio.Future[OfficeLive | None]] = {}
        self._stale: set[int] = set()
        self._pending: dict[int, list[dict[str, Any]]] = {}  # events that arrived while their office loaded
        self._lock = threading.Lock()
        self.loads = 0  # how many times an office was read from the database (tests and metrics)

    # ---- following the stream
    def apply(self, messages: list[dict[str, Any]]) -> dict[int, set[int]]:
        """Apply event messages (derived frames are skipped); returns the services touched per office."""
        touched: dict[int, set[int]] = {}
        with self._lock:
            for m in messages:
                office_id = int(m["office_id"])
                model = self.offices.get(office_id)
                if m.get("type") in DERIVED_TYPES:
                    if model is not None and (m.get("data") or {}).get("refined"):
                        model.learn_frame(m["data"].get("services") or [], live_model.parse_at(m["at"]))
                    continue
                if model is None:
                    if office_id in self._loading:  # the load may have read before this event committed
                        self._pending.setdefault(office_id, []).append(m)
                    continue  # otherwise loaded on first need, with this event in it
                if m["type"] in QUEUE_TYPES:
                    touched.setdefault(office_id, set()).update(model.touched(m))
                done = model.apply(m)
                if done in (Applied.GAP, Applied.RELOAD):
                    if done is Applied.GAP:
                        log.info("office %s: live model missed events before seq %s; loading it again",
                                 office_id, m["seq"])
                    del self.offices[office_id]
                    self._stale.add(office_id)
        return touched

    async def committed(self, messages: list[dict[str, Any]]) -> None:
        """After this worker's commit (and publish): apply, then publish `queue.updated` for what moved."""
        touched = self.apply(messages)
        offices = {int(m["office_id"]) for m in messages if m.get("type") in QUEUE_TYPES}
        frames = []
        now = self.now()
        for office_id in sorted(offices):
            model = await self.office(office_id)
            if model is None:
                continue
            only = touched.get(office_id) or _services_of(messages, office_id)
            with self._lock:
                frames.append(queue_frame(model, now, model.summary(now, only)))
        if frames:
            await self.publish(frames)

    # ---- reading
    async def office(self, office_id: int) -> OfficeLive | None:
        """The office's current model, loaded when missing, stale or of another office day."""
        model = self.offices.get(office_id)
        now = self.now()
        if model is not None and office_day(now, model.timezone) == model.day:
            return model
        pending = self._loading.get(office_id)
        if pending is None:
            pending = self._loading[office_id] = asyncio.ensure_future(self._load(office_id, now))
            pending.add_done_callback(lambda _f: self._loading.pop(office_id, None))
        return await asyncio.shield(pending)

    async def _load(self, office_id: int, now: datetime) -> OfficeLive | None:
        self.loads += 1
        model: OfficeLive | None = await self.read(lambda s: live_model.load(s, office_id, now))
        with self._lock:
            old = self.offices.get(office_id)
            if model is None:
                self.offices.pop(office_id, None)
            elif old is None or old.seq < model.seq or old.day != model.day:
                if old is not None:  # what the full predictions taught survives a reload
                    model.rates, model.rates_at = old.rates, old.rates_at
                self.offices[office_id] = model
            else:
                model = old  # events applied while loading already took it further
            self._stale.discard(office_id)
            late = self._pending.pop(office_id, [])
        if model is not None and late:
            self.apply(late)
            model = self.offices.get(office_id)
        return model

    async def figures(self, office_id: int, ticket_id: int) -> WaitFigures:
        model = await self.office(office_id)
        if model is None:
            return WaitFigures(None, None, None, True)
        with self._lock:
            return model.figures(ticket_id, self.now())

    async def with_figures(self, view: dict[str, Any]) -> dict[str, Any]:
        """A ticket view (answer) with its place and wait from the live model, after the commit."""
        if view.get("status") != "waiting":
            return view
        f = await self.figures(int(view["office_id"]), int(view["id"]))
        view.update(position=f.position, estimated_wait_s=f.expected_s,
                    estimated_wait_range_s=list(f.range_s) if f.range_s else None, serving_now=f.serving_now)
        return view

    async def overlay(self, office_id: int, live: dict[str, Any]) -> dict[str, Any]:
        """The live view with its queue figures from the live model, so the view, the answers and the
        `queue.updated` frames tell one story (staffing and alerts keep the full prediction)."""
        model = await self.office(office_id)
        if model is None:
            return live
        with self._lock:
            rows = {row["id"]: row for row in model.summary(self.now())}
        for s in live.get("services", []):
            row = rows.get(s.get("id"))
            if row is not None:
                s.update({k: row[k] for k in ("waiting", "longest_wait_s", "estimated_wait_s",
                                              "estimated_wait_range_s", "serving_now")})
        if isinstance(live.get("totals"), dict):
            live["totals"]["waiting"] = sum(s.get("waiting", 0) for s in live.get("services", []))
        return live

    def figures_now(self, session: Session, ticket: Ticket, at: datetime) -> WaitFigures:
        """For the print worker's threads: the loaded model's figures, else one built from this session."""
        with self._lock:
            model = self.offices.get(ticket.office_id)
            if model is not None and office_day(at, model.timezone) == model.day:
                return model.figures(ticket.id or 0, at)
        built = live_model.load(session, ticket.office_id, at)
        return built.figures(ticket.id or 0, at) if built else WaitFigures(None, None, None, True)

    def learn(self, office_id: int, learn: Callable[[OfficeLive], None]) -> None:
        """Hand a full prediction's rates to the office's model (the refiner, on the event loop)."""
        with self._lock:
            model = self.offices.get(office_id)
            if model is not None:
                learn(model)


def _services_of(messages: list[dict[str, Any]], office_id: int) -> set[int]:
    out: set[int] = set()
    for m in messages:
        if int(m["office_id"]) != office_id:
            continue
        data = m.get("data") or {}
        t, c = data.get("ticket"), data.get("counter")
        if isinstance(t, dict):
            out.add(int(t["service_id"]))
        if m["type"] == "counter.updated" and isinstance(c, dict):
            out.update(int(s) for s in c.get("service_ids") or [])
    return out

