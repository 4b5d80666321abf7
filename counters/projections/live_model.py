"""The live model of one office: its queue as the event log says it is now, kept in memory.

Why: an action's transaction carries no estimate (DESIGN.md, "One write per action"). Positions and
expected waits for issue and track answers, printed tickets and `queue.updated` frames are computed from
this model, which every worker brings up to date from the committed events it sees, instead of reading
the database per request.

Pure: no I/O. `apply` takes the event messages (API.md envelope) in `seq` order and is idempotent by
`seq`; `load` (the only function given a session) builds the same model from the tables. A model built
by applying a day's events equals one loaded from the database at the same `seq` (tests check it).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any

from sqlmodel import Session, col, select

from counters.clock import office_day
from counters.insight.prediction import OpenCounter, Prediction, QueueSnapshot, ServiceSample, WaitingTicket
from counters.models import Counter, Office, OfficeSeq, Service, Ticket
from counters.types import CounterState, Desk, PriorityPolicy, Routing, TicketStatus, WaitFigures

DEFAULT_SERVICE_S = 300.0   # per place, per open counter, before anything was learned
DEFAULT_SPREAD = (0.5, 1.6)  # the 80% range around a quick estimate, before a full prediction
LEARN_WINDOW = timedelta(days=3)
MAX_SAMPLES = 400
MIN_SERVICE_S = 20.0  # shorter "services" are a clerk skipping ahead, not a service
RATES_MAX_AGE = timedelta(minutes=15)  # a full prediction's rates are trusted this long
BUSY = (TicketStatus.CALLED, TicketStatus.SERVING)
# Changes of an office's set-up that the events do not spell out completely (an archived service drops out
# of counters without a counter event): the model is loaded again after one.
RELOAD_TYPES = frozenset({"office.updated", "service.updated"})
# The events after which an office's waiting figures may have moved.
QUEUE_TYPES = frozenset({"ticket.issued", "ticket.called", "ticket.recalled", "ticket.started",
                         "ticket.finished", "ticket.no_show", "ticket.cancelled", "ticket.transferred",
                         "counter.updated"})


class Applied(Enum):
    OLD = "old"          # seq already applied: nothing done (idempotent)
    APPLIED = "applied"
    GAP = "gap"          # an earlier seq is missing: load the office again
    RELOAD = "reload"    # applied, but the model cannot follow this change: load the office again


@dataclass(frozen=True, slots=True)
class Waiting:
    id: int
    service_id: int
    priority: bool
    queue_at: datetime  # seconds precision, as the event says it
    target_counter_id: int | None
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class LiveCounter:
    id: int
    desk: str
    service_ids: tuple[int, ...]
    state: str
    ticket_id: int | None = None  # the ticket called or served now
    serving_service_id: int | None = None
    serving_since: datetime | None = None  # its latest call


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    id: int
    code: str


@dataclass
class OfficeLive:
    office_id: int
    seq: int
    day: date
    timezone: str
    priority_policy: str = "strict"
    interleave_every: int = 3
    routing: str = "fifo"
    services: dict[int, ServiceInfo] = field(default_factory=dict)  # not archived
    waiting: dict[int, Waiting] = field(default_factory=dict)       # today's waiting tickets
    counters: dict[int, LiveCounter] = field(default_factory=dict)  # open or paused (closed ones left out)
    samples: deque[ServiceSample] = field(default_factory=lambda: deque(maxlen=MAX_SAMPLES))  # oldest first
    rates: dict[int, tuple[float, float, float]] = field(default_factory=dict)  # from the latest full prediction
    rates_at: datetime | None = None

    # ---- following the log
    def apply(self, msg: dict[str, Any]) -> Applied:
        seq = int(msg["seq"])
        if seq <= self.seq:
            return Applied.OLD
        if seq != self.seq + 1:
            return Applied.GAP
        self.seq = seq
        kind, data = msg["type"], msg.get("data") or {}
        if kind in RELOAD_TYPES:
            return Applied.RELOAD
        if kind.startswith("ticket.") and isinstance(data.get("ticket"), dict):
            self._ticket(kind, data["ticket"], _at(msg["at"]))
        elif kind == "counter.updated" and isinstance(data.get("counter"), dict):
            self._counter(data["counter"])
        return Applied.APPLIED

    def touched(self, msg: dict[str, Any]) -> set[int]:
        """The services whose figures this event may move (before it is applied: a transfer's old queue)."""
        data = msg.get("data") or {}
        out: set[int] = set()
        t = data.get("ticket")
        if isinstance(t, dict):
            out.add(int(t["service_id"]))
            old = self.waiting.get(int(t["id"]))
            if old is not None:
                out.add(old.service_id)
        c = data.get("counter")
        if msg["type"] == "counter.updated" and isinstance(c, dict):
            out.update(int(s) for s in c.get("service_ids") or [])
            old_c = self.counters.get(int(c["id"]))
            if old_c is not None:
                out.update(old_c.service_ids)
        return out

    def _ticket(self, kind: str, t: dict[str, Any], at: datetime) -> None:
        tid = int(t["id"])
        if t.get("status") == TicketStatus.WAITING:
            issued = _at(t["issued_at"])
            if office_day(issued, self.timezone) == self.day:
                self.waiting[tid] = Waiting(tid, int(t["service_id"]), t.get("priority") is not None,
                                            _at(t.get("queue_at") or t["issued_at"]), t.get("target_counter_id"),
                                            issued)
        else:
            self.waiting.pop(tid, None)
        cid = t.get("counter_id")
        counter = self.counters.get(int(cid)) if cid is not None else None
        if kind in ("ticket.called", "ticket.recalled") and counter is not None:
            self.counters[counter.id] = replace(counter, ticket_id=tid, serving_service_id=int(t["service_id"]),
                                                serving_since=at)
        if kind == "ticket.finished" and t.get("finished_at"):
            start = counter.serving_since if counter is not None and counter.ticket_id == tid else None
            start = start or (_at(t["called_at"]) if t.get("called_at") else None)
            if start is not None:
                self._learn(int(t["service_id"]), _at(t["finished_at"]), start)

    def _learn(self, service_id: int, finished: datetime, start: datetime) -> None:
        duration = (finished - start).total_seconds()
        if duration >= MIN_SERVICE_S:
            self.samples.append(ServiceSample(service_id, finished, duration))

    def _counter(self, c: dict[str, Any]) -> None:
        cid = int(c["id"])
        if c.get("state") == CounterState.CLOSED:
            self.counters.pop(cid, None)
            return
        cur = c.get("current_ticket") or {}
        busy = cur.get("status") in BUSY
        old = self.counters.get(cid)
        tid = int(cur["id"]) if busy else None
        since = old.serving_since if old is not None and old.ticket_id == tid and tid is not None else \
            (_at(cur["called_at"]) if busy and cur.get("called_at") else None)
        services = tuple(int(s) for s in c.get("service_ids") or [])
        self.counters[cid] = LiveCounter(cid, c.get("desk") or Desk.STANDARD, services, c["state"], tid,
                                         int(cur["service_id"]) if busy else None, since)

    # ---- figures
    def open_services(self) -> dict[int, int]:
        """How many open counters list each service (a paused counter does not count: no time promised)."""
        out: dict[int, int] = {}
        for c in self.counters.values():
            if c.state == CounterState.OPEN:
                for sid in c.service_ids:
                    out[sid] = out.get(sid, 0) + 1
        return out

    def rate(self, service_id: int, now: datetime, open_services: dict[int, int]) -> tuple[float, float, float]:
        """Seconds of wait per place, and the 80% range's spread: the latest full prediction's, else the
        typical service time divided among the open counters that serve it."""
        if self.rates_at is not None and timedelta(0) <= now - self.rates_at <= RATES_MAX_AGE \
                and service_id in self.rates:
            return self.rates[service_id]
        return (DEFAULT_SERVICE_S / max(1, open_services.get(service_id, 0)), *DEFAULT_SPREAD)

    def learn(self, snap: QueueSnapshot, result: dict[int, Prediction]) -> None:
        """Keep a full prediction's wait per place per service, for the quick figures until the next one."""
        per: dict[int, tuple[int, Prediction]] = {}
        places: dict[int, int] = {}
        for t in snap.waiting:
            places[t.service_id] = places.get(t.service_id, 0) + 1
            p = result.get(t.id)
            if p is not None and p.expected_s is not None:
                per[t.service_id] = (places[t.service_id], p)
        rates = {}
        for sid, (place, last) in per.items():
            exp = max(1.0, float(last.expected_s or 0))
            rates[sid] = (exp / place, (last.low_s or 0) / exp, (last.high_s or exp) / exp)
        self.rates, self.rates_at = rates, snap.now

    def learn_frame(self, services: list[dict[str, Any]], at: datetime) -> None:
        """Keep a refined `queue.updated` frame's waits per place: every worker learns the same rates from
        the frame one of them computed (the wait of the last in line, over the number waiting)."""
        rates = {}
        for row in services:
            n, wait, spread = row.get("waiting") or 0, row.get("estimated_wait_s"), row.get("estimated_wait_range_s")
            if n and wait:
                exp = max(1.0, float(wait))
                low, high = spread if spread else (exp * DEFAULT_SPREAD[0], exp * DEFAULT_SPREAD[1])
                rates[int(row["id"])] = (exp / n, low / exp, high / exp)
        self.rates, self.rates_at = rates, at

    def _ahead_key(self, w: Waiting) -> tuple[int, datetime, int]:
        return (0 if w.priority else 1, w.queue_at, w.id)

    def figures(self, ticket_id: int, now: datetime) -> WaitFigures:
        """Place in its own queue (strict priority, then queue time) and the wait scaled from the rates;
        Nones (and `serving_now` True) for a ticket that is not waiting."""
        w = self.waiting.get(ticket_id)
        if w is None:
            return WaitFigures(None, None, None, True)
        key = self._ahead_key(w)
        position = sum(1 for o in self.waiting.values()
                       if o.target_counter_id == w.target_counter_id
                       and (w.target_counter_id is not None or o.service_id == w.service_id)
                       and self._ahead_key(o) < key)
        open_services = self.open_services()
        staffed = (any(c.id == w.target_counter_id and c.state == CounterState.OPEN for c in self.counters.values())
                   if w.target_counter_id else w.service_id in open_services)
        if not staffed:
            return WaitFigures(position, None, None, False)
        per, lo, hi = self.rate(w.service_id, now, open_services)
        wait = int(per * (position + 1))
        return WaitFigures(position, wait, (int(wait * lo), int(wait * hi)), True)

    def summary(self, now: datetime, only: set[int] | None = None) -> list[dict[str, Any]]:
        """`queue.updated`'s services: waiting count, expected wait of the last in line, its range, the longest
        wait so far and whether an open counter serves it."""
        open_services = self.open_services()
        by_service: dict[int, list[Waiting]] = {}
        for w in self.waiting.values():
            by_service.setdefault(w.service_id, []).append(w)
        out = []
        for sid, s in sorted(self.services.items()):
            if only is not None and sid not in only:
                continue
            mine = by_service.get(sid, [])
            n = len(mine)
            per, lo, hi = self.rate(sid, now, open_services)
            wait = int(per * n) if n else 0
            on = sid in open_services
            out.append({"id": sid, "service_id": sid, "code": s.code, "waiting": n,
                        "estimated_wait_s": wait if on else None,
                        "estimated_wait_range_s": [int(wait * lo), int(wait * hi)] if n and on else None,
                        "longest_wait_s": int((now - min(w.issued_at for w in mine)).total_seconds()) if mine else 0,
                        "serving_now": on})
        return out

    def snapshot(self, now: datetime) -> QueueSnapshot:
        """The queue as `predict` sees it (waiting in strict calling order; no bookings: the refiner adds them)."""
        waiting = sorted(self.waiting.values(), key=self._ahead_key)
        counters = tuple(OpenCounter(c.id, "do_it_now" if c.desk == Desk.DO_IT_NOW else "standard", c.service_ids,
                                     c.serving_service_id, c.serving_since,
                                     "open" if c.state == CounterState.OPEN else "paused")
                         for _, c in sorted(self.counters.items()))
        return QueueSnapshot(
            now=now, counters=counters,
            waiting=tuple(WaitingTicket(w.id, w.service_id, w.priority, w.queue_at, w.target_counter_id)
                          for w in waiting),
            priority_policy="interleave" if self.priority_policy == PriorityPolicy.INTERLEAVE else "strict",
            interleave_every=max(1, self.interleave_every),
            routing="ordered" if self.routing == Routing.ORDERED else "fifo")

    def state(self) -> dict[str, Any]:
        """Everything the model holds that the log decides, in a comparable form (for tests and audits)."""
        return {"seq": self.seq, "day": self.day, "services": dict(self.services),
                "waiting": dict(sorted(self.waiting.items())), "counters": dict(sorted(self.counters.items())),
                "samples": sorted((s.service_id, s.finished_at, round(s.duration_s)) for s in self.samples)}


def parse_at(text: str | datetime) -> datetime:
    """An event's office-local ISO time, as an aware UTC datetime."""
    return _at(text)


def _at(text: str | datetime) -> datetime:
    if isinstance(text, datetime):
        return text
    return datetime.fromisoformat(text).astimezone(UTC)


def _second(at: datetime) -> datetime:
    """As an event says a time: to the second (iso's precision)."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)


def load(session: Session, office_id: int, now: datetime) -> OfficeLive | None:
    """The office's model from the tables, at the seq its read saw (one read transaction)."""
    office = session.get(Office, office_id)
    if office is None:
        return None
    seq_row = session.get(OfficeSeq, office_id)
    day = office_day(now, office.timezone)
    model = OfficeLive(office_id, seq_row.last_seq if seq_row else 0, day, office.timezone,
                       str(office.priority_policy), office.interleave_every, str(office.routing))
    for s in session.exec(select(Service).where(col(Service.office_id) == office_id,
                                                col(Service.archived) == False)):  # noqa: E712
        model.services[s.id or 0] = ServiceInfo(s.id or 0, s.code)
    for t in session.exec(select(Ticket).where(col(Ticket.office_id) == office_id, col(Ticket.office_day) == day,
                                               col(Ticket.status) == TicketStatus.WAITING)):
        model.waiting[t.id or 0] = Waiting(t.id or 0, t.service_id, t.priority is not None, _second(t.queue_at),
                                           t.target_counter_id, _second(t.issued_at))
    counters = list(session.exec(select(Counter).where(col(Counter.office_id) == office_id,
                                                       col(Counter.archived) == False,  # noqa: E712
                                                       col(Counter.state) != CounterState.CLOSED)))
    current_ids = [c.current_ticket_id for c in counters if c.current_ticket_id]
    current = {t.id: t for t in session.exec(select(Ticket).where(col(Ticket.id).in_(current_ids)))} \
        if current_ids else {}
    for c in counters:
        cur = current.get(c.current_ticket_id)
        busy = cur is not None and cur.status in BUSY
        since = (cur.last_called_at or cur.called_at) if busy and cur is not None else None
        model.counters[c.id or 0] = LiveCounter(
            c.id or 0, c.desk, tuple(c.service_ids or []), c.state, cur.id if busy and cur else None,
            cur.service_id if busy and cur else None, _second(since) if since else None)
    rows = session.exec(
        select(Ticket.service_id, Ticket.called_at, Ticket.last_called_at, Ticket.finished_at)
        .where(col(Ticket.office_id) == office_id, col(Ticket.office_day) >= day - LEARN_WINDOW,
               col(Ticket.office_day) <= day, col(Ticket.status) == TicketStatus.DONE,
               col(Ticket.finished_at) >= now - LEARN_WINDOW, col(Ticket.finished_at) <= now)
        .order_by(col(Ticket.finished_at).desc()).limit(MAX_SAMPLES)).all()
    for sid, first, last, fin in reversed(rows):
        start = last or first
        if fin is not None and start is not None:
            model._learn(sid, _second(fin), _second(start))
    return model
