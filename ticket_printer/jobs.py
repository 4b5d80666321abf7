"""The life of a print job in the database: claim, outcome, retry with backoff, failure.

queued → printing (a claim: a conditional UPDATE whose row count says who won, so two workers or two
agents never print one job) → printed | queued again with a later `next_attempt_at` | failed.
Every step is one short transaction; printing itself happens outside, in a thread or on an agent.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Result, update
from sqlmodel import Session, col, select

from counters.clock import zone
from counters.models import Office, Service, Ticket
from counters.types import Desk, EventType, WaitFigures

from .hooks import PrintHooks
from .layout import Lang, TicketPrint
from .models import Printer, PrintJob
from .printer_state import ACTOR, note_printer_state

if TYPE_CHECKING:
    from .printing import PrintMode

MAX_ATTEMPTS = 10
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0
STALE_AFTER = timedelta(minutes=2)  # a claim this old lost its printer process; never print it twice
EXPIRE_AFTER = timedelta(minutes=15)  # a ticket not printed by then is on the citizen's screen/phone already
DO_IT_NOW_LABEL = {"vi": "Bộ phận làm ngay", "en": "Do-it-now desk"}
PRIORITY_LABELS = {
    "vi": {"elderly": "Người cao tuổi", "disabled": "Người khuyết tật", "pregnant": "Phụ nữ có thai",
           "child": "Người đi cùng trẻ nhỏ", "merit": "Người có công với cách mạng", "other": "Ưu tiên"},
    "en": {"elderly": "Elderly", "disabled": "Person with disability", "pregnant": "Pregnant woman",
           "child": "With a small child", "merit": "Person of merit", "other": "Priority"},
}
SERVER_TRANSPORTS = ("network", "usb", "serial", "file")


@dataclass(frozen=True)
class PrinterConfig:
    id: int
    office_id: int
    name: str
    transport: str
    address: str
    width_px: int
    mode: PrintMode
    profile: str | None

    @classmethod
    def of(cls, p: Printer) -> PrinterConfig:
        # the mode was checked against PRINT_MODES when it was set; the column holds it as text
        return cls(p.id or 0, p.office_id, p.name, p.transport, p.address, p.width_px, cast("PrintMode", p.mode),
                   p.profile)


@dataclass(frozen=True)
class ClaimedJob:
    """A job this caller won, with everything needed to print it without the database."""

    job_id: int
    ticket_id: int
    attempts: int
    printer: PrinterConfig
    ticket: TicketPrint


def backoff_s(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: 0.5, 1, 2, 4 … capped at 30."""
    return float(min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1)))


def track_url(base_url: str | None, public_url: str | None, track_code: str) -> str:
    base = (public_url or base_url or "http://localhost:8000").rstrip("/")
    return f"{base}/t/{track_code}"


def ticket_print(session: Session, ticket: Ticket, base_url: str | None, public_url: str | None,
                 figures: WaitFigures) -> TicketPrint:
    """The paper ticket's content; `figures` (from the server, as of printing time) give the people
    ahead, the expected wait and its 80% range, or say that no counter serves the ticket yet."""
    office = session.get(Office, ticket.office_id)
    service = session.get(Service, ticket.service_id)
    assert office is not None and service is not None
    parent = session.get(Office, office.parent_id) if office.parent_id else None
    lang: Lang = "en" if ticket.lang == "en" else "vi"
    return TicketPrint(
        office_name=parent.name if parent else office.name,
        office_subtitle=office.name if parent else office.address,
        display_number=ticket.display_number,
        service_name=(service.name_en or service.name) if lang == "en" else service.name,
        desk_label=DO_IT_NOW_LABEL[lang] if service.desk == Desk.DO_IT_NOW else None,
        people_ahead=figures.position, estimated_wait_s=figures.expected_s,
        estimated_wait_range_s=figures.range_s, serving_now=figures.serving_now,
        issued_at=ticket.issued_at.astimezone(zone(office.timezone)),
        track_url=track_url(base_url, public_url, ticket.track_code), lang=lang,
        priority_label=PRIORITY_LABELS[lang].get(ticket.priority) if ticket.priority else None)


