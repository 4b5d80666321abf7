"""Reports for heads: per day, hour, service, counter or clerk over office-local dates, from the rollups.

Counts, averages and service levels are sums of the event-derived rollups (facts.py), so they are exact
for any range. A range is read as whole quarters, months and weeks and the days at its edges, or, when
it ends shortly before the newest data (a year "to yesterday"), as whole periods up to the end of the
year holding it minus the days after its end (`plan`): about 5 rows per key for a year, in one statement.
Percentiles are exact (nearest rank over the tickets' own values) when the selection holds at most
`EXACT_LIMIT` tickets, and read from the rollups' histograms (interpolated inside the bucket) above that,
which keeps a province's year under the response-time budget.

`closed_unstarted` (served tickets closed without the clerk ever pressing Start: closed by Next or
Finish straight after the call) and `served_started` (served − closed_unstarted) are counted from the
tickets' facts along with the exact percentiles, so with no rollup column; above `EXACT_LIMIT` tickets
they are null rather than a slow scan.
"""
from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, union_all
from sqlmodel import Session, col

from counters.errors import InvalidValue
from counters.projections.facts import (BUCKET_EDGES_S, CHANNEL_KEYS, METRICS, PERIOD_START, SERVICE_COLS, SUMS,
                                       WAIT_COLS, ReportRollup, TicketFact, next_start, service_code,
                                       service_key, week_start)
from counters.models import Counter, Office, Service
from counters.tables import table_of

GROUP_BY = ("day", "hour", "service", "counter", "clerk", "channel")
FIELDS = ("key", "label", "issued", "served", "no_show", "cancelled", "avg_wait_s", "p90_wait_s", "avg_service_s",
          "p90_service_s", "within_target_pct", "ratings", "satisfaction_pct", "do_it_now_served",
          "do_it_now_within_target_pct", "no_wait_waited", "no_wait_within_target_pct", "avg_trips", "one_trip_pct",
          "served_started", "closed_unstarted", "appointments", "appointments_missed")
CHANNEL_LABELS = {"kiosk": ("Máy lấy số", "Kiosk"), "staff": ("Cán bộ cấp số", "Staff"),
                  "appointment": ("Lịch hẹn", "Appointment"), "online": ("Trực tuyến", "Online")}
EXACT_LIMIT = 20_000
ISSUED, RATINGS, MISSED = METRICS.index("issued"), METRICS.index("ratings"), METRICS.index("appointments_missed")
WAIT_AT, SERVICE_AT = METRICS.index(WAIT_COLS[0]), METRICS.index(SERVICE_COLS[0])
MAX_DAYS = 732

Totals = dict[str, int]
OutKey = tuple[Any, ...]  # what rows are merged and sorted by


def pct(part: int, whole: int) -> float | None:
    """0-100 with one decimal (API.md), None when there is nothing to divide."""
    return round(100.0 * part / whole, 1) if whole else None


