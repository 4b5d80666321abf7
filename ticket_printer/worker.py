"""Print jobs in the database: enqueued in the issuing transaction, printed later by a worker.

Issuing only writes a `queued` row; it never waits for, or fails because of, the printer.
"""
from __future__ import annotations

from typing import Any

from sqlmodel import Session

from counters.models import Office, Ticket

from .models import Printer, PrintJob


def printer_for(session: Session, office: Office, kiosk_printer_id: int | None) -> Printer | None:
    """The kiosk's own printer, else the office's default printer, if either exists."""
    for pid in (kiosk_printer_id, office.default_printer_id):
        if pid is None:
            continue
        p = session.get(Printer, pid)
        if p is not None and not p.archived and p.office_id == office.id:
            return p
    return None


def enqueue(session: Session, office: Office, ticket: Ticket, kiosk_printer_id: int | None) -> PrintJob | None:
    printer = printer_for(session, office, kiosk_printer_id)
    if printer is None:
        return None
    job = PrintJob(office_id=office.id or 0, ticket_id=ticket.id or 0, printer_id=printer.id or 0,
                   status="queued", created_at=ticket.issued_at, next_attempt_at=ticket.issued_at)
    session.add(job)
    session.flush()
    return job


def job_view(job: PrintJob) -> dict[str, Any]:
    return {"id": job.id, "ticket_id": job.ticket_id, "printer_id": job.printer_id, "status": job.status,
            "attempts": job.attempts, "error": job.error}
