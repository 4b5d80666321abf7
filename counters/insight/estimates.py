"""Positions and expected waits (with an 80% range) of today's queue from the tables: the full prediction.

The wait model lives in `prediction.py` (a Monte Carlo of the office's calling rules). This module gathers
its inputs from the tables for reads (the live view, lists of tickets) and for the refiner that runs after
the commits (server/estimator.py). Per-action figures (issue and track answers, `queue.updated` frames)
come from the live model (counters/projections/live_model.py), never from a write transaction. A
prediction is cached under the queue's whole shape and reused, counted down by the time elapsed, until
the shape changes or it is `MAX_AGE` old.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from counters.clock import zone
from counters.models import Appointment, Counter, Office, Service, Ticket
from counters.insight.prediction import (
    ArrivalRates,
    BookedVisit,
    OpenCounter,
    Prediction,
    QueueSnapshot,
    ServiceSample,
    ServiceTimeModel,
    WaitingTicket,
    predict,
)
from counters.insight.prediction_bookings import PRIOR as BOOKING_PRIOR
from counters.insight.prediction_bookings import BookingBehaviour, BookingOutcome
from counters.engine.queue import calling_order, servable_service_ids
from counters.types import Channel, CounterState, PriorityPolicy, TicketStatus


LEARN_WINDOW = timedelta(days=3)   # finished services the model learns from (weights halve every 3 h)
BOOKING_WINDOW = timedelta(days=14)  # bookings whose outcome teaches how booked citizens turn up
MAX_BOOKINGS = 1000  # the most recent ones: plenty for a share and a curve
MAX_AGE = timedelta(seconds=30)    # a cached prediction is counted down at most this long
CACHE_SIZE = 256
MAX_SAMPLES = 400
MIN_SERVICE_S = 20.0  # shorter "services" are a clerk skipping ahead, not a service: not learned from


@dataclass(frozen=True)
class QueueEstimate:
    positions: dict[int, int]
    waits: dict[int, int | None]
    ranges: dict[int, tuple[int, int] | None]
    services: list[dict[str, Any]]
    snapshot: QueueSnapshot | None = None
    model: ServiceTimeModel | None = None
    unserved: frozenset[int] = frozenset()  # waiting tickets no open counter can serve now


class _PredictionCache:
    """Predictions by queue shape; thread-safe (readers and writers run in thread pools)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[Any, tuple[datetime, dict[int, Prediction]]] = OrderedDict()

    def get(self, key: Any, now: datetime) -> tuple[datetime, dict[int, Prediction]] | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or not (timedelta(0) <= now - hit[0] <= MAX_AGE):
                return None
            self._items.move_to_end(key)
            return hit

    def put(self, key: Any, at: datetime, value: dict[int, Prediction]) -> None:
        with self._lock:
            self._items[key] = (at, value)
            self._items.move_to_end(key)
            while len(self._items) > CACHE_SIZE:
                self._items.popitem(last=False)


CACHE = _PredictionCache()


