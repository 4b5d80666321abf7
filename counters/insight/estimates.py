"""Positions and expected waits (with an 80% range) of today's queue, for tickets, kiosks and `queue.updated`.

The wait model lives in `prediction.py` (a Monte Carlo of the office's calling rules); this module
gathers its inputs from the tables and keeps it cheap enough to run inside every write transaction
that changes the queue: a prediction is cached under the queue's shape (who waits where, which
counters serve what) and reused, counted down by the time elapsed, until the shape changes or it is
`MAX_AGE` old. Several calls within one transaction therefore cost one prediction.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import bindparam, case, event, func, select
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
from counters.types import Channel, CounterState, PriorityPolicy, TicketStatus, WaitFigures

T = TypeVar("T")

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


# A session's write generation: bumped by every flush and every ORM-level DML statement, so one
# transaction that asks for the same office's estimate twice without changing anything pays once.
_GENERATION = "qms_estimate_generation"
_MEMO = "qms_estimate_memo"


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _ctx: Any) -> None:
    session.info[_GENERATION] = session.info.get(_GENERATION, 0) + 1


@event.listens_for(Session, "do_orm_execute")
def _executed(state: Any) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        wrote(state.session)


def wrote(session: Session) -> None:
    """Say that this transaction changed rows past the ORM (a statement on its connection)."""
    session.info[_GENERATION] = session.info.get(_GENERATION, 0) + 1


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
    LATEST.learn(office.id or 0, snap, result)
    return result


# Inside write transactions (the single SQLite writer, PostgreSQL's per-office seq lock) the Monte Carlo
# is too slow to run on every issue; there the estimate is scaled from the office's latest full
# prediction, and the server refreshes the full prediction right after the commit (server/estimator.py).
QUICK = "qms_quick_estimates"
LATEST_MAX_AGE = timedelta(minutes=15)


class _LatestRates:
    """Per office and service: seconds of wait per place in the queue, and the 80% range's spread,
    as the last full prediction found them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[int, tuple[datetime, dict[int, tuple[float, float, float]]]] = {}

    def learn(self, office_id: int, snap: QueueSnapshot, result: dict[int, Prediction]) -> None:
        per: dict[int, list[tuple[int, Prediction]]] = {}
        places: dict[int, int] = {}
        for t in snap.waiting:
            places[t.service_id] = places.get(t.service_id, 0) + 1
            p = result.get(t.id)
            if p is not None and p.expected_s is not None:
                per.setdefault(t.service_id, []).append((places[t.service_id], p))
        rates = {}
        for sid, rows in per.items():
            place, last = rows[-1]
            exp = max(1.0, float(last.expected_s or 0))
            rates[sid] = (exp / place, (last.low_s or 0) / exp, (last.high_s or exp) / exp)
        with self._lock:
            self._items[office_id] = (snap.now, rates)

    def get(self, office_id: int, now: datetime) -> dict[int, tuple[float, float, float]]:
        with self._lock:
            hit = self._items.get(office_id)
        return hit[1] if hit and timedelta(0) <= now - hit[0] <= LATEST_MAX_AGE else {}


LATEST = _LatestRates()


def estimate_queue(session: Session, office: Office, day: date, now: datetime,
                   only_services: set[int] | None = None) -> QueueEstimate:
    """Position, expected wait and 80% range for every waiting ticket, and a summary per service.

    In QUICK mode (write transactions) only the per-service summary is computed, with SQL aggregates.
    """
    if session.info.get(QUICK):
        return _quick_estimate(session, office, day, now, only_services)
    session.flush()  # pending changes bump the generation first, so the memo never predates them (as `_memo`)
    key = (office.id, day, now, session.info.get(_GENERATION, 0))
    memo = session.info.get(_MEMO)
    if memo is None or memo[0] != key:
        memo = (key, _estimate(session, office, day, now))
        session.info[_MEMO] = memo
    full: QueueEstimate = memo[1]
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


