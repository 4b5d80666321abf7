"""Dossiers (hồ sơ) of the province's one-stop system, linked to the visits (tickets) that handled them.

Why: nobody could say which visit handled which dossier (DOMAIN.md, "Dossiers"). A clerk scans or types
the code printed on the receipt; the queue checks its shape against the office's `dossier_code_pattern`
and records the link as an event (`dossier.linked`; `dossier.unlinked` for a mistake), which is also
what the province's system receives. Refusals come before any write: 422 (shape) before 409 (state).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from counters.engine import events
from counters.clock import iso, office_day
from counters.context import Ctx
from counters.engine.dossier_codes import normalize_dossier_code
from counters.errors import InvalidValue, StateConflict
from counters.models import DOSSIER_EVENTS_SQL, Counter, DossierLink, Event, Feedback, Office, Ticket
from counters.types import TicketStatus
from counters.views import counter_brief, ticket_view

DOSSIER_LINKED = "dossier.linked"
DOSSIER_UNLINKED = "dossier.unlinked"
LINK_EVENTS = (DOSSIER_LINKED, DOSSIER_UNLINKED)
LINKABLE = frozenset({TicketStatus.CALLED, TicketStatus.SERVING, TicketStatus.DONE})
PROCEDURE_MAX = 200


def clean_procedure(raw: str | None) -> str | None:
    text = " ".join((raw or "").split())
    if len(text) > PROCEDURE_MAX:
        raise InvalidValue(f"procedure is at most {PROCEDURE_MAX} characters", field="procedure")
    return text or None


def link(session: Session, ctx: Ctx, office: Office, ticket: Ticket, *, code: str,
         procedure: str | None = None) -> DossierLink:
    """Link a dossier to a called, serving or finished ticket of today (422, then 409, before any write)."""
    code = normalize_dossier_code(office, code)
    procedure = clean_procedure(procedure)
    today = office_day(ctx.now, office.timezone)
    if ticket.status not in LINKABLE:
        raise StateConflict(f"Ticket {ticket.display_number} is {ticket.status}: link dossiers to a ticket "
                            "that is called, being served or done.", code="ticket_state", status=ticket.status,
                            action="link_dossier", allowed_from=sorted(LINKABLE))
    if ticket.office_day != today:
        raise StateConflict(f"Ticket {ticket.display_number} is from {ticket.office_day.isoformat()}: dossiers are "
                            "linked on the day of the visit.", code="not_today", status=ticket.status,
                            office_day=ticket.office_day.isoformat())
    if code in (ticket.dossiers or []) or session.exec(select(DossierLink.id).where(
            DossierLink.ticket_id == ticket.id, DossierLink.code == code)).first() is not None:
        raise StateConflict(f"{code} is already linked to ticket {ticket.display_number}.", code="already_linked",
                            status=ticket.status)
    row = DossierLink(office_id=office.id or 0, ticket_id=ticket.id or 0, code=code, procedure=procedure,
                      counter_id=ticket.counter_id, clerk_id=ticket.clerk_id or ctx.who.user_id, linked_at=ctx.now)
    try:
        with session.begin_nested():  # two scanners racing: the unique (ticket, code) decides
            session.add(row)
            session.flush()
    except IntegrityError:
        raise StateConflict(f"{code} is already linked to ticket {ticket.display_number}.", code="already_linked",
                            status=ticket.status) from None
    ticket.dossiers = [*(ticket.dossiers or []), code]  # a new list: the JSON column sees the change
    session.add(ticket)
    _record(session, ctx, office, ticket, row, DOSSIER_LINKED)
    return row


def unlink(session: Session, ctx: Ctx, office: Office, row: DossierLink) -> DossierLink:
    """Undo a mistaken link, on the day it was made (409 `not_today` after)."""
    ticket = session.get(Ticket, row.ticket_id)
    if ticket is None or office_day(row.linked_at, office.timezone) != office_day(ctx.now, office.timezone):
        raise StateConflict(f"{row.code} was linked on another day; links are corrected on the day of the visit.",
                            code="not_today", linked_at=iso(row.linked_at, office.timezone))
    ticket.dossiers = [c for c in (ticket.dossiers or []) if c != row.code]
    session.add(ticket)
    _record(session, ctx, office, ticket, row, DOSSIER_UNLINKED)
    session.delete(row)
    return row


def _record(session: Session, ctx: Ctx, office: Office, ticket: Ticket, row: DossierLink, kind: str) -> None:
    counter = session.get(Counter, row.counter_id) if row.counter_id else None
    events.record(session, office.id or 0, kind, ctx.now, {
        "id": row.id, "ticket_id": ticket.id, "display_number": ticket.display_number, "code": row.code,
        "procedure": row.procedure, "counter": counter_brief(counter) if counter else None,
        "clerk_id": row.clerk_id,
    }, actor=ctx.who.actor, ticket_id=ticket.id, counter_id=row.counter_id, service_id=ticket.service_id)


def link_view(row: DossierLink, tz: str) -> dict[str, Any]:
    return {"id": row.id, "ticket_id": row.ticket_id, "code": row.code, "procedure": row.procedure,
            "linked_at": iso(row.linked_at, tz), "counter_id": row.counter_id, "clerk_id": row.clerk_id}


def ticket_links(session: Session, ticket_id: int) -> list[DossierLink]:
    return list(session.exec(select(DossierLink).where(DossierLink.ticket_id == ticket_id)
                             .order_by(col(DossierLink.id))).all())


def visits(session: Session, office: Office, raw_code: str) -> tuple[str, list[dict[str, Any]]]:
    """The visits of the office that carried this dossier, oldest first, each with its rating (if any).

    The clerk's name is the caller's to fill (`clerk.full_name`): users live outside `counters`.
    """
    code = (raw_code or "").strip().upper()
    rows = session.exec(select(DossierLink).where(DossierLink.office_id == office.id, DossierLink.code == code)
                        .order_by(col(DossierLink.linked_at), col(DossierLink.id))).all()
    if not rows:
        return code, []
    ids = [r.ticket_id for r in rows]
    tickets = {t.id: t for t in session.exec(select(Ticket).where(col(Ticket.id).in_(ids)))}
    ratings = {f.ticket_id: f.rating for f in session.exec(select(Feedback).where(col(Feedback.ticket_id).in_(ids)))}
    counter_ids = [r.counter_id for r in rows if r.counter_id]
    counters = {c.id: c for c in session.exec(select(Counter).where(col(Counter.id).in_(counter_ids)))} \
        if counter_ids else {}
    out = []
    for r in rows:
        t = tickets.get(r.ticket_id)
        c = counters.get(r.counter_id)
        out.append({"ticket": ticket_view(t, office.timezone) if t else None,
                    "counter": counter_brief(c) if c else None,
                    "clerk": {"id": r.clerk_id, "full_name": None} if r.clerk_id else None,
                    "linked_at": iso(r.linked_at, office.timezone), "procedure": r.procedure,
                    "rating": ratings.get(r.ticket_id)})
    return code, out


def links_from_events(session: Session, office_ids: Sequence[int], since: datetime,
                      until: datetime) -> dict[int, dict[str, str | None]]:
    """ticket id → {code: procedure} of the links standing after the link events in [since, until).

    Reports read dossiers from the event log (as every other figure), not from the state table. Links
    are made on the day of the visit, so a report's days (with a day's margin for time zones) hold them.
    """
    data = SQLModel.metadata.tables["event"].c.data
    q = (sa_select(col(Event.office_id), col(Event.seq), col(Event.type), col(Event.ticket_id),
                   data["code"].as_string(), data["procedure"].as_string())  # read in the database: no JSON decoding
         .where(col(Event.office_id).in_(list(office_ids)), text(DOSSIER_EVENTS_SQL),
                col(Event.at) >= since, col(Event.at) < until)
         .order_by(col(Event.office_id), col(Event.seq)))
    out: dict[int, dict[str, str | None]] = defaultdict(dict)
    for _, _, kind, ticket_id, code, procedure in session.execute(q):
        if ticket_id is None or not code:
            continue
        if kind == DOSSIER_LINKED:
            out[ticket_id][code] = procedure
        else:
            out[ticket_id].pop(code, None)
    return {t: links for t, links in out.items() if links}


def procedures_of(links: Iterable[tuple[str, str | None]]) -> list[str]:
    """The distinct procedure names of a visit's links (a visit counts once per procedure)."""
    seen: list[str] = []
    for _, procedure in links:
        if procedure and procedure not in seen:
            seen.append(procedure)
    return seen
