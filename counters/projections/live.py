"""The live state of an office today: queues, counters, programmes, satisfaction, recent calls.

Used by the live view, by WebSocket snapshots and by displays after a reconnect. Pure reads.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from statistics import mean
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from counters.insight.alerts import derived_alerts, staffing, stored_alerts
from counters.clock import day_bounds, iso, office_day, zone
from counters.insight.estimates import booked_visits, estimate_queue
from counters.projections.facts import BUCKET_EDGES_S, bucket
from counters.projections.facts import TicketFact as FactTable
from counters.projections.reports import office_tree
from counters.models import Alert, Announcement, Counter, Event, Feedback, Office, Service, Ticket
from counters.engine.schedule import is_issuing_open, is_no_wait_day
from counters.tables import table_of
from counters.types import SATISFIED_RATINGS, CounterState, Desk, EventType, TicketStatus
from counters.views import counter_view, ticket_view

RECENT_CALLS = 10


def trips_figures(feedback: list[Feedback]) -> dict[str, float | None]:
    """`avg_trips` and `one_trip_pct` of the ratings that answered the trips question (office setting ask_trips)."""
    trips = [f.trips for f in feedback if f.trips]
    return {"avg_trips": round(sum(trips) / len(trips), 2) if trips else None,
            "one_trip_pct": _pct(sum(1 for n in trips if n == 1), len(trips))}

def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _secs(a: datetime | None, b: datetime | None) -> float | None:
    return (b - a).total_seconds() if a and b else None


def wait_s(t: Ticket) -> float | None:
    return _secs(t.issued_at, t.called_at)


def service_s(t: Ticket) -> float | None:
    return _secs(t.started_at or t.last_called_at, t.finished_at) if t.status == TicketStatus.DONE else None


def day_charts(tickets: list[Ticket], tz: str, waits: list[float]) -> dict[str, Any]:
    """Arrivals and services per office-local hour, and how long people waited (for the dashboard)."""
    hours: dict[int, list[int]] = {}
    for t in tickets:
        hours.setdefault(t.issued_at.astimezone(zone(tz)).hour, [0, 0])[0] += 1
        if t.status == TicketStatus.DONE and t.finished_at is not None:
            hours.setdefault(t.finished_at.astimezone(zone(tz)).hour, [0, 0])[1] += 1
    counts = [0] * (len(BUCKET_EDGES_S) + 1)
    for w in waits:
        counts[bucket(int(w))] += 1
    return {"hours": [{"hour": f"{h:02d}", "issued": v[0], "served": v[1]} for h, v in sorted(hours.items())],
            "wait_buckets": [{"upto_s": BUCKET_EDGES_S[i] if i < len(BUCKET_EDGES_S) else None, "count": n}
                             for i, n in enumerate(counts)]}


def branch_summaries(session: Session, office: Office, day: date, now: datetime) -> list[dict[str, Any]]:
    """Today's figures of each branch of a parent office, side by side (grouped queries, not N live views)."""
    branches = office_tree(session, office)[1:]
    if not branches:
        return []
    ids = [b.id for b in branches]
    rows: dict[int, dict[str, Any]] = {b.id or 0: {"id": b.id, "name": b.name, "code": b.code, "issued": 0,
                                                    "waiting": 0, "served": 0, "no_show": 0, "open_counters": 0,
                                                    "longest_wait_s": 0, "avg_wait_s": None, "alerts": 0}
                                       for b in branches}
    q = (select(Ticket.office_id, Ticket.status, func.count(), func.min(Ticket.issued_at))
         .where(col(Ticket.office_id).in_(ids), col(Ticket.office_day) == day)
         .group_by(col(Ticket.office_id), col(Ticket.status)))
    for oid, status, n, oldest in session.execute(q):
        r = rows[oid]
        r["issued"] += n
        if status in ("waiting", "served", "no_show", "done"):
            r["served" if status == "done" else status] += n
        if status == TicketStatus.WAITING and oldest is not None:
            r["longest_wait_s"] = int((now - oldest).total_seconds())
    f = table_of(FactTable)
    for oid, waited, total in session.execute(
            select(f.c.office_id, func.count(f.c.wait_s), func.sum(f.c.wait_s))
            .where(f.c.office_id.in_(ids), f.c.office_day == day).group_by(f.c.office_id)):
        rows[oid]["avg_wait_s"] = round(total / waited) if waited else None
    for oid, n in session.execute(select(Counter.office_id, func.count()).where(
            col(Counter.office_id).in_(ids), col(Counter.state) == CounterState.OPEN).group_by(col(Counter.office_id))):
        rows[oid]["open_counters"] = n
    for oid, n in session.execute(select(Alert.office_id, func.count()).where(
            col(Alert.office_id).in_(ids), col(Alert.cleared_at) == None).group_by(col(Alert.office_id))):  # noqa: E711
        rows[oid]["alerts"] = n
    return [rows[b.id or 0] for b in branches]