def nearest_rank(values: Sequence[int], p: float = 0.9) -> int | None:
    """The value at rank ceil(p*n) of the sorted values: a percentile that is one of the values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def histogram_rank(counts: Sequence[int], p: float = 0.9) -> int | None:
    """The same rank read from bucket counts, interpolated linearly inside its bucket."""
    running = list(accumulate(counts))
    if not running or running[-1] <= 0:
        return None
    rank = max(1, math.ceil(p * running[-1]))
    i = bisect_left(running, rank)  # the first bucket whose running count reaches the rank
    c = counts[i]
    lo = BUCKET_EDGES_S[i - 1] if i > 0 else 0
    hi = BUCKET_EDGES_S[i] if i < len(BUCKET_EDGES_S) else lo * 2
    return round(lo + (hi - lo) * (rank - (running[i] - c)) / c)


def whole_periods(period: str, start: date, end: date) -> tuple[list[date], list[tuple[date, date]]]:
    """Whole periods ("w", "m", "q") inside [start, end] (their first days) and the leftover day ranges."""
    cur = PERIOD_START[period](start)
    if cur < start:
        cur = next_start(period, cur)
    found: list[date] = []
    while next_start(period, cur) - timedelta(days=1) <= end:
        found.append(cur)
        cur = next_start(period, cur)
    if not found:
        return [], [(start, end)]
    rest = [(start, found[0] - timedelta(days=1))] if start < found[0] else []
    if cur <= end:
        rest.append((cur, end))
    return found, rest


COARSE_FIRST = ("y", "q", "m", "w")


def split_periods(start: date, end: date) -> tuple[dict[str, list[date]], list[tuple[date, date]]]:
    """[start, end] as whole years, whole quarters of what is left, then whole months, then whole weeks,
    and the remaining day ranges: each day of the range is in exactly one of them."""
    coarse: dict[str, list[date]] = {}
    rest = [(start, end)]
    for period in COARSE_FIRST:
        left: list[tuple[date, date]] = []
        found: list[date] = []
        for a, b in rest:
            whole, leftover = whole_periods(period, a, b)
            found += whole
            left += leftover
        coarse[period], rest = found, left
    return coarse, rest


@dataclass(frozen=True)
class Labels:
    """How raw keys (ids) become the report's `key` and `label` for one or several offices."""

    offices: Mapping[int, Office]
    services: Mapping[int, Any]  # id -> a row with Service's id, office_id, code, name, name_en, sort_order, archived
    counters: Mapping[int, Any]  # id -> a row with Counter's id, office_id, number, name
    clerks: Mapping[int, tuple[str, str]]  # user id -> (username, full name)
    lang: str = "vi"

    @property
    def several(self) -> bool:
        return len(self.offices) > 1

    def service_for(self, key: int) -> Any:
        """A service with this code key: the report's own office's first, else a branch's."""
        code = service_code(key)
        same = [s for s in self.services.values() if s.code == code]
        same.sort(key=lambda s: (s.office_id != self.root_id, s.archived, s.id))
        return same[0] if same else None

    @property
    def root_id(self) -> int:
        return next(iter(self.offices))

    def out_key(self, group_by: str, raw: Any) -> OutKey:
        if group_by == "service":
            s = self.service_for(raw)
            return (s.sort_order if s else 10**6, service_code(raw))
        if group_by == "counter":
            c = self.counters.get(raw)
            office = self.offices.get(c.office_id) if c else None
            return ((office.code if office and self.several else ""), c.number if c else 10**6, raw)
        if group_by == "clerk":
            return (self.clerks.get(raw, (f"user{raw}", ""))[0], raw)
        return (raw,)

    def key_label(self, group_by: str, out: OutKey, raw: Any) -> tuple[str, str]:
        if group_by == "day":
            d: date = out[0]
            return d.isoformat(), d.strftime("%d/%m/%Y") if self.lang == "vi" else d.isoformat()
        if group_by == "hour":
            return f"{out[0]:02d}", f"{out[0]:02d}:00–{(out[0] + 1) % 24:02d}:00"
        if group_by == "service":
            s = self.service_for(raw)
            if s is None:
                return service_code(raw), service_code(raw)
            return s.code, (s.name_en or s.name) if self.lang == "en" else s.name
        if group_by == "counter":
            c = self.counters.get(raw)
            office = self.offices.get(c.office_id) if c else None
            prefix = f"{office.code}:" if office and self.several else ""
            if c is None:
                return f"{prefix}#{raw}", f"{prefix}#{raw}"
            name = f"{office.name} – {c.name}" if office and self.several else c.name
            return f"{prefix}{c.number}", name
        if group_by == "channel":
            name = next((n for n, k in CHANNEL_KEYS.items() if k == raw), str(raw))
            vi, en = CHANNEL_LABELS.get(name, (name, name))
            return name, en if self.lang == "en" else vi
        username, full = self.clerks.get(raw, (f"user{raw}", ""))
        return username, full or username