def ticket_figures(session: Session, office: Office, ticket: Ticket, now: datetime) -> WaitFigures:
    """Position, expected wait, 80% range and whether a counter serves it now, for a waiting ticket;
    Nones (and `serving_now` True) for any other status."""
    if ticket.status != TicketStatus.WAITING:
        return WaitFigures(None, None, None, True)
    if session.info.get(QUICK):
        return _quick_ticket(session, office, ticket, now)
    est = estimate_queue(session, office, ticket.office_day, now, only_services={ticket.service_id})
    tid = ticket.id or 0
    return WaitFigures(est.positions.get(tid), est.waits.get(tid), est.ranges.get(tid), tid not in est.unserved)


def ticket_estimate_range(session: Session, office: Office, ticket: Ticket, now: datetime
                          ) -> tuple[int | None, int | None, tuple[int, int] | None]:
    """(position, expected wait, 80% range) of a waiting ticket; Nones for any other status."""
    f = ticket_figures(session, office, ticket, now)
    return f.position, f.expected_s, f.range_s


def ticket_estimate(session: Session, office: Office, ticket: Ticket, now: datetime) -> tuple[int | None, int | None]:
    position, wait, _ = ticket_estimate_range(session, office, ticket, now)
    return position, wait


DEFAULT_SERVICE_S = 300.0


def _memo(session: Session, name: str, key: Any, compute: Callable[[], T]) -> T:
    """One answer per transaction while nothing is written: an issue asks for its ticket's place and its
    service's rates two or three times (the event, the queue summary, the response)."""
    session.flush()  # pending changes bump the generation first, so a hit never predates them
    memo: dict[Any, T] = session.info.setdefault(name, {})
    full_key = (key, session.info.get(_GENERATION, 0))
    if full_key not in memo:
        memo.clear()
        memo[full_key] = compute()
    return memo[full_key]


def _quick_rates(session: Session, office: Office, now: datetime) -> dict[int, tuple[float, float, float]]:
    """Seconds of wait per place per service: the latest full prediction's, else typical time ÷ counters."""
    return _memo(session, "qms_quick_rates", (office.id, now), lambda: _read_quick_rates(session, office, now))


# the quick path's statements run in every write that moves a queue: built once, bound per execution, and
# run on the session's connection, past the ORM's statement layer (its callers flush first: see `_memo`)
_OPEN_COUNTERS = select(col(Counter.service_ids), col(Counter.state)).where(
    col(Counter.office_id) == bindparam("office_id"), col(Counter.archived) == False)  # noqa: E712
_SERVICES = select(col(Service.id), col(Service.code), col(Service.archived)).where(
    col(Service.office_id) == bindparam("office_id"))
_WAITING = (select(col(Ticket.service_id), func.count(), func.min(col(Ticket.issued_at)))
            .where(col(Ticket.office_id) == bindparam("office_id"), col(Ticket.office_day) == bindparam("day"),
                   col(Ticket.status) == TicketStatus.WAITING)
            .group_by(col(Ticket.service_id)))


def _office_services(session: Session, office: Office) -> list[Any]:
    """(id, code, archived) of the office's services, once per transaction while nothing is written."""
    return _memo(session, "qms_quick_services", office.id,
                 lambda: list(session.connection().execute(_SERVICES, {"office_id": office.id})))


def _read_quick_rates(session: Session, office: Office, now: datetime) -> dict[int, tuple[float, float, float]]:
    learned = LATEST.get(office.id or 0, now)
    services = [sid for sid, _code, _archived in _office_services(session, office)]
    serving: dict[int, int] = {}
    if any(sid not in learned for sid in services):  # the open counters matter only where nothing was learned
        for ids, state in session.connection().execute(_OPEN_COUNTERS, {"office_id": office.id}).all():
            if state == CounterState.OPEN:
                for sid in ids or []:
                    serving[sid] = serving.get(sid, 0) + 1
    return {sid: learned.get(sid) or (DEFAULT_SERVICE_S / max(1, serving.get(sid, 0)), 0.5, 1.6)
            for sid in services}


