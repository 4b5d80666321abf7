"""Report rollups derived from the event log: one fact row per ticket and summed counters per period.

Why: a head's report over a year of a province (about 10 million tickets) cannot scan events in
300 ms. Every ticket event is folded into its `TicketFact` (times, wait, service time, rating) after its
commit, by the report projector (server/report_projector.py) reading the log from a stored checkpoint in
batches (projections/checkpoint.py calls `apply`); the fact's change is added to `ReportRollup` rows per
office day, ISO week, month, quarter and year, by dimension (day, hour, service, counter, clerk), with
histograms of wait and service times for percentiles over large selections. A range is read as whole
years, quarters, months and weeks and the days at its edges (reports.plan), so a year is a handful of
rows per key rather than 300: a province's year by clerk (1,200 keys) stays cheap.

Auditable: `rebuild` recomputes both tables from the events alone, with the same fold, and sets the
checkpoint where its fold ended; a test checks that it gives exactly what the projector's batches gave.
Targets (wait, do-it-now total, no-wait day) are taken from the office's and service's settings when the
fact is folded.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Index, Integer, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col

from counters.clock import UTCDateTime, zone
from counters.models import Event, Office, OfficeSeq, ProjectionCheckpoint, Service
from counters.engine.schedule import is_no_wait_day
from counters.tables import table_of
from counters.types import SATISFIED_RATINGS, Desk, EventType, TicketStatus

if TYPE_CHECKING:
    from counters.engine.events import NewEvent

# Histogram bucket upper edges in seconds (the last bucket is open): waits and services are read
# to about a minute where most of them lie, coarser in the long tail.
BUCKET_EDGES_S: tuple[int, ...] = (60, 120, 180, 240, 300, 420, 600, 780, 900, 1200, 1500, 1800, 2400,
                                   3000, 3600, 4800, 6000, 7200, 10800, 14400)
N_BUCKETS = len(BUCKET_EDGES_S) + 1
REPORTS = "reports"  # the report projection's name in projection_checkpoint
DIMENSIONS = ("day", "hour", "service", "counter", "clerk", "channel")
# the channel dimension's integer keys (a ticket's channel; a missed appointment counts under "appointment")
CHANNEL_KEYS = {"kiosk": 1, "staff": 2, "appointment": 3, "online": 4}
PERIODS = ("d", "w", "m", "q", "y")  # an office day; an ISO week (its Monday); a month, quarter, year (first day)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def year_start(day: date) -> date:
    return date(day.year, 1, 1)


def next_start(period: str, start: date) -> date:
    """The first day of the period after the one beginning on `start`."""
    if period == "d":
        return start + timedelta(days=1)
    if period == "w":
        return start + timedelta(days=7)
    months = {"m": 1, "q": 3, "y": 12}[period]
    year, month = divmod(start.month - 1 + months, 12)
    return date(start.year + year, month + 1, 1)


PERIOD_START = {"d": lambda d: d, "w": week_start, "m": month_start, "q": quarter_start, "y": year_start}


def service_key(code: str) -> int:
    """A service code as the rollups' integer key: services merge by code across a parent's branches."""
    return int.from_bytes(code.encode(), "big")


def service_code(key: int) -> str:
    return key.to_bytes(max(1, (key.bit_length() + 7) // 8), "big").decode(errors="replace")
SUMS = ("issued", "served", "no_show", "cancelled", "waited", "wait_sum_s", "within_target", "timed",
        "service_sum_s", "dni_done", "dni_within", "nw_waited", "nw_within", "ratings", "satisfied",
        "trips_rated", "trips_sum", "one_trip", "appointments", "appointments_missed")
WAIT_COLS = tuple(f"w{i}" for i in range(N_BUCKETS))
SERVICE_COLS = tuple(f"s{i}" for i in range(N_BUCKETS))
METRICS = SUMS + WAIT_COLS + SERVICE_COLS
TICKET_EVENTS = frozenset({EventType.TICKET_ISSUED, EventType.TICKET_CALLED, EventType.TICKET_RECALLED,
                           EventType.TICKET_STARTED, EventType.TICKET_FINISHED, EventType.TICKET_NO_SHOW,
                           EventType.TICKET_CANCELLED, EventType.TICKET_TRANSFERRED, EventType.FEEDBACK_RECEIVED})


def _when() -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class TicketFact(SQLModel, table=True):
    """What the events say about one ticket, for reports (exact percentiles read these rows)."""

    __tablename__ = "ticket_fact"
    __table_args__ = (Index("ix_ticket_fact_office_day", "office_id", "office_day"),)
    ticket_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    office_id: int
    office_day: date
    hour: int
    service_id: int
    counter_id: int | None = None
    clerk_id: int | None = None
    priority: bool = False
    status: str = TicketStatus.WAITING
    issued_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    called_at: datetime | None = _when()
    last_called_at: datetime | None = _when()
    started_at: datetime | None = _when()
    finished_at: datetime | None = _when()
    wait_s: int | None = None
    service_s: int | None = None
    total_s: int | None = None
    wait_target_s: int = 900
    do_it_now: bool = False
    total_target_s: int | None = None
    no_wait_day: bool = False
    rating: str | None = None
    trips: int | None = None  # the rating's answer to "how many trips" (1, 2, 3 = three or more), if asked
    channel: str = "kiosk"


class ReportRollup(SQLModel, table=True):
    """Sums of ticket facts per office, period, dimension and key, for an office and every office above it.

    Keys: hour 0-23, `service_key(code)`, a counter id or a clerk's user id (ids are unique across
    offices). A parent office has its own rows holding its branches' sums, so a province's report reads
    one office's rows. The primary key is the report query's order and, in SQLite, the table is
    clustered on it (WITHOUT ROWID): one office, one dimension, a range of periods is one contiguous read.
    """

    __tablename__ = "report_rollup"
    __table_args__ = {"sqlite_with_rowid": False}
    office_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    dim: str = Field(primary_key=True)
    period: str = Field(primary_key=True)
    start: date = Field(primary_key=True)
    key: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    issued: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    waited: int = 0
    wait_sum_s: int = 0
    within_target: int = 0
    timed: int = 0
    service_sum_s: int = 0
    dni_done: int = 0
    dni_within: int = 0
    nw_waited: int = 0
    nw_within: int = 0
    ratings: int = 0
    satisfied: int = 0
    trips_rated: int = 0  # ratings that answered the trips question, their sum, and those that said one trip
    trips_sum: int = 0
    one_trip: int = 0
    appointments: int = 0  # checked-in appointment tickets
    appointments_missed: int = 0  # bookings not checked in by the end of their window (appointment.missed)


for _col in WAIT_COLS + SERVICE_COLS:  # the histogram columns, added once rather than spelled out
    table_of(ReportRollup).append_column(
        Column(_col, Integer, nullable=False, default=0, server_default="0"))


def bucket(seconds: int) -> int:
    for i, edge in enumerate(BUCKET_EDGES_S):
        if seconds < edge:
            return i
    return len(BUCKET_EDGES_S)


# --------------------------------------------------------------------------- folding events into facts


@dataclass
class Fact:
    """A ticket fact while it is being folded (a plain object: cheap to copy, compare and insert)."""

    ticket_id: int
    office_id: int
    office_day: date
    hour: int
    service_id: int
    issued_at: datetime
    counter_id: int | None = None
    clerk_id: int | None = None
    priority: bool = False
    status: str = TicketStatus.WAITING
    called_at: datetime | None = None
    last_called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    wait_s: int | None = None
    service_s: int | None = None
    total_s: int | None = None
    wait_target_s: int = 900
    do_it_now: bool = False
    total_target_s: int | None = None
    no_wait_day: bool = False
    rating: str | None = None
    trips: int | None = None  # the rating's answer to "how many trips" (1, 2, 3 = three or more), if asked
    channel: str = "kiosk"

    def row(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


FACT_FIELDS = tuple(f.name for f in fields(Fact))


@dataclass
class Settings:
    """The office and service settings a fold needs (targets, desk, timezone)."""

    offices: dict[int, Office] = field(default_factory=dict)
    services: dict[int, Service] = field(default_factory=dict)
    _services_of: set[int] = field(default_factory=set)

    def owners(self, office_id: int) -> tuple[int, ...]:
        """The office and every office above it: the rollup rows a fact of this office counts in."""
        out, seen = [office_id], {office_id}
        parent = self.offices[office_id].parent_id if office_id in self.offices else None
        while parent is not None and parent not in seen and parent in self.offices:
            out.append(parent)
            seen.add(parent)
            parent = self.offices[parent].parent_id
        return tuple(out)

    def service_key(self, service_id: int) -> int:
        s = self.services.get(service_id)
        return service_key(s.code) if s else -service_id

    def load(self, session: Session, office_ids: Iterable[int]) -> Settings:
        wanted = set(office_ids)
        while True:  # the offices and their ancestors
            missing = [o for o in wanted if o not in self.offices]
            if not missing:
                break
            for o in session.execute(select(Office).where(col(Office.id).in_(missing))).scalars():
                self.offices[o.id or 0] = o
            wanted = {o.parent_id for o in self.offices.values() if o.parent_id is not None} - set(self.offices)
            if not wanted:
                break
        missing = [o for o in set(office_ids) if o not in self._services_of]
        if missing:
            for s in session.execute(select(Service).where(col(Service.office_id).in_(missing))).scalars():
                self.services[s.id or 0] = s
            self._services_of.update(missing)
        return self


def _targets(fact: Fact, settings: Settings) -> Fact:
    office = settings.offices.get(fact.office_id)
    service = settings.services.get(fact.service_id)
    no_wait = bool(office and is_no_wait_day(fact.office_day, office.no_wait_days))
    wait_min = (office.no_wait_target_min if no_wait and office else service.target_wait_min if service else 15)
    dni = bool(service and service.desk == Desk.DO_IT_NOW)
    return replace(fact, no_wait_day=no_wait, wait_target_s=wait_min * 60, do_it_now=dni,
                   total_target_s=((service.target_total_min or 10) * 60) if dni and service else None)


def _secs(a: datetime | None, b: datetime | None) -> int | None:
    return int(round((b - a).total_seconds())) if a is not None and b is not None else None


def _clerk(event: Event | NewEvent) -> int | None:
    ticket = (event.data or {}).get("ticket") or {}
    if ticket.get("clerk_id") is not None:
        return int(ticket["clerk_id"])
    if event.actor and event.actor.startswith("user:"):
        return int(event.actor.split(":", 1)[1])
    return None


def fold(fact: Fact | None, event: Event | NewEvent, settings: Settings) -> Fact | None:
    """The fact after one event (a new object; None while the ticket's issue is unknown)."""
    kind, at = event.type, event.at
    data = event.data or {}
    if kind == EventType.TICKET_ISSUED:
        office = settings.offices.get(event.office_id)
        tz = office.timezone if office else "Asia/Ho_Chi_Minh"
        local = at.astimezone(zone(tz))
        ticket = data.get("ticket") or {}
        return _targets(Fact(ticket_id=event.ticket_id or 0, office_id=event.office_id, office_day=local.date(),
                             hour=local.hour, service_id=event.service_id or 0, issued_at=at,
                             priority=ticket.get("priority") is not None,
                             channel=str(ticket.get("channel") or "kiosk")), settings)
    if fact is None:
        return None
    f = replace(fact)
    if kind == EventType.TICKET_CALLED:
        if f.called_at is None:
            f.called_at, f.wait_s = at, _secs(f.issued_at, at)
        f.last_called_at, f.status = at, TicketStatus.CALLED
        f.counter_id, f.clerk_id = event.counter_id, _clerk(event)
        if event.service_id and event.service_id != f.service_id:
            f = _targets(replace(f, service_id=event.service_id), settings)
    elif kind == EventType.TICKET_RECALLED:
        f.last_called_at = at
    elif kind == EventType.TICKET_STARTED:
        f.started_at, f.status = at, TicketStatus.SERVING
    elif kind == EventType.TICKET_FINISHED:
        f.finished_at, f.status = at, TicketStatus.DONE
        f.service_s = _secs(f.started_at or f.last_called_at, at)
        f.total_s = _secs(f.issued_at, at)
        f.counter_id = event.counter_id or f.counter_id
        f.clerk_id = _clerk(event) or f.clerk_id
    elif kind == EventType.TICKET_NO_SHOW:
        f.status = TicketStatus.NO_SHOW
    elif kind == EventType.TICKET_CANCELLED:
        f.status = TicketStatus.CANCELLED
    elif kind == EventType.TICKET_TRANSFERRED:
        f.status, f.started_at = TicketStatus.WAITING, None
        if event.service_id and event.service_id != f.service_id:
            f = _targets(replace(f, service_id=event.service_id), settings)
    elif kind == EventType.FEEDBACK_RECEIVED:
        rating = (data.get("feedback") or {}).get("rating") or data.get("rating")
        f.rating = str(rating) if rating else None
        trips = (data.get("feedback") or {}).get("trips")
        f.trips = int(trips) if isinstance(trips, int) and not isinstance(trips, bool) and trips > 0 else None
    return f


# --------------------------------------------------------------------------- what a fact adds to rollups

RowKey = tuple[int, str, date, str, int]  # office_id, period, start, dim, key (sorted: lock order)


def contributions(f: Fact | None, owners: Sequence[int], service: int) -> Iterator[tuple[RowKey, dict[str, int]]]:
    """The rollup rows one fact counts in (its office's and each ancestor's), and what it adds to each.

    `owners`: the fact's office and the offices above it; `service`: its service's `service_key`.
    """
    if f is None:
        return
    m: dict[str, int] = {"issued": 1}
    status = f.status
    if status == TicketStatus.DONE:
        m["served"] = 1
    elif status == TicketStatus.NO_SHOW:
        m["no_show"] = 1
    elif status == TicketStatus.CANCELLED:
        m["cancelled"] = 1
    if f.wait_s is not None:
        m["waited"], m["wait_sum_s"] = 1, f.wait_s
        m[WAIT_COLS[bucket(f.wait_s)]] = 1
        if f.wait_s <= f.wait_target_s:
            m["within_target"] = 1
        if f.no_wait_day:
            m["nw_waited"] = 1
            if f.wait_s <= f.wait_target_s:
                m["nw_within"] = 1
    if f.service_s is not None:
        m["timed"], m["service_sum_s"] = 1, f.service_s
        m[SERVICE_COLS[bucket(f.service_s)]] = 1
    if f.do_it_now and status == TicketStatus.DONE and f.total_s is not None:
        m["dni_done"] = 1
        if f.total_target_s is not None and f.total_s <= f.total_target_s:
            m["dni_within"] = 1
    if f.rating:
        m["ratings"] = 1
        if f.rating in SATISFIED_RATINGS:
            m["satisfied"] = 1
    if f.trips:
        m["trips_rated"], m["trips_sum"] = 1, f.trips
        if f.trips == 1:
            m["one_trip"] = 1
    if f.channel == "appointment":
        m["appointments"] = 1
    keys = [("day", 0), ("hour", f.hour), ("service", service), ("channel", CHANNEL_KEYS.get(f.channel, 0))]
    if f.counter_id is not None:
        keys.append(("counter", f.counter_id))
    if f.clerk_id is not None:
        keys.append(("clerk", f.clerk_id))
    yield from _spread(owners, f.office_day, keys, m)


def _spread(owners: Sequence[int], day: date, keys: Sequence[tuple[str, int]],
            m: dict[str, int]) -> Iterator[tuple[RowKey, dict[str, int]]]:
    """The rollup rows (every period level, each owner) that metrics `m` of one day count in."""
    coarse = (("w", week_start(day)), ("m", month_start(day)), ("q", quarter_start(day)), ("y", year_start(day)))
    for owner in owners:
        for dim, key in keys:
            yield (owner, "d", day, dim, key), m
            if dim != "day":  # a report by day reads day rows only
                for period, start in coarse:
                    yield (owner, period, start, dim, key), m


APPOINTMENT_MISSED = "appointment.missed"


def missed_contributions(event: Event | NewEvent, settings: Settings) -> Iterator[tuple[RowKey, dict[str, int]]]:
    """An `appointment.missed` event: one missed booking, counted on the office day and hour of its booked
    start, under its service and the "appointment" channel (it has no counter or clerk)."""
    start_iso = ((event.data or {}).get("appointment") or {}).get("start")
    if event.type != APPOINTMENT_MISSED or not start_iso or not event.service_id:
        return
    office = settings.offices.get(event.office_id)
    local = datetime.fromisoformat(start_iso).astimezone(zone(office.timezone if office else "Asia/Ho_Chi_Minh"))
    keys = [("day", 0), ("hour", local.hour), ("service", settings.service_key(event.service_id)),
            ("channel", CHANNEL_KEYS["appointment"])]
    yield from _spread(settings.owners(event.office_id), local.date(), keys, {"appointments_missed": 1})


def apply_missed(session: Session, batch: Sequence[Event | NewEvent]) -> None:
    """Fold a batch's `appointment.missed` events into the rollups (no ticket fact: a missed booking
    only adds to the sums; the checkpoint that moves with the batch makes it exactly once)."""
    missed = [e for e in batch if e.type == APPOINTMENT_MISSED]
    if not missed:
        return
    settings = Settings().load(session, {e.office_id for e in missed})
    deltas: dict[RowKey, dict[str, int]] = {}
    for e in missed:
        for key, m in missed_contributions(e, settings):
            row = deltas.setdefault(key, {})
            for name, v in m.items():
                row[name] = row.get(name, 0) + v
    upsert_rollups(session, deltas)


def add_into(totals: dict[RowKey, dict[str, int]], f: Fact | None, sign: int,
             owners: Sequence[int] | None = None, service: int | None = None) -> None:
    """Add (sign +1) or take away (-1) a fact's contributions; owners default to its own office."""
    if f is None:
        return
    for key, m in contributions(f, owners if owners is not None else (f.office_id,),
                                service if service is not None else f.service_id):
        row = totals.setdefault(key, {})
        for name, v in m.items():
            row[name] = row.get(name, 0) + sign * v


# --------------------------------------------------------------------------- writing


def insert_for(session: Session, table: Any) -> Any:
    """The dialect's INSERT (with ON CONFLICT) for this session's database."""
    return (postgresql.insert(table) if session.get_bind().dialect.name == "postgresql" else sqlite.insert(table))


ROLLUP_KEYS = ("office_id", "dim", "period", "start", "key")
_UPSERTS: dict[str, Any] = {}


def _rollup_upsert(dialect: str) -> Any:
    """One prepared upsert adding every metric (zeros included), built once per dialect: building
    `excluded` proxies per row was most of a transaction's cost."""
    stmt = _UPSERTS.get(dialect)
    if stmt is None:
        table = table_of(ReportRollup)
        metrics = [c.name for c in table.columns if c.name not in ROLLUP_KEYS]
        ins = (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table))
        stmt = ins.on_conflict_do_update(index_elements=list(ROLLUP_KEYS),
                                         set_={k: table.c[k] + ins.excluded[k] for k in metrics})
        _UPSERTS[dialect] = stmt
    return stmt