def load_labels(session: Session, offices: Sequence[Office], clerks: Mapping[int, tuple[str, str]],
                lang: str = "vi", group_by: str | None = None) -> Labels:
    """Labels for a report by `group_by` (None: every grouping). Only the rows that grouping names are
    read, as plain column rows rather than ORM objects: a province has about 1,700 services and counters."""
    ids = [o.id for o in offices]
    services: dict[int, Any] = {}
    counters: dict[int, Any] = {}
    if group_by in (None, "service"):
        q: Select[*tuple[Any, ...]] = select(
            col(Service.id), col(Service.office_id), col(Service.code), col(Service.name), col(Service.name_en),
            col(Service.sort_order), col(Service.archived)).where(col(Service.office_id).in_(ids))
        services = {r.id: r for r in session.execute(q)}
    if group_by in (None, "counter"):
        q = select(col(Counter.id), col(Counter.office_id), col(Counter.number), col(Counter.name)).where(
            col(Counter.office_id).in_(ids))
        counters = {r.id: r for r in session.execute(q)}
    return Labels({o.id or 0: o for o in offices}, services, counters, clerks, lang)


Piece = tuple[str, date, date]  # a rollup period "y", "q", "m", "w" or one day "d": (period, first day, last day)
Signed = dict[Piece, int]  # pieces with how many times they count (+1 added, -1 taken away)
DAY = timedelta(days=1)


def _day(d: date) -> Piece:
    return ("d", d, d)


def cover(start: date, end: date, *, straddle: bool = True) -> Signed:
    """[start, end] as signed rollup pieces: every day of the range counted once, no other day.

    Whole years, quarters, months and weeks (`split_periods`), and the days left at the edges; with
    `straddle`, five or six edge days in one ISO week are read as that week minus its other days
    (a month "from the 22nd" then reads one week row where it read six day rows).
    """
    coarse, days = split_periods(start, end)
    out: Signed = {(p, s, next_start(p, s) - DAY): 1 for p, starts in coarse.items() for s in starts}
    for a, b in days:
        d = a
        while d <= b:
            monday = week_start(d)
            hi = min(b, monday + 6 * DAY)
            inside = (hi - d).days + 1
            if straddle and inside >= 5:
                out[("w", monday, monday + 6 * DAY)] = out.get(("w", monday, monday + 6 * DAY), 0) + 1
                for k in range(7):
                    x = monday + k * DAY
                    if not d <= x <= hi:
                        out[_day(x)] = out.get(_day(x), 0) - 1
            else:
                for k in range(inside):
                    out[_day(d + k * DAY)] = out.get(_day(d + k * DAY), 0) + 1
            d = hi + DAY
    return {k: v for k, v in out.items() if v}


def _combine(plus: Signed, minus: Signed) -> Signed:
    out = dict(plus)
    for k, v in minus.items():
        out[k] = out.get(k, 0) - v
    return {k: v for k, v in out.items() if v}


def plan(start: date, end: date, last: date | None) -> tuple[list[Piece], list[Piece]]:
    """The rollup pieces to add and to take away so that the sums cover exactly [start, end].

    `last`: the newest day with rows. A range that ends shortly before it (a year "to yesterday" while
    today is being written) is cheaper read as whole periods up to the end of the year (or quarter,
    month, week) holding `last`, minus the days after `end`, than as months, weeks and days. Exact
    either way: a period's row is the sum of its days' rows (one upsert writes them all), so the
    difference is integer arithmetic. The plan reading the fewest pieces up to `last` (about: rows per
    key) wins; pieces after `last` stay in it (they cost an index probe), so rows written meanwhile,
    say just after midnight, are still taken away.
    """
    if last is None:
        return [], []
    candidates = [cover(start, end, straddle=False), cover(start, end)]
    for period in COARSE_FIRST:
        horizon = next_start(period, PERIOD_START[period](last)) - DAY
        if horizon > end:
            candidates.append(_combine(cover(start, horizon), cover(end + DAY, horizon)))
    # each piece read at most once, added or taken away (the plain cover always qualifies)
    best = min((c for c in candidates if all(v in (1, -1) for v in c.values())),
               key=lambda c: sum(1 for k in c if k[1] <= last))
    return sorted(k for k, v in best.items() if v > 0), sorted(k for k, v in best.items() if v < 0)


def _last_day(session: Session, office_id: int, group_by: str) -> date | None:
    """The newest day with rollup rows of this office and grouping (one index probe)."""
    t = table_of(ReportRollup)
    last: date | None = session.execute(select(func.max(t.c.start)).where(
        t.c.office_id == office_id, t.c.dim == group_by, t.c.period == "d")).scalar()
    return last