_STAFFED = select(col(Counter.id), col(Counter.service_ids)).where(
    col(Counter.office_id) == bindparam("office_id"), col(Counter.archived) == False,  # noqa: E712
    col(Counter.state) == CounterState.OPEN)


def staffed_counters(session: Session, office: Office) -> dict[int, frozenset[int]]:
    """Open counters and the services they list, once per transaction while nothing is written."""
    return _memo(session, "qms_quick_staffed", office.id, lambda: {
        cast(int, cid): frozenset(ids or [])  # an id read from the table is never None
        for cid, ids in session.connection().execute(_STAFFED, {"office_id": office.id})})


def _quick_estimate(session: Session, office: Office, day: date, now: datetime,
                    only_services: set[int] | None) -> QueueEstimate:
    session.flush()  # the quick path reads on the connection, past the ORM's autoflush
    rows = {sid: (n, first) for sid, n, first in session.connection().execute(
        _WAITING, {"office_id": office.id, "day": day}).all()}
    rates = _quick_rates(session, office, now)
    serving = {sid for ids in staffed_counters(session, office).values() for sid in ids}
    summary = []
    for sid, code, archived in _office_services(session, office):
        if archived or (only_services is not None and sid not in only_services):
            continue
        n, first = rows.get(sid, (0, None))
        per, lo, hi = rates.get(sid, (DEFAULT_SERVICE_S, 0.5, 1.6))
        wait = int(per * n) if n else 0
        if first is not None and first.tzinfo is None:
            first = first.replace(tzinfo=UTC)
        on = sid in serving  # no counter serves it: no time promised
        summary.append({"id": sid, "service_id": sid, "code": code, "waiting": n,
                        "estimated_wait_s": wait if on else None,
                        "estimated_wait_range_s": [int(wait * lo), int(wait * hi)] if n and on else None,
                        "longest_wait_s": int((now - first).total_seconds()) if first is not None else 0,
                        "serving_now": on})
    return QueueEstimate({}, {}, {}, summary)


def _quick_ticket(session: Session, office: Office, ticket: Ticket, now: datetime) -> WaitFigures:
    return _memo(session, "qms_quick_ticket", (ticket.id, ticket.queue_at, now),
                 lambda: _read_quick_ticket(session, office, ticket, now))


def _read_quick_ticket(session: Session, office: Office, ticket: Ticket, now: datetime) -> WaitFigures:
    """Place in its own queue by one COUNT (strict priority, then queue time), wait scaled from rates."""
    mine = (col(Ticket.target_counter_id) == ticket.target_counter_id) if ticket.target_counter_id else \
        ((col(Ticket.service_id) == ticket.service_id) & col(Ticket.target_counter_id).is_(None))
    if ticket.priority is not None:
        ahead = col(Ticket.priority).is_not(None) & ((col(Ticket.queue_at) < ticket.queue_at)
                                                      | ((col(Ticket.queue_at) == ticket.queue_at)
                                                         & (col(Ticket.id) < ticket.id)))
    else:
        ahead = col(Ticket.priority).is_not(None) | ((col(Ticket.queue_at) < ticket.queue_at)
                                                      | ((col(Ticket.queue_at) == ticket.queue_at)
                                                         & (col(Ticket.id) < ticket.id)))
    position = int(session.connection().execute(select(func.count()).select_from(Ticket).where(
        col(Ticket.office_id) == ticket.office_id, col(Ticket.office_day) == ticket.office_day,
        col(Ticket.status) == TicketStatus.WAITING, mine, ahead)).scalar_one())
    staffed = staffed_counters(session, office)
    if not (ticket.target_counter_id in staffed if ticket.target_counter_id
            else any(ticket.service_id in ids for ids in staffed.values())):
        return WaitFigures(position, None, None, False)
    per, lo, hi = _quick_rates(session, office, now).get(ticket.service_id, (DEFAULT_SERVICE_S, 0.5, 1.6))
    wait = int(per * (position + 1))
    return WaitFigures(position, wait, (int(wait * lo), int(wait * hi)), True)