def _runs(n: int) -> int:
    """Fewer Monte Carlo runs for long queues: about 4000 simulated tickets per prediction, whatever the queue."""
    return max(30, min(300, 4000 // max(n, 1)))


def _counters(session: Session, office: Office, services: dict[int, Service]) -> tuple[OpenCounter, ...]:
    rows = session.execute(select(Counter).where(col(Counter.office_id) == office.id,
                                                 col(Counter.archived) == False,  # noqa: E712
                                                 col(Counter.state) != CounterState.CLOSED)
                           .order_by(col(Counter.id))).scalars().all()
    current_ids = [c.current_ticket_id for c in rows if c.current_ticket_id]
    current = ({t.id: t for t in session.execute(select(Ticket).where(
        col(Ticket.id).in_(current_ids))).scalars()} if current_ids else {})
    out = []
    for c in rows:
        cur = current.get(c.current_ticket_id)
        busy = cur is not None and cur.status in (TicketStatus.CALLED, TicketStatus.SERVING)
        out.append(OpenCounter(c.id or 0, c.desk, tuple(servable_service_ids(c, services)),
                               cur.service_id if busy and cur else None,
                               (cur.last_called_at or cur.called_at) if busy and cur else None,
                               "open" if c.state == CounterState.OPEN else "paused"))
    return tuple(out)


def _normals_since_priority(session: Session, office: Office, day: date) -> int:
    last = session.execute(select(func.max(Ticket.called_at)).where(
        col(Ticket.office_id) == office.id, col(Ticket.office_day) == day,
        col(Ticket.priority).is_not(None))).scalar_one_or_none()
    conds = [col(Ticket.office_id) == office.id, col(Ticket.office_day) == day, col(Ticket.priority).is_(None),
             col(Ticket.called_at).is_not(None)]
    if last is not None:
        conds.append(col(Ticket.called_at) > last)
    return int(session.execute(select(func.count()).select_from(Ticket).where(*conds)).scalar_one())


def waiting_rows(session: Session, office: Office, day: date) -> list[Any]:
    """Today's waiting tickets in calling order, as light rows (id, service_id, priority, queue_at, ...)."""
    return list(session.execute(
        select(col(Ticket.id), col(Ticket.service_id), col(Ticket.priority), col(Ticket.queue_at),
               col(Ticket.target_counter_id), col(Ticket.issued_at))
        .where(col(Ticket.office_id) == office.id, col(Ticket.office_day) == day,
               col(Ticket.status) == TicketStatus.WAITING)
        .order_by(*calling_order(office, None, True))).all())


def snapshot(session: Session, office: Office, day: date, now: datetime,
             services: dict[int, Service]) -> tuple[QueueSnapshot, list[Any]]:
    """The queue as `predict` sees it: waiting tickets in calling order and the open or paused counters."""
    waiting = waiting_rows(session, office, day)
    snap = QueueSnapshot(
        now=now, counters=_counters(session, office, services),
        waiting=tuple(WaitingTicket(t.id, t.service_id, t.priority is not None, t.queue_at, t.target_counter_id)
                      for t in waiting),
        priority_policy="interleave" if office.priority_policy == PriorityPolicy.INTERLEAVE else "strict",
        interleave_every=max(1, office.interleave_every),
        routing="ordered" if office.routing == "ordered" else "fifo",
        normals_since_priority=_normals_since_priority(session, office, day)
        if office.priority_policy == PriorityPolicy.INTERLEAVE else 0,
        booked=booked_visits(session, office, day, now))
    return snap, waiting


def booked_visits(session: Session, office: Office, day: date, now: datetime) -> tuple[BookedVisit, ...]:
    """The day's bookings still to come: booked, not checked in, not past their check-in window (after
    which they are missed), in start order. Each will queue as if issued at its start."""
    day_start = datetime.combine(day, datetime.min.time(), tzinfo=zone(office.timezone)).astimezone(UTC)
    rows = session.execute(select(col(Appointment.service_id), col(Appointment.start)).where(
        col(Appointment.office_id) == office.id, col(Appointment.status) == "booked",
        col(Appointment.start) >= max(day_start, now - timedelta(minutes=office.checkin_late_min)),
        col(Appointment.start) < day_start + timedelta(days=1)).order_by(col(Appointment.start))).all()
    return tuple(BookedVisit(sid, start) for sid, start in rows)


def booking_behaviour(session: Session, office: Office, now: datetime) -> BookingBehaviour:
    """How this office's booked citizens turn up, from the last 14 days' bookings whose outcome is known
    at `now` (today's included): checked in (at their ticket's issue time) or missed (not checked in by
    the end of the window, marked or not yet), as the prediction bench fits it (prediction_backtest.py).

    Read only when a prediction is refreshed: an outcome becomes known exactly when its booking leaves
    `booked_visits` (checked in, or its window closed), which is in the cache key."""
    late = timedelta(minutes=office.checkin_late_min)
    rows = session.execute(
        select(col(Appointment.start), col(Appointment.status), col(Ticket.issued_at))
        .outerjoin(Ticket, col(Ticket.id) == col(Appointment.ticket_id))
        .where(col(Appointment.office_id) == office.id, col(Appointment.start) >= now - BOOKING_WINDOW,
               col(Appointment.start) <= now + timedelta(minutes=office.checkin_early_min),
               col(Appointment.status).in_(("booked", "checked_in", "missed")))
        .order_by(col(Appointment.start).desc()).limit(MAX_BOOKINGS)).all()
    outcomes = []
    for start, status, checked_in_at in rows:
        if status == "checked_in" and checked_in_at is not None and checked_in_at <= now:
            outcomes.append(BookingOutcome(start, checked_in_at))
        elif status == "missed" or (status == "booked" and start + late < now):
            outcomes.append(BookingOutcome(start, None))
    return BookingBehaviour.fit(outcomes, early_s=office.checkin_early_min * 60.0, late_s=late.total_seconds())


def service_model(session: Session, office: Office, day: date, now: datetime) -> ServiceTimeModel:
    """Service times learned from the office's recent finished tickets (call to finish), and today's no-shows."""
    rows = session.execute(
        select(col(Ticket.service_id), col(Ticket.called_at), col(Ticket.last_called_at), col(Ticket.finished_at))
        .where(col(Ticket.office_id) == office.id,
               col(Ticket.office_day) >= day - LEARN_WINDOW,  # the (office, day) index
               col(Ticket.office_day) <= day, col(Ticket.status) == TicketStatus.DONE,
               col(Ticket.finished_at) >= now - LEARN_WINDOW, col(Ticket.finished_at) <= now)
        .order_by(col(Ticket.finished_at).desc()).limit(MAX_SAMPLES)).all()
    samples = [ServiceSample(sid, fin, (fin - (last or first)).total_seconds())
               for sid, first, last, fin in rows if fin is not None and (last or first) is not None
               and (fin - (last or first)).total_seconds() >= MIN_SERVICE_S]
    called, absent = session.execute(
        select(func.count(), func.sum(case((col(Ticket.status) == TicketStatus.NO_SHOW, 1), else_=0)))
        .where(col(Ticket.office_id) == office.id, col(Ticket.office_day) == day, col(Ticket.called_at).is_not(None))
    ).one()
    share = (absent or 0) / called if called else 0.0
    return ServiceTimeModel.fit(samples, now, no_show_share=min(share, 0.5))


def arrival_rates(session: Session, office: Office, day: date,
                  now: datetime) -> tuple[ArrivalRates, list[tuple[int, datetime]]]:
    """Walk-in rates only: a checked-in booking's ticket is already a visit of `snapshot.booked`."""
    issues = session.execute(select(col(Ticket.service_id), col(Ticket.priority), col(Ticket.issued_at)).where(
        col(Ticket.office_id) == office.id, col(Ticket.office_day) == day,
        col(Ticket.channel) != Channel.APPOINTMENT)).all()
    return (ArrivalRates.from_issues(((s, p is not None, at) for s, p, at in issues), now),
            [(s, at) for s, _, at in issues])


def _shape(office: Office, snap: QueueSnapshot, model: ServiceTimeModel) -> Any:
    counters = tuple((c.id, c.desk, c.service_ids, c.serving_service_id, c.serving_since, c.state)
                     for c in snap.counters)
    params = tuple(sorted((sid, round(p.mu, 3), round(p.sigma, 3)) for sid, p in model.services.items()))
    return (office.id, snap.waiting, counters, snap.priority_policy, snap.interleave_every, snap.routing,
            snap.normals_since_priority, params, round(model.no_show_share, 3), snap.booked)


def predictions(session: Session, office: Office, snap: QueueSnapshot, model: ServiceTimeModel,
                day: date) -> dict[int, Prediction]:
    """`predict` for the snapshot, from the cache when the queue's shape is unchanged (counted down)."""
    if not snap.waiting:
        return {}
    key = _shape(office, snap, model)
    hit = CACHE.get(key, snap.now)
    if hit is not None:
        at, cached = hit
        gone = int((snap.now - at).total_seconds())
        return {tid: Prediction(p.position, *(max(0, v - gone) if v is not None else None
                                              for v in (p.expected_s, p.low_s, p.high_s)))
                for tid, p in cached.items()}
    rates, _ = arrival_rates(session, office, day, snap.now)
    result = predict(snap, model, runs=_runs(len(snap.waiting)), seed=office.id or 0, arrivals=rates,
                     bookings=booking_behaviour(session, office, snap.now) if snap.booked else BOOKING_PRIOR)
    CACHE.put(key, snap.now, result)
    return result


def estimate_queue(session: Session, office: Office, day: date, now: datetime,
                   only_services: set[int] | None = None) -> QueueEstimate:
    """Position, expected wait and 80% range for every waiting ticket, and a summary per service."""
    full = _estimate(session, office, day, now)
    if only_services is None:
        return full
    return replace(full, services=[row for row in full.services if row["id"] in only_services])


def _estimate(session: Session, office: Office, day: date, now: datetime) -> QueueEstimate:
    services = {s.id or 0: s
                for s in session.execute(select(Service).where(col(Service.office_id) == office.id)).scalars()}
    snap, waiting = snapshot(session, office, day, now, services)
    model = service_model(session, office, day, now)
    pred = predictions(session, office, snap, model, day)
    # No open counter can serve these: no time is promised (API.md), only the place. A paused counter
    # does not count: the prediction guesses its clerk's return, which may be after lunch.
    open_ids = {c.id for c in snap.counters if c.state == "open"}
    serving = {sid for c in snap.counters if c.state == "open" for sid in c.service_ids}
    unserved = frozenset(t.id for t in snap.waiting if t.id in pred and (
        pred[t.id].expected_s is None
        or not (t.target_counter_id in open_ids if t.target_counter_id else t.service_id in serving)))
    positions = {tid: p.position for tid, p in pred.items()}
    waits = {tid: None if tid in unserved else p.expected_s for tid, p in pred.items()}
    ranges = {tid: (p.low_s, p.high_s) if p.low_s is not None and p.high_s is not None and tid not in unserved
              else None for tid, p in pred.items()}
    summary = []
    for sid, s in services.items():
        if s.archived:
            continue
        mine = [t for t in waiting if t.service_id == sid]
        last = mine[-1].id if mine else None
        summary.append({
            "id": sid, "service_id": sid, "code": s.code, "waiting": len(mine),
            "estimated_wait_s": (waits.get(last or 0) if mine else 0) if sid in serving else None,
            "estimated_wait_range_s": list(ranges[last or 0] or ()) or None if mine else None,
            "longest_wait_s": int((now - min(t.issued_at for t in mine)).total_seconds()) if mine else 0,
            "serving_now": sid in serving,
        })
    return QueueEstimate(positions, waits, ranges, summary, snap, model, unserved)