def rollup_sums(session: Session, office_id: int, start: date, end: date,
                 group_by: str) -> list[tuple[Any, tuple[int, ...]]]:
    """(raw key, summed metrics in `METRICS` order) from the office's own rollup rows (which include its
    branches) over [start, end]: whole quarters, months and weeks, and the days at the edges (`plan`).
    One statement, so added and taken-away rows come from one snapshot of the database."""
    t = table_of(ReportRollup)
    if group_by == "day":
        q = select(t.c.start, *[func.sum(t.c[m]) for m in METRICS]).where(
            t.c.office_id == office_id, t.c.dim == "day", t.c.period == "d", t.c.start >= start, t.c.start <= end
        ).group_by(t.c.start)
        return [(r[0], tuple(r[1:])) for r in session.execute(q)]
    plus, minus = plan(start, end, _last_day(session, office_id, group_by))
    if not plus:
        return []

    def where(pieces: list[Piece]) -> Any:
        parts = []
        for period in COARSE_FIRST + ("d",):
            starts = [a for p, a, _ in pieces if p == period]
            if starts:
                parts.append(and_(t.c.period == period, t.c.start.in_(starts)))
        return and_(t.c.office_id == office_id, t.c.dim == group_by, or_(*parts))

    if minus:  # the rows to take away are few (the days after `end`): negated, then summed with the rest
        both = union_all(select(t.c.key, *[t.c[m] for m in METRICS]).where(where(plus)),
                         select(t.c.key, *[(-t.c[m]).label(m) for m in METRICS]).where(where(minus))).subquery()
        q = select(both.c.key, *[func.sum(both.c[m]) for m in METRICS]).group_by(both.c.key)
    else:
        q = select(t.c.key, *[func.sum(t.c[m]) for m in METRICS]).where(where(plus)).group_by(t.c.key)
    return [(r[0], tuple(r[1:])) for r in session.execute(q)]  # sums of NOT NULL integers: ints


def _exact_values(session: Session, office_ids: Sequence[int], start: date, end: date, group_by: str,
                  out_key: Callable[[Any], OutKey], labels: Labels) -> dict[OutKey, tuple[list[int], list[int], int]]:
    """Per output key: the waits and service times of the selected tickets, and how many were served
    without ever being started (closed straight after the call)."""
    t = table_of(TicketFact)
    col = {"day": t.c.office_day, "hour": t.c.hour, "service": t.c.service_id, "counter": t.c.counter_id,
           "clerk": t.c.clerk_id, "channel": t.c.channel}[group_by]
    unstarted = and_(t.c.status == "done", t.c.started_at.is_(None))
    q = select(t.c.office_id, col, t.c.wait_s, t.c.service_s, unstarted).where(
        t.c.office_id.in_(office_ids), t.c.office_day >= start, t.c.office_day <= end, col.is_not(None),
        or_(t.c.wait_s.is_not(None), t.c.service_s.is_not(None)))
    raw: dict[tuple[int, Any], tuple[list[int], list[int], list[int]]] = {}
    for office_id, key, wait, service, closed_unstarted in session.execute(q):
        pair = raw.get((office_id, key))
        if pair is None:
            pair = raw[(office_id, key)] = ([], [], [0])
        if wait is not None:
            pair[0].append(wait)
        if service is not None:
            pair[1].append(service)
        if closed_unstarted:
            pair[2][0] += 1
    out: dict[OutKey, tuple[list[int], list[int], int]] = {}
    for (_, key), (waits, services, n) in raw.items():
        if group_by == "service":
            svc = labels.services.get(key)
            key = service_key(svc.code) if svc else -key
        elif group_by == "channel":
            key = CHANNEL_KEYS.get(key, 0)
        k = out_key(key)
        acc = out.get(k, ([], [], 0))
        out[k] = (acc[0] + waits, acc[1] + services, acc[2] + n[0])
    return out