def upsert_rollups(session: Session, deltas: dict[RowKey, dict[str, int]]) -> None:
    """Add metric deltas (from `add_into`) to their rollup rows, creating missing rows: every period level
    of a fact moves in this one statement, which keeps a period's row equal to the sum of its days'."""
    table = table_of(ReportRollup)
    metrics = [c.name for c in table.columns if c.name not in ROLLUP_KEYS]
    rows = []
    for (office_id, period, start, dim, key), m in sorted(deltas.items()):  # sorted: a fixed lock order
        if not any(m.values()):
            continue
        rows.append({"office_id": office_id, "period": period, "start": start, "dim": dim, "key": key,
                     **{k: m.get(k, 0) for k in metrics}})
    if rows:
        session.execute(_rollup_upsert(session.get_bind().dialect.name), rows)


def _load_facts(session: Session, ticket_ids: Sequence[int]) -> dict[int, Fact]:
    rows = session.execute(select(*[table_of(TicketFact).c[n] for n in FACT_FIELDS])
                           .where(table_of(TicketFact).c.ticket_id.in_(ticket_ids))).all()
    return {r.ticket_id: Fact(**r._asdict()) for r in rows}


def apply(session: Session, batch: Sequence[Event | NewEvent]) -> None:
    """Fold a batch of events, in `seq` order per office and continuing from what the facts already reflect,
    into facts and rollups (called by checkpoint.fold_batch, with the checkpoint in the same transaction)."""
    relevant = [e for e in batch if e.type in TICKET_EVENTS and e.ticket_id]
    if not relevant:
        return
    settings = session.info.setdefault("qms_fact_settings", Settings()).load(session, {e.office_id for e in relevant})
    ids = sorted({e.ticket_id for e in relevant if e.ticket_id})
    before = _load_facts(session, ids)
    after: dict[int, Fact | None] = dict(before)
    for e in sorted(relevant, key=lambda e: (e.office_id, e.seq)):
        after[e.ticket_id or 0] = fold(after.get(e.ticket_id or 0), e, settings)
    deltas: dict[RowKey, dict[str, int]] = {}
    table = table_of(TicketFact)
    for tid in ids:
        old, new = before.get(tid), after.get(tid)
        if old == new or new is None:
            continue
        owners = settings.owners(new.office_id)
        if old is not None:
            add_into(deltas, old, -1, owners, settings.service_key(old.service_id))
        add_into(deltas, new, +1, owners, settings.service_key(new.service_id))
        if old is None:
            session.execute(table.insert().values(**new.row()))
        else:
            session.execute(table.update().where(table.c.ticket_id == tid).values(**new.row()))
    upsert_rollups(session, deltas)
    session.info.pop("qms_fact_settings", None)