def live_state(session: Session, office: Office, now: datetime) -> dict[str, Any]:
    tz = office.timezone
    day = office_day(now, tz)
    start, _ = day_bounds(day, tz)
    no_wait = is_no_wait_day(day, office.no_wait_days)
    services = list(session.exec(select(Service).where(Service.office_id == office.id,
                                                       Service.archived == False)  # noqa: E712
                                 .order_by(col(Service.sort_order), col(Service.code))))
    counters = list(session.exec(select(Counter).where(Counter.office_id == office.id,
                                                       Counter.archived == False)  # noqa: E712
                                 .order_by(col(Counter.number))))
    tickets = list(session.exec(select(Ticket).where(Ticket.office_id == office.id, Ticket.office_day == day)))
    by_id = {t.id: t for t in tickets}
    feedback = list(session.exec(select(Feedback).where(Feedback.office_id == office.id,
                                                        col(Feedback.created_at) >= start)))
    est = estimate_queue(session, office, day, now)
    queues = {q["id"]: q for q in est.services}
    booked: dict[int, int] = {}  # per service, the bookings still to come today
    for visit in (est.snapshot.booked if est.snapshot is not None else booked_visits(session, office, day, now)):
        booked[visit.service_id] = booked.get(visit.service_id, 0) + 1

    svc_rows = []
    level = {"waits": 0, "within": 0, "totals": 0, "totals_within": 0}  # programme service level of the day
    for s in services:
        mine = [t for t in tickets if t.service_id == s.id]
        target_s = (office.no_wait_target_min if no_wait else s.target_wait_min) * 60
        waits = [w for t in mine if (w := wait_s(t)) is not None]
        served = [t for t in mine if t.status == TicketStatus.DONE]
        svc_times = [x for t in served if (x := service_s(t)) is not None]
        row: dict[str, Any] = {
            "id": s.id, "code": s.code, "name": s.name, "name_en": s.name_en, "desk": s.desk, "active": s.active,
            "waiting": queues.get(s.id, {}).get("waiting", 0),
            "longest_wait_s": queues.get(s.id, {}).get("longest_wait_s", 0),
            "estimated_wait_s": queues.get(s.id, {}).get("estimated_wait_s", 0),
            "estimated_wait_range_s": queues.get(s.id, {}).get("estimated_wait_range_s"),
            "serving_now": queues.get(s.id, {}).get("serving_now", True),
            "issued_today": len([t for t in mine if t.issued_service_id == s.id]),
            "booked_ahead": booked.get(s.id or 0, 0),
            "served_today": len(served), "avg_wait_s": round(mean(waits)) if waits else None,
            "avg_service_s": round(mean(svc_times)) if svc_times else None,
            "target_wait_s": target_s,
            "within_target_pct": _pct(sum(1 for w in waits if w <= target_s), len(waits)),
        }
        level["waits"] += len(waits)
        level["within"] += sum(1 for w in waits if w <= target_s)
        if s.desk == Desk.DO_IT_NOW:
            total_target = (s.target_total_min or 10) * 60
            totals = [_secs(t.issued_at, t.finished_at) or 0 for t in served]
            row["target_total_s"] = total_target
            row["total_within_target_pct"] = _pct(sum(1 for x in totals if x <= total_target), len(totals))
            row["avg_total_s"] = round(mean(totals)) if totals else None
            level["totals"] += len(totals)
            level["totals_within"] += sum(1 for x in totals if x <= total_target)
        svc_rows.append(row)

    fb_by_counter: dict[int, list[Feedback]] = {}
    for f in feedback:
        fb_by_counter.setdefault(f.counter_id, []).append(f)
    counter_rows = []
    for c in counters:
        cur = by_id.get(c.current_ticket_id) if c.current_ticket_id else None
        done_here = [t for t in tickets if t.counter_id == c.id and t.status == TicketStatus.DONE]
        times = [x for t in done_here if (x := service_s(t)) is not None]
        fb = fb_by_counter.get(c.id or 0, [])
        row = counter_view(c, ticket_view(cur, tz) if cur else None)
        row.update({
            "serving_for_s": (int((now - (cur.started_at or cur.last_called_at or now)).total_seconds())
                              if cur else None),
            "served_today": len(done_here), "avg_service_s": round(mean(times)) if times else None,
            "closed_unstarted": sum(1 for t in done_here if t.started_at is None),
            "satisfaction_pct": _pct(sum(1 for f in fb if f.rating in SATISFIED_RATINGS), len(fb)),
        })
        counter_rows.append(row)

    counts: dict[str, int] = {}
    for f in feedback:
        counts[f.rating] = counts.get(f.rating, 0) + 1
    recent = list(session.exec(select(Announcement).where(Announcement.office_id == office.id,
                                                          col(Announcement.created_at) >= start)
                               .order_by(col(Announcement.id).desc()).limit(RECENT_CALLS)))
    numbers = {c.id: c for c in counters}
    open_now, windows = is_issuing_open(now, tz, office.opening_hours, office.extra_sessions)
    stored = list(session.exec(select(Alert).where(Alert.office_id == office.id, Alert.cleared_at == None)))  # noqa: E711
    all_waits = [w for t in tickets if (w := wait_s(t)) is not None]
    open_counters = sum(1 for c in counters if c.state == CounterState.OPEN)
    service_map = {s.id or 0: s for s in services}
    waiting = [t for t in tickets if t.status == TicketStatus.WAITING]
    advice = staffing(office, service_map, est.snapshot, est.model,
                      [(t.issued_service_id, t.issued_at) for t in tickets], no_wait, open_counters, counters)
    alerts = derived_alerts(office, svc_rows, counters, waiting, service_map, advice, now) \
        + stored_alerts(stored, tz)
    return {
        "at": iso(now, tz), "office": {"id": office.id, "name": office.name, "code": office.code,
                                      "announcement_repeat": office.announcement_repeat},
        "programs": {"no_wait_day": no_wait,
                     "targets": {"wait_min": office.no_wait_target_min if no_wait else None,
                                 "do_it_now_total_min": next((s.target_total_min or 10 for s in services
                                                              if s.desk == Desk.DO_IT_NOW), None)},
                     "service_level": {"wait_within_target_pct": _pct(level["within"], level["waits"]),
                                       "do_it_now_within_target_pct": _pct(level["totals_within"],
                                                                           level["totals"])},
                     "issuing_open": open_now,
                     "hours_today": [w.as_pair() for w in windows] if windows is not None else None},
        "services": svc_rows, "counters": counter_rows,
        "totals": {"issued": len(tickets), "waiting": sum(r["waiting"] for r in svc_rows),
                   "served": sum(1 for t in tickets if t.status == TicketStatus.DONE),
                   "no_show": sum(1 for t in tickets if t.status == TicketStatus.NO_SHOW),
                   "cancelled": sum(1 for t in tickets if t.status == TicketStatus.CANCELLED),
                   "avg_wait_s": round(mean(all_waits)) if all_waits else None,
                   "open_counters": open_counters, "booked_ahead": sum(booked.values())},
        "satisfaction": {"counts": counts,
                         "pct": _pct(sum(v for k, v in counts.items() if k in SATISFIED_RATINGS), len(feedback)),
                         **trips_figures(feedback)},
        "alerts": alerts,
        "staffing": advice.view(),
        "charts": day_charts(tickets, tz, all_waits),
        "branches": branch_summaries(session, office, day, now),
        "recent_calls": [{"id": a.id, "ticket_id": a.ticket_id, "display_number": by_id[a.ticket_id].display_number
                          if a.ticket_id in by_id else None, "counter_id": a.counter_id,
                          "counter_number": numbers[a.counter_id].number if a.counter_id in numbers else None,
                          "text": a.text, "at": iso(a.created_at, tz)} for a in recent],
    }


def rating_requests(session: Session, office: Office, now: datetime) -> list[dict[str, Any]]:
    """Each counter's latest `feedback.request` still open (inside the rating window, not yet rated), as the
    event carried it: a tablet that connects after the finish (rebooted, back on the network) still asks."""
    since = now - timedelta(minutes=office.feedback_window_min)
    asked = session.exec(select(Event).where(Event.office_id == office.id, Event.type == EventType.FEEDBACK_REQUEST,
                                             col(Event.at) >= since).order_by(col(Event.seq))).all()
    latest = {e.counter_id: e for e in asked}
    tickets = [e.ticket_id for e in latest.values()]
    rated = set(session.exec(select(Feedback.ticket_id).where(col(Feedback.ticket_id).in_(tickets))).all()) \
        if tickets else set()
    return [dict(e.data or {}) for e in latest.values() if e.ticket_id not in rated]