def _row(key: str, label: str, m: Totals, p90_wait: int | None, p90_service: int | None,
         closed_unstarted: int | None = None) -> dict[str, Any]:
    return {
        "key": key, "label": label, "issued": m["issued"], "served": m["served"], "no_show": m["no_show"],
        "cancelled": m["cancelled"],
        "avg_wait_s": round(m["wait_sum_s"] / m["waited"]) if m["waited"] else None, "p90_wait_s": p90_wait,
        "avg_service_s": round(m["service_sum_s"] / m["timed"]) if m["timed"] else None,
        "p90_service_s": p90_service, "within_target_pct": pct(m["within_target"], m["waited"]),
        "ratings": m["ratings"], "satisfaction_pct": pct(m["satisfied"], m["ratings"]),
        "do_it_now_served": m["dni_done"], "do_it_now_within_target_pct": pct(m["dni_within"], m["dni_done"]),
        "no_wait_waited": m["nw_waited"], "no_wait_within_target_pct": pct(m["nw_within"], m["nw_waited"]),
        "avg_trips": round(m["trips_sum"] / m["trips_rated"], 2) if m["trips_rated"] else None,
        "one_trip_pct": pct(m["one_trip"], m["trips_rated"]),
        "served_started": m["served"] - closed_unstarted if closed_unstarted is not None else None,
        "closed_unstarted": closed_unstarted,
        "appointments": m["appointments"], "appointments_missed": m["appointments_missed"],
    }


def check_query(start: date, end: date, group_by: str, allowed: Sequence[str] = GROUP_BY) -> None:
    for name, d in (("from", start), ("to", end)):
        if not date(2000, 1, 1) <= d <= date(2199, 12, 31):
            raise InvalidValue(f"{name} must be a date between 2000 and 2199", field=name)
    if group_by not in allowed:
        raise InvalidValue(f"group_by must be one of {', '.join(allowed)}", field="group_by")
    if end < start:
        raise InvalidValue("to must not be before from", field="to")
    if (end - start).days >= MAX_DAYS:
        raise InvalidValue(f"a report covers at most {MAX_DAYS} days", field="to")


def report(session: Session, offices: Sequence[Office], start: date, end: date, group_by: str, *,
           clerks: Mapping[int, tuple[str, str]] | None = None, lang: str = "vi",
           exact_limit: int = EXACT_LIMIT) -> list[dict[str, Any]]:
    """Report rows (API.md "Live view and reports") over office-local dates [start, end].

    `offices`: the office first, then its branches (`office_tree`); the office's rollups already hold
    the branches' sums, the branches are needed for labels and exact percentiles.
    """
    check_query(start, end, group_by)
    ids = [o.id or 0 for o in offices]
    labels = load_labels(session, offices, clerks or {}, lang, group_by)
    merged: dict[OutKey, list[int]] = {}
    sample: dict[OutKey, Any] = {}

    def out_key(raw: Any) -> OutKey:
        return labels.out_key(group_by, raw)

    for raw, sums in rollup_sums(session, ids[0], start, end, group_by):
        if not sums[ISSUED] and not sums[RATINGS] and not sums[MISSED]:
            continue
        k = out_key(raw)
        acc = merged.get(k)
        if acc is None:
            merged[k], sample[k] = list(sums), raw
        else:  # two raw keys with one output key (rare): add them up
            for i, v in enumerate(sums):
                acc[i] += v
    exact = sum(m[ISSUED] for m in merged.values()) <= exact_limit
    values = _exact_values(session, ids, start, end, group_by, out_key, labels) if exact else {}
    rows = []
    for k in sorted(merged):
        m = merged[k]
        unstarted: int | None = None
        if exact:
            waits, services, unstarted = values.get(k, ([], [], 0))
            p90w, p90s = nearest_rank(waits), nearest_rank(services)
        else:
            p90w, p90s = histogram_rank(m[WAIT_AT:SERVICE_AT]), histogram_rank(m[SERVICE_AT:])
        key, label = labels.key_label(group_by, k, sample[k])
        rows.append(_row(key, label, dict(zip(SUMS, m)), p90w, p90s, unstarted))  # SUMS lead METRICS
    return rows


def office_tree(session: Session, office: Office) -> list[Office]:
    """The office and all its descendants (a parent office's report aggregates its branches)."""
    out = [office]
    frontier = [office.id]
    while frontier:
        seen = {o.id for o in out}
        children = [c for c in session.execute(select(Office).where(col(Office.parent_id).in_(frontier))).scalars()
                    if c.id not in seen]
        out += children
        frontier = [c.id for c in children]
    return out
