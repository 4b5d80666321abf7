"""Reports that need the dossiers of each visit: by procedure, and the per-visit export.

Both read the event-derived ticket facts (facts.py) and the links folded from the `dossier.*` events
(`dossiers.links_from_events`), so they agree with every other report. A visit counts once in each
procedure it carried a dossier of, with its rating and trips answer (API.md: a rating given for a
ticket counts for each of its dossiers). Percentiles are exact (the tickets' own values): a selection
by procedure is a subset of linked visits, far below what the rollups exist for.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from counters.clock import day_bounds, iso
from counters.engine.dossiers import links_from_events, procedures_of
from counters.errors import InvalidValue
from counters.projections.facts import SUMS, Fact, FACT_FIELDS, TicketFact, contributions
from counters.models import Counter, Office, Service, Ticket
from counters.projections.reports import FIELDS, _row, check_query, nearest_rank

GROUP_BY = ("procedure", "ticket")
VISIT_FIELDS = ("key", "label", "office", "day", "service", "counter", "clerk", "status", "priority", "issued_at",
                "called_at", "finished_at", "wait_s", "service_s", "rating", "trips", "dossiers", "procedures")
MAX_VISIT_DAYS = 92  # a per-visit export covers at most a quarter (a province's quarter is ~2.5M visits)
MAX_VISITS = 200_000


def fields_of(group_by: str) -> tuple[str, ...]:
    return VISIT_FIELDS if group_by == "ticket" else FIELDS


def _links(session: Session, offices: Sequence[Office], start: date, end: date) -> dict[int, dict[str, str | None]]:
    tz = offices[0].timezone
    since = day_bounds(start - timedelta(days=1), tz)[0]
    until = day_bounds(end + timedelta(days=1), tz)[1]
    return links_from_events(session, [o.id or 0 for o in offices], since, until)


def _facts(session: Session, office_ids: Sequence[int], start: date, end: date,
           ticket_ids: Sequence[int] | None = None) -> list[Fact]:
    t = SQLModel.metadata.tables[TicketFact.__tablename__]
    q = sa_select(*[t.c[n] for n in FACT_FIELDS]).where(
        t.c.office_id.in_(list(office_ids)), t.c.office_day >= start, t.c.office_day <= end)
    if ticket_ids is not None:
        q = q.where(t.c.ticket_id.in_(list(ticket_ids)))
    return [Fact(**r._asdict()) for r in session.connection().execute(q.order_by(t.c.ticket_id))]


def _metrics(f: Fact) -> dict[str, int]:
    """What one visit adds to a row: the same figures as the rollups (facts.contributions)."""
    for _, m in contributions(f, (f.office_id,), 0):
        return m
    return {}


def by_procedure(session: Session, offices: Sequence[Office], start: date, end: date) -> list[dict[str, Any]]:
    """Report rows keyed by procedure name, for the visits that carried a dossier of that procedure."""
    check_query(start, end, "procedure", GROUP_BY)
    links = _links(session, offices, start, end)
    wanted = {tid: procedures_of(codes.items()) for tid, codes in links.items()}
    wanted = {tid: procs for tid, procs in wanted.items() if procs}
    totals: dict[str, dict[str, int]] = {}
    values: dict[str, tuple[list[int], list[int]]] = {}
    ids = sorted(wanted)
    for i in range(0, len(ids), 5000):
        for f in _facts(session, [o.id or 0 for o in offices], start, end, ids[i:i + 5000]):
            m = _metrics(f)
            for procedure in wanted[f.ticket_id]:
                acc = totals.setdefault(procedure, dict.fromkeys(SUMS, 0))
                for name, v in m.items():
                    if name in acc:
                        acc[name] += v
                waits, services = values.setdefault(procedure, ([], []))
                if f.wait_s is not None:
                    waits.append(f.wait_s)
                if f.service_s is not None:
                    services.append(f.service_s)
    rows = []
    for procedure in sorted(totals, key=lambda p: (p.casefold(), p)):
        waits, services = values.get(procedure, ([], []))
        rows.append(_row(procedure, procedure, totals[procedure], nearest_rank(waits), nearest_rank(services)))
    return rows


def by_visit(session: Session, offices: Sequence[Office], start: date, end: date,
             clerks: Mapping[int, tuple[str, str]]) -> list[dict[str, Any]]:
    """One row per visit (ticket) with its dossier codes: the export the province's records are checked
    against. No track codes and nothing of an ID card."""
    check_query(start, end, "ticket", GROUP_BY)
    if (end - start).days >= MAX_VISIT_DAYS:
        raise InvalidValue(f"a per-visit report covers at most {MAX_VISIT_DAYS} days", field="to",
                           max_days=MAX_VISIT_DAYS)
    ids = [o.id or 0 for o in offices]
    facts = _facts(session, ids, start, end)
    if len(facts) > MAX_VISITS:
        raise InvalidValue(f"more than {MAX_VISITS} visits: choose a shorter range", field="to",
                           max_visits=MAX_VISITS)
    links = _links(session, offices, start, end)
    by_office = {o.id: o for o in offices}
    services = {s.id: s.code for s in session.exec(select(Service).where(col(Service.office_id).in_(ids)))}
    counters = {c.id: c.number for c in session.exec(select(Counter).where(col(Counter.office_id).in_(ids)))}
    numbers: dict[int, tuple[str, str | None]] = {}
    for i in range(0, len(facts), 5000):
        chunk = [f.ticket_id for f in facts[i:i + 5000]]
        numbers.update({t.id or 0: (t.display_number, t.priority) for t in session.exec(
            select(Ticket).where(col(Ticket.id).in_(chunk)))})
    rows = []
    for f in facts:
        office = by_office.get(f.office_id)
        tz = office.timezone if office else offices[0].timezone
        codes = links.get(f.ticket_id, {})
        number, priority = numbers.get(f.ticket_id, (str(f.ticket_id), None))
        rows.append({
            "key": str(f.ticket_id), "label": number, "office": office.code if office else None,
            "day": f.office_day.isoformat(), "service": services.get(f.service_id),
            "counter": counters.get(f.counter_id) if f.counter_id else None,
            "clerk": clerks.get(f.clerk_id, (None, None))[0] if f.clerk_id else None,
            "status": f.status, "priority": priority, "issued_at": iso(f.issued_at, tz),
            "called_at": iso(f.called_at, tz), "finished_at": iso(f.finished_at, tz), "wait_s": f.wait_s,
            "service_s": f.service_s, "rating": f.rating, "trips": f.trips, "dossiers": list(codes),
            "procedures": procedures_of(codes.items()),
        })
    return rows