def rebuild(session: Session, office_ids: Sequence[int] | None = None, chunk: int = 20_000) -> int:
    """Recompute facts and rollups from the event log alone (for audits and after a schema change).

    Folds each office's log up to its last seq as read first, and sets the report checkpoint there, so the
    projector goes on from where this fold ended (the checkpoint rows are locked first: a projector batch
    cannot run beside it). Returns the number of ticket facts written.
    """
    if office_ids is None:
        office_ids = [o for o in session.execute(select(col(Office.id))).scalars()]
    cutoff = _hold_checkpoints(session, office_ids)
    fact_t, roll_t = table_of(TicketFact), table_of(ReportRollup)
    settings = Settings().load(session, office_ids)
    owners_of = {o: settings.owners(o) for o in office_ids}
    rebuilt = set(office_ids) | {a for o in office_ids for a in owners_of[o]}
    if rebuilt - set(office_ids):  # an ancestor's rows also hold other branches: rebuild its whole tree
        return rebuild(session, None, chunk)
    session.execute(delete(fact_t).where(fact_t.c.office_id.in_(office_ids)))
    session.execute(delete(roll_t).where(roll_t.c.office_id.in_(office_ids)))
    written = 0
    totals: dict[RowKey, dict[str, int]] = defaultdict(dict)
    for office_id in office_ids:
        facts: dict[int, Fact | None] = {}
        upto = cutoff.get(office_id, 0)
        q = (select(Event).where(col(Event.office_id) == office_id, col(Event.type).in_(sorted(TICKET_EVENTS)),
                                 col(Event.ticket_id).is_not(None), col(Event.seq) <= upto)
             .order_by(col(Event.seq)).execution_options(yield_per=chunk))
        for e in session.execute(q).scalars():
            facts[e.ticket_id or 0] = fold(facts.get(e.ticket_id or 0), e, settings)
        rows = []
        for f in facts.values():
            if f is not None:
                add_into(totals, f, +1, owners_of[office_id], settings.service_key(f.service_id))
                rows.append(f.row())
        for i in range(0, len(rows), chunk):
            session.execute(fact_t.insert(), rows[i:i + chunk])
        written += len(rows)
        for e in session.execute(select(Event).where(col(Event.office_id) == office_id,
                                                     col(Event.type) == APPOINTMENT_MISSED,
                                                     col(Event.seq) <= upto)).scalars():
            for key, m in missed_contributions(e, settings):
                row = totals[key]
                for name, v in m.items():
                    row[name] = row.get(name, 0) + v
    roll_rows = [{"office_id": k[0], "period": k[1], "start": k[2], "dim": k[3], "key": k[4],
                  **{n: m.get(n, 0) for n in METRICS}} for k, m in totals.items()]
    for i in range(0, len(roll_rows), chunk):
        session.execute(roll_t.insert(), roll_rows[i:i + chunk])
    cp = table_of(ProjectionCheckpoint)
    for office_id, upto in cutoff.items():
        session.execute(cp.update().where(cp.c.name == REPORTS, cp.c.office_id == office_id).values(seq=upto))
    return written


def _hold_checkpoints(session: Session, office_ids: Sequence[int]) -> dict[int, int]:
    """Lock the offices' report checkpoints (creating them) and read how far their logs go now."""
    cp, seq = table_of(ProjectionCheckpoint), table_of(OfficeSeq)
    if office_ids:
        session.execute(insert_for(session, cp).values(
            [{"name": REPORTS, "office_id": o, "seq": 0} for o in office_ids]).on_conflict_do_nothing())
    locked = select(cp.c.office_id).where(cp.c.name == REPORTS, cp.c.office_id.in_(office_ids))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(locked.order_by(cp.c.office_id).with_for_update())
    return {int(o): int(last) for o, last in session.execute(
        select(seq.c.office_id, seq.c.last_seq).where(seq.c.office_id.in_(office_ids))).all()}