def job_event(session: Session, job: PrintJob, printer: Printer | None, now: datetime, hooks: PrintHooks) -> None:
    """`print.job`: a printer agent learns of its jobs from it (audience `printer:<device id>`)."""
    device_id = int(printer.address) if printer is not None and printer.transport == "agent" \
        and printer.address.strip().isdigit() else None
    hooks.record(session, job.office_id, EventType.PRINT_JOB, now,
                 {"job": job_view(job), "device_id": device_id,
                  "claim_url": f"/api/v1/print-jobs/{job.id}/claim"},
                 actor=ACTOR, ticket_id=job.ticket_id)


def _rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE matched (SQLModel types `execute` as returning a plain Result; for an UPDATE it is a
    CursorResult)."""
    return cast(CursorResult[Any], result).rowcount


def claim(session: Session, job_id: int, who: str, now: datetime, public_url: str | None,
          hooks: PrintHooks) -> ClaimedJob | None:
    """Take a queued job (queued → printing); None when another worker or agent has it already."""
    won = _rowcount(session.execute(
        update(PrintJob).where(col(PrintJob.id) == job_id, col(PrintJob.status) == "queued")
        .values(status="printing", claimed_by=who, claimed_at=now, attempts=PrintJob.attempts + 1)
    ))
    if won != 1:
        return None
    job = session.get(PrintJob, job_id, populate_existing=True)
    assert job is not None
    printer = session.get(Printer, job.printer_id)
    ticket = session.get(Ticket, job.ticket_id)
    assert printer is not None and ticket is not None
    return ClaimedJob(job_id, job.ticket_id, job.attempts, PrinterConfig.of(printer),
                      ticket_print(session, ticket, job.base_url, public_url, hooks.figures(session, ticket, now)))


def next_due_job(session: Session, printer_id: int, now: datetime) -> int | None:
    """The oldest job of this printer that may be tried now."""
    return session.exec(select(PrintJob.id).where(
        PrintJob.printer_id == printer_id, PrintJob.status == "queued",
        col(PrintJob.next_attempt_at) <= now).order_by(col(PrintJob.id)).limit(1)).first()


def due_printers(session: Session, now: datetime) -> tuple[list[int], datetime | None]:
    """Printers this server prints to that have jobs due now, and when the next future job falls due."""
    rows = session.exec(select(PrintJob.printer_id, PrintJob.next_attempt_at).join(Printer).where(
        PrintJob.status == "queued", PrintJob.next_attempt_at != None,  # noqa: E711
        col(Printer.transport).in_(SERVER_TRANSPORTS))).all()
    due = sorted({pid for pid, at in rows if at is not None and at <= now})
    later = [at for _, at in rows if at is not None and at > now]
    return due, min(later) if later else None


def record_outcome(session: Session, job_id: int, now: datetime, *, printed: bool, error: str | None = None,
                   permanent: bool = False, online: bool, paper: str | None = None,
                   hooks: PrintHooks) -> PrintJob | None:
    """After an attempt: printed, or queued again after a backoff, or failed for good; updates the printer."""
    job = session.get(PrintJob, job_id, with_for_update=True)
    if job is None or job.status not in ("printing", "failed"):
        return job
    if job.status == "failed" and not printed:
        return job
    if printed:
        job.status, job.error, job.printed_at, job.next_attempt_at = "printed", None, now, None
    elif permanent or job.attempts >= MAX_ATTEMPTS:
        job.status, job.error, job.next_attempt_at = "failed", error, None
    else:
        job.status, job.error = "queued", error
        job.next_attempt_at = now + timedelta(seconds=backoff_s(job.attempts))
    session.add(job)
    printer = note_printer_state(session, job.printer_id, now, online=online, paper=paper,
                                 error=None if printed else error, record=hooks.record)
    if printer is not None and printer.transport == "agent" and job.status == "queued":
        pass  # announced again by `announce_due_agent_jobs` once the backoff is over
    else:
        job_event(session, job, printer, now, hooks)
    return job


def announce_due_agent_jobs(session: Session, now: datetime, hooks: PrintHooks) -> int:
    """Agent jobs whose retry time came: send `print.job` again (once: the announcement is a claim too)."""
    rows = session.exec(select(PrintJob).join(Printer).where(
        PrintJob.status == "queued", PrintJob.next_attempt_at != None,  # noqa: E711
        col(PrintJob.next_attempt_at) <= now, col(Printer.transport) == "agent")).all()
    n = 0
    for job in rows:
        won = _rowcount(session.execute(update(PrintJob).where(
            col(PrintJob.id) == job.id, col(PrintJob.status) == "queued",
            col(PrintJob.next_attempt_at) == job.next_attempt_at).values(next_attempt_at=None)))
        if won == 1:
            session.refresh(job)
            job_event(session, job, session.get(Printer, job.printer_id), now, hooks)
            n += 1
    return n


def fail_stale(session: Session, now: datetime, hooks: PrintHooks) -> int:
    """Jobs stuck in `printing` (their process died mid-job) fail instead of printing a second time."""
    rows = session.exec(select(PrintJob).where(PrintJob.status == "printing",
                                               col(PrintJob.claimed_at) < now - STALE_AFTER)).all()
    for job in rows:
        job.status, job.error = "failed", "interrupted while printing; reprint if the ticket did not come out"
        session.add(job)
        job_event(session, job, session.get(Printer, job.printer_id), now, hooks)
    return len(rows)


def expire_old(session: Session, now: datetime, hooks: PrintHooks) -> int:
    """Queued jobs too old to be worth printing (an agent PC that was off all night) fail as expired."""
    rows = session.exec(select(PrintJob).where(PrintJob.status == "queued",
                                               PrintJob.created_at < now - EXPIRE_AFTER)).all()
    for job in rows:
        job.status, job.error, job.next_attempt_at = "failed", "expired: not printed within 15 minutes", None
        session.add(job)
        job_event(session, job, session.get(Printer, job.printer_id), now, hooks)
    return len(rows)


def reprint(session: Session, ticket: Ticket, printer: Printer, base_url: str | None, now: datetime,
            hooks: PrintHooks) -> PrintJob:
    """A new job for a ticket (the old job stays as it was, for the record)."""
    job = PrintJob(office_id=ticket.office_id, ticket_id=ticket.id or 0, printer_id=printer.id or 0,
                   status="queued", created_at=now, next_attempt_at=None if printer.transport == "agent" else now,
                   base_url=base_url)
    session.add(job)
    session.flush()
    job_event(session, job, printer, now, hooks)
    return job


def jobs_of_printer(session: Session, printer_id: int, status: str | None, limit: int = 100) -> list[PrintJob]:
    q = select(PrintJob).where(PrintJob.printer_id == printer_id)
    if status:
        q = q.where(PrintJob.status == status)
    return list(session.exec(q.order_by(col(PrintJob.id)).limit(limit)))


def job_view(job: PrintJob) -> dict[str, Any]:
    return {"id": job.id, "ticket_id": job.ticket_id, "printer_id": job.printer_id, "status": job.status,
            "attempts": job.attempts, "error": job.error}


def job_details(job: PrintJob) -> dict[str, Any]:
    return {**job_view(job), "claimed_by": job.claimed_by, "created_at": job.created_at.isoformat(),
            "printed_at": job.printed_at.isoformat() if job.printed_at else None,
            "next_attempt_at": job.next_attempt_at.isoformat() if job.next_attempt_at else None}
